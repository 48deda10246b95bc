//! Notifications to approvers: a Slack-compatible JSON POST (`{"text": "..."}`) to
//! `[approvals] webhook_url` for each new hold and for each approved destroy whose snapshot
//! failed. Sent in the background with a timeout; a failure is logged and changes nothing.
//! Chat only notifies: approving happens with a TOTP code in the CLI or the UI.
//!
//! The URL embeds a secret (Slack's incoming-webhook path), so it is never logged: log lines
//! name the webhook only as "the approvals webhook".

use std::time::Duration;

use blastdoor_approval::Hold;
use blastdoor_core::Secret;
use blastdoor_gateway::forward::UpstreamClient;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, header};
use http_body_util::Full;

/// How long one notification may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The text announcing a new hold: what it would do, where, how many approvals, and the link.
pub(crate) fn new_hold_text(hold: &Hold, ui_base_url: &str) -> String {
    let environments = environments(hold);
    let agent = hold
        .agent
        .as_ref()
        .map_or("an unknown agent", |agent| agent.as_str());
    let task = hold
        .task
        .as_deref()
        .map(|task| format!(" (task: {task})"))
        .unwrap_or_default();
    format!(
        "blastdoor held an operation: {summary}\nEnvironments: {environments}\nRequested by {agent}{task}\nNeeds {required} approval(s); expires at unix time {expires}.\n<{link}|Review hold {id}>",
        summary = hold.summary,
        required = hold.approvals_required,
        expires = hold.expires_at,
        link = hold_link(ui_base_url, hold.id.as_str()),
        id = hold.id,
    )
}

/// The text telling approvers an approved destroy did not run because its snapshot failed.
pub(crate) fn snapshot_failed_text(hold: &Hold, ui_base_url: &str) -> String {
    format!(
        "blastdoor did NOT run approved hold {id} ({summary}): the snapshot that must precede it failed. The hold stays approved and unexecuted; see the gateway log and the ledger. <{link}|Hold {id}>",
        id = hold.id,
        summary = hold.summary,
        link = hold_link(ui_base_url, hold.id.as_str()),
    )
}

fn hold_link(ui_base_url: &str, id: &str) -> String {
    format!("{}/holds/{id}", ui_base_url.trim_end_matches('/'))
}

fn environments(hold: &Hold) -> String {
    let mut names: Vec<&str> = hold
        .targets
        .iter()
        .flat_map(|target| {
            target
                .environments
                .iter()
                .map(|environment| environment.as_str())
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        "unknown".to_owned()
    } else {
        names.join(", ")
    }
}

/// Posts `text` to `url` in the background; logs (without the URL) when it fails.
pub(crate) fn notify(client: &UpstreamClient, url: &Secret<String>, text: String) {
    let client = client.clone();
    let url = url.clone();
    tokio::spawn(async move {
        match tokio::time::timeout(TIMEOUT, post(&client, &url, &text)).await {
            Ok(Ok(status)) if (200..300).contains(&status) => {
                tracing::debug!(status, "approvals webhook notified");
            }
            Ok(Ok(status)) => {
                tracing::warn!(status, "the approvals webhook refused the notification")
            }
            Ok(Err(why)) => tracing::warn!(why, "the approvals webhook could not be notified"),
            Err(_) => tracing::warn!(
                timeout_secs = TIMEOUT.as_secs(),
                "the approvals webhook timed out"
            ),
        }
    });
}

async fn post(client: &UpstreamClient, url: &Secret<String>, text: &str) -> Result<u16, String> {
    let uri: http::Uri = url
        .expose_secret()
        .parse()
        .map_err(|_| "the webhook URL does not parse".to_owned())?;
    let body = serde_json::json!({ "text": text }).to_string();
    let mut request = Request::new(Full::new(Bytes::from(body)));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = uri;
    request.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // Errors from the client may quote the URI: keep only their kind.
    let response = client.request(request).await.map_err(|error| {
        if error.is_connect() {
            "connection failed".to_owned()
        } else {
            "request failed".to_owned()
        }
    })?;
    Ok(response.status().as_u16())
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU8;

    use blastdoor_approval::{CanonicalRequest, NewHold};
    use blastdoor_core::{AgentName, Environment, HoldId, Layer, OperationKind, Risk, Target};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    fn hold() -> Hold {
        let new = NewHold {
            request: CanonicalRequest::new(Layer::Gateway, "POST", "railway", "/graphql/v2", b"{}"),
            kind: OperationKind::Graphql,
            risk: Risk::Destroy,
            targets: vec![Target::new(
                "volume",
                "vol-pg-data",
                vec![
                    Environment::production(),
                    Environment::parse("staging").unwrap(),
                ],
            )],
            description: "mutation volumeDelete(volumeId=vol-pg-data)".to_owned(),
            summary: None,
            agent: Some(AgentName::new("claude-staging-fix").unwrap()),
            token_id: None,
            session: None,
            task: Some("fix the staging deploy".to_owned()),
            reasons: vec![],
            approvals_required: NonZeroU8::new(2).unwrap(),
            ttl_secs: 3600,
            not_before: None,
            cooling_off_secs: 0,
        };
        Hold::new(HoldId::new("hold_0123").unwrap(), new, 1_800_000_000).unwrap()
    }

    #[test]
    fn the_text_says_what_where_how_many_and_links_the_hold() {
        let text = new_hold_text(&hold(), "https://blastdoor.internal/ui/");
        assert!(text.contains("production, staging"), "{text}");
        assert!(text.contains("Needs 2 approval(s)"), "{text}");
        assert!(text.contains("claude-staging-fix"), "{text}");
        assert!(
            text.contains("<https://blastdoor.internal/ui/holds/hold_0123|"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_listener_receives_the_slack_json() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Secret::new(format!(
            "http://{}/services/T0/B0/secret-path",
            listener.local_addr().unwrap()
        ));
        let client = blastdoor_gateway::forward::new_client().unwrap();
        notify(
            &client,
            &url,
            new_hold_text(&hold(), "http://127.0.0.1:7878/ui"),
        );
        let (mut stream, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
            .await
            .unwrap()
            .unwrap();
        let mut received = Vec::new();
        let mut buffer = [0u8; 4096];
        let body = loop {
            let read = stream.read(&mut buffer).await.unwrap();
            assert!(read > 0, "connection closed early");
            received.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&received).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|line| {
                        line.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap();
                if body.len() >= length {
                    assert!(
                        head.starts_with("POST /services/T0/B0/secret-path HTTP/1.1"),
                        "{head}"
                    );
                    assert!(
                        head.to_ascii_lowercase()
                            .contains("content-type: application/json")
                    );
                    break body.to_owned();
                }
            }
        };
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        let text = json["text"].as_str().unwrap();
        assert!(
            text.contains("<http://127.0.0.1:7878/ui/holds/hold_0123|"),
            "{text}"
        );
        assert!(text.contains("production"), "{text}");
    }
}
