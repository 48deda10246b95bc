//! `db.psql-destructive`: destructive SQL sent through `psql` (and `pg_restore --clean`).
//!
//! Reads the SQL from `-c`/`--command`, `-f`/`--file` (through the file source), a heredoc,
//! a here-string or a piped literal, and flags `DROP`, `TRUNCATE`, `DELETE`/`UPDATE` without a
//! (real) `WHERE`, `ALTER ... DROP`, privilege changes, `COPY ... PROGRAM` and `\!`. SQL that
//! arrives from another program at run time is unknown. Risky because a database CLI with a
//! production URL is one statement away from the incident. Example: `psql "$DATABASE_URL" -c
//! 'DROP TABLE users'`. Safer: a reviewed migration, run by the deploy pipeline after a backup.

use blastdoor_core::Risk;

use super::{Finding, Rule, remote_target};
use crate::analysis::{FileContents, Walker};
use crate::command::{Invocation, Stdin};
use crate::words::Arg;

pub(crate) static RULE: Rule = Rule {
    id: "db.psql-destructive",
    summary: "psql runs SQL that drops, truncates or deletes without a WHERE, changes privileges, or SQL that cannot be read",
    alternative: "write a reviewed migration and let the deploy pipeline run it after a backup; query with SELECT to inspect",
};

/// The environment a database command reaches: local when it names localhost, production
/// when a host or URL says so, otherwise what the wrapper said or unknown.
pub(crate) fn database_target(invocation: &Invocation, engine: &str) -> blastdoor_core::Target {
    let texts = invocation
        .operands()
        .iter()
        .map(|arg| arg.text.to_ascii_lowercase());
    let mut named = None;
    for text in texts {
        if text.contains("localhost") || text.contains("127.0.0.1") || text.contains("[::1]") {
            named = Some("local");
        } else if text.contains("prod") {
            named = Some("production");
            break;
        }
    }
    if invocation.remote {
        named = named.filter(|name| *name != "local");
    }
    remote_target("database", engine, engine, invocation, named)
}

/// Where the SQL text comes from: each piece, or `None` for a piece unknown until run time.
pub(crate) fn sql_texts(
    invocation: &Invocation,
    walker: &Walker<'_, '_>,
    command_flags: (&[&str], &[&str]),
    file_flags: (&[&str], &[&str]),
) -> Vec<Option<String>> {
    let operands = invocation.operands();
    let mut texts = Vec::new();
    let mut iter = operands.iter().peekable();
    let mut used_flags = false;
    while let Some(arg) = iter.next() {
        let text = arg.text.as_str();
        let (short_command, long_command) = command_flags;
        let (short_file, long_file) = file_flags;
        let inline = long_command.iter().find_map(|flag| {
            text.strip_prefix(flag)
                .and_then(|rest| rest.strip_prefix('='))
        });
        let inline_file = long_file.iter().find_map(|flag| {
            text.strip_prefix(flag)
                .and_then(|rest| rest.strip_prefix('='))
        });
        if short_command.contains(&text) || long_command.contains(&text) {
            used_flags = true;
            texts.push(iter.next().map(|value| value.text.clone()));
        } else if let Some(value) = inline {
            used_flags = true;
            texts.push(Some(value.to_owned()));
        } else if short_file.contains(&text) || long_file.contains(&text) || inline_file.is_some() {
            used_flags = true;
            let file = match inline_file {
                Some(value) => Some(Arg {
                    text: value.to_owned(),
                    ..arg.clone()
                }),
                None => iter.next().cloned(),
            };
            texts.push(match file {
                Some(file) if file.text == "-" => stdin_text(&invocation.stdin, walker),
                Some(file) => match walker.read_file(&file) {
                    FileContents::Text(text) => Some(text),
                    _ => None,
                },
                None => None,
            });
        }
    }
    if !used_flags && !matches!(invocation.stdin, Stdin::Terminal) {
        texts.push(stdin_text(&invocation.stdin, walker));
    }
    texts
}

pub(crate) fn stdin_text(stdin: &Stdin, walker: &Walker<'_, '_>) -> Option<String> {
    match stdin {
        Stdin::Terminal => Some(String::new()),
        Stdin::Literal(text) => Some(text.clone()),
        Stdin::File(arg) => match walker.read_file(arg) {
            FileContents::Text(text) => Some(text),
            _ => None,
        },
        Stdin::Unknown(_) => None,
    }
}

/// Reports the worst SQL among `texts` under `rule`.
pub(crate) fn report_sql(
    rule: &'static Rule,
    program: &str,
    texts: Vec<Option<String>>,
    invocation: &Invocation,
    walker: &mut Walker<'_, '_>,
) {
    for text in texts {
        let target = database_target(invocation, program);
        match text {
            None => walker.report(Finding::hold(
                rule,
                Risk::Unknown,
                format!("`{program}` runs SQL that is only known at run time"),
                vec![target],
            )),
            Some(text) => {
                let (risk, statement) = crate::sql::classify(&text);
                if matches!(
                    risk,
                    Risk::Destroy | Risk::Escalate | Risk::Execute | Risk::Unknown
                ) {
                    walker.report(Finding::hold(
                        rule,
                        risk,
                        format!("`{program}` runs `{statement} ...` ({risk})"),
                        vec![target],
                    ));
                }
            }
        }
    }
}

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    match invocation.program() {
        "psql" => {
            let texts = sql_texts(
                invocation,
                walker,
                (&["-c"], &["--command"]),
                (&["-f"], &["--file"]),
            );
            report_sql(&RULE, "psql", texts, invocation, walker);
        }
        "pg_restore" if invocation.has_flag(&['c'], &["--clean"]) => {
            let target = database_target(invocation, "postgres");
            walker.report(Finding::hold(
                &RULE,
                Risk::Destroy,
                "`pg_restore --clean` drops database objects before restoring",
                vec![target],
            ));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "psql \"$DATABASE_URL\" -c 'DROP TABLE users'",
            "hold db.psql-destructive",
        );
        check(
            "psql -h db.prod.internal -U app -c 'TRUNCATE orders'",
            "hold db.psql-destructive",
        );
        check("psql -c 'DELETE FROM sessions'", "hold db.psql-destructive");
        check(
            "psql --command='drop schema public cascade'",
            "hold db.psql-destructive",
        );
        check("psql -f drop.sql", "hold db.psql-destructive");
        check("psql < drop.sql", "hold db.psql-destructive");
        check(
            "psql <<'SQL'\nDROP DATABASE app;\nSQL",
            "hold db.psql-destructive",
        );
        check("echo 'DROP TABLE users' | psql", "hold db.psql-destructive");
        check("cat dump.sql | psql", "hold db.psql-destructive");
        check("curl -s https://x/q.sql | psql", "hold db.psql-destructive");
        check("psql -c 'SELECT count(*) FROM users'", "allow");
        check(
            "psql -c \"DELETE FROM sessions WHERE expires_at < now()\"",
            "allow",
        );
        check("psql -f migrate.sql", "allow");
        check("psql -l", "allow");
        check(
            "pg_restore --clean -d app dump.custom",
            "hold db.psql-destructive",
        );
        check("pg_dump app > backup.sql", "allow");
        check("git commit -m 'DROP TABLE users in migration'", "allow");
    }
}
