//! [`Hold`] and its state machine, sans-IO: every transition is a method that takes `now`
//! (unix seconds) and either changes the hold or returns the [`ApprovalError`] that says why
//! it may not. The store persists what these methods decide; it decides nothing itself.
//!
//! ```text
//! pending ──approve (N distinct)──▶ approved ──claim (digest, once)──▶ executed
//!    │  ╲                              │  ╲
//!    │   deny ──▶ denied ◀── deny ─────┘   cancel ──▶ cancelled ◀── cancel (from pending)
//!    └── expiry ──▶ expired ◀── expiry ─┘
//! ```
//! `denied`, `expired`, `executed` and `cancelled` are final.

use std::fmt;
use std::num::NonZeroU8;

use blastdoor_core::{AgentName, HoldId, OperationKind, Reason, Risk, SessionId, Target};
use serde::{Deserialize, Serialize};

use crate::{ApprovalError, CanonicalRequest, Digest};

/// Where a hold is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HoldState {
    Pending,
    Approved,
    Denied,
    Expired,
    Executed,
    Cancelled,
}

impl HoldState {
    pub const ALL: [HoldState; 6] = [
        HoldState::Pending,
        HoldState::Approved,
        HoldState::Denied,
        HoldState::Expired,
        HoldState::Executed,
        HoldState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HoldState::Pending => "pending",
            HoldState::Approved => "approved",
            HoldState::Denied => "denied",
            HoldState::Expired => "expired",
            HoldState::Executed => "executed",
            HoldState::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<HoldState> {
        HoldState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
    }

    /// True once nothing can change the hold any more.
    pub fn is_final(self) -> bool {
        !matches!(self, HoldState::Pending | HoldState::Approved)
    }
}

impl fmt::Display for HoldState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One approval given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    pub approver: String,
    /// Unix seconds.
    pub at: i64,
}

/// The denial that ended a hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Denial {
    pub approver: String,
    pub reason: String,
    pub at: i64,
}

/// What the upstream answered once the approved operation ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionOutcome {
    /// HTTP status (0: the upstream could not be reached).
    pub status: u16,
    /// A short, redacted summary.
    pub summary: String,
    pub at: i64,
}

/// Everything the caller (gateway or hook) knows when it holds an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHold {
    pub request: CanonicalRequest,
    pub kind: OperationKind,
    pub risk: Risk,
    /// Resolved targets, each with the environments it touches.
    pub targets: Vec<Target>,
    /// The operation in the classifier's words (`mutation volumeDelete(volumeId: "...")`).
    pub description: String,
    /// A plain-words line for people; `None` derives one with [`crate::plain_summary`].
    pub summary: Option<String>,
    pub agent: Option<AgentName>,
    /// The capability token's id, when the agent presented one.
    pub token_id: Option<String>,
    pub session: Option<SessionId>,
    /// The task the agent declared (from its token or harness).
    pub task: Option<String>,
    /// The verdict's reasons.
    pub reasons: Vec<Reason>,
    pub approvals_required: NonZeroU8,
    /// How long the hold may wait for approval and execution, in seconds (the default is
    /// [`crate::DEFAULT_HOLD_TTL_SECS`]).
    pub ttl_secs: i64,
    /// Earliest unix time an approved hold may run, fixed in advance; `None`: no such limit.
    pub not_before: Option<i64>,
    /// The cooling-off window, in seconds: once the last approval needed lands, the hold may
    /// run only this long after it (its `not_before` is set then). 0: at once.
    pub cooling_off_secs: i64,
}

/// A stored, canonicalised operation waiting for (or past) human approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hold {
    pub id: HoldId,
    pub state: HoldState,
    pub created_at: i64,
    pub expires_at: i64,
    /// Earliest unix time it may run: set when the last approval lands, for a hold with a
    /// cooling-off window (or fixed at creation).
    pub not_before: Option<i64>,
    /// The cooling-off window it was created with, in seconds (0: none; holds stored before
    /// the window was recorded read as 0).
    #[serde(default)]
    pub cooling_off_secs: i64,
    pub request: CanonicalRequest,
    pub digest: Digest,
    pub kind: OperationKind,
    pub risk: Risk,
    pub targets: Vec<Target>,
    pub description: String,
    pub summary: String,
    pub agent: Option<AgentName>,
    pub token_id: Option<String>,
    pub session: Option<SessionId>,
    pub task: Option<String>,
    pub reasons: Vec<Reason>,
    pub approvals_required: u8,
    pub approvals: Vec<Approval>,
    pub denial: Option<Denial>,
    pub cancelled_at: Option<i64>,
    pub executed_at: Option<i64>,
    pub outcome: Option<ExecutionOutcome>,
}

