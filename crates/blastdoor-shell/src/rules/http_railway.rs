//! `http.railway-graphql`: raw requests to Railway's GraphQL API that change anything.
//!
//! Reads the request a `curl`/`wget`/HTTPie command sends to `backboard.railway.com` or
//! `backboard.railway.app` — the body from `-d`, `--data-*`, `--json`, `-d @file` (read from the
//! workspace, bounded), `-d @-` (a heredoc, here-string or piped literal), `--post-data`,
//! `--post-file`, HTTPie fields, or `?query=` — and classifies it with Railway's reviewed
//! mutation table (`blastdoor_http::railway`): aliases, variables, fragments, batches and
//! `operationName` are seen through. Any mutation is held (destroys such as `volumeDelete`
//! with two approvers, since the environment is unknown); a body that cannot be read or parsed
//! is unknown and held; queries for secrets (`variables`) are held. The same check runs on
//! inline code (Python `requests`, Node `fetch`) that talks to Railway. Risky because this is
//! the incident: one `volumeDelete` erased production and its backups. Example: `curl -X POST
//! https://backboard.railway.com/graphql/v2 -d '{"query":"mutation { volumeDelete(volumeId:
//! \"v\") }"}'`. Safer: go through the blastdoor gateway with a capability token, where the
//! operation is held for approval and snapshotted first.

use blastdoor_core::{Environment, Risk, Target};
use blastdoor_http::railway::{RailwayClassification, classify_get_query, classify_request_body};

use super::{Finding, Rule};
use crate::analysis::Walker;
use crate::code::RAILWAY_HOSTS;
use crate::command::Invocation;
use crate::http_request::{self, Body};

pub(crate) static RULE: Rule = Rule {
    id: "http.railway-graphql",
    summary: "a raw request to Railway's GraphQL API runs a mutation (volumeDelete, serviceDelete, ...), reads secrets, or sends a body that cannot be read",
    alternative: "send Railway changes through the blastdoor gateway with a capability token, where destroys are held for approval and snapshotted first",
};

fn is_railway_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    RAILWAY_HOSTS.iter().any(|host| lower.contains(host))
        || lower.contains("railway.app/graphql")
        || lower.contains("railway.com/graphql")
}

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let Some(request) = http_request::read(invocation, walker) else {
        // Any other program handed Railway's API address and a GraphQL mutation.
        let data_program = matches!(
            invocation.program(),
            "echo"
                | "printf"
                | "git"
                | "grep"
                | "rg"
                | "cat"
                | "tee"
                | "sed"
                | "awk"
                | "jq"
                | "touch"
                | "mkdir"
                | "ls"
        );
        let mentions_railway = invocation
            .operands()
            .iter()
            .any(|arg| is_railway_url(&arg.text));
        let mentions_mutation = invocation
            .operands()
            .iter()
            .any(|arg| contains_word(&arg.text, "mutation"));
        if mentions_railway && mentions_mutation && !data_program {
            let joined: Vec<&str> = invocation
                .operands()
                .iter()
                .map(|arg| arg.text.as_str())
                .collect();
            check_code(&joined.join(" "), walker);
        }
        return;
    };
    if !request.urls.iter().any(|url| is_railway_url(url)) {
        // A URL only known at run time, carrying a GraphQL mutation: it may well be Railway.
        let dynamic_url = !request.urls.is_empty()
            && request
                .urls
                .iter()
                .all(|url| url.starts_with('$') || url.contains("://$") || url.starts_with("\"$"));
        if dynamic_url {
            for body in &request.bodies {
                if let Body::Known(text) = body
                    && contains_word(text, "mutation")
                {
                    let classification = classify_request_body(text.as_bytes());
                    if classification.risk > Risk::Read {
                        walker.report(Finding::hold(
                            &RULE,
                            classification.risk.max(Risk::Unknown),
                            format!("`{}` sends a GraphQL mutation to a URL only known at run time (`{}`)", request.program, request.urls.iter().map(|url| crate::http_request::without_query(url)).collect::<Vec<_>>().join(" ")),
                            vec![railway_target("request")],
                        ));
                    }
                }
            }
        }
        return;
    }
    let program = request.program.clone();
    if request.bodies.is_empty() {
        if let Some(query) = request
            .urls
            .iter()
            .find_map(|url| url.split_once('?').map(|(_, query)| query.to_owned()))
        {
            report(&classify_get_query(&query), &program, walker);
        } else if !matches!(request.method.as_str(), "GET" | "HEAD" | "OPTIONS") {
            walker.report(unknown(&format!(
                "`{program}` sends a {} to Railway's API without a readable body",
                request.method
            )));
        }
        return;
    }
    for body in &request.bodies {
        match body {
            Body::Known(text) => report(&classify_request_body(text.as_bytes()), &program, walker),
            Body::Unknown(why) => walker.report(unknown(&format!(
                "`{program}` sends a request to Railway's API: {why}"
            ))),
        }
    }
}

