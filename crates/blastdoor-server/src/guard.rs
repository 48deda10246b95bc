//! [`GuardPipeline`]: the decision path behind the gateway, for one request:
//! token → classification (per upstream kind) → environments → token ceiling AND policy
//! (strictest wins, with the freeze) → a stored hold → durable ledger entry → credential. A
//! re-send under `Blastdoor-Hold` goes token → the hold's agent → digest → cooling-off →
//! snapshot → claim (once) → durable ledger entry → credential (see [`crate::release`]).
//! Every failure on this path is an error or a refusal, never a forward.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use blastdoor_approval::HoldStore;

use blastdoor_audit::{Record, UpstreamResponse};
use blastdoor_broker::{SecretStore, VerifiedToken};
use blastdoor_config::UpstreamConfig;
use blastdoor_core::{
    Actor, Decision, Environment, HoldId, Layer, Operation, OperationKind, Reason, Risk, RuleId,
    Secret, Target, Verdict,
};
use blastdoor_gateway::forward::UpstreamClient;
use blastdoor_gateway::{
    ForwardPlan, GatewayError, InboundRequest, Outcome, Pipeline, Refusal, UpstreamOutcome,
};
use blastdoor_http::kubernetes::NamespaceMap;
use blastdoor_policy::{CachedPolicyEngine, PolicyRequest};

use crate::approvals::{ApprovalSettings, InFlight, Snapshots, protection_plan, snapshot_note};
use crate::ledger::LedgerWriter;
use crate::tokens::TokenGate;
use crate::topology::RailwayResolver;

/// How each upstream's requests are classified.
#[derive(Debug)]
pub(crate) enum Classifier {
    Railway(RailwayResolver),
    /// The upstream's configuration: its rules and path-prefix environments.
    Rest(UpstreamConfig),
    Kubernetes(NamespaceMap),
}

/// One configured upstream as the pipeline sees it.
#[derive(Debug)]
pub(crate) struct UpstreamGuard {
    /// The secret injected upstream; `None` forwards without a credential.
    pub credential: Option<String>,
    pub classifier: Classifier,
}

/// One thing a request would do: a GraphQL root field or a finding beneath it, or the whole
/// REST/k8s request.
#[derive(Debug)]
struct Part {
    risk: Risk,
    rule_id: RuleId,
    explanation: String,
    targets: Vec<Target>,
    /// Refuse outright with this message for the agent, whatever token and policy say (a
    /// stated environment that is not the resource's).
    refusal: Option<String>,
    /// A read whose environment could not be verified is outside an environment-scoped
    /// token (Railway, where environments are resolved from the upstream itself); elsewhere
    /// an unknown environment is left to policy.
    strict_environments: bool,
}

impl Part {
    fn new(risk: Risk, rule_id: RuleId, explanation: String, targets: Vec<Target>) -> Part {
        Part {
            risk,
            rule_id,
            explanation,
            targets,
            refusal: None,
            strict_environments: false,
        }
    }
}

/// What the gateway hands back with the upstream's answer: the decision entry.
#[derive(Debug)]
pub struct Receipt {
    pub(crate) record: Record,
    pub(crate) seq: u64,
    /// The hold a released re-send executes: marked executed with the upstream's answer.
    pub(crate) hold: Option<String>,
}

/// The decision path.
pub struct GuardPipeline {
    pub(crate) upstreams: HashMap<String, UpstreamGuard>,
    pub(crate) tokens: TokenGate,
    pub(crate) secrets: SecretStore,
    /// Credentials already decrypted from `secrets` (which is read once, at start-up, so this
    /// holds exactly what decrypting again would give; the key that decrypts them is in memory
    /// anyway).
    pub(crate) decrypted: std::sync::Mutex<HashMap<String, Secret<String>>>,
    /// Decisions are remembered per second for identical requests (see the cache's docs).
    pub(crate) policy: CachedPolicyEngine,
    pub(crate) ledger: LedgerWriter,
    pub(crate) holds: Arc<HoldStore>,
    pub(crate) approvals: ApprovalSettings,
    /// The freeze as last read from the state database (refreshed every second).
    pub(crate) frozen: Arc<AtomicBool>,
    /// The freeze marker file, which `blastdoor freeze` writes first: seen at once.
    pub(crate) frozen_marker: PathBuf,
    pub(crate) in_flight: InFlight,
    pub(crate) snapshots: Snapshots,
    pub(crate) client: UpstreamClient,
}