/// A hold claimed for execution: the caller may now forward the operation, once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedHold {
    pub hold: Hold,
}

/// What [`Hold::approve`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalProgress {
    /// Recorded; more approvals are needed.
    StillPending { given: usize, required: u8 },
    /// That was the last approval needed: the hold is approved.
    Approved,
}

impl Hold {
    /// A new pending hold created at `now`.
    pub fn new(id: HoldId, new: NewHold, now: i64) -> Result<Hold, ApprovalError> {
        if new.ttl_secs <= 0 {
            return Err(ApprovalError::BadExpiry);
        }
        if new.cooling_off_secs < 0 {
            return Err(ApprovalError::BadCoolingOff);
        }
        let summary = match new.summary {
            Some(summary) if !summary.trim().is_empty() => summary,
            _ => crate::plain_summary(new.risk, &new.targets, &new.description),
        };
        Ok(Hold {
            id,
            state: HoldState::Pending,
            created_at: now,
            expires_at: now.saturating_add(new.ttl_secs),
            not_before: new.not_before,
            cooling_off_secs: new.cooling_off_secs,
            digest: new.request.digest(),
            request: new.request,
            kind: new.kind,
            risk: new.risk,
            targets: new.targets,
            description: new.description,
            summary,
            agent: new.agent,
            token_id: new.token_id,
            session: new.session,
            task: new.task,
            reasons: new.reasons,
            approvals_required: new.approvals_required.get(),
            approvals: Vec::new(),
            denial: None,
            cancelled_at: None,
            executed_at: None,
            outcome: None,
        })
    }

    /// Names of the approvers so far, in order.
    pub fn approvers(&self) -> Vec<String> {
        self.approvals
            .iter()
            .map(|approval| approval.approver.clone())
            .collect()
    }

    /// True when the hold is pending or approved but its time is up.
    pub fn is_due_to_expire(&self, now: i64) -> bool {
        !self.state.is_final() && now >= self.expires_at
    }

    /// Pending or approved → expired, when its time is up. Returns whether it changed.
    pub fn expire_if_due(&mut self, now: i64) -> bool {
        if self.is_due_to_expire(now) {
            self.state = HoldState::Expired;
            true
        } else {
            false
        }
    }

    /// Records `approver`'s approval (its code already checked by the caller).
    pub fn approve(&mut self, approver: &str, now: i64) -> Result<ApprovalProgress, ApprovalError> {
        self.refuse_unless(&[HoldState::Pending], "approve", now)?;
        if self
            .agent
            .as_ref()
            .is_some_and(|agent| agent.as_str() == approver)
        {
            return Err(ApprovalError::SelfApproval {
                approver: approver.to_owned(),
            });
        }
        if self
            .approvals
            .iter()
            .any(|approval| approval.approver == approver)
        {
            return Err(ApprovalError::AlreadyApprovedBy {
                id: self.id.clone(),
                approver: approver.to_owned(),
            });
        }
        self.approvals.push(Approval {
            approver: approver.to_owned(),
            at: now,
        });
        let given = self.approvals.len();
        if given >= usize::from(self.approvals_required) {
            self.state = HoldState::Approved;
            if self.cooling_off_secs > 0 {
                let opens_at = now.saturating_add(self.cooling_off_secs);
                self.not_before = Some(self.not_before.map_or(opens_at, |at| at.max(opens_at)));
            }
            Ok(ApprovalProgress::Approved)
        } else {
            Ok(ApprovalProgress::StillPending {
                given,
                required: self.approvals_required,
            })
        }
    }

