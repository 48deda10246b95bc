//! The gateway's side of human approvals (layer 5) and of what runs before an approved destroy
//! (layer 6): creating a hold for a held request, and releasing a re-sent one
//! (`Blastdoor-Hold: ID`) exactly once — after the agent check, the digest check, the
//! cooling-off window and, for a protected resource, a verified snapshot.
//!
//! The hold state machine itself lives in `blastdoor-approval`; this module only asks it, from
//! blocking threads (its store is SQLite with fsync). Every refusal of a re-send is a
//! [`Refusal`] whose `hold_code` is the store's stable code; every infrastructure failure is a
//! [`GatewayError`] answered without forwarding.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use blastdoor_approval::{ApprovalError, Hold, HoldState, HoldStore};
use blastdoor_config::{ProtectConfig, SnapshotsConfig};
use blastdoor_core::{Decision, HoldId, Risk, RuleId, Secret, SnapshotId};
use blastdoor_gateway::{GatewayError, Refusal};
use blastdoor_snapshot::{LockMode, Manifest, ObjectLockPolicy, Snapshotter};

/// Object Lock for snapshots in a bucket that has it (as `blastdoor snapshots` uses):
/// GOVERNANCE for 30 days, so no agent credential can delete one early.
const OBJECT_LOCK: ObjectLockPolicy = ObjectLockPolicy {
    mode: LockMode::Governance,
    retain_for_seconds: 30 * 86_400,
};

/// How approvals and snapshots behave, from `[approvals]`, `[snapshots]` and `[[protect]]`.
#[derive(Debug, Clone)]
pub struct ApprovalSettings {
    /// How long a hold waits for approvals and its re-send.
    pub expiry: Duration,
    /// How long an approved production destroy waits after its last approval (zero: no wait).
    pub cooling_off: Duration,
    /// Slack-compatible webhook for new holds (never logged).
    pub webhook_url: Option<Secret<String>>,
    /// The approval UI's base URL (`.../ui`), for links in notifications.
    pub ui_base_url: String,
    /// Railway `projectDelete` is sent as `projectScheduleDelete` (48-hour grace) unless this
    /// is switched off.
    pub schedule_project_deletes: bool,
    pub snapshots: SnapshotsConfig,
    pub protect: Vec<ProtectConfig>,
    /// The most holds one agent (by name) may have waiting for a decision; past it a held
    /// request is refused with 429 instead of queued.
    pub max_pending_per_agent: NonZeroU32,
}

impl ApprovalSettings {
    /// The protection entry for `resource` of `upstream`.
    pub fn protection(&self, upstream: &str, resource: &str) -> Option<&ProtectConfig> {
        self.protect
            .iter()
            .find(|entry| entry.upstream.as_str() == upstream && entry.resource == resource)
    }
}

/// Runs `work` on a blocking thread; a panic or cancellation there is a store failure.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApprovalError> + Send + 'static,
) -> Result<T, ApprovalError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(error) => Err(ApprovalError::Storage(format!(
            "the approval task failed: {error}"
        ))),
    }
}

/// The answer to a re-send the store refused, or the error for a store failure.
pub(crate) fn refusal_for(error: &ApprovalError, hold_id: &str) -> Result<Refusal, GatewayError> {
    if !error.is_refusal() {
        return Err(GatewayError::ApprovalsUnavailable(error.to_string()));
    }
    let (decision, opens_at) = match error {
        ApprovalError::NotApproved { required, .. } => (Decision::hold(*required), None),
        ApprovalError::CoolingOff { opens_at, .. } => (Decision::hold(1), Some(*opens_at)),
        ApprovalError::Frozen { .. } => (Decision::hold(1), None),
        _ => (Decision::Deny, None),
    };
    let message = match error {
        ApprovalError::CoolingOff { opens_at, .. } => format!(
            "{error}; re-send the identical request with the same Blastdoor-Hold header after unix time {opens_at}."
        ),
        ApprovalError::NotApproved { .. } => format!(
            "{error}; re-send the identical request with the same Blastdoor-Hold header once it is approved."
        ),
        _ => format!("{error}."),
    };
    Ok(Refusal {
        decision,
        rule_ids: vec![rule(error.code())],
        hold_id: HoldId::new(hold_id).ok(),
        message,
        hold_code: Some(error.code().to_owned()),
        opens_at,
    })
}