/// Inline code that mentions Railway's API: the GraphQL text inside it, judged by the same
/// table. Code we cannot read as a request is held unless it holds no mutation at all.
pub(crate) fn check_code(code: &str, walker: &mut Walker<'_, '_>) {
    let mut worst: Option<(Risk, String)> = None;
    if contains_word(code, "mutation") {
        for word in identifiers(code) {
            if let Some(rule) = blastdoor_http::railway::table::mutation_rule(word)
                && worst.as_ref().is_none_or(|(risk, _)| rule.risk > *risk)
            {
                worst = Some((rule.risk, word.to_owned()));
            }
        }
        let (risk, field) = worst.unwrap_or((Risk::Unknown, "an unrecognised mutation".to_owned()));
        walker.report(Finding::hold(
            &RULE,
            risk,
            format!("code sends the Railway mutation `{field}`"),
            vec![railway_target(&field)],
        ));
    } else if !contains_word(code, "query") && !code.contains("{") {
        walker.report(unknown(
            "code sends a request to Railway's API whose GraphQL document cannot be read",
        ));
    }
}

fn contains_word(text: &str, word: &str) -> bool {
    identifiers(text).any(|identifier| identifier == word)
}

fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| !word.is_empty())
}

fn railway_target(id: &str) -> Target {
    Target::new("railway-graphql", id, vec![Environment::Unknown]).on_upstream("railway")
}

fn unknown(why: &str) -> Finding {
    Finding::hold(
        &RULE,
        Risk::Unknown,
        why.to_owned(),
        vec![railway_target("request")],
    )
}

fn report(classification: &RailwayClassification, program: &str, walker: &mut Walker<'_, '_>) {
    // A read that reveals secrets, at any depth, is `ReadSecrets`: only plain reads pass.
    if classification.risk == Risk::Read && classification.malformed.is_none() {
        return;
    }
    let mut fields: Vec<String> = classification
        .fields
        .iter()
        .map(|field| format!("{} ({})", field.field, field.risk))
        .collect();
    fields.dedup();
    let mut targets: Vec<Target> = classification
        .fields
        .iter()
        .flat_map(|field| {
            field.ids.iter().map(move |(argument, id)| {
                Target::new(
                    argument.trim_end_matches("Id").trim_end_matches("Ids"),
                    id,
                    vec![Environment::Unknown],
                )
                .on_upstream("railway")
            })
        })
        .take(16)
        .collect();
    if targets.is_empty() {
        targets.push(railway_target("request"));
    }
    let (risk, explanation) = match (&classification.malformed, classification.risk) {
        (Some(error), _) => (
            Risk::Unknown,
            format!(
                "`{program}` sends a Railway GraphQL request that could not be classified: {error}"
            ),
        ),
        (None, Risk::Read | Risk::ReadSecrets) => (
            Risk::Escalate,
            format!(
                "`{program}` reads secrets from Railway's API: {}",
                fields.join(", ")
            ),
        ),
        (None, risk) => (
            risk,
            format!(
                "`{program}` sends a Railway GraphQL mutation: {}",
                fields.join(", ")
            ),
        ),
    };
    walker.report(Finding::hold(&RULE, risk, explanation, targets));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check(
            r#"curl -X POST https://backboard.railway.com/graphql/v2 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"query":"mutation { volumeDelete(volumeId: \"v-1\") }"}'"#,
            "hold http.railway-graphql",
        );
        check(
            r#"curl https://backboard.railway.app/graphql/v2 --data-raw '{"query":"mutation { x: volumeDelete(volumeId: \"v\") }"}'"#,
            "hold http.railway-graphql",
        );
        check(
            r#"curl https://backboard.railway.com/graphql/v2 -d @body.json"#,
            "hold http.railway-graphql",
        );
        check(
            r#"curl https://backboard.railway.com/graphql/v2 -d "$BODY""#,
            "hold http.railway-graphql",
        );
        check(
            r#"curl https://backboard.railway.com/graphql/v2 -d '{"query":"query { me { id } }"}'"#,
            "allow",
        );
        check(
            r#"curl https://backboard.railway.com/graphql/v2 -d @query.json"#,
            "allow",
        );
        check(
            r#"curl https://backboard.railway.com/graphql/v2 -d '{"query":"query { variables(projectId: \"p\", environmentId: \"e\") }"}'"#,
            "hold http.railway-graphql",
        );
        check(
            r#"curl https://example.com/api -d '{"query":"mutation { volumeDelete(volumeId: \"v\") }"}'"#,
            "allow",
        );
    }
}
