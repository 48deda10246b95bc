//! `cloud.doctl-destructive`: destructive DigitalOcean CLI commands.
//!
//! Flags `doctl ... delete`/`rm` (droplets, databases, volumes, Kubernetes clusters, apps).
//! Risky because deletes are immediate and backups of a droplet go with it. Example: `doctl
//! databases delete 1234 --force`. Safer: snapshot first; a human runs the delete.

use blastdoor_core::Risk;

use super::{Finding, Rule, remote_target};
use crate::analysis::Walker;
use crate::command::{Invocation, lower_words};

pub(crate) static RULE: Rule = Rule {
    id: "cloud.doctl-destructive",
    summary: "doctl deletes droplets, databases, volumes, clusters or other DigitalOcean resources",
    alternative: "snapshot first and let a human run the delete",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    if invocation.program() != "doctl" {
        return;
    }
    let words = lower_words(&invocation.positionals(&[
        "-o",
        "--output",
        "--context",
        "-t",
        "--access-token",
        "--format",
    ]));
    let Some(verb) = super::find_verb(&words, &["delete", "rm", "destroy", "d"]) else {
        return;
    };
    let target = remote_target(
        "digitalocean-resource",
        &words.join(" "),
        "digitalocean",
        invocation,
        None,
    );
    walker.report(Finding::hold(
        &RULE,
        Risk::Destroy,
        format!("`doctl {}` ({verb})", words.join(" ")),
        vec![target],
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "doctl compute droplet delete web-1 --force",
            "hold cloud.doctl-destructive",
        );
        check(
            "doctl databases delete 1234",
            "hold cloud.doctl-destructive",
        );
        check("doctl compute droplet list", "allow");
    }
}