/// A refusal of our own (not the store's) for a re-send.
pub(crate) fn refuse_resend(hold_id: &str, code: &str, message: String) -> Refusal {
    Refusal {
        decision: Decision::Deny,
        rule_ids: vec![rule(code)],
        hold_id: HoldId::new(hold_id).ok(),
        message,
        hold_code: Some(code.to_owned()),
        opens_at: None,
    }
}

fn rule(code: &str) -> RuleId {
    RuleId::new(format!("approval.{}", code.replace('_', "-")))
        .or_else(|_| RuleId::new("approval.refused"))
        .unwrap_or_else(|_| crate::guard::fallback_rule())
}

/// The cooling-off window a new hold is created with, in seconds: the whole window for a
/// destroy that may touch production (a target in an unknown environment, or no resolved
/// target, counts as production), otherwise 0. The store opens it when the last approval
/// lands (`not_before`), so `blastdoor holds` and the UI can show when the hold may run.
pub(crate) fn cooling_off_secs_for(
    risk: Risk,
    targets: &[blastdoor_core::Target],
    cooling_off: Duration,
) -> i64 {
    if cooling_off.is_zero() || risk != Risk::Destroy {
        return 0;
    }
    if !targets.is_empty()
        && !targets
            .iter()
            .any(blastdoor_core::Target::may_touch_production)
    {
        return 0;
    }
    i64::try_from(cooling_off.as_secs()).unwrap_or(i64::MAX)
}

/// The `[[protect]]` entries that cover the targets of a destroy, and the targets that have
/// none (as `kind id`).
pub(crate) fn protection_plan<'a>(
    settings: &'a ApprovalSettings,
    upstream: &str,
    risk: Risk,
    targets: &[blastdoor_core::Target],
) -> (Vec<&'a ProtectConfig>, Vec<String>) {
    let mut covered = Vec::new();
    let mut uncovered = Vec::new();
    if risk != Risk::Destroy {
        return (covered, uncovered);
    }
    for target in targets {
        let target_upstream = target.upstream.as_deref().unwrap_or(upstream);
        match settings.protection(target_upstream, &target.id) {
            Some(entry) => {
                if !covered
                    .iter()
                    .any(|known: &&ProtectConfig| known.resource == entry.resource)
                {
                    covered.push(entry);
                }
            }
            None => uncovered.push(format!("{} {}", target.kind, target.id)),
        }
    }
    (covered, uncovered)
}

/// What the hold's description says about snapshots, so approvers know before they approve.
pub(crate) fn snapshot_note(covered: &[&ProtectConfig], uncovered: &[String]) -> Option<String> {
    let mut notes = Vec::new();
    for entry in covered {
        notes.push(format!(
            "snapshot before it runs: {} of {}",
            method_name(entry),
            entry.resource
        ));
    }
    for what in uncovered {
        notes.push(format!("no snapshot: no [[protect]] entry for {what}"));
    }
    if notes.is_empty() {
        None
    } else {
        Some(notes.join("; "))
    }
}

fn method_name(entry: &ProtectConfig) -> &'static str {
    match entry.method {
        blastdoor_config::ProtectMethod::PgDump { .. } => "pg_dump",
        blastdoor_config::ProtectMethod::Command { .. } => "command",
        blastdoor_config::ProtectMethod::RailwayBackup => "railway_backup (not isolated)",
    }
}

/// Holds being released right now: a second concurrent re-send of the same hold waits its
/// turn as a refusal instead of taking a second snapshot.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    ids: Mutex<HashSet<String>>,
}

/// Removes its id from [`InFlight`] when dropped.
pub(crate) struct InFlightGuard<'a> {
    set: &'a InFlight,
    id: String,
}

impl InFlight {
    pub(crate) fn enter(&self, id: &str) -> Option<InFlightGuard<'_>> {
        let mut ids = self.ids.lock().ok()?;
        if ids.insert(id.to_owned()) {
            Some(InFlightGuard {
                set: self,
                id: id.to_owned(),
            })
        } else {
            None
        }
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut ids) = self.set.ids.lock() {
            ids.remove(&self.id);
        }
    }
}

