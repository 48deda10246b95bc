//! `cloud.vercel-destructive`: destructive Vercel CLI commands.
//!
//! Flags `vercel remove|rm`, `vercel project rm`, `vercel env rm`, `vercel domains rm`,
//! `vercel dns rm`. Risky because a removed project takes its deployments and domains with
//! it. Example: `vercel remove my-app --yes`. Safer: `vercel rollback`, or a human in the
//! dashboard.

use blastdoor_core::Risk;

use super::{Finding, Rule, remote_target};
use crate::analysis::Walker;
use crate::command::{Invocation, lower_words};

pub(crate) static RULE: Rule = Rule {
    id: "cloud.vercel-destructive",
    summary: "the Vercel CLI removes projects, deployments, domains or environment variables",
    alternative: "remove things from the Vercel dashboard with a human; roll back with vercel rollback instead of deleting",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    if !matches!(invocation.program(), "vercel" | "vc") {
        return;
    }
    let words = lower_words(&invocation.positionals(&["--scope", "--token", "-t", "--cwd", "-S"]));
    let Some(verb) = super::find_verb(&words, &["remove", "rm", "delete"]) else {
        return;
    };
    let target = remote_target(
        "vercel-resource",
        &words.join(" "),
        "vercel",
        invocation,
        None,
    );
    walker.report(Finding::hold(
        &RULE,
        Risk::Destroy,
        format!("`vercel {}` ({verb})", words.join(" ")),
        vec![target],
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "vercel remove my-app --yes",
            "hold cloud.vercel-destructive",
        );
        check(
            "vercel env rm DATABASE_URL production",
            "hold cloud.vercel-destructive",
        );
        check(
            "vercel domains rm example.com",
            "hold cloud.vercel-destructive",
        );
        check("vercel --prod", "allow");
        check("vercel ls", "allow");
    }
}
