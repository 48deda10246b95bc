//! The bodies of the pages: the queue, a hold's detail and the recent decisions, rendered from
//! the store's and the ledger's data as of `now`. Pure functions; every dynamic string goes
//! through [`escape`].

use std::fmt::Write as _;

use blastdoor_approval::{
    CanonicalBody, FreezeStatus, Hold, HoldState, PendingCount, body_is_text, redacted_body_text,
};
use blastdoor_audit::Entry;
use blastdoor_core::{Decision, Environment, Reason};

use crate::html::{
    Viewer, countdown, csrf_field, environment_chips, escape, risk_label, state_badge,
};
use crate::time;

/// The state a person should see now: an overdue hold reads as expired, an approved one still
/// in its cooling-off window as "cooling off".
pub fn state_now(hold: &Hold, now: i64) -> &'static str {
    if hold.is_due_to_expire(now) {
        return "expired";
    }
    match hold.state {
        HoldState::Approved if hold.not_before.is_some_and(|opens| opens > now) => "cooling off",
        state => state.as_str(),
    }
}

/// Every environment any target of `hold` touches.
pub fn environments(hold: &Hold) -> Vec<Environment> {
    let mut all = Vec::new();
    for target in &hold.targets {
        if target.environments.is_empty() {
            all.push(Environment::Unknown);
        }
        all.extend(target.environments.iter().cloned());
    }
    all
}

fn touches_production(hold: &Hold) -> bool {
    hold.targets.is_empty()
        || hold
            .targets
            .iter()
            .any(|target| target.may_touch_production())
}

/// The fixed banners a redirect may ask for (`?done=`); unknown values show nothing.
pub fn flash(done: Option<&str>) -> &'static str {
    match done {
        Some("approved") => "Your approval was recorded. The hold is now approved.",
        Some("approval-recorded") => {
            "Your approval was recorded. More approvals are needed before it can run."
        }
        Some("denied") => "You denied this hold. It can never run.",
        _ => "",
    }
}

pub fn freeze_banner(freeze: Option<&FreezeStatus>) -> String {
    match freeze {
        Some(freeze) => format!(
            "<p class=\"notice notice-danger\"><strong>FROZEN.</strong> Every operation but \
             reads is held until an approver thaws: {} (by {}, {}).</p>",
            escape(&freeze.reason),
            escape(&freeze.frozen_by),
            escape(&time::utc(freeze.frozen_at)),
        ),
        None => String::new(),
    }
}

/// The queue: pending and approved holds, newest first (only `agent`'s when given), under
/// the counts of holds waiting per agent (`counts`, for every agent).
pub fn queue(
    holds: &[Hold],
    counts: &[PendingCount],
    agent: Option<&str>,
    freeze: Option<&FreezeStatus>,
    now: i64,
) -> String {
    let mut out = freeze_banner(freeze);
    let waiting: u64 = counts.iter().map(|count| count.pending).sum();
    let _ = write!(
        out,
        "<div class=\"page-head\"><h1>Queue</h1><p class=\"muted\">{}</p></div>",
        match waiting {
            0 => "Nothing is waiting for a decision.".to_owned(),
            1 => "1 operation is waiting for a decision.".to_owned(),
            many => format!("{many} operations are waiting for a decision."),
        }
    );
    out.push_str(&agent_counts(counts, agent));
    if let Some(agent) = agent {
        let _ = write!(
            out,
            "<p class=\"notice filter\">Showing the holds of <strong>{}</strong> only. \
             <a href=\"/ui\">Show every agent's</a></p>",
            escape(agent)
        );
    }
    if holds.is_empty() {
        match agent {
            Some(_) => out.push_str(
                "<section class=\"panel empty\"><p>No held operations from this agent.</p>\
                 </section>",
            ),
            None => out.push_str(
                "<section class=\"panel empty\"><p>No held operations. When an agent asks for \
                 something that needs a human, it appears here.</p></section>",
            ),
        }
        return out;
    }
    out.push_str("<ol class=\"holds\">");
    for hold in holds {
        out.push_str(&queue_item(hold, now));
    }
    out.push_str("</ol>");
    out
}

