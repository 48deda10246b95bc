//! The approvals half of [`GuardPipeline`]: storing a hold for a held request (and telling the
//! approvers) — or naming the agent's identical pending hold, or, past the agent's cap of
//! pending holds, refusing with 429 and a ledger entry — and releasing a re-sent one
//! (`Blastdoor-Hold: ID`) exactly once: the hold's agent, the digest, the cooling-off window and
//! the freeze are checked, protected resources are snapshotted, the hold is claimed, and the
//! release is durable in the ledger before the gateway forwards it. Every refusal is a
//! [`Refusal`]; every failure an error, never a forward.

use std::num::NonZeroU8;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use blastdoor_approval::{ApprovalError, CanonicalRequest, NewHold, Queued};
use blastdoor_audit::Record;
use blastdoor_broker::VerifiedToken;
use blastdoor_core::{
    Actor, Decision, HoldId, Layer, Operation, OperationKind, Reason, Risk, Target, Verdict,
};
use blastdoor_gateway::{ForwardPlan, GatewayError, InboundRequest, Outcome, Refusal};

use crate::approvals::{
    TakenSnapshot, blocking, cooling_off_secs_for, protection_plan, refusal_for, refuse_resend,
};
use crate::guard::{GuardPipeline, Receipt, UpstreamGuard, now_unix, rule};

impl GuardPipeline {
    /// Whether a freeze is in force: the marker `blastdoor freeze` writes first (seen at once),
    /// or the state database as last polled.
    pub(crate) fn is_frozen(&self) -> bool {
        self.frozen.load(Ordering::Relaxed) || self.frozen_marker.exists()
    }

