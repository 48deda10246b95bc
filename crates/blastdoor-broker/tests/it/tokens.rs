//! Capability tokens: scope enforcement, attenuation never widening, revocation, expiry,
//! tampering, malformed input.

use std::collections::BTreeSet;
use std::path::Path;

use blastdoor_broker::{
    BrokerError, Narrowing, RevocationSet, RootKey, Scope, TokenId, TokenVerifier, UnverifiedToken,
    UpstreamName, VerifiedToken, attenuate, mint,
};
use blastdoor_core::{AgentName, Environment, EnvironmentName, Risk};
use proptest::prelude::*;

const NOW: u64 = 1_800_000_000;
const HOUR: u64 = 3600;

fn env(name: &str) -> Environment {
    Environment::parse(name).unwrap()
}

fn scope(upstreams: &[&str], environments: &[&str], risks: &[Risk], expires_at: u64) -> Scope {
    Scope::new(
        upstreams
            .iter()
            .map(|u| UpstreamName::new(*u).unwrap())
            .collect(),
        environments
            .iter()
            .map(|e| EnvironmentName::new(*e).unwrap())
            .collect(),
        risks.iter().copied().collect(),
        expires_at,
    )
    .unwrap()
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: RootKey,
    verifier: TokenVerifier,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let keys: &Path = &dir.path().join("keys");
    blastdoor_broker::init(keys).unwrap();
    let root = RootKey::load(keys).unwrap();
    let verifier = TokenVerifier::new(root.public(), RevocationSet::new());
    Fixture {
        _dir: dir,
        root,
        verifier,
    }
}

impl Fixture {
    fn mint(&self, scope: &Scope) -> String {
        let agent = AgentName::new("claude-staging-fix").unwrap();
        mint(&self.root, &agent, scope, Some("fix the staging deploy"))
            .unwrap()
            .text
            .expose_secret()
            .clone()
    }

    fn verify(&self, text: &str) -> Result<VerifiedToken, BrokerError> {
        self.verifier.verify(&UnverifiedToken::parse(text)?, NOW)
    }
}

#[test]
fn a_staging_read_write_token_cannot_touch_production_or_destroy() {
    let fixture = fixture();
    let text = fixture.mint(&scope(
        &["railway"],
        &["staging"],
        &[Risk::Read, Risk::Write],
        NOW + 8 * HOUR,
    ));
    assert!(text.starts_with("bd1_"));
    let verified = fixture.verify(&text).unwrap();
    assert_eq!(verified.agent().as_str(), "claude-staging-fix");
    assert_eq!(verified.task(), Some("fix the staging deploy"));
    let authorize = |environments: &[Environment], risk| {
        fixture
            .verifier
            .authorize(&verified, "railway", environments, risk, NOW)
    };
    assert!(authorize(&[env("staging")], Risk::Write).is_ok());
    assert!(authorize(&[env("staging")], Risk::Read).is_ok());
    for (environments, risk) in [
        (vec![Environment::production()], Risk::Read),
        (vec![env("staging"), Environment::production()], Risk::Write),
        (vec![env("staging")], Risk::Destroy),
        (vec![env("staging")], Risk::Execute),
        (vec![env("staging")], Risk::Escalate),
        (vec![env("staging")], Risk::Unknown),
        (vec![Environment::Unknown], Risk::Read),
        (vec![], Risk::Read),
    ] {
        let error = authorize(&environments, risk).unwrap_err();
        assert!(
            matches!(error, BrokerError::OutOfScope { .. }),
            "{environments:?} {risk}: {error}"
        );
        // Biscuit's own Datalog authorizer agrees.
        assert!(
            fixture
                .verifier
                .authorize_with_datalog(&verified, "railway", &environments, risk, NOW)
                .is_err()
        );
    }
    assert!(
        fixture
            .verifier
            .authorize(&verified, "github", &[env("staging")], Risk::Read, NOW)
            .is_err()
    );
}

