//! `git.reset-hard-clean`: discarding uncommitted work.
//!
//! Flags `git reset --hard`, `git clean -f` (with `-d`/`-x`), `git checkout .`/`git checkout --
//! .`, `git restore .` and `git stash clear`/`drop`. Risky because uncommitted changes (often
//! the user's, not the agent's) are not in any history: once discarded they are gone.
//! Example: `git reset --hard HEAD~3 && git clean -fdx`. Safer: `git stash push -u` (which
//! keeps the changes) or commit to a scratch branch first.

use blastdoor_core::Risk;

use super::{Finding, Rule, path_target};
use crate::analysis::Walker;
use crate::command::{Invocation, has_flag};

pub(crate) static RULE: Rule = Rule {
    id: "git.reset-hard-clean",
    summary: "discards uncommitted changes or untracked files, which no history can bring back",
    alternative: "git stash push --include-untracked (recoverable), or commit to a scratch branch first",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let Some((subcommand, args)) = super::git_force_push::git_subcommand(invocation) else {
        return;
    };
    let texts: Vec<&str> = args.iter().map(|arg| arg.text.as_str()).collect();
    let explanation = match subcommand.as_str() {
        "reset" if texts.contains(&"--hard") || texts.contains(&"--merge") => {
            "`git reset --hard` discards every uncommitted change"
        }
        "clean"
            if has_flag(&args, &['f'], &["--force"])
                && !has_flag(&args, &['n'], &["--dry-run"]) =>
        {
            "`git clean -f` deletes untracked files, which are in no history"
        }
        "checkout" if texts.iter().any(|text| matches!(*text, "." | ":/" | "*")) => {
            "`git checkout .` discards every uncommitted change"
        }
        "restore"
            if texts.iter().any(|text| matches!(*text, "." | ":/" | "*"))
                && !texts.contains(&"--staged") =>
        {
            "`git restore .` discards every uncommitted change"
        }
        "stash" if matches!(texts.first(), Some(&"clear") | Some(&"drop")) => {
            "`git stash clear`/`drop` deletes stashed work"
        }
        _ => return,
    };
    let cwd = walker.context().cwd.to_string_lossy().into_owned();
    walker.report(Finding::hold(
        &RULE,
        Risk::Destroy,
        explanation,
        vec![path_target("worktree", &cwd, invocation)],
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check("git reset --hard", "hold git.reset-hard-clean");
        check(
            "git reset --hard origin/main && git clean -fdx",
            "hold git.reset-hard-clean",
        );
        check("git clean -fd", "hold git.reset-hard-clean");
        check("git checkout -- .", "hold git.reset-hard-clean");
        check("git restore .", "hold git.reset-hard-clean");
        check("git stash clear", "hold git.reset-hard-clean");
        check("git reset --soft HEAD~1", "allow");
        check("git reset HEAD file.txt", "allow");
        check("git clean -n", "allow");
        check("git checkout -b feature", "allow");
        check("git restore --staged .", "allow");
        check("git stash push -u", "allow");
    }
}