impl std::fmt::Debug for GuardPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardPipeline")
            .field("upstreams", &self.upstreams.keys())
            .finish_non_exhaustive()
    }
}

pub(crate) fn rule(text: &str) -> RuleId {
    RuleId::new(text).unwrap_or_else(|_| fallback_rule())
}

#[expect(
    clippy::expect_used,
    reason = "a constant that satisfies RuleId's rules"
)]
pub(crate) fn fallback_rule() -> RuleId {
    // INVARIANT: a lowercase slug shorter than 96 bytes.
    RuleId::new("gateway.unclassified").expect("valid rule id")
}

pub(crate) fn now_unix() -> (u64, i64) {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (
        since.as_secs(),
        i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
    )
}

impl Pipeline for GuardPipeline {
    type Receipt = Receipt;

    async fn decide(&self, request: &InboundRequest) -> Result<Outcome<Receipt>, GatewayError> {
        let (now_secs, now_ms) = now_unix();
        let upstream_name = request.upstream.name();
        let guard = self
            .upstreams
            .get(upstream_name)
            .ok_or_else(|| GatewayError::UnknownUpstream(upstream_name.to_owned()))?;
        let token = request.token.as_ref().ok_or(GatewayError::MissingToken)?;
        let verified = self
            .tokens
            .check(token.expose_secret(), now_secs, Instant::now())?;
        // The upstream's own credential in a header the reader lets through (a user agent, a
        // client header): the agent found it. Refused and recorded, never forwarded.
        if let Some(name) = &guard.credential
            && let Ok(real) = self.credential(name)
            && !real.expose_secret().is_empty()
            && let Some((header, _)) = request.headers.iter().find(|(_, value)| {
                value
                    .as_bytes()
                    .windows(real.expose_secret().len())
                    .any(|window| window == real.expose_secret().as_bytes())
            })
        {
            let refused = blastdoor_gateway::RefusedRequest {
                upstream: Arc::clone(&request.upstream),
                method: request.method.clone(),
                path: request
                    .path_and_query
                    .split('?')
                    .next()
                    .unwrap_or("/")
                    .to_owned(),
                token: Some(token.clone()),
                credential_header: header.as_str().to_owned(),
            };
            if let Err(error) = self.record_found_credential(&refused).await {
                tracing::error!(%error, "could not record a found credential");
            }
            return Err(GatewayError::FoundCredential {
                header: header.as_str().to_owned(),
            });
        }
        if let Some(hold_id) = &request.hold {
            return self
                .release(request, guard, &verified, hold_id, now_secs)
                .await;
        }
        let frozen = self.is_frozen();
        let (kind, mut description, parts) = self.classify(request, guard).await?;
        let risk = parts
            .iter()
            .map(|part| part.risk)
            .max()
            .unwrap_or(Risk::Unknown);
        let mut verdict: Option<Verdict> = None;
        for part in &parts {
            let part_verdict = self.judge(&verified, upstream_name, part, now_secs, frozen);
            verdict = Some(match verdict {
                None => part_verdict,
                Some(so_far) => so_far.strictest(part_verdict),
            });
        }
        let verdict = verdict.unwrap_or_else(|| {
            Verdict::deny(vec![Reason::new(
                fallback_rule(),
                "nothing to decide on",
                None,
                "the request was not understood",
            )])
        });
        let targets: Vec<Target> = parts
            .iter()
            .flat_map(|part| part.targets.iter().cloned())
            .collect();
        let hold_id: Option<HoldId> = match verdict.decision {
            Decision::Hold { approvals } => {
                let (covered, uncovered) =
                    protection_plan(&self.approvals, upstream_name, risk, &targets);
                if let Some(note) = snapshot_note(&covered, &uncovered) {
                    description = format!("{description} ({note})");
                }
                Some(
                    self.create_hold(
                        request,
                        &verified,
                        kind,
                        risk,
                        &targets,
                        &description,
                        &verdict,
                        approvals,
                        now_secs,
                    )
                    .await?,
                )
            }
            Decision::Allow | Decision::Deny => None,
        };
        let credential = match (verdict.decision, &guard.credential) {
            (Decision::Allow, Some(name)) => {
                Some(Some(self.credential(name).map_err(|error| {
                    GatewayError::CredentialUnavailable {
                        upstream: upstream_name.to_owned(),
                        why: error.to_string(),
                    }
                })?))
            }
            (Decision::Allow, None) => Some(None),
            (Decision::Hold { .. } | Decision::Deny, _) => None,
        };
        let record = Record {
            time_unix_ms: now_ms,
            layer: Layer::Gateway,
            actor: Actor {
                agent: Some(verified.agent().clone()),
                session: None,
            },
            operation: Operation::new(kind, &description, risk, targets),
            verdict: verdict.clone(),
            hold_id: hold_id.clone(),
            approvers: Vec::new(),
            snapshot_id: None,
            upstream_response: None,
        };
        let seq = self.append(&record).await?;
        tracing::info!(
            upstream = upstream_name,
            agent = verified.agent().as_str(),
            decision = verdict.decision.as_str(),
            risk = risk.as_str(),
            ledger_seq = seq,
            "gateway decision"
        );
        match (verdict.decision, credential) {
            (Decision::Allow, Some(credential)) => Ok(Outcome::Forward(ForwardPlan {
                credential,
                body: None,
                receipt: Receipt {
                    record,
                    seq,
                    hold: None,
                },
            })),
            (decision, _) => Ok(Outcome::Refuse(Refusal::new(
                decision,
                verdict.rule_ids().cloned().collect(),
                hold_id,
                agent_message(&verdict, frozen),
            ))),
        }
    }