#[test]
fn attenuation_narrows_and_cannot_widen() {
    let fixture = fixture();
    let parent = fixture.mint(&scope(
        &["railway", "github"],
        &["staging", "dev"],
        &[Risk::Read, Risk::Write],
        NOW + 8 * HOUR,
    ));
    let narrowing = Narrowing {
        environments: Some([EnvironmentName::new("dev").unwrap()].into()),
        risks: Some([Risk::Read].into()),
        ..Narrowing::default()
    };
    let child = attenuate(&UnverifiedToken::parse(&parent).unwrap(), &narrowing).unwrap();
    let child = fixture.verify(child.expose_secret()).unwrap();
    assert_eq!(child.block_scopes().len(), 2);
    assert!(
        fixture
            .verifier
            .authorize(&child, "railway", &[env("dev")], Risk::Read, NOW)
            .is_ok()
    );
    assert!(
        fixture
            .verifier
            .authorize(&child, "railway", &[env("staging")], Risk::Read, NOW)
            .is_err()
    );
    assert!(
        fixture
            .verifier
            .authorize(&child, "railway", &[env("dev")], Risk::Write, NOW)
            .is_err()
    );

    let wider = Narrowing {
        environments: Some([EnvironmentName::new("production").unwrap()].into()),
        ..Narrowing::default()
    };
    let error = attenuate(&UnverifiedToken::parse(&parent).unwrap(), &wider).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`production` is not in the token's scope"),
        "{error}"
    );
}

#[test]
fn revoked_tokens_and_their_attenuations_are_refused_at_once() {
    let mut fixture = fixture();
    let text = fixture.mint(&scope(
        &["railway"],
        &["staging"],
        &[Risk::Read],
        NOW + HOUR,
    ));
    let child = attenuate(
        &UnverifiedToken::parse(&text).unwrap(),
        &Narrowing::default(),
    )
    .unwrap();
    let verified = fixture.verify(&text).unwrap();
    let mut revoked = RevocationSet::new();
    revoked.revoke_token(verified.token_id().clone());
    fixture.verifier.set_revocations(revoked);
    assert!(fixture.verifier.is_revoked(verified.token_id()));
    assert!(matches!(
        fixture.verify(&text),
        Err(BrokerError::Revoked(_))
    ));
    assert!(matches!(
        fixture.verify(child.expose_secret()),
        Err(BrokerError::Revoked(_))
    ));
    // A cached VerifiedToken is refused too.
    let error = fixture
        .verifier
        .authorize(&verified, "railway", &[env("staging")], Risk::Read, NOW)
        .unwrap_err();
    assert!(matches!(error, BrokerError::Revoked(_)));
}

#[test]
fn revocation_by_biscuit_revocation_id_works() {
    let fixture = fixture();
    let agent = AgentName::new("a").unwrap();
    let minted = mint(
        &fixture.root,
        &agent,
        &scope(&["railway"], &["staging"], &[Risk::Read], NOW + HOUR),
        None,
    )
    .unwrap();
    let mut revoked = RevocationSet::new();
    revoked.revoke_revocation_id(hex::decode(&minted.revocation_id).unwrap());
    let verifier = TokenVerifier::new(fixture.root.public(), revoked);
    let token = UnverifiedToken::parse(minted.text.expose_secret()).unwrap();
    assert!(matches!(
        verifier.verify(&token, NOW),
        Err(BrokerError::Revoked(_))
    ));
}

#[test]
fn expired_tokens_are_refused_and_an_attenuated_expiry_counts() {
    let fixture = fixture();
    let text = fixture.mint(&scope(
        &["railway"],
        &["staging"],
        &[Risk::Read],
        NOW + HOUR,
    ));
    let token = UnverifiedToken::parse(&text).unwrap();
    assert!(fixture.verifier.verify(&token, NOW + HOUR).is_ok());
    assert!(matches!(
        fixture.verifier.verify(&token, NOW + HOUR + 1),
        Err(BrokerError::Expired { .. })
    ));
    let verified = fixture.verifier.verify(&token, NOW).unwrap();
    assert!(
        fixture
            .verifier
            .authorize(
                &verified,
                "railway",
                &[env("staging")],
                Risk::Read,
                NOW + 2 * HOUR
            )
            .is_err()
    );
    let shorter = Narrowing {
        expires_at: Some(NOW + 60),
        ..Narrowing::default()
    };
    let child = attenuate(&token, &shorter).unwrap();
    let child = UnverifiedToken::parse(child.expose_secret()).unwrap();
    assert!(matches!(
        fixture.verifier.verify(&child, NOW + 61),
        Err(BrokerError::Expired { .. })
    ));
}

