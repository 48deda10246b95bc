//! One line per mistake: the error names the file, the line, the key (or the section), and what
//! is wrong. Nothing panics.

use blastdoor_config::ConfigError;

use crate::{ORIGIN, parse};

/// Parses `text`; the error must be at `line` and mention every `fragment`.
#[track_caller]
fn check(text: &str, line: usize, fragments: &[&str]) {
    let error = match parse(text) {
        Ok(config) => panic!("accepted:\n{text}\n{config:?}"),
        Err(error) => error,
    };
    let message = error.to_string();
    match &error {
        ConfigError::Invalid { line: actual, .. } => assert_eq!(*actual, line, "{message}"),
        ConfigError::Read { .. } => panic!("{message}"),
    }
    assert!(
        message.starts_with(&format!("{ORIGIN}:{line}:")),
        "{message}"
    );
    for fragment in fragments {
        assert!(
            message.contains(fragment),
            "`{fragment}` not in:\n{message}"
        );
    }
}

const RAILWAY: &str = "[[upstream]]\nname = \"railway\"\nkind = \"railway\"\nurl = \"https://backboard.railway.com\"\n";

#[test]
fn unknown_keys_are_refused_with_file_line_and_key() {
    check(
        "[gateway]\nlisten = \"127.0.0.1:1\"\nlisen = \"x\"\n",
        3,
        &[
            "`gateway.lisen`: unknown field `lisen`",
            "expected one of `listen`",
        ],
    );
    check("[gatway]\n", 1, &["`gatway`: unknown field `gatway`"]);
    check(
        &format!("{RAILWAY}token = \"abc\"\n"),
        5,
        &["`upstream.token`: unknown field `token`"],
    );
    check(
        "[approvals]\nexpiry = \"1h\"\n\n[hook]\ngateway_url = \"http://x\"\n",
        5,
        &["`hook.gateway_url`"],
    );
    check(
        &format!(
            "{RAILWAY}[[upstream.rule]]\nmethod = \"GET\"\npath = \"/\"\nrisk = \"read\"\nrisc = \"x\"\n"
        ),
        9,
        &["`upstream.rule.risc`"],
    );
}

#[test]
fn a_misspelt_table_is_named() {
    check(
        &format!("{RAILWAY}[upstream.environmets]\nproduction = [\"e\"]\n"),
        5,
        &["`upstream.environmets`"],
    );
}

#[test]
fn wrong_types_and_missing_fields() {
    check(
        "[gateway]\nmax_body_bytes = \"ten\"\n",
        2,
        &["invalid type", "max_body_bytes = \"ten\""],
    );
    check(
        "[[upstream]]\nname = \"railway\"\nkind = \"railway\"\n",
        1,
        &["missing field `url`"],
    );
    check("gateway = 5\n", 1, &["gateway"]);
    check("[gateway\n", 1, &[]);
}

#[test]
fn bad_durations() {
    check(
        "[approvals]\nexpiry = \"10\"\n",
        2,
        &["`approvals.expiry`", "has no unit"],
    );
    check(
        "[approvals]\ncooling_off = \"ten minutes\"\n",
        2,
        &["`approvals.cooling_off`", "not a duration"],
    );
    check(
        "[approvals]\nexpiry = \"0s\"\n",
        2,
        &["`approvals.expiry`", "longer than zero"],
    );
    check(
        "[gateway]\nrequest_timeout = \"5y\"\n",
        2,
        &["`gateway.request_timeout`", "unknown unit `y`"],
    );
    check("[hook]\ntimeout = \"0s\"\n", 2, &["`hook.timeout`"]);
    check(
        "[hook]\nledger_sync = \"never\"\n",
        2,
        &["`hook.ledger_sync`", "`never`", "full or os-buffered"],
    );
}

#[test]
fn a_pending_hold_cap_must_be_positive() {
    for bad in ["0", "-1", "4294967296"] {
        check(
            &format!("[approvals]\nmax_pending_per_agent = {bad}\n"),
            2,
            &["`approvals.max_pending_per_agent`", "from 1 to"],
        );
    }
    check(
        "[approvals]\nmax_pending_per_agent = \"20\"\n",
        2,
        &["invalid type"],
    );
}

#[test]
fn bad_addresses_and_urls() {
    check(
        "[gateway]\nlisten = \"localhost\"\n",
        2,
        &["`gateway.listen`", "127.0.0.1:7878"],
    );
    check(
        "[gateway]\nmax_body_bytes = 0\n",
        2,
        &["`gateway.max_body_bytes`"],
    );
    check(
        "[gateway]\ntls_cert = \"c.pem\"\n",
        2,
        &["`gateway.tls_cert`", "needs `tls_key`"],
    );
    check(
        "[[upstream]]\nname = \"r\"\nkind = \"rest\"\nurl = \"backboard.railway.com\"\n",
        4,
        &["`upstream[1].url`", "http://"],
    );
    check(
        "[[upstream]]\nname = \"r\"\nkind = \"rest\"\nurl = \"https://u:hunter2@x\"\n",
        4,
        &["credentials"],
    );
    check("[hook]\ngateway = \"ftp://x\"\n", 2, &["`hook.gateway`"]);
    check(
        "[approvals]\nui_base_url = \"https://\"\n",
        2,
        &["`approvals.ui_base_url`", "no host"],
    );
}