/// How many holds wait per agent, most first, each a link to that agent's holds; nothing when
/// no hold waits.
fn agent_counts(counts: &[PendingCount], current: Option<&str>) -> String {
    if counts.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<section class=\"panel agent-counts\"><h2>Waiting per agent</h2><ul class=\"counts\">",
    );
    for count in counts {
        let name = match &count.agent {
            Some(agent) => {
                let attribute = if current == Some(agent.as_str()) {
                    " aria-current=\"true\""
                } else {
                    ""
                };
                format!(
                    "<a href=\"/ui?agent={}\"{attribute}>{}</a>",
                    escape(agent.as_str()),
                    escape(agent.as_str())
                )
            }
            None => "<span class=\"muted\">unknown agent</span>".to_owned(),
        };
        let _ = write!(
            out,
            "<li><span class=\"count\">{}</span> {name}</li>",
            count.pending
        );
    }
    out.push_str("</ul></section>");
    out
}

fn queue_item(hold: &Hold, now: i64) -> String {
    let state = state_now(hold, now);
    let danger = touches_production(hold) || matches!(hold.risk, blastdoor_core::Risk::Destroy);
    let mut out = String::new();
    let _ = write!(
        out,
        "<li class=\"hold{}\" id=\"{}\"><div class=\"hold-head\">{} {}\
         <a class=\"hold-summary\" href=\"/ui/holds/{}\">{}</a></div><dl class=\"facts\">",
        if danger { " hold-danger" } else { "" },
        escape(hold.id.as_str()),
        state_badge(state),
        risk_label(hold.risk),
        escape(hold.id.as_str()),
        escape(&hold.summary),
    );
    let _ = write!(
        out,
        "<div><dt>Environments</dt><dd>{}</dd></div>\
         <div><dt>Agent</dt><dd>{}</dd></div>\
         <div><dt>Approvals</dt><dd class=\"approvals\">{}</dd></div>\
         <div><dt>{}</dt><dd>{}</dd></div>",
        environment_chips(&environments(hold)),
        agent(hold),
        approvals_line(hold),
        deadline_label(hold, now).0,
        deadline_label(hold, now).1,
    );
    out.push_str("</dl></li>");
    out
}

fn agent(hold: &Hold) -> String {
    match &hold.agent {
        Some(agent) => escape(agent.as_str()),
        None => "<span class=\"muted\">unknown agent</span>".to_owned(),
    }
}

fn approvals_line(hold: &Hold) -> String {
    let mut out = format!(
        "<strong>{} of {}</strong>",
        hold.approvals.len(),
        hold.approvals_required
    );
    if !hold.approvals.is_empty() {
        let names: Vec<String> = hold
            .approvals
            .iter()
            .map(|approval| escape(&approval.approver))
            .collect();
        let _ = write!(out, " <span class=\"muted\">({})</span>", names.join(", "));
    }
    out
}

/// What the clock means for this hold: its expiry, or when a cooling-off window opens.
fn deadline_label(hold: &Hold, now: i64) -> (&'static str, String) {
    match state_now(hold, now) {
        "pending" => (
            "Expires in",
            format!(
                "{} <span class=\"muted\">at {}</span>",
                countdown(hold.expires_at, now),
                escape(&time::utc_time_of_day(hold.expires_at))
            ),
        ),
        "cooling off" => {
            let opens = hold.not_before.unwrap_or(now);
            (
                "Cooling off",
                format!(
                    "can run in {} <span class=\"muted\">at {}; cancel with \
                     <code>blastdoor cancel</code></span>",
                    countdown(opens, now),
                    escape(&time::utc_time_of_day(opens))
                ),
            )
        }
        "approved" => (
            "Approved",
            format!(
                "may run once until {}",
                escape(&time::utc_time_of_day(hold.expires_at))
            ),
        ),
        _ => ("Held since", escape(&time::utc(hold.created_at))),
    }
}