#[test]
fn a_token_from_another_root_is_refused() {
    let fixture = fixture();
    let other = self::fixture();
    let text = other.mint(&scope(
        &["railway"],
        &["staging"],
        &[Risk::Read],
        NOW + HOUR,
    ));
    assert!(matches!(
        fixture.verify(&text),
        Err(BrokerError::BadSignature(_))
    ));
}

#[test]
fn every_single_byte_flip_is_refused() {
    use base64::Engine as _;
    let fixture = fixture();
    let text = fixture.mint(&scope(
        &["railway"],
        &["staging"],
        &[Risk::Read],
        NOW + HOUR,
    ));
    let text = attenuate(
        &UnverifiedToken::parse(&text).unwrap(),
        &Narrowing::default(),
    )
    .unwrap();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let bytes = engine
        .decode(text.expose_secret().strip_prefix("bd1_").unwrap())
        .unwrap();
    for index in 0..bytes.len() {
        let mut tampered = bytes.clone();
        tampered[index] ^= 0x01;
        let tampered = format!("bd1_{}", engine.encode(&tampered));
        assert!(
            fixture.verify(&tampered).is_err(),
            "flip at byte {index} was accepted"
        );
    }
}

#[test]
fn swapping_a_block_between_tokens_is_refused() {
    use base64::Engine as _;
    use biscuit_auth::format::SerializedBiscuit;
    let fixture = fixture();
    let parent = fixture.mint(&scope(
        &["railway"],
        &["staging", "dev"],
        &[Risk::Read, Risk::Write],
        NOW + HOUR,
    ));
    let parent = UnverifiedToken::parse(&parent).unwrap();
    let narrow = |environment: &str| {
        let narrowing = Narrowing {
            environments: Some([EnvironmentName::new(environment).unwrap()].into()),
            ..Narrowing::default()
        };
        attenuate(&parent, &narrowing)
            .unwrap()
            .expose_secret()
            .clone()
    };
    let (dev, staging) = (narrow("dev"), narrow("staging"));
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let decode = |text: &str| engine.decode(text.strip_prefix("bd1_").unwrap()).unwrap();
    let root = biscuit_auth::PublicKey::from_bytes(
        &hex::decode(fixture.root.public().to_hex()).unwrap(),
        biscuit_auth::Algorithm::Ed25519,
    )
    .unwrap();
    // Take the dev token and put the staging token's block in place of its own.
    let mut dev_container = SerializedBiscuit::from_slice(&decode(&dev), root).unwrap();
    let staging_container = SerializedBiscuit::from_slice(&decode(&staging), root).unwrap();
    dev_container.blocks[0] = staging_container.blocks[0].clone();
    let swapped = format!("bd1_{}", engine.encode(dev_container.to_vec().unwrap()));
    assert!(fixture.verify(&swapped).is_err());
    // Dropping the narrowing block (back to the parent's scope) is refused as well.
    let mut dropped = SerializedBiscuit::from_slice(&decode(&dev), root).unwrap();
    dropped.blocks.clear();
    let dropped = format!("bd1_{}", engine.encode(dropped.to_vec().unwrap()));
    assert!(fixture.verify(&dropped).is_err());
}

#[test]
fn malformed_tokens_are_clear_errors() {
    let fixture = fixture();
    for (input, expected) in [
        ("", "empty token"),
        ("ghp_abc", "starts with `bd1_`"),
        ("bd1_!!!", "not base64url"),
        ("bd1_AAAA", "not a valid biscuit"),
    ] {
        let error = fixture.verify(input).unwrap_err();
        assert!(
            matches!(error, BrokerError::MalformedToken(_)),
            "{input}: {error}"
        );
        assert!(error.to_string().contains(expected), "{input}: {error}");
    }
    let long = format!("bd1_{}", "A".repeat(20_000));
    assert!(
        fixture
            .verify(&long)
            .unwrap_err()
            .to_string()
            .contains("more than")
    );
    assert!(TokenId::new("tok_zz").is_err());
}

