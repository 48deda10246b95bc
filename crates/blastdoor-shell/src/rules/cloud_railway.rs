//! `cloud.railway-destructive`: destructive Railway CLI commands.
//!
//! Flags `railway down`, `railway delete`, `railway volume delete|detach`, `railway
//! environment delete`, `railway service delete`, `railway domain delete` and similar. Risky
//! because Railway honours an authenticated delete at once, and a volume delete removes the
//! volume in every environment with the backups stored inside it: the incident. Example:
//! `railway volume delete --volume pg-data`. Safer: a human in the dashboard, after an
//! isolated backup.

use blastdoor_core::Risk;

use super::{Finding, Rule, remote_target};
use crate::analysis::Walker;
use crate::command::{Invocation, lower_words};

pub(crate) static RULE: Rule = Rule {
    id: "cloud.railway-destructive",
    summary: "the Railway CLI deletes or takes down a project, environment, service, volume or deployment",
    alternative: "use the Railway dashboard with a human, or projectScheduleDelete (48-hour grace) instead of an immediate delete",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    if invocation.program() != "railway" {
        return;
    }
    let takes_value = [
        "-e",
        "--environment",
        "-s",
        "--service",
        "-p",
        "--project",
        "-v",
        "--volume",
        "--json",
    ];
    let words = lower_words(&invocation.positionals(&takes_value));
    let Some(verb) = super::find_verb(
        &words,
        &[
            "down",
            "delete",
            "remove",
            "rm",
            "destroy",
            "detach",
            "unlink-volume",
        ],
    ) else {
        return;
    };
    let environment =
        crate::command::option_text(invocation.operands(), &["-e"], &["--environment"]);
    let target = remote_target(
        "railway-resource",
        &words.join(" "),
        "railway",
        invocation,
        environment.as_deref(),
    );
    walker.report(Finding::hold(
        &RULE,
        Risk::Destroy,
        format!(
            "`railway {}` ({verb}) destroys Railway resources",
            words.join(" ")
        ),
        vec![target],
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check("railway down", "hold cloud.railway-destructive");
        check(
            "railway volume delete --volume pg-data",
            "hold cloud.railway-destructive",
        );
        check(
            "railway environment delete staging",
            "hold cloud.railway-destructive",
        );
        check("railway delete -y", "hold cloud.railway-destructive");
        check("railway up --detach", "allow");
        check("railway status", "allow");
        check("railway logs -e production", "allow");
        check(
            "railway run -e production rm -rf /app/data",
            "hold fs.recursive-delete",
        );
    }
}
