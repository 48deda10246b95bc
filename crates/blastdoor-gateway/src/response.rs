//! The one place that turns outcomes and errors into HTTP responses (STYLE §5). The agent gets
//! a clear, sanitised message in the shape its client understands (GraphQL `errors` for
//! Railway, `application/problem+json` otherwise); the log gets the detail.

use blastdoor_core::Decision;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt as _, Full, combinators::BoxBody};
use serde_json::json;

use crate::{GatewayError, Refusal, UpstreamKind};

/// The body type of every response the gateway sends.
pub type GatewayBody = BoxBody<Bytes, hyper::Error>;

/// What every refusal tells the agent, whatever the rule.
pub const HUMAN_DECIDES: &str = "A human decides whether this operation runs. Do not look for other credentials, \
tokens or tools to do the same thing another way; report to the user what you tried and wait.";

/// A complete body from bytes.
pub fn full_body(bytes: impl Into<Bytes>) -> GatewayBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// The answer to a hold (428) or a deny (403).
pub fn refusal(kind: Option<UpstreamKind>, refusal: &Refusal) -> Response<GatewayBody> {
    let (status, code, title) = match refusal.decision {
        Decision::Hold { .. } => (
            StatusCode::PRECONDITION_REQUIRED,
            "BLASTDOOR_HELD",
            "operation held for human approval",
        ),
        Decision::Deny | Decision::Allow => (
            StatusCode::FORBIDDEN,
            "BLASTDOOR_DENIED",
            "operation denied by blastdoor",
        ),
    };
    let approvals = match refusal.decision {
        Decision::Hold { approvals } => Some(approvals.get()),
        Decision::Allow | Decision::Deny => None,
    };
    let rule_ids: Vec<&str> = refusal.rule_ids.iter().map(|id| id.as_str()).collect();
    let hold_id = refusal.hold_id.as_ref().map(|id| id.as_str());
    let message = format!("{title}: {} {HUMAN_DECIDES}", refusal.message);
    let mut extensions = json!({
        "code": code,
        "rule_ids": rule_ids,
        "hold_id": hold_id,
        "approvals_required": approvals,
    });
    if let Some(object) = extensions.as_object_mut() {
        if let Some(hold_code) = &refusal.hold_code {
            object.insert("hold_code".to_owned(), json!(hold_code));
        }
        if let Some(opens_at) = refusal.opens_at {
            object.insert("opens_at".to_owned(), json!(opens_at));
        }
    }
    build(kind, status, code, title, &message, extensions)
}

/// The answer to an error: status, sanitised message, and the log line with the detail.
pub fn error(kind: Option<UpstreamKind>, error: &GatewayError) -> Response<GatewayBody> {
    let (status, code, message) = classify(error);
    match status.is_server_error() {
        true => {
            tracing::warn!(%error, status = status.as_u16(), "request failed; nothing forwarded")
        }
        false => tracing::info!(%error, status = status.as_u16(), "request refused"),
    }
    let mut response = build(
        kind,
        status,
        code,
        "request refused by blastdoor",
        &message,
        json!({ "code": code }),
    );
    if matches!(
        error,
        GatewayError::Framing(_)
            | GatewayError::BodyTooLarge { .. }
            | GatewayError::SlowClient
            | GatewayError::BadRequest(_)
            | GatewayError::MethodNotAllowed { .. }
            | GatewayError::UnsupportedMediaType(_)
            | GatewayError::FoundCredential { .. }
    ) {
        // The connection's framing can no longer be trusted, or a body was left unread.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    if let GatewayError::MethodNotAllowed { allow, .. } = error {
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    if let GatewayError::HoldQueueFull {
        retry_after_secs: Some(seconds),
        ..
    } = error
    {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(*seconds));
    }
    response
}