    async fn record_response(&self, receipt: Receipt, outcome: UpstreamOutcome) {
        // A read the upstream answered is fully described by its decision entry, which was
        // durable before the request left; a second entry per read would double the ledger's
        // work for nothing an auditor asks. Everything else gets its follow-up entry: any
        // operation that is not a read, a re-sent hold, and a read that failed.
        if receipt.hold.is_none() && !needs_follow_up(receipt.record.operation.risk(), outcome) {
            return;
        }
        let (_, now_ms) = now_unix();
        let mut record = receipt.record;
        record.time_unix_ms = now_ms;
        record.upstream_response = Some(match outcome {
            UpstreamOutcome::Status(status) => UpstreamResponse {
                status,
                summary: format!("forwarded after decision entry {}", receipt.seq),
            },
            UpstreamOutcome::Failed => UpstreamResponse {
                status: 0,
                summary: format!("upstream unreachable after decision entry {}", receipt.seq),
            },
        });
        if let Err(error) = self.append(&record).await {
            tracing::error!(%error, decision_seq = receipt.seq, "could not record the upstream's answer");
        }
        if let Some(hold) = receipt.hold {
            let (status, summary) = match outcome {
                UpstreamOutcome::Status(status) => {
                    (status, format!("the upstream answered {status}"))
                }
                UpstreamOutcome::Failed => (0, "the upstream could not be reached".to_owned()),
            };
            crate::approvals::mark_executed(&self.holds, &hold, status, summary).await;
        }
    }

    async fn record_refusal(
        &self,
        refused: &blastdoor_gateway::RefusedRequest,
    ) -> Result<(), GatewayError> {
        self.record_found_credential(refused).await
    }
}

/// Whether the upstream's answer to a forwarded operation of `risk` gets its own ledger entry:
/// always, except for a read the upstream answered without an error status.
fn needs_follow_up(risk: Risk, outcome: UpstreamOutcome) -> bool {
    match outcome {
        UpstreamOutcome::Status(status) => risk != Risk::Read || status >= 400,
        UpstreamOutcome::Failed => true,
    }
}

impl GuardPipeline {
    /// The upstream credential `name`, decrypted once and then remembered.
    pub(crate) fn credential(
        &self,
        name: &str,
    ) -> Result<Secret<String>, blastdoor_broker::BrokerError> {
        if let Some(known) = self
            .decrypted
            .lock()
            .ok()
            .and_then(|decrypted| decrypted.get(name).cloned())
        {
            return Ok(known);
        }
        let credential = self.secrets.get(name)?;
        if let Ok(mut decrypted) = self.decrypted.lock() {
            decrypted.insert(name.to_owned(), credential.clone());
        }
        Ok(credential)
    }

    /// Appends through the ledger writer; returns once durable.
    pub(crate) async fn append(&self, record: &Record) -> Result<u64, GatewayError> {
        self.ledger
            .append(record)
            .await
            .map_err(GatewayError::LedgerUnavailable)
    }

