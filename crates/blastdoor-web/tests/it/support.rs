//! Test support: a temporary `BLASTDOOR_HOME` with a real `HoldStore` and `Ledger`, the UI
//! served on a port-0 listener, and a tiny blocking HTTP/1.1 client that keeps cookies like a
//! browser and sends the `Origin` header a browser sends on form posts, over
//! `blastdoor_testkit::http`.

use std::collections::BTreeMap;
use std::num::NonZeroU8;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use blastdoor_approval::{CanonicalRequest, Hold, HoldStore, NewHold, StorePaths, totp};
use blastdoor_audit::Ledger;
use blastdoor_core::{AgentName, Environment, Layer, OperationKind, Reason, Risk, RuleId, Target};
use blastdoor_web::{Clock, CookieSecurity, WebConfig, WebState};

pub use blastdoor_testkit::http::{HttpResponse, http};

/// 2030-03-17: far from any real clock, so codes from tests never collide with real time.
pub const T0: i64 = 1_900_000_000;

/// The incident's request: delete the Railway volume that holds production's database.
pub const INCIDENT_BODY: &str = r#"{"query":"mutation volumeDelete($volumeId: String!) { volumeDelete(volumeId: $volumeId) }","variables":{"volumeId":"3f1c2a9e-7d4b-4c55-9a61-pocketos-pg-data"}}"#;

pub struct Fixture {
    _home: tempfile::TempDir,
    pub store: Arc<HoldStore>,
    pub ledger: Arc<Ledger>,
    pub now: Arc<AtomicI64>,
}

impl Fixture {
    pub fn new(start: i64) -> Fixture {
        let home = tempfile::tempdir().unwrap();
        blastdoor_broker::init(&home.path().join("keys")).unwrap();
        let ledger = Arc::new(Ledger::open_or_create(&home.path().join("ledger.sqlite")).unwrap());
        let store =
            Arc::new(HoldStore::open(StorePaths::in_home(home.path()), ledger.clone()).unwrap());
        Fixture {
            _home: home,
            store,
            ledger,
            now: Arc::new(AtomicI64::new(start)),
        }
    }

    pub fn now(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }

    pub fn advance(&self, seconds: i64) {
        self.now.fetch_add(seconds, Ordering::SeqCst);
    }

    /// The fixture's controllable clock.
    pub fn clock(&self) -> Clock {
        let now = self.now.clone();
        Arc::new(move || now.load(Ordering::SeqCst))
    }

    /// Enrols `name` and returns their TOTP seed.
    pub fn enrol(&self, name: &str) -> Vec<u8> {
        let enrolment = self.store.add_approver(name, &[], self.now()).unwrap();
        totp::seed_from_uri(enrolment.otpauth_uri.expose_secret()).unwrap()
    }

    pub fn hold(&self, new_hold: NewHold) -> Hold {
        self.store.create(new_hold, self.now()).unwrap()
    }

    pub fn reload(&self, hold: &Hold) -> Hold {
        self.store.hold(hold.id.as_str()).unwrap()
    }

    /// Serves the UI on 127.0.0.1:0 with this fixture's clock.
    pub fn serve(&self) -> TestServer {
        self.serve_with(self.clock(), CookieSecurity::DangerousPlainHttp)
    }

    pub fn serve_with(&self, clock: Clock, cookies: CookieSecurity) -> TestServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let origin = format!("http://{address}");
        let state = WebState::new(
            self.store.clone(),
            self.ledger.clone(),
            WebConfig::new(&origin, cookies),
            clock,
        );
        let app = blastdoor_web::router(state);
        runtime.spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        TestServer {
            address,
            origin,
            _runtime: runtime,
        }
    }
}

pub fn code(seed: &[u8], now: i64) -> String {
    totp::format_code(totp::code_at(seed, now))
}

/// A code accepted at none of the steps around `now`.
pub fn wrong_code(seed: &[u8], now: i64) -> String {
    let valid: Vec<u32> = [-60, -30, 0, 30, 60]
        .iter()
        .map(|skew| totp::code_at(seed, now + skew))
        .collect();
    totp::format_code((0..).find(|candidate| !valid.contains(candidate)).unwrap())
}

