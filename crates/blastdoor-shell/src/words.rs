//! Word expansion as far as it can be done without running anything: quote removal, escapes,
//! ANSI-C `$'...'` strings (decoded here: the parser leaves them raw), `~`, variables whose
//! literal value is known (including `$IFS`, which splits words), and brace expansion. Whatever
//! depends on run time (command substitution, unknown variables, arithmetic) marks the word
//! dynamic.

use std::collections::HashMap;

use brush_parser::ParserOptions;
use brush_parser::word::{
    BraceExpressionMember, BraceExpressionOrText, Parameter, ParameterExpr, TildeExpr, WordPiece,
    WordPieceWithSource,
};

/// The most words one brace expression may expand to before the word counts as dynamic.
const MAX_BRACE_WORDS: usize = 256;

/// The most `{` one word may hold before brace expansion is not attempted and the word counts
/// as dynamic: the brace parser backtracks exponentially on many unclosed `{` (found by fuzzing).
const MAX_BRACES: usize = 8;

/// The longest run of digits a word may hold before brace expansion is not attempted and the
/// word counts as dynamic: brush-parser 0.4 reads every digit run in a brace expression as an
/// `i64` and panics when it overflows (found by fuzzing). 18 digits always fit.
const MAX_BRACE_DIGITS: usize = 18;

/// Marks a split point introduced by an unquoted expansion (`$IFS`, `$X` holding spaces).
const SPLIT: char = '\u{0}';

/// One argument after expansion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Arg {
    /// The text bash would pass, as far as it is known.
    pub text: String,
    /// True when part of the text is only known at run time.
    pub dynamic: bool,
    /// Commands inside `$(...)` or backquotes: they run too.
    pub substitutions: Vec<String>,
    /// Names of the variables expanded in this word.
    pub variables: Vec<String>,
    /// True when the word holds an unquoted glob (`/bin/r?`), expanded from file names.
    pub glob: bool,
    /// True when not even the number of arguments the word becomes is known: a brace
    /// expansion too large (or too hostile) to follow, or a word the parser could not read.
    /// Such a word could be any flags at all (`find / {1111111111111111111,-delete}`), so the
    /// command it is in is never allowed.
    pub unexpanded: bool,
}

impl Arg {
    /// A literal argument (used for synthetic arguments such as `find -exec`'s `{}`).
    pub(crate) fn literal(text: impl Into<String>) -> Arg {
        Arg {
            text: text.into(),
            ..Arg::default()
        }
    }
}

/// Variables whose values are known while walking a command line: `None` means set to
/// something only known at run time.
#[derive(Debug, Clone, Default)]
pub(crate) struct Variables {
    values: HashMap<String, Option<String>>,
}

impl Variables {
    pub(crate) fn new(home: Option<&str>, cwd: &str) -> Variables {
        let mut values = HashMap::new();
        values.insert("IFS".to_owned(), Some(" ".to_owned()));
        values.insert("PWD".to_owned(), Some(cwd.to_owned()));
        if let Some(home) = home {
            values.insert("HOME".to_owned(), Some(home.to_owned()));
        }
        Variables { values }
    }

    pub(crate) fn set(&mut self, name: &str, value: Option<String>) {
        self.values.insert(name.to_owned(), value);
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.values.get(name).and_then(|value| value.as_deref())
    }
}

/// Parser options shared by every parse in this crate.
pub(crate) fn parser_options() -> ParserOptions {
    ParserOptions::default()
}

/// Expands one raw word (as the parser gave it) into the arguments bash would pass.
pub(crate) fn expand(raw: &str, variables: &Variables, home: Option<&str>) -> Vec<Arg> {
    let mut out = Vec::new();
    for word in brace_expand(raw) {
        match word {
            Some(word) => expand_one(&word, variables, home, &mut out),
            None => out.push(Arg {
                text: raw.to_owned(),
                dynamic: true,
                unexpanded: true,
                ..Arg::default()
            }),
        }
    }
    out
}

