//! Tests of `blastdoor serve`: the real binary in front of the real Railway simulator, on
//! loopback ports chosen by the OS. What the simulator received (`SimState::requests`) shows
//! what got through; what the agent got back shows what it was told. The `pub(crate)` helpers
//! (the simulator, the prepared home, `serve`, the agent's requests) are shared with `browser`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use blastdoor_sim::{INCIDENT_ACCOUNT_TOKEN, SimState, ids};

use crate::support::{TestHome, file_contains, stdout};

/// The simulator, served from a thread of its own.
pub(crate) struct Sim {
    pub(crate) state: SimState,
    pub(crate) address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Sim {
    pub(crate) fn start() -> Sim {
        let state = SimState::incident_scenario();
        let served = state.clone();
        let (address_sender, address_receiver) = mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                address_sender.send(listener.local_addr().unwrap()).unwrap();
                blastdoor_sim::serve(listener, served, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            });
        });
        let address = address_receiver
            .recv_timeout(Duration::from_secs(10))
            .unwrap();
        Sim {
            state,
            address,
            stop: Some(stop),
        }
    }

    /// Names of every mutation root field that reached the simulator.
    fn mutations_seen(&self) -> Vec<String> {
        self.state
            .requests()
            .iter()
            .flat_map(|request| request.operations.iter())
            .filter(|operation| operation.operation_type == "mutation")
            .flat_map(|operation| operation.fields.iter().cloned())
            .collect()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// `blastdoor.toml` with one Railway upstream pointing at the simulator.
fn config(sim: SocketAddr) -> String {
    format!(
        r#"[gateway]
max_body_bytes = 65536
request_timeout = "2s"

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

/// An initialised home with the config, the real Railway credential and tokens.
pub(crate) fn prepared_home(sim: &Sim) -> TestHome {
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
    home
}

pub(crate) fn mint(home: &TestHome, environments: &str, risks: &str) -> String {
    let output = home.run(&[
        "token",
        "mint",
        "--agent",
        "claude-staging-fix",
        "--upstream",
        "railway",
        "--env",
        environments,
        "--risk",
        risks,
        "--ttl",
        "1h",
        "--task",
        "fix the staging deploy",
    ]);
    assert!(
        output.status.success(),
        "mint: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = stdout(&output).trim().to_owned();
    assert!(token.starts_with("bd1_"), "{token}");
    token
}

/// `blastdoor serve --listen 127.0.0.1:0`, with its stderr collected.
pub(crate) struct Served {
    child: Child,
    pub(crate) address: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Served {
    pub(crate) fn start(home: &TestHome, log_level: Option<&str>) -> Served {
        let mut command = home.command(&["serve", "--listen", "127.0.0.1:0"]);
        if let Some(level) = log_level {
            command.env("BLASTDOOR_LOG", level);
        }
        Served::spawn(command)
    }

    /// Runs `command`, a `blastdoor serve` that prints `listening on ADDR`.
    fn spawn(mut command: std::process::Command) -> Served {
        command.stderr(Stdio::piped()).stdout(Stdio::null());
        let mut child = command.spawn().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (address_sender, address_receiver) = mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        let collected = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if let Some(address) = line.strip_prefix("listening on ") {
                    let _ = address_sender.send(address.trim().parse::<SocketAddr>().unwrap());
                }
                let mut all = collected.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let address = match address_receiver.recv_timeout(Duration::from_secs(60)) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                panic!("serve did not start: {}", stderr.lock().unwrap());
            }
        };
        Served {
            child,
            address,
            stderr,
        }
    }

    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP answer, read to the end of the connection.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    head: String,
    body: String,
}

impl Reply {
    /// The value of header `name` (case-insensitive), if sent.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("{error}: {}", self.body))
    }

    /// The `extensions.code` of the first GraphQL error.
    pub(crate) fn code(&self) -> String {
        self.json()["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// Sends `bytes` as they are and reads the answer until the server closes.
fn send_raw(address: SocketAddr, bytes: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(bytes).unwrap();
    read_reply(&mut stream)
}

fn read_reply(stream: &mut TcpStream) -> Reply {
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

fn post(address: SocketAddr, path: &str, auth: &str, body: &str) -> Reply {
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    send_raw(address, request.as_bytes())
}

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}")
}

pub(crate) fn graphql(address: SocketAddr, token: &str, body: serde_json::Value) -> Reply {
    post(
        address,
        "/railway/graphql/v2",
        &bearer(token),
        &body.to_string(),
    )
}

/// The refusal an agent gets for a destructive request: 403 or 428 with blastdoor's code.
#[track_caller]
fn assert_refused(reply: &Reply) {
    assert!(
        matches!(reply.status, 403 | 428),
        "expected a refusal, got {reply:?}"
    );
    let code = reply.code();
    assert!(
        code == "BLASTDOOR_DENIED" || code == "BLASTDOOR_HELD",
        "{reply:?}"
    );
    let message = reply.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("human"), "{message}");
    assert!(message.contains("other credentials"), "{message}");
}

struct Setup {
    sim: Sim,
    home: TestHome,
    served: Served,
}

fn setup(log_level: Option<&str>) -> Setup {
    let sim = Sim::start();
    let home = prepared_home(&sim);
    let served = Served::start(&home, log_level);
    Setup { sim, home, served }
}

#[test]
fn reads_pass_with_the_real_credential_injected_and_the_capability_token_stays_behind() {
    let Setup { sim, home, served } = setup(None);
    let token = mint(&home, "staging", "read,write");
    let reply = graphql(
        served.address,
        &token,
        serde_json::json!({ "query": "query { projects { edges { node { id name } } } }" }),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.body.contains("pocketos"), "{reply:?}");
    // Railway's project-token header works as well.
    let reply = post(
        served.address,
        "/railway/graphql/v2",
        &format!("Project-Access-Token: {token}"),
        r#"{"query":"query { me { id } }"}"#,
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    let requests = sim.state.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        // Every request that reached Railway carried the real account token (the simulator
        // accepts nothing else), in the account-token header.
        assert!(request.authorized, "{request:?}");
        assert_eq!(
            request.auth_header,
            blastdoor_sim::AuthHeader::Bearer,
            "{request:?}"
        );
    }
}

#[test]
fn the_incident_request_never_reaches_railway_in_any_shape() {
    let Setup { sim, home, served } = setup(None);
    let token = mint(&home, "staging", "read,write,destroy");
    let pg_data = ids::PG_DATA;
    let shapes = [
        serde_json::json!({ "query": format!("mutation {{ volumeDelete(volumeId: \"{pg_data}\") }}") }),
        serde_json::json!({ "query": format!("mutation {{ cleanup: volumeDelete(volumeId: \"{pg_data}\") }}") }),
        serde_json::json!({
            "query": "mutation Clean($id: String!) { volumeDelete(volumeId: $id) }",
            "variables": { "id": pg_data },
            "operationName": "Clean",
        }),
        serde_json::json!([
            { "query": "query { me { id } }" },
            { "query": format!("mutation {{ volumeDelete(volumeId: \"{pg_data}\") }}") },
        ]),
        serde_json::json!({
            "query": format!("mutation {{ a: serviceInstanceRedeploy(serviceId: \"{}\", environmentId: \"{}\") b: volumeDelete(volumeId: \"{pg_data}\") }}", ids::API, ids::STAGING),
        }),
        serde_json::json!({
            "query": format!("mutation Delete {{ ...F }} fragment F on Mutation {{ volumeDelete(volumeId: \"{pg_data}\") }}"),
            "operationName": "Delete",
        }),
    ];
    for shape in shapes {
        let reply = graphql(served.address, &token, shape.clone());
        assert_refused(&reply);
        let rule_ids = reply.json()["errors"][0]["extensions"]["rule_ids"].to_string();
        assert!(
            rule_ids.contains("railway.volume-delete") || rule_ids.contains("volume"),
            "{shape}: {rule_ids}"
        );
    }
    // GET with ?query= (percent-encoded): a mutation sent as GET is malformed, refused
    // outright (400), never held for a human.
    let query = format!("mutation%20%7B%20volumeDelete(volumeId%3A%20%22{pg_data}%22)%20%7D");
    let request = format!(
        "GET /railway/graphql/v2?query={query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{}\r\n\r\n",
        bearer(&token)
    );
    let reply = send_raw(served.address, request.as_bytes());
    assert_eq!(reply.status, 400, "{reply:?}");
    assert!(
        reply.body.contains("GET request can only run a query"),
        "{reply:?}"
    );

    assert!(
        !sim.mutations_seen().contains(&"volumeDelete".to_owned()),
        "{:?}",
        sim.state.requests()
    );
    assert!(sim.state.has_volume(ids::PG_DATA));
    assert!(
        sim.state.executed_mutations().is_empty(),
        "{:?}",
        sim.state.executed_mutations()
    );
}

#[test]
fn the_incident_is_denied_by_a_staging_token_and_held_for_two_approvers_with_a_wider_one() {
    let Setup { sim, home, served } = setup(None);
    let delete = serde_json::json!({ "query": format!("mutation {{ volumeDelete(volumeId: \"{}\") }}", ids::PG_DATA) });
    // pg-data has a production instance: outside a staging token's ceiling.
    let staging = mint(&home, "staging", "read,write,destroy");
    let reply = graphql(served.address, &staging, delete.clone());
    assert_eq!(reply.status, 403, "{reply:?}");
    let rule_ids = reply.json()["errors"][0]["extensions"]["rule_ids"].to_string();
    assert!(
        rule_ids.contains("token.out-of-scope") && rule_ids.contains("railway.volume-delete"),
        "{rule_ids}"
    );
    // Inside the ceiling, policy holds a production destroy for two humans.
    let wide = mint(&home, "staging,production", "read,write,destroy");
    let reply = graphql(served.address, &wide, delete);
    assert_eq!(reply.status, 428, "{reply:?}");
    assert_eq!(
        reply.json()["errors"][0]["extensions"]["approvals_required"],
        2,
        "{reply:?}"
    );
    assert!(sim.state.has_volume(ids::PG_DATA));
    assert!(!sim.mutations_seen().contains(&"volumeDelete".to_owned()));
}

/// The incident's first step done through blastdoor itself: production's decrypted variables
/// read through nested fields with a staging token. Refused, whatever the aliases; a staging
/// token that names `read-secrets` reads staging's secrets and only those.
#[test]
fn production_secrets_never_reach_a_staging_token_through_nested_fields() {
    let Setup { sim, home, served } = setup(None);
    let leaked = |body: &str| {
        blastdoor_sim::secrets::PRODUCTION
            .iter()
            .any(|secret| body.contains(secret))
    };
    let staging = mint(&home, "staging", "read,write");
    let with_secrets = mint(&home, "staging", "read,read-secrets");
    let attacks = [
        "{ projects { edges { node { environments { edges { node { name config(decryptVariables: true) } } } } } } }".to_owned(),
        "{ me { workspaces { projects { edges { node { docs: environments { edges { node { readme: config(decryptVariables: true) } } } } } } } } }".to_owned(),
        format!("{{ environment(id: \"{}\") {{ config(decryptVariables: true) }} }}", ids::PRODUCTION),
    ];
    for token in [&staging, &with_secrets] {
        for attack in &attacks {
            let reply = graphql(
                served.address,
                token,
                serde_json::json!({ "query": attack }),
            );
            assert_eq!(reply.status, 403, "{attack}: {reply:?}");
            assert!(!leaked(&reply.body), "{reply:?}");
        }
    }
    // Staging's own secrets: refused without read-secrets, returned with it.
    let own = format!(
        "{{ environment(id: \"{}\") {{ config(decryptVariables: true) }} }}",
        ids::STAGING
    );
    let refused = graphql(
        served.address,
        &staging,
        serde_json::json!({ "query": own }),
    );
    assert_eq!(refused.status, 403, "{refused:?}");
    let allowed = graphql(
        served.address,
        &with_secrets,
        serde_json::json!({ "query": own }),
    );
    assert_eq!(allowed.status, 200, "{allowed:?}");
    assert!(
        blastdoor_sim::secrets::STAGING
            .iter()
            .any(|secret| allowed.body.contains(secret)),
        "{allowed:?}"
    );
    assert!(!leaked(&allowed.body), "{allowed:?}");
    // Nothing that decrypts configuration reached the upstream but that one request.
    let decrypting = sim
        .state
        .requests()
        .iter()
        .filter(|request| {
            request
                .resolved_fields()
                .iter()
                .any(|field| field.parent_type == "Environment" && field.field == "config")
        })
        .count();
    assert_eq!(decrypting, 1);
}

#[test]
fn an_unknown_mutation_is_held_with_a_hold_id() {
    let Setup { sim, home, served } = setup(None);
    let token = mint(&home, "staging", "read,write");
    let reply = graphql(
        served.address,
        &token,
        serde_json::json!({ "query": "mutation { volumeEvaporate(volumeId: \"x\") }" }),
    );
    assert_eq!(reply.status, 428, "{reply:?}");
    assert_eq!(reply.code(), "BLASTDOOR_HELD");
    let hold_id = reply.json()["errors"][0]["extensions"]["hold_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        hold_id.starts_with("hold_") && hold_id.len() > 20,
        "{hold_id}"
    );
    // Only blastdoor's own read-only topology lookup (for the unknown id) reached Railway.
    assert!(
        sim.mutations_seen().is_empty(),
        "{:?}",
        sim.state.requests()
    );
    for operation in sim
        .state
        .requests()
        .iter()
        .flat_map(|request| request.operations.clone())
    {
        assert_eq!(
            operation.operation_name.as_deref(),
            Some("BlastdoorAllTopology"),
            "{operation:?}"
        );
    }
    // The hold is in the ledger.
    assert!(
        file_contains(&home.path().join("ledger.sqlite"), hold_id.as_bytes())
            || ledger_mentions(&home, &hold_id)
    );
    // The stored hold names the capability token that asked, so a person can revoke it.
    let listing = home.run(&["token", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&stdout(&listing)).unwrap();
    let token_id = find_token_id(&listed).expect("a token id in `token list --json`");
    let holds = home.run(&["holds", "--json"]);
    assert!(
        holds.status.success(),
        "{}",
        String::from_utf8_lossy(&holds.stderr)
    );
    let holds: serde_json::Value = serde_json::from_str(&stdout(&holds)).unwrap();
    assert_eq!(find_token_id(&holds), Some(token_id), "{holds}");
}

/// True when the ledger's WAL or database holds `needle` (entries may not be checkpointed yet).
fn ledger_mentions(home: &TestHome, needle: &str) -> bool {
    ["ledger.sqlite", "ledger.sqlite-wal"].iter().any(|name| {
        let path = home.path().join(name);
        path.exists() && file_contains(&path, needle.as_bytes())
    })
}

#[test]
fn every_railway_cli_document_gets_a_decision() {
    let Setup {
        sim: _sim,
        home,
        served,
    } = setup(None);
    let token = mint(
        &home,
        "staging,production",
        "read,write,destroy,execute,escalate",
    );
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test_data/railway-cli");
    let mut count = 0;
    for directory in ["queries", "mutations"] {
        for entry in std::fs::read_dir(fixtures.join(directory)).unwrap() {
            let path = entry.unwrap().path();
            let document = std::fs::read_to_string(&path).unwrap();
            let reply = graphql(
                served.address,
                &token,
                serde_json::json!({ "query": document }),
            );
            assert!(reply.status < 500, "{}: {reply:?}", path.display());
            if matches!(reply.status, 403 | 428) {
                assert!(
                    reply.code().starts_with("BLASTDOOR_"),
                    "{}: {reply:?}",
                    path.display()
                );
            }
            count += 1;
        }
    }
    assert!(count > 100, "only {count} documents");
}

#[test]
fn ambiguous_framing_oversized_bodies_and_slow_clients_are_refused() {
    let Setup { sim, home, served } = setup(None);
    let token = mint(&home, "staging", "read");
    let body = r#"{"query":"query { me { id } }"}"#;
    let auth = bearer(&token);
    let address = served.address;

    let both = format!(
        "POST /railway/graphql/v2 HTTP/1.1\r\nHost: x\r\n{auth}\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len(),
        body.len()
    );
    let reply = send_raw(address, both.as_bytes());
    assert_eq!(reply.status, 400, "{reply:?}");
    assert!(
        reply.body.contains("content-length-and-transfer-encoding"),
        "{reply:?}"
    );

    let duplicate = format!(
        "POST /railway/graphql/v2 HTTP/1.1\r\nHost: x\r\n{auth}\r\nContent-Length: {n}\r\nContent-Length: {n}\r\n\r\n{body}",
        n = body.len()
    );
    let reply = send_raw(address, duplicate.as_bytes());
    assert_eq!(reply.status, 400, "{reply:?}");
    assert!(reply.body.contains("duplicate-content-length"), "{reply:?}");

    let oversized = format!(
        "{{\"query\":\"query {{ me {{ id }} }}\",\"padding\":\"{}\"}}",
        "x".repeat(70_000)
    );
    let reply = post(address, "/railway/graphql/v2", &auth, &oversized);
    assert_eq!(reply.status, 413, "{reply:?}");
    assert_eq!(reply.code(), "BLASTDOOR_BODY_TOO_LARGE");

    // A body that never finishes: the configured 2 s body timeout answers 408.
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let head = format!(
        "POST /railway/graphql/v2 HTTP/1.1\r\nHost: x\r\n{auth}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"query\":"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let reply = read_reply(&mut stream);
    assert_eq!(reply.status, 408, "{reply:?}");
    assert_eq!(reply.code(), "BLASTDOOR_SLOW_CLIENT");

    // A head that never finishes: the connection is closed without forwarding anything.
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .write_all(b"POST /railway/graphql/v2 HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = std::time::Instant::now();
    let mut sink = Vec::new();
    let _ = stream.read_to_end(&mut sink);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "slow head was not cut off"
    );

    assert!(
        sim.state.requests().is_empty(),
        "{:?}",
        sim.state.requests()
    );
}

#[test]
fn requests_without_a_valid_token_are_refused_before_anything_else() {
    let Setup {
        sim,
        home: _home,
        served,
    } = setup(None);
    let body = r#"{"query":"query { me { id } }"}"#;
    let reply = post(served.address, "/railway/graphql/v2", "X-Nothing: 1", body);
    assert_eq!(reply.status, 401, "{reply:?}");
    assert_eq!(reply.code(), "BLASTDOOR_TOKEN_MISSING");
    // The raw Railway token an agent might have found is not a blastdoor token: refused as a
    // found credential (see `a_found_credential_is_refused_and_recorded_without_its_value`).
    let reply = post(
        served.address,
        "/railway/graphql/v2",
        &bearer(INCIDENT_ACCOUNT_TOKEN),
        body,
    );
    assert_eq!(reply.status, 403, "{reply:?}");
    assert_eq!(reply.code(), "BLASTDOOR_FOUND_CREDENTIAL");
    assert!(!reply.body.contains(INCIDENT_ACCOUNT_TOKEN));
    let reply = post(
        served.address,
        "/nowhere/graphql/v2",
        &bearer("bd1_x"),
        body,
    );
    assert_eq!(reply.status, 404, "{reply:?}");
    assert!(sim.state.requests().is_empty());
}

/// A Railway account token's shape (a UUID), as an agent might find one in a file.
const FOUND_RAILWAY_TOKEN: &str = "3f6c1a2e-8b4d-4c9e-a1f7-2d5e8b9c0a41";

#[test]
fn a_found_credential_is_refused_and_recorded_without_its_value() {
    let Setup { sim, home, served } = setup(None);
    let token = mint(&home, "staging", "read");
    let body = r#"{"query":"query { me { id } }"}"#;
    // Alone, as the account token the agent found, and beside the agent's own token.
    let alone = post(
        served.address,
        "/railway/graphql/v2",
        &bearer(INCIDENT_ACCOUNT_TOKEN),
        body,
    );
    let beside = post(
        served.address,
        "/railway/graphql/v2",
        &format!(
            "{}\r\nTeam-Access-Token: {FOUND_RAILWAY_TOKEN}",
            bearer(&token)
        ),
        body,
    );
    for (reply, header) in [(&alone, "authorization"), (&beside, "team-access-token")] {
        assert_eq!(reply.status, 403, "{reply:?}");
        assert_eq!(reply.code(), "BLASTDOOR_FOUND_CREDENTIAL");
        let message = reply.json()["errors"][0]["message"].to_string();
        assert!(
            message.contains("Do not use credentials you found")
                && message.contains("use your blastdoor token")
                && message.contains(header),
            "{message}"
        );
        assert!(
            !reply.body.contains(INCIDENT_ACCOUNT_TOKEN)
                && !reply.body.contains(FOUND_RAILWAY_TOKEN),
            "{reply:?}"
        );
    }
    assert!(
        sim.state.requests().is_empty(),
        "{:?}",
        sim.state.requests()
    );
    // Both are in the ledger as denies, naming the header; the second names the agent.
    let refusals: Vec<String> = ledger_entries(&home)
        .iter()
        .map(|entry| entry.to_string())
        .filter(|entry| entry.contains("gateway.found-credential"))
        .collect();
    assert_eq!(refusals.len(), 2, "{refusals:?}");
    assert!(
        refusals[0].contains("`authorization`") && refusals[0].contains("deny"),
        "{}",
        refusals[0]
    );
    assert!(
        refusals[1].contains("`team-access-token`") && refusals[1].contains("claude-staging-fix"),
        "{}",
        refusals[1]
    );
    for entry in &refusals {
        assert!(
            !entry.contains(INCIDENT_ACCOUNT_TOKEN) && !entry.contains(FOUND_RAILWAY_TOKEN),
            "{entry}"
        );
    }
    for name in ["ledger.sqlite", "ledger.sqlite-wal"] {
        let path = home.path().join(name);
        if path.exists() {
            for value in [INCIDENT_ACCOUNT_TOKEN, FOUND_RAILWAY_TOKEN] {
                assert!(!file_contains(&path, value.as_bytes()), "{name} holds it");
            }
        }
    }
}

#[test]
fn malformed_requests_never_reach_railway_and_are_not_held() {
    let Setup { sim, home, served } = setup(None);
    let token = mint(&home, "staging,production", "read,write,destroy");
    let auth = bearer(&token);
    let delete = format!(
        r#"{{"query":"mutation {{ volumeDelete(volumeId: \"{}\") }}"}}"#,
        ids::PG_DATA
    );
    let query = "query%20%7B%20me%20%7B%20id%20%7D%20%7D";
    let shapes = [
        (
            format!(
                "GET /railway/graphql/v2?query={query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{delete}",
                delete.len()
            ),
            400,
        ),
        (
            format!(
                "PUT /railway/graphql/v2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{delete}",
                delete.len()
            ),
            405,
        ),
        (
            format!(
                "POST /railway/graphql/v2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{delete}",
                delete.len()
            ),
            415,
        ),
        (
            format!(
                "POST /railway/graphql/v2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n{delete}",
                delete.len()
            ),
            415,
        ),
        (
            format!(
                "POST /railway/graphql/v2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\r\nContent-Type: application/json\r\nX-HTTP-Method-Override: GET\r\nContent-Length: {}\r\n\r\n{delete}",
                delete.len()
            ),
            400,
        ),
    ];
    for (request, status) in &shapes {
        let reply = send_raw(served.address, request.as_bytes());
        assert_eq!(reply.status, *status, "{request}: {reply:?}");
        assert!(reply.json()["errors"][0]["extensions"]["hold_id"].is_null());
    }
    assert!(
        sim.state.requests().is_empty(),
        "{:?}",
        sim.state.requests()
    );
    let holds = home.run(&["holds", "--json"]);
    assert!(!stdout(&holds).contains("hold_"), "{}", stdout(&holds));
    assert!(sim.state.has_volume(ids::PG_DATA));
}

#[test]
fn a_revoked_token_stops_working_at_once() {
    let Setup {
        sim: _sim,
        home,
        served,
    } = setup(None);
    let token = mint(&home, "staging", "read");
    let body = serde_json::json!({ "query": "query { me { id } }" });
    assert_eq!(graphql(served.address, &token, body.clone()).status, 200);
    let listing = home.run(&["token", "list", "--json"]);
    assert!(listing.status.success());
    let listed: serde_json::Value = serde_json::from_str(&stdout(&listing)).unwrap();
    let id = find_token_id(&listed).expect("a token id in `token list --json`");
    let revoked = home.run(&["token", "revoke", &id]);
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    let reply = graphql(served.address, &token, body);
    assert_eq!(reply.status, 401, "{reply:?}");
}

fn find_token_id(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) if text.starts_with("tok_") => Some(text.clone()),
        serde_json::Value::Array(items) => items.iter().find_map(find_token_id),
        serde_json::Value::Object(map) => map.values().find_map(find_token_id),
        _ => None,
    }
}

#[test]
fn the_real_credential_never_appears_in_responses_ledger_or_logs() {
    let Setup {
        sim: _sim,
        home,
        served,
    } = setup(Some("trace"));
    let token = mint(&home, "staging", "read,write");
    let mut replies = Vec::new();
    replies.push(graphql(
        served.address,
        &token,
        serde_json::json!({ "query": "query { projects { edges { node { id } } } }" }),
    ));
    replies.push(graphql(served.address, &token, serde_json::json!({ "query": format!("mutation {{ volumeDelete(volumeId: \"{}\") }}", ids::PG_DATA) })));
    replies.push(graphql(
        served.address,
        &token,
        serde_json::json!({ "query": "mutation { somethingNew }" }),
    ));
    replies.push(graphql(served.address, &token, serde_json::json!({ "query": format!("query {{ variables(projectId: \"{}\", environmentId: \"{}\") }}", ids::PROJECT, ids::STAGING) })));
    replies.push(post(
        served.address,
        "/railway/graphql/v2",
        &bearer("bd1_forged"),
        "{}",
    ));
    let metrics = send_raw(
        served.address,
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(
        metrics
            .body
            .contains("blastdoor_gateway_requests_total{upstream=\"railway\",decision=\"allow\"}"),
        "{metrics:?}"
    );
    replies.push(metrics);
    std::thread::sleep(Duration::from_millis(500));
    for reply in &replies {
        assert!(
            !reply.head.contains(INCIDENT_ACCOUNT_TOKEN)
                && !reply.body.contains(INCIDENT_ACCOUNT_TOKEN),
            "{reply:?}"
        );
    }
    for name in [
        "ledger.sqlite",
        "ledger.sqlite-wal",
        "secrets.json",
        "blastdoor.toml",
    ] {
        let path = home.path().join(name);
        if path.exists() {
            assert!(
                !file_contains(&path, INCIDENT_ACCOUNT_TOKEN.as_bytes()),
                "{name} holds the credential"
            );
        }
    }
    let stderr = served.stderr();
    assert!(
        stderr.contains("gateway decision"),
        "trace logging was not on: {stderr}"
    );
    assert!(
        !stderr.contains(INCIDENT_ACCOUNT_TOKEN),
        "the credential reached the log"
    );
    assert!(
        !stderr.contains(&token),
        "the capability token reached the log"
    );
}

#[test]
fn sigterm_stops_the_gateway_cleanly() {
    let Setup {
        sim: _sim,
        home: _home,
        mut served,
    } = setup(None);
    let pid = served.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = served.child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}: {}", served.stderr());
            break;
        }
        assert!(std::time::Instant::now() < deadline, "serve did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A ledger that cannot be written: the fail-closed path, with everything else real.
struct BrokenLedger;

impl blastdoor_server::DecisionLog for BrokenLedger {
    fn append(&self, _record: &blastdoor_audit::Record) -> Result<u64, String> {
        Err("disk I/O error".to_owned())
    }

    fn append_encoded_batch(
        &self,
        _records: &[blastdoor_audit::EncodedRecord],
    ) -> Result<Vec<u64>, String> {
        Err("disk I/O error".to_owned())
    }
}

#[test]
fn nothing_is_forwarded_when_the_ledger_cannot_record_the_decision() {
    let sim = Sim::start();
    let home = prepared_home(&sim);
    let token = mint(&home, "staging", "read,write");
    let root: &Path = &home.path();
    let config = blastdoor_config::load(&root.join("blastdoor.toml")).unwrap();
    let settings = blastdoor_server::Settings::from_config(&config);
    let paths = blastdoor_server::Paths {
        keys_dir: root.join("keys"),
        secrets_file: root.join("secrets.json"),
        token_registry: root.join("tokens.json"),
        policies_dir: root.join("policies"),
        ledger_file: root.join("unused.sqlite"),
        home: root.to_path_buf(),
        state_db: root.join("state.sqlite"),
    };
    let app =
        blastdoor_server::App::with_ledger(&settings, &paths, Arc::new(BrokenLedger)).unwrap();
    let (address_sender, address_receiver) = mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            address_sender.send(listener.local_addr().unwrap()).unwrap();
            blastdoor_server::run(vec![listener], app, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
    });
    let address = address_receiver
        .recv_timeout(Duration::from_secs(10))
        .unwrap();
    let reply = graphql(
        address,
        &token,
        serde_json::json!({ "query": "query { me { id } }" }),
    );
    assert_eq!(reply.status, 503, "{reply:?}");
    assert_eq!(reply.code(), "BLASTDOOR_LEDGER_UNAVAILABLE");
    assert!(
        !reply.body.contains("disk I/O"),
        "internal detail leaked: {reply:?}"
    );
    assert!(
        sim.state.requests().is_empty(),
        "{:?}",
        sim.state.requests()
    );
    stop.send(()).unwrap();
    server.join().unwrap();
}

/// Fails with a clear message where `prlimit` (util-linux) is missing.
pub(crate) fn assert_prlimit_runs() {
    let runs = std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(runs, "these tests need `prlimit` (util-linux) on the PATH");
}

/// `blastdoor serve` for `home`, started through `prlimit` so that no file it writes may grow
/// past `max_file_bytes`: writes beyond that fail with `EFBIG` (the shell ignores `SIGXFSZ`,
/// and an ignored signal stays ignored across `exec`), as they would on a full disk.
fn serve_with_file_size_limit(home: &TestHome, max_file_bytes: u64) -> Served {
    let template = home.command(&["serve", "--listen", "127.0.0.1:0"]);
    assert_prlimit_runs();
    let mut command = std::process::Command::new("prlimit");
    command
        .arg(format!("--fsize={max_file_bytes}"))
        .args(["--", "sh", "-c", "trap '' XFSZ; exec \"$0\" \"$@\""])
        .arg(template.get_program())
        .args(template.get_args())
        .stdin(Stdio::null());
    for (key, value) in template.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    Served::spawn(command)
}

/// The size of the largest file in `home`.
fn largest_file(home: &TestHome) -> u64 {
    std::fs::read_dir(home.path())
        .unwrap()
        .map(|entry| entry.unwrap().metadata().unwrap().len())
        .max()
        .unwrap()
}

/// The ledger is intact and holds one allowed gateway entry per forwarded read.
#[track_caller]
fn assert_every_forward_recorded(home: &TestHome, forwarded: usize) {
    let verify = home.run(&["audit", "verify"]);
    assert!(
        verify.status.success(),
        "{}",
        crate::support::stderr(&verify)
    );
    let allowed_reads = ledger_entries(home)
        .iter()
        .filter(|entry| {
            find_key(entry, "layer").and_then(|layer| layer.as_str()) == Some("gateway")
                && find_key(entry, "decision").and_then(|decision| decision.as_str())
                    == Some("allow")
        })
        .count();
    assert_eq!(allowed_reads, forwarded);
}

/// Sends `query { me { id } }` until the gateway has refused `refusals` of them (each a 503
/// `BLASTDOOR_LEDGER_UNAVAILABLE` that does not show `home_path`) or forwarded
/// `most_forwarded`; returns how many were forwarded and refused.
fn read_until_refused(
    address: SocketAddr,
    token: &str,
    refusals: usize,
    most_forwarded: usize,
    home_path: &str,
) -> (usize, usize) {
    let (mut forwarded, mut refused) = (0, 0);
    while refused < refusals && forwarded < most_forwarded {
        let reply = graphql(
            address,
            token,
            serde_json::json!({ "query": "query { me { id } }" }),
        );
        match reply.status {
            200 => forwarded += 1,
            503 => {
                assert_eq!(reply.code(), "BLASTDOOR_LEDGER_UNAVAILABLE", "{reply:?}");
                assert!(
                    !reply.body.contains(home_path),
                    "the ledger's path leaked: {reply:?}"
                );
                refused += 1;
            }
            _ => panic!("unexpected answer after {forwarded} forwarded: {reply:?}"),
        }
    }
    (forwarded, refused)
}

#[test]
fn a_full_disk_stops_forwarding_and_loses_no_entry() {
    let sim = Sim::start();
    let home = prepared_home(&sim);
    let token = mint(&home, "staging", "read");
    // Room for the files as they are and a few dozen more WAL frames of the ledger.
    let served = serve_with_file_size_limit(&home, largest_file(&home) + 192 * 1024);
    let home_path = home.path().display().to_string();
    let (forwarded, refused) = read_until_refused(served.address, &token, 5, 5_000, &home_path);
    assert_eq!(refused, 5, "the ledger never filled: {forwarded} forwarded");
    assert!(
        forwarded > 0,
        "nothing was forwarded before the disk filled"
    );
    // Exactly the requests answered 200 reached the upstream: a refused one never left.
    assert_eq!(sim.state.requests().len(), forwarded);
    drop(served);
    assert_every_forward_recorded(&home, forwarded);
}

#[test]
fn a_full_disk_under_concurrent_requests_forwards_only_what_it_recorded() {
    let sim = Sim::start();
    let home = prepared_home(&sim);
    let token = mint(&home, "staging", "read");
    let served = serve_with_file_size_limit(&home, largest_file(&home) + 256 * 1024);
    let address = served.address;
    let home_path = home.path().display().to_string();
    // Eight agents at once, so that a commit can carry several records when the disk fills.
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (token, home_path) = (token.clone(), home_path.clone());
            std::thread::spawn(move || read_until_refused(address, &token, 3, 2_000, &home_path))
        })
        .collect();
    let (mut forwarded, mut refused) = (0, 0);
    for client in clients {
        let (client_forwarded, client_refused) = client.join().unwrap();
        forwarded += client_forwarded;
        refused += client_refused;
    }
    assert_eq!(
        refused,
        8 * 3,
        "the ledger never filled: {forwarded} forwarded"
    );
    assert_eq!(sim.state.requests().len(), forwarded);
    drop(served);
    assert_every_forward_recorded(&home, forwarded);
}

// --- Approvals, cooling-off, freeze and snapshots through the gateway. ---

use blastdoor_approval::totp;

/// The incident's request.
pub(crate) fn incident() -> serde_json::Value {
    serde_json::json!({ "query": format!("mutation {{ volumeDelete(volumeId: \"{}\") }}", ids::PG_DATA) })
}

/// The incident's delete as the operation named `Delete<n>`: the same destroy, a different
/// request (so a hold of its own, not the pending one of [`incident`]).
pub(crate) fn incident_numbered(n: usize) -> serde_json::Value {
    serde_json::json!({ "query": format!("mutation Delete{n} {{ volumeDelete(volumeId: \"{}\") }}", ids::PG_DATA) })
}

/// `config(sim)` plus `extra` TOML (`[approvals]`, `[snapshots]`, `[[protect]]`).
pub(crate) fn home_with(sim: &Sim, extra: &str) -> TestHome {
    let home = prepared_home(sim);
    let text = format!("{}\n{extra}", config(sim.address));
    std::fs::write(home.path().join("blastdoor.toml"), text).unwrap();
    home
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Enrols `name` through the binary; returns the TOTP seed from the printed URI.
pub(crate) fn enrol(home: &TestHome, name: &str) -> Vec<u8> {
    let output = home.run(&["approver", "add", name, "--show-secret"]);
    assert!(
        output.status.success(),
        "{}",
        crate::support::stderr(&output)
    );
    let text = stdout(&output);
    let uri = text
        .lines()
        .find(|line| line.starts_with("otpauth://"))
        .unwrap();
    totp::seed_from_uri(uri).unwrap()
}

pub(crate) fn totp_code(seed: &[u8]) -> String {
    totp::format_code(totp::code_at(seed, now_unix()))
}

pub(crate) fn approve(home: &TestHome, id: &str, name: &str, seed: &[u8]) {
    let output = home.run(&["approve", id, "--as", name, "--code", &totp_code(seed)]);
    assert!(
        output.status.success(),
        "{}",
        crate::support::stderr(&output)
    );
}

/// Sends `body` under `Blastdoor-Hold: id`.
pub(crate) fn resend(
    address: SocketAddr,
    token: &str,
    id: &str,
    body: &serde_json::Value,
) -> Reply {
    post(
        address,
        "/railway/graphql/v2",
        &format!("{}\r\nBlastdoor-Hold: {id}", bearer(token)),
        &body.to_string(),
    )
}

pub(crate) fn hold_id_of(reply: &Reply) -> String {
    assert_eq!(reply.status, 428, "{reply:?}");
    reply.json()["errors"][0]["extensions"]["hold_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) fn hold_code(reply: &Reply) -> String {
    reply.json()["errors"][0]["extensions"]["hold_code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

pub(crate) fn volume_deletes(sim: &Sim) -> usize {
    sim.mutations_seen()
        .iter()
        .filter(|field| field.as_str() == "volumeDelete")
        .count()
}

/// Every ledger entry as JSON (`blastdoor audit log --json`).
pub(crate) fn ledger_entries(home: &TestHome) -> Vec<serde_json::Value> {
    let output = home.run(&["audit", "log", "--json", "--limit", "100000"]);
    assert!(
        output.status.success(),
        "{}",
        crate::support::stderr(&output)
    );
    stdout(&output)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The first value under `key` anywhere in `value`.
pub(crate) fn find_key<'a>(
    value: &'a serde_json::Value,
    key: &str,
) -> Option<&'a serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map
            .get(key)
            .or_else(|| map.values().find_map(|inner| find_key(inner, key))),
        serde_json::Value::Array(items) => items.iter().find_map(|inner| find_key(inner, key)),
        _ => None,
    }
}

pub(crate) fn hold_state(home: &TestHome, id: &str) -> String {
    let store = blastdoor_approval::HoldStore::open_in_home(&home.path()).unwrap();
    store.hold(id).unwrap().state.as_str().to_owned()
}

#[test]
fn the_incident_runs_once_after_two_approvals_and_never_again() {
    let sim = Sim::start();
    let home = home_with(&sim, "[approvals]\ncooling_off = \"0s\"\n");
    let served = Served::start(&home, None);
    let token = mint(&home, "staging,production", "read,write,destroy");
    let held = graphql(served.address, &token, incident());
    let id = hold_id_of(&held);
    // The hold says there is no snapshot to fall back on.
    let store = blastdoor_approval::HoldStore::open_in_home(&home.path()).unwrap();
    let hold = store.hold(&id).unwrap();
    assert!(
        hold.description
            .contains("no snapshot: no [[protect]] entry for volume vol-pg-data"),
        "{}",
        hold.description
    );
    assert_eq!(hold.approvals_required, 2);
    // Not approved yet: 428, and nothing reaches Railway.
    let early = resend(served.address, &token, &id, &incident());
    assert_eq!(early.status, 428, "{early:?}");
    assert_eq!(hold_code(&early), "hold_not_approved");
    let alice = enrol(&home, "alice");
    let bob = enrol(&home, "bob");
    approve(&home, &id, "alice", &alice);
    let half = resend(served.address, &token, &id, &incident());
    assert_eq!(hold_code(&half), "hold_not_approved", "{half:?}");
    approve(&home, &id, "bob", &bob);
    assert!(sim.state.has_volume(ids::PG_DATA));
    // A different request under the approved id is refused, and does not use it up.
    let altered = serde_json::json!({ "query": format!("mutation {{ volumeDelete(volumeId: \"{}\") }}", "vol-other") });
    let refused = resend(served.address, &token, &id, &altered);
    assert_eq!(refused.status, 403, "{refused:?}");
    assert_eq!(hold_code(&refused), "hold_digest_mismatch");
    // Another agent's token cannot use the hold.
    let other = {
        let output = home.run(&[
            "token",
            "mint",
            "--agent",
            "another-agent",
            "--upstream",
            "railway",
            "--env",
            "staging,production",
            "--risk",
            "read,write,destroy",
            "--ttl",
            "1h",
        ]);
        stdout(&output).trim().to_owned()
    };
    let stolen = resend(served.address, &other, &id, &incident());
    assert_eq!(stolen.status, 403, "{stolen:?}");
    assert_eq!(hold_code(&stolen), "hold_agent_mismatch");
    assert_eq!(volume_deletes(&sim), 0);
    // The identical request runs, once.
    let ran = resend(served.address, &token, &id, &incident());
    assert_eq!(ran.status, 200, "{ran:?}");
    assert!(!sim.state.has_volume(ids::PG_DATA));
    assert_eq!(volume_deletes(&sim), 1);
    let again = resend(served.address, &token, &id, &incident());
    assert_eq!(again.status, 403, "{again:?}");
    assert_eq!(hold_code(&again), "hold_already_executed");
    assert_eq!(volume_deletes(&sim), 1);
    // The ledger's gateway entry for the release names the hold and both approvers; the
    // upstream's answer is recorded on the hold.
    std::thread::sleep(Duration::from_millis(300));
    let entries = ledger_entries(&home);
    let release = entries
        .iter()
        .find(|entry| {
            entry.to_string().contains("approval.released")
                && find_key(entry, "hold_id").and_then(|v| v.as_str()) == Some(id.as_str())
        })
        .unwrap_or_else(|| panic!("no release entry in {entries:#?}"));
    let approvers = find_key(release, "approvers").unwrap().to_string();
    assert!(
        approvers.contains("alice") && approvers.contains("bob"),
        "{approvers}"
    );
    let executed = store.hold(&id).unwrap();
    assert_eq!(executed.state.as_str(), "executed");
    assert_eq!(executed.outcome.unwrap().status, 200);
    assert!(!served.stderr().contains(INCIDENT_ACCOUNT_TOKEN));
}

#[test]
fn a_denied_hold_and_an_unknown_hold_are_refused() {
    let sim = Sim::start();
    let home = home_with(&sim, "[approvals]\ncooling_off = \"0s\"\n");
    let served = Served::start(&home, None);
    let token = mint(&home, "staging,production", "read,write,destroy");
    let id = hold_id_of(&graphql(served.address, &token, incident()));
    let alice = enrol(&home, "alice");
    let denied = home.run(&[
        "deny",
        &id,
        "--as",
        "alice",
        "--code",
        &totp_code(&alice),
        "--reason",
        "not during the incident",
    ]);
    assert!(
        denied.status.success(),
        "{}",
        crate::support::stderr(&denied)
    );
    let reply = resend(served.address, &token, &id, &incident());
    assert_eq!(reply.status, 403, "{reply:?}");
    assert_eq!(hold_code(&reply), "hold_denied");
    let unknown = resend(
        served.address,
        &token,
        "hold_00000000000000000000000000000000",
        &incident(),
    );
    assert_eq!(unknown.status, 403, "{unknown:?}");
    assert_eq!(hold_code(&unknown), "hold_unknown");
    assert_eq!(volume_deletes(&sim), 0);
    assert!(sim.state.has_volume(ids::PG_DATA));
}

#[test]
fn an_approved_production_destroy_waits_out_the_cooling_off_window() {
    let sim = Sim::start();
    let home = home_with(&sim, "[approvals]\ncooling_off = \"3s\"\n");
    let served = Served::start(&home, None);
    let token = mint(&home, "staging,production", "read,write,destroy");
    let id = hold_id_of(&graphql(served.address, &token, incident()));
    let alice = enrol(&home, "alice");
    let bob = enrol(&home, "bob");
    approve(&home, &id, "alice", &alice);
    approve(&home, &id, "bob", &bob);
    let approved_at = now_unix();
    let early = resend(served.address, &token, &id, &incident());
    assert_eq!(early.status, 428, "{early:?}");
    assert_eq!(hold_code(&early), "hold_cooling_off");
    let opens_at = early.json()["errors"][0]["extensions"]["opens_at"]
        .as_i64()
        .unwrap();
    assert!(
        (approved_at + 2..=approved_at + 3).contains(&opens_at),
        "{opens_at} vs {approved_at}"
    );
    assert!(early.body.contains(&opens_at.to_string()));
    assert_eq!(volume_deletes(&sim), 0);
    assert_eq!(hold_state(&home, &id), "approved");
    while now_unix() < opens_at {
        std::thread::sleep(Duration::from_millis(200));
    }
    let ran = resend(served.address, &token, &id, &incident());
    assert_eq!(ran.status, 200, "{ran:?}");
    assert_eq!(volume_deletes(&sim), 1);
}

/// Ledger entries whose operation description contains `needle`, as (has an upstream status,
/// the status).
fn entries_about(home: &TestHome, needle: &str) -> Vec<Option<u64>> {
    ledger_entries(home)
        .iter()
        .filter(|entry| {
            find_key(entry, "description")
                .and_then(|value| value.as_str())
                .is_some_and(|description| description.contains(needle))
        })
        .map(|entry| {
            find_key(entry, "upstream_response")
                .filter(|value| !value.is_null())
                .and_then(|response| response.get("status"))
                .and_then(serde_json::Value::as_u64)
        })
        .collect()
}

#[test]
fn a_read_is_recorded_once_and_writes_and_failed_reads_get_the_upstreams_answer_too() {
    let Setup {
        sim: _sim,
        home,
        served,
    } = setup(None);
    let token = mint(&home, "staging", "read,write");
    let read = graphql(
        served.address,
        &token,
        serde_json::json!({ "query": "query { projects { edges { node { id name } } } }" }),
    );
    assert_eq!(read.status, 200, "{read:?}");
    let write = graphql(
        served.address,
        &token,
        serde_json::json!({ "query": format!(
            "mutation {{ serviceInstanceRedeploy(serviceId: \"{}\", environmentId: \"{}\") }}",
            ids::API, ids::STAGING
        ) }),
    );
    assert_eq!(write.status, 200, "{write:?}");
    // A read Railway refuses (a required variable is missing).
    let failed = graphql(
        served.address,
        &token,
        serde_json::json!({ "query": "query Missing($id: String!) { project(id: $id) { name } }" }),
    );
    assert_eq!(failed.status, 400, "{failed:?}");
    // The follow-up entries are written after the answer; give the writer a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let write_entries = entries_about(&home, "serviceInstanceRedeploy");
        let failed_entries = entries_about(&home, "query project(");
        if (write_entries.len() == 2 && failed_entries.len() == 2) || Instant::now() > deadline {
            assert_eq!(write_entries, vec![None, Some(200)]);
            assert_eq!(failed_entries, vec![None, Some(400)]);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // The successful read: its decision entry, durable before forwarding, and nothing more.
    assert_eq!(entries_about(&home, "projects"), vec![None]);
}

#[test]
fn a_freeze_holds_writes_that_were_allowed() {
    let sim = Sim::start();
    let home = home_with(&sim, "[approvals]\ncooling_off = \"0s\"\n");
    let served = Served::start(&home, None);
    let token = mint(&home, "staging", "read,write");
    let wide = mint(&home, "staging,production", "read,write,destroy");
    let approved = hold_id_of(&graphql(served.address, &wide, incident()));
    let alice = enrol(&home, "alice");
    let bob = enrol(&home, "bob");
    approve(&home, &approved, "alice", &alice);
    approve(&home, &approved, "bob", &bob);
    let redeploy = serde_json::json!({ "query": format!(
        "mutation {{ serviceInstanceRedeploy(serviceId: \"{}\", environmentId: \"{}\") }}",
        ids::API, ids::STAGING
    ) });
    let before = graphql(served.address, &token, redeploy.clone());
    assert_eq!(before.status, 200, "{before:?}");
    let frozen = home.run(&["freeze", "--reason", "incident in progress"]);
    assert!(
        frozen.status.success(),
        "{}",
        crate::support::stderr(&frozen)
    );
    let during = graphql(served.address, &token, redeploy);
    assert_eq!(during.status, 428, "{during:?}");
    assert!(during.body.contains("frozen"), "{during:?}");
    // Reads still pass.
    let read = graphql(
        served.address,
        &token,
        serde_json::json!({ "query": "query { projects { edges { node { id } } } }" }),
    );
    assert_eq!(read.status, 200, "{read:?}");
    let redeploys = sim
        .mutations_seen()
        .iter()
        .filter(|field| field.as_str() == "serviceInstanceRedeploy")
        .count();
    assert_eq!(redeploys, 1);
    // An approved hold does not run while frozen either; it stays approved.
    let resent = resend(served.address, &wide, &approved, &incident());
    assert_eq!(resent.status, 428, "{resent:?}");
    assert_eq!(hold_code(&resent), "frozen");
    assert_eq!(volume_deletes(&sim), 0);
    assert_eq!(hold_state(&home, &approved), "approved");
}

#[test]
fn many_holds_approved_and_resent_at_once_each_run_exactly_once() {
    const HOLDS: usize = 6;
    const SENDERS_PER_HOLD: usize = 3;
    let sim = Sim::start();
    let home = home_with(&sim, "[approvals]\ncooling_off = \"0s\"\n");
    let served = Served::start(&home, None);
    let token = mint(&home, "staging,production", "read,write,destroy");
    // Distinct requests: an identical one would name the pending hold instead of a new one.
    let ids_held: Vec<(String, serde_json::Value)> = (0..HOLDS)
        .map(|n| {
            let body = incident_numbered(n);
            (
                hold_id_of(&graphql(served.address, &token, body.clone())),
                body,
            )
        })
        .collect();
    let alice = enrol(&home, "alice");
    let bob = enrol(&home, "bob");
    // One code each, verified once; the UI's logged-in path approves every hold with it.
    let store = blastdoor_approval::HoldStore::open_in_home(&home.path()).unwrap();
    let now = now_unix();
    let alice = store
        .verify_approver("alice", &totp_code(&alice), now)
        .unwrap();
    let bob = store.verify_approver("bob", &totp_code(&bob), now).unwrap();
    for (id, _) in &ids_held {
        store.approve_as(id, &alice, now).unwrap();
        store.approve_as(id, &bob, now).unwrap();
    }
    let address = served.address;
    let barrier = Arc::new(std::sync::Barrier::new(HOLDS * SENDERS_PER_HOLD));
    let mut threads = Vec::new();
    for (id, body) in &ids_held {
        for _ in 0..SENDERS_PER_HOLD {
            let (id, body, token, barrier) = (
                id.clone(),
                body.clone(),
                token.clone(),
                Arc::clone(&barrier),
            );
            threads.push(std::thread::spawn(move || {
                barrier.wait();
                resend(address, &token, &id, &body).status
            }));
        }
    }
    let statuses: Vec<u16> = threads
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .collect();
    let forwarded = statuses.iter().filter(|status| **status == 200).count();
    assert_eq!(forwarded, HOLDS, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|status| matches!(status, 200 | 403 | 428)),
        "{statuses:?}"
    );
    assert_eq!(volume_deletes(&sim), HOLDS);
    for (id, _) in &ids_held {
        assert_eq!(hold_state(&home, id), "executed");
    }
}

/// The test PostgreSQL's admin DSN, from `scripts/test-services`.
fn pg_admin_dsn() -> String {
    std::env::var("BLASTDOOR_TEST_PG").unwrap_or_else(|_| {
        panic!("BLASTDOOR_TEST_PG is not set: run scripts/test (it sources scripts/test-services and starts PostgreSQL)")
    })
}

fn psql(dsn: &str, sql: &str) -> String {
    let output = std::process::Command::new("psql")
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
            dsn,
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A fresh database on the test server; its DSN.
fn create_database(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!("{prefix}_{}_{nanos}", std::process::id());
    let admin = pg_admin_dsn();
    psql(&admin, &format!("CREATE DATABASE {name}"));
    format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
}

/// `[snapshots]` in `store` and a pg_dump `[[protect]]` of the incident's volume.
fn protected(store: &Path) -> String {
    format!(
        "[approvals]\ncooling_off = \"0s\"\n\n[snapshots]\nstore = \"{}\"\n\n[[protect]]\nupstream = \"railway\"\nresource = \"{}\"\nmethod = \"pg_dump\"\ndsn = \"pocketos-prod-db\"\n",
        store.display(),
        ids::PG_DATA
    )
}

/// Holds the incident, approves it with two humans, returns the hold id.
fn held_and_approved(home: &TestHome, served: &Served, token: &str) -> String {
    let id = hold_id_of(&graphql(served.address, token, incident()));
    let alice = enrol(home, "alice");
    let bob = enrol(home, "bob");
    approve(home, &id, "alice", &alice);
    approve(home, &id, "bob", &bob);
    id
}

#[test]
fn a_failing_snapshot_stops_the_approved_destroy() {
    let sim = Sim::start();
    let store = tempfile::tempdir().unwrap();
    let home = home_with(&sim, &protected(store.path()));
    // A DSN whose server is not there: pg_dump fails.
    let secret = "postgres://pocketos:hunter2-not-here@127.0.0.1:9/pocketos";
    let set = home.run_with_stdin(&["secret", "set", "pocketos-prod-db"], secret.as_bytes());
    assert!(set.status.success());
    let served = Served::start(&home, None);
    let token = mint(&home, "staging,production", "read,write,destroy");
    let id = held_and_approved(&home, &served, &token);
    let store_view = blastdoor_approval::HoldStore::open_in_home(&home.path()).unwrap();
    assert!(
        store_view
            .hold(&id)
            .unwrap()
            .description
            .contains("snapshot before it runs: pg_dump of vol-pg-data"),
        "{}",
        store_view.hold(&id).unwrap().description
    );
    let reply = resend(served.address, &token, &id, &incident());
    assert_eq!(reply.status, 503, "{reply:?}");
    assert_eq!(reply.code(), "BLASTDOOR_SNAPSHOT_FAILED", "{reply:?}");
    assert!(reply.body.contains("did not run"), "{reply:?}");
    assert!(!reply.body.contains("hunter2"));
    // Nothing reached Railway; the volume is still there; the hold stays approved.
    assert_eq!(volume_deletes(&sim), 0);
    assert!(sim.state.has_volume(ids::PG_DATA));
    assert_eq!(hold_state(&home, &id), "approved");
    // The ledger records the failure; the password is nowhere.
    std::thread::sleep(Duration::from_millis(300));
    let entries = ledger_entries(&home);
    assert!(
        entries
            .iter()
            .any(|entry| entry.to_string().contains("snapshot.failed")
                && find_key(entry, "hold_id").and_then(|v| v.as_str()) == Some(id.as_str())),
        "{entries:#?}"
    );
    assert!(
        !entries
            .iter()
            .any(|entry| entry.to_string().contains("hunter2"))
    );
    assert!(!served.stderr().contains("hunter2"));
}

#[test]
fn a_snapshot_lands_before_the_destroy_and_restores_the_rows() {
    let source = create_database("bd_gw_src");
    psql(
        &source,
        "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
         INSERT INTO customers SELECT i, 'rental customer ' || i FROM generate_series(1, 1500) i;",
    );
    let fingerprint = "SELECT count(*) || ' ' || md5(string_agg(id || ':' || name, ',' ORDER BY id)) FROM customers";
    let before = psql(&source, fingerprint);
    assert!(before.starts_with("1500 "), "{before}");
    let sim = Sim::start();
    let store = tempfile::tempdir().unwrap();
    let home = home_with(&sim, &protected(store.path()));
    let set = home.run_with_stdin(&["secret", "set", "pocketos-prod-db"], source.as_bytes());
    assert!(set.status.success());
    let served = Served::start(&home, None);
    let token = mint(&home, "staging,production", "read,write,destroy");
    let id = held_and_approved(&home, &served, &token);
    let reply = resend(served.address, &token, &id, &incident());
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(!sim.state.has_volume(ids::PG_DATA));
    assert_eq!(volume_deletes(&sim), 1);
    // The snapshot is in the store, and verifies.
    let listed = home.run(&["snapshots", "list", "--json"]);
    assert!(
        listed.status.success(),
        "{}",
        crate::support::stderr(&listed)
    );
    let listed: serde_json::Value = serde_json::from_str(&stdout(&listed)).unwrap();
    let snapshots = listed.as_array().unwrap();
    assert_eq!(snapshots.len(), 1, "{listed:#}");
    let snapshot_id = snapshots[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(snapshots[0]["valid"], true);
    // The snapshot's ledger entry comes before the destroy's, which carries its id.
    std::thread::sleep(Duration::from_millis(300));
    let entries = ledger_entries(&home);
    let seq_of = |wanted: &dyn Fn(&serde_json::Value) -> bool| {
        entries
            .iter()
            .find(|entry| wanted(entry))
            .and_then(|entry| find_key(entry, "seq").and_then(serde_json::Value::as_u64))
            .unwrap_or_else(|| panic!("not found in {entries:#?}"))
    };
    let snapshot_seq = seq_of(&|entry| {
        entry.to_string().contains("snapshot.taken")
            && !entry.to_string().contains("approval.released")
    });
    let release_seq = seq_of(&|entry| {
        entry.to_string().contains("approval.released")
            && find_key(entry, "snapshot_id").and_then(|v| v.as_str()) == Some(snapshot_id.as_str())
    });
    assert!(snapshot_seq < release_seq, "{snapshot_seq} {release_seq}");
    // The rows come back into a fresh database.
    let fresh = create_database("bd_gw_restore");
    let restored = home.run_with_stdin(&["restore", &snapshot_id, "--to", "-"], fresh.as_bytes());
    assert!(
        restored.status.success(),
        "{}",
        crate::support::stderr(&restored)
    );
    assert_eq!(psql(&fresh, fingerprint), before);
}

#[test]
fn an_approved_project_delete_is_sent_as_a_scheduled_delete() {
    let sim = Sim::start();
    let home = home_with(&sim, "[approvals]\ncooling_off = \"0s\"\n");
    let served = Served::start(&home, None);
    let token = mint(&home, "staging,production", "read,write,destroy");
    let delete = serde_json::json!({ "query": format!("mutation {{ projectDelete(id: \"{}\") }}", ids::PROJECT) });
    let id = hold_id_of(&graphql(served.address, &token, delete.clone()));
    let alice = enrol(&home, "alice");
    let bob = enrol(&home, "bob");
    approve(&home, &id, "alice", &alice);
    approve(&home, &id, "bob", &bob);
    let reply = resend(served.address, &token, &id, &delete);
    assert_eq!(reply.status, 200, "{reply:?}");
    let seen = sim.mutations_seen();
    assert_eq!(seen, vec!["projectScheduleDelete".to_owned()]);
    assert!(sim.state.project_deletion_scheduled(ids::PROJECT));
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        ledger_entries(&home).iter().any(|entry| entry
            .to_string()
            .contains("railway.project-delete-scheduled")),
        "the rewrite is recorded"
    );
}

fn get(address: SocketAddr, path: &str) -> Reply {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    send_raw(address, request.as_bytes())
}

#[test]
fn the_approval_ui_is_served_at_ui_by_the_gateway() {
    let Setup { sim, served, .. } = setup(None);
    let login = get(served.address, "/ui/login");
    assert_eq!(login.status, 200, "{login:?}");
    assert!(login.body.contains("<form"), "{login:?}");
    assert!(
        login
            .head
            .to_ascii_lowercase()
            .contains("content-security-policy"),
        "{login:?}"
    );
    // The queue needs a logged-in approver; it never reaches an upstream.
    let queue = get(served.address, "/ui");
    assert!(matches!(queue.status, 303 | 302 | 401), "{queue:?}");
    let api = get(served.address, "/ui/api/holds");
    assert!(matches!(api.status, 401 | 403 | 303), "{api:?}");
    assert!(sim.state.requests().is_empty());
    // `/uix` is not the UI: it is an (unknown) upstream name.
    assert_eq!(get(served.address, "/uix/graphql").status, 404);
}

/// A TLS front for the simulator on `https://127.0.0.1:PORT`, with a certificate from a test
/// CA: relays each decrypted connection to the simulator. Returns the address and the CA PEM.
fn start_tls_front(sim: SocketAddr) -> (SocketAddr, String) {
    use tokio_rustls::rustls;
    let pki = TestPki::new();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![rustls::pki_types::CertificateDer::from(
            pki.leaf_der.clone(),
        )],
        rustls::pki_types::PrivateKeyDer::Pkcs8(pki.key_der.clone().into()),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let (address_sender, address_receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            address_sender.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let mut plain = tokio::net::TcpStream::connect(sim).await.unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
    });
    let address = address_receiver
        .recv_timeout(Duration::from_secs(10))
        .unwrap();
    (address, pki.ca_pem)
}

/// A test CA and a certificate for `127.0.0.1` it signed.
struct TestPki {
    ca_pem: String,
    leaf_pem: String,
    leaf_der: Vec<u8>,
    key_pem: String,
    key_der: Vec<u8>,
}

impl TestPki {
    fn new() -> TestPki {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "blastdoor serve test ca");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &ca, &ca_key)
            .unwrap();
        TestPki {
            ca_pem: ca.pem(),
            leaf_pem: leaf.pem(),
            leaf_der: leaf.der().to_vec(),
            key_pem: leaf_key.serialize_pem(),
            key_der: leaf_key.serialize_der(),
        }
    }
}

/// Sends `raw` over TLS (trusting `ca_pem`) and reads the answer to the end.
fn tls_send(address: SocketAddr, ca_pem: &str, raw: &[u8]) -> Result<String, String> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let stream = tokio::net::TcpStream::connect(address)
            .await
            .map_err(|error| error.to_string())?;
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let mut tls = connector
            .connect(name, stream)
            .await
            .map_err(|error| error.to_string())?;
        tls.write_all(raw)
            .await
            .map_err(|error| error.to_string())?;
        let mut answer = Vec::new();
        let _ = tls.read_to_end(&mut answer).await;
        Ok(String::from_utf8_lossy(&answer).into_owned())
    })
}