    /// Any approver's denial ends a pending or approved (not yet executed) hold.
    pub fn deny(&mut self, approver: &str, reason: &str, now: i64) -> Result<(), ApprovalError> {
        if reason.trim().is_empty() {
            return Err(ApprovalError::MissingReason);
        }
        self.refuse_unless(&[HoldState::Pending, HoldState::Approved], "deny", now)?;
        self.state = HoldState::Denied;
        self.denial = Some(Denial {
            approver: approver.to_owned(),
            reason: reason.to_owned(),
            at: now,
        });
        Ok(())
    }

    /// Anyone may cancel a pending or approved hold before it runs.
    pub fn cancel(&mut self, now: i64) -> Result<(), ApprovalError> {
        self.refuse_unless(&[HoldState::Pending, HoldState::Approved], "cancel", now)?;
        self.state = HoldState::Cancelled;
        self.cancelled_at = Some(now);
        Ok(())
    }

    /// Approved → executed, once, for a request whose digest equals the held one, inside the
    /// time limit and after `not_before`. Each refusal is its own error.
    pub fn claim(&mut self, digest: &Digest, now: i64) -> Result<(), ApprovalError> {
        self.refuse_unless(&[HoldState::Approved], "claim", now)?;
        if let Some(opens_at) = self.not_before.filter(|opens_at| now < *opens_at) {
            return Err(ApprovalError::CoolingOff {
                id: self.id.clone(),
                opens_at,
            });
        }
        if *digest != self.digest {
            return Err(ApprovalError::DigestMismatch {
                id: self.id.clone(),
            });
        }
        self.state = HoldState::Executed;
        self.executed_at = Some(now);
        Ok(())
    }

    /// Records what the upstream answered; only once, only for an executed hold.
    pub fn record_outcome(
        &mut self,
        status: u16,
        summary: &str,
        now: i64,
    ) -> Result<(), ApprovalError> {
        if self.state != HoldState::Executed || self.outcome.is_some() {
            return Err(ApprovalError::IllegalTransition {
                id: self.id.clone(),
                from: self.state,
                event: "record the outcome of",
            });
        }
        self.outcome = Some(ExecutionOutcome {
            status,
            summary: blastdoor_core::redact_known_secrets(summary),
            at: now,
        });
        Ok(())
    }

