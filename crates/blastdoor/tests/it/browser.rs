//! The browser end to end: a held incident request approved in the web UI and executed.
//!
//! The real `blastdoor serve` sits in front of the Railway simulator; an agent's token (allowed
//! production and destroy) sends the incident `volumeDelete`, which policy holds for two
//! approvers (428 with a hold id). In real headless Chromium, driven through chromedriver's W3C
//! WebDriver HTTP API, approver one logs in at `/ui/login` with a TOTP code, finds the hold in the
//! queue, opens it and approves; logs out; approver two does the same and the page shows
//! APPROVED. The agent then re-sends the identical request under `Blastdoor-Hold`: the simulator
//! executes exactly one `volumeDelete`, and the reloaded hold page shows the outcome.
//! Screenshots go to `target/test-output/browser-e2e/`.
//!
//! Needs Debian's `chromium` and `chromium-driver`; `scripts/test` installs them. Without them
//! this test fails (it never skips).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use base64::Engine as _;
use blastdoor_approval::totp;
use blastdoor_sim::{INCIDENT_ACCOUNT_TOKEN, SimState, ids};
use serde_json::{Value, json};

use crate::support::{TestHome, stderr, stdout};

// --- The gateway side: the simulator, the home and `blastdoor serve`. Adapted from the
// private helpers in `tests/it/serve.rs` (not reachable from here). ---

/// The Railway simulator, served from a thread of its own.
struct Sim {
    state: SimState,
    address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Sim {
    fn start() -> Sim {
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

    /// How many `volumeDelete` mutations reached the simulator.
    fn volume_deletes(&self) -> usize {
        self.state
            .requests()
            .iter()
            .flat_map(|request| request.operations.iter())
            .filter(|operation| operation.operation_type == "mutation")
            .flat_map(|operation| operation.fields.iter())
            .filter(|field| field.as_str() == "volumeDelete")
            .count()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An initialised home whose `blastdoor.toml` has one Railway upstream at the simulator and no
/// cooling-off, with the real Railway credential stored.
fn prepared_home(sim: &Sim) -> TestHome {
    let home = TestHome::initialised();
    let config = format!(
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

[approvals]
cooling_off = "0s"
"#,
        sim = sim.address,
        production = ids::PRODUCTION,
        staging = ids::STAGING,
    );
    std::fs::write(home.path().join("blastdoor.toml"), config).unwrap();
    let output = home.run_with_stdin(
        &["secret", "set", "railway-main"],
        INCIDENT_ACCOUNT_TOKEN.as_bytes(),
    );
    assert!(output.status.success(), "secret set: {}", stderr(&output));
    home
}

/// A capability token for the incident's agent, allowed production and destroy.
fn mint(home: &TestHome) -> String {
    let output = home.run(&[
        "token",
        "mint",
        "--agent",
        "claude-staging-fix",
        "--upstream",
        "railway",
        "--env",
        "staging,production",
        "--risk",
        "read,write,destroy",
        "--ttl",
        "1h",
        "--task",
        "fix the staging deploy",
    ]);
    assert!(output.status.success(), "mint: {}", stderr(&output));
    let token = stdout(&output).trim().to_owned();
    assert!(token.starts_with("bd1_"), "{token}");
    token
}

/// Enrols `name` through the binary; returns the TOTP seed from the printed URI.
fn enrol(home: &TestHome, name: &str) -> Vec<u8> {
    let output = home.run(&["approver", "add", name, "--show-secret"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let uri = text
        .lines()
        .find(|line| line.starts_with("otpauth://"))
        .unwrap();
    totp::seed_from_uri(uri).unwrap()
}

fn unix_now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn totp_code(seed: &[u8]) -> String {
    totp::format_code(totp::code_at(seed, unix_now()))
}

/// `blastdoor serve --listen 127.0.0.1:0`, with its stderr collected.
struct Served {
    child: Child,
    address: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Served {
    fn start(home: &TestHome) -> Served {
        let mut command = home.command(&["serve", "--listen", "127.0.0.1:0"]);
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

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The incident's request.
fn incident() -> Value {
    json!({ "query": format!("mutation {{ volumeDelete(volumeId: \"{}\") }}", ids::PG_DATA) })
}

/// Posts `body` to the Railway route as the agent, with `extra` header lines.
fn agent_post(address: SocketAddr, token: &str, extra: &str, body: &Value) -> HttpResponse {
    let mut headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("Authorization".to_owned(), format!("Bearer {token}")),
    ];
    if let Some((name, value)) = extra.split_once(": ") {
        headers.push((name.to_owned(), value.to_owned()));
    }
    http(
        &address.to_string(),
        "POST",
        "/railway/graphql/v2",
        &headers,
        body.to_string().as_bytes(),
    )
}

// --- One HTTP/1.1 exchange, copied from `crates/blastdoor-web/tests/it/support.rs`. ---

#[derive(Debug)]
struct HttpResponse {
    status: u16,
    body: String,
}

impl HttpResponse {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("{error}: {}", self.body))
    }
}

/// One HTTP/1.1 exchange over a fresh connection.
fn http(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> HttpResponse {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    // chromedriver keeps the connection open despite `Connection: close`, so read until the
    // response is complete rather than until the end of the stream.
    let mut raw = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        if response_complete(&raw) {
            break;
        }
        let read = stream.read(&mut buffer).unwrap();
        if read == 0 {
            break;
        }
        raw.extend_from_slice(&buffer[..read]);
    }
    parse_response(&raw)
}

fn response_complete(raw: &[u8]) -> bool {
    let Some(split) = raw.windows(4).position(|window| window == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = &raw[split + 4..];
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim() == "content-length")
        .map(|(_, value)| value.trim().parse::<usize>().unwrap());
    match length {
        Some(length) => body.len() >= length,
        None if head.contains("transfer-encoding: chunked") => body.ends_with(b"0\r\n\r\n"),
        None => false,
    }
}

fn parse_response(raw: &[u8]) -> HttpResponse {
    let split = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    HttpResponse {
        status,
        body: String::from_utf8(body).unwrap(),
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_text = std::str::from_utf8(&data[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

// --- The WebDriver client, copied from `crates/blastdoor-web/tests/it/browser.rs`. ---

const CHROMIUM: &str = "/usr/bin/chromium";
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-output/browser-e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    address: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn start(program: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let driver = Driver {
            child,
            address: format!("127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect(&driver.address).is_ok() {
                let status = driver.call("GET", "/status", None);
                if status["value"]["ready"] == true {
                    return driver;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|body| body.to_string()).unwrap_or_default();
        let mut headers = Vec::new();
        if !body.is_empty() || method == "POST" {
            headers.push((
                "Content-Type".to_owned(),
                "application/json; charset=utf-8".to_owned(),
            ));
        }
        let body = if body.is_empty() && method == "POST" {
            "{}".to_owned()
        } else {
            body
        };
        let response = http(&self.address, method, path, &headers, body.as_bytes());
        let value: Value = serde_json::from_str(&response.body).unwrap_or_else(|_| {
            panic!("webdriver answered {}: {}", response.status, response.body)
        });
        if response.status != 200 {
            panic!("webdriver {method} {path} failed: {}", value["value"]);
        }
        value
    }
}

/// One WebDriver session (one Chromium), closed when dropped.
struct Browser<'a> {
    driver: &'a Driver,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Browser<'_> {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.session);
        let _ = http(&self.driver.address, "DELETE", &path, &[], b"");
    }
}

impl<'a> Browser<'a> {
    fn open(driver: &'a Driver) -> Browser<'a> {
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": [
                        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        format!("--user-data-dir={}", profile.path().display()),
                    ]
                }
            }}
        });
        let created = driver.call("POST", "/session", Some(capabilities));
        let session = created["value"]["sessionId"].as_str().unwrap().to_owned();
        let browser = Browser {
            driver,
            session,
            _profile: profile,
        };
        browser.resize(1280, 900);
        browser
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.driver.call(method, &path, body)["value"].clone()
    }

    fn resize(&self, width: u32, height: u32) {
        self.command(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        );
    }

    fn go(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })));
    }