    /// The token's ceiling and the policy, for one part; the stricter wins.
    fn judge(
        &self,
        verified: &VerifiedToken,
        upstream: &str,
        part: &Part,
        now_secs: u64,
        frozen: bool,
    ) -> Verdict {
        if let Some(message) = &part.refusal {
            return Verdict::deny(vec![Reason::new(
                part.rule_id.clone(),
                part.explanation.clone(),
                None,
                message.clone(),
            )]);
        }
        let mut verdict = match token_ceiling(verified, upstream, part, now_secs) {
            Ok(()) => None,
            Err(what) => Some(Verdict::deny(vec![
                Reason::new(
                    rule("token.out-of-scope"),
                    format!(
                        "the capability token of `{}` does not allow {what}",
                        verified.agent().as_str()
                    ),
                    Some(
                        "mint a token scoped to what the task needs, or let a human do it"
                            .to_owned(),
                    ),
                    format!("your capability token does not allow {what}"),
                ),
                Reason::new(
                    part.rule_id.clone(),
                    part.explanation.clone(),
                    None,
                    part.explanation.clone(),
                ),
            ])),
        };
        let targets = if part.targets.is_empty() {
            vec![Target::new("request", "-", vec![Environment::Unknown]).on_upstream(upstream)]
        } else {
            part.targets.clone()
        };
        for target in targets {
            let decision = self.policy.decide(&PolicyRequest {
                agent: Some(verified.agent().clone()),
                risk: part.risk,
                target,
                task: verified.task().map(str::to_owned),
                now_unix: i64::try_from(now_secs).unwrap_or(i64::MAX),
                rule_ids: vec![part.rule_id.clone()],
                frozen,
                layer: Layer::Gateway,
            });
            let mut policy_verdict = decision.verdict;
            if policy_verdict.decision != Decision::Allow {
                policy_verdict.reasons.insert(
                    0,
                    Reason::new(
                        part.rule_id.clone(),
                        part.explanation.clone(),
                        None,
                        part.explanation.clone(),
                    ),
                );
            }
            verdict = Some(match verdict {
                None => policy_verdict,
                Some(so_far) => so_far.strictest(policy_verdict),
            });
        }
        verdict.unwrap_or_else(|| Verdict::deny(vec![]))
    }

    /// Brings the cached Railway topology up to date for what `classification` names: a
    /// refresh when an id is unknown (rate-limited by the resolver), and one lookup per
    /// deployment whose environment is not known yet. Lookups use the real credential and
    /// read-only queries; what stays unresolved is judged as an unknown environment.
    async fn resolve_railway(
        &self,
        request: &InboundRequest,
        guard: &UpstreamGuard,
        resolver: &RailwayResolver,
        classification: &blastdoor_http::railway::RailwayClassification,
    ) -> Result<(), GatewayError> {
        let now = Instant::now();
        let refresh = resolver.wants_refresh(classification, now);
        let lookups = resolver.wanted_lookups(classification, now);
        if !refresh && lookups.is_empty() {
            return Ok(());
        }
        let upstream = request.upstream.name();
        let name = guard.credential.as_deref().ok_or_else(|| {
            GatewayError::ResolutionFailed(
                "no credential is configured for the topology lookup".to_owned(),
            )
        })?;
        let credential =
            self.credential(name)
                .map_err(|error| GatewayError::CredentialUnavailable {
                    upstream: upstream.to_owned(),
                    why: error.to_string(),
                })?;
        let client = request.upstream.client().unwrap_or(&self.client);
        if refresh {
            resolver
                .refresh(client, &request.upstream, &credential)
                .await?;
        }
        if !lookups.is_empty() {
            resolver
                .look_up(client, &request.upstream, &credential, &lookups)
                .await;
        }
        Ok(())
    }