    /// The refusal for `event` when the hold is not in one of `allowed` (or its time is up).
    fn refuse_unless(
        &self,
        allowed: &[HoldState],
        event: &'static str,
        now: i64,
    ) -> Result<(), ApprovalError> {
        let id = self.id.clone();
        let state = if self.is_due_to_expire(now) {
            HoldState::Expired
        } else {
            self.state
        };
        if allowed.contains(&state) {
            return Ok(());
        }
        Err(match state {
            HoldState::Executed => ApprovalError::AlreadyExecuted { id },
            HoldState::Denied => ApprovalError::Denied {
                id,
                by: self
                    .denial
                    .as_ref()
                    .map(|denial| denial.approver.clone())
                    .unwrap_or_default(),
            },
            HoldState::Expired => ApprovalError::Expired { id },
            HoldState::Cancelled => ApprovalError::Cancelled { id },
            HoldState::Pending if event == "claim" => ApprovalError::NotApproved {
                id,
                given: self.approvals.len(),
                required: self.approvals_required,
            },
            HoldState::Pending | HoldState::Approved => ApprovalError::IllegalTransition {
                id,
                from: state,
                event,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blastdoor_core::{Environment, Layer};

    const T0: i64 = 1_800_000_000;

    fn request(body: &str) -> CanonicalRequest {
        CanonicalRequest::new(
            Layer::Gateway,
            "POST",
            "railway",
            "/graphql/v2",
            body.as_bytes(),
        )
    }

    fn hold(required: u8) -> Hold {
        Hold::new(HoldId::new("hold_test").unwrap(), new_hold(required), T0).unwrap()
    }

    fn new_hold(required: u8) -> NewHold {
        NewHold {
            request: request(r#"{"query":"mutation { volumeDelete(volumeId: \"v1\") }"}"#),
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
            task: Some("fix staging".to_owned()),
            reasons: vec![],
            approvals_required: NonZeroU8::new(required).unwrap(),
            ttl_secs: 3600,
            not_before: None,
            cooling_off_secs: 0,
        }
    }

    /// A hold in `state`, reached through legal transitions.
    fn in_state(state: HoldState) -> Hold {
        let mut hold = hold(1);
        match state {
            HoldState::Pending => {}
            HoldState::Approved => {
                hold.approve("alice", T0).unwrap();
            }
            HoldState::Denied => hold.deny("alice", "no", T0).unwrap(),
            HoldState::Expired => assert!(hold.expire_if_due(T0 + 3600)),
            HoldState::Executed => {
                hold.approve("alice", T0).unwrap();
                let digest = hold.digest;
                hold.claim(&digest, T0 + 1).unwrap();
            }
            HoldState::Cancelled => hold.cancel(T0).unwrap(),
        }
        assert_eq!(hold.state, state);
        hold
    }

    #[derive(Debug, Clone, Copy)]
    enum Event {
        Approve,
        Deny,
        Cancel,
        Claim,
    }

    fn apply(hold: &mut Hold, event: Event) -> Result<(), ApprovalError> {
        let digest = hold.digest;
        match event {
            Event::Approve => hold.approve("bob", T0 + 5).map(|_| ()),
            Event::Deny => hold.deny("bob", "not now", T0 + 5),
            Event::Cancel => hold.cancel(T0 + 5),
            Event::Claim => hold.claim(&digest, T0 + 5),
        }
    }

    #[test]
    fn transitions_table() {
        use Event::*;
        use HoldState::*;
        // (from, event, resulting state or None for an error that leaves the hold unchanged)
        let table: &[(HoldState, Event, Option<HoldState>)] = &[
            (Pending, Approve, Some(Approved)),
            (Pending, Deny, Some(Denied)),
            (Pending, Cancel, Some(Cancelled)),
            (Pending, Claim, None),
            (Approved, Approve, None),
            (Approved, Deny, Some(Denied)),
            (Approved, Cancel, Some(Cancelled)),
            (Approved, Claim, Some(Executed)),
            (Denied, Approve, None),
            (Denied, Deny, None),
            (Denied, Cancel, None),
            (Denied, Claim, None),
            (Expired, Approve, None),
            (Expired, Deny, None),
            (Expired, Cancel, None),
            (Expired, Claim, None),
            (Executed, Approve, None),
            (Executed, Deny, None),
            (Executed, Cancel, None),
            (Executed, Claim, None),
            (Cancelled, Approve, None),
            (Cancelled, Deny, None),
            (Cancelled, Cancel, None),
            (Cancelled, Claim, None),
        ];
        for &(from, event, expected) in table {
            let mut hold = in_state(from);
            let before = hold.clone();
            let result = apply(&mut hold, event);
            match expected {
                Some(to) => {
                    assert!(result.is_ok(), "{from} + {event:?}: {result:?}");
                    assert_eq!(hold.state, to, "{from} + {event:?}");
                }
                None => {
                    assert!(result.is_err(), "{from} + {event:?} should be refused");
                    assert_eq!(hold, before, "{from} + {event:?} changed a refused hold");
                }
            }
        }
    }

    #[test]
    fn each_refused_claim_says_why() {
        let mut pending = hold(2);
        let digest = pending.digest;
        pending.approve("alice", T0).unwrap();
        assert!(matches!(
            pending.claim(&digest, T0),
            Err(ApprovalError::NotApproved {
                given: 1,
                required: 2,
                ..
            })
        ));
        let mut executed = in_state(HoldState::Executed);
        assert!(matches!(
            executed.claim(&digest, T0 + 2),
            Err(ApprovalError::AlreadyExecuted { .. })
        ));
        let mut denied = in_state(HoldState::Denied);
        assert!(matches!(
            denied.claim(&digest, T0),
            Err(ApprovalError::Denied { .. })
        ));
        let mut cancelled = in_state(HoldState::Cancelled);
        assert!(matches!(
            cancelled.claim(&digest, T0),
            Err(ApprovalError::Cancelled { .. })
        ));
        let mut approved = in_state(HoldState::Approved);
        assert!(matches!(
            approved.claim(&digest, T0 + 3600),
            Err(ApprovalError::Expired { .. })
        ));
        let other = request(r#"{"query":"mutation { volumeDelete(volumeId: \"v2\") }"}"#).digest();
        assert!(matches!(
            approved.claim(&other, T0),
            Err(ApprovalError::DigestMismatch { .. })
        ));
        assert_eq!(
            approved.state,
            HoldState::Approved,
            "a mismatched claim does not consume"
        );
    }

    #[test]
    fn cooling_off_delays_the_claim() {
        let mut approved = in_state(HoldState::Approved);
        approved.not_before = Some(T0 + 600);
        let digest = approved.digest;
        assert!(matches!(
            approved.claim(&digest, T0 + 599),
            Err(ApprovalError::CoolingOff { opens_at, .. }) if opens_at == T0 + 600
        ));
        approved.claim(&digest, T0 + 600).unwrap();
    }

    #[test]
    fn the_last_approval_opens_the_cooling_off_window() {
        let mut hold = hold(2);
        hold.cooling_off_secs = 600;
        hold.approve("alice", T0 + 10).unwrap();
        assert_eq!(hold.not_before, None, "still pending: no window yet");
        hold.approve("bob", T0 + 50).unwrap();
        assert_eq!(hold.not_before, Some(T0 + 650));
        let digest = hold.digest;
        assert!(matches!(
            hold.claim(&digest, T0 + 649),
            Err(ApprovalError::CoolingOff { opens_at, .. }) if opens_at == T0 + 650
        ));
        // Cancelling inside the window works, and then it can never run.
        let mut cancelled = hold.clone();
        cancelled.cancel(T0 + 100).unwrap();
        assert!(matches!(
            cancelled.claim(&digest, T0 + 700),
            Err(ApprovalError::Cancelled { .. })
        ));
        hold.claim(&digest, T0 + 650).unwrap();
        // A window of 0 sets nothing.
        let mut at_once = in_state(HoldState::Approved);
        assert_eq!(at_once.not_before, None);
        at_once.claim(&digest, T0).unwrap();
    }

    #[test]
    fn a_negative_cooling_off_is_refused() {
        let new = NewHold {
            cooling_off_secs: -1,
            ..new_hold(1)
        };
        assert!(matches!(
            Hold::new(HoldId::new("hold_neg").unwrap(), new, T0),
            Err(ApprovalError::BadCoolingOff)
        ));
    }

    #[test]
    fn n_of_m_counts_distinct_humans_and_never_the_agent() {
        let mut hold = hold(2);
        assert!(matches!(
            hold.approve("claude", T0),
            Err(ApprovalError::SelfApproval { .. })
        ));
        assert_eq!(
            hold.approve("alice", T0).unwrap(),
            ApprovalProgress::StillPending {
                given: 1,
                required: 2
            }
        );
        assert!(matches!(
            hold.approve("alice", T0 + 1),
            Err(ApprovalError::AlreadyApprovedBy { .. })
        ));
        assert_eq!(hold.state, HoldState::Pending);
        assert_eq!(
            hold.approve("bob", T0 + 2).unwrap(),
            ApprovalProgress::Approved
        );
        assert_eq!(hold.approvers(), vec!["alice", "bob"]);
    }

    #[test]
    fn expiry_and_outcome() {
        let mut hold = hold(1);
        assert!(!hold.expire_if_due(T0 + 3599));
        assert!(matches!(
            hold.approve("alice", T0 + 3600),
            Err(ApprovalError::Expired { .. })
        ));
        assert!(hold.expire_if_due(T0 + 3600));
        assert!(!hold.expire_if_due(T0 + 9999), "final states do not change");
        let mut executed = in_state(HoldState::Executed);
        executed.record_outcome(200, "ok", T0 + 2).unwrap();
        assert!(executed.record_outcome(200, "again", T0 + 3).is_err());
        assert!(
            in_state(HoldState::Approved)
                .record_outcome(200, "x", T0)
                .is_err()
        );
        assert!(hold.deny("alice", " ", T0).is_err());
    }

    #[test]
    fn derives_a_plain_summary() {
        assert_eq!(
            hold(1).summary,
            "DELETE volume pg-data in production — irreversible"
        );
    }
}
