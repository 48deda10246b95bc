//! `db.dropdb`: `dropdb`, `dropuser` and `pg_dropcluster`, PostgreSQL's delete-a-database
//! programs.
//!
//! Flags every `dropdb`/`dropuser`/`pg_dropcluster` run (the last deletes a whole cluster's
//! data directory: every database in it). Risky because the database and every table in it go
//! at once, and a URL or `PGHOST` decides whether that is a laptop or production. Example:
//! `dropdb -h db.prod app`. Safer: rename the database (`ALTER DATABASE app RENAME TO
//! app_old`) and drop it later, after a backup, by a human.

use blastdoor_core::Risk;

use super::{Finding, Rule};
use crate::analysis::Walker;
use crate::command::Invocation;

pub(crate) static RULE: Rule = Rule {
    id: "db.dropdb",
    summary: "dropdb, dropuser or pg_dropcluster deletes a whole PostgreSQL database, role or cluster",
    alternative: "rename the database (ALTER DATABASE ... RENAME) and let a human drop it after a backup",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let program = invocation.program();
    if !matches!(program, "dropdb" | "dropuser" | "pg_dropcluster") {
        return;
    }
    if invocation.has_flag(&[], &["--help", "--version"]) {
        return;
    }
    let name = if program == "pg_dropcluster" {
        // `pg_dropcluster [--stop] VERSION NAME`: the cluster is the pair.
        invocation
            .positionals(&[])
            .iter()
            .map(|arg| arg.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        invocation
            .positionals(&[
                "-h",
                "-p",
                "-U",
                "--host",
                "--port",
                "--username",
                "--maintenance-db",
            ])
            .last()
            .map(|arg| arg.text.clone())
            .unwrap_or_default()
    };
    let target = super::db_psql::database_target(invocation, "postgres");
    walker.report(Finding::hold(
        &RULE,
        Risk::Destroy,
        format!("`{program}` deletes `{name}`"),
        vec![target],
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check("dropdb app", "hold db.dropdb");
        check("dropdb -h db.prod.internal -U admin app", "hold db.dropdb");
        check("sudo -u postgres dropdb app_test", "hold db.dropdb");
        check("dropuser app", "hold db.dropdb");
        check("pg_dropcluster 14 main", "hold db.dropdb");
        check("sudo pg_dropcluster --stop 16 main", "hold db.dropdb");
        check("pg_lsclusters", "allow");
        check("createdb app_test", "allow");
        check("dropdb --help", "allow");
    }
}
