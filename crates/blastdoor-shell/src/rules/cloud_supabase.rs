//! `cloud.supabase-destructive`: destructive Supabase CLI commands.
//!
//! Flags `supabase db reset` (the remote one with `--linked`/`--db-url` needs two approvers
//! like any unknown environment; the local one is held for one), `projects delete`, `branches
//! delete`, `functions delete`, `secrets unset`, `storage rm`. Risky because `db reset
//! --linked` recreates the remote database from migrations, dropping its data. Example:
//! `supabase db reset --linked`. Safer: reset the local stack only; back up before remote
//! changes.

use blastdoor_core::Risk;

use super::{Finding, Rule, remote_target};
use crate::analysis::Walker;
use crate::command::{Invocation, lower_words};

pub(crate) static RULE: Rule = Rule {
    id: "cloud.supabase-destructive",
    summary: "the Supabase CLI resets a database or deletes projects, branches, functions or secrets",
    alternative: "reset only the local database (supabase db reset without --linked), and take a backup before remote changes",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    if invocation.program() != "supabase" {
        return;
    }
    let words = lower_words(&invocation.positionals(&[
        "--db-url",
        "--project-ref",
        "--workdir",
        "-o",
        "--output",
    ]));
    let Some(verb) = super::find_verb(&words, &["reset", "delete", "unset", "rm", "remove"]) else {
        return;
    };
    let remote =
        invocation.has_flag(&[], &["--linked", "--db-url", "--project-ref"]) || verb != "reset";
    let target = if remote {
        remote_target(
            "supabase-resource",
            &words.join(" "),
            "supabase",
            invocation,
            None,
        )
    } else {
        super::local_target("database", "supabase local")
    };
    walker.report(Finding::hold(
        &RULE,
        Risk::Destroy,
        format!("`supabase {}` ({verb})", words.join(" ")),
        vec![target],
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "supabase db reset --linked",
            "hold cloud.supabase-destructive",
        );
        check(
            "supabase projects delete abcdef",
            "hold cloud.supabase-destructive",
        );
        check(
            "supabase functions delete hello",
            "hold cloud.supabase-destructive",
        );
        check("supabase db reset", "hold cloud.supabase-destructive");
        check("supabase start", "allow");
        check("supabase db push", "allow");
    }
}
