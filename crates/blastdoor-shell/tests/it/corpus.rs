//! Runs the corpus: prints precision and recall of blocking (hold or deny) per category, lists
//! every case whose decision differs from the expected one, and fails on any mismatch and on
//! any miss in the `incident` family.

use std::collections::BTreeMap;

use blastdoor_core::Decision;

use crate::support::{assess, corpus, files};

#[derive(Default)]
struct Counts {
    true_positive: usize,
    false_positive: usize,
    false_negative: usize,
    true_negative: usize,
}

fn decision_name(decision: Decision) -> &'static str {
    decision.as_str()
}

#[test]
fn corpus_matches_expectations() {
    let files = files();
    let cases = corpus();
    let mut per_category: BTreeMap<String, Counts> = BTreeMap::new();
    let mut mismatches = Vec::new();
    let mut incident_misses = Vec::new();
    for case in &cases {
        let assessment = assess(&case.command, &files);
        let actual = decision_name(assessment.verdict.decision);
        assert!(
            !assessment.verdict.reasons.is_empty(),
            "{}:{}: a verdict without reasons",
            case.file,
            case.line
        );
        let expected_block = case.expected != "allow";
        let actual_block = actual != "allow";
        let counts = per_category.entry(case.category.clone()).or_default();
        match (expected_block, actual_block) {
            (true, true) => counts.true_positive += 1,
            (false, true) => counts.false_positive += 1,
            (true, false) => counts.false_negative += 1,
            (false, false) => counts.true_negative += 1,
        }
        if actual != case.expected {
            let ids: Vec<String> = assessment
                .verdict
                .rule_ids()
                .map(|id| id.to_string())
                .collect();
            let line = format!(
                "{}:{} [{}] expected {}, got {} {:?}: {}",
                case.file,
                case.line,
                case.category,
                case.expected,
                actual,
                ids,
                case.command.replace('\n', "\u{2424}")
            );
            if case.category == "incident" && expected_block && !actual_block {
                incident_misses.push(line.clone());
            }
            mismatches.push(line);
        }
    }
    println!(
        "{:<14} {:>5} {:>5} {:>5} {:>5} {:>10} {:>8}",
        "category", "tp", "fp", "fn", "tn", "precision", "recall"
    );
    let mut total = Counts::default();
    for (category, counts) in &per_category {
        print_row(category, counts);
        total.true_positive += counts.true_positive;
        total.false_positive += counts.false_positive;
        total.false_negative += counts.false_negative;
        total.true_negative += counts.true_negative;
    }
    print_row("all", &total);
    println!("{} cases, {} mismatches", cases.len(), mismatches.len());
    for mismatch in &mismatches {
        println!("MISMATCH {mismatch}");
    }
    assert!(
        incident_misses.is_empty(),
        "incident-family commands were allowed:\n{}",
        incident_misses.join("\n")
    );
    assert!(
        mismatches.is_empty(),
        "{} corpus mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(
        cases.len() >= 400,
        "the corpus must hold at least 400 cases, has {}",
        cases.len()
    );
}

fn print_row(category: &str, counts: &Counts) {
    let ratio = |numerator: usize, denominator: usize| {
        if denominator == 0 {
            "n/a".to_owned()
        } else {
            format!("{:.3}", numerator as f64 / denominator as f64)
        }
    };
    println!(
        "{:<14} {:>5} {:>5} {:>5} {:>5} {:>10} {:>8}",
        category,
        counts.true_positive,
        counts.false_positive,
        counts.false_negative,
        counts.true_negative,
        ratio(
            counts.true_positive,
            counts.true_positive + counts.false_positive
        ),
        ratio(
            counts.true_positive,
            counts.true_positive + counts.false_negative
        ),
    );
}

/// Wrapping a blocked command in `sudo`, `timeout`, `env`, `bash -c '...'`, `eval '...'` or a
/// subshell must not unblock it: canonicalisation sees through every wrapper.
#[test]
fn wrappers_keep_blocked_commands_blocked() {
    let files = files();
    let mut unblocked = Vec::new();
    let mut checked = 0;
    for case in corpus()
        .iter()
        .filter(|case| case.expected != "allow" && !case.command.contains('\n'))
    {
        let quoted = format!("'{}'", case.command.replace('\'', "'\\''"));
        for wrapped in [
            format!("sudo {}", case.command),
            format!("timeout 30 {}", case.command),
            format!("env FOO=1 {}", case.command),
            format!("bash -c {quoted}"),
            format!("eval {quoted}"),
            format!("( {} )", case.command),
            format!("true && {}", case.command),
        ] {
            checked += 1;
            let assessment = assess(&wrapped, &files);
            if assessment.verdict.decision == Decision::Allow {
                unblocked.push(format!("{}:{}: {wrapped}", case.file, case.line));
            }
        }
    }
    println!(
        "{checked} wrapped variants of blocked corpus commands checked, {} allowed",
        unblocked.len()
    );
    assert!(
        unblocked.is_empty(),
        "wrapping unblocked {} commands:\n{}",
        unblocked.len(),
        unblocked.join("\n")
    );
}