#[test]
fn the_webhook_url_is_never_echoed() {
    let text =
        "[approvals]\nwebhook_url = \"http://hooks.slack.com/services/T0/B0/supersecretvalue\"\n";
    check(text, 2, &["`approvals.webhook_url`", "https://"]);
    let message = parse(text).unwrap_err().to_string();
    assert!(!message.contains("supersecretvalue"), "{message}");
    let text = "[approvals]\nwebhook_url = \"not a url supersecretvalue\"\n";
    let message = parse(text).unwrap_err().to_string();
    assert!(!message.contains("supersecretvalue"), "{message}");
    let text = "[approvals]\nwebhook_url = 5\n";
    let message = parse(text).unwrap_err().to_string();
    assert!(message.contains(":2:"), "{message}");
    // A valid one is kept, but masked in Debug.
    let config = parse(
        "[approvals]\nwebhook_url = \"https://hooks.slack.com/services/T0/B0/supersecretvalue\"\n",
    )
    .unwrap();
    assert!(!format!("{config:?}").contains("supersecretvalue"));
    assert!(
        config
            .approvals
            .webhook_url
            .unwrap()
            .expose_secret()
            .ends_with("supersecretvalue")
    );
}

#[test]
fn upstream_mistakes() {
    check(
        &format!(
            "{RAILWAY}\n[[upstream]]\nname = \"railway\"\nkind = \"rest\"\nurl = \"https://x\"\n"
        ),
        7,
        &["`upstream[2].name`", "already"],
    );
    check(
        "[[upstream]]\nname = \"r\"\nkind = \"graphql\"\nurl = \"https://x\"\n",
        3,
        &[
            "`upstream[1].kind`",
            "unknown upstream kind `graphql`",
            "railway, rest or kubernetes",
        ],
    );
    check(
        "[[upstream]]\nname = \"Rail Way\"\nkind = \"rest\"\nurl = \"https://x\"\n",
        2,
        &["`upstream[1].name`"],
    );
    check(
        "[[upstream]]\nname = \"ui\"\nkind = \"rest\"\nurl = \"https://x\"\n",
        2,
        &["reserved"],
    );
    check(
        &format!("{RAILWAY}credential = \"rw_live abc\"\n"),
        5,
        &["`upstream[1].credential`", "name of a secret"],
    );
    check(
        &format!("{RAILWAY}[upstream.environments]\nProduction = [\"e1\"]\n"),
        6,
        &["`upstream[1].environments.Production`", "lowercase"],
    );
    check(
        &format!("{RAILWAY}[upstream.environments]\nunknown = [\"e1\"]\n"),
        6,
        &["reserved"],
    );
    check(
        &format!(
            "{RAILWAY}[upstream.environments]\nproduction = [\"e1\"]\nstaging = [\"e2\", \"e1\"]\n"
        ),
        7,
        &["`e1` is listed under more than one environment"],
    );
    check(
        &format!("{RAILWAY}environment = \"Prod\"\n"),
        5,
        &["`upstream[1].environment`"],
    );
    check(
        "[[upstream]]\nname = \"k\"\nkind = \"kubernetes\"\nurl = \"https://k:6443\"\n[upstream.environments]\nproduction = [\"Prod_NS\"]\n",
        6,
        &["Kubernetes namespace"],
    );
    check(
        "[[upstream]]\nname = \"b\"\nkind = \"rest\"\nurl = \"https://b\"\n[upstream.environments]\nproduction = [\"v1/live\"]\n",
        6,
        &["path prefix"],
    );
}

#[test]
fn rest_rule_mistakes() {
    let rest =
        "[[upstream]]\nname = \"b\"\nkind = \"rest\"\nurl = \"https://b\"\n[[upstream.rule]]\n";
    check(
        &format!("{rest}method = \"DEL ETE\"\npath = \"/x\"\nrisk = \"destroy\"\n"),
        6,
        &["`upstream[1].rule[1].method`"],
    );
    check(
        &format!("{rest}method = \"DELETE\"\npath = \"x\"\nrisk = \"destroy\"\n"),
        7,
        &["`upstream[1].rule[1].path`", "start with `/`"],
    );
    check(
        &format!("{rest}method = \"DELETE\"\npath = \"/a*/b\"\nrisk = \"destroy\"\n"),
        7,
        &["whole path segment"],
    );
    check(
        &format!("{rest}method = \"DELETE\"\npath = \"/**/b\"\nrisk = \"destroy\"\n"),
        7,
        &["last segment"],
    );
    check(
        &format!("{rest}method = \"DELETE\"\npath = \"/x\"\nrisk = \"nuke\"\n"),
        8,
        &["`upstream[1].rule[1].risk`", "unknown risk class `nuke`"],
    );
    check(
        &format!(
            "{RAILWAY}[[upstream.rule]]\nmethod = \"DELETE\"\npath = \"/x\"\nrisk = \"destroy\"\n"
        ),
        6,
        &["only applies to `rest`"],
    );
}