#[test]
fn the_gateway_serves_https_with_the_configured_certificate() {
    let sim = Sim::start();
    let home = prepared_home(&sim);
    let pki = TestPki::new();
    std::fs::write(home.path().join("gateway.pem"), &pki.leaf_pem).unwrap();
    std::fs::write(home.path().join("gateway.key"), &pki.key_pem).unwrap();
    let text = config(sim.address).replace(
        "[gateway]\n",
        "[gateway]\ntls_cert = \"gateway.pem\"\ntls_key = \"gateway.key\"\n",
    );
    assert!(text.contains("tls_cert"));
    std::fs::write(home.path().join("blastdoor.toml"), text).unwrap();
    let served = Served::start(&home, None);
    assert!(served.stderr().contains("https://"), "{}", served.stderr());
    let token = mint(&home, "staging", "read,write");
    let body = serde_json::json!({ "query": "query { projects { edges { node { id name } } } }" })
        .to_string();
    let request = format!(
        "POST /railway/graphql/v2 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = tls_send(served.address, &pki.ca_pem, request.as_bytes()).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("pocketos"), "{answer}");
    // Plain HTTP on the TLS port gets nothing back: the token is never read in clear.
    let plain = post(
        served.address,
        "/railway/graphql/v2",
        &bearer(&token),
        &body,
    );
    assert_eq!(plain.status, 0, "{plain:?}");
    // A client that does not trust the certificate does not connect.
    let other = TestPki::new();
    assert!(tls_send(served.address, &other.ca_pem, request.as_bytes()).is_err());
}

#[test]
fn an_https_upstream_is_reached_with_the_ca_file_from_the_config() {
    let sim = Sim::start();
    let (front, ca_pem) = start_tls_front(sim.address);
    let home = prepared_home(&sim);
    std::fs::write(home.path().join("upstream-ca.pem"), ca_pem).unwrap();
    let https_config = config(sim.address).replace(
        &format!("url = \"http://{}\"", sim.address),
        &format!("url = \"https://{front}\"\nca_file = \"upstream-ca.pem\""),
    );
    assert!(https_config.contains("https://"));
    std::fs::write(home.path().join("blastdoor.toml"), &https_config).unwrap();
    let served = Served::start(&home, None);
    let token = mint(&home, "staging", "read,write");
    let reply = graphql(
        served.address,
        &token,
        serde_json::json!({ "query": "query { projects { edges { node { id name } } } }" }),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.body.contains("pocketos"), "{reply:?}");
    drop(served);
    // Without the CA file the simulator's certificate is not trusted: nothing gets through.
    let untrusted = https_config.replace("ca_file = \"upstream-ca.pem\"\n", "");
    std::fs::write(home.path().join("blastdoor.toml"), untrusted).unwrap();
    let served = Served::start(&home, None);
    let reply = graphql(
        served.address,
        &token,
        serde_json::json!({ "query": "query { projects { edges { node { id name } } } }" }),
    );
    assert_eq!(reply.status, 502, "{reply:?}");
    assert!(
        sim.state.requests().len() == 1,
        "{:?}",
        sim.state.requests()
    );
}

#[test]
fn an_expired_hold_is_refused_even_after_approval() {
    let sim = Sim::start();
    let home = home_with(&sim, "[approvals]\nexpiry = \"3s\"\ncooling_off = \"0s\"\n");
    let served = Served::start(&home, None);
    let token = mint(&home, "staging,production", "read,write,destroy");
    let id = hold_id_of(&graphql(served.address, &token, incident()));
    let alice = enrol(&home, "alice");
    let bob = enrol(&home, "bob");
    approve(&home, &id, "alice", &alice);
    approve(&home, &id, "bob", &bob);
    std::thread::sleep(Duration::from_secs(4));
    let reply = resend(served.address, &token, &id, &incident());
    assert_eq!(reply.status, 403, "{reply:?}");
    assert_eq!(hold_code(&reply), "hold_expired");
    assert_eq!(volume_deletes(&sim), 0);
    assert!(sim.state.has_volume(ids::PG_DATA));
}

#[test]
fn the_project_delete_rewrite_can_be_switched_off() {
    let sim = Sim::start();
    let home = home_with(
        &sim,
        "[approvals]\ncooling_off = \"0s\"\nschedule_project_deletes = false\n",
    );
    let served = Served::start(&home, None);
    let token = mint(&home, "staging,production", "read,write,destroy");
    let delete = serde_json::json!({ "query": format!("mutation {{ projectDelete(id: \"{}\") }}", ids::PROJECT) });
    let id = hold_id_of(&graphql(served.address, &token, delete.clone()));
    let alice = enrol(&home, "alice");
    let bob = enrol(&home, "bob");
    approve(&home, &id, "alice", &alice);
    approve(&home, &id, "bob", &bob);
    let reply = resend(served.address, &token, &id, &delete);
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(sim.mutations_seen(), vec!["projectDelete".to_owned()]);
}

#[test]
fn a_railway_backup_protection_backs_up_every_instance_first_and_says_it_is_not_isolated() {
    let sim = Sim::start();
    let store = tempfile::tempdir().unwrap();
    let home = home_with(
        &sim,
        &format!(
            "[approvals]\ncooling_off = \"0s\"\n\n[snapshots]\nstore = \"{}\"\n\n[[protect]]\nupstream = \"railway\"\nresource = \"{}\"\nmethod = \"railway_backup\"\n",
            store.path().display(),
            ids::PG_DATA
        ),
    );
    let served = Served::start(&home, None);
    let token = mint(&home, "staging,production", "read,write,destroy");
    let id = held_and_approved(&home, &served, &token);
    let reply = resend(served.address, &token, &id, &incident());
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        sim.mutations_seen(),
        vec![
            "volumeInstanceBackupCreate".to_owned(),
            "volumeInstanceBackupCreate".to_owned(),
            "volumeDelete".to_owned()
        ]
    );
    let listed: serde_json::Value =
        serde_json::from_str(&stdout(&home.run(&["snapshots", "list", "--json"]))).unwrap();
    assert_eq!(listed[0]["manifest"]["isolated"], false, "{listed:#}");
    let snapshot_id = listed[0]["id"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(300));
    let entries = ledger_entries(&home);
    let release = entries
        .iter()
        .find(|entry| entry.to_string().contains("approval.released"))
        .unwrap();
    assert_eq!(
        find_key(release, "snapshot_id").and_then(|v| v.as_str()),
        Some(snapshot_id.as_str())
    );
    assert!(release.to_string().contains("NOT isolated"), "{release}");
}