/// Expands a word to a single argument (assignment values, redirection targets, here-strings).
pub(crate) fn expand_single(raw: &str, variables: &Variables, home: Option<&str>) -> Arg {
    let mut out = Vec::new();
    expand_one(raw, variables, home, &mut out);
    let mut joined = Arg::default();
    for (index, arg) in out.into_iter().enumerate() {
        if index > 0 {
            joined.text.push(' ');
        }
        joined.text.push_str(&arg.text);
        joined.dynamic |= arg.dynamic;
        joined.unexpanded |= arg.unexpanded;
        joined.substitutions.extend(arg.substitutions);
        joined.variables.extend(arg.variables);
    }
    joined
}

fn expand_one(raw: &str, variables: &Variables, home: Option<&str>, out: &mut Vec<Arg>) {
    let pieces = match brush_parser::word::parse(raw, &parser_options()) {
        Ok(pieces) => pieces,
        Err(_) => {
            out.push(Arg {
                text: raw.to_owned(),
                dynamic: true,
                unexpanded: true,
                ..Arg::default()
            });
            return;
        }
    };
    let mut arg = Arg::default();
    append_pieces(&pieces, false, variables, home, &mut arg);
    if arg.text.contains(SPLIT) {
        let template = arg.clone();
        for part in arg.text.split(SPLIT).filter(|part| !part.is_empty()) {
            out.push(Arg {
                text: part.to_owned(),
                ..template.clone()
            });
        }
    } else {
        out.push(arg);
    }
}

fn append_pieces(
    pieces: &[WordPieceWithSource],
    quoted: bool,
    variables: &Variables,
    home: Option<&str>,
    arg: &mut Arg,
) {
    for piece in pieces {
        match &piece.piece {
            WordPiece::Text(text) => {
                // An unquoted `*`, `?` or `[` is a glob: the shell replaces it with file names.
                if !quoted && text.contains(['*', '?', '[']) {
                    arg.glob = true;
                }
                arg.text.push_str(text);
            }
            WordPiece::SingleQuotedText(text) => arg.text.push_str(text),
            WordPiece::AnsiCQuotedText(text) => arg.text.push_str(&decode_ansi_c(text)),
            WordPiece::EscapeSequence(text) => {
                arg.text.push_str(text.strip_prefix('\\').unwrap_or(text))
            }
            WordPiece::DoubleQuotedSequence(inner)
            | WordPiece::GettextDoubleQuotedSequence(inner) => {
                append_pieces(inner, true, variables, home, arg);
            }
            WordPiece::TildeExpansion(tilde) => match (tilde, home) {
                (TildeExpr::Home, Some(home)) => arg.text.push_str(home),
                (TildeExpr::Home, None) => arg.text.push('~'),
                (TildeExpr::UserHome(user), _) => {
                    arg.text.push('~');
                    arg.text.push_str(user);
                }
                _ => {
                    arg.text.push('~');
                    arg.dynamic = true;
                }
            },
            WordPiece::ParameterExpansion(expression) => {
                append_parameter(expression, quoted, variables, arg);
            }
            WordPiece::CommandSubstitution(command)
            | WordPiece::BackquotedCommandSubstitution(command) => {
                arg.text.push_str("$(");
                arg.text.push_str(command);
                arg.text.push(')');
                arg.dynamic = true;
                arg.substitutions.push(command.clone());
            }
            WordPiece::ArithmeticExpression(expression) => {
                arg.text.push_str("$((...))");
                arg.dynamic = true;
                arg.substitutions
                    .extend(substitutions_in(&expression.value));
            }
        }
    }
}

fn append_parameter(
    expression: &ParameterExpr,
    quoted: bool,
    variables: &Variables,
    arg: &mut Arg,
) {
    if let ParameterExpr::Parameter {
        parameter: Parameter::Named(name),
        indirect: false,
    } = expression
    {
        arg.variables.push(name.clone());
        match variables.value(name) {
            Some(value) if quoted => arg.text.push_str(value),
            Some(value) => {
                // Unquoted expansions are split on whitespace (the default IFS).
                let mut first = true;
                for (index, part) in value.split([' ', '\t', '\n']).enumerate() {
                    if index > 0 || (first && value.starts_with([' ', '\t', '\n'])) {
                        arg.text.push(SPLIT);
                    }
                    first = false;
                    arg.text.push_str(part);
                }
            }
            None => {
                arg.text.push('$');
                arg.text.push_str(name);
                arg.dynamic = true;
            }
        }
        return;
    }
    arg.text.push_str("${...}");
    arg.dynamic = true;
}