/// A hold's full detail, with the decision forms when `viewer` may still decide.
pub fn hold_detail(hold: &Hold, viewer: Viewer<'_>, flash_text: &str, now: i64) -> String {
    let state = state_now(hold, now);
    let mut out = String::new();
    out.push_str("<p class=\"crumbs\"><a href=\"/ui\">← Queue</a></p>");
    if !flash_text.is_empty() {
        let _ = write!(
            out,
            "<p class=\"notice notice-ok\" role=\"status\">{}</p>",
            escape(flash_text)
        );
    }
    let _ = write!(
        out,
        "<section class=\"panel{}\"><div class=\"hold-head\">{} {}</div>\
         <h1 class=\"detail-summary\">{}</h1><dl class=\"facts\">\
         <div><dt>Environments</dt><dd>{}</dd></div>\
         <div><dt>Agent</dt><dd>{}</dd></div>\
         <div><dt>Approvals</dt><dd class=\"approvals\">{}</dd></div>\
         <div><dt>{}</dt><dd>{}</dd></div>\
         <div class=\"wide\"><dt>Declared task</dt><dd>{}</dd></div></dl></section>",
        if touches_production(hold) {
            " panel-danger"
        } else {
            ""
        },
        state_badge(state),
        risk_label(hold.risk),
        escape(&hold.summary),
        environment_chips(&environments(hold)),
        agent(hold),
        approvals_line(hold),
        deadline_label(hold, now).0,
        deadline_label(hold, now).1,
        match &hold.task {
            Some(task) => escape(task),
            None => "<span class=\"muted\">none declared</span>".to_owned(),
        },
    );
    out.push_str(&outcome(hold));
    out.push_str(&operation(hold));
    out.push_str(&reasons(&hold.reasons));
    out.push_str(&snapshot_plan(hold));
    out.push_str(&approvals(hold));
    out.push_str(&decide(hold, viewer, state));
    out
}

fn outcome(hold: &Hold) -> String {
    let mut out = String::new();
    if let Some(denial) = &hold.denial {
        let _ = write!(
            out,
            "<p class=\"notice notice-danger\">Denied by <strong>{}</strong> at {}: {}</p>",
            escape(&denial.approver),
            escape(&time::utc(denial.at)),
            escape(&denial.reason)
        );
    }
    if let Some(outcome) = &hold.outcome {
        // The summary says what happened in words (the gateway writes "the upstream answered
        // 200"); the bare status is the fallback when there is none.
        let what_happened = if outcome.summary.trim().is_empty() {
            format!("the upstream answered {}", outcome.status)
        } else {
            outcome.summary.clone()
        };
        let _ = write!(
            out,
            "<p class=\"notice\">Executed at {}: {}</p>",
            escape(&time::utc(outcome.at)),
            escape(&what_happened)
        );
    }
    if let Some(cancelled) = hold.cancelled_at {
        let _ = write!(
            out,
            "<p class=\"notice\">Cancelled at {}.</p>",
            escape(&time::utc(cancelled))
        );
    }
    out
}