fn arbitrary_subset<T: Clone + Ord + std::fmt::Debug + 'static>(
    items: Vec<T>,
) -> impl Strategy<Value = BTreeSet<T>> {
    proptest::sample::subsequence(items.clone(), 1..=items.len())
        .prop_map(|items| items.into_iter().collect())
}

const UPSTREAMS: [&str; 3] = ["railway", "github", "aws"];
const ENVIRONMENTS: [&str; 4] = ["production", "staging", "dev", "pr-1"];

fn arbitrary_scope() -> impl Strategy<Value = Scope> {
    (
        arbitrary_subset(UPSTREAMS.to_vec()),
        arbitrary_subset(ENVIRONMENTS.to_vec()),
        arbitrary_subset(blastdoor_broker::GRANTABLE_RISKS.to_vec()),
        0..10u64,
    )
        .prop_map(|(upstreams, environments, risks, hours)| {
            scope(
                &upstreams.into_iter().collect::<Vec<_>>(),
                &environments.into_iter().collect::<Vec<_>>(),
                &risks.into_iter().collect::<Vec<_>>(),
                NOW + hours * HOUR,
            )
        })
}

fn arbitrary_operation() -> impl Strategy<Value = (String, Vec<Environment>, Risk, u64)> {
    let environment = prop_oneof![
        proptest::sample::select(ENVIRONMENTS.to_vec()).prop_map(env),
        Just(Environment::Unknown),
    ];
    (
        proptest::sample::select(UPSTREAMS.to_vec()).prop_map(str::to_owned),
        proptest::collection::vec(environment, 0..3),
        proptest::sample::select(Risk::ALL.to_vec()),
        0..12u64,
    )
        .prop_map(|(upstream, environments, risk, hours)| {
            (upstream, environments, risk, NOW + hours * HOUR)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever the parent scope and the requested narrowing, the attenuated token (if any)
    /// authorises a subset of what the parent authorises, and biscuit's Datalog agrees with
    /// blastdoor's own check on both.
    #[test]
    fn an_attenuated_token_is_never_wider_than_its_parent(
        parent_scope in arbitrary_scope(),
        requested in arbitrary_scope(),
        operations in proptest::collection::vec(arbitrary_operation(), 16),
    ) {
        let fixture = fixture();
        let parent_text = fixture.mint(&parent_scope);
        let parent = fixture.verifier.verify(&UnverifiedToken::parse(&parent_text).unwrap(), NOW).unwrap();
        let narrowing = Narrowing {
            upstreams: Some(requested.upstreams().clone()),
            environments: Some(requested.environments().clone()),
            risks: Some(requested.risks().clone()),
            expires_at: Some(requested.expires_at()),
        };
        let child = attenuate(&UnverifiedToken::parse(&parent_text).unwrap(), &narrowing).ok()
            .map(|text| fixture.verifier.verify(&UnverifiedToken::parse(text.expose_secret()).unwrap(), NOW).unwrap());
        for (upstream, environments, risk, now) in &operations {
            let parent_allows = fixture.verifier.authorize(&parent, upstream, environments, *risk, *now).is_ok();
            let parent_datalog = fixture.verifier.authorize_with_datalog(&parent, upstream, environments, *risk, *now).is_ok();
            prop_assert_eq!(parent_allows, parent_datalog, "datalog disagrees on the parent");
            if let Some(child) = &child {
                let child_allows = fixture.verifier.authorize(child, upstream, environments, *risk, *now).is_ok();
                let child_datalog = fixture.verifier.authorize_with_datalog(child, upstream, environments, *risk, *now).is_ok();
                prop_assert_eq!(child_allows, child_datalog, "datalog disagrees on the child");
                prop_assert!(!child_allows || parent_allows, "child allowed what the parent refuses");
            }
        }
    }

    #[test]
    fn arbitrary_token_text_never_panics(text in "bd1_[A-Za-z0-9_-]{0,300}") {
        let fixture = fixture();
        let _ = fixture.verify(&text);
    }
}
