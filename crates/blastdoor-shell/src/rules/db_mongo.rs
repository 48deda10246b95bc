//! `db.mongo-destructive`: destructive MongoDB shell code and `mongorestore --drop`.
//!
//! Scans the code given to `mongosh`/`mongo` (`--eval`, a `.js` file, stdin) for
//! `dropDatabase`, `db.x.drop()`, `deleteMany({})`, `remove({})`, `dropAllUsers`; code that
//! arrives at run time is unknown. Risky because one call erases a collection or database.
//! Example: `mongosh "$MONGO_URL" --eval 'db.dropDatabase()'`. Safer: `mongodump` first, and
//! a filtered `deleteMany({field: value})` reviewed by a human.

use blastdoor_core::Risk;

use super::{Finding, Rule};
use crate::analysis::{FileContents, Walker};
use crate::command::Invocation;

pub(crate) static RULE: Rule = Rule {
    id: "db.mongo-destructive",
    summary: "MongoDB shell code drops a database or collection or deletes every document",
    alternative: "run mongodump first and use a filtered deleteMany reviewed by a human",
};

const MARKERS: &[&str] = &[
    "dropDatabase",
    ".drop(",
    "deleteMany({})",
    "deleteMany( {} )",
    "remove({})",
    "dropAllUsers",
    "dropAllRoles",
    "dropIndexes",
    "renameCollection",
];

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let program = invocation.program();
    let target = || super::db_psql::database_target(invocation, "mongodb");
    if program == "mongorestore" && invocation.has_flag(&[], &["--drop"]) {
        walker.report(Finding::hold(
            &RULE,
            Risk::Destroy,
            "`mongorestore --drop` drops each collection before restoring",
            vec![target()],
        ));
        return;
    }
    if !matches!(program, "mongosh" | "mongo") {
        return;
    }
    let mut codes: Vec<Option<String>> = Vec::new();
    if let Some(code) = crate::command::option_text(invocation.operands(), &[], &["--eval"]) {
        codes.push(Some(code));
    }
    for arg in invocation.positionals(&[
        "--eval",
        "-u",
        "-p",
        "--username",
        "--password",
        "--host",
        "--port",
        "--authenticationDatabase",
    ]) {
        if arg.text.ends_with(".js") {
            codes.push(match walker.read_file(arg) {
                FileContents::Text(text) => Some(text),
                _ => None,
            });
        }
    }
    if codes.is_empty() {
        codes.push(super::db_psql::stdin_text(&invocation.stdin, walker));
    }
    for code in codes {
        match code {
            None => walker.report(Finding::hold(
                &RULE,
                Risk::Unknown,
                format!("`{program}` runs code only known at run time"),
                vec![target()],
            )),
            Some(code) => {
                if let Some(marker) = MARKERS.iter().find(|marker| code.contains(*marker)) {
                    walker.report(Finding::hold(
                        &RULE,
                        Risk::Destroy,
                        format!("`{program}` runs `{}`", marker.trim_matches(['.', '('])),
                        vec![target()],
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "mongosh \"$MONGO_URL\" --eval 'db.dropDatabase()'",
            "hold db.mongo-destructive",
        );
        check(
            "mongosh app --eval 'db.users.drop()'",
            "hold db.mongo-destructive",
        );
        check(
            "mongo app --eval 'db.orders.deleteMany({})'",
            "hold db.mongo-destructive",
        );
        check(
            "mongosh app <<'EOF'\ndb.sessions.remove({})\nEOF",
            "hold db.mongo-destructive",
        );
        check("mongorestore --drop dump/", "hold db.mongo-destructive");
        check("mongosh app --eval 'db.users.find().limit(5)'", "allow");
        check("mongosh app --eval 'db.users.countDocuments()'", "allow");
        check("mongodump --db app", "allow");
    }
}
