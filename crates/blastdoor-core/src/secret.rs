//! [`Secret`]: a value that must never reach a log, an error message, the ledger or an agent in
//! clear, and [`redact_known_secrets`], the defence-in-depth scrubber for free text.

use std::fmt;

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// A credential, DSN, header value or anything else that may hold a secret.
///
/// `Debug`, `Display` and `Serialize` all print [`REDACTED`]; the only way to the value is
/// [`Secret::expose_secret`], whose name shows up in review. There is deliberately no
/// `Deserialize`: secrets enter through the secret store, not through parsed documents.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Secret<T> {
        Secret(value)
    }

    /// The value in clear. Call only where it leaves blastdoor for the upstream that owns it.
    pub fn expose_secret(&self) -> &T {
        &self.0
    }
}

impl<T: AsRef<[u8]>> Secret<T> {
    /// A short, stable fingerprint (`sha256:` and 12 hex digits) to tell secrets apart in a
    /// listing without showing them.
    pub fn fingerprint(&self) -> String {
        fingerprint(self.0.as_ref())
    }
}

/// The fingerprint [`Secret::fingerprint`] prints, for bytes that are not (yet) in a `Secret`.
pub fn fingerprint(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let short = digest.get(..6).unwrap_or_default();
    format!("sha256:{}", hex::encode(short))
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

/// Prefixes of well-known credential formats; a word starting with one is a secret whatever
/// surrounds it.
const SECRET_PREFIXES: &[&str] = &[
    "ghp_",
    "gho_",
    "ghs_",
    "ghu_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "sk_live_",
    "rk_live_",
    "sk_test_",
    "xoxb-",
    "xoxp-",
    "sbp_",
    "fo1_",
    "FlyV1",
    "AKIA",
    "ASIA",
    "bd1_",
];

/// Parts of a key name (`RAILWAY_TOKEN=`, `"password":`, `X-Api-Key:`) that mark the value
/// after it as a secret.
const SENSITIVE_KEY_PARTS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "api_key",
    "api-key",
    "access_key",
    "access-key",
    "private_key",
    "credential",
    "authorization",
];

fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '"' | '\'' | '`' | ',' | ';' | '(' | ')' | '{' | '}' | '[' | ']' | '<' | '>'
        )
}

fn is_sensitive_key(key: &str) -> bool {
    // Without allocating: this runs on every word of every ledger entry.
    let key = key.trim_start_matches('-').as_bytes();
    SENSITIVE_KEY_PARTS.iter().any(|part| {
        key.windows(part.len())
            .any(|window| window.eq_ignore_ascii_case(part.as_bytes()))
    })
}

fn has_secret_prefix(word: &str) -> bool {
    SECRET_PREFIXES
        .iter()
        .any(|prefix| word.starts_with(prefix) && word.len() >= prefix.len() + 8)
}

/// Replaces credentials that free text may carry with [`REDACTED`]: bearer and basic
/// credentials, values of keys whose name says secret (`RAILWAY_TOKEN=...`, `"password": ...`,
/// `Project-Access-Token: ...`), passwords in URLs (`postgres://u:pw@h`), and words with the
/// prefix of a well-known token format.
///
/// This is a second line of defence. The first is that credentials travel as [`Secret`].
pub fn redact_known_secrets(text: &str) -> String {
    // Text that was redacted before keeps its markers as they are, so that redacting twice
    // (a layer, then the ledger) gives the same text as redacting once.
    let mut out = String::with_capacity(text.len());
    for (index, segment) in text.split(REDACTED).enumerate() {
        if index > 0 {
            out.push_str(REDACTED);
        }
        redact_segment(segment, &mut out);
    }
    out
}

/// What a word says about the word after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Nothing.
    Plain,
    /// The next word is a credential (`Bearer`, `password:`, `token =`).
    Secret,
    /// A bare key whose name says secret (`"token"` in JSON): a credential follows only if the
    /// next word is `:` or `=`.
    KeyWithoutSeparator,
}

