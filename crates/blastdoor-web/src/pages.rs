//! The HTML handlers: login and logout, the queue, a hold's detail, approve and deny, recent
//! decisions, and the two static files. Every POST checks the session (or, for login, the login
//! form's cookie), the CSRF token and the origin before touching the store.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use blastdoor_approval::{ApprovalError, ApprovalProgress};
use blastdoor_core::HoldId;
use serde::Deserialize;

use crate::html::{self, Section, Viewer, escape};
use crate::session::{self, LOGIN_COOKIE, LOGIN_FORM_TTL_SECS, SESSION_COOKIE, Session};
use crate::{WebError, WebState, time, view};

const STYLESHEET: &str = include_str!("../static/app.css");
const SCRIPT: &str = include_str!("../static/app.js");
/// How many ledger entries the decisions page shows.
pub const RECENT_DECISIONS: u64 = 50;
const MAX_REASON_CHARS: usize = 2000;

/// Runs blocking store or ledger work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| WebError::Internal(format!("blocking task failed: {error}")))?
}

fn html_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn viewer(session: &Session) -> Viewer<'_> {
    Viewer {
        approver: session.approver.name(),
        csrf_token: &session.csrf_token,
    }
}

/// A path id, parsed: anything that is not a valid hold id is no hold.
fn hold_id(raw: &str) -> Result<HoldId, WebError> {
    HoldId::new(raw).map_err(|_| WebError::UnknownHold(raw.chars().take(80).collect()))
}

/// `?agent=NAME`: only that agent's holds.
#[derive(Debug, Deserialize)]
pub struct AgentFilter {
    agent: Option<String>,
}

impl AgentFilter {
    /// The agent asked for (an empty value is none).
    pub(crate) fn agent(&self) -> Option<&str> {
        self.agent.as_deref().filter(|agent| !agent.is_empty())
    }

    /// Keeps the holds of the agent asked for, if any.
    pub(crate) fn apply(&self, holds: &mut Vec<blastdoor_approval::Hold>) {
        if let Some(wanted) = self.agent() {
            holds.retain(|hold| hold.agent.as_ref().map(|agent| agent.as_str()) == Some(wanted));
        }
    }
}

pub async fn queue(
    State(state): State<WebState>,
    Query(filter): Query<AgentFilter>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let now = state.now();
    let (_, session) = session::current(&state.sessions, &headers, now)?;
    let store = state.store.clone();
    let (mut holds, counts, freeze) = blocking(move || {
        let holds = store.holds(false)?;
        let counts = store.pending_counts(now)?;
        let freeze = store.freeze_status()?;
        Ok((holds, counts, freeze))
    })
    .await?;
    filter.apply(&mut holds);
    let body = view::queue(&holds, &counts, filter.agent(), freeze.as_ref(), now);
    Ok(html_response(
        StatusCode::OK,
        html::page("Queue", Some(viewer(&session)), Section::Queue, &body),
    ))
}

#[derive(Debug, Deserialize)]
pub struct DetailQuery {
    done: Option<String>,
}

pub async fn hold_detail(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Query(query): Query<DetailQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let now = state.now();
    let (_, session) = session::current(&state.sessions, &headers, now)?;
    let id = hold_id(&id)?;
    let store = state.store.clone();
    let hold = blocking(move || Ok(store.hold(id.as_str())?)).await?;
    let body = view::hold_detail(
        &hold,
        viewer(&session),
        view::flash(query.done.as_deref()),
        now,
    );
    Ok(html_response(
        StatusCode::OK,
        html::page(&hold.summary, Some(viewer(&session)), Section::None, &body),
    ))
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

#[derive(Debug, Deserialize)]
pub struct DenyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// The session of a form post, after the origin and CSRF checks.
fn checked_post(
    state: &WebState,
    headers: &HeaderMap,
    csrf: &str,
    now: i64,
) -> Result<(String, Session), WebError> {
    let (id, session) = session::current(&state.sessions, headers, now)?;
    session::check_same_origin(headers, &state.config.public_origin)?;
    session::check_csrf(&session.csrf_token, csrf)?;
    Ok((id, session))
}

pub async fn approve(
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let now = state.now();
    let (_, session) = checked_post(&state, &headers, &form.csrf, now)?;
    let id = hold_id(&id)?;
    let store = state.store.clone();
    let approver = session.approver.clone();
    let hold = id.clone();
    let progress = blocking(move || Ok(store.approve_as(hold.as_str(), &approver, now)?.1)).await?;
    tracing::info!(hold = %id, approver = session.approver.name(), "approval given in the web ui");
    let done = match progress {
        ApprovalProgress::Approved => "approved",
        ApprovalProgress::StillPending { .. } => "approval-recorded",
    };
    Ok(Redirect::to(&format!("/ui/holds/{id}?done={done}")).into_response())
}

pub async fn deny(
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<DenyForm>,
) -> Result<Response, WebError> {
    let now = state.now();
    let (_, session) = checked_post(&state, &headers, &form.csrf, now)?;
    let id = hold_id(&id)?;
    let reason = form.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(WebError::Approval(ApprovalError::MissingReason));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(WebError::BadForm(
            "the reason is longer than 2000 characters",
        ));
    }
    let store = state.store.clone();
    let approver = session.approver.clone();
    let hold = id.clone();
    blocking(move || Ok(store.deny_as(hold.as_str(), &approver, &reason, now)?)).await?;
    tracing::info!(hold = %id, approver = session.approver.name(), "hold denied in the web ui");
    Ok(Redirect::to(&format!("/ui/holds/{id}?done=denied")).into_response())
}