    /// Fetches the changes staged in the environment `environmentPatchCommitStaged` would
    /// commit (with the real credential, a read-only query) and inspects them like a patch
    /// sent through the gateway. `None`: nothing risky is staged. A fetch or an answer that
    /// fails gives an `Unknown` finding: what would be committed is not known.
    async fn staged_patch_finding(
        &self,
        request: &InboundRequest,
        guard: &UpstreamGuard,
        field: &blastdoor_http::railway::ClassifiedField,
    ) -> Option<blastdoor_http::railway::hidden::HiddenFinding> {
        let unknown = |why: &str| blastdoor_http::railway::hidden::HiddenFinding {
            risk: Risk::Unknown,
            rule_id: "railway.staged-changes-unknown",
            explanation: format!("the staged changes this commits could not be inspected: {why}"),
        };
        let Some((_, environment)) = field
            .ids
            .iter()
            .find(|(path, _)| path.as_str() == "environmentId")
        else {
            return Some(unknown("no environment is named"));
        };
        let Some(credential) = guard
            .credential
            .as_deref()
            .and_then(|name| self.credential(name).ok())
        else {
            return Some(unknown("no credential to look them up with"));
        };
        let body = serde_json::json!({
            "query": blastdoor_http::railway::topology::STAGED_CHANGES_QUERY,
            "variables": {"environmentId": environment},
        })
        .to_string();
        let client = request.upstream.client().unwrap_or(&self.client);
        let answer = blastdoor_gateway::forward::post_json(
            client,
            &request.upstream,
            crate::topology::GRAPHQL_PATH,
            bytes::Bytes::from(body),
            &credential,
            16 << 20,
        )
        .await;
        let answer = match answer {
            Ok((status, answer)) if status.is_success() => answer,
            Ok((status, _)) => return Some(unknown(&format!("Railway answered {status}"))),
            Err(_) => return Some(unknown("Railway could not be reached")),
        };
        let json: serde_json::Value = match serde_json::from_slice(&answer) {
            Ok(json) => json,
            Err(_) => return Some(unknown("the answer is not JSON")),
        };
        if json.get("errors").is_some_and(|errors| !errors.is_null()) {
            return Some(unknown("Railway answered with errors"));
        }
        match json
            .get("data")
            .and_then(|data| data.get("environmentStagedChanges"))
        {
            Some(serde_json::Value::Null) => None,
            Some(staged) => blastdoor_http::railway::hidden::inspect_patch(
                staged.get("patch").unwrap_or(&serde_json::Value::Null),
            ),
            None => Some(unknown("the answer has no staged changes")),
        }
    }

