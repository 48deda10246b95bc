//! [`PolicyEngine`]: a validated policy set, parsed once and asked many times.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr as _;

use blastdoor_core::{Decision, Environment, Reason, Risk, RuleId, Verdict};
use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicyId,
    PolicySet, Request, RestrictedExpression, Schema,
};

use crate::defaults::{DEFAULT_POLICIES, SCHEMA};
use crate::error::PolicyError;
use crate::load::{PolicyMeta, load};
use crate::request::{EnvironmentDecision, PolicyDecision, PolicyRequest};

/// Rule id of the engine's own deny when no permit matched.
const NO_PERMIT: &str = "policy.no-permit";
/// Rule id of the engine's own deny when evaluation failed.
const EVALUATION_ERROR: &str = "policy.evaluation-error";
/// Rule id of the engine's own hold while frozen, when the policies would have allowed.
const FROZEN: &str = "policy.frozen";

/// A policy set validated against blastdoor's schema, ready to decide requests.
///
/// `Send + Sync`: build it once (at start-up or on reload) and share it behind an `Arc`.
#[derive(Debug)]
pub struct PolicyEngine {
    policies: PolicySet,
    meta: HashMap<PolicyId, PolicyMeta>,
    order: Vec<RuleId>,
    authorizer: Authorizer,
    agent_type: EntityTypeName,
    target_type: EntityTypeName,
    actions: [EntityUid; Risk::ALL.len()],
    engine_rules: EngineRules,
}

/// The rule ids of the engine's own decisions, checked once at construction.
#[derive(Debug)]
struct EngineRules {
    no_permit: RuleId,
    evaluation_error: RuleId,
    frozen: RuleId,
}

