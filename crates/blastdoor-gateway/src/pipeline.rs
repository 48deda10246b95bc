//! The boundary between HTTP handling (this crate) and deciding (the server crate): the
//! [`Pipeline`] trait. The gateway frames, limits and routes a request, takes the agent's token
//! out of it, and asks the pipeline for an [`Outcome`]; it forwards only on
//! [`Outcome::Forward`], whose plan carries the real credential and a receipt proving the
//! decision was recorded. Holds live behind the pipeline too: a re-sent held request carries
//! its hold id in [`InboundRequest::hold`], and the pipeline alone decides whether it runs. A
//! request the gateway refuses itself because it carried a found credential is handed to
//! [`Pipeline::record_refusal`] as a [`RefusedRequest`], so that the ledger has it too.

use std::future::Future;
use std::sync::Arc;

use blastdoor_core::{Decision, HoldId, RuleId, Secret};
use bytes::Bytes;
use http::{HeaderMap, Method};

use crate::{GatewayError, UpstreamRoute};

/// A request that passed framing checks, with its whole body, addressed to one upstream.
#[derive(Debug)]
pub struct InboundRequest {
    pub upstream: Arc<UpstreamRoute>,
    pub method: Method,
    /// The path below the upstream's name, with its query: `/graphql/v2?query=...`.
    pub path_and_query: String,
    /// The query string alone, if any.
    pub query: Option<String>,
    /// The headers that will be forwarded: the upstream kind's allow-list of the agent's
    /// headers (see [`crate::reader`]), never a token or credential.
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The capability token the agent presented, if any.
    pub token: Option<Secret<String>>,
    /// The `Blastdoor-Hold` header of a re-sent held request (removed from `headers`).
    pub hold: Option<String>,
}

/// A request the gateway refused before asking for a decision, because it carried a
/// credential that is not a capability token: the agent found a real credential. It was not
/// forwarded; the pipeline records it.
#[derive(Debug)]
pub struct RefusedRequest {
    pub upstream: Arc<UpstreamRoute>,
    pub method: Method,
    /// The path below the upstream's name, without its query string.
    pub path: String,
    /// The capability token presented beside the credential, if any (who sent it).
    pub token: Option<Secret<String>>,
    /// The lowercase name of the header that carried the credential. The value is never kept.
    pub credential_header: String,
}

/// What the pipeline decided.
#[derive(Debug)]
pub enum Outcome<R> {
    /// Forward with this credential; the decision is already durable in the ledger.
    Forward(ForwardPlan<R>),
    /// Do not forward; answer the agent with this refusal.
    Refuse(Refusal),
}

/// Everything needed to forward an allowed request.
#[derive(Debug)]
pub struct ForwardPlan<R> {
    /// The upstream's real credential, sent only in the forwarded request (`None`: the
    /// upstream is configured without one).
    pub credential: Option<Secret<String>>,
    /// A body to send instead of the agent's (a rewrite the ledger entry records, such as
    /// Railway `projectDelete` → `projectScheduleDelete`); `None`: the agent's body as sent.
    pub body: Option<Bytes>,
    /// Handed back to [`Pipeline::record_response`] with the upstream's answer.
    pub receipt: R,
}

/// A hold or a deny, with what the agent is told.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// `Hold` or `Deny`. (An `Allow` here is answered as a deny: refusals never forward.)
    pub decision: Decision,
    pub rule_ids: Vec<RuleId>,
    pub hold_id: Option<HoldId>,
    /// The explanation for the agent (already free of secrets).
    pub message: String,
    /// A more precise machine-readable code for a re-sent hold's refusal
    /// (`hold_already_executed`, `hold_cooling_off`, ...).
    pub hold_code: Option<String>,
    /// When a cooling-off window opens (unix seconds), for a re-send that came too early.
    pub opens_at: Option<i64>,
}

impl Refusal {
    /// A refusal with no hold-specific detail.
    pub fn new(
        decision: Decision,
        rule_ids: Vec<RuleId>,
        hold_id: Option<HoldId>,
        message: String,
    ) -> Refusal {
        Refusal {
            decision,
            rule_ids,
            hold_id,
            message,
            hold_code: None,
            opens_at: None,
        }
    }
}

/// What became of a forwarded request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamOutcome {
    /// The upstream answered with this status.
    Status(u16),
    /// The upstream could not be reached or failed before answering.
    Failed,
}

/// The decision path: token, classification, environments, scope, policy, ledger, holds.
pub trait Pipeline: Send + Sync + 'static {
    /// Opaque record of an allowed decision, passed back with the upstream's answer.
    type Receipt: Send + 'static;

    /// Decides on `request`. Any error is answered without forwarding.
    fn decide(
        &self,
        request: &InboundRequest,
    ) -> impl Future<Output = Result<Outcome<Self::Receipt>, GatewayError>> + Send;

    /// Records what the upstream answered to a forwarded request.
    fn record_response(
        &self,
        receipt: Self::Receipt,
        outcome: UpstreamOutcome,
    ) -> impl Future<Output = ()> + Send;

    /// Records a request the gateway refused itself (see [`RefusedRequest`]), durably. The
    /// refusal stands whatever this returns; an error only means it could not be recorded.
    fn record_refusal(
        &self,
        refused: &RefusedRequest,
    ) -> impl Future<Output = Result<(), GatewayError>> + Send;
}

/// A fresh random hold id: `hold_` and 32 hex digits (128 bits from the OS).
pub fn new_hold_id() -> Result<HoldId, GatewayError> {
    use rand_core::RngCore as _;
    let mut bytes = [0u8; 16];
    rand_core::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|error| GatewayError::Internal(format!("no randomness for a hold id: {error}")))?;
    HoldId::new(format!("hold_{}", hex::encode(bytes)))
        .map_err(|error| GatewayError::Internal(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_ids_are_random_and_valid() {
        let first = new_hold_id().unwrap();
        let second = new_hold_id().unwrap();
        assert_ne!(first, second);
        assert_eq!(first.as_str().len(), 5 + 32);
    }
}
