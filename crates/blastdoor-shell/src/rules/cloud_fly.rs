//! `cloud.fly-destructive`: destructive Fly.io CLI commands.
//!
//! Flags `fly apps destroy`, `fly destroy`, `fly volumes destroy|delete`, `fly machine
//! destroy|remove`, `fly postgres detach`, `fly secrets unset`. Risky because a destroyed app
//! or volume is gone with its data. Example: `fly volumes destroy vol_123 -y`. Safer: scale
//! to zero, snapshot volumes first.

use blastdoor_core::Risk;

use super::{Finding, Rule, remote_target};
use crate::analysis::Walker;
use crate::command::{Invocation, lower_words};

pub(crate) static RULE: Rule = Rule {
    id: "cloud.fly-destructive",
    summary: "flyctl destroys apps, machines or volumes",
    alternative: "scale down instead of destroying, and snapshot volumes (fly volumes snapshots create) first",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    if !matches!(invocation.program(), "fly" | "flyctl") {
        return;
    }
    let takes_value = [
        "-a", "--app", "-c", "--config", "-r", "--region", "-o", "--org",
    ];
    let words = lower_words(&invocation.positionals(&takes_value));
    let Some(verb) = super::find_verb(
        &words,
        &["destroy", "delete", "remove", "rm", "detach", "unset"],
    ) else {
        return;
    };
    let app = crate::command::option_text(invocation.operands(), &["-a"], &["--app"]).map(|app| {
        if app.contains("prod") {
            "production".to_owned()
        } else {
            "unknown".to_owned()
        }
    });
    let target = remote_target(
        "fly-resource",
        &words.join(" "),
        "fly",
        invocation,
        app.as_deref(),
    );
    walker.report(Finding::hold(
        &RULE,
        Risk::Destroy,
        format!("`fly {}` ({verb})", words.join(" ")),
        vec![target],
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check("fly apps destroy my-app -y", "hold cloud.fly-destructive");
        check(
            "flyctl volumes destroy vol_123 --yes",
            "hold cloud.fly-destructive",
        );
        check(
            "fly machine remove 1234 --force",
            "hold cloud.fly-destructive",
        );
        check("fly deploy", "allow");
        check("fly status -a my-app", "allow");
    }
}
