//! `cloud.gh-repo-delete`: destructive GitHub CLI commands.
//!
//! Flags `gh repo delete`, other `gh ... delete` commands (releases, secrets, environments,
//! caches, runs) and `gh api -X DELETE`. Risky because a deleted repository takes its issues,
//! pull requests and wiki, and GitHub only restores it for a short time and not always.
//! Example: `gh repo delete org/app --yes`. Safer: `gh repo archive`.

use blastdoor_core::Risk;

use super::{Finding, Rule, remote_target};
use crate::analysis::Walker;
use crate::command::{Invocation, lower_words};

pub(crate) static RULE: Rule = Rule {
    id: "cloud.gh-repo-delete",
    summary: "the GitHub CLI deletes a repository, release or other resource, or sends a DELETE to the API",
    alternative: "archive the repository (gh repo archive) instead of deleting it",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    if invocation.program() != "gh" {
        return;
    }
    let operands = invocation.operands();
    let words = lower_words(&invocation.positionals(&[
        "-R",
        "--repo",
        "-X",
        "--method",
        "-H",
        "--header",
        "-f",
        "-F",
        "--field",
        "--raw-field",
        "--jq",
        "-q",
        "--template",
        "-t",
        "--hostname",
    ]));
    let explanation = if words.first().map(String::as_str) == Some("api") {
        let method =
            crate::command::option_text(operands, &["-X"], &["--method"]).unwrap_or_default();
        if !method.eq_ignore_ascii_case("DELETE") {
            return;
        }
        format!(
            "`gh api -X DELETE {}`",
            words.get(1).cloned().unwrap_or_default()
        )
    } else if words
        .get(1)
        .is_some_and(|verb| matches!(verb.as_str(), "delete" | "delete-asset"))
    {
        format!(
            "`gh {}` deletes GitHub data",
            words.iter().take(3).cloned().collect::<Vec<_>>().join(" ")
        )
    } else {
        return;
    };
    let target = remote_target(
        "github-resource",
        &words.join(" "),
        "github",
        invocation,
        None,
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
        check("gh repo delete org/app --yes", "hold cloud.gh-repo-delete");
        check("gh release delete v1.0 -y", "hold cloud.gh-repo-delete");
        check(
            "gh api -X DELETE repos/org/app",
            "hold cloud.gh-repo-delete",
        );
        check("gh pr create --title \"delete old code\" --body x", "allow");
        check("gh repo archive org/app", "allow");
        check("gh issue list", "allow");
    }
}