    /// Classifies the request for its upstream kind and resolves the environments.
    async fn classify(
        &self,
        request: &InboundRequest,
        guard: &UpstreamGuard,
    ) -> Result<(OperationKind, String, Vec<Part>), GatewayError> {
        let upstream = request.upstream.name();
        let method = blastdoor_http::Method::parse(request.method.as_str());
        let path = request.path_and_query.split('?').next().unwrap_or("/");
        match &guard.classifier {
            Classifier::Railway(resolver) => {
                let classification = if path == crate::topology::GRAPHQL_PATH {
                    // One reading: GET runs a query from the query string, POST a JSON body;
                    // any other method, a POST that also carries GraphQL parameters in its
                    // URL, and a document that does not parse or validate are malformed and
                    // refused (400), never held.
                    let classification = blastdoor_http::railway::classify_http(
                        &method,
                        request.query.as_deref(),
                        &request.body,
                    );
                    if let Some(why) = &classification.malformed {
                        return Err(GatewayError::BadRequest(format!(
                            "malformed GraphQL request: {why}"
                        )));
                    }
                    classification
                } else if blastdoor_http::railway::upload::upload_path(path).is_some() {
                    let field = blastdoor_http::railway::upload::classify_upload(
                        &method,
                        path,
                        request.query.as_deref(),
                    )
                    .map_err(|error| GatewayError::BadRequest(error.to_string()))?;
                    blastdoor_http::railway::RailwayClassification {
                        risk: field.risk,
                        fields: vec![field],
                        malformed: None,
                    }
                } else {
                    return Err(GatewayError::BadRequest(format!(
                        "`{method} {}` is not an endpoint of Railway's API that blastdoor knows: \
                         send GraphQL to {}, uploads to /project/ID/environment/ID/up",
                        path.chars().take(120).collect::<String>(),
                        crate::topology::GRAPHQL_PATH
                    )));
                };
                self.resolve_railway(request, guard, resolver, &classification)
                    .await?;
                let resolved = resolver.current();
                let mut parts = Vec::new();
                let mut summary = Vec::new();
                for field in &classification.fields {
                    summary.push(field.summary());
                    if let Some(why) = blastdoor_http::railway::topology::environment_mismatch(
                        field,
                        &resolved.topology,
                    ) {
                        let mut part = Part::new(
                            Risk::Unknown,
                            rule("railway.environment-mismatch"),
                            format!(
                                "the request states an environment that is not the resource's: {why}"
                            ),
                            Vec::new(),
                        );
                        part.refusal = Some(format!(
                            "{why}; name the environment the resource really lives in"
                        ));
                        parts.push(part);
                    }
                    let staged = if field.field == "environmentPatchCommitStaged" {
                        Some(self.staged_patch_finding(request, guard, field).await)
                    } else {
                        None
                    };
                    for judged in blastdoor_http::railway::topology::judged_parts(
                        field,
                        &resolved.topology,
                        &resolved.environments,
                    ) {
                        let mut judged = judged;
                        // What a commit of staged changes runs is the staged patch: its hidden
                        // deletes and command changes count, and a patch that could not be
                        // fetched is not understood.
                        if let Some(finding) = staged.as_ref().and_then(Option::as_ref)
                            && finding.risk > judged.risk
                            && judged.rule_id == field.rule_id
                        {
                            judged.risk = finding.risk;
                            judged.rule_id = rule(finding.rule_id);
                            judged.explanation = finding.explanation.clone();
                        }
                        let mut targets = judged.targets;
                        for target in &mut targets {
                            target.upstream = Some(upstream.to_owned());
                        }
                        let mut part =
                            Part::new(judged.risk, judged.rule_id, judged.explanation, targets);
                        part.strict_environments = true;
                        parts.push(part);
                    }
                }
                let description = format!("{upstream} {method} {path}: {}", summary.join("; "));
                Ok((OperationKind::Graphql, description, parts))
            }
            Classifier::Rest(config) => {
                // Configured rules first (their glob patterns are matched by blastdoor-config),
                // then blastdoor-http's built-in method rules.
                let configured = config.rules.iter().find(|configured| {
                    configured.method.matches(method.as_str()) && configured.path.matches(path)
                });
                // A malformed request (a body on a GET) is refused with 400, never held.
                let builtin = blastdoor_http::rest::classify(&method, path, &request.body, &[])
                    .map_err(|error| GatewayError::BadRequest(error.to_string()))?;
                let id = builtin
                    .normalized_path
                    .clone()
                    .unwrap_or_else(|| path.chars().take(256).collect());
                let (risk, rule_id, explanation) = match configured {
                    Some(configured) if builtin.normalized_path.is_some() => (
                        configured.risk,
                        rule("rest.configured-rule"),
                        format!(
                            "{method} {} matches the configured rule for `{}`",
                            id,
                            configured.path.as_str()
                        ),
                    ),
                    _ => (builtin.risk, builtin.rule_id, builtin.explanation),
                };
                let description = format!("{upstream} {method} {id} [{risk}]");
                let environment = config.environment_of(&id);
                let part = Part::new(
                    risk,
                    rule_id,
                    explanation,
                    vec![Target::new("path", id, vec![environment]).on_upstream(upstream)],
                );
                Ok((OperationKind::Http, description, vec![part]))
            }
            Classifier::Kubernetes(namespaces) => {
                // A body that cannot be read as the API server reads it is refused with 400.
                let classified = blastdoor_http::kubernetes::classify(
                    &blastdoor_http::kubernetes::KubernetesRequest {
                        method: &method,
                        path,
                        query: request.query.as_deref(),
                        content_type: request
                            .headers
                            .get(http::header::CONTENT_TYPE)
                            .map(http::HeaderValue::as_bytes),
                        body: &request.body,
                    },
                    namespaces,
                )
                .map_err(|error| GatewayError::BadRequest(error.to_string()))?;
                let resource = classified
                    .resource
                    .clone()
                    .unwrap_or_else(|| "resource".to_owned());
                let id = match (&classified.namespace, &classified.name) {
                    (Some(namespace), Some(name)) => format!("{namespace}/{name}"),
                    (Some(namespace), None) => namespace.clone(),
                    (None, Some(name)) => name.clone(),
                    (None, None) => path.chars().take(256).collect(),
                };
                let description = format!(
                    "{upstream} {} {resource} {id} [{}]",
                    classified.verb, classified.risk
                );
                let part = Part::new(
                    classified.risk,
                    classified.rule_id,
                    classified.explanation,
                    vec![
                        Target::new(resource, id, vec![classified.environment])
                            .on_upstream(upstream),
                    ],
                );
                Ok((OperationKind::Http, description, vec![part]))
            }
        }
    }
}