fn operation(hold: &Hold) -> String {
    let request = &hold.request;
    let mut out = String::from("<section class=\"panel\"><h2>The exact operation</h2>");
    let _ = write!(
        out,
        "<dl class=\"facts facts-wide\">\
         <div><dt>Method</dt><dd><code class=\"method\">{}</code></dd></div>\
         <div><dt>Upstream</dt><dd><code>{}</code></dd></div>\
         <div><dt>Path</dt><dd><code>{}</code></dd></div>\
         <div class=\"wide\"><dt>Classified as</dt><dd><code>{}</code></dd></div></dl>",
        escape(&request.method),
        escape(&request.upstream),
        escape(&request.path),
        escape(&hold.description),
    );
    // The store keeps the body exactly as sent (the approval digest covers it); only the
    // redacted view is ever rendered.
    let body = redacted_body_text(&request.body);
    match &request.body {
        CanonicalBody::Empty => out.push_str("<p class=\"muted\">No request body.</p>"),
        CanonicalBody::Json { .. } => {
            let value: Option<serde_json::Value> = serde_json::from_str(&body).ok();
            if let Some(query) = value
                .as_ref()
                .and_then(|value| value.get("query"))
                .and_then(serde_json::Value::as_str)
            {
                let _ = write!(
                    out,
                    "<h3>GraphQL document</h3><pre class=\"code\">{}</pre>",
                    escape(query)
                );
            }
            let _ = write!(
                out,
                "<h3>Body (JSON; values that look like credentials are redacted)</h3><pre class=\"code\">{}</pre>",
                escape(&body)
            );
        }
        CanonicalBody::Bytes { .. } => {
            let label = match (request.method == "SHELL", body_is_text(&request.body)) {
                (true, _) => "Command line (credentials it is known to carry are redacted)",
                (false, true) => "Body (text; credentials it is known to carry are redacted)",
                (false, false) => "Body (binary)",
            };
            let _ = write!(
                out,
                "<h3>{label}</h3><pre class=\"code\">{}</pre>",
                escape(&body)
            );
        }
    }
    if !hold.targets.is_empty() {
        out.push_str(
            "<h3>Resources</h3><table class=\"table\"><thead><tr><th>Kind</th><th>Id</th>\
             <th>Upstream</th><th>Environments</th></tr></thead><tbody>",
        );
        for target in &hold.targets {
            let environments = if target.environments.is_empty() {
                vec![Environment::Unknown]
            } else {
                target.environments.clone()
            };
            let _ = write!(
                out,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                escape(&target.kind),
                escape(&target.id),
                escape(target.upstream.as_deref().unwrap_or("—")),
                environment_chips(&environments),
            );
        }
        out.push_str("</tbody></table>");
    }
    let _ = write!(
        out,
        "<p class=\"fine\">Hold <code>{}</code> · digest <code>{}</code> · held at {}. \
         An approval covers exactly this request, once.</p></section>",
        escape(hold.id.as_str()),
        escape(&hold.digest.to_hex()),
        escape(&time::utc(hold.created_at)),
    );
    out
}

fn is_snapshot_reason(reason: &Reason) -> bool {
    reason.rule_id.as_str().starts_with("snapshot.")
}

fn reasons(reasons: &[Reason]) -> String {
    let mut out = String::from("<section class=\"panel\"><h2>Why it was held</h2>");
    let listed: Vec<&Reason> = reasons
        .iter()
        .filter(|reason| !is_snapshot_reason(reason))
        .collect();
    if listed.is_empty() {
        out.push_str("<p class=\"muted\">No reasons were recorded.</p>");
    }
    out.push_str("<ul class=\"reasons\">");
    for reason in listed {
        let _ = write!(
            out,
            "<li><code class=\"rule\">{}</code><p>{}</p>",
            escape(reason.rule_id.as_str()),
            escape(&reason.explanation)
        );
        if let Some(alternative) = &reason.alternative {
            let _ = write!(
                out,
                "<p class=\"alternative\"><strong>Safer alternative:</strong> {}</p>",
                escape(alternative)
            );
        }
        out.push_str("</li>");
    }
    out.push_str("</ul></section>");
    out
}