    /// Stores a new hold for a held request, notifies the approvers, and returns its id; or the
    /// id of the same agent's identical pending hold (no new hold, no notification); or, when
    /// the agent already has `max_pending_per_agent` pending holds, records the refusal in the
    /// ledger and answers [`GatewayError::HoldQueueFull`] (429) without creating a hold.
    #[expect(
        clippy::too_many_arguments,
        reason = "the pieces of one decision, named"
    )]
    pub(crate) async fn create_hold(
        &self,
        request: &InboundRequest,
        verified: &VerifiedToken,
        kind: OperationKind,
        risk: Risk,
        targets: &[Target],
        description: &str,
        verdict: &Verdict,
        approvals: NonZeroU8,
        now_secs: u64,
    ) -> Result<HoldId, GatewayError> {
        let new_hold = NewHold {
            request: CanonicalRequest::new(
                Layer::Gateway,
                request.method.as_str(),
                request.upstream.name(),
                &request.path_and_query,
                &request.body,
            ),
            kind,
            risk,
            targets: targets.to_vec(),
            description: blastdoor_core::redact_known_secrets(description),
            summary: None,
            agent: Some(verified.agent().clone()),
            token_id: Some(verified.token_id().as_str().to_owned()),
            session: None,
            task: verified.task().map(str::to_owned),
            reasons: verdict.reasons.clone(),
            approvals_required: approvals,
            ttl_secs: i64::try_from(self.approvals.expiry.as_secs())
                .unwrap_or(i64::MAX)
                .max(1),
            not_before: None,
            // Opened by the store when the last approval lands (`not_before`).
            cooling_off_secs: cooling_off_secs_for(risk, targets, self.approvals.cooling_off),
        };
        let store = Arc::clone(&self.holds);
        let now = i64::try_from(now_secs).unwrap_or(i64::MAX);
        let cap = self.approvals.max_pending_per_agent;
        let hold = match blocking(move || store.create_or_join(new_hold, cap, now)).await {
            Ok(Queued::Created(hold)) => hold,
            Ok(Queued::Pending(hold)) => {
                // The same agent's identical request is already waiting: the same hold, and no
                // second notification. The caller records this decision under its id.
                tracing::info!(hold_id = %hold.id, "identical request already pending: same hold");
                return Ok(hold.id);
            }
            Err(ApprovalError::QueueFull {
                pending,
                cap,
                frees_at,
                ..
            }) => {
                let agent = verified.agent().as_str();
                let mut reasons = vec![Reason::new(
                    rule("approval.queue-full"),
                    format!(
                        "`{agent}` already has {pending} holds waiting for a decision, the most \
                         allowed per agent ([approvals] max_pending_per_agent = {cap}); no hold \
                         was created"
                    ),
                    Some(format!(
                        "approve, deny or cancel the agent's pending holds (`blastdoor holds --agent {agent}`)"
                    )),
                    "a human must decide on your pending holds before you can ask for another",
                )];
                reasons.extend(verdict.reasons.iter().cloned());
                let record = Record {
                    time_unix_ms: now_unix().1,
                    layer: Layer::Gateway,
                    actor: Actor {
                        agent: Some(verified.agent().clone()),
                        session: None,
                    },
                    operation: Operation::new(kind, description, risk, targets.to_vec()),
                    verdict: Verdict::deny(reasons),
                    hold_id: None,
                    approvers: Vec::new(),
                    snapshot_id: None,
                    upstream_response: None,
                };
                let seq = self.append(&record).await?;
                tracing::warn!(
                    agent,
                    pending,
                    cap,
                    ledger_seq = seq,
                    "hold queue full: refused without creating a hold"
                );
                let retry_after_secs =
                    frees_at.map(|at| u64::try_from(at.saturating_sub(now)).unwrap_or(0).max(1));
                return Err(GatewayError::HoldQueueFull {
                    pending,
                    cap,
                    retry_after_secs,
                });
            }
            Err(error) => return Err(GatewayError::ApprovalsUnavailable(error.to_string())),
        };
        tracing::info!(hold_id = %hold.id, approvals = hold.approvals_required, "hold created");
        if let Some(url) = &self.approvals.webhook_url {
            crate::webhook::notify(
                &self.client,
                url,
                crate::webhook::new_hold_text(&hold, &self.approvals.ui_base_url),
            );
        }
        Ok(hold.id)
    }

    /// A re-sent held request: released exactly once, or refused.
    pub(crate) async fn release(
        &self,
        request: &InboundRequest,
        guard: &UpstreamGuard,
        verified: &VerifiedToken,
        hold_id: &str,
        now_secs: u64,
    ) -> Result<Outcome<Receipt>, GatewayError> {
        let now = i64::try_from(now_secs).unwrap_or(i64::MAX);
        let upstream_name = request.upstream.name();
        let refuse = |refusal: Refusal| {
            tracing::info!(
                hold_id,
                code = refusal.hold_code.as_deref().unwrap_or(""),
                "re-send refused"
            );
            Ok(Outcome::Refuse(refusal))
        };
        let store = Arc::clone(&self.holds);
        let id = hold_id.to_owned();
        let hold = match blocking(move || store.hold(&id)).await {
            Ok(hold) => hold,
            Err(error) => return refuse(refusal_for(&error, hold_id)?),
        };
        if hold.agent.as_ref() != Some(verified.agent()) {
            return refuse(refuse_resend(
                hold_id,
                "hold_agent_mismatch",
                "this hold was created for another agent's request; only that agent can re-send it."
                    .to_owned(),
            ));
        }
        let digest = CanonicalRequest::new(
            Layer::Gateway,
            request.method.as_str(),
            upstream_name,
            &request.path_and_query,
            &request.body,
        )
        .digest();
        let Some(_in_flight) = self.in_flight.enter(hold_id) else {
            let mut refusal = refuse_resend(
                hold_id,
                "hold_in_progress",
                "this hold is being executed by another request right now.".to_owned(),
            );
            refusal.decision = Decision::hold(1);
            return refuse(refusal);
        };
        // Checks that must pass before a snapshot is worth taking. The claim below checks
        // them again, atomically; these only avoid snapshots for requests that cannot run.
        let mut snapshots = Vec::new();
        if crate::approvals::is_approved(&hold) {
            if digest != hold.digest {
                return refuse(refusal_for(
                    &blastdoor_approval::ApprovalError::DigestMismatch {
                        id: hold.id.clone(),
                    },
                    hold_id,
                )?);
            }
            if let Some(opens_at) = hold.not_before.filter(|opens_at| now < *opens_at) {
                return refuse(refusal_for(
                    &blastdoor_approval::ApprovalError::CoolingOff {
                        id: hold.id.clone(),
                        opens_at,
                    },
                    hold_id,
                )?);
            }
            if self.is_frozen() {
                return refuse(refusal_for(
                    &blastdoor_approval::ApprovalError::Frozen {
                        id: hold.id.clone(),
                    },
                    hold_id,
                )?);
            }
            let (covered, _) =
                protection_plan(&self.approvals, upstream_name, hold.risk, &hold.targets);
            for protect in covered {
                let taken = match protect.method {
                    blastdoor_config::ProtectMethod::RailwayBackup => {
                        self.railway_backup(request, guard, protect, now).await
                    }
                    _ => {
                        self.snapshots
                            .take(&self.approvals.snapshots, protect, &self.secrets, now)
                            .await
                    }
                };
                match taken {
                    Ok(manifest) => {
                        let taken = TakenSnapshot {
                            id: manifest.id.clone(),
                            digest: manifest.digest(),
                            resource: manifest.resource.clone(),
                            isolated: manifest.isolated,
                        };
                        self.record_snapshot(&hold, verified, &taken, now).await?;
                        snapshots.push(taken);
                    }
                    Err(why) => {
                        let why = blastdoor_core::redact_known_secrets(&why);
                        tracing::error!(hold_id, resource = %protect.resource, why, "snapshot failed; the approved destroy does not run");
                        self.record_snapshot_failure(&hold, verified, &protect.resource, &why, now)
                            .await;
                        if let Some(url) = &self.approvals.webhook_url {
                            crate::webhook::notify(
                                &self.client,
                                url,
                                crate::webhook::snapshot_failed_text(
                                    &hold,
                                    &self.approvals.ui_base_url,
                                ),
                            );
                        }
                        return Err(GatewayError::SnapshotFailed(format!(
                            "hold `{hold_id}`, resource `{}`: {why}",
                            protect.resource
                        )));
                    }
                }
            }
        }
        let store = Arc::clone(&self.holds);
        let id = hold_id.to_owned();
        let claim_digest = digest;
        let claimed =
            match blocking(move || store.claim_for_execution(&id, &claim_digest, now)).await {
                Ok(claimed) => claimed.hold,
                Err(error) => return refuse(refusal_for(&error, hold_id)?),
            };
        // From here on the hold is consumed: any failure is recorded as its outcome.
        let body = match (
            request.upstream.kind(),
            self.approvals.schedule_project_deletes,
        ) {
            (blastdoor_gateway::UpstreamKind::Railway, true) => {
                crate::approvals::schedule_project_deletes(&request.body).map(bytes::Bytes::from)
            }
            _ => None,
        };
        let credential = match &guard.credential {
            Some(name) => match self.credential(name) {
                Ok(credential) => Some(credential),
                Err(error) => {
                    crate::approvals::mark_executed(
                        &self.holds,
                        hold_id,
                        0,
                        "not forwarded: the upstream credential is unavailable".to_owned(),
                    )
                    .await;
                    return Err(GatewayError::CredentialUnavailable {
                        upstream: upstream_name.to_owned(),
                        why: error.to_string(),
                    });
                }
            },
            None => None,
        };
        let approvers = claimed.approvers();
        let mut reasons = vec![Reason::new(
            rule("approval.released"),
            format!(
                "released once for hold `{hold_id}`, approved by {}",
                approvers.join(", ")
            ),
            None,
            "approved by humans; executed once",
        )];
        for taken in &snapshots {
            reasons.push(Reason::new(
                rule("snapshot.taken"),
                format!(
                    "snapshot {} ({}, {}) of `{}` taken before the destroy",
                    taken.id,
                    taken.digest,
                    taken.isolation(),
                    taken.resource
                ),
                None,
                "a snapshot was taken first",
            ));
        }
        if body.is_some() {
            reasons.push(Reason::new(
                rule("railway.project-delete-scheduled"),
                "projectDelete forwarded as projectScheduleDelete (Railway's 48-hour grace)"
                    .to_owned(),
                None,
                "the project deletion was scheduled with Railway's 48-hour grace period",
            ));
        }
        let (_, now_ms) = now_unix();
        let record = Record {
            time_unix_ms: now_ms,
            layer: Layer::Gateway,
            actor: Actor {
                agent: Some(verified.agent().clone()),
                session: None,
            },
            operation: Operation::new(
                claimed.kind,
                &claimed.description,
                claimed.risk,
                claimed.targets.clone(),
            ),
            verdict: Verdict::allow(reasons),
            hold_id: Some(claimed.id.clone()),
            approvers,
            snapshot_id: snapshots.first().map(|taken| taken.id.clone()),
            upstream_response: None,
        };
        let seq = match self.append(&record).await {
            Ok(seq) => seq,
            Err(error) => {
                crate::approvals::mark_executed(
                    &self.holds,
                    hold_id,
                    0,
                    "not forwarded: the ledger could not record the release".to_owned(),
                )
                .await;
                return Err(error);
            }
        };
        tracing::info!(
            hold_id,
            ledger_seq = seq,
            agent = verified.agent().as_str(),
            "approved hold released"
        );
        Ok(Outcome::Forward(ForwardPlan {
            credential,
            body,
            receipt: Receipt {
                record,
                seq,
                hold: Some(hold_id.to_owned()),
            },
        }))
    }

    /// `railway_backup`: asks Railway to back up every instance of the volume
    /// (`volumeInstanceBackupCreate`) with the real credential, then records the backups as a
    /// manifest marked *not isolated* (they die with the volume). Any failure: no destroy.
    async fn railway_backup(
        &self,
        request: &InboundRequest,
        guard: &UpstreamGuard,
        protect: &blastdoor_config::ProtectConfig,
        now: i64,
    ) -> Result<blastdoor_snapshot::Manifest, String> {
        let crate::guard::Classifier::Railway(resolver) = &guard.classifier else {
            return Err("railway_backup protects only railway upstreams".to_owned());
        };
        let resolved = resolver.current();
        let instances: Vec<String> = resolved
            .topology
            .volume(&protect.resource)
            .map(|volume| {
                volume
                    .instances
                    .iter()
                    .map(|instance| instance.id.clone())
                    .collect()
            })
            .unwrap_or_default();
        if instances.is_empty() {
            return Err(format!(
                "Railway reports no instance of volume `{}` to back up",
                protect.resource
            ));
        }
        let name = guard
            .credential
            .as_deref()
            .ok_or_else(|| "no credential is configured for the backup call".to_owned())?;
        let credential = self.credential(name).map_err(|error| error.to_string())?;
        let client = request.upstream.client().unwrap_or(&self.client);
        let mut references = Vec::new();
        for instance in &instances {
            let (status, answer) = blastdoor_gateway::forward::post_json(
                client,
                &request.upstream,
                crate::topology::GRAPHQL_PATH,
                crate::approvals::railway_backup_body(instance),
                &credential,
                64 * 1024,
            )
            .await
            .map_err(|error| error.to_string())?;
            let json: serde_json::Value = serde_json::from_slice(&answer)
                .map_err(|_| format!("Railway answered {status} with a body that is not JSON"))?;
            let created = json
                .get("data")
                .and_then(|data| data.get("volumeInstanceBackupCreate"))
                .filter(|value| !value.is_null());
            match (status.is_success(), json.get("errors"), created) {
                (true, None, Some(created)) => {
                    references.push(format!("{instance}: {created}"));
                }
                _ => {
                    return Err(format!(
                        "Railway refused the backup of volume instance `{instance}` (status {status})"
                    ));
                }
            }
        }
        self.snapshots
            .record_upstream_backup(
                &self.approvals.snapshots,
                &self.secrets,
                request.upstream.name(),
                &protect.resource,
                &references.join("; "),
                now,
            )
            .await
    }

    /// The ledger entry of a snapshot taken before a destroy (durable before the destroy).
    async fn record_snapshot(
        &self,
        hold: &blastdoor_approval::Hold,
        verified: &VerifiedToken,
        taken: &TakenSnapshot,
        now: i64,
    ) -> Result<u64, GatewayError> {
        let record = Record {
            time_unix_ms: now.saturating_mul(1000),
            layer: Layer::Gateway,
            actor: Actor {
                agent: Some(verified.agent().clone()),
                session: None,
            },
            operation: Operation::new(
                OperationKind::Internal,
                &format!(
                    "snapshot of `{}` before hold `{}` runs",
                    taken.resource, hold.id
                ),
                Risk::Read,
                hold.targets.clone(),
            ),
            verdict: Verdict::allow(vec![Reason::new(
                rule("snapshot.taken"),
                format!(
                    "snapshot {} {} stored ({})",
                    taken.id,
                    taken.digest,
                    taken.isolation()
                ),
                None,
                "a snapshot was taken first",
            )]),
            hold_id: Some(hold.id.clone()),
            approvers: hold.approvers(),
            snapshot_id: Some(taken.id.clone()),
            upstream_response: None,
        };
        self.append(&record).await
    }

    /// The ledger entry of a failed snapshot (the destroy did not run).
    async fn record_snapshot_failure(
        &self,
        hold: &blastdoor_approval::Hold,
        verified: &VerifiedToken,
        resource: &str,
        why: &str,
        now: i64,
    ) {
        let record = Record {
            time_unix_ms: now.saturating_mul(1000),
            layer: Layer::Gateway,
            actor: Actor {
                agent: Some(verified.agent().clone()),
                session: None,
            },
            operation: Operation::new(
                hold.kind,
                &hold.description,
                hold.risk,
                hold.targets.clone(),
            ),
            verdict: Verdict::deny(vec![Reason::new(
                rule("snapshot.failed"),
                format!(
                    "the snapshot of `{resource}` failed, so the approved destroy did not run: {why}"
                ),
                Some(
                    "fix the snapshot and re-send; the hold stays approved until it expires"
                        .to_owned(),
                ),
                "the snapshot that must precede this destroy failed; nothing was forwarded",
            )]),
            hold_id: Some(hold.id.clone()),
            approvers: hold.approvers(),
            snapshot_id: None,
            upstream_response: None,
        };
        if let Err(error) = self.append(&record).await {
            tracing::error!(%error, "could not record the failed snapshot");
        }
    }
}