/// The command substitutions (`$(...)`, backquotes) inside raw text such as an arithmetic
/// expression, which the parser leaves unparsed.
pub(crate) fn substitutions_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("$(") {
        let after = rest.get(start + 2..).unwrap_or("");
        let mut depth = 1usize;
        let mut end = None;
        for (index, c) in after.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(index);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else {
            out.push(after.to_owned());
            break;
        };
        out.push(after.get(..end).unwrap_or("").to_owned());
        rest = after.get(end + 1..).unwrap_or("");
        if out.len() >= 16 {
            break;
        }
    }
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        let after = rest.get(start + 1..).unwrap_or("");
        let Some(end) = after.find('`') else { break };
        out.push(after.get(..end).unwrap_or("").to_owned());
        rest = after.get(end + 1..).unwrap_or("");
    }
    out
}

/// Brace expansion of an unquoted word: `{rm,-rf,/x}` gives three words. `None` stands for a
/// word whose expansion is too large to enumerate.
fn brace_expand(raw: &str) -> Vec<Option<String>> {
    let worth_trying = raw.contains('{')
        && (raw.contains(',') || raw.contains(".."))
        && !raw.contains(['\'', '"', '\\', '$', '`']);
    if !worth_trying {
        return vec![Some(raw.to_owned())];
    }
    if raw.matches('{').count() > MAX_BRACES || longest_digit_run(raw) > MAX_BRACE_DIGITS {
        return vec![None];
    }
    let parsed = match brush_parser::word::parse_brace_expansions(raw, &parser_options()) {
        Ok(Some(parsed)) => parsed,
        _ => return vec![Some(raw.to_owned())],
    };
    let mut words = vec![String::new()];
    for part in parsed {
        let alternatives = match part {
            BraceExpressionOrText::Text(text) => vec![text],
            BraceExpressionOrText::Expr(members) => match expand_members(&members) {
                Some(alternatives) => alternatives,
                None => return vec![None],
            },
        };
        let mut next = Vec::new();
        for prefix in &words {
            for alternative in &alternatives {
                if next.len() >= MAX_BRACE_WORDS {
                    return vec![None];
                }
                next.push(format!("{prefix}{alternative}"));
            }
        }
        words = next;
    }
    words.into_iter().map(Some).collect()
}

/// The length of the longest run of ASCII digits in `text`.
fn longest_digit_run(text: &str) -> usize {
    text.split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0)
}

fn expand_members(members: &[BraceExpressionMember]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for member in members {
        match member {
            BraceExpressionMember::Child(children) => {
                let mut words = vec![String::new()];
                for child in children {
                    let alternatives = match child {
                        BraceExpressionOrText::Text(text) => vec![text.clone()],
                        BraceExpressionOrText::Expr(inner) => expand_members(inner)?,
                    };
                    let mut next = Vec::new();
                    for prefix in &words {
                        for alternative in &alternatives {
                            next.push(format!("{prefix}{alternative}"));
                            if next.len() > MAX_BRACE_WORDS {
                                return None;
                            }
                        }
                    }
                    words = next;
                }
                out.extend(words);
            }
            BraceExpressionMember::NumberSequence {
                start,
                end,
                increment,
            } => {
                let step = increment
                    .checked_abs()
                    .filter(|step| *step > 0)
                    .unwrap_or(1);
                let mut value = *start;
                loop {
                    out.push(value.to_string());
                    if out.len() > MAX_BRACE_WORDS {
                        return None;
                    }
                    if value == *end {
                        break;
                    }
                    value = if start <= end {
                        value.checked_add(step)?.min(*end)
                    } else {
                        value.checked_sub(step)?.max(*end)
                    };
                }
            }
            BraceExpressionMember::CharSequence {
                start,
                end,
                increment,
            } => {
                let step = u32::try_from(increment.checked_abs().unwrap_or(1).max(1)).ok()?;
                let (low, high) = (u32::from(*start.min(end)), u32::from(*start.max(end)));
                let mut value = low;
                while value <= high {
                    out.push(char::from_u32(value)?.to_string());
                    if out.len() > MAX_BRACE_WORDS {
                        return None;
                    }
                    value = value.checked_add(step)?;
                }
            }
        }
        if out.len() > MAX_BRACE_WORDS {
            return None;
        }
    }
    Some(out)
}

