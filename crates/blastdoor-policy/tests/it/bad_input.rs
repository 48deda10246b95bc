//! Policy files that must be refused: each error names the file (and the line when cedar gives
//! a position) and says what is wrong; nothing panics.

use blastdoor_policy::{PolicyEngine, PolicyError};

/// Loads `files` and returns the error text, which must mention every `expected` fragment.
#[track_caller]
fn check_error(files: &[(&str, &str)], expected: &[&str]) {
    let error = match PolicyEngine::from_sources(files) {
        Ok(_) => panic!("loaded: {files:?}"),
        Err(error) => error.to_string(),
    };
    for fragment in expected {
        assert!(error.contains(fragment), "`{fragment}` not in:\n{error}");
    }
}

#[test]
fn syntax_errors_name_the_file_and_line() {
    check_error(
        &[
            (
                "ok.cedar",
                r#"@id("t.ok") permit (principal, action, resource);"#,
            ),
            (
                "broken.cedar",
                "@id(\"t.a\")\npermit (principal, action, resource)\nwhen { resource.environment == };",
            ),
        ],
        &["broken.cedar:3:"],
    );
    check_error(
        &[("x.cedar", "permit (principal, action resource);")],
        &["x.cedar:1:"],
    );
}

#[test]
fn schema_errors_name_the_file_line_and_policy() {
    check_error(
        &[(
            "team.cedar",
            "\n\n@id(\"t.owner\")\npermit (principal, action, resource)\nwhen { resource.owner == \"me\" };",
        )],
        &["team.cedar:", "t.owner", "does not match the schema"],
    );
    check_error(
        &[(
            "team.cedar",
            "@id(\"t.action\") permit (principal, action == Action::\"delete\", resource);",
        )],
        &["team.cedar:1:", "t.action"],
    );
    check_error(
        &[(
            "team.cedar",
            "@id(\"t.type\") permit (principal, action, resource) when { context.now == \"soon\" };",
        )],
        &["team.cedar:1:", "t.type"],
    );
}

#[test]
fn blastdoor_annotations_are_checked() {
    check_error(
        &[("a.cedar", "\npermit (principal, action, resource);")],
        &["a.cedar:2:1", "no `@id"],
    );
    check_error(
        &[(
            "a.cedar",
            "@id(\"Not A Slug\") permit (principal, action, resource);",
        )],
        &["a.cedar:1:1", "`@id`"],
    );
    check_error(
        &[(
            "a.cedar",
            "@id(\"t.h\") @hold(\"0\") permit (principal, action, resource);",
        )],
        &["a.cedar", "from 1 to 255"],
    );
    check_error(
        &[(
            "a.cedar",
            "@id(\"t.h\") @hold(\"two\") permit (principal, action, resource);",
        )],
        &["a.cedar", "from 1 to 255"],
    );
    check_error(
        &[(
            "a.cedar",
            "@id(\"t.f\") @hold(\"2\") forbid (principal, action, resource);",
        )],
        &["a.cedar", "only means something on a `permit`"],
    );
    check_error(
        &[
            (
                "a.cedar",
                "@id(\"t.same\") permit (principal, action, resource);",
            ),
            (
                "b.cedar",
                "@id(\"t.same\") permit (principal, action, resource);",
            ),
        ],
        &["b.cedar", "already used in `a.cedar`"],
    );
    check_error(
        &[(
            "a.cedar",
            "@id(\"t.tpl\") permit (principal == ?principal, action, resource);",
        )],
        &["a.cedar", "templates"],
    );
}

#[test]
fn an_empty_or_missing_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let empty = PolicyEngine::from_dir(dir.path()).unwrap_err();
    assert!(
        matches!(empty, PolicyError::NoPolicyFiles { .. }),
        "{empty}"
    );
    let missing = PolicyEngine::from_dir(&dir.path().join("nope")).unwrap_err();
    assert!(matches!(missing, PolicyError::ReadDir { .. }), "{missing}");
    assert!(missing.to_string().contains("nope"));
}

#[test]
fn a_file_that_is_not_utf8_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bin.cedar"), [0xff, 0xfe, 0x00]).unwrap();
    let error = PolicyEngine::from_dir(dir.path()).unwrap_err();
    assert!(error.to_string().contains("bin.cedar"), "{error}");
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        "",
        "\u{0}",
        "@",
        "@id(",
        "permit",
        "permit (",
        "forbid (principal, action, resource) when {",
        "@id(\"x\") permit (principal, action, resource) when { 1 + };",
        "/* unterminated",
        "permit (principal in Agent::\"",
        "é@id(\"é\")",
        "@id(\"x\") permit(principal,action,resource) when { context.rule_ids.containsAll(\"x\") };",
    ];
    for input in inputs {
        let _ = PolicyEngine::from_sources(&[("g.cedar", input)]);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_policy_text_never_panics(text in "\\PC{0,200}") {
        let _ = PolicyEngine::from_sources(&[("fuzz.cedar", &text)]);
    }

    /// Whatever the target's strings hold (quotes, `::`, unicode), the decision is made and is
    /// the one the risk and environment call for.
    #[test]
    fn arbitrary_target_strings_never_change_the_default_answer(
        kind in "\\PC{0,30}", id in "\\PC{0,30}", upstream in "\\PC{0,30}", task in "\\PC{0,30}",
    ) {
        let engine = PolicyEngine::default_policies().unwrap();
        let mut request = crate::request(blastdoor_core::Risk::Destroy, &["production"], false);
        request.target.kind = kind;
        request.target.id = id;
        request.target.upstream = Some(upstream);
        request.task = Some(task);
        proptest::prop_assert_eq!(engine.decide(&request).verdict.decision, blastdoor_core::Decision::hold(2));
    }
}
