//! [`WebError`]: the one error type of `blastdoor-web`, and the one place that turns errors into
//! responses: an HTML page for the browser (or a redirect to the login page), JSON for
//! `/ui/api`. The browser gets a short, sanitised message; the log gets the detail.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use blastdoor_approval::ApprovalError;

use crate::html;

/// What went wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not logged in")]
    NotLoggedIn,
    #[error("form refused: {0}")]
    CsrfRejected(&'static str),
    #[error("no hold `{0}`")]
    UnknownHold(String),
    #[error("no such page")]
    NotFound,
    #[error("bad form: {0}")]
    BadForm(&'static str),
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    #[error("the ledger cannot be read: {0}")]
    Ledger(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::NotLoggedIn => StatusCode::UNAUTHORIZED,
            WebError::CsrfRejected(_) => StatusCode::FORBIDDEN,
            WebError::UnknownHold(_) | WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::BadForm(_) => StatusCode::BAD_REQUEST,
            WebError::Approval(error) => match error {
                ApprovalError::UnknownHold(_) => StatusCode::NOT_FOUND,
                ApprovalError::MissingReason => StatusCode::BAD_REQUEST,
                ApprovalError::InvalidCode | ApprovalError::UnknownApprover(_) => {
                    StatusCode::UNAUTHORIZED
                }
                ApprovalError::LockedOut { .. } => StatusCode::TOO_MANY_REQUESTS,
                error if is_internal(error) => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::CONFLICT,
            },
            WebError::Ledger(_) | WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The sentence shown to the person. Never holds a code, a session id or storage detail.
    pub fn public_message(&self) -> String {
        match self {
            WebError::NotLoggedIn => "Log in first.".to_owned(),
            WebError::CsrfRejected(_) => "This form was refused: it expired, or it was not sent \
                from this page. Go back, reload the page and try again."
                .to_owned(),
            WebError::UnknownHold(_) | WebError::Approval(ApprovalError::UnknownHold(_)) => {
                "There is no such hold.".to_owned()
            }
            WebError::NotFound => "There is no such page.".to_owned(),
            WebError::BadForm(what) => format!("The form is incomplete: {what}."),
            WebError::Approval(ApprovalError::MissingReason) => {
                "A denial needs a reason: say why, so the agent and the team know.".to_owned()
            }
            WebError::Approval(error) if is_internal(error) => {
                "Something went wrong on the server; nothing was changed. The server log has \
                 the details."
                    .to_owned()
            }
            WebError::Approval(error) => sentence(&error.to_string()),
            WebError::Ledger(_) | WebError::Internal(_) => {
                "Something went wrong on the server; nothing was changed. The server log has \
                 the details."
                    .to_owned()
            }
        }
    }

    fn log(&self) {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "web ui request failed");
        } else {
            tracing::info!(error = %self, status = status.as_u16(), "web ui request refused");
        }
    }
}

/// Storage and infrastructure failures: their text stays in the log.
fn is_internal(error: &ApprovalError) -> bool {
    matches!(
        error,
        ApprovalError::Ledger(_)
            | ApprovalError::Storage(_)
            | ApprovalError::Corrupt(_)
            | ApprovalError::Io { .. }
            | ApprovalError::Randomness(_)
            | ApprovalError::ApproverSecrets(_)
    )
}

/// The store's message as a sentence: capitalised, with a final period.
fn sentence(message: &str) -> String {
    let mut characters = message.chars();
    let mut out: String = match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        self.log();
        if matches!(self, WebError::NotLoggedIn) {
            return Redirect::to("/ui/login").into_response();
        }
        let status = self.status();
        let title = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Refused",
            StatusCode::CONFLICT => "Not possible",
            status if status.is_server_error() => "Server error",
            _ => "Cannot do that",
        };
        let page = html::error_page(title, &self.public_message());
        (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            page,
        )
            .into_response()
    }
}

/// The same errors, answered as JSON for `/ui/api`.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(error: E) -> ApiError {
        ApiError(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = self.0;
        error.log();
        let code = match &error {
            WebError::NotLoggedIn => "not_logged_in",
            WebError::CsrfRejected(_) => "csrf",
            WebError::UnknownHold(_) => "hold_unknown",
            WebError::NotFound => "not_found",
            WebError::BadForm(_) => "bad_request",
            WebError::Approval(error) if is_internal(error) => "internal",
            WebError::Approval(error) => error.code(),
            WebError::Ledger(_) | WebError::Internal(_) => "internal",
        };
        let body = serde_json::json!({ "error": code, "message": error.public_message() });
        (error.status(), Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_detail_never_reaches_the_browser() {
        let error = WebError::Approval(ApprovalError::Storage(
            "disk full at /var/lib/secret-path".to_owned(),
        ));
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!error.public_message().contains("secret-path"));
    }

    #[test]
    fn refusals_are_explained() {
        let error = WebError::Approval(ApprovalError::SelfApproval {
            approver: "cursor".to_owned(),
        });
        assert_eq!(error.status(), StatusCode::CONFLICT);
        assert_eq!(
            error.public_message(),
            "`cursor` asked for this operation and cannot approve it."
        );
    }
}
