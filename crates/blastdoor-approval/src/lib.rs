//! Human approvals (layer 5): a held operation runs only when enough distinct humans approve
//! exactly it, with a code from their authenticator, and then only once.
//!
//! - [`Hold`] and its sans-IO state machine (pending → approved / denied / expired / executed /
//!   cancelled), in [`hold`]; every method takes `now` (unix seconds).
//! - [`CanonicalRequest`] and its [`Digest`]: the exact operation an approval is bound to.
//! - [`HoldStore`]: holds, approvers and the freeze flag in `BLASTDOOR_HOME/state.sqlite`
//!   (WAL, safe for the gateway, the CLI and hook processes at once); every change is appended
//!   to the ledger before it is acknowledged. [`HoldStore::create_or_join`] protects the
//!   approvers' queue: an agent's identical pending request maps to the hold it already has,
//!   and an agent with too many pending holds gets [`ApprovalError::QueueFull`] instead of a
//!   new one.
//! - [`totp`]: RFC 6238 codes, with replay protection per approver.
//! - [`plain_summary`]: "DELETE volume pg-data in production and staging — irreversible".
//!
//! # Using it from the gateway
//!
//! ```no_run
//! # use blastdoor_approval::*;
//! # fn demo(store: &HoldStore, new_hold: NewHold, body: &[u8], now: i64) -> Result<(), ApprovalError> {
//! // A request is held: queue it (or find the agent's identical pending one) and answer 428
//! // with its id; `QueueFull` when the agent already has 20 pending holds.
//! let cap = std::num::NonZeroU32::new(20).unwrap_or(std::num::NonZeroU32::MIN);
//! let hold = store.create_or_join(new_hold, cap, now)?.into_hold();
//! // The agent re-sends with `Blastdoor-Hold: <id>`: canonicalise what it sent and claim.
//! let resent = CanonicalRequest::new(blastdoor_core::Layer::Gateway, "POST", "railway", "/graphql/v2", body);
//! let claimed = store.claim_for_execution(hold.id.as_str(), &resent.digest(), now)?;
//! // ... forward once, then record what the upstream said:
//! store.mark_executed(claimed.hold.id.as_str(), 200, "volume deleted", now)?;
//! # Ok(()) }
//! ```
//!
//! This crate must not open network connections, read the clock (callers pass `now`), decide
//! policy (it keeps the holds policy asked for), or let a TOTP seed or code reach an error, a
//! log or the ledger.

mod approvers;
mod canonical;
mod error;
pub mod hold;
mod redact;
mod store;
mod summary;
pub mod totp;

pub use approvers::{
    ApproverListing, Enrolment, FreezeStatus, LOCKOUT_SECS, MAX_CODE_FAILURES, VerifiedApprover,
    frozen_marker_present, validate_approver_name,
};
pub use canonical::{CanonicalBody, CanonicalRequest, Digest, canonical_json};
pub use error::ApprovalError;
pub use hold::{
    Approval, ApprovalProgress, ClaimedHold, Denial, ExecutionOutcome, Hold, HoldState, NewHold,
};
pub use redact::{body_is_text, redact_json, redacted_body_text, redacted_request_json};
pub use store::{
    APPROVER_SECRETS_FILE, ApprovalLog, DEFAULT_HOLD_TTL_SECS, FROZEN_MARKER_FILE, HoldStore,
    PendingCount, Queued, STATE_FILE, StorePaths, new_hold_id,
};
pub use summary::plain_summary;

#[cfg(test)]
mod tests {
    #[test]
    fn the_store_can_be_shared_across_threads() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<crate::HoldStore>();
        shareable::<crate::Hold>();
    }
}