#[test]
fn snapshot_and_protect_mistakes() {
    check(
        "[snapshots]\nstore = \"s3://B\"\n",
        2,
        &["`snapshots.store`", "bucket"],
    );
    check(
        "[snapshots]\nstore = \"gs://bucket\"\n",
        2,
        &["`snapshots.store`"],
    );
    check(
        "[snapshots]\nregion = \"eu-west-1\"\n",
        2,
        &["`snapshots.region`", "s3://"],
    );
    check(
        "[snapshots]\nca_file = \"ca.pem\"\n",
        2,
        &["`snapshots.ca_file`", "s3://"],
    );
    check(
        "[snapshots]\nstore = \"s3://bucket/x\"\nca_file = \"\"\n",
        3,
        &["`snapshots.ca_file`", "empty"],
    );
    check(
        &format!(
            "{RAILWAY}[[protect]]\nupstream = \"railwya\"\nresource = \"v\"\nmethod = \"pg_dump\"\ndsn = \"db\"\n"
        ),
        6,
        &[
            "`protect[1].upstream`",
            "no `[[upstream]]` is named `railwya`",
        ],
    );
    check(
        &format!(
            "{RAILWAY}[[protect]]\nupstream = \"railway\"\nresource = \"v\"\nmethod = \"pg_dump\"\n"
        ),
        8,
        &["`protect[1].dsn`", "needs `dsn`"],
    );
    check(
        &format!(
            "{RAILWAY}[[protect]]\nupstream = \"railway\"\nresource = \"v\"\nmethod = \"rsync\"\n"
        ),
        8,
        &["unknown snapshot method `rsync`"],
    );
    check(
        &format!(
            "{RAILWAY}[[protect]]\nupstream = \"railway\"\nresource = \"v\"\nmethod = \"command\"\nargv = []\n"
        ),
        9,
        &["`protect[1].argv`"],
    );
    check(
        &format!(
            "{RAILWAY}[[protect]]\nupstream = \"railway\"\nresource = \"v\"\nmethod = \"pg_dump\"\ndsn = \"db\"\nargv = [\"x\"]\n"
        ),
        10,
        &["`argv` only applies to `command`"],
    );
    check(
        &format!(
            "{RAILWAY}[[protect]]\nupstream = \"railway\"\nresource = \"v\"\nmethod = \"railway_backup\"\n[[protect]]\nupstream = \"railway\"\nresource = \"v\"\nmethod = \"railway_backup\"\n"
        ),
        11,
        &["already protected"],
    );
    let rest = "[[upstream]]\nname = \"b\"\nkind = \"rest\"\nurl = \"https://b\"\n";
    check(
        &format!(
            "{rest}[[protect]]\nupstream = \"b\"\nresource = \"v\"\nmethod = \"railway_backup\"\n"
        ),
        8,
        &["needs a railway upstream"],
    );
}

#[test]
fn garbage_never_panics() {
    for text in [
        "\u{0}",
        "[[",
        "=",
        "a = [",
        "[gateway]\nlisten = \"\u{1F4A5}\"",
        "\u{feff}[gateway]",
        "[upstream]\nname=1",
    ] {
        let _ = parse(text);
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = parse(&text);
    }

    #[test]
    fn arbitrary_values_in_every_checked_key_never_panic(value in "\\PC{0,40}") {
        let value = value.replace(['"', '\\'], "");
        for template in [
            "[gateway]\nlisten = \"{}\"",
            "[approvals]\nexpiry = \"{}\"",
            "[approvals]\nwebhook_url = \"{}\"",
            "[snapshots]\nstore = \"{}\"",
            "[[upstream]]\nname = \"{}\"\nkind = \"rest\"\nurl = \"https://x\"",
            "[[upstream]]\nname = \"a\"\nkind = \"rest\"\nurl = \"{}\"",
            "[[upstream]]\nname = \"a\"\nkind = \"rest\"\nurl = \"https://x\"\n[[upstream.rule]]\nmethod = \"*\"\npath = \"{}\"\nrisk = \"read\"",
        ] {
            let _ = parse(&template.replace("{}", &value));
        }
    }
}