    fn refresh(&self) {
        self.command("POST", "/refresh", None);
    }

    fn url(&self) -> String {
        self.command("GET", "/url", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The first element matching `css`, waiting up to ten seconds for it to appear.
    fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let path = format!("/session/{}/element", self.session);
            let body = json!({ "using": "css selector", "value": css }).to_string();
            let response = http(
                &self.driver.address,
                "POST",
                &path,
                &[("Content-Type".to_owned(), "application/json".to_owned())],
                body.as_bytes(),
            );
            if response.status == 200 {
                let value: Value = serde_json::from_str(&response.body).unwrap();
                return value["value"][ELEMENT_KEY]
                    .as_str()
                    .unwrap_or_else(|| panic!("unexpected element answer: {value}"))
                    .to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "no element `{css}` on {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn text(&self, css: &str) -> String {
        let element = self.find(css);
        self.command("GET", &format!("/element/{element}/text"), None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.command(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn click(&self, css: &str) {
        let element = self.find(css);
        self.command("POST", &format!("/element/{element}/click"), None);
    }

    fn screenshot(&self, name: &str) -> PathBuf {
        let encoded = self.command("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    fn login(&self, origin: &str, name: &str, code: &str) {
        self.go(&format!("{origin}/ui"));
        assert!(self.url().ends_with("/ui/login"), "{}", self.url());
        self.type_into("#name", name);
        self.type_into("#code", code);
        self.click("#login");
        assert_eq!(self.text(".approver-name"), name);
    }

    fn logout(&self) {
        self.click(".who button");
        self.find("#login");
    }
}

#[test]
fn the_held_incident_is_approved_in_headless_chromium_and_then_executed_once() {
    let chromedriver = find_program("chromedriver");
    assert!(
        chromedriver.is_some() && Path::new(CHROMIUM).is_file(),
        "this test needs headless Chromium: `chromium` and `chromium-driver` (Debian packages) \
         are not installed; run scripts/test, which installs them"
    );
    let driver = Driver::start(&chromedriver.unwrap());

    let sim = Sim::start();
    let home = prepared_home(&sim);
    let served = Served::start(&home);
    // The UI's CSRF check compares the browser's Origin with the one `serve` derives from the
    // bound address (`http://127.0.0.1:PORT`): the browser uses that same host string.
    let origin = format!("http://{}", served.address);
    assert!(
        served
            .stderr()
            .contains(&format!("approval UI at {origin}/ui")),
        "{}",
        served.stderr()
    );

    // The agent sends the incident's request: held for two approvers, nothing reaches Railway.
    let token = mint(&home);
    let held = agent_post(served.address, &token, "", &incident());
    assert_eq!(held.status, 428, "{held:?}");
    let extensions = held.json()["errors"][0]["extensions"].clone();
    assert_eq!(extensions["approvals_required"], 2, "{held:?}");
    let id = extensions["hold_id"].as_str().unwrap().to_owned();
    assert_eq!(sim.volume_deletes(), 0);
    assert!(sim.state.has_volume(ids::PG_DATA));

    let alice = enrol(&home, "alice");
    let bob = enrol(&home, "bob");
    let browser = Browser::open(&driver);

    // Not logged in: the login page.
    browser.go(&format!("{origin}/ui"));
    browser.find("#login");
    assert!(browser.url().ends_with("/ui/login"), "{}", browser.url());
    browser.screenshot("01-login");

    // Approver one: the queue shows the held incident, production highlighted.
    browser.login(&origin, "alice", &totp_code(&alice));
    let item = format!("li[id=\"{id}\"]");
    assert_eq!(browser.text(&format!("{item} .env-prod")), "PRODUCTION");
    assert_eq!(browser.text(&format!("{item} .approvals")), "0 of 2");
    browser.screenshot("02-queue-alice");
    browser.click(&format!("{item} .hold-summary"));
    assert!(browser.url().ends_with(&id), "{}", browser.url());
    assert!(browser.text(".panel-danger").contains("PRODUCTION"));
    assert!(browser.text("main").contains(ids::PG_DATA));
    browser.screenshot("03-detail-alice");
    browser.click("#approve");
    assert!(
        browser
            .text(".notice-ok")
            .contains("More approvals are needed")
    );
    browser.screenshot("04-approved-by-alice");
    browser.logout();
    browser.screenshot("05-logged-out");

    // Still not approved: the agent's re-send is refused and nothing reaches Railway.
    let early = agent_post(
        served.address,
        &token,
        &format!("Blastdoor-Hold: {id}"),
        &incident(),
    );
    assert_eq!(early.status, 428, "{early:?}");
    assert_eq!(sim.volume_deletes(), 0);

    // Approver two, in the same browser after logout.
    browser.login(&origin, "bob", &totp_code(&bob));
    assert_eq!(
        browser.text(&format!("{item} .approvals")),
        "1 of 2 (alice)"
    );
    browser.screenshot("06-queue-bob");
    browser.click(&format!("{item} .hold-summary"));
    browser.click("#approve");
    assert!(
        browser
            .text(".notice-ok")
            .contains("The hold is now approved")
    );
    assert_eq!(browser.text(".panel .badge"), "APPROVED");
    browser.screenshot("07-approved");
    assert!(sim.state.has_volume(ids::PG_DATA));
    assert_eq!(sim.volume_deletes(), 0);

    // The agent re-sends the identical request under the hold: it runs, once.
    let ran = agent_post(
        served.address,
        &token,
        &format!("Blastdoor-Hold: {id}"),
        &incident(),
    );
    assert_eq!(ran.status, 200, "{ran:?}");
    assert_eq!(sim.volume_deletes(), 1);
    assert!(!sim.state.has_volume(ids::PG_DATA));
    let again = agent_post(
        served.address,
        &token,
        &format!("Blastdoor-Hold: {id}"),
        &incident(),
    );
    assert_eq!(again.status, 403, "{again:?}");
    assert_eq!(sim.volume_deletes(), 1);

    // The reloaded hold page shows what happened upstream.
    browser.go(&format!("{origin}/ui/holds/{id}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    let main = loop {
        let main = browser.text("main");
        if main.contains("Executed at") || Instant::now() > deadline {
            break main;
        }
        std::thread::sleep(Duration::from_millis(200));
        browser.refresh();
    };
    assert!(main.contains("Executed at"), "{main}");
    assert!(main.contains("the upstream answered 200"), "{main}");
    assert_eq!(browser.text(".panel .badge"), "EXECUTED");
    browser.resize(1280, 1600);
    browser.screenshot("08-executed");
    assert!(!served.stderr().contains(INCIDENT_ACCOUNT_TOKEN));
}