pub async fn decisions(
    State(state): State<WebState>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let now = state.now();
    let (_, session) = session::current(&state.sessions, &headers, now)?;
    let ledger = state.ledger.clone();
    let entries = blocking(move || {
        let (size, _) = ledger
            .tree_head()
            .map_err(|error| WebError::Ledger(error.to_string()))?;
        // Sequence numbers start at 0 or 1 depending on the ledger; ask for one more than
        // needed and keep the last ones.
        let mut entries = ledger
            .entries(size.saturating_sub(RECENT_DECISIONS), None)
            .map_err(|error| WebError::Ledger(error.to_string()))?;
        let surplus = entries.len().saturating_sub(RECENT_DECISIONS as usize);
        entries.drain(..surplus);
        Ok(entries)
    })
    .await?;
    let body = view::decisions(&entries);
    Ok(html_response(
        StatusCode::OK,
        html::page(
            "Recent decisions",
            Some(viewer(&session)),
            Section::Decisions,
            &body,
        ),
    ))
}

/// The login page, with a fresh login-form token in a cookie and the form.
fn login_page(state: &WebState, status: StatusCode, message: &str) -> Result<Response, WebError> {
    let token = session::random_token()?;
    let notice = if message.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"notice notice-error\" role=\"alert\" id=\"login-error\">{}</p>",
            escape(message)
        )
    };
    let body = format!(
        "<section class=\"panel narrow login\"><h1>Approver login</h1>\
         <p class=\"muted\">Your name and the current 6-digit code from your authenticator. \
         Each code works once.</p>{notice}\
         <form method=\"post\" action=\"/ui/login\">{}\
         <label for=\"name\">Name</label>\
         <input id=\"name\" name=\"name\" autocomplete=\"username\" required maxlength=\"64\" \
         autofocus>\
         <label for=\"code\">Code</label>\
         <input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" \
         pattern=\"[0-9 ]{{6,8}}\" required maxlength=\"8\" class=\"code-input\">\
         <button type=\"submit\" class=\"button button-primary\" id=\"login\">Log in</button>\
         </form></section>",
        html::csrf_field(&token)
    );
    let cookie = session::set_cookie(LOGIN_COOKIE, &token, LOGIN_FORM_TTL_SECS, &state.config);
    Ok((
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::SET_COOKIE, cookie),
        ],
        html::page("Log in", None, Section::None, &body),
    )
        .into_response())
}

pub async fn login_form(
    State(state): State<WebState>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if session::current(&state.sessions, &headers, state.now()).is_ok() {
        return Ok(Redirect::to("/ui").into_response());
    }
    login_page(&state, StatusCode::OK, "")
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

pub async fn login(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let now = state.now();
    session::check_same_origin(&headers, &state.config.public_origin)?;
    let expected = session::cookie_value(&headers, LOGIN_COOKIE).unwrap_or_default();
    session::check_csrf(&expected, &form.csrf)?;
    let name = form.name.trim().to_owned();
    let code: String = form.code.chars().filter(|c| !c.is_whitespace()).collect();
    if name.is_empty() || code.is_empty() {
        return login_page(&state, StatusCode::BAD_REQUEST, "Enter your name and code.");
    }
    let store = state.store.clone();
    let who = name.clone();
    let verified = blocking(move || Ok(store.verify_approver(&who, &code, now))).await?;
    match verified {
        Ok(approver) => {
            let id = state
                .sessions
                .create(approver, now, state.config.session_ttl_secs)?;
            tracing::info!(approver = %name, "approver logged in to the web ui");
            let cookie = session::set_cookie(
                SESSION_COOKIE,
                &id,
                state.config.session_ttl_secs,
                &state.config,
            );
            let clear = session::clear_cookie(LOGIN_COOKIE, &state.config);
            let mut response = Redirect::to("/ui").into_response();
            for value in [cookie, clear] {
                if let Ok(value) = value.parse() {
                    response.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            Ok(response)
        }
        Err(ApprovalError::InvalidCode | ApprovalError::UnknownApprover(_)) => {
            tracing::info!(approver = %name, "web ui login refused: wrong or reused code");
            login_page(
                &state,
                StatusCode::UNAUTHORIZED,
                "That name and code were not accepted. A code works only once: wait for the \
                 next one and try again.",
            )
        }
        Err(ApprovalError::LockedOut { until, .. }) => {
            tracing::warn!(approver = %name, until, "web ui login refused: locked out");
            login_page(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "Too many wrong codes for this name. Logins are locked until {} \
                     (in {}).",
                    time::utc_time_of_day(until),
                    time::span(until.saturating_sub(now))
                ),
            )
        }
        Err(other) => Err(WebError::Approval(other)),
    }
}

pub async fn logout(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let now = state.now();
    let (id, _) = checked_post(&state, &headers, &form.csrf, now)?;
    state.sessions.remove(&id)?;
    let mut response = Redirect::to("/ui/login").into_response();
    if let Ok(value) = session::clear_cookie(SESSION_COOKIE, &state.config).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        STYLESHEET,
    )
        .into_response()
}

pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
        .into_response()
}

pub async fn not_found() -> WebError {
    WebError::NotFound
}