/// The token's ceiling for one part. What is known must be inside every block's scope; what
/// could not be known (an unresolved environment, an unclassified risk) is left to policy,
/// which never treats it more loosely than production.
fn token_ceiling(
    verified: &VerifiedToken,
    upstream: &str,
    part: &Part,
    now_secs: u64,
) -> Result<(), String> {
    if now_secs > verified.expires_at() {
        return Err("use after its expiry".to_owned());
    }
    for scope in verified.block_scopes() {
        if !scope
            .upstreams()
            .iter()
            .any(|allowed| allowed.as_str() == upstream)
        {
            return Err(format!("upstream `{upstream}`"));
        }
        if part.risk != Risk::Unknown && !scope.risks().contains(&part.risk) {
            return Err(format!("risk `{}`", part.risk));
        }
        for environment in part.targets.iter().flat_map(|target| &target.environments) {
            match environment {
                Environment::Named(name) if !scope.environments().contains(name) => {
                    return Err(format!("environment `{}`", name.as_str()));
                }
                // A read cannot be held for a human per record it returns, and its
                // environment is the upstream's own data: one that could not be verified is
                // outside the token, never assumed to be inside it.
                Environment::Unknown
                    if part.strict_environments
                        && matches!(part.risk, Risk::Read | Risk::ReadSecrets) =>
                {
                    return Err(
                        "reading data whose environment blastdoor could not verify".to_owned()
                    );
                }
                Environment::Named(_) | Environment::Unknown => {}
            }
        }
    }
    Ok(())
}

/// What the agent reads: each reason's agent message, once.
fn agent_message(verdict: &Verdict, frozen: bool) -> String {
    let mut messages: Vec<&str> = Vec::new();
    if frozen && verdict.decision != Decision::Allow {
        messages.push("blastdoor is frozen: every operation but reads waits for a human");
    }
    for reason in &verdict.reasons {
        if !reason.agent_message.is_empty() && !messages.contains(&reason.agent_message.as_str()) {
            messages.push(&reason.agent_message);
        }
    }
    let joined = messages.join("; ");
    if joined.is_empty() {
        "this operation needs a human decision.".to_owned()
    } else {
        format!("{joined}.")
    }
}

impl GuardPipeline {
    /// Records a request the gateway refused because it carried a credential that is not a
    /// capability token (see [`blastdoor_gateway::RefusedRequest`]): a deny by rule
    /// `gateway.found-credential`, with the header's name and never its value, attributed to
    /// the agent whose capability token came with it (if one did and it is valid).
    pub(crate) async fn record_found_credential(
        &self,
        refused: &blastdoor_gateway::RefusedRequest,
    ) -> Result<(), GatewayError> {
        let (now_secs, now_ms) = now_unix();
        let upstream = refused.upstream.name();
        let agent = refused.token.as_ref().and_then(|token| {
            self.tokens
                .check(token.expose_secret(), now_secs, Instant::now())
                .ok()
                .map(|verified| verified.agent().clone())
        });
        let kind = match refused.upstream.kind() {
            blastdoor_gateway::UpstreamKind::Railway => OperationKind::Graphql,
            blastdoor_gateway::UpstreamKind::Rest | blastdoor_gateway::UpstreamKind::Kubernetes => {
                OperationKind::Http
            }
        };
        let path: String = refused.path.chars().take(256).collect();
        let header: String = refused.credential_header.chars().take(64).collect();
        let explanation = format!(
            "the request carried a credential that is not a blastdoor capability token in the \
             `{header}` header: the agent used a credential it found"
        );
        let description = format!(
            "{upstream} {} {path}: refused before classification, a credential that is not a \
             blastdoor token in the `{header}` header",
            refused.method
        );
        let verdict = Verdict::deny(vec![Reason::new(
            rule("gateway.found-credential"),
            explanation,
            Some(
                "rotate the found credential at the provider, remove it from where the agent \
                 found it, and give the agent a scoped blastdoor token"
                    .to_owned(),
            ),
            "do not use credentials you found; use your blastdoor token",
        )]);
        let target = Target::new("request", path, vec![Environment::Unknown]).on_upstream(upstream);
        let record = Record {
            time_unix_ms: now_ms,
            layer: Layer::Gateway,
            actor: Actor {
                agent,
                session: None,
            },
            operation: Operation::new(kind, &description, Risk::Escalate, vec![target]),
            verdict,
            hold_id: None,
            approvers: Vec::new(),
            snapshot_id: None,
            upstream_response: None,
        };
        let seq = self.append(&record).await?;
        tracing::warn!(
            upstream,
            header,
            ledger_seq = seq,
            "refused a request carrying a found credential"
        );
        Ok(())
    }
}
