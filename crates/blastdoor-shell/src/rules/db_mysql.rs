//! `db.mysql-destructive`: destructive SQL sent through `mysql`/`mariadb`/`mysqladmin`/`sqlite3`.
//!
//! Reads the SQL from `-e`/`--execute`, stdin (heredoc, `< file`, a piped literal) or, for
//! `sqlite3`, the SQL operand, and flags the same statements as `db.psql-destructive`, plus
//! `mysqladmin drop`. Risky for the same reason: one statement erases a production table.
//! Example: `mysql -e 'DROP DATABASE shop'`. Safer: a reviewed migration run after a backup.

use blastdoor_core::Risk;

use super::{Finding, Rule};
use crate::analysis::Walker;
use crate::command::Invocation;

pub(crate) static RULE: Rule = Rule {
    id: "db.mysql-destructive",
    summary: "mysql, mariadb or sqlite3 runs SQL that drops, truncates or deletes without a WHERE, or SQL that cannot be read",
    alternative: "write a reviewed migration and run it through the deploy pipeline after a backup",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let program = invocation.program();
    match program {
        "mysql" | "mariadb" => {
            let texts = super::db_psql::sql_texts(
                invocation,
                walker,
                (&["-e"], &["--execute"]),
                (&[], &[]),
            );
            super::db_psql::report_sql(&RULE, program, texts, invocation, walker);
        }
        "sqlite3" => {
            let words = invocation.positionals(&["-cmd", "-separator", "-newline", "-nullvalue"]);
            let mut texts: Vec<Option<String>> = words
                .iter()
                .skip(1)
                .map(|arg| Some(arg.text.clone()))
                .collect();
            if texts.is_empty() {
                texts.push(super::db_psql::stdin_text(&invocation.stdin, walker));
            }
            super::db_psql::report_sql(&RULE, program, texts, invocation, walker);
        }
        "mysqladmin" | "mariadb-admin" => {
            let words = crate::command::lower_words(
                &invocation.positionals(&["-u", "-p", "-h", "-P", "--user", "--host", "--port"]),
            );
            if words.iter().any(|word| word == "drop") {
                let target = super::db_psql::database_target(invocation, "mysql");
                walker.report(Finding::hold(
                    &RULE,
                    Risk::Destroy,
                    format!("`{program} drop` deletes a database"),
                    vec![target],
                ));
            }
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
            "mysql -u root -e 'DROP DATABASE shop'",
            "hold db.mysql-destructive",
        );
        check(
            "mysql shop --execute=\"truncate table orders\"",
            "hold db.mysql-destructive",
        );
        check("mysql shop < drop.sql", "hold db.mysql-destructive");
        check("mysqladmin -u root drop shop", "hold db.mysql-destructive");
        check(
            "sqlite3 app.db 'DELETE FROM users'",
            "hold db.mysql-destructive",
        );
        check("mysql -e 'SHOW TABLES' shop", "allow");
        check("sqlite3 app.db 'select * from users limit 5'", "allow");
        check("mysqldump shop > shop.sql", "allow");
    }
}
