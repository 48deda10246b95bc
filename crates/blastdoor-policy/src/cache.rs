//! [`CachedPolicyEngine`]: the policy engine with its decisions remembered for identical
//! requests in the same second, for the gateway, where the same agent sends the same kind of
//! request thousands of times a second and each Cedar evaluation costs 15–20 µs.
//!
//! A decision is a pure function of the [`PolicyRequest`] and the loaded policy set (the
//! engine builds its Cedar entities from the request alone and never reads the clock: the time
//! is `now_unix` in the request). The whole request is the cache key, so a hit returns exactly
//! what evaluating would have returned; the cache only holds one second's requests, so a policy
//! about time sees every new second evaluated afresh and memory stays bounded.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::{PolicyDecision, PolicyEngine, PolicyRequest};

/// Most distinct requests remembered within one second; beyond it, decisions are evaluated
/// without being stored.
const MAX_ENTRIES: usize = 4096;

/// [`PolicyEngine`] with a per-second memo of its decisions.
#[derive(Debug)]
pub struct CachedPolicyEngine {
    engine: PolicyEngine,
    memo: Mutex<Memo>,
}

#[derive(Debug, Default)]
struct Memo {
    second: i64,
    decisions: HashMap<PolicyRequest, PolicyDecision>,
}

impl CachedPolicyEngine {
    pub fn new(engine: PolicyEngine) -> CachedPolicyEngine {
        CachedPolicyEngine {
            engine,
            memo: Mutex::new(Memo::default()),
        }
    }

    /// The engine's answer to `request`: [`PolicyEngine::decide`], remembered.
    pub fn decide(&self, request: &PolicyRequest) -> PolicyDecision {
        if let Some(decision) = self.remembered(request) {
            return decision;
        }
        let decision = self.engine.decide(request);
        // A poisoned lock only means another thread panicked while holding it: the memo is
        // then skipped, never trusted.
        if let Ok(mut memo) = self.memo.lock()
            && memo.second == request.now_unix
            && memo.decisions.len() < MAX_ENTRIES
        {
            memo.decisions.insert(request.clone(), decision.clone());
        }
        decision
    }

    /// The engine itself, for callers that explain decisions.
    pub fn engine(&self) -> &PolicyEngine {
        &self.engine
    }

    fn remembered(&self, request: &PolicyRequest) -> Option<PolicyDecision> {
        let mut memo = self.memo.lock().ok()?;
        if memo.second != request.now_unix {
            memo.second = request.now_unix;
            memo.decisions.clear();
            return None;
        }
        memo.decisions.get(request).cloned()
    }
}

#[cfg(test)]
mod tests {
    use blastdoor_core::{AgentName, Decision, Environment, Layer, Risk, RuleId, Target};

    use super::*;

    fn request(risk: Risk, environment: Environment, now_unix: i64) -> PolicyRequest {
        PolicyRequest {
            agent: Some(AgentName::new("agent-1").unwrap()),
            risk,
            target: Target::new("volume", "vol-1", vec![environment]).on_upstream("railway"),
            task: None,
            now_unix,
            rule_ids: vec![RuleId::new("railway.volume-delete").unwrap()],
            frozen: false,
            layer: Layer::Gateway,
        }
    }

    #[test]
    fn answers_exactly_what_the_engine_answers_for_every_kind_of_request() {
        let cached = CachedPolicyEngine::new(PolicyEngine::default_policies().unwrap());
        let plain = PolicyEngine::default_policies().unwrap();
        let environments = [
            Environment::production(),
            Environment::parse("staging").unwrap(),
            Environment::Unknown,
        ];
        let risks = [Risk::Read, Risk::Write, Risk::Destroy, Risk::Unknown];
        // Twice over: the second pass is answered from the memo.
        for _ in 0..2 {
            for environment in &environments {
                for risk in risks {
                    for frozen in [false, true] {
                        let mut asked = request(risk, environment.clone(), 1_700_000_000);
                        asked.frozen = frozen;
                        assert_eq!(cached.decide(&asked), plain.decide(&asked), "{asked:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_destroy_in_production_is_never_answered_with_a_remembered_read() {
        let cached = CachedPolicyEngine::new(PolicyEngine::default_policies().unwrap());
        let read = cached.decide(&request(Risk::Read, Environment::production(), 10));
        assert_eq!(read.verdict.decision, Decision::Allow);
        let destroy = cached.decide(&request(Risk::Destroy, Environment::production(), 10));
        assert_ne!(destroy.verdict.decision, Decision::Allow);
        let mut frozen = request(Risk::Write, Environment::parse("staging").unwrap(), 10);
        let thawed = cached.decide(&frozen);
        frozen.frozen = true;
        let during_freeze = cached.decide(&frozen);
        assert_ne!(
            during_freeze.verdict.decision,
            Decision::Allow,
            "{thawed:?}"
        );
    }

    #[test]
    fn memory_is_bounded_and_a_new_second_starts_afresh() {
        let cached = CachedPolicyEngine::new(PolicyEngine::default_policies().unwrap());
        for index in 0..(MAX_ENTRIES + 100) {
            let mut asked = request(Risk::Read, Environment::production(), 5);
            asked.task = Some(format!("task {index}"));
            let _ = cached.decide(&asked);
        }
        assert_eq!(cached.memo.lock().unwrap().decisions.len(), MAX_ENTRIES);
        let _ = cached.decide(&request(Risk::Read, Environment::production(), 6));
        assert_eq!(cached.memo.lock().unwrap().decisions.len(), 1);
    }
}