/// The snapshot plan, carried as `snapshot.*` reasons on the hold.
fn snapshot_plan(hold: &Hold) -> String {
    let plan: Vec<&Reason> = hold
        .reasons
        .iter()
        .filter(|reason| is_snapshot_reason(reason))
        .collect();
    if plan.is_empty() && hold.risk != blastdoor_core::Risk::Destroy {
        return String::new();
    }
    let mut out = String::from("<section class=\"panel\"><h2>Snapshot before it runs</h2>");
    if plan.is_empty() {
        out.push_str("<p class=\"muted\">This hold carries no snapshot plan.</p>");
    }
    for reason in plan {
        let unprotected = reason.rule_id.as_str() == "snapshot.unprotected"
            || reason.explanation.contains("no protection entry");
        if unprotected {
            let _ = write!(
                out,
                "<p class=\"notice notice-danger\"><strong>No snapshot: this resource has no \
                 protection entry.</strong> {}</p>",
                escape(&reason.explanation)
            );
        } else {
            let _ = write!(
                out,
                "<p><code class=\"rule\">{}</code> {}</p>",
                escape(reason.rule_id.as_str()),
                escape(&reason.explanation)
            );
        }
    }
    out.push_str("</section>");
    out
}

fn approvals(hold: &Hold) -> String {
    let mut out = format!(
        "<section class=\"panel\"><h2>Approvals: {} of {}</h2>",
        hold.approvals.len(),
        hold.approvals_required
    );
    if hold.approvals.is_empty() {
        out.push_str("<p class=\"muted\">None yet.</p>");
    } else {
        out.push_str("<ul class=\"approval-list\">");
        for approval in &hold.approvals {
            let _ = write!(
                out,
                "<li><strong>{}</strong> <span class=\"muted\">at {}</span></li>",
                escape(&approval.approver),
                escape(&time::utc(approval.at))
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>");
    out
}

fn decide(hold: &Hold, viewer: Viewer<'_>, state: &str) -> String {
    let mut out = String::from("<section class=\"panel\" id=\"decide\"><h2>Your decision</h2>");
    let id = escape(hold.id.as_str());
    let already = hold
        .approvals
        .iter()
        .any(|approval| approval.approver == viewer.approver);
    let own = hold
        .agent
        .as_ref()
        .is_some_and(|agent| agent.as_str() == viewer.approver);
    let may_deny = matches!(state, "pending" | "approved" | "cooling off");
    if state == "pending" && !already && !own {
        let _ = write!(
            out,
            "<form method=\"post\" action=\"/ui/holds/{id}/approve\" class=\"decide-approve\">{}\
             <p>Approve only if you have read the operation above and want it to run, once, \
             exactly as shown.</p>\
             <button type=\"submit\" class=\"button button-approve\" id=\"approve\">\
             Approve this operation</button></form>",
            csrf_field(viewer.csrf_token)
        );
    } else if already {
        out.push_str("<p class=\"muted\">You have approved this hold.</p>");
    } else if own {
        out.push_str("<p class=\"muted\">You asked for this operation; you cannot approve it.</p>");
    } else {
        let _ = write!(
            out,
            "<p class=\"muted\">This hold is {}; there is nothing to approve.</p>",
            escape(state)
        );
    }
    if may_deny {
        let _ = write!(
            out,
            "<form method=\"post\" action=\"/ui/holds/{id}/deny\" class=\"decide-deny\">{}\
             <label for=\"reason\">Deny, with a reason the agent and the team will read</label>\
             <textarea id=\"reason\" name=\"reason\" required maxlength=\"2000\" rows=\"2\" \
             placeholder=\"For example: staging only; use volumeInstanceBackupCreate first\">\
             </textarea><button type=\"submit\" class=\"button button-deny\" id=\"deny\">\
             Deny</button></form>",
            csrf_field(viewer.csrf_token)
        );
    }
    out.push_str("</section>");
    out
}

/// The last ledger entries, newest first.
pub fn decisions(entries: &[Entry]) -> String {
    let mut out = String::from(
        "<div class=\"page-head\"><h1>Recent decisions</h1>\
         <p class=\"muted\">The last 50 entries of the ledger, newest first.</p></div>",
    );
    if entries.is_empty() {
        out.push_str("<section class=\"panel empty\"><p>The ledger is empty.</p></section>");
        return out;
    }
    out.push_str(
        "<table class=\"table decisions\"><thead><tr><th>#</th><th>Time</th><th>Layer</th>\
         <th>Agent</th><th>Verdict</th><th>Operation</th></tr></thead><tbody>",
    );
    for entry in entries.iter().rev() {
        let record = entry.record.redacted();
        let verdict = match record.verdict.decision {
            Decision::Allow => "<span class=\"verdict verdict-allow\">allow</span>".to_owned(),
            Decision::Hold { approvals } => format!(
                "<span class=\"verdict verdict-hold\">hold ({})</span>",
                approvals.get()
            ),
            Decision::Deny => "<span class=\"verdict verdict-deny\">deny</span>".to_owned(),
        };
        let operation = match &record.hold_id {
            Some(id) => format!(
                "{} <a class=\"fine\" href=\"/ui/holds/{}\">{}</a>",
                escape(record.operation.description()),
                escape(id.as_str()),
                escape(id.as_str())
            ),
            None => escape(record.operation.description()),
        };
        let why = record
            .verdict
            .reasons
            .first()
            .map(|reason| {
                format!(
                    "<br><span class=\"muted\">{}</span>",
                    escape(&reason.explanation)
                )
            })
            .unwrap_or_default();
        let _ = write!(
            out,
            "<tr><td class=\"muted\">{}</td><td class=\"nowrap\">{}</td><td>{}</td><td class=\"nowrap\">{}</td>\
             <td>{}</td><td>{}{}</td></tr>",
            entry.seq,
            escape(&time::utc(record.time_unix_ms.div_euclid(1000))),
            escape(record.layer.as_str()),
            escape(
                record
                    .actor
                    .agent
                    .as_ref()
                    .map_or("—", |agent| agent.as_str())
            ),
            verdict,
            operation,
            why,
        );
    }
    out.push_str("</tbody></table>");
    out
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU8;

    use blastdoor_approval::{CanonicalRequest, NewHold};
    use blastdoor_core::{AgentName, HoldId, Layer, OperationKind, Risk, Target};

    use super::*;

    const T0: i64 = 1_800_000_000;

    /// A production destroy created with a ten-minute cooling-off window, as the gateway does.
    fn cooling_hold() -> Hold {
        let new = NewHold {
            request: CanonicalRequest::new(Layer::Gateway, "POST", "railway", "/graphql/v2", b"{}"),
            kind: OperationKind::Graphql,
            risk: Risk::Destroy,
            targets: vec![Target::new(
                "volume",
                "pg-data",
                vec![Environment::production()],
            )],
            description: "volumeDelete".to_owned(),
            summary: None,
            agent: Some(AgentName::new("claude").unwrap()),
            token_id: None,
            session: None,
            task: None,
            reasons: vec![],
            approvals_required: NonZeroU8::MIN,
            ttl_secs: 3600,
            not_before: None,
            cooling_off_secs: 600,
        };
        Hold::new(HoldId::new("hold_cool").unwrap(), new, T0).unwrap()
    }

    #[test]
    fn the_last_approval_starts_a_visible_cooling_off_countdown() {
        let mut hold = cooling_hold();
        assert_eq!(state_now(&hold, T0 + 5), "pending");
        hold.approve("alice", T0 + 10).unwrap();
        assert_eq!(state_now(&hold, T0 + 20), "cooling off");
        let (label, text) = deadline_label(&hold, T0 + 20);
        assert_eq!(label, "Cooling off");
        assert!(
            text.contains(&format!("data-deadline=\"{}\"", T0 + 610)),
            "{text}"
        );
        let viewer = Viewer {
            approver: "bob",
            csrf_token: "csrf",
        };
        let page = hold_detail(&hold, viewer, "", T0 + 20);
        assert!(page.contains("Cooling off"), "{page}");
        assert!(page.contains("blastdoor cancel"), "{page}");
        // Once the window has passed it reads as plainly approved.
        assert_eq!(state_now(&hold, T0 + 610), "approved");
    }
}
