//! Approver sessions and the checks every form passes: random 256-bit session ids kept in
//! memory (only their SHA-256, so a dump of the map holds no live cookie), the cookie that
//! carries them, per-session CSRF tokens compared in constant time, and the same-origin check.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::HeaderMap;
use axum::http::header;
use blastdoor_approval::VerifiedApprover;
use rand_core::{OsRng, RngCore as _};
use sha2::{Digest as _, Sha256};

use crate::{CookieSecurity, WebConfig, WebError};

/// How long a login lasts when the caller does not say: 30 minutes. An approval made in the UI
/// rests on the code typed at login, so sessions are short.
pub const DEFAULT_SESSION_TTL_SECS: i64 = 30 * 60;
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "blastdoor_session";
/// The login form's own CSRF cookie (there is no session yet when it is posted).
pub const LOGIN_COOKIE: &str = "blastdoor_login";
/// How long a login form stays valid.
pub const LOGIN_FORM_TTL_SECS: i64 = 10 * 60;
/// More live sessions than this and the oldest are dropped.
const MAX_SESSIONS: usize = 10_000;

/// One logged-in approver.
#[derive(Debug, Clone)]
pub struct Session {
    pub approver: VerifiedApprover,
    /// The token every form of this session must carry.
    pub csrf_token: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// The live sessions, keyed by the SHA-256 of their id.
#[derive(Debug, Default)]
pub struct SessionStore {
    sessions: Mutex<HashMap<String, Session>>,
}

impl SessionStore {
    pub fn new() -> SessionStore {
        SessionStore::default()
    }

