//! `git.force-push-protected`: force-pushing or deleting a protected branch.
//!
//! Flags `git push --force`/`-f`/`--force-with-lease`/`+ref`/`--mirror`, and branch deletion
//! (`--delete`, `:ref`), when the branch is protected (`main`, `master`, `production`, `prod`,
//! `release*`, `develop`, `trunk`, `stable`, `live`) or not named (the current branch, `--all`).
//! Risky because it overwrites shared history that others and deploy pipelines depend on.
//! Example: `git push -f origin main`. Safer: push a new branch and open a pull request, or
//! `git revert` on the protected branch.

use blastdoor_core::Risk;

use super::{Finding, Rule, remote_target};
use crate::analysis::Walker;
use crate::command::{Invocation, positionals};
use crate::words::Arg;

pub(crate) static RULE: Rule = Rule {
    id: "git.force-push-protected",
    summary: "force-pushes or deletes a protected (or unnamed) branch, overwriting shared history",
    alternative: "push to a new branch and open a pull request, or use git revert on the protected branch",
};

/// `git [global options] SUBCOMMAND args...`: the subcommand and its arguments.
pub(crate) fn git_subcommand(invocation: &Invocation) -> Option<(String, Vec<Arg>)> {
    if invocation.program() != "git" {
        return None;
    }
    let operands = invocation.operands();
    let mut index = 0;
    while let Some(arg) = operands.get(index) {
        let text = arg.text.as_str();
        if matches!(
            text,
            "-C" | "-c" | "--git-dir" | "--work-tree" | "--namespace" | "--exec-path"
        ) {
            index += 2;
            continue;
        }
        if text.starts_with('-') {
            index += 1;
            continue;
        }
        return Some((
            text.to_owned(),
            operands.get(index + 1..).unwrap_or(&[]).to_vec(),
        ));
    }
    None
}

pub(crate) fn is_protected_branch(name: &str) -> bool {
    let name = name.trim_start_matches("refs/heads/");
    matches!(
        name,
        "main"
            | "master"
            | "production"
            | "prod"
            | "develop"
            | "trunk"
            | "stable"
            | "live"
            | "HEAD"
            | "gh-pages"
    ) || name.starts_with("release")
}

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let Some((subcommand, args)) = git_subcommand(invocation) else {
        return;
    };
    if subcommand != "push" {
        return;
    }
    let has = |short: &[char], long: &[&str]| crate::command::has_flag(&args, short, long);
    let force = has(
        &['f'],
        &[
            "--force",
            "--force-with-lease",
            "--force-if-includes",
            "--mirror",
        ],
    );
    let delete = has(&['d'], &["--delete", "--prune"]);
    let words = positionals(
        &args,
        &["-o", "--push-option", "--repo", "--receive-pack", "--exec"],
    );
    let refspecs: Vec<&Arg> = words.iter().skip(1).copied().collect();
    let mut branches = Vec::new();
    let mut forced_by_refspec = false;
    let mut deleted_by_refspec = false;
    for refspec in &refspecs {
        let text = refspec.text.as_str();
        forced_by_refspec |= text.starts_with('+');
        deleted_by_refspec |= text.starts_with(':');
        let destination = text
            .trim_start_matches('+')
            .rsplit(':')
            .next()
            .unwrap_or(text);
        branches.push(if refspec.dynamic {
            "HEAD".to_owned()
        } else {
            destination.to_owned()
        });
    }
    if !(force || forced_by_refspec || delete || deleted_by_refspec) {
        return;
    }
    let all = has(&[], &["--all", "--mirror", "--branches"]);
    let protected: Vec<&String> = branches
        .iter()
        .filter(|branch| is_protected_branch(branch))
        .collect();
    let what = if delete || deleted_by_refspec {
        "deletes"
    } else {
        "force-pushes"
    };
    let explanation = if all || branches.is_empty() {
        format!(
            "`git push` {what} without naming a branch (the current branch or all of them), which may be a protected branch"
        )
    } else if let Some(branch) = protected.first() {
        format!("`git push` {what} the protected branch `{branch}`")
    } else {
        return;
    };
    let target = remote_target(
        "branch",
        protected
            .first()
            .map(|branch| branch.as_str())
            .unwrap_or("current"),
        "git",
        invocation,
        Some("git-remote"),
    );
    walker.report(Finding::hold(
        &RULE,
        Risk::Destroy,
        explanation,
        vec![target],
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "git push --force origin main",
            "hold git.force-push-protected",
        );
        check("git push -f origin master", "hold git.force-push-protected");
        check("git push origin +main", "hold git.force-push-protected");
        check(
            "git push --force-with-lease origin release/2.0",
            "hold git.force-push-protected",
        );
        check("git push -f", "hold git.force-push-protected");
        check(
            "git push origin --delete production",
            "hold git.force-push-protected",
        );
        check("git push origin :main", "hold git.force-push-protected");
        check("git push --mirror backup", "hold git.force-push-protected");
        check(
            "git -C repo push -f origin HEAD:main",
            "hold git.force-push-protected",
        );
        check("git push --force origin feature/login", "allow");
        check("git push origin main", "allow");
        check("git push -u origin my-branch", "allow");
        check("git push origin --delete old-feature", "allow");
        check("git commit -m 'git push --force origin main'", "allow");
    }
}
