//! A small SQL reader for what database CLIs are asked to run (`psql -c`, `mysql -e`,
//! `sqlite3 db SQL`, `-f file`): splits statements outside quotes and comments and judges each
//! by its leading keywords. The SQL guard (layer 4) parses properly on the wire; this is the
//! hook's early warning and errs towards holding.

use blastdoor_core::Risk;

/// The worst statement in `sql`, and a short description of it.
pub(crate) fn classify(sql: &str) -> (Risk, String) {
    let mut worst = (Risk::Read, String::new());
    for statement in statements(sql) {
        let judged = classify_statement(&statement);
        if judged.0 > worst.0 {
            worst = judged;
        }
    }
    worst
}

/// Uppercased words of each statement, with string literals and comments removed and
/// dollar-quoted bodies (`DO $$ ... $$`) read as SQL too.
fn statements(sql: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut chars = sql.chars().peekable();
    let flush = |word: &mut String, current: &mut Vec<String>| {
        if !word.is_empty() {
            current.push(std::mem::take(word).to_ascii_uppercase());
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                flush(&mut word, &mut current);
                current.push("'STRING'".to_owned());
                while let Some(inner) = chars.next() {
                    if inner == '\'' {
                        if chars.peek() == Some(&'\'') {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                flush(&mut word, &mut current);
                for inner in chars.by_ref() {
                    if inner == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                flush(&mut word, &mut current);
                chars.next();
                let mut previous = ' ';
                for inner in chars.by_ref() {
                    if previous == '*' && inner == '/' {
                        break;
                    }
                    previous = inner;
                }
            }
            ';' => {
                flush(&mut word, &mut current);
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            '$' => {
                // `$$` or `$tag$` opens a body that is SQL (or PL/pgSQL) again: read it as
                // statements of its own.
                flush(&mut word, &mut current);
                current.push("$".to_owned());
            }
            '\\' if word.is_empty() && current.is_empty() => {
                word.push('\\');
            }
            c if c.is_alphanumeric() || c == '_' || c == '!' && word == "\\" => word.push(c),
            '=' => {
                flush(&mut word, &mut current);
                current.push("=".to_owned());
            }
            _ => flush(&mut word, &mut current),
        }
    }
    flush(&mut word, &mut current);
    if !current.is_empty() {
        out.push(current);
    }
    // Statements inside a dollar-quoted body start after `AS $$`/`DO $$`: split on the `$`
    // markers so each inner statement is judged from its own first keyword.
    let mut split = Vec::new();
    for statement in out {
        for part in statement.split(|word| word == "$") {
            if !part.is_empty() {
                split.push(part.to_vec());
            }
        }
    }
    split
}

fn classify_statement(words: &[String]) -> (Risk, String) {
    // `DO $$ BEGIN DROP ...`, `BEGIN; ...`: the statement inside a block starts after its
    // opening keywords.
    let mut words = words;
    while words.len() > 1
        && matches!(
            words.first().map(String::as_str),
            Some("BEGIN" | "DO" | "DECLARE" | "ATOMIC")
        )
    {
        words = words.get(1..).unwrap_or(&[]);
    }
    let has = |keyword: &str| words.iter().any(|word| word == keyword);
    let first = words.first().map(String::as_str).unwrap_or("");
    let second = words.get(1).map(String::as_str).unwrap_or("");
    let description = words.iter().take(4).cloned().collect::<Vec<_>>().join(" ");
    let risk = match first {
        "DROP" => Risk::Destroy,
        "TRUNCATE" => Risk::Destroy,
        "DELETE" | "UPDATE" => {
            if !has("WHERE") || trivial_where(words) {
                Risk::Destroy
            } else {
                Risk::Write
            }
        }
        "ALTER" if has("DROP") => Risk::Destroy,
        "ALTER" if matches!(second, "USER" | "ROLE") => Risk::Escalate,
        "GRANT" | "REVOKE" => Risk::Escalate,
        "CREATE" if matches!(second, "USER" | "ROLE") => Risk::Escalate,
        "COPY" if has("PROGRAM") => Risk::Execute,
        "\\!" => Risk::Execute,
        "\\I" | "\\IR" | "\\INCLUDE" => Risk::Unknown,
        "FLUSHALL" | "FLUSHDB" => Risk::Destroy,
        "SELECT" | "SHOW" | "EXPLAIN" | "DESCRIBE" | "DESC" | "VALUES" | "TABLE" | "\\D"
        | "\\DT" | "\\L" | "\\DN" | "\\DU" | "\\LIST" | "\\CONNINFO" | "\\Q" | "PRAGMA" => {
            if has("INTO") && first == "SELECT" {
                Risk::Write
            } else {
                Risk::Read
            }
        }
        "WITH" => {
            if has("DELETE") || has("UPDATE") && !has("WHERE") {
                Risk::Destroy
            } else if has("INSERT") || has("UPDATE") {
                Risk::Write
            } else {
                Risk::Read
            }
        }
        "BEGIN" | "COMMIT" | "ROLLBACK" | "START" | "END" | "SET" | "USE" | "\\C" | "\\CONNECT" => {
            Risk::Read
        }
        _ if has("DROP") || has("TRUNCATE") => Risk::Destroy,
        _ => Risk::Write,
    };
    (risk, description)
}

/// `WHERE 1=1`, `WHERE true`: a filter that filters nothing.
fn trivial_where(words: &[String]) -> bool {
    let Some(position) = words.iter().position(|word| word == "WHERE") else {
        return false;
    };
    let rest: Vec<&str> = words
        .iter()
        .skip(position + 1)
        .map(String::as_str)
        .collect();
    matches!(
        rest.as_slice(),
        ["TRUE"] | ["1"] | ["1", "=", "1"] | ["'STRING'", "=", "'STRING'"]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(sql: &str, expected: Risk) {
        assert_eq!(classify(sql).0, expected, "{sql}");
    }

    #[test]
    fn statements_are_judged_by_what_they_do() {
        check("select * from users", Risk::Read);
        check("DROP TABLE users", Risk::Destroy);
        check("drop database prod;", Risk::Destroy);
        check("TRUNCATE orders", Risk::Destroy);
        check("DELETE FROM users", Risk::Destroy);
        check("DELETE FROM users WHERE 1=1", Risk::Destroy);
        check("DELETE FROM users WHERE id = 4", Risk::Write);
        check("UPDATE users SET admin = true", Risk::Destroy);
        check("UPDATE users SET name = 'x' WHERE id = 1", Risk::Write);
        check("ALTER TABLE users DROP COLUMN email", Risk::Destroy);
        check("GRANT ALL ON users TO agent", Risk::Escalate);
        check("select 1; drop table x", Risk::Destroy);
        check("SELECT 'DROP TABLE users'", Risk::Read);
        check("-- DROP TABLE users\nSELECT 1", Risk::Read);
        check("INSERT INTO t VALUES (1)", Risk::Write);
        check("DO $$ BEGIN DROP TABLE users; END $$", Risk::Destroy);
        check("\\dt", Risk::Read);
        check("COPY t TO PROGRAM 'rm -rf /'", Risk::Execute);
    }
}
