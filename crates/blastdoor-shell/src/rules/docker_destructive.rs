//! `docker.destructive`: deleting container volumes and images in bulk.
//!
//! Flags `docker volume rm|prune`, `docker system prune --volumes`, `docker compose down -v`
//! (`--volumes`), and `docker rm -v`. Risky because named volumes often hold the only copy of
//! a local database. Example: `docker compose down -v`. Safer: `docker compose down` (keeps
//! volumes) or remove one named throwaway volume after checking what it holds.

use blastdoor_core::Risk;

use super::{Finding, Rule, path_target};
use crate::analysis::Walker;
use crate::command::{Invocation, lower_words};

pub(crate) static RULE: Rule = Rule {
    id: "docker.destructive",
    summary: "docker deletes volumes (docker volume rm/prune, system prune --volumes, compose down -v), the data stores of containers",
    alternative: "docker compose down without -v keeps volumes; remove a single throwaway volume by name after checking it",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let program = invocation.program();
    if !matches!(program, "docker" | "podman" | "docker-compose") {
        return;
    }
    let words = lower_words(&invocation.positionals(&[
        "-f",
        "--file",
        "-p",
        "--project-name",
        "--context",
        "-H",
        "--host",
        "--filter",
    ]));
    let volumes_flag = invocation.has_flag(&['v'], &["--volumes"]);
    let compose_words: &[String] = if program == "docker-compose" {
        &words
    } else if words.first().map(String::as_str) == Some("compose") {
        words.get(1..).unwrap_or(&[])
    } else {
        &[]
    };
    let explanation = if compose_words.first().map(String::as_str) == Some("down") && volumes_flag {
        "`compose down -v` deletes the project's volumes"
    } else {
        match (
            words.first().map(String::as_str),
            words.get(1).map(String::as_str),
        ) {
            (Some("volume"), Some("rm" | "prune" | "remove")) => "deletes docker volumes",
            (Some("system"), Some("prune")) if volumes_flag => {
                "`system prune --volumes` deletes every unused volume"
            }
            _ => return,
        }
    };
    walker.report(Finding::hold(
        &RULE,
        Risk::Destroy,
        format!("`{program}` {explanation}"),
        vec![path_target("docker-volume", &words.join(" "), invocation)],
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check("docker compose down -v", "hold docker.destructive");
        check("docker-compose down --volumes", "hold docker.destructive");
        check("docker volume rm pgdata", "hold docker.destructive");
        check("docker volume prune -f", "hold docker.destructive");
        check(
            "docker system prune -a --volumes",
            "hold docker.destructive",
        );
        check("docker compose down", "allow");
        check("docker ps -a", "allow");
        check("docker build -t app .", "allow");
        check(
            "docker exec -it db psql -U app -c 'TRUNCATE orders'",
            "hold db.psql-destructive",
        );
    }
}