fn redact_segment(text: &str, out: &mut String) {
    let mut next = Next::Plain;
    let mut rest = text;
    while !rest.is_empty() {
        let separator_len = rest.find(|c: char| !is_separator(c)).unwrap_or(rest.len());
        let (separators, after) = rest.split_at(separator_len);
        out.push_str(separators);
        let word_len = after.find(is_separator).unwrap_or(after.len());
        let (word, after_word) = after.split_at(word_len);
        rest = after_word;
        if word.is_empty() {
            continue;
        }
        let is_separator_word = matches!(word, ":" | "=");
        let is_scheme = ["bearer", "basic", "token"]
            .iter()
            .any(|scheme| word.eq_ignore_ascii_case(scheme));
        next = match next {
            // `Authorization: Bearer X`, `Authorization: token X`: the scheme stays visible.
            Next::Secret if is_separator_word || is_scheme => {
                out.push_str(word);
                Next::Secret
            }
            Next::Secret => {
                out.push_str(REDACTED);
                Next::Plain
            }
            Next::KeyWithoutSeparator if is_separator_word => {
                out.push_str(word);
                Next::Secret
            }
            Next::KeyWithoutSeparator | Next::Plain => redact_word(word, out),
        };
    }
}

/// Appends `word` to `out`, redacted, and says what it announces about the next word.
fn redact_word(word: &str, out: &mut String) -> Next {
    if word.eq_ignore_ascii_case("bearer") || word.eq_ignore_ascii_case("basic") {
        out.push_str(word);
        return Next::Secret;
    }
    if has_secret_prefix(word) {
        out.push_str(REDACTED);
        return Next::Plain;
    }
    if let Some(redacted) = redact_url_password(word) {
        let redacted = redact_query_values(&redacted).unwrap_or(redacted);
        out.push_str(&redacted);
        return Next::Plain;
    }
    if let Some(redacted) = redact_query_values(word) {
        out.push_str(&redacted);
        return Next::Plain;
    }
    // `KEY=value`, `KEY:value`, `--password=value`, or a bare `KEY:` / `KEY=`.
    if let Some(split) = word.find(['=', ':']) {
        let (key, value_with_separator) = word.split_at(split);
        let value = value_with_separator.get(1..).unwrap_or_default();
        let separator = value_with_separator.get(..1).unwrap_or_default();
        if is_sensitive_key(key) && value.is_empty() {
            out.push_str(word);
            return Next::Secret;
        }
        if is_sensitive_key(key) || has_secret_prefix(value) {
            out.push_str(key);
            out.push_str(separator);
            out.push_str(REDACTED);
            return Next::Plain;
        }
        out.push_str(word);
        return Next::Plain;
    }
    out.push_str(word);
    // A bare key that a separate `:`/`=` word may follow, as in JSON (`"token": "..."`).
    if is_sensitive_key(word) && word.len() > 3 {
        return Next::KeyWithoutSeparator;
    }
    Next::Plain
}

/// `...?access_token=X&b=Y` → `...?access_token=[redacted]&b=Y`: query parameters whose name
/// says secret, or whose value has a known token prefix. `None` when nothing changed.
fn redact_query_values(word: &str) -> Option<String> {
    let (before, query) = word.split_once('?')?;
    let mut changed = false;
    let parameters: Vec<String> = query
        .split('&')
        .map(|parameter| match parameter.split_once('=') {
            Some((name, value))
                if !value.is_empty() && (is_sensitive_key(name) || has_secret_prefix(value)) =>
            {
                changed = true;
                format!("{name}={REDACTED}")
            }
            _ => parameter.to_owned(),
        })
        .collect();
    changed.then(|| format!("{before}?{}", parameters.join("&")))
}