/// Takes snapshots before approved destroys.
///
/// `blastdoor-snapshot` takes its secrets as `&dyn SecretSource`, which is not `Sync`, so its
/// futures are not `Send` and cannot run on the gateway's multi-threaded runtime. Each snapshot
/// therefore runs on a blocking thread with a runtime of its own, with the few secrets it needs
/// fetched beforehand; the store is opened per snapshot (snapshots are rare, and a store's
/// connections must not outlive the runtime that made them).
pub(crate) struct Snapshots {
    keys_dir: std::path::PathBuf,
}

impl std::fmt::Debug for Snapshots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshots").finish_non_exhaustive()
    }
}

impl Snapshots {
    pub(crate) fn new(keys_dir: std::path::PathBuf) -> Snapshots {
        Snapshots { keys_dir }
    }

    /// Takes and verifies a snapshot of `protect`. Any error: the destroy must not run.
    pub(crate) async fn take(
        &self,
        config: &SnapshotsConfig,
        protect: &ProtectConfig,
        secrets: &blastdoor_broker::SecretStore,
        now: i64,
    ) -> Result<Manifest, String> {
        let mut needed: Vec<&str> = Vec::new();
        if let blastdoor_config::ProtectMethod::PgDump { dsn } = &protect.method {
            needed.push(dsn.as_str());
        }
        if let Some(name) = &config.credential {
            needed.push(name.as_str());
        }
        let mut fetched: HashMap<String, Result<Secret<String>, String>> = HashMap::new();
        for name in needed {
            fetched.insert(
                name.to_owned(),
                secrets.get(name).map_err(|error| error.to_string()),
            );
        }
        let config = config.clone();
        let protect = protect.clone();
        let keys_dir = self.keys_dir.clone();
        let work = move || -> Result<Manifest, String> {
            let source = move |name: &str| -> Result<Secret<String>, String> {
                match fetched.get(name) {
                    Some(found) => found.clone(),
                    None => Err(format!("secret `{name}` was not prepared")),
                }
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| format!("cannot start the snapshot runtime: {error}"))?;
            runtime.block_on(async {
                let signer = blastdoor_snapshot::ManifestSigner::load_or_create(&keys_dir)
                    .map_err(|error| format!("cannot load the snapshot signing key: {error}"))?;
                let store = Snapshotter::open_store(&config, &source, OBJECT_LOCK)
                    .await
                    .map_err(|error| format!("cannot open the snapshot store: {error}"))?;
                Snapshotter::new(store, signer)
                    .take(&protect, &source, now, blastdoor_snapshot::Progress::Quiet)
                    .await
                    .map_err(|error| error.to_string())
            })
        };
        match tokio::task::spawn_blocking(work).await {
            Ok(result) => result,
            Err(error) => Err(format!("the snapshot task failed: {error}")),
        }
    }
}

impl Snapshots {
    /// Records a backup the upstream made of itself (`railway_backup`): a signed manifest with
    /// `isolated: false` in the store, so the ledger and `blastdoor snapshots list` show it.
    pub(crate) async fn record_upstream_backup(
        &self,
        config: &SnapshotsConfig,
        secrets: &blastdoor_broker::SecretStore,
        upstream: &str,
        resource: &str,
        reference: &str,
        now: i64,
    ) -> Result<Manifest, String> {
        let credential = config.credential.as_ref().map(|name| {
            (
                name.as_str().to_owned(),
                secrets
                    .get(name.as_str())
                    .map_err(|error| error.to_string()),
            )
        });
        let config = config.clone();
        let keys_dir = self.keys_dir.clone();
        let (upstream, resource, reference) = (
            upstream.to_owned(),
            resource.to_owned(),
            reference.to_owned(),
        );
        let work = move || -> Result<Manifest, String> {
            let source = move |name: &str| -> Result<Secret<String>, String> {
                match &credential {
                    Some((known, found)) if known == name => found.clone(),
                    _ => Err(format!("secret `{name}` was not prepared")),
                }
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| format!("cannot start the snapshot runtime: {error}"))?;
            runtime.block_on(async {
                let signer = blastdoor_snapshot::ManifestSigner::load_or_create(&keys_dir)
                    .map_err(|error| format!("cannot load the snapshot signing key: {error}"))?;
                let store = Snapshotter::open_store(&config, &source, OBJECT_LOCK)
                    .await
                    .map_err(|error| format!("cannot open the snapshot store: {error}"))?;
                Snapshotter::new(store, signer)
                    .record_upstream_backup(&upstream, &resource, &reference, now)
                    .await
                    .map_err(|error| error.to_string())
            })
        };
        match tokio::task::spawn_blocking(work).await {
            Ok(result) => result,
            Err(error) => Err(format!("the snapshot task failed: {error}")),
        }
    }
}