impl PolicyEngine {
    /// Loads every `*.cedar` file of `dir` (in name order) and validates them as one set.
    pub fn from_dir(dir: &Path) -> Result<PolicyEngine, PolicyError> {
        let entries = std::fs::read_dir(dir).map_err(|source| PolicyError::ReadDir {
            path: dir.to_owned(),
            source,
        })?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| PolicyError::ReadDir {
                path: dir.to_owned(),
                source,
            })?;
            let path = entry.path();
            if path
                .extension()
                .is_some_and(|extension| extension == "cedar")
                && path.is_file()
            {
                paths.push(path);
            }
        }
        paths.sort();
        if paths.is_empty() {
            return Err(PolicyError::NoPolicyFiles {
                path: dir.to_owned(),
            });
        }
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| PolicyError::ReadFile {
                path: path.clone(),
                source,
            })?;
            files.push((path.display().to_string(), text));
        }
        let sources: Vec<(&str, &str)> = files
            .iter()
            .map(|(name, text)| (name.as_str(), text.as_str()))
            .collect();
        PolicyEngine::from_sources(&sources)
    }

    /// Loads `(file name, Cedar text)` pairs as one set; the names only label errors.
    pub fn from_sources(sources: &[(&str, &str)]) -> Result<PolicyEngine, PolicyError> {
        let (schema, _warnings) = Schema::from_cedarschema_str(SCHEMA)
            .map_err(|error| PolicyError::Builtin(error.to_string()))?;
        let loaded = load(&schema, sources)?;
        let type_name = |name: &str| {
            EntityTypeName::from_str(name).map_err(|error| PolicyError::Builtin(error.to_string()))
        };
        let action_type = type_name("Action")?;
        let actions = Risk::ALL.map(|risk| {
            EntityUid::from_type_name_and_id(action_type.clone(), EntityId::new(risk.as_str()))
        });
        Ok(PolicyEngine {
            policies: loaded.set,
            meta: loaded.meta,
            order: loaded.order,
            authorizer: Authorizer::new(),
            agent_type: type_name("Agent")?,
            target_type: type_name("Target")?,
            actions,
            engine_rules: EngineRules {
                no_permit: engine_rule(NO_PERMIT)?,
                evaluation_error: engine_rule(EVALUATION_ERROR)?,
                frozen: engine_rule(FROZEN)?,
            },
        })
    }

    /// The default policy set ([`DEFAULT_POLICIES`]).
    pub fn default_policies() -> Result<PolicyEngine, PolicyError> {
        PolicyEngine::from_sources(DEFAULT_POLICIES)
    }

    /// The ids of the loaded policies, in load order.
    pub fn policy_ids(&self) -> &[RuleId] {
        &self.order
    }

    /// Decides `request`: once per environment of its target, the strictest answer winning.
    ///
    /// Never fails: anything that goes wrong while deciding is a deny with a reason.
    pub fn decide(&self, request: &PolicyRequest) -> PolicyDecision {
        let environments = if request.target.environments.is_empty() {
            vec![Environment::Unknown]
        } else {
            request.target.environments.clone()
        };
        let mut decisions = Vec::with_capacity(environments.len());
        for environment in environments {
            let mut decision = self.decide_in(request, &environment);
            // An unresolved environment could be production: never answer it more loosely.
            if environment.is_unknown() {
                let as_production = self.decide_in(request, &Environment::production());
                if severity(as_production.verdict.decision) > severity(decision.verdict.decision) {
                    decision.verdict = as_production.verdict;
                    decision.determining = as_production.determining;
                }
            }
            decisions.push(decision);
        }
        let mut strictest: Option<(Verdict, Vec<RuleId>)> = None;
        for decision in &decisions {
            strictest = Some(match strictest {
                None => (decision.verdict.clone(), decision.determining.clone()),
                Some((verdict, mut determining)) => {
                    let before = severity(verdict.decision);
                    let combined = verdict.strictest(decision.verdict.clone());
                    let after = severity(combined.decision);
                    if severity(decision.verdict.decision) == after {
                        if after > before {
                            determining.clear();
                        }
                        for id in &decision.determining {
                            if !determining.contains(id) {
                                determining.push(id.clone());
                            }
                        }
                    }
                    (combined, determining)
                }
            });
        }
        let (verdict, determining) = strictest.unwrap_or_else(|| (self.no_permit(), Vec::new()));
        PolicyDecision {
            verdict,
            determining,
            environments: decisions,
        }
    }

    /// The answer for the target in one environment.
    fn decide_in(&self, request: &PolicyRequest, environment: &Environment) -> EnvironmentDecision {
        let (verdict, determining) = match self.evaluate(request, environment) {
            Ok(answer) => answer,
            Err(error) => (self.evaluation_error(&error), Vec::new()),
        };
        // The kill switch does not depend on `freeze.cedar` still being in the policy set.
        let verdict =
            if request.frozen && !request.risk.is_read() && verdict.decision == Decision::Allow {
                Verdict::hold(1, vec![self.frozen_reason()])
            } else {
                verdict
            };
        EnvironmentDecision {
            environment: environment.clone(),
            verdict,
            determining,
        }
    }

    fn evaluate(
        &self,
        request: &PolicyRequest,
        environment: &Environment,
    ) -> Result<(Verdict, Vec<RuleId>), String> {
        // The request is built by this crate to the schema's shape (a test checks it against
        // the schema); validating it again on every decision would cost about a third of it.
        let cedar_request = self.cedar_request(request, environment, None)?;
        let entities = self.entities(request, environment)?;
        let response = self
            .authorizer
            .is_authorized(&cedar_request, &self.policies, &entities);
        let errors: Vec<String> = response
            .diagnostics()
            .errors()
            .map(ToString::to_string)
            .collect();
        if !errors.is_empty() {
            return Err(errors.join("; "));
        }
        // Cedar reports the matching policies as a set: order them by load order, and holds by
        // approvals (largest first), so decisions read the same every time.
        let mut matched: Vec<&PolicyMeta> = response
            .diagnostics()
            .reason()
            .filter_map(|id| self.meta.get(id))
            .collect();
        matched.sort_by_key(|meta| (std::cmp::Reverse(meta.hold), meta.index));
        let determining_ids =
            |metas: &[&PolicyMeta]| metas.iter().map(|meta| meta.rule_id.clone()).collect();
        match response.decision() {
            cedar_policy::Decision::Deny if matched.is_empty() => {
                Ok((self.no_permit(), Vec::new()))
            }
            cedar_policy::Decision::Deny => {
                let reasons = matched
                    .iter()
                    .map(|meta| reason_of(meta, Decision::Deny))
                    .collect();
                Ok((Verdict::deny(reasons), determining_ids(&matched)))
            }
            cedar_policy::Decision::Allow => {
                let holding: Vec<&PolicyMeta> = matched
                    .iter()
                    .copied()
                    .filter(|meta| meta.hold.is_some())
                    .collect();
                let approvals = holding.iter().filter_map(|meta| meta.hold).max();
                match approvals {
                    Some(approvals) => {
                        let decision = Decision::Hold { approvals };
                        let reasons = holding
                            .iter()
                            .map(|meta| reason_of(meta, decision))
                            .collect();
                        Ok((Verdict { decision, reasons }, determining_ids(&holding)))
                    }
                    None => {
                        let reasons = matched
                            .iter()
                            .map(|meta| reason_of(meta, Decision::Allow))
                            .collect();
                        Ok((Verdict::allow(reasons), determining_ids(&matched)))
                    }
                }
            }
        }
    }

    fn cedar_request(
        &self,
        request: &PolicyRequest,
        environment: &Environment,
        schema: Option<&Schema>,
    ) -> Result<Request, String> {
        let action = self
            .actions
            .iter()
            .zip(Risk::ALL)
            .find(|(_, risk)| *risk == request.risk)
            .map(|(action, _)| action.clone())
            .ok_or_else(|| format!("no action for risk `{}`", request.risk))?;
        let rule_ids = request
            .rule_ids
            .iter()
            .map(|id| RestrictedExpression::new_string(id.as_str().to_owned()));
        let context = Context::from_pairs([
            (
                "task".to_owned(),
                RestrictedExpression::new_string(request.task.clone().unwrap_or_default()),
            ),
            (
                "now".to_owned(),
                RestrictedExpression::new_long(request.now_unix),
            ),
            (
                "rule_ids".to_owned(),
                RestrictedExpression::new_set(rule_ids),
            ),
            (
                "frozen".to_owned(),
                RestrictedExpression::new_bool(request.frozen),
            ),
            (
                "layer".to_owned(),
                RestrictedExpression::new_string(request.layer.as_str().to_owned()),
            ),
        ])
        .map_err(|error| error.to_string())?;
        Request::new(
            self.agent_uid(request),
            action,
            self.target_uid(request, environment),
            context,
            schema,
        )
        .map_err(|error| error.to_string())
    }

    fn entities(
        &self,
        request: &PolicyRequest,
        environment: &Environment,
    ) -> Result<Entities, String> {
        let agent_name = request.agent.as_ref().map_or("", |agent| agent.as_str());
        let agent = Entity::new(
            self.agent_uid(request),
            HashMap::from([(
                "name".to_owned(),
                RestrictedExpression::new_string(agent_name.to_owned()),
            )]),
            HashSet::new(),
        )
        .map_err(|error| error.to_string())?;
        let target = &request.target;
        let string = |value: &str| RestrictedExpression::new_string(value.to_owned());
        let target = Entity::new(
            self.target_uid(request, environment),
            HashMap::from([
                ("kind".to_owned(), string(&target.kind)),
                ("id".to_owned(), string(&target.id)),
                ("environment".to_owned(), string(environment.as_str())),
                (
                    "upstream".to_owned(),
                    string(target.upstream.as_deref().unwrap_or_default()),
                ),
            ]),
            HashSet::new(),
        )
        .map_err(|error| error.to_string())?;
        Entities::from_entities([agent, target], None).map_err(|error| error.to_string())
    }

    fn agent_uid(&self, request: &PolicyRequest) -> EntityUid {
        let name = request.agent.as_ref().map_or("", |agent| agent.as_str());
        EntityUid::from_type_name_and_id(self.agent_type.clone(), EntityId::new(name))
    }

    /// The resource's uid names the target and the environment of this request, so that each
    /// per-environment request is about a distinct entity.
    fn target_uid(&self, request: &PolicyRequest, environment: &Environment) -> EntityUid {
        let target = &request.target;
        let id = format!(
            "{}/{}/{}@{}",
            target.upstream.as_deref().unwrap_or_default(),
            target.kind,
            target.id,
            environment.as_str()
        );
        EntityUid::from_type_name_and_id(self.target_type.clone(), EntityId::new(id))
    }

    fn no_permit(&self) -> Verdict {
        Verdict::deny(vec![Reason::new(
            self.engine_rules.no_permit.clone(),
            "no policy permits this operation, so it is denied",
            Some(
                "add a `permit` policy for it, and check it with `blastdoor policy test`"
                    .to_owned(),
            ),
            "this operation is not permitted by policy; do not look for other credentials or another way to run it",
        )])
    }

    fn evaluation_error(&self, error: &str) -> Verdict {
        Verdict::deny(vec![Reason::new(
            self.engine_rules.evaluation_error.clone(),
            format!("the policy set could not be evaluated, so the operation is denied: {error}"),
            Some("run `blastdoor policy test` with this operation to see the error".to_owned()),
            "blastdoor could not evaluate its policies for this operation, so it is denied; do not look for other credentials",
        )])
    }

    fn frozen_reason(&self) -> Reason {
        Reason::new(
            self.engine_rules.frozen.clone(),
            "blastdoor is frozen: every operation other than a read waits for a human approval",
            None,
            "blastdoor is frozen by a human; this operation waits for approval; do not look for other credentials",
        )
    }
}

