//! A small W3C WebDriver client: chromedriver on a free port ([`Driver`]) and one headless
//! Chromium session on it ([`Browser`]), with screenshots and the approval UI's login and logout.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::http::http;

/// Where Debian's `chromium` package installs the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The first `name` on `PATH` that is a file.
pub fn find_program(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// The path of chromedriver; fails the test (never skips it) when Chromium or chromedriver is
/// missing, telling the reader to run `scripts/test`.
pub fn require_chromium() -> PathBuf {
    let chromedriver = find_program("chromedriver");
    let missing_browser = !Path::new(CHROMIUM).is_file();
    assert!(
        chromedriver.is_some() && !missing_browser,
        "this test needs headless Chromium: `chromium` and `chromium-driver` (Debian packages) \
         are not installed; run scripts/test, which installs them"
    );
    chromedriver.unwrap()
}

/// chromedriver on a free port, killed when dropped.
#[derive(Debug)]
pub struct Driver {
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
    /// Starts `program` (chromedriver) and waits up to 30 seconds for it to be ready.
    pub fn start(program: &Path) -> Driver {
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

    /// One WebDriver command; panics unless chromedriver answers 200 with JSON.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
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

/// A fresh Chromium profile directory under the system temporary directory, removed when
/// dropped.
#[derive(Debug)]
struct Profile(PathBuf);

impl Profile {
    fn new() -> Profile {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let path = std::env::temp_dir().join(format!(
            "blastdoor-chromium-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir(&path).unwrap();
        Profile(path)
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One WebDriver session (one Chromium), closed when dropped.
#[derive(Debug)]
pub struct Browser<'a> {
    driver: &'a Driver,
    session: String,
    screenshots: PathBuf,
    _profile: Profile,
}

impl Drop for Browser<'_> {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.session);
        let _ = http(&self.driver.address, "DELETE", &path, &[], b"");
    }
}

impl<'a> Browser<'a> {
    /// Opens headless Chromium at 1280×900; [`Browser::screenshot`] writes into `screenshots`.
    pub fn open(driver: &'a Driver, screenshots: PathBuf) -> Browser<'a> {
        let profile = Profile::new();
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": [
                        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        format!("--user-data-dir={}", profile.0.display()),
                    ]
                }
            }}
        });
        let created = driver.call("POST", "/session", Some(capabilities));
        let session = created["value"]["sessionId"].as_str().unwrap().to_owned();
        let browser = Browser {
            driver,
            session,
            screenshots,
            _profile: profile,
        };
        browser.resize(1280, 900);
        browser
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.driver.call(method, &path, body)["value"].clone()
    }

    pub fn resize(&self, width: u32, height: u32) {
        self.command(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        );
    }

    pub fn go(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn refresh(&self) {
        self.command("POST", "/refresh", None);
    }

    pub fn url(&self) -> String {
        self.command("GET", "/url", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The first element matching `css`, waiting up to ten seconds for it to appear.
    pub fn find(&self, css: &str) -> String {
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

    pub fn text(&self, css: &str) -> String {
        let element = self.find(css);
        self.command("GET", &format!("/element/{element}/text"), None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.command(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
    }

    pub fn click(&self, css: &str) {
        let element = self.find(css);
        self.command("POST", &format!("/element/{element}/click"), None);
    }

    /// Saves a PNG of the viewport as `<name>.png` in the screenshot directory; its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let encoded = self.command("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::create_dir_all(&self.screenshots).unwrap();
        let path = self.screenshots.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Logs in to the approval UI at `origin` as `name` with the TOTP `code`.
    pub fn login(&self, origin: &str, name: &str, code: &str) {
        self.go(&format!("{origin}/ui"));
        assert!(self.url().ends_with("/ui/login"), "{}", self.url());
        self.type_into("#name", name);
        self.type_into("#code", code);
        self.click("#login");
        assert_eq!(self.text(".approver-name"), name);
    }

    /// Logs out of the approval UI and waits for the login form.
    pub fn logout(&self) {
        self.click(".who button");
        self.find("#login");
    }
}
