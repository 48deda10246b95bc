//! The approval web UI (layer 5), mounted by `blastdoor serve` at `/ui`: approvers log in with
//! their name and a current TOTP code, see the queue of held operations, read exactly what each
//! would do, approve or deny it, and read the recent decisions in the ledger.
//!
//! - [`router`] builds the axum router: every route lives under `/ui` (JSON under `/ui/api`).
//! - [`WebState`] holds the [`HoldStore`], the [`Ledger`], the [`WebConfig`] and the clock.
//! - Sessions ([`session`]) are random 256-bit ids kept in memory (only their SHA-256), sent
//!   in an `HttpOnly; SameSite=Strict; Path=/ui` cookie; every POST carries the session's CSRF
//!   token and must come from the UI's own origin.
//! - Pages are server-rendered HTML ([`html`] escapes every piece of dynamic text); the only
//!   script is `/ui/static/app.js`, a countdown that the server-rendered time stands in for.
//! - [`error`] is the one place that turns errors into responses.
//!
//! This crate must not: keep a TOTP code or seed after the login call returns, put a session id
//! in a log or a page, accept a POST without a matching CSRF token and a same-origin signal,
//! serve inline script, or decide anything about a hold itself (the store's state machine does).

mod api;
pub mod error;
pub mod html;
mod pages;
pub mod session;
mod time;
mod view;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};
use blastdoor_approval::HoldStore;
use blastdoor_audit::Ledger;

pub use error::WebError;
pub use session::{DEFAULT_SESSION_TTL_SECS, SessionStore};

/// The clock the UI reads: unix seconds. Tests pass a controllable one.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Whether the session cookie is marked `Secure`. No default: the caller chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieSecurity {
    /// `Secure`: the browser only sends the cookie over HTTPS. Use whenever the UI is behind TLS.
    SecureOnly,
    /// No `Secure` flag: the cookie also travels over plain HTTP (loopback, tests). The name says
    /// why this is a choice to make knowingly.
    DangerousPlainHttp,
}

/// The UI's configuration.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The origin browsers reach the UI at, `scheme://host[:port]` (no path), for example
    /// `https://blastdoor.internal:8443`. POSTs whose `Origin`/`Referer` name another origin are
    /// refused.
    pub public_origin: String,
    pub cookie_security: CookieSecurity,
    /// How long a login lasts, in seconds (see [`DEFAULT_SESSION_TTL_SECS`]).
    pub session_ttl_secs: i64,
}

impl WebConfig {
    /// `public_origin` without a trailing slash, lower-cased scheme and host.
    pub fn new(public_origin: &str, cookie_security: CookieSecurity) -> WebConfig {
        WebConfig {
            public_origin: public_origin.trim_end_matches('/').to_ascii_lowercase(),
            cookie_security,
            session_ttl_secs: DEFAULT_SESSION_TTL_SECS,
        }
    }
}

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct WebState {
    pub(crate) store: Arc<HoldStore>,
    pub(crate) ledger: Arc<Ledger>,
    pub(crate) config: Arc<WebConfig>,
    pub(crate) clock: Clock,
    pub(crate) sessions: Arc<SessionStore>,
}

impl std::fmt::Debug for WebState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebState")
            .field("store", &self.store)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl WebState {
    /// The UI over `store` and `ledger` (the ledger the store appends to), reading `clock`.
    pub fn new(
        store: Arc<HoldStore>,
        ledger: Arc<Ledger>,
        config: WebConfig,
        clock: Clock,
    ) -> WebState {
        WebState {
            store,
            ledger,
            config: Arc::new(config),
            clock,
            sessions: Arc::new(SessionStore::new()),
        }
    }

    /// Like [`WebState::new`], opening the ledger at `ledger_path` (read-only use: the UI
    /// only lists entries; the store appends through its own handle).
    pub fn with_ledger_path(
        store: Arc<HoldStore>,
        ledger_path: PathBuf,
        config: WebConfig,
        clock: Clock,
    ) -> Result<WebState, WebError> {
        let ledger = Ledger::open_or_create(&ledger_path)
            .map_err(|error| WebError::Ledger(error.to_string()))?;
        Ok(WebState::new(store, Arc::new(ledger), config, clock))
    }

    /// The system clock, for `blastdoor serve`.
    pub fn system_clock() -> Clock {
        Arc::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| {
                    i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
                })
        })
    }

    pub(crate) fn now(&self) -> i64 {
        (self.clock)()
    }
}

/// The UI's routes, all under `/ui`. Mount with `Router::merge` (the paths are absolute).
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/ui", get(pages::queue))
        .route("/ui/", get(pages::queue))
        .route("/ui/login", get(pages::login_form).post(pages::login))
        .route("/ui/logout", post(pages::logout))
        .route("/ui/holds/{id}", get(pages::hold_detail))
        .route("/ui/holds/{id}/approve", post(pages::approve))
        .route("/ui/holds/{id}/deny", post(pages::deny))
        .route("/ui/decisions", get(pages::decisions))
        .route("/ui/api/holds", get(api::holds))
        .route("/ui/api/holds/{id}", get(api::hold))
        .route("/ui/static/app.css", get(pages::stylesheet))
        .route("/ui/static/app.js", get(pages::script))
        .fallback(pages::not_found)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// The same headers on every answer: no framing, no inline script, no referrer, and no caching
/// of anything but the static files (which set their own `Cache-Control`).
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let fixed: [(HeaderName, &'static str); 5] = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
             object-src 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