/// Severity of a decision for comparisons: allow < hold(1) < hold(2) < ... < deny.
fn severity(decision: Decision) -> u16 {
    match decision {
        Decision::Allow => 0,
        Decision::Hold { approvals } => u16::from(approvals.get()),
        Decision::Deny => u16::MAX,
    }
}

fn reason_of(meta: &PolicyMeta, decision: Decision) -> Reason {
    let explanation = meta
        .reason
        .clone()
        .unwrap_or_else(|| format!("policy `{}` matched", meta.rule_id));
    let agent_message = meta.agent_message.clone().unwrap_or_else(|| match decision {
        Decision::Allow => format!("allowed by policy `{}`", meta.rule_id),
        Decision::Hold { approvals } => format!(
            "this operation waits for {approvals} human approval(s) (policy `{}`); do not look for other credentials or another way to run it",
            meta.rule_id
        ),
        Decision::Deny => format!(
            "this operation is forbidden by policy `{}`; do not look for other credentials or another way to run it",
            meta.rule_id
        ),
    });
    Reason::new(
        meta.rule_id.clone(),
        explanation,
        meta.alternative.clone(),
        agent_message,
    )
}

fn engine_rule(id: &str) -> Result<RuleId, PolicyError> {
    RuleId::new(id).map_err(|error| PolicyError::Builtin(error.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use blastdoor_core::{Layer, Target};

    use super::*;

    /// Decisions skip cedar's request validation for speed: this checks that every request the
    /// engine builds does match the schema.
    #[test]
    fn requests_match_the_schema() {
        let engine = PolicyEngine::default_policies().unwrap();
        let (schema, _) = Schema::from_cedarschema_str(SCHEMA).unwrap();
        for risk in Risk::ALL {
            for environment in [Environment::production(), Environment::Unknown] {
                for agent in [None, Some("claude".parse().unwrap())] {
                    let request = PolicyRequest {
                        agent,
                        risk,
                        target: Target::new("volume", "v", vec![environment.clone()]),
                        task: None,
                        now_unix: -1,
                        rule_ids: vec!["a.b".parse().unwrap()],
                        frozen: true,
                        layer: Layer::Hook,
                    };
                    let checked = engine.cedar_request(&request, &environment, Some(&schema));
                    assert!(checked.is_ok(), "{risk} {environment}: {checked:?}");
                }
            }
        }
    }
}
