//! The incident in a real browser: headless Chromium, driven through chromedriver's W3C
//! WebDriver HTTP API by a small client below. Two approvers log in with TOTP codes, see the
//! held `volumeDelete` in the queue with PRODUCTION highlighted, open it and approve it; the page
//! then shows it approved. Screenshots go to `target/test-output/web/`.
//!
//! Needs Debian's `chromium` and `chromium-driver`; `scripts/test` installs them. Without them
//! this test fails (it never skips).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use blastdoor_approval::HoldState;
use blastdoor_web::{CookieSecurity, WebState};
use serde_json::{Value, json};

use crate::support::{Fixture, code, http, incident_hold};

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
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-output/web");
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
            if std::net::TcpStream::connect(&driver.address).is_ok() {
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

fn unix_now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

#[test]
fn two_approvers_approve_the_held_incident_in_headless_chromium() {
    let chromedriver = find_program("chromedriver");
    let missing_browser = !Path::new(CHROMIUM).is_file();
    assert!(
        chromedriver.is_some() && !missing_browser,
        "this test needs headless Chromium: `chromium` and `chromium-driver` (Debian packages) \
         are not installed; run scripts/test, which installs them"
    );
    let driver = Driver::start(&chromedriver.unwrap());

    // Real time: the browser's countdown and the codes both use the wall clock.
    let fixture = Fixture::new(unix_now());
    let alice_seed = fixture.enrol("alice");
    let bob_seed = fixture.enrol("bob");
    let hold = fixture.hold(incident_hold());
    let server = fixture.serve_with(WebState::system_clock(), CookieSecurity::DangerousPlainHttp);
    let origin = server.origin.clone();
    let browser = Browser::open(&driver);

    // Not logged in: the login page.
    browser.go(&format!("{origin}/ui"));
    browser.find("#login");
    browser.screenshot("01-login");

    // Approver one: the queue shows the incident, production highlighted.
    browser.login(&origin, "alice", &code(&alice_seed, unix_now()));
    let item = format!("li[id=\"{}\"]", hold.id);
    assert_eq!(browser.text(&format!("{item} .env-prod")), "PRODUCTION");
    assert!(
        browser
            .text(&format!("{item} .hold-summary"))
            .contains("DELETE")
    );
    assert_eq!(browser.text(&format!("{item} .approvals")), "0 of 2");
    browser.screenshot("02-queue");
    // app.js runs under the CSP and keeps the countdown current.
    let before = browser.text(&format!("{item} time.countdown"));
    std::thread::sleep(Duration::from_millis(2100));
    assert_ne!(browser.text(&format!("{item} time.countdown")), before);

    browser.click(&format!("{item} .hold-summary"));
    assert!(browser.text(".panel-danger").contains("PRODUCTION"));
    assert!(
        browser
            .text("main")
            .contains("No snapshot: this resource has no protection entry.")
    );
    browser.resize(1280, 2000);
    browser.screenshot("03-detail");
    browser.resize(1280, 900);
    browser.click("#approve");
    assert!(
        browser
            .text(".notice-ok")
            .contains("More approvals are needed")
    );
    assert_eq!(fixture.reload(&hold).approvals.len(), 1);
    browser.screenshot("04-after-first-approval");
    browser.logout();

    // Approver two, in the same browser after logout.
    browser.login(&origin, "bob", &code(&bob_seed, unix_now()));
    assert_eq!(
        browser.text(&format!("{item} .approvals")),
        "1 of 2 (alice)"
    );
    browser.click(&format!("{item} .hold-summary"));
    browser.click("#approve");
    assert!(
        browser
            .text(".notice-ok")
            .contains("The hold is now approved")
    );
    assert_eq!(browser.text(".panel .badge"), "APPROVED");
    browser.screenshot("05-approved");
    assert_eq!(fixture.reload(&hold).state, HoldState::Approved);

    browser.click("nav a[href=\"/ui/decisions\"]");
    assert!(
        browser
            .text("table.decisions")
            .contains("approved by alice, bob")
    );
    browser.screenshot("06-decisions");
}
