//! `shell.unparseable`: a command that could not be analysed at all.
//!
//! Flags command lines bash's grammar rejects, that are too long, nest too deeply or run too
//! many commands to analyse. Risky because the hook cannot tell what they would do, and a
//! parser differential is a classic way around a guard. Example: `rm -rf / <<<`. Safer: split
//! the work into plain commands the hook can read.

use blastdoor_core::{Risk, Target};

use super::{Finding, Rule};

pub(crate) static RULE: Rule = Rule {
    id: "shell.unparseable",
    summary: "the command could not be parsed or is too large or deep to analyse, so nothing about it is known",
    alternative: "run plain, separate commands that the hook can read",
};

pub(crate) fn finding(why: &str) -> Finding {
    Finding::hold(
        &RULE,
        Risk::Unknown,
        why.to_owned(),
        vec![Target::new("command", "unparsed", vec![])],
    )
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check("echo 'unterminated", "hold shell.unparseable");
        check("if then fi (", "hold shell.unparseable");
        check("echo fine", "allow");
    }
}