/// Status, stable code and agent-facing message for each error.
fn classify(error: &GatewayError) -> (StatusCode, &'static str, String) {
    let not_forwarded = "Nothing was forwarded.";
    match error {
        GatewayError::UnknownUpstream(name) => (
            StatusCode::NOT_FOUND,
            "BLASTDOOR_UNKNOWN_UPSTREAM",
            format!("no upstream named `{}` is configured; call /<upstream>/<path>", truncate(name)),
        ),
        GatewayError::BadRequest(why) => (StatusCode::BAD_REQUEST, "BLASTDOOR_BAD_REQUEST", format!("bad request: {why}. {not_forwarded}")),
        GatewayError::MethodNotAllowed { method, allow } => (
            StatusCode::METHOD_NOT_ALLOWED,
            "BLASTDOOR_METHOD_NOT_ALLOWED",
            format!("method `{}` is not accepted here; use one of: {allow}. {not_forwarded}", truncate(method)),
        ),
        GatewayError::UnsupportedMediaType(why) => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BLASTDOOR_UNSUPPORTED_MEDIA_TYPE",
            format!("{why}. {not_forwarded}"),
        ),
        GatewayError::FoundCredential { header } => (
            StatusCode::FORBIDDEN,
            "BLASTDOOR_FOUND_CREDENTIAL",
            format!("the `{}` header carries a credential that is not your blastdoor token. Do not use credentials you found; use your blastdoor token (bd1_...) as `Authorization: Bearer`. This attempt was recorded. {not_forwarded} {HUMAN_DECIDES}", truncate(header)),
        ),
        GatewayError::Framing(violation) => (
            StatusCode::BAD_REQUEST,
            "BLASTDOOR_AMBIGUOUS_FRAMING",
            format!("ambiguous request framing ({}): send exactly one Content-Length or `Transfer-Encoding: chunked`. {not_forwarded}", violation.code()),
        ),
        GatewayError::BodyTooLarge { limit } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "BLASTDOOR_BODY_TOO_LARGE",
            format!("request body larger than {limit} bytes. {not_forwarded}"),
        ),
        GatewayError::SlowClient => (
            StatusCode::REQUEST_TIMEOUT,
            "BLASTDOOR_SLOW_CLIENT",
            format!("the request did not arrive in time. {not_forwarded}"),
        ),
        GatewayError::MissingToken => (
            StatusCode::UNAUTHORIZED,
            "BLASTDOOR_TOKEN_MISSING",
            "send your blastdoor capability token (bd1_...) as `Authorization: Bearer`; ask the user for one. Do not use any other credential.".to_owned(),
        ),
        GatewayError::TokenRefused(_) | GatewayError::TokenRevoked => (
            StatusCode::UNAUTHORIZED,
            "BLASTDOOR_TOKEN_REFUSED",
            "the capability token was refused (invalid, expired or revoked); ask the user for a new one. Do not use any other credential.".to_owned(),
        ),
        GatewayError::ResolutionFailed(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "BLASTDOOR_UNRESOLVED",
            format!("blastdoor could not work out which environments this request touches. {not_forwarded} {HUMAN_DECIDES}"),
        ),
        GatewayError::PolicyFailed(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "BLASTDOOR_POLICY_ERROR",
            format!("blastdoor could not evaluate its policy. {not_forwarded} {HUMAN_DECIDES}"),
        ),
        GatewayError::LedgerUnavailable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "BLASTDOOR_LEDGER_UNAVAILABLE",
            format!("blastdoor could not record the decision in its audit ledger. {not_forwarded}"),
        ),
        GatewayError::CredentialUnavailable { .. } | GatewayError::InvalidUpstream { .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            "BLASTDOOR_UPSTREAM_NOT_CONFIGURED",
            format!("this upstream is not usable through blastdoor right now. {not_forwarded} {HUMAN_DECIDES}"),
        ),
        GatewayError::ApprovalsUnavailable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "BLASTDOOR_APPROVALS_UNAVAILABLE",
            format!("blastdoor could not read or record the approval state. {not_forwarded} {HUMAN_DECIDES}"),
        ),
        GatewayError::HoldQueueFull { pending, cap, .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "BLASTDOOR_HOLD_QUEUE_FULL",
            format!("you already have {pending} operations waiting for a human decision, the most blastdoor keeps for one agent ({cap}). No hold was created. {not_forwarded} A human must approve, deny or cancel your pending holds before you can ask for another; re-sending a request that is already pending names its existing hold and adds nothing. {HUMAN_DECIDES}"),
        ),
        GatewayError::SnapshotFailed(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "BLASTDOOR_SNAPSHOT_FAILED",
            format!("the snapshot that must precede this destroy could not be taken and verified, so the destroy did not run; the approvers have been told. {not_forwarded} {HUMAN_DECIDES}"),
        ),
        GatewayError::UpstreamUnreachable(_) => (
            StatusCode::BAD_GATEWAY,
            "BLASTDOOR_UPSTREAM_UNREACHABLE",
            "the upstream could not be reached".to_owned(),
        ),
        GatewayError::Internal(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "BLASTDOOR_INTERNAL",
            format!("internal error in blastdoor. {not_forwarded}"),
        ),
    }
}

