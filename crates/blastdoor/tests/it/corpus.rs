//! Issue 13, end to end: the gateway judges the whole request the upstream will execute.
//!
//! Two tests, each against a real `blastdoor serve` in front of the Railway simulator
//! (`blastdoor-sim`, incident scenario: production and staging of project `pocketos`, with
//! distinct secret values in each, plus `svc-billing`, a service in production only):
//!
//! - [`the_gateway_corpus_gets_the_expected_answer_for_every_case`] runs every case of
//!   `test_data/gateway-corpus/cases.jsonl` (format and classes in that folder's README):
//!   attacks and legitimate traffic, each with the capability token it is sent with and the
//!   outcome expected (`forward`, `deny`, `hold`, `malformed`). What reached the upstream is
//!   read from the simulator's request log, not from the gateway's answer. It prints, per
//!   class, the cases and what reached the upstream, and fails listing every case whose
//!   outcome differs. For every case, no production secret may come back to the agent, no
//!   capability token may reach the upstream in any header, and no refusal may create a hold.
//!   A case the gateway gets wrong today carries `known_wrong` (the reason, a bug to fix): it
//!   is listed, and the test fails once it behaves as expected so that the mark goes.
//! - [`every_railway_cli_document_is_forwarded_for_staging_and_refused_for_production`] sends
//!   every Railway CLI document (`test_data/railway-cli/{queries,mutations}`) with variables
//!   filled from their declared types with staging's ids: forwarded with a staging
//!   `read,write` token unless [`CLI_EXPECTATIONS`] says otherwise (read-secrets, held for
//!   Destroy/Execute/Escalate, refused as not staging work, or known wrong); then with
//!   production's ids: refused (403), unless [`CLI_PRODUCTION_KNOWN_WRONG`] lists it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use blastdoor_sim::{INCIDENT_ACCOUNT_TOKEN, INCIDENT_PROJECT_TOKEN, RequestRecord, ids, secrets};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::serve::{Served, Sim};
use crate::support::{TestHome, stdout};

// --- The gateway under test. ---

/// A service the tests add to the incident scenario, with an instance in production only.
const BILLING: &str = "svc-billing";

/// `blastdoor.toml`: one Railway upstream at the simulator, its environments configured. The
/// cap on pending holds is raised past the corpus's holds per token, so that every case gets
/// its own answer rather than 429.
fn config(sim: SocketAddr) -> String {
    format!(
        r#"[gateway]
request_timeout = "5s"

[approvals]
max_pending_per_agent = 1000

[[upstream]]
name = "railway"
kind = "railway"
url = "http://{sim}"
credential = "railway-main"
[upstream.environments]
production = ["{production}"]
staging = ["{staging}"]
"#,
        production = ids::PRODUCTION,
        staging = ids::STAGING,
    )
}

/// The capability tokens cases are sent with: name → (environments, risks).
const TOKENS: &[(&str, &str, &str)] = &[
    ("staging-r", "staging", "read"),
    ("staging-rw", "staging", "read,write"),
    ("staging-rws", "staging", "read,read-secrets,write"),
    ("staging-rwd", "staging", "read,write,destroy"),
    ("staging-rwx", "staging", "read,write,execute"),
    (
        "staging-all",
        "staging",
        "read,read-secrets,write,destroy,execute,escalate",
    ),
    (
        "both-all",
        "staging,production",
        "read,read-secrets,write,destroy,execute,escalate",
    ),
];

/// A simulator, a prepared home and `blastdoor serve` in front of them, with tokens minted on
/// first use.
struct Gateway {
    sim: Sim,
    home: TestHome,
    served: Served,
    tokens: BTreeMap<String, String>,
}

