//! [`ConfigError`], the one error type of this crate: every message names the file, and for a
//! problem inside it, the line, column and key.

use std::path::PathBuf;

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {}{message}\n  {line} | {excerpt}", path.display(), key_prefix(key.as_deref()))]
    Invalid {
        path: PathBuf,
        /// 1-based line and column of the offending key or value.
        line: usize,
        column: usize,
        /// The dotted key (`gateway.listen`, `upstream[2].kind`), when known.
        key: Option<String>,
        message: String,
        /// The offending line of the file, for context.
        excerpt: String,
    },
}

fn key_prefix(key: Option<&str>) -> String {
    match key {
        Some(key) => format!("`{key}`: "),
        None => String::new(),
    }
}

impl ConfigError {
    /// A problem at byte `offset` of `text`.
    pub(crate) fn at(
        origin: &std::path::Path,
        text: &str,
        offset: usize,
        key: Option<String>,
        message: impl Into<String>,
    ) -> ConfigError {
        let (line, column) = position_of(text, offset);
        let excerpt = redact_line(
            text.lines()
                .nth(line.saturating_sub(1))
                .unwrap_or_default()
                .trim_end(),
        );
        ConfigError::Invalid {
            path: origin.to_owned(),
            line,
            column,
            key,
            message: message.into(),
            excerpt: excerpt.chars().take(160).collect(),
        }
    }

    /// A serde/TOML error: toml gives the span; the key is named in the message for unknown
    /// fields, and the enclosing section is added so the user knows where to look.
    pub(crate) fn from_toml(
        origin: &std::path::Path,
        text: &str,
        error: &toml::de::Error,
    ) -> ConfigError {
        let offset = error.span().map_or(0, |span| span.start);
        let section = section_at(text, offset);
        let message = error.message().trim_end().to_owned();
        // toml names an unknown key but not its table: give the dotted key, as elsewhere.
        let header = header_of_line(text, offset);
        let key = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(field, _)| match (&header, &section) {
                // The unknown key is a table header itself: `[gatway]`, `[upstream.environmets]`.
                (Some(header), _) => header.trim_matches(['[', ']', ' ']).to_owned(),
                (None, Some(section)) => {
                    format!("{}.{field}", section.trim_matches(['[', ']', ' ']))
                }
                (None, None) => field.to_owned(),
            });
        let message = match section {
            Some(section) if key.is_none() => format!("{message} (in `{section}`)"),
            _ => message,
        };
        ConfigError::at(origin, text, offset, key, message)
    }
}

/// Keys whose values are secrets in their own right: their line is never shown in clear.
const SECRET_KEYS: &[&str] = &["webhook_url"];

/// The line as shown in an error: known credential shapes redacted, secret-valued keys hidden.
fn redact_line(line: &str) -> String {
    if let Some((key, _)) = line.split_once('=')
        && SECRET_KEYS.contains(&key.trim())
    {
        return format!("{} = {}", key.trim_end(), blastdoor_core::Secret::new(()));
    }
    blastdoor_core::redact_known_secrets(line)
}

/// The header on the line holding `offset`, when that line is a table header.
fn header_of_line(text: &str, offset: usize) -> Option<String> {
    let start = line_start(text, offset);
    let line = text.get(start..)?.lines().next()?.trim();
    line.starts_with('[')
        .then(|| line.split('#').next().unwrap_or(line).trim().to_owned())
}

fn line_start(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .and_then(|before| before.rfind('\n'))
        .map_or(0, |newline| newline + 1)
}

/// The last table header (`[gateway]`, `[[upstream]]`) on a line before the one of `offset`.
fn section_at(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..line_start(text, offset))?;
    before
        .lines()
        .rev()
        .map(str::trim)
        .find(|line| line.starts_with('['))
        .map(|header| header.split('#').next().unwrap_or(header).trim().to_owned())
}

/// The 1-based line and column of byte `offset` in `text` (clamped to the text).
fn position_of(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset = offset.saturating_sub(1);
    }
    let before = text.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before
        .get(line_start..)
        .map_or(0, |line| line.chars().count())
        + 1;
    (line, column)
}
