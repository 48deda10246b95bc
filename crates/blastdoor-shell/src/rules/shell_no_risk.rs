//! `shell.no-risk-found`: the reason an allowed command carries.
//!
//! No rule found anything to hold or deny: a read, a build, an ordinary write in the
//! workspace. Example: `cargo test`. The hook is a seatbelt, not the boundary: the gateway and
//! the credential broker still judge whatever reaches an API.

use super::Rule;

pub(crate) static RULE: Rule = Rule {
    id: "shell.no-risk-found",
    summary: "no rule found a destructive, credential-seeking or unknown action in the command",
    alternative: "none needed",
};

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check("cargo test", "allow shell.no-risk-found");
        check("git status && git diff", "allow shell.no-risk-found");
        check("npm run build", "allow");
    }
}