/// The incident as a hold: `volumeDelete` of the volume used by production and staging, asked
/// for by the agent fixing staging, two approvals needed.
pub fn incident_hold() -> NewHold {
    NewHold {
        request: CanonicalRequest::new(
            Layer::Gateway,
            "POST",
            "railway",
            "/graphql/v2",
            INCIDENT_BODY.as_bytes(),
        ),
        kind: OperationKind::Graphql,
        risk: Risk::Destroy,
        targets: vec![
            Target::new(
                "volume",
                "3f1c2a9e-7d4b-4c55-9a61-pocketos-pg-data",
                vec![
                    Environment::production(),
                    Environment::parse("staging").unwrap(),
                ],
            )
            .on_upstream("railway"),
        ],
        description: "mutation volumeDelete(volumeId: $volumeId)".to_owned(),
        summary: None,
        agent: Some(AgentName::new("cursor-staging-fix").unwrap()),
        token_id: Some("tok_7f3a".to_owned()),
        session: None,
        task: Some("fix the credential mismatch in the staging deploy".to_owned()),
        reasons: vec![
            Reason::new(
                RuleId::new("railway.volume-delete").unwrap(),
                "volumeDelete deletes the volume in every environment, with its backups; \
                 this volume is used by production and staging",
                Some(
                    "delete the staging volume instance only, after a volumeInstanceBackupCreate"
                        .to_owned(),
                ),
                "held for 2 approvals",
            ),
            Reason::new(
                RuleId::new("snapshot.unprotected").unwrap(),
                "no protection entry for railway volume 3f1c2a9e-7d4b-4c55-9a61-pocketos-pg-data",
                None,
                "no snapshot",
            ),
        ],
        approvals_required: NonZeroU8::new(2).unwrap(),
        ttl_secs: 3600,
        not_before: None,
        cooling_off_secs: 0,
    }
}

pub struct TestServer {
    pub address: String,
    pub origin: String,
    _runtime: tokio::runtime::Runtime,
}

/// `application/x-www-form-urlencoded`.
pub fn form_encode(fields: &[(&str, &str)]) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|byte| match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (byte as char).to_string()
                }
                b' ' => "+".to_owned(),
                other => format!("%{other:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A cookie-keeping client, one per person.
pub struct Client<'a> {
    pub server: &'a TestServer,
    pub cookies: BTreeMap<String, String>,
}

impl<'a> Client<'a> {
    pub fn new(server: &'a TestServer) -> Client<'a> {
        Client {
            server,
            cookies: BTreeMap::new(),
        }
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        mut headers: Vec<(String, String)>,
        body: &[u8],
    ) -> HttpResponse {
        if !self.cookies.is_empty() {
            let line = self
                .cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ");
            headers.push(("Cookie".to_owned(), line));
        }
        let response = http(&self.server.address, method, path, &headers, body);
        for cookie in response.all_headers("set-cookie") {
            let pair = cookie.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || cookie.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        response
    }

    pub fn get(&mut self, path: &str) -> HttpResponse {
        self.send("GET", path, Vec::new(), b"")
    }

    /// A form post as a browser on the UI's own page sends it.
    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> HttpResponse {
        let origin = self.server.origin.clone();
        self.post_with_origin(path, fields, Some(&origin))
    }

    pub fn post_with_origin(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> HttpResponse {
        let mut headers = vec![(
            "Content-Type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        )];
        if let Some(origin) = origin {
            headers.push(("Origin".to_owned(), origin.to_owned()));
        }
        let body = form_encode(fields);
        self.send("POST", path, headers, body.as_bytes())
    }

    /// Fetches the login form and posts `name` and `code` with its token.
    pub fn login(&mut self, name: &str, code: &str) -> HttpResponse {
        let form = self.get("/ui/login");
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.csrf();
        self.post(
            "/ui/login",
            &[("name", name), ("code", code), ("csrf", &csrf)],
        )
    }

    /// The CSRF token of the logged-in session (from any page's logout form).
    pub fn session_csrf(&mut self) -> String {
        let page = self.get("/ui");
        assert_eq!(page.status, 200, "{}", page.body);
        page.csrf()
    }
}
