//! HTML building blocks: [`escape`], which every piece of dynamic text goes through, the page
//! layout, and small components (environment chips, countdowns, state badges). Pages are plain
//! strings; there is no template engine and no inline script or style.

use std::fmt::Write as _;

use blastdoor_core::{Environment, Risk};

use crate::time;

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '`' => out.push_str("&#96;"),
            other => out.push(other),
        }
    }
    out
}

/// Who is looking at the page: shown in the header with the logout form.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub approver: &'a str,
    pub csrf_token: &'a str,
}

/// Which item of the navigation is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Queue,
    Decisions,
    None,
}

/// A whole page. `title` is text (escaped here); `body` is HTML built by the caller with
/// [`escape`].
pub fn page(title: &str, viewer: Option<Viewer<'_>>, section: Section, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 1024);
    out.push_str(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">",
    );
    let _ = write!(out, "<title>{} · blastdoor</title>", escape(title));
    out.push_str(
        "<link rel=\"stylesheet\" href=\"/ui/static/app.css\">\
         <script src=\"/ui/static/app.js\" defer></script></head><body>\
         <header class=\"top\"><a class=\"brand\" href=\"/ui\">\
         <span class=\"brand-mark\" aria-hidden=\"true\"></span>blastdoor</a>",
    );
    if let Some(viewer) = viewer {
        let current = |wanted: Section| {
            if section == wanted {
                " aria-current=\"page\""
            } else {
                ""
            }
        };
        let _ = write!(
            out,
            "<nav><a href=\"/ui\"{}>Queue</a><a href=\"/ui/decisions\"{}>Recent decisions</a></nav>\
             <div class=\"who\"><span>Signed in as <strong class=\"approver-name\">{}</strong></span>\
             <form method=\"post\" action=\"/ui/logout\">{}\
             <button type=\"submit\" class=\"button-quiet\">Log out</button></form></div>",
            current(Section::Queue),
            current(Section::Decisions),
            escape(viewer.approver),
            csrf_field(viewer.csrf_token),
        );
    }
    out.push_str("</header><main>");
    out.push_str(body);
    out.push_str("</main></body></html>\n");
    out
}

/// The hidden field every form carries.
pub fn csrf_field(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(token)
    )
}

/// An error page with a way back.
pub fn error_page(title: &str, message: &str) -> String {
    let body = format!(
        "<section class=\"panel narrow\"><h1>{}</h1><p class=\"notice notice-error\">{}</p>\
         <p><a href=\"/ui\">Back to the queue</a></p></section>",
        escape(title),
        escape(message)
    );
    page(title, None, Section::None, &body)
}

/// An environment as a chip: production (and anything unresolved, which might be production)
/// in the danger colour and capitals.
pub fn environment_chip(environment: &Environment) -> String {
    if environment.is_production() {
        "<span class=\"env env-prod\">PRODUCTION</span>".to_owned()
    } else if environment.is_unknown() {
        "<span class=\"env env-prod\" title=\"not resolved: treated as production\">\
         UNKNOWN</span>"
            .to_owned()
    } else {
        format!(
            "<span class=\"env\">{}</span>",
            escape(environment.as_str())
        )
    }
}

/// Every distinct environment, production first.
pub fn environment_chips(environments: &[Environment]) -> String {
    if environments.is_empty() {
        return environment_chip(&Environment::Unknown);
    }
    let mut sorted: Vec<&Environment> = Vec::new();
    for environment in environments {
        if !sorted.contains(&environment) {
            sorted.push(environment);
        }
    }
    sorted.sort_by_key(|environment| (!environment.may_be_production(), environment.as_str()));
    sorted
        .into_iter()
        .map(environment_chip)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The risk as a label; destroy is the danger colour.
pub fn risk_label(risk: Risk) -> String {
    let class = match risk {
        Risk::Destroy | Risk::Unknown => "risk risk-danger",
        Risk::Read | Risk::ReadSecrets | Risk::Write | Risk::Execute | Risk::Escalate => "risk",
    };
    format!(
        "<span class=\"{class}\">{}</span>",
        escape(&risk.as_str().to_ascii_uppercase())
    )
}

/// A live countdown to `deadline`: the server writes the span as of `now` (the no-script
/// reading) and `app.js` keeps it current.
pub fn countdown(deadline: i64, now: i64) -> String {
    format!(
        "<time class=\"countdown\" datetime=\"{}\" data-deadline=\"{deadline}\" title=\"{}\">{}</time>",
        time::rfc3339(deadline),
        escape(&time::utc(deadline)),
        escape(&time::span(deadline.saturating_sub(now))),
    )
}

/// A state as a badge.
pub fn state_badge(state: &str) -> String {
    let class = match state {
        "pending" => "badge badge-pending",
        "approved" | "executed" => "badge badge-ok",
        "denied" | "expired" | "cancelled" => "badge badge-stopped",
        "cooling off" => "badge badge-pending",
        _ => "badge",
    };
    format!(
        "<span class=\"{class}\">{}</span>",
        escape(&state.to_ascii_uppercase())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_makes_markup_inert() {
        assert_eq!(
            escape("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        );
        assert_eq!(escape("a\" onmouseover=\"x"), "a&quot; onmouseover=&quot;x");
        assert_eq!(escape("AT&T"), "AT&amp;T");
        assert_eq!(escape("plain text"), "plain text");
    }

    #[test]
    fn production_comes_first_and_stands_out() {
        let chips = environment_chips(&[
            Environment::parse("staging").unwrap(),
            Environment::production(),
            Environment::production(),
        ]);
        assert_eq!(
            chips,
            "<span class=\"env env-prod\">PRODUCTION</span> <span class=\"env\">staging</span>"
        );
    }
}