/// `scheme://user:password@host...` → `scheme://user:[redacted]@host...`.
fn redact_url_password(word: &str) -> Option<String> {
    let scheme_end = word.find("://")? + 3;
    let authority_and_rest = word.get(scheme_end..)?;
    let authority_end = authority_and_rest
        .find('/')
        .unwrap_or(authority_and_rest.len());
    let authority = authority_and_rest.get(..authority_end)?;
    let at = authority.rfind('@')?;
    let userinfo = authority.get(..at)?;
    let colon = userinfo.find(':')?;
    let user = userinfo.get(..colon)?;
    let scheme = word.get(..scheme_end)?;
    let after_userinfo = authority_and_rest.get(at..)?;
    Some(format!("{scheme}{user}:{REDACTED}{after_userinfo}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expected: &str) {
        assert_eq!(redact_known_secrets(input), expected, "input: {input}");
    }

    #[test]
    fn secret_never_prints() {
        let secret = Secret::new("hunter2".to_owned());
        assert_eq!(format!("{secret}"), REDACTED);
        assert_eq!(format!("{secret:?}"), REDACTED);
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"[redacted]\"");
        assert!(!secret.fingerprint().contains("hunter2"));
        assert_eq!(secret.fingerprint(), Secret::new("hunter2").fingerprint());
    }

    #[test]
    fn redacts_credentials_in_free_text() {
        check(
            "curl -H 'Authorization: Bearer abc.def-123' https://x",
            "curl -H 'Authorization: Bearer [redacted]' https://x",
        );
        check(
            "curl -H \"Project-Access-Token: 7f1e2d\" u",
            "curl -H \"Project-Access-Token: [redacted]\" u",
        );
        check(
            "RAILWAY_TOKEN=abc123 railway up",
            "RAILWAY_TOKEN=[redacted] railway up",
        );
        check(
            "psql postgres://app:s3cret@db:5432/x",
            "psql postgres://app:[redacted]@db:5432/x",
        );
        check(
            "{\"password\": \"hunter2\"}",
            "{\"password\": \"[redacted]\"}",
        );
        check("{\"token\":\"abcdef\"}", "{\"token\":\"[redacted]\"}");
        check("push with ghp_0123456789abcdefghij", "push with [redacted]");
        check("aws AKIAABCDEFGHIJKLMNOP", "aws [redacted]");
        check(
            "--password=pw1 --user=bob",
            "--password=[redacted] --user=bob",
        );
        check(
            "curl https://api.x/v1?access_token=abc123&page=2",
            "curl https://api.x/v1?access_token=[redacted]&page=2",
        );
        check(
            "wget https://x/?t=ghp_0123456789abcdefghij",
            "wget https://x/?t=[redacted]",
        );
        check("https://u:pw@h/?key=1", "https://u:[redacted]@h/?key=1");
    }

    #[test]
    fn redacting_twice_changes_nothing_more() {
        for text in [
            "curl -H 'Authorization: Bearer abc.def-123' https://x",
            "{\"password\": \"hunter2\"}",
            "psql postgres://app:s3cret@db:5432/x",
        ] {
            let once = redact_known_secrets(text);
            assert_eq!(redact_known_secrets(&once), once);
        }
        check("Bearer [redacted] and more", "Bearer [redacted] and more");
    }

    #[test]
    fn prose_about_credentials_is_not_redacted() {
        check(
            "do not look for other credentials, scripts, API calls or tools",
            "do not look for other credentials, scripts, API calls or tools",
        );
        check(
            "through the gateway with a capability token, where destroys are held",
            "through the gateway with a capability token, where destroys are held",
        );
        check(
            "an environment file with secrets. This will not be allowed",
            "an environment file with secrets. This will not be allowed",
        );
        check(
            "Authorization: token ghp_abc",
            "Authorization: token [redacted]",
        );
        check("{\"api_key\" = \"k1\"}", "{\"api_key\" = \"[redacted]\"}");
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        check("rm -rf target/", "rm -rf target/");
        check(
            "git commit -m 'fix: tokenizer'",
            "git commit -m 'fix: tokenizer'",
        );
        check("https://example.com/a:b@c", "https://example.com/a:b@c");
        check("", "");
        check(
            "mutation { volumeDelete(volumeId: \"v\") }",
            "mutation { volumeDelete(volumeId: \"v\") }",
        );
    }
}