/// Agent-controlled text echoed back is cut short.
fn truncate(text: &str) -> String {
    text.chars().take(64).collect()
}

fn build(
    kind: Option<UpstreamKind>,
    status: StatusCode,
    code: &str,
    title: &str,
    message: &str,
    extensions: serde_json::Value,
) -> Response<GatewayBody> {
    let (content_type, body) = match kind {
        Some(UpstreamKind::Railway) => (
            "application/json",
            json!({ "data": null, "errors": [{ "message": message, "extensions": extensions }] }),
        ),
        Some(UpstreamKind::Rest | UpstreamKind::Kubernetes) | None => {
            let mut problem = json!({
                "type": format!("urn:blastdoor:{}", code.to_ascii_lowercase()),
                "title": title,
                "status": status.as_u16(),
                "detail": message,
            });
            if let (Some(problem), serde_json::Value::Object(extensions)) =
                (problem.as_object_mut(), extensions)
            {
                for (key, value) in extensions {
                    problem.insert(key, value);
                }
            }
            ("application/problem+json", problem)
        }
    };
    let mut response = Response::new(full_body(body.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use blastdoor_core::{HoldId, RuleId};

    async fn body_json(response: Response<GatewayBody>) -> serde_json::Value {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn a_railway_hold_is_a_graphql_error_with_code_rules_and_hold_id() {
        let held = Refusal {
            decision: Decision::hold(2),
            rule_ids: vec![RuleId::new("railway.volume-delete").unwrap()],
            hold_id: Some(HoldId::new("hold_1").unwrap()),
            message: "volumeDelete touches production".to_owned(),
            hold_code: None,
            opens_at: None,
        };
        let response = refusal(Some(UpstreamKind::Railway), &held);
        assert_eq!(response.status(), StatusCode::PRECONDITION_REQUIRED);
        let json = body_json(response).await;
        let error = &json["errors"][0];
        assert_eq!(error["extensions"]["code"], "BLASTDOOR_HELD");
        assert_eq!(error["extensions"]["rule_ids"][0], "railway.volume-delete");
        assert_eq!(error["extensions"]["hold_id"], "hold_1");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("other credentials")
        );
    }

    #[tokio::test]
    async fn a_rest_deny_is_problem_json() {
        let denied = Refusal::new(Decision::Deny, vec![], None, "no".to_owned());
        let response = refusal(Some(UpstreamKind::Rest), &denied);
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let json = body_json(response).await;
        assert_eq!(json["code"], "BLASTDOOR_DENIED");
        assert_eq!(json["status"], 403);
    }

    #[tokio::test]
    async fn a_full_hold_queue_is_429_with_retry_after() {
        let full = GatewayError::HoldQueueFull {
            pending: 20,
            cap: 20,
            retry_after_secs: Some(3599),
        };
        let response = error(Some(UpstreamKind::Railway), &full);
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3599");
        let json = body_json(response).await;
        assert_eq!(
            json["errors"][0]["extensions"]["code"],
            "BLASTDOOR_HOLD_QUEUE_FULL"
        );
        let message = json["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("20 operations waiting"), "{message}");
        assert!(message.contains("other credentials"), "{message}");
        let without = GatewayError::HoldQueueFull {
            pending: 20,
            cap: 20,
            retry_after_secs: None,
        };
        let response = error(Some(UpstreamKind::Rest), &without);
        assert!(!response.headers().contains_key(header::RETRY_AFTER));
    }

    #[tokio::test]
    async fn error_details_stay_in_the_log() {
        let failed =
            GatewayError::LedgerUnavailable("/secret/path/ledger.sqlite: disk full".to_owned());
        let response = error(Some(UpstreamKind::Railway), &failed);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let text = body_json(response).await.to_string();
        assert!(!text.contains("/secret/path"));
        assert!(text.contains("BLASTDOOR_LEDGER_UNAVAILABLE"));
    }
}
