//! `cloud.heroku-destructive`: destructive Heroku CLI commands.
//!
//! Flags `heroku apps:destroy`, `addons:destroy`, `pg:reset`, `pg:backups:delete`,
//! `*:remove`, `pg:killall`. Risky because `pg:reset` empties the database and
//! `apps:destroy` removes the app with its add-ons. Example: `heroku pg:reset DATABASE_URL
//! --confirm app`. Safer: `heroku pg:backups:capture` first; a human runs the destroy.

use blastdoor_core::Risk;

use super::{Finding, Rule, remote_target};
use crate::analysis::Walker;
use crate::command::{Invocation, lower_words};

pub(crate) static RULE: Rule = Rule {
    id: "cloud.heroku-destructive",
    summary: "the Heroku CLI destroys an app or add-on or resets a database",
    alternative: "use pg:backups:capture first and let a human run the destroy",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    if invocation.program() != "heroku" {
        return;
    }
    let words =
        lower_words(&invocation.positionals(&["-a", "--app", "-r", "--remote", "--confirm"]));
    let Some(command) = words.first() else { return };
    let destructive = ["destroy", "reset", "delete", "remove", "killall", "unset"]
        .iter()
        .any(|verb| {
            command.ends_with(&format!(":{verb}")) || command.contains(&format!(":{verb}:"))
        })
        || words
            .get(1)
            .is_some_and(|verb| matches!(verb.as_str(), "destroy" | "delete" | "remove"));
    if !destructive {
        return;
    }
    let app = crate::command::option_text(invocation.operands(), &["-a"], &["--app"]).map(|app| {
        if app.contains("prod") {
            "production".to_owned()
        } else {
            "unknown".to_owned()
        }
    });
    let target = remote_target(
        "heroku-resource",
        command,
        "heroku",
        invocation,
        app.as_deref(),
    );
    walker.report(Finding::hold(
        &RULE,
        Risk::Destroy,
        format!("`heroku {command}` destroys Heroku resources"),
        vec![target],
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "heroku apps:destroy --app my-app --confirm my-app",
            "hold cloud.heroku-destructive",
        );
        check(
            "heroku pg:reset DATABASE_URL --confirm my-app",
            "hold cloud.heroku-destructive",
        );
        check(
            "heroku addons:destroy heroku-postgresql",
            "hold cloud.heroku-destructive",
        );
        check("heroku logs --tail -a my-app", "allow");
        check("heroku ps:scale web=2", "allow");
    }
}