/// Decodes the inside of a bash `$'...'` string.
pub(crate) fn decode_ansi_c(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(escape) = chars.next() else {
            out.push('\\');
            break;
        };
        match escape {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'e' | 'E' => out.push('\u{1b}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' | '\'' | '"' | '?' => out.push(escape),
            'x' => push_code(&mut out, take_digits(&mut chars, 16, 2), 16),
            'u' => push_code(&mut out, take_digits(&mut chars, 16, 4), 16),
            'U' => push_code(&mut out, take_digits(&mut chars, 16, 8), 16),
            '0'..='7' => {
                let mut digits = escape.to_string();
                digits.push_str(&take_digits(&mut chars, 8, 2));
                push_code(&mut out, digits, 8);
            }
            'c' => {
                if let Some(control) = chars.next() {
                    let code = u32::from(control.to_ascii_uppercase()) ^ 0x40;
                    out.extend(char::from_u32(code));
                }
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

fn take_digits(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    radix: u32,
    max: usize,
) -> String {
    let mut digits = String::new();
    while digits.len() < max {
        match chars.peek() {
            Some(c) if c.is_digit(radix) => {
                digits.push(*c);
                chars.next();
            }
            _ => break,
        }
    }
    digits
}

fn push_code(out: &mut String, digits: String, radix: u32) {
    match u32::from_str_radix(&digits, radix)
        .ok()
        .and_then(char::from_u32)
    {
        Some(c) => out.push(c),
        None => out.push('\u{fffd}'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(raw: &str) -> Vec<String> {
        let variables = Variables::new(Some("/home/u"), "/w");
        expand(raw, &variables, Some("/home/u"))
            .into_iter()
            .map(|arg| arg.text)
            .collect()
    }

    #[test]
    fn quotes_and_escapes_are_removed() {
        assert_eq!(texts("r''m"), ["rm"]);
        assert_eq!(texts("\"rm\""), ["rm"]);
        assert_eq!(texts("\\rm"), ["rm"]);
    }

    #[test]
    fn ansi_c_strings_are_decoded() {
        assert_eq!(texts("$'\\x72\\x6d'"), ["rm"]);
        assert_eq!(texts("$'\\162\\155'"), ["rm"]);
        assert_eq!(texts("$'\\u0072m'"), ["rm"]);
    }

    #[test]
    fn ifs_splits_and_braces_expand() {
        assert_eq!(texts("rm$IFS-rf$IFS/x"), ["rm", "-rf", "/x"]);
        assert_eq!(texts("{rm,-rf,/x}"), ["rm", "-rf", "/x"]);
        assert_eq!(texts("a{1..3}"), ["a1", "a2", "a3"]);
        assert_eq!(texts("'{a,b}'"), ["{a,b}"]);
    }

    #[test]
    fn a_brace_number_too_long_for_the_parser_makes_the_word_dynamic() {
        let variables = Variables::new(None, "/w");
        // 19 digits overflow an i64; brush-parser would panic reading them.
        for raw in [
            "{1..9999999999999999999}",
            "{a,b}12345678901234567890",
            "x{1..3..99999999999999999999}",
        ] {
            let args = expand(raw, &variables, None);
            assert!(args.iter().all(|arg| arg.dynamic), "{raw}: {args:?}");
        }
        assert_eq!(
            texts("{1..2}999999999999999999"),
            ["1999999999999999999", "2999999999999999999"]
        );
    }

    #[test]
    fn unknown_variables_and_substitutions_are_dynamic() {
        let variables = Variables::new(None, "/w");
        let args = expand("$X", &variables, None);
        assert!(args.iter().all(|arg| arg.dynamic));
        let args = expand("$(echo rm)", &variables, None);
        assert_eq!(
            args.first().map(|arg| arg.substitutions.clone()),
            Some(vec!["echo rm".to_owned()])
        );
        assert_eq!(texts("~/x"), ["/home/u/x"]);
    }
}