#[test]
fn holds_tell_the_agent_to_wait_for_a_human_and_not_look_for_credentials() {
    let files = files();
    let assessment = assess("rm -rf ~/projects", &files);
    assert!(matches!(assessment.verdict.decision, Decision::Hold { .. }));
    for reason in &assessment.verdict.reasons {
        assert!(
            reason.agent_message.contains("A human must approve"),
            "{}",
            reason.agent_message
        );
        assert!(
            reason
                .agent_message
                .contains("do not look for other credentials"),
            "{}",
            reason.agent_message
        );
        assert!(reason.alternative.is_some());
    }
}

#[test]
fn production_or_unknown_targets_need_two_approvers_and_local_ones_one() {
    let files = files();
    let local = assess("rm -rf ~/projects", &files);
    assert_eq!(local.verdict.decision, Decision::hold(1));
    let unknown = assess("kubectl delete namespace payments", &files);
    assert_eq!(unknown.verdict.decision, Decision::hold(2));
    let dynamic = assess("$CMD --force", &files);
    assert_eq!(dynamic.verdict.decision, Decision::hold(2));
    let incident = assess(
        r#"curl -X POST https://backboard.railway.com/graphql/v2 -d '{"query":"mutation { volumeDelete(volumeId: \"v\") }"}'"#,
        &files,
    );
    assert_eq!(incident.verdict.decision, Decision::hold(2));
    assert_eq!(incident.operation.risk(), blastdoor_core::Risk::Destroy);
}

#[test]
fn descriptions_are_redacted_and_reads_are_reads() {
    let files = files();
    let assessment = assess(
        "curl -H 'Authorization: Bearer rw_live_0123456789abcdef' https://backboard.railway.com/graphql/v2 -d @query.json",
        &files,
    );
    assert!(
        !assessment
            .operation
            .description()
            .contains("rw_live_0123456789abcdef")
    );
    let leaky = assess(
        "curl -X DELETE 'https://api.github.com/repos/o/r?access_token=ghp_0123456789abcdefghij'",
        &files,
    );
    assert_ne!(leaky.verdict.decision, Decision::Allow);
    for reason in &leaky.verdict.reasons {
        assert!(
            !reason.explanation.contains("ghp_0123456789abcdefghij"),
            "{}",
            reason.explanation
        );
        assert!(
            !reason.agent_message.contains("ghp_0123456789abcdefghij"),
            "{}",
            reason.agent_message
        );
    }
    for target in leaky.operation.targets() {
        assert!(
            !target.id.contains("ghp_0123456789abcdefghij"),
            "{}",
            target.id
        );
    }
    assert_eq!(
        assess("ls -la && git status", &files).operation.risk(),
        blastdoor_core::Risk::Read
    );
    assert_eq!(
        assess("cargo build", &files).operation.risk(),
        blastdoor_core::Risk::Write
    );
}

#[test]
fn file_reads_use_the_credential_rules() {
    let files = files();
    let context = blastdoor_shell::Context {
        cwd: std::path::Path::new(crate::support::CWD),
        home: Some(std::path::Path::new(crate::support::HOME)),
        blastdoor_home: Some(std::path::Path::new(crate::support::BLASTDOOR_HOME)),
        files: &files,
    };
    for (path, expected) in [
        ("/home/u/.railway/config.json", Decision::Deny),
        ("/home/u/proj/.env", Decision::Deny),
        ("/home/u/.aws/credentials", Decision::Deny),
        ("/home/u/.ssh/id_ed25519", Decision::Deny),
        ("/home/u/.blastdoor/keys/ledger.key", Decision::Deny),
        ("/home/u/proj/src/main.rs", Decision::Allow),
        ("/home/u/proj/.env.example", Decision::Allow),
    ] {
        let assessment = blastdoor_shell::assess_file_read(std::path::Path::new(path), &context);
        assert_eq!(assessment.verdict.decision, expected, "{path}");
        assert_eq!(
            assessment.operation.kind(),
            blastdoor_core::OperationKind::FileRead
        );
    }
}