impl Gateway {
    fn start() -> Gateway {
        let sim = Sim::start();
        sim.state
            .add_service(BILLING, "billing", &[ids::PRODUCTION]);
        let home = TestHome::initialised();
        std::fs::write(home.path().join("blastdoor.toml"), config(sim.address)).unwrap();
        let output = home.run_with_stdin(
            &["secret", "set", "railway-main"],
            INCIDENT_ACCOUNT_TOKEN.as_bytes(),
        );
        assert!(
            output.status.success(),
            "secret set: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let served = Served::start(&home, None);
        Gateway {
            sim,
            home,
            served,
            tokens: BTreeMap::new(),
        }
    }

    /// The token called `name` in [`TOKENS`], minted for agent `corpus-NAME` on first use.
    fn token(&mut self, name: &str) -> String {
        if let Some(token) = self.tokens.get(name) {
            return token.clone();
        }
        let (_, environments, risks) = TOKENS
            .iter()
            .find(|(known, _, _)| *known == name)
            .unwrap_or_else(|| panic!("no token called `{name}` in TOKENS"));
        let agent = format!("corpus-{name}");
        let output = self.home.run(&[
            "token",
            "mint",
            "--agent",
            &agent,
            "--upstream",
            "railway",
            "--env",
            environments,
            "--risk",
            risks,
            "--ttl",
            "1h",
            "--task",
            "fix staging",
        ]);
        assert!(
            output.status.success(),
            "mint {name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let token = stdout(&output).trim().to_owned();
        assert!(token.starts_with("bd1_"), "{token}");
        self.tokens.insert(name.to_owned(), token.clone());
        token
    }

    /// Every hold the gateway stored, by id.
    fn hold_ids(&self) -> BTreeSet<String> {
        let store = blastdoor_approval::HoldStore::open_in_home(&self.home.path()).unwrap();
        store
            .holds(true)
            .unwrap()
            .iter()
            .map(|hold| hold.id.as_str().to_owned())
            .collect()
    }
}

/// One HTTP answer, read until the server closed the connection.
#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The `extensions.code` of the first error (blastdoor's refusals carry `BLASTDOOR_…`).
    fn code(&self) -> String {
        let json = self.json();
        json.pointer("/errors/0/extensions/code")
            .or_else(|| json.get("code"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    /// The rule ids of a refusal (`extensions.rule_ids`).
    fn rule_ids(&self) -> Vec<String> {
        self.json()
            .pointer("/errors/0/extensions/rule_ids")
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn hold_id(&self) -> Option<String> {
        self.json()
            .pointer("/errors/0/extensions/hold_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// The answer, shortened for a failure message.
    fn brief(&self) -> String {
        let body: String = self.body.chars().take(400).collect();
        format!("{} {body}", self.status)
    }
}

fn send(address: SocketAddr, bytes: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    // The gateway may answer (413, 400) and close before it has read a large body.
    let _ = stream.write_all(bytes);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Reply {
        status,
        head: head.to_owned(),
        body,
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// The read-only lookups the gateway itself sends upstream (topology, deployments, staged
/// changes): not the agent's request.
fn is_gateway_lookup(record: &RequestRecord) -> bool {
    record.operations.len() == 1
        && record.operations.iter().all(|operation| {
            operation
                .operation_name
                .as_deref()
                .is_some_and(|name| name.starts_with("Blastdoor"))
                && matches!(
                    operation.fields.as_slice(),
                    [field] if ["project", "projects", "deployment", "environmentStagedChanges"]
                        .contains(&field.as_str())
                )
        })
}

fn production_secret_in(text: &str) -> Option<&'static str> {
    secrets::PRODUCTION
        .iter()
        .copied()
        .find(|secret| text.contains(secret))
}

fn staging_secret_in(text: &str) -> Option<&'static str> {
    secrets::STAGING
        .iter()
        .copied()
        .find(|secret| text.contains(secret))
}

// --- The corpus. ---

/// One case of `test_data/gateway-corpus/cases.jsonl`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    class: String,
    name: String,
    /// A name in [`TOKENS`].
    token: String,
    request: RequestSpec,
    expect: Expect,
    /// Rule ids the refusal must name (each one of `extensions.rule_ids`).
    #[serde(default)]
    rules: Vec<String>,
    /// The exact status of a `malformed` refusal (default 400).
    #[serde(default)]
    status: Option<u16>,
    /// The status the upstream answers a forwarded case with (default 200; the simulator has
    /// no `railway up` endpoint and answers it 404).
    #[serde(default)]
    upstream_status: Option<u16>,
    /// The exact `extensions.code` of a refusal, where it is not the default of `expect`
    /// (`BLASTDOOR_FOUND_CREDENTIAL` for a raw credential refused before classification).
    #[serde(default)]
    code: Option<String>,
    /// A forwarded answer must hold a staging secret value (the read really read them).
    #[serde(default)]
    returns_staging_secrets: bool,
    /// Header names (lowercase) that must not reach the upstream.
    #[serde(default)]
    must_not_reach: Vec<String>,
    /// GraphQL requests sent straight to the upstream with the real credential before the
    /// case, as someone else (a human in Railway's dashboard) would: what the gateway did not
    /// see. Each must be answered 200.
    #[serde(default)]
    upstream_setup: Vec<Value>,
    /// Why the gateway does not do what `expect` says yet: a bug reported to be fixed. Such a
    /// case is run and listed; the test fails when it starts behaving as expected (remove the
    /// mark then). A production secret returned or a capability token forwarded fails the
    /// test whatever the mark says.
    #[serde(default)]
    known_wrong: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Expect {
    Forward,
    Deny,
    Hold,
    Malformed,
}

/// How a case's request is sent (see the README of the corpus).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestSpec {
    #[serde(default = "post")]
    method: String,
    /// Below `/railway`: `/graphql/v2`, with a query string if any.
    #[serde(default = "graphql_path")]
    path: String,
    /// `bearer` (`Authorization: Bearer`), `project` (`Project-Access-Token`) or `none`.
    #[serde(default = "bearer")]
    auth: String,
    /// Extra headers, in order; `{{TOKEN}}` (the case's token), `{{TOKEN:name}}` (another
    /// token of [`TOKENS`]), `{{ACCOUNT_TOKEN}}` and `{{PROJECT_TOKEN}}` are replaced.
    #[serde(default)]
    headers: Vec<(String, String)>,
    /// The `Content-Type` of a request with a body; `""` sends none.
    #[serde(default = "application_json")]
    content_type: String,
    /// The body as JSON (sent compact).
    #[serde(default)]
    json: Option<Value>,
    /// The body as text, sent as it is (for bodies JSON values cannot express).
    #[serde(default)]
    body: Option<String>,
    /// This many spaces appended to the body (still the same JSON, past a size limit).
    #[serde(default)]
    pad: usize,
}

fn post() -> String {
    "POST".to_owned()
}

fn graphql_path() -> String {
    "/graphql/v2".to_owned()
}

fn bearer() -> String {
    "bearer".to_owned()
}

fn application_json() -> String {
    "application/json".to_owned()
}

impl RequestSpec {
    /// The request's bytes; `token` is the case's token, `others` the tokens named by
    /// `{{TOKEN:name}}` placeholders.
    fn bytes(
        &self,
        address: SocketAddr,
        token: &str,
        others: &BTreeMap<String, String>,
    ) -> Vec<u8> {
        let fill = |text: &str| {
            let mut text = text
                .replace("{{TOKEN}}", token)
                .replace("{{ACCOUNT_TOKEN}}", INCIDENT_ACCOUNT_TOKEN)
                .replace("{{PROJECT_TOKEN}}", INCIDENT_PROJECT_TOKEN);
            for (name, other) in others {
                text = text.replace(&format!("{{{{TOKEN:{name}}}}}"), other);
            }
            text
        };
        let mut body = match (&self.json, &self.body) {
            (Some(json), _) => json.to_string().into_bytes(),
            (None, Some(text)) => fill(text).into_bytes(),
            (None, None) => Vec::new(),
        };
        body.extend(std::iter::repeat_n(b' ', self.pad));
        let mut head = format!(
            "{} /railway{} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n",
            self.method,
            fill(&self.path)
        );
        match self.auth.as_str() {
            "bearer" => head.push_str(&format!("Authorization: Bearer {token}\r\n")),
            "project" => head.push_str(&format!("Project-Access-Token: {token}\r\n")),
            "none" => {}
            other => panic!("unknown auth `{other}`"),
        }
        let has = |name: &str| {
            self.headers
                .iter()
                .any(|(header, _)| header.eq_ignore_ascii_case(name))
        };
        if !self.content_type.is_empty() && !has("content-type") {
            head.push_str(&format!("Content-Type: {}\r\n", self.content_type));
        }
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {}\r\n", fill(value)));
        }
        if !has("transfer-encoding") && !has("content-length") && !body.is_empty() {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend(body);
        bytes
    }
}

/// What happened to one case.
struct Observed {
    reply: Reply,
    /// The agent's requests that reached the simulator (the gateway's own lookups excluded).
    reached: Vec<RequestRecord>,
    /// Every request the simulator received for the case, lookups included.
    all: Vec<RequestRecord>,
}

fn run_case(gateway: &mut Gateway, case: &Case) -> Observed {
    for body in &case.upstream_setup {
        let body = body.to_string();
        let request = format!(
            "POST /graphql/v2 HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nAuthorization: Bearer {INCIDENT_ACCOUNT_TOKEN}\r\nContent-Length: {}\r\n\r\n{body}",
            gateway.sim.address,
            body.len()
        );
        let reply = send(gateway.sim.address, request.as_bytes());
        assert_eq!(reply.status, 200, "{}: setup {body}: {reply:?}", case.name);
    }
    let token = gateway.token(&case.token);
    // Other tokens a header names as `{{TOKEN:name}}`.
    let mut others = BTreeMap::new();
    for (_, value) in &case.request.headers {
        for piece in value.split("{{TOKEN:").skip(1) {
            if let Some((name, _)) = piece.split_once("}}") {
                others.insert(name.to_owned(), gateway.token(name));
            }
        }
    }
    let before = gateway.sim.state.requests().len();
    let reply = send(
        gateway.served.address,
        &case.request.bytes(gateway.served.address, &token, &others),
    );
    let all: Vec<RequestRecord> = gateway.sim.state.requests().split_off(before);
    let reached = all
        .iter()
        .filter(|record| !is_gateway_lookup(record))
        .cloned()
        .collect();
    Observed {
        reply,
        reached,
        all,
    }
}

/// Every way the outcome of `observed` differs from what `case` expects: what reached the
/// upstream (the request, a raw credential or a header the case names), the status and code
/// of the answer, the rules named, the secrets returned.
fn outcome_differences(case: &Case, observed: &Observed) -> Vec<String> {
    let reply = &observed.reply;
    let mut wrong = Vec::new();
    let code = reply.code();
    let forwarded = !observed.reached.is_empty();
    match case.expect {
        Expect::Forward => {
            if !forwarded {
                wrong.push(format!("not forwarded: {}", reply.brief()));
            } else if reply.status != case.upstream_status.unwrap_or(200)
                || code.starts_with("BLASTDOOR_")
            {
                wrong.push(format!("forwarded but answered {}", reply.brief()));
            }
        }
        Expect::Deny | Expect::Hold | Expect::Malformed => {
            let (status, wanted_code) = match case.expect {
                Expect::Deny => (
                    403,
                    Some(case.code.as_deref().unwrap_or("BLASTDOOR_DENIED")),
                ),
                Expect::Hold => (428, Some("BLASTDOOR_HELD")),
                _ => (case.status.unwrap_or(400), case.code.as_deref()),
            };
            if forwarded {
                wrong.push(format!(
                    "reached the upstream ({} request(s)), answered {}",
                    observed.reached.len(),
                    reply.brief()
                ));
            } else {
                let code_right = match wanted_code {
                    Some(wanted) => code == wanted,
                    None => code.starts_with("BLASTDOOR_") && code != "BLASTDOOR_HELD",
                };
                if reply.status != status || !code_right {
                    wrong.push(format!("expected {status}, got {}", reply.brief()));
                }
            }
            if case.expect == Expect::Hold && reply.hold_id().is_none() {
                wrong.push("no hold id".to_owned());
            }
        }
    }
    let rule_ids = reply.rule_ids();
    for rule in &case.rules {
        if !rule_ids.contains(rule) {
            wrong.push(format!("rule `{rule}` not named; rule ids: {rule_ids:?}"));
        }
    }
    if case.returns_staging_secrets && staging_secret_in(&reply.body).is_none() && wrong.is_empty()
    {
        wrong.push(format!("no staging secret came back: {}", reply.brief()));
    }
    for record in &observed.all {
        if !record.headers_with_credential.is_empty() {
            wrong.push(format!(
                "a raw Railway credential reached the upstream in {:?}",
                record.headers_with_credential
            ));
        }
        for header in &case.must_not_reach {
            if record.header_names.contains(header) {
                wrong.push(format!("header `{header}` reached the upstream"));
            }
        }
    }
    wrong
}

/// What must hold for every case, expected or known wrong: no production secret comes back
/// to the agent, no capability token reaches the upstream, everything that reaches it carries
/// the real credential, and only a case expected to be held (or known wrong) is answered with
/// a hold.
fn invariant_violations(case: &Case, observed: &Observed) -> Vec<String> {
    let reply = &observed.reply;
    let mut wrong = Vec::new();
    let answer = format!("{}\r\n\r\n{}", reply.head, reply.body);
    if let Some(secret) = production_secret_in(&answer) {
        wrong.push(format!(
            "a production secret came back ({}…)",
            &secret[..8.min(secret.len())]
        ));
    }
    if case.expect != Expect::Hold && case.known_wrong.is_none() && reply.hold_id().is_some() {
        wrong.push(format!("a hold was created: {}", reply.brief()));
    }
    for record in &observed.all {
        if !record.headers_with_capability_token.is_empty() {
            wrong.push(format!(
                "a capability token reached the upstream in {:?}",
                record.headers_with_capability_token
            ));
        }
        if !record.authorized || record.auth_header != blastdoor_sim::AuthHeader::Bearer {
            wrong.push(format!(
                "reached the upstream without the real credential in its header: {:?}",
                record.auth_header
            ));
        }
    }
    wrong
}

/// Counts per class, for the printed table.
#[derive(Default)]
struct Tally {
    cases: usize,
    forwarded: usize,
    denied: usize,
    held: usize,
    malformed: usize,
    production_secrets_returned: usize,
    known_wrong: usize,
    mismatches: usize,
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test_data/gateway-corpus")
}

fn load_cases() -> Vec<Case> {
    let path = corpus_dir().join("cases.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut cases = Vec::new();
    let mut names = BTreeSet::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let case: Case = serde_json::from_str(line)
            .unwrap_or_else(|error| panic!("{}:{}: {error}", path.display(), number + 1));
        assert!(
            names.insert((case.class.clone(), case.name.clone())),
            "{}:{}: case `{}` of `{}` is there twice",
            path.display(),
            number + 1,
            case.name,
            case.class
        );
        cases.push(case);
    }
    cases
}

#[test]
fn the_gateway_corpus_gets_the_expected_answer_for_every_case() {
    let cases = load_cases();
    assert!(cases.len() >= 300, "only {} cases", cases.len());
    // BLASTDOOR_CORPUS_VERBOSE=1 prints every case's answer and rule ids.
    let verbose = std::env::var_os("BLASTDOOR_CORPUS_VERBOSE").is_some();
    let mut classes: Vec<&str> = Vec::new();
    for case in &cases {
        if !classes.contains(&case.class.as_str()) {
            classes.push(&case.class);
        }
    }
    let mut mismatches = Vec::new();
    let mut known_wrong = Vec::new();
    let mut table = Vec::new();
    for class in classes {
        // A class runs against its own simulator and gateway: a write one class forwards
        // cannot change what another class finds.
        let mut gateway = Gateway::start();
        let mut tally = Tally::default();
        let mut held = BTreeSet::new();
        for case in cases.iter().filter(|case| case.class == class) {
            let observed = run_case(&mut gateway, case);
            let differences = outcome_differences(case, &observed);
            let violations = invariant_violations(case, &observed);
            tally.cases += 1;
            if !observed.reached.is_empty() {
                tally.forwarded += 1;
            }
            // Refusals are counted when blastdoor answered them and nothing was forwarded.
            let refused_by_blastdoor =
                observed.reached.is_empty() && observed.reply.code().starts_with("BLASTDOOR_");
            match observed.reply.status {
                403 if refused_by_blastdoor => tally.denied += 1,
                428 if refused_by_blastdoor => tally.held += 1,
                400 | 405 | 413 | 415 if refused_by_blastdoor => tally.malformed += 1,
                _ => {}
            }
            if let Some(id) = observed.reply.hold_id() {
                held.insert(id);
            }
            let answer = format!("{}{}", observed.reply.head, observed.reply.body);
            if production_secret_in(&answer).is_some() {
                tally.production_secrets_returned += 1;
            }
            if verbose {
                println!(
                    "[{class}] {}: {} forwarded={} rules={:?}",
                    case.name,
                    observed.reply.status,
                    !observed.reached.is_empty(),
                    observed.reply.rule_ids()
                );
            }
            let title = format!(
                "[{class}] {} (token {}, expected {:?})",
                case.name, case.token, case.expect
            );
            match &case.known_wrong {
                Some(why) if !differences.is_empty() => {
                    tally.known_wrong += 1;
                    known_wrong.push(format!(
                        "{title}: {why}\n    got: {}",
                        differences.join("\n    got: ")
                    ));
                }
                Some(_) => mismatches.push(format!(
                    "{title}: marked known_wrong but now behaves as expected; remove the mark"
                )),
                None if !differences.is_empty() => {
                    mismatches.push(format!("{title}:\n    {}", differences.join("\n    ")));
                }
                None => {}
            }
            if !violations.is_empty() {
                mismatches.push(format!("{title}:\n    {}", violations.join("\n    ")));
            }
            let unexpected =
                !violations.is_empty() || (case.known_wrong.is_none() != differences.is_empty());
            tally.mismatches += usize::from(unexpected);
        }
        // No refusal created a hold behind the agent's back: the holds stored are exactly
        // the ones the agent was told about.
        let stored = gateway.hold_ids();
        if stored != held {
            mismatches.push(format!(
                "[{class}] holds stored {stored:?} but the agent was told about {held:?}"
            ));
        }
        table.push(format!(
            "{class}: {} cases, {} forwarded, {} denied (403), {} held (428), {} refused as malformed (400/405/413/415), {} production secrets returned, {} known wrong, {} not as expected",
            tally.cases,
            tally.forwarded,
            tally.denied,
            tally.held,
            tally.malformed,
            tally.production_secrets_returned,
            tally.known_wrong,
            tally.mismatches
        ));
    }
    println!("gateway corpus ({} cases):", cases.len());
    for line in &table {
        println!("  {line}");
    }
    if !known_wrong.is_empty() {
        println!(
            "known wrong ({}), gateway bugs to fix:\n{}",
            known_wrong.len(),
            known_wrong.join("\n")
        );
    }
    assert!(
        mismatches.is_empty(),
        "{} case(s) not as expected:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

// --- The Railway CLI's documents, with staging's ids and with production's. ---

/// The ids a document's variables are filled with: staging's or production's.
#[derive(Debug)]
struct Side {
    environment: &'static str,
    volume_instance: &'static str,
    backup: &'static str,
    deployment: &'static str,
    service_instance: &'static str,
    service_domain: &'static str,
    tcp_proxy: &'static str,
    /// The scenario has a custom domain in production only; staging's is made up.
    custom_domain: &'static str,
}

const STAGING: Side = Side {
    environment: ids::STAGING,
    volume_instance: ids::PG_DATA_STAGING,
    backup: ids::STAGING_BACKUP,
    deployment: "dep-svc-api-env-staging",
    service_instance: "si-svc-api-env-staging",
    service_domain: "sd-api-staging",
    tcp_proxy: "tcp-postgres-staging",
    custom_domain: "cd-api-staging-none",
};

const PRODUCTION: Side = Side {
    environment: ids::PRODUCTION,
    volume_instance: ids::PG_DATA_PRODUCTION,
    backup: ids::PRODUCTION_BACKUP,
    deployment: "dep-svc-api-env-production",
    service_instance: "si-svc-api-env-production",
    service_domain: "sd-api-production",
    tcp_proxy: "tcp-postgres-production",
    custom_domain: ids::API_CUSTOM_DOMAIN,
};

/// What a document's bare `$id` names, by document (file name without `.graphql`).
const BARE_IDS: &[(&str, &str)] = &[
    ("CustomDomainDelete", "customDomain"),
    ("CustomDomainIssueCertificate", "customDomain"),
    ("CustomDomainUpdate", "customDomain"),
    ("DeploymentRedeploy", "deployment"),
    ("DeploymentRemove", "deployment"),
    ("DeploymentRestart", "deployment"),
    ("DeploymentStatus", "deployment"),
    ("EnvironmentConfig", "environment"),
    ("EnvironmentDelete", "environment"),
    ("Project", "project"),
    ("ProjectScheduleDelete", "project"),
    ("ServiceConnect", "service"),
    ("ServiceDisconnect", "service"),
    ("ServiceDomainDelete", "serviceDomain"),
    ("TcpProxyDelete", "tcpProxy"),
    ("VolumeDelete", "volume"),
];

/// Nullable variables and input fields that are filled anyway: the ids that say where an
/// operation acts (as the CLI sends them), and the decryption the CLI asks for.
const FILLED_WHEN_NULLABLE: &[&str] = &[
    "decryptVariables",
    "deploymentId",
    "environmentId",
    "projectId",
    "serviceId",
    "sourceId",
    "volumeId",
    "volumeInstanceId",
    "workspaceId",
];

/// A GraphQL type reference as written in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ty {
    Named(String),
    List(Box<Ty>),
    NonNull(Box<Ty>),
}

impl Ty {
    fn parse(text: &str) -> Ty {
        fn prefix(text: &str) -> (Ty, &str) {
            let (inner, rest) = if let Some(rest) = text.strip_prefix('[') {
                let (inner, rest) = prefix(rest);
                (Ty::List(Box::new(inner)), rest.strip_prefix(']').unwrap())
            } else {
                let end = text
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(text.len());
                (Ty::Named(text[..end].to_owned()), &text[end..])
            };
            match rest.strip_prefix('!') {
                Some(rest) => (Ty::NonNull(Box::new(inner)), rest),
                None => (inner, rest),
            }
        }
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let (ty, rest) = prefix(&compact);
        assert!(rest.is_empty(), "type `{text}`");
        ty
    }

    fn from_schema(ty: &blastdoor_sim::schema::TypeRef) -> Ty {
        use blastdoor_sim::schema::TypeRef;
        match ty {
            TypeRef::Named(name) => Ty::Named((*name).to_owned()),
            TypeRef::List(inner) => Ty::List(Box::new(Ty::from_schema(inner))),
            TypeRef::NonNull(inner) => Ty::NonNull(Box::new(Ty::from_schema(inner))),
        }
    }
}

/// The variables an operation of `document` declares: (name, type).
fn declared_variables(document: &str) -> Vec<(String, Ty)> {
    use apollo_parser::cst::{self, CstNode as _};
    let tree = apollo_parser::Parser::new(document).parse();
    assert_eq!(tree.errors().len(), 0, "{document}");
    let mut declared = Vec::new();
    for definition in tree.document().definitions() {
        let cst::Definition::OperationDefinition(operation) = definition else {
            continue;
        };
        let Some(definitions) = operation.variable_definitions() else {
            continue;
        };
        for definition in definitions.variable_definitions() {
            let name = definition
                .variable()
                .and_then(|variable| variable.name())
                .unwrap()
                .text()
                .to_string();
            let ty = Ty::parse(&definition.ty().unwrap().source_string());
            declared.push((name, ty));
        }
    }
    declared
}

/// The variables to send with `document` (`doc` is its file name without `.graphql`): every
/// non-null variable, and the nullable ones in [`FILLED_WHEN_NULLABLE`], from their types,
/// with `side`'s ids where an argument names a resource.
fn fill_variables(doc: &str, document: &str, side: &Side) -> serde_json::Map<String, Value> {
    declared_variables(document)
        .into_iter()
        .filter(|(name, ty)| {
            matches!(ty, Ty::NonNull(_)) || FILLED_WHEN_NULLABLE.contains(&name.as_str())
        })
        .map(|(name, ty)| {
            let value = value_of(doc, &name, &ty, side, 0);
            (name, value)
        })
        .collect()
}

fn value_of(doc: &str, name: &str, ty: &Ty, side: &Side, depth: usize) -> Value {
    match ty {
        Ty::NonNull(inner) => value_of(doc, name, inner, side, depth),
        Ty::List(inner) => json!([value_of(doc, name, inner, side, depth)]),
        Ty::Named(type_name) => named_value(doc, name, type_name, side, depth),
    }
}

/// The id an argument called `name` takes on `side`, if it names a resource.
fn id_for(doc: &str, name: &str, side: &Side) -> Option<String> {
    let kind = match name {
        "id" => BARE_IDS
            .iter()
            .find(|(known, _)| *known == doc)
            .map_or("unmodelled", |(_, kind)| *kind),
        "environmentId" | "sourceId" => "environment",
        "projectId" | "demoProjectId" => "project",
        "serviceId" | "rootServiceId" => "service",
        "volumeId" => "volume",
        "volumeInstanceId" => "volumeInstance",
        "volumeInstanceBackupId" => "backup",
        "deploymentId" => "deployment",
        "serviceInstanceId" | "instanceId" => "serviceInstance",
        "serviceDomainId" => "serviceDomain",
        "customDomainId" => "customDomain",
        "tcpProxyId" => "tcpProxy",
        "workspaceId" => "workspace",
        other if other.ends_with("Id") => "unmodelled",
        _ => return None,
    };
    Some(match kind {
        "environment" => side.environment.to_owned(),
        "project" => ids::PROJECT.to_owned(),
        "service" => ids::API.to_owned(),
        "volume" => ids::PG_DATA.to_owned(),
        "volumeInstance" => side.volume_instance.to_owned(),
        "backup" => side.backup.to_owned(),
        "deployment" => side.deployment.to_owned(),
        "serviceInstance" => side.service_instance.to_owned(),
        "serviceDomain" => side.service_domain.to_owned(),
        "tcpProxy" => side.tcp_proxy.to_owned(),
        "customDomain" => side.custom_domain.to_owned(),
        "workspace" => ids::WORKSPACE.to_owned(),
        // Buckets, sandboxes, templates, cloud agents, private networks, workflows: the
        // simulator has none; the same made-up id on both sides.
        _ => format!("corpus-{doc}-{name}"),
    })
}

fn named_value(doc: &str, name: &str, type_name: &str, side: &Side, depth: usize) -> Value {
    if matches!(type_name, "String" | "ID")
        && let Some(id) = id_for(doc, name, side)
    {
        return json!(id);
    }
    match type_name {
        "String" | "ID" => match name {
            "mountPath" => json!("/data"),
            "domain" => json!("corpus.pocketos.example"),
            "token" => json!("123456"),
            _ => json!(format!("corpus-{name}")),
        },
        "Int" | "BigInt" => json!(1),
        "Float" => json!(1.0),
        "Boolean" => json!(name == "decryptVariables"),
        "DateTime" => json!("2026-01-01T00:00:00.000Z"),
        // A patch that changes one variable of the API: a plain write.
        "EnvironmentConfig" => {
            json!({"services": {ids::API: {"variables": {"CORPUS": {"value": "1"}}}}})
        }
        "EnvironmentVariables" => json!({"CORPUS": "1"}),
        other => {
            use blastdoor_sim::schema::TypeKind;
            let definition = blastdoor_sim::schema::schema()
                .type_def(other)
                .unwrap_or_else(|| panic!("{doc}: type `{other}` is not in the schema"));
            match definition.kind {
                TypeKind::Enum => json!(definition.enum_values[0]),
                TypeKind::InputObject if depth < 4 => {
                    let mut object = serde_json::Map::new();
                    for field in &definition.input_fields {
                        let wanted = (field.ty.is_non_null() && field.default.is_none())
                            || FILLED_WHEN_NULLABLE.contains(&field.name);
                        if wanted {
                            object.insert(
                                field.name.to_owned(),
                                value_of(
                                    doc,
                                    field.name,
                                    &Ty::from_schema(&field.ty),
                                    side,
                                    depth + 1,
                                ),
                            );
                        }
                    }
                    Value::Object(object)
                }
                _ => json!({}),
            }
        }
    }
}

/// What a Railway CLI document filled with staging's ids gets, where it is not "forwarded with
/// a staging `read,write` token".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Staging {
    /// Forwarded with a staging `read,read-secrets,write` token, refused (403,
    /// `railway.secrets-read`) with `read,write`: it reads secrets.
    ReadsSecrets,
    /// Held (428) with a staging token that has every risk, refused (403) with `read,write`:
    /// the reviewed table rates it Destroy, Execute or Escalate.
    Held,
    /// Rightly not forwarded for a staging token that has every risk: answered with this
    /// status, for the reason given (it is not staging work, or the scenario has no staging
    /// resource for it).
    Refused(u16, &'static str),
    /// A bug reported to the lead: answered with this status now, where it should not be (the
    /// reason says what it should get). Sent with a staging `read,write` token; the test fails
    /// once the answer changes, so the entry is removed (or moved) with the fix.
    KnownWrong(u16, &'static str),
}

/// Every Railway CLI document that is not simply forwarded with a staging `read,write` token.
const CLI_EXPECTATIONS: &[(&str, Staging)] = &[
    ("queries/BucketS3Credentials", Staging::ReadsSecrets),
    ("queries/EnvironmentConfig", Staging::ReadsSecrets),
    ("queries/EnvironmentStagedChanges", Staging::ReadsSecrets),
    (
        "queries/VariablesForServiceDeployment",
        Staging::ReadsSecrets,
    ),
    (
        "queries/MyCloudAgents",
        Staging::Refused(
            403,
            "lists the user's cloud agents in every environment: production's environment data",
        ),
    ),
    (
        "queries/ProjectToken",
        Staging::Refused(
            403,
            "describes the credential the request carries, which through the gateway is \
             blastdoor's own; it names no id and is judged on every environment",
        ),
    ),
    ("mutations/BucketCredentialsReset", Staging::Held),
    (
        "mutations/BucketUpdate",
        Staging::KnownWrong(
            428,
            "buckets are not in the gateway's topology, so `bucketUpdate(id)` (a rename of the \
             bucket in every environment, like `volumeUpdate`) is judged as an unknown \
             environment and held; it should be refused (403) like the project-wide \
             `volumeUpdate`",
        ),
    ),
    ("mutations/CancelPitrHaWorkflow", Staging::Held),
    ("mutations/ClearPitrHaWorkflowProgress", Staging::Held),
    ("mutations/CloudAgentDelete", Staging::Held),
    (
        "mutations/CloudAgentSleep",
        Staging::KnownWrong(
            403,
            "cloud agents are not in the gateway's topology and `cloudAgentSleep(id)` names no \
             environment, so the agent's `status` it selects is environment data of an unknown \
             environment, refused for a staging token; a cloud agent lives in one environment \
             and could be looked up like a deployment, then forwarded for staging",
        ),
    ),
    (
        "mutations/CloudAgentWake",
        Staging::KnownWrong(
            403,
            "as CloudAgentSleep: a cloud agent's environment is never looked up, so waking a \
             staging agent is refused",
        ),
    ),
    ("mutations/CustomDomainDelete", Staging::Held),
    (
        "mutations/CustomDomainIssueCertificate",
        Staging::Refused(
            428,
            "the scenario has no custom domain in staging: sent with a made-up id, an unknown \
             resource, held",
        ),
    ),
    (
        "mutations/CustomDomainUpdate",
        Staging::Refused(
            428,
            "the scenario has no custom domain in staging: sent with a made-up id, an unknown \
             resource, held",
        ),
    ),
    ("mutations/DeploymentRemove", Staging::Held),
    ("mutations/DisablePitrForHaCluster", Staging::Held),
    ("mutations/EgressGatewayAssociationsClear", Staging::Held),
    (
        "mutations/EnvironmentCreate",
        Staging::Refused(
            403,
            "creates a new environment of the project (a copy of staging), which is not \
             staging: judged on every environment of the project",
        ),
    ),
    ("mutations/EnvironmentDelete", Staging::Held),
    ("mutations/GenerateShellToken", Staging::Held),
    (
        "mutations/PrivateNetworkEndpointRename",
        Staging::KnownWrong(
            428,
            "private networks are not in the gateway's topology and the mutation names no \
             environment, so renaming a staging endpoint is held as a write that may touch \
             production",
        ),
    ),
    (
        "mutations/ProjectCreate",
        Staging::Refused(
            428,
            "creates a new project in the workspace, which is not staging; the workspace is \
             not in the topology, so it is held as an unknown environment",
        ),
    ),
    (
        "mutations/ProjectScheduleDelete",
        Staging::Refused(403, "deletes the whole project, production included"),
    ),
    ("mutations/SandboxCheckpointDelete", Staging::Held),
    ("mutations/SandboxDestroy", Staging::Held),
    (
        "mutations/ServiceConnect",
        Staging::Refused(
            403,
            "points the service at a new source in every environment (project-wide, Execute)",
        ),
    ),
    (
        "mutations/ServiceDelete",
        Staging::Refused(
            403,
            "deletes the service in every environment, whatever environmentId says",
        ),
    ),
    (
        "mutations/ServiceDisconnect",
        Staging::Refused(
            403,
            "disconnects the service's source in every environment (project-wide)",
        ),
    ),
    ("mutations/ServiceDomainDelete", Staging::Held),
    ("mutations/SshPublicKeyCreate", Staging::Held),
    ("mutations/SshPublicKeyDelete", Staging::Held),
    ("mutations/TcpProxyDelete", Staging::Held),
    ("mutations/TemplateDelete", Staging::Held),
    (
        "mutations/TemplatePublish",
        Staging::Refused(
            428,
            "publishes a workspace template, which is not staging; templates are not in the \
             topology, so it is held as an unknown environment",
        ),
    ),
    (
        "mutations/TemplateUnpublish",
        Staging::Refused(
            428,
            "unpublishes a workspace template, which is not staging; held as an unknown \
             environment",
        ),
    ),
    (
        "mutations/ValidateTwoFactor",
        Staging::Refused(
            403,
            "authenticates the account with a two-factor code (Escalate, account-wide)",
        ),
    ),
    ("mutations/VariableDelete", Staging::Held),
    (
        "mutations/VolumeDelete",
        Staging::Refused(
            403,
            "deletes the volume in every environment (the incident)",
        ),
    ),
    ("mutations/VolumeInstanceBackupDelete", Staging::Held),
    ("mutations/VolumeInstanceBackupRestore", Staging::Held),
    (
        "mutations/VolumeInstanceBackupScheduleUpdate",
        Staging::Held,
    ),
    (
        "mutations/VolumeNameUpdate",
        Staging::Refused(
            403,
            "renames the volume in every environment (project-wide)",
        ),
    ),
];

/// Documents whose production variant is not refused (403) as it should be: bugs reported to
/// the lead, with the status they get now.
const CLI_PRODUCTION_KNOWN_WRONG: &[(&str, u16, &str)] = &[(
    "mutations/TcpProxyDelete",
    428,
    "TCP proxies are not in the gateway's topology, so production's proxy has an unknown \
     environment and its delete is held for two approvers instead of refused for a staging \
     token",
)];

fn cli_documents() -> Vec<(String, String)> {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test_data/railway-cli");
    let mut documents = Vec::new();
    for directory in ["queries", "mutations"] {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(fixtures.join(directory))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "graphql"))
            .collect();
        entries.sort();
        for path in entries {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            documents.push((
                format!("{directory}/{stem}"),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
    documents
}

/// Sends `document` with `variables` and `token`; what happened.
fn send_document(
    gateway: &mut Gateway,
    name: &str,
    document: &str,
    variables: &serde_json::Map<String, Value>,
    token: &str,
) -> Observed {
    let case = Case {
        class: "railway-cli".to_owned(),
        name: name.to_owned(),
        token: token.to_owned(),
        request: RequestSpec {
            method: post(),
            path: graphql_path(),
            auth: bearer(),
            headers: Vec::new(),
            content_type: application_json(),
            json: Some(json!({"query": document, "variables": variables})),
            body: None,
            pad: 0,
        },
        expect: Expect::Forward,
        rules: Vec::new(),
        status: None,
        upstream_status: None,
        code: None,
        returns_staging_secrets: false,
        must_not_reach: Vec::new(),
        upstream_setup: Vec::new(),
        known_wrong: None,
    };
    run_case(gateway, &case)
}

/// Why `observed` is not a forward the upstream executed and answered 200, if it is not.
fn not_forwarded(observed: &Observed) -> Option<String> {
    let executed = observed
        .reached
        .iter()
        .flat_map(|record| &record.operations)
        .any(|operation| operation.executed);
    let reply = &observed.reply;
    (!executed || reply.status != 200 || reply.code().starts_with("BLASTDOOR_"))
        .then(|| reply.brief())
}

/// Why `observed` is not a refusal with `status` that reached nothing, if it is not.
fn not_refused(observed: &Observed, status: u16) -> Option<String> {
    let reply = &observed.reply;
    let code = match status {
        403 => "BLASTDOOR_DENIED",
        428 => "BLASTDOOR_HELD",
        _ => "",
    };
    (!observed.reached.is_empty() || reply.status != status || reply.code() != code)
        .then(|| format!("expected {status}, got {}", reply.brief()))
}

#[test]
fn every_railway_cli_document_is_forwarded_for_staging_and_refused_for_production() {
    let mut gateway = Gateway::start();
    let documents = cli_documents();
    assert!(documents.len() > 100, "only {} documents", documents.len());
    for (name, _) in CLI_EXPECTATIONS {
        assert!(
            documents.iter().any(|(doc, _)| doc == name),
            "{name} is not a CLI document"
        );
    }
    let mut wrong = Vec::new();
    let mut known_wrong = Vec::new();
    let mut hold_ids = BTreeSet::new();
    let (mut forwarded, mut with_secrets, mut held, mut refused) = (0, 0, Vec::new(), 0);
    let (mut production_refused, mut production_known_wrong, mut not_environment_specific) =
        (0, 0, 0);
    for (name, document) in &documents {
        let stem = name.rsplit('/').next().unwrap_or(name);
        let staging = fill_variables(stem, document, &STAGING);
        let production = fill_variables(stem, document, &PRODUCTION);
        let expectation = CLI_EXPECTATIONS
            .iter()
            .find(|(doc, _)| doc == name)
            .map(|(_, expectation)| *expectation);
        let token = match expectation {
            None | Some(Staging::KnownWrong(..)) => "staging-rw",
            Some(Staging::ReadsSecrets) => "staging-rws",
            Some(Staging::Held | Staging::Refused(..)) => "staging-all",
        };
        let observed = send_document(&mut gateway, name, document, &staging, token);
        if let Some(secret) = production_secret_in(&observed.reply.body) {
            wrong.push(format!("{name}: a production secret came back ({secret})"));
        }
        hold_ids.extend(observed.reply.hold_id());
        let problem = match expectation {
            None => {
                forwarded += 1;
                not_forwarded(&observed)
            }
            Some(Staging::ReadsSecrets) => {
                with_secrets += 1;
                // Without read-secrets in the token, refused outright.
                let without = send_document(&mut gateway, name, document, &staging, "staging-rw");
                not_forwarded(&observed).or_else(|| {
                    not_refused(&without, 403)
                        .or_else(|| {
                            (!without
                                .reply
                                .rule_ids()
                                .iter()
                                .any(|rule| rule == "railway.secrets-read"))
                            .then(|| {
                                format!(
                                    "refused without naming railway.secrets-read: {}",
                                    without.reply.brief()
                                )
                            })
                        })
                        .map(|why| format!("with read,write: {why}"))
                })
            }
            Some(Staging::Held) => {
                held.push(name.as_str());
                // Without the risk in the token, refused outright.
                let without = send_document(&mut gateway, name, document, &staging, "staging-rw");
                not_refused(&observed, 428).or_else(|| {
                    not_refused(&without, 403).map(|why| format!("with read,write: {why}"))
                })
            }
            Some(Staging::Refused(status, _)) => {
                refused += 1;
                not_refused(&observed, status)
            }
            Some(Staging::KnownWrong(status, why)) => {
                known_wrong.push(format!(
                    "{name} (staging): {why}; now: {}",
                    observed.reply.brief()
                ));
                not_refused(&observed, status).map(|got| {
                    format!("listed in CLI_EXPECTATIONS as known wrong ({status}) but {got}")
                })
            }
        };
        if let Some(problem) = problem {
            wrong.push(format!(
                "{name} with staging ids (token {token}): {problem}"
            ));
        }
        // The same document with production's ids, where they differ.
        if production == staging {
            not_environment_specific += 1;
            continue;
        }
        let observed = send_document(&mut gateway, name, document, &production, token);
        if let Some(secret) = production_secret_in(&observed.reply.body) {
            wrong.push(format!("{name}: a production secret came back ({secret})"));
        }
        hold_ids.extend(observed.reply.hold_id());
        let problem = match CLI_PRODUCTION_KNOWN_WRONG
            .iter()
            .find(|(doc, _, _)| doc == name)
        {
            Some((_, status, why)) => {
                production_known_wrong += 1;
                known_wrong.push(format!(
                    "{name} (production): {why}; now: {}",
                    observed.reply.brief()
                ));
                not_refused(&observed, *status)
                    .map(|got| format!("listed in CLI_PRODUCTION_KNOWN_WRONG ({status}) but {got}"))
            }
            None => {
                production_refused += 1;
                not_refused(&observed, 403)
            }
        };
        if let Some(problem) = problem {
            wrong.push(format!(
                "{name} with production ids (token {token}): {problem}"
            ));
        }
    }
    // Every hold stored is one the agent was told about: nothing refused made one.
    let stored = gateway.hold_ids();
    if stored != hold_ids {
        wrong.push(format!(
            "holds stored {stored:?} but the agent was told about {hold_ids:?}"
        ));
    }
    let staging_known_wrong = known_wrong.len() - production_known_wrong;
    println!(
        "railway-cli documents: {} ({} not environment-specific)",
        documents.len(),
        not_environment_specific
    );
    println!(
        "  staging ids: {forwarded} forwarded with read,write, {with_secrets} forwarded with read-secrets, {} held (Destroy/Execute/Escalate), {refused} refused or held as not staging work, {staging_known_wrong} known wrong",
        held.len()
    );
    println!("  held: {}", held.join(", "));
    println!(
        "  production ids: {production_refused} refused (403), {production_known_wrong} known wrong"
    );
    if !known_wrong.is_empty() {
        println!(
            "known wrong ({}):\n  {}",
            known_wrong.len(),
            known_wrong.join("\n  ")
        );
    }
    assert!(
        wrong.is_empty(),
        "{} document(s) not as expected:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
