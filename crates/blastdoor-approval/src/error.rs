//! [`ApprovalError`]: the one error type of `blastdoor-approval`. Each refusal a caller must
//! answer differently (a replay, an altered request, an expired or denied hold, a wrong code)
//! is its own variant, so the gateway and the UI can tell the agent or the human exactly why.

use blastdoor_core::{AgentName, HoldId};

use crate::HoldState;

/// What went wrong. Messages never hold a TOTP seed or code, nor a request body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    // --- Refusals of the hold state machine.
    #[error("no hold `{0}`")]
    UnknownHold(String),
    #[error("hold `{id}` was already executed: an approval is good for one execution only")]
    AlreadyExecuted { id: HoldId },
    #[error("hold `{id}` is still pending: {given} of {required} approvals given")]
    NotApproved {
        id: HoldId,
        given: usize,
        required: u8,
    },
    #[error("hold `{id}` was denied by `{by}`")]
    Denied { id: HoldId, by: String },
    #[error("hold `{id}` expired")]
    Expired { id: HoldId },
    #[error("hold `{id}` was cancelled")]
    Cancelled { id: HoldId },
    #[error("hold `{id}` is approved but cannot run before unix time {opens_at} (cooling-off)")]
    CoolingOff { id: HoldId, opens_at: i64 },
    #[error(
        "the request differs from the one held as `{id}`: an approval covers only the exact operation approved"
    )]
    DigestMismatch { id: HoldId },
    #[error(
        "everything but reads is frozen: approved hold `{id}` cannot run until `blastdoor thaw`"
    )]
    Frozen { id: HoldId },
    #[error("`{approver}` asked for this operation and cannot approve it")]
    SelfApproval { approver: String },
    #[error(
        "`{approver}` has already approved hold `{id}`; approvals must come from distinct approvers"
    )]
    AlreadyApprovedBy { id: HoldId, approver: String },
    #[error("cannot {event} hold `{id}`: it is {from}")]
    IllegalTransition {
        id: HoldId,
        from: HoldState,
        event: &'static str,
    },
    #[error("a hold needs an expiry after its creation time")]
    BadExpiry,
    #[error("a hold's cooling-off window cannot be negative")]
    BadCoolingOff,
    #[error("a denial needs a reason")]
    MissingReason,
    #[error(
        "{} already has {pending} holds waiting for a decision, the most allowed per agent ({cap}): no hold was created",
        agent_words(.agent.as_ref())
    )]
    QueueFull {
        agent: Option<AgentName>,
        pending: u64,
        cap: u32,
        /// When the agent's oldest pending hold expires (unix seconds), freeing a place if no
        /// human decides before.
        frees_at: Option<i64>,
    },

    // --- Approvers and codes.
    #[error("invalid or already used code")]
    InvalidCode,
    #[error("too many wrong codes for `{approver}`: locked out until unix time {until}")]
    LockedOut { approver: String, until: i64 },
    #[error("no approver `{0}` (see `blastdoor approver list`)")]
    UnknownApprover(String),
    #[error("approver `{0}` already exists")]
    ApproverExists(String),
    #[error("invalid approver name `{0}`: use 1 to 64 letters, digits, `-`, `_` or `.`")]
    InvalidApproverName(String),
    #[error("`{0}` is an agent's name; approvers are humans and use names no agent has")]
    ApproverIsAgent(String),
    #[error("the approver secrets cannot be used: {0}")]
    ApproverSecrets(String),
    #[error("not frozen")]
    NotFrozen,

    // --- Storage.
    #[error("the ledger refused the entry, so the change was not made: {0}")]
    Ledger(String),
    #[error("approval state database error: {0}")]
    Storage(String),
    #[error("approval state is corrupt: {0}")]
    Corrupt(String),
    #[error("cannot {action} `{path}`: {detail}")]
    Io {
        action: &'static str,
        path: String,
        detail: String,
    },
    #[error("no randomness available: {0}")]
    Randomness(String),
}

impl From<rusqlite::Error> for ApprovalError {
    fn from(error: rusqlite::Error) -> ApprovalError {
        ApprovalError::Storage(error.to_string())
    }
}

fn agent_words(agent: Option<&AgentName>) -> String {
    agent.map_or_else(
        || "a request without an agent".to_owned(),
        |agent| format!("agent `{agent}`"),
    )
}

impl ApprovalError {
    /// A stable, machine-readable code for answers to agents and API clients
    /// (`hold_already_executed`, `hold_digest_mismatch`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            ApprovalError::UnknownHold(_) => "hold_unknown",
            ApprovalError::AlreadyExecuted { .. } => "hold_already_executed",
            ApprovalError::NotApproved { .. } => "hold_not_approved",
            ApprovalError::Denied { .. } => "hold_denied",
            ApprovalError::Expired { .. } => "hold_expired",
            ApprovalError::Cancelled { .. } => "hold_cancelled",
            ApprovalError::CoolingOff { .. } => "hold_cooling_off",
            ApprovalError::DigestMismatch { .. } => "hold_digest_mismatch",
            ApprovalError::Frozen { .. } => "frozen",
            ApprovalError::SelfApproval { .. } => "self_approval",
            ApprovalError::AlreadyApprovedBy { .. } => "already_approved_by",
            ApprovalError::IllegalTransition { .. } => "illegal_transition",
            ApprovalError::BadExpiry => "bad_expiry",
            ApprovalError::BadCoolingOff => "bad_cooling_off",
            ApprovalError::MissingReason => "missing_reason",
            ApprovalError::QueueFull { .. } => "hold_queue_full",
            ApprovalError::InvalidCode => "invalid_code",
            ApprovalError::LockedOut { .. } => "approver_locked_out",
            ApprovalError::UnknownApprover(_) => "unknown_approver",
            ApprovalError::ApproverExists(_) => "approver_exists",
            ApprovalError::InvalidApproverName(_) => "invalid_approver_name",
            ApprovalError::ApproverIsAgent(_) => "approver_is_agent",
            ApprovalError::ApproverSecrets(_) => "approver_secrets",
            ApprovalError::NotFrozen => "not_frozen",
            ApprovalError::Ledger(_) => "ledger_unavailable",
            ApprovalError::Storage(_) => "storage",
            ApprovalError::Corrupt(_) => "corrupt",
            ApprovalError::Io { .. } => "io",
            ApprovalError::Randomness(_) => "randomness",
        }
    }

    /// True for the refusals that answer a re-sent request (the agent should be told, and
    /// must not retry with other credentials); false for infrastructure failures, which the
    /// gateway answers as its own errors without forwarding.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ApprovalError::UnknownHold(_)
                | ApprovalError::AlreadyExecuted { .. }
                | ApprovalError::NotApproved { .. }
                | ApprovalError::Denied { .. }
                | ApprovalError::Expired { .. }
                | ApprovalError::Cancelled { .. }
                | ApprovalError::CoolingOff { .. }
                | ApprovalError::DigestMismatch { .. }
                | ApprovalError::Frozen { .. }
        )
    }
}
