//! `db.redis-flush`: wiping or reconfiguring Redis from `redis-cli`.
//!
//! Flags `FLUSHALL`, `FLUSHDB`, `SHUTDOWN`, `CONFIG SET`, `DEBUG`, `SCRIPT FLUSH`, `FUNCTION
//! FLUSH` and `EVAL` (arbitrary Lua), given as arguments or on stdin. Risky because a flush
//! erases every key (sessions, queues, caches that are really stores) at once. Example:
//! `redis-cli -h cache.prod FLUSHALL`. Safer: delete the specific keys (`DEL key`, `UNLINK`),
//! or use a separate database number for scratch data.

use blastdoor_core::Risk;

use super::{Finding, Rule};
use crate::analysis::Walker;
use crate::command::{Invocation, Stdin};

pub(crate) static RULE: Rule = Rule {
    id: "db.redis-flush",
    summary: "redis-cli flushes, shuts down or reconfigures Redis, or runs arbitrary Lua",
    alternative: "delete the specific keys with DEL/UNLINK, or use a separate scratch database",
};

const TAKES_VALUE: &[&str] = &[
    "-h",
    "-p",
    "-s",
    "-a",
    "-u",
    "-n",
    "-r",
    "-i",
    "-d",
    "--user",
    "--pass",
    "--cacert",
    "--cacertdir",
    "--cert",
    "--key",
    "--sni",
    "--pattern",
    "--count",
];

fn judge(words: &[String]) -> Option<(Risk, String)> {
    let first = words.first()?.to_ascii_uppercase();
    let second = words
        .get(1)
        .map(|word| word.to_ascii_uppercase())
        .unwrap_or_default();
    let risk = match (first.as_str(), second.as_str()) {
        ("FLUSHALL" | "FLUSHDB" | "SHUTDOWN", _) => Risk::Destroy,
        ("SCRIPT" | "FUNCTION", "FLUSH") => Risk::Destroy,
        ("CONFIG", "SET")
        | ("CONFIG", "RESETSTAT")
        | ("DEBUG", _)
        | ("ACL", "SETUSER")
        | ("ACL", "DELUSER") => Risk::Escalate,
        ("EVAL" | "EVALSHA" | "FCALL" | "MODULE", _) => Risk::Execute,
        _ => return None,
    };
    Some((risk, format!("{first} {second}").trim().to_owned()))
}

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    if invocation.program() != "redis-cli" {
        return;
    }
    let words: Vec<String> = invocation
        .positionals(TAKES_VALUE)
        .iter()
        .map(|arg| arg.text.clone())
        .collect();
    let mut judged = judge(&words);
    if words.is_empty() {
        match &invocation.stdin {
            Stdin::Literal(text) => {
                for line in text.lines() {
                    let line_words: Vec<String> =
                        line.split_whitespace().map(str::to_owned).collect();
                    if let Some(found) = judge(&line_words) {
                        judged = Some(found);
                        break;
                    }
                }
            }
            Stdin::Terminal => {}
            Stdin::File(_) | Stdin::Unknown(_) => {
                judged = Some((Risk::Unknown, "commands read at run time".to_owned()))
            }
        }
    }
    if let Some((risk, command)) = judged {
        let target = super::db_psql::database_target(invocation, "redis");
        walker.report(Finding::hold(
            &RULE,
            risk,
            format!("`redis-cli` runs `{command}`"),
            vec![target],
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check("redis-cli FLUSHALL", "hold db.redis-flush");
        check(
            "redis-cli -h cache.prod -p 6379 flushdb",
            "hold db.redis-flush",
        );
        check("redis-cli -n 2 FLUSHDB ASYNC", "hold db.redis-flush");
        check("echo FLUSHALL | redis-cli", "hold db.redis-flush");
        check("redis-cli CONFIG SET dir /tmp", "hold db.redis-flush");
        check("redis-cli GET session:1", "allow");
        check("redis-cli DEL session:1", "allow");
        check("redis-cli --scan --pattern 'user:*'", "allow");
    }
}
