//! `http.infra-api-destructive`: raw destructive requests to infrastructure APIs.
//!
//! Flags `curl`/`wget`/HTTPie requests to a cloud or PaaS API host (GitHub, Cloudflare,
//! DigitalOcean, Heroku, Vercel, Fly, Supabase, AWS, Azure, Google, Render, Netlify, Neon, ...)
//! whose method is `DELETE`, or whose URL or body names a delete, destroy, purge, terminate or
//! reset (GraphQL `deleteRepository`, `/actions/destroy`). Risky because raw API calls skip
//! every confirmation a CLI or dashboard would show. Example: `curl -X DELETE
//! https://api.cloudflare.com/client/v4/zones/Z`. Safer: the provider's CLI or dashboard with
//! a human, or the blastdoor gateway.

use blastdoor_core::{Environment, Risk, Target};

use super::{Finding, Rule};
use crate::analysis::Walker;
use crate::code::INFRA_HOSTS;
use crate::command::Invocation;
use crate::http_request::{self, Body};

pub(crate) static RULE: Rule = Rule {
    id: "http.infra-api-destructive",
    summary: "a raw HTTP request deletes, destroys or purges resources through an infrastructure API",
    alternative: "use the provider's CLI or dashboard with a human, or route the call through the blastdoor gateway",
};

const DESTRUCTIVE_WORDS: &[&str] = &[
    "delete",
    "destroy",
    "purge",
    "terminate",
    "remove",
    "wipe",
    "drop",
];

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let Some(request) = http_request::read(invocation, walker) else {
        return;
    };
    if request.method == "DELETE"
        && !request.urls.is_empty()
        && request.urls.iter().all(|url| url.starts_with('$'))
    {
        let target = Target::new(
            "api-resource",
            request
                .urls
                .iter()
                .map(|url| crate::http_request::without_query(url))
                .collect::<Vec<_>>()
                .join(" "),
            vec![Environment::Unknown],
        );
        walker.report(Finding::hold(
            &RULE,
            Risk::Destroy,
            format!(
                "`{}` sends DELETE to a URL only known at run time",
                request.program
            ),
            vec![target],
        ));
        return;
    }
    let Some((url, host)) = request.urls.iter().find_map(|url| {
        let lower = url.to_ascii_lowercase();
        INFRA_HOSTS
            .iter()
            .find(|host| lower.contains(*host))
            .map(|host| (url.clone(), *host))
    }) else {
        return;
    };
    let lower_url = url.to_ascii_lowercase();
    // Query strings carry tokens (`?access_token=...`): never quote them.
    let url = crate::http_request::without_query(&url);
    let destructive_text = |text: &str| {
        let lower = text.to_ascii_lowercase();
        DESTRUCTIVE_WORDS.iter().any(|word| lower.contains(word))
    };
    let explanation = if request.method == "DELETE" {
        format!("`{}` sends DELETE {url}", request.program)
    } else if request.method != "GET" && request.method != "HEAD" && destructive_text(&lower_url) {
        format!(
            "`{}` sends {} {url}, a destructive endpoint",
            request.program, request.method
        )
    } else if request
        .bodies
        .iter()
        .any(|body| matches!(body, Body::Known(text) if destructive_text(text)))
    {
        format!(
            "`{}` sends a destructive request body to {host}",
            request.program
        )
    } else {
        return;
    };
    let target = Target::new("api-resource", &url, vec![Environment::Unknown]).on_upstream(host);
    walker.report(Finding::hold(
        &RULE,
        Risk::Destroy,
        explanation,
        vec![target],
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "curl -X DELETE https://api.cloudflare.com/client/v4/zones/abc -H \"Authorization: Bearer $CF\"",
            "hold http.infra-api-destructive",
        );
        check(
            "curl -XDELETE https://api.github.com/repos/org/app",
            "hold http.infra-api-destructive",
        );
        check(
            "http DELETE https://api.digitalocean.com/v2/droplets/1",
            "hold http.infra-api-destructive",
        );
        check(
            "wget --method=DELETE https://api.heroku.com/apps/x",
            "hold http.infra-api-destructive",
        );
        check(
            "curl -X POST https://api.github.com/graphql -d '{\"query\":\"mutation { deleteRepository(input:{}) { clientMutationId } }\"}'",
            "hold http.infra-api-destructive",
        );
        check("curl https://api.github.com/repos/org/app", "allow");
        check("curl -X DELETE http://localhost:3000/api/todos/1", "allow");
        check(
            "curl -s https://api.github.com/repos/org/app/pulls",
            "allow",
        );
    }
}
