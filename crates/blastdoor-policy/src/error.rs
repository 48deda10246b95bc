//! [`PolicyError`], the one error type of this crate, and [`Problem`], one located complaint
//! about a policy file.

use std::fmt;
use std::path::PathBuf;

/// Why a policy set could not be loaded. Decisions never fail: they deny instead.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy directory `{}`: {source}", path.display())]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read policy file `{}`: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no policy files (`*.cedar`) in `{}`; with no policy every operation is denied", path.display())]
    NoPolicyFiles { path: PathBuf },
    #[error("the policy set is invalid:\n{}", Problems(.0))]
    Invalid(Vec<Problem>),
    #[error("blastdoor's built-in policy schema is invalid: {0}")]
    Builtin(String),
}

/// One problem in one policy file, located as precisely as cedar allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file name as given (`default.cedar`, or a path for [`crate::PolicyEngine::from_dir`]).
    pub file: String,
    /// 1-based line and column, when known.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => write!(f, "{}:{line}:{column}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

struct Problems<'a>(&'a [Problem]);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "  {problem}")?;
        }
        Ok(())
    }
}

/// The 1-based line and column of byte `offset` in `text` (clamped to the end of the text).
pub(crate) fn position_of(text: &str, offset: usize) -> (usize, usize) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_columns() {
        let text = "ab\ncd\né f";
        assert_eq!(position_of(text, 0), (1, 1));
        assert_eq!(position_of(text, 4), (2, 2));
        assert_eq!(position_of(text, 9), (3, 3));
        assert_eq!(position_of(text, 1000), (3, 4));
    }
}
