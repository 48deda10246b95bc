//! `git.history-rewrite`: rewriting or pruning a repository's history.
//!
//! Flags `git filter-branch`, `git filter-repo`, `bfg`, `git reflog expire`, `git gc
//! --prune=now`, `git update-ref -d`, and `git branch -D` of a protected branch. Risky because
//! these remove the safety net (the reflog, old commits) that makes git mistakes
//! recoverable, and rewritten history must be force-pushed. Example: `git filter-branch
//! --tree-filter 'rm -f secrets.txt' HEAD`. Safer: do it in a fresh clone, after a backup
//! (`git bundle create backup.bundle --all`), with a human.

use blastdoor_core::Risk;

use super::{Finding, Rule, path_target};
use crate::analysis::Walker;
use crate::command::{Invocation, positionals};

pub(crate) static RULE: Rule = Rule {
    id: "git.history-rewrite",
    summary: "rewrites or prunes git history (filter-branch, filter-repo, reflog expire, gc --prune=now, deleting a protected branch)",
    alternative: "work in a fresh clone after `git bundle create backup.bundle --all`, and let a human run it",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let explanation = if invocation.program() == "bfg" {
        "`bfg` rewrites the repository's history".to_owned()
    } else {
        let Some((subcommand, args)) = super::git_force_push::git_subcommand(invocation) else {
            return;
        };
        let texts: Vec<&str> = args.iter().map(|arg| arg.text.as_str()).collect();
        match subcommand.as_str() {
            "filter-branch" | "filter-repo" => {
                format!("`git {subcommand}` rewrites the repository's history")
            }
            "reflog" if texts.first() == Some(&"expire") || texts.first() == Some(&"delete") => {
                "`git reflog expire` removes the record that makes lost commits recoverable"
                    .to_owned()
            }
            "gc" if texts
                .iter()
                .any(|text| text.starts_with("--prune=now") || *text == "--prune=all") =>
            {
                "`git gc --prune=now` deletes unreachable commits at once".to_owned()
            }
            "update-ref" if texts.contains(&"-d") => {
                "`git update-ref -d` deletes a ref directly".to_owned()
            }
            "branch"
                if crate::command::has_flag(&args, &['D'], &[])
                    || (texts.contains(&"-d") || texts.contains(&"--delete"))
                        && texts.contains(&"--force") =>
            {
                let branches = positionals(&args, &[]);
                match branches
                    .iter()
                    .find(|branch| super::git_force_push::is_protected_branch(&branch.text))
                {
                    Some(branch) => format!(
                        "`git branch -D` force-deletes the protected branch `{}`",
                        branch.text
                    ),
                    None => return,
                }
            }
            _ => return,
        }
    };
    let cwd = walker.context().cwd.to_string_lossy().into_owned();
    walker.report(Finding::hold(
        &RULE,
        Risk::Destroy,
        explanation,
        vec![path_target("repository", &cwd, invocation)],
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "git filter-branch --tree-filter 'rm -f x' HEAD",
            "hold git.history-rewrite",
        );
        check(
            "git filter-repo --path secrets --invert-paths",
            "hold git.history-rewrite",
        );
        check(
            "git reflog expire --expire=now --all",
            "hold git.history-rewrite",
        );
        check(
            "git gc --prune=now --aggressive",
            "hold git.history-rewrite",
        );
        check("git branch -D main", "hold git.history-rewrite");
        check("bfg --delete-files id_rsa", "hold git.history-rewrite");
        check("git branch -D old-feature", "allow");
        check("git gc", "allow");
        check("git log --oneline", "allow");
    }
}