    /// A new session for `approver`; returns the id to put in the cookie.
    pub fn create(
        &self,
        approver: VerifiedApprover,
        now: i64,
        ttl_secs: i64,
    ) -> Result<String, WebError> {
        let id = random_token()?;
        let session = Session {
            approver,
            csrf_token: random_token()?,
            expires_at: now.saturating_add(ttl_secs),
        };
        let mut sessions = self.lock()?;
        sessions.retain(|_, session| session.expires_at > now);
        if sessions.len() >= MAX_SESSIONS {
            let oldest = sessions
                .iter()
                .min_by_key(|(_, session)| session.expires_at)
                .map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(key_of(&id), session);
        Ok(id)
    }

    /// The live session with `id`, if any.
    pub fn find(&self, id: &str, now: i64) -> Result<Option<Session>, WebError> {
        let mut sessions = self.lock()?;
        let key = key_of(id);
        match sessions.get(&key) {
            Some(session) if session.expires_at > now => Ok(Some(session.clone())),
            Some(_) => {
                sessions.remove(&key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// Ends the session with `id` (logout).
    pub fn remove(&self, id: &str) -> Result<(), WebError> {
        self.lock()?.remove(&key_of(id));
        Ok(())
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Session>>, WebError> {
        self.sessions
            .lock()
            .map_err(|_| WebError::Internal("the session map was poisoned by a panic".to_owned()))
    }
}

fn key_of(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// 256 random bits as 64 hex digits.
pub fn random_token() -> Result<String, WebError> {
    let mut bytes = [0u8; 32];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|error| WebError::Internal(format!("no randomness available: {error}")))?;
    Ok(hex::encode(bytes))
}

/// Equality whose time depends only on the lengths.
pub fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    left.iter()
        .zip(right)
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

/// The value of cookie `name` in the request, if present.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"').to_owned())
}

/// A `Set-Cookie` value for cookie `name` holding `value` for `max_age` seconds.
pub fn set_cookie(name: &str, value: &str, max_age: i64, config: &WebConfig) -> String {
    let secure = match config.cookie_security {
        CookieSecurity::SecureOnly => "; Secure",
        CookieSecurity::DangerousPlainHttp => "",
    };
    format!("{name}={value}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

/// A `Set-Cookie` value that deletes cookie `name`.
pub fn clear_cookie(name: &str, config: &WebConfig) -> String {
    set_cookie(name, "", 0, config)
}

/// The logged-in session of this request.
pub fn current(
    sessions: &SessionStore,
    headers: &HeaderMap,
    now: i64,
) -> Result<(String, Session), WebError> {
    let id = cookie_value(headers, SESSION_COOKIE).ok_or(WebError::NotLoggedIn)?;
    match sessions.find(&id, now)? {
        Some(session) => Ok((id, session)),
        None => Err(WebError::NotLoggedIn),
    }
}

/// Checks a posted CSRF token against the expected one.
pub fn check_csrf(expected: &str, posted: &str) -> Result<(), WebError> {
    if !posted.is_empty() && constant_time_eq(expected.as_bytes(), posted.as_bytes()) {
        Ok(())
    } else {
        Err(WebError::CsrfRejected("the csrf token is missing or wrong"))
    }
}

/// Refuses a POST that does not positively come from `origin` (`scheme://host[:port]`).
///
/// `Sec-Fetch-Site`, when sent, must be `same-origin`; `Origin`, when sent and not `null`, must
/// equal `origin`; otherwise `Referer` must be a page of `origin`. At least one of them must
/// vouch for the request. (With `Referrer-Policy: no-referrer`, browsers send `Origin: null` on
/// form posts, so modern browsers pass on `Sec-Fetch-Site`, which pages cannot forge.)
pub fn check_same_origin(headers: &HeaderMap, origin: &str) -> Result<(), WebError> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    };
    let mut vouched = false;
    if let Some(site) = text("sec-fetch-site") {
        if site != "same-origin" {
            return Err(WebError::CsrfRejected("sec-fetch-site is not same-origin"));
        }
        vouched = true;
    }
    match text("origin") {
        Some("null") | None => {}
        Some(sent) => {
            if !sent.eq_ignore_ascii_case(origin) {
                return Err(WebError::CsrfRejected("the origin is another site"));
            }
            vouched = true;
        }
    }
    if !vouched {
        let referer = text("referer").unwrap_or("");
        let same = referer
            .get(..origin.len())
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(origin))
            && referer
                .get(origin.len()..)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if !same {
            return Err(WebError::CsrfRejected("no same-origin signal"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    const ORIGIN: &str = "http://127.0.0.1:8080";

    fn origin_check(pairs: &[(&'static str, &'static str)]) -> bool {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        check_same_origin(&headers, ORIGIN).is_ok()
    }

    #[test]
    fn same_origin_signals() {
        assert!(origin_check(&[("origin", ORIGIN)]));
        assert!(origin_check(&[
            ("sec-fetch-site", "same-origin"),
            ("origin", "null")
        ]));
        assert!(origin_check(&[(
            "referer",
            "http://127.0.0.1:8080/ui/holds/x"
        )]));
        assert!(!origin_check(&[]));
        assert!(!origin_check(&[("origin", "null")]));
        assert!(!origin_check(&[("origin", "http://evil.example")]));
        assert!(!origin_check(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", ORIGIN)
        ]));
        assert!(!origin_check(&[("sec-fetch-site", "same-site")]));
        assert!(!origin_check(&[("referer", "http://127.0.0.1:80801/ui")]));
        assert!(!origin_check(&[(
            "referer",
            "http://127.0.0.1:8080.evil.example/"
        )]));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; blastdoor_session=abc; b=2"),
        );
        assert_eq!(
            cookie_value(&headers, SESSION_COOKIE).as_deref(),
            Some("abc")
        );
        assert_eq!(cookie_value(&headers, "missing"), None);
    }

    #[test]
    fn csrf_tokens_must_match_exactly() {
        assert!(check_csrf("abcd", "abcd").is_ok());
        assert!(check_csrf("abcd", "abce").is_err());
        assert!(check_csrf("abcd", "abc").is_err());
        assert!(check_csrf("", "").is_err());
    }
}