/// The GraphQL body asking Railway to back up one volume instance.
pub(crate) fn railway_backup_body(volume_instance_id: &str) -> bytes::Bytes {
    let query = format!(
        "mutation BlastdoorBackupBeforeDestroy {{ volumeInstanceBackupCreate(volumeInstanceId: {}) {{ workflowId }} }}",
        serde_json::Value::String(volume_instance_id.to_owned())
    );
    bytes::Bytes::from(serde_json::json!({ "query": query }).to_string())
}

/// A snapshot taken before a destroy: its id and digest for the ledger.
#[derive(Debug, Clone)]
pub(crate) struct TakenSnapshot {
    pub id: SnapshotId,
    pub digest: String,
    pub resource: String,
    /// False for the upstream's own backup, which dies with the resource.
    pub isolated: bool,
}

impl TakenSnapshot {
    /// `isolated` or the warning that it is not, for ledger reasons.
    pub fn isolation(&self) -> &'static str {
        if self.isolated {
            "isolated"
        } else {
            "NOT isolated: the upstream's own backup, lost with the resource"
        }
    }
}

/// Railway `projectDelete` → `projectScheduleDelete` in a GraphQL JSON body (every occurrence
/// of the root field's name as a whole word in `query`). `None`: nothing to rewrite, or the
/// body is not JSON with a string `query` (batched arrays are rewritten element by element).
pub fn schedule_project_deletes(body: &[u8]) -> Option<Vec<u8>> {
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut changed = false;
    let mut rewrite_one = |document: &mut serde_json::Value| {
        if let Some(serde_json::Value::String(query)) = document.get_mut("query")
            && let Some(rewritten) = rename_word(query, "projectDelete", "projectScheduleDelete")
        {
            *query = rewritten;
            changed = true;
        }
    };
    match &mut value {
        serde_json::Value::Array(documents) => documents.iter_mut().for_each(&mut rewrite_one),
        document => rewrite_one(document),
    }
    if changed {
        serde_json::to_vec(&value).ok()
    } else {
        None
    }
}

/// `text` with every whole-word `from` replaced by `to`; `None` when there is none.
fn rename_word(text: &str, from: &str, to: &str) -> Option<String> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    let mut found = false;
    while let Some(at) = rest.find(from) {
        let before = rest.get(..at).unwrap_or_default();
        let after = rest.get(at + from.len()..).unwrap_or_default();
        let whole = !before.chars().next_back().is_some_and(is_word)
            && !after.chars().next().is_some_and(is_word);
        out.push_str(before);
        if whole {
            out.push_str(to);
            found = true;
        } else {
            out.push_str(from);
        }
        rest = after;
    }
    out.push_str(rest);
    found.then_some(out)
}

/// Marks a claimed hold executed with `status` (0: not forwarded or unreachable).
pub(crate) async fn mark_executed(store: &Arc<HoldStore>, id: &str, status: u16, summary: String) {
    let store = Arc::clone(store);
    let id = id.to_owned();
    let now = crate::guard::now_unix().0;
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    let result = blocking(move || store.mark_executed(&id, status, &summary, now)).await;
    if let Err(error) = result {
        tracing::error!(%error, "could not record the outcome of an approved operation");
    }
}

/// True when the hold can be released now, barring the claim itself.
pub(crate) fn is_approved(hold: &Hold) -> bool {
    hold.state == HoldState::Approved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_delete_becomes_a_scheduled_delete() {
        let body = br#"{"query":"mutation { projectDelete(id: \"p\") }"}"#;
        let rewritten = String::from_utf8(schedule_project_deletes(body).unwrap()).unwrap();
        assert!(
            rewritten.contains("projectScheduleDelete(id"),
            "{rewritten}"
        );
        let aliased = br#"{"query":"mutation { x: projectDelete(id: \"p\") }"}"#;
        assert!(schedule_project_deletes(aliased).is_some());
        let batch = br#"[{"query":"mutation { projectDelete(id: \"p\") }"}]"#;
        assert!(schedule_project_deletes(batch).is_some());
    }

    #[test]
    fn other_fields_are_left_alone() {
        for body in [
            &br#"{"query":"mutation { projectScheduleDelete(id: \"p\") }"}"#[..],
            br#"{"query":"mutation { projectDeleteX(id: \"p\") }"}"#,
            br#"{"query":"mutation { volumeDelete(volumeId: \"v\") }"}"#,
            b"not json",
        ] {
            assert!(schedule_project_deletes(body).is_none());
        }
    }
}

#[cfg(test)]
mod cooling_off_tests {
    use std::num::NonZeroU8;

    use blastdoor_approval::{CanonicalRequest, NewHold};
    use blastdoor_core::{Environment, Layer, OperationKind, Target};

    use super::*;

    const WINDOW: Duration = Duration::from_secs(600);

    fn targets(environment: Environment) -> Vec<Target> {
        vec![Target::new("volume", "vol-1", vec![environment])]
    }

    /// A hold created as the gateway creates it, approved at each of `approved_at`.
    fn approved(risk: Risk, environment: Environment, approved_at: &[i64]) -> Hold {
        let targets = targets(environment);
        let new = NewHold {
            request: CanonicalRequest::new(Layer::Gateway, "POST", "railway", "/graphql/v2", b"{}"),
            kind: OperationKind::Graphql,
            risk,
            cooling_off_secs: cooling_off_secs_for(risk, &targets, WINDOW),
            targets,
            description: "volumeDelete".to_owned(),
            summary: None,
            agent: None,
            token_id: None,
            session: None,
            task: None,
            reasons: vec![],
            approvals_required: NonZeroU8::new(2).unwrap(),
            ttl_secs: 3600,
            not_before: None,
        };
        let mut hold = Hold::new(HoldId::new("hold_1").unwrap(), new, 100).unwrap();
        for (index, at) in approved_at.iter().enumerate() {
            hold.approve(&format!("approver-{index}"), *at).unwrap();
        }
        hold
    }

    #[test]
    fn only_destroys_that_may_touch_production_get_the_window() {
        let production = targets(Environment::production());
        assert_eq!(
            cooling_off_secs_for(Risk::Destroy, &production, WINDOW),
            600
        );
        // Unknown environments, and no resolved target, are never production-safe.
        let unknown = targets(Environment::Unknown);
        assert_eq!(cooling_off_secs_for(Risk::Destroy, &unknown, WINDOW), 600);
        assert_eq!(cooling_off_secs_for(Risk::Destroy, &[], WINDOW), 600);
        assert_eq!(
            cooling_off_secs_for(Risk::Destroy, &production, Duration::ZERO),
            0
        );
        let staging = targets(Environment::parse("staging").unwrap());
        assert_eq!(cooling_off_secs_for(Risk::Destroy, &staging, WINDOW), 0);
        assert_eq!(cooling_off_secs_for(Risk::Write, &production, WINDOW), 0);
    }

    #[test]
    fn the_window_opens_after_the_last_approval_of_a_production_destroy() {
        let hold = approved(Risk::Destroy, Environment::production(), &[110, 150]);
        assert_eq!(hold.not_before, Some(750));
        let hold = approved(Risk::Destroy, Environment::Unknown, &[110, 150]);
        assert_eq!(hold.not_before, Some(750));
        let staging = Environment::parse("staging").unwrap();
        assert_eq!(
            approved(Risk::Destroy, staging, &[110, 150]).not_before,
            None
        );
        assert_eq!(
            approved(Risk::Write, Environment::production(), &[110, 150]).not_before,
            None
        );
    }
}
