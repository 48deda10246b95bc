//! The UI over real HTTP against a real store and ledger: login refusals, CSRF and origin
//! checks, approve (2 of 2 from two sessions), deny, escaping, redirects, headers, JSON.

use blastdoor_approval::{HoldState, LOCKOUT_SECS, MAX_CODE_FAILURES};
use blastdoor_web::CookieSecurity;

use crate::support::{Client, Fixture, T0, code, incident_hold, wrong_code};

fn location(response: &crate::support::HttpResponse) -> &str {
    response.header("location").unwrap_or("")
}

#[test]
fn login_with_a_wrong_code_is_refused() {
    let fixture = Fixture::new(T0);
    let seed = fixture.enrol("alice");
    let server = fixture.serve();
    let mut alice = Client::new(&server);

    let refused = alice.login("alice", &wrong_code(&seed, T0));
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("not accepted"), "{}", refused.body);
    assert!(!alice.cookies.contains_key("blastdoor_session"));
    assert_eq!(alice.get("/ui").status, 303);

    let unknown = Client::new(&server).login("mallory", &code(&seed, T0));
    assert_eq!(unknown.status, 401);
}

#[test]
fn a_code_cannot_log_in_twice() {
    let fixture = Fixture::new(T0);
    let seed = fixture.enrol("alice");
    let server = fixture.serve();
    let the_code = code(&seed, T0);

    let first = Client::new(&server).login("alice", &the_code);
    assert_eq!(first.status, 303);
    assert_eq!(location(&first), "/ui");

    let mut replayer = Client::new(&server);
    let replay = replayer.login("alice", &the_code);
    assert_eq!(replay.status, 401);
    assert!(!replayer.cookies.contains_key("blastdoor_session"));
}

#[test]
fn repeated_wrong_codes_lock_the_name_out_and_say_so() {
    let fixture = Fixture::new(T0);
    let seed = fixture.enrol("alice");
    let server = fixture.serve();
    let mut client = Client::new(&server);
    for _ in 0..MAX_CODE_FAILURES {
        client.login("alice", &wrong_code(&seed, T0));
    }
    fixture.advance(30);
    let locked = client.login("alice", &code(&seed, fixture.now()));
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(locked.body.contains("locked until"), "{}", locked.body);
    fixture.advance(LOCKOUT_SECS);
    assert_eq!(
        client.login("alice", &code(&seed, fixture.now())).status,
        303
    );
}

#[test]
fn the_login_form_needs_its_own_token() {
    let fixture = Fixture::new(T0);
    let seed = fixture.enrol("alice");
    let server = fixture.serve();
    let mut client = Client::new(&server);
    client.get("/ui/login");
    let forged = client.post(
        "/ui/login",
        &[("name", "alice"), ("code", &code(&seed, T0))],
    );
    assert_eq!(forged.status, 403);
    // The code was not consumed by the refused form.
    assert_eq!(client.login("alice", &code(&seed, T0)).status, 303);
}

#[test]
fn unauthenticated_requests_go_to_the_login_page() {
    let fixture = Fixture::new(T0);
    let hold = fixture.hold(incident_hold());
    let server = fixture.serve();
    let mut stranger = Client::new(&server);
    for path in [
        "/ui",
        "/ui/",
        "/ui/decisions",
        &format!("/ui/holds/{}", hold.id),
    ] {
        let response = stranger.get(path);
        assert_eq!(response.status, 303, "{path}");
        assert_eq!(location(&response), "/ui/login", "{path}");
    }
    let post = stranger.post(&format!("/ui/holds/{}/approve", hold.id), &[("csrf", "x")]);
    assert_eq!(post.status, 303);
    assert_eq!(location(&post), "/ui/login");
    assert!(fixture.reload(&hold).approvals.is_empty());

    let api = stranger.get("/ui/api/holds");
    assert_eq!(api.status, 401);
    assert!(api.body.contains("\"not_logged_in\""), "{}", api.body);
}

#[test]
fn a_post_without_the_csrf_token_or_from_another_origin_changes_nothing() {
    let fixture = Fixture::new(T0);
    let seed = fixture.enrol("alice");
    let hold = fixture.hold(incident_hold());
    let server = fixture.serve();
    let mut alice = Client::new(&server);
    assert_eq!(alice.login("alice", &code(&seed, T0)).status, 303);
    let csrf = alice.session_csrf();
    let approve = format!("/ui/holds/{}/approve", hold.id);

    assert_eq!(alice.post(&approve, &[]).status, 403);
    assert_eq!(alice.post(&approve, &[("csrf", "0000")]).status, 403);
    let cross = alice.post_with_origin(&approve, &[("csrf", &csrf)], Some("http://evil.example"));
    assert_eq!(cross.status, 403);
    assert_eq!(
        alice
            .post_with_origin(&approve, &[("csrf", &csrf)], None)
            .status,
        403
    );
    let deny = format!("/ui/holds/{}/deny", hold.id);
    assert_eq!(alice.post(&deny, &[("reason", "no")]).status, 403);

    let unchanged = fixture.reload(&hold);
    assert_eq!(unchanged.state, HoldState::Pending);
    assert!(unchanged.approvals.is_empty());

    // The same session with its token works, so the refusals above were the checks.
    assert_eq!(alice.post(&approve, &[("csrf", &csrf)]).status, 303);
    assert_eq!(fixture.reload(&hold).approvals.len(), 1);
}

#[test]
fn two_of_two_approvals_need_two_different_sessions() {
    let fixture = Fixture::new(T0);
    let alice_seed = fixture.enrol("alice");
    let bob_seed = fixture.enrol("bob");
    let hold = fixture.hold(incident_hold());
    let server = fixture.serve();
    let approve = format!("/ui/holds/{}/approve", hold.id);
    let detail = format!("/ui/holds/{}", hold.id);

    let mut alice = Client::new(&server);
    assert_eq!(alice.login("alice", &code(&alice_seed, T0)).status, 303);
    let queue = alice.get("/ui");
    assert!(
        queue
            .body
            .contains("<span class=\"env env-prod\">PRODUCTION</span>")
    );
    assert!(queue.body.contains("0 of 2"));
    let csrf = alice.session_csrf();
    let first = alice.post(&approve, &[("csrf", &csrf)]);
    assert_eq!(first.status, 303);
    assert_eq!(location(&first), format!("{detail}?done=approval-recorded"));
    assert_eq!(fixture.reload(&hold).state, HoldState::Pending);

    // Alice again: refused, still one approval.
    let again = alice.post(&approve, &[("csrf", &csrf)]);
    assert_eq!(again.status, 409);
    assert!(again.body.contains("already approved"), "{}", again.body);
    assert_eq!(fixture.reload(&hold).approvals.len(), 1);

    let mut bob = Client::new(&server);
    assert_eq!(bob.login("bob", &code(&bob_seed, T0)).status, 303);
    let page = bob.get(&detail);
    assert!(page.body.contains("1 of 2"));
    assert!(page.body.contains("id=\"approve\""));
    let csrf = bob.session_csrf();
    let second = bob.post(&approve, &[("csrf", &csrf)]);
    assert_eq!(location(&second), format!("{detail}?done=approved"));

    let approved = fixture.reload(&hold);
    assert_eq!(approved.state, HoldState::Approved);
    assert_eq!(approved.approvers(), vec!["alice", "bob"]);
    let page = bob.get(&format!("{detail}?done=approved"));
    assert!(page.body.contains(">APPROVED<"), "{}", page.body);
    assert!(!page.body.contains("id=\"approve\""));
}

#[test]
fn deny_needs_a_reason_and_is_recorded() {
    let fixture = Fixture::new(T0);
    let seed = fixture.enrol("alice");
    let hold = fixture.hold(incident_hold());
    let server = fixture.serve();
    let mut alice = Client::new(&server);
    alice.login("alice", &code(&seed, T0));
    let csrf = alice.session_csrf();
    let deny = format!("/ui/holds/{}/deny", hold.id);

    let empty = alice.post(&deny, &[("csrf", &csrf), ("reason", "   ")]);
    assert_eq!(empty.status, 400);
    assert_eq!(fixture.reload(&hold).state, HoldState::Pending);

    let denied = alice.post(
        &deny,
        &[("csrf", &csrf), ("reason", "the task was staging only")],
    );
    assert_eq!(denied.status, 303);
    let stored = fixture.reload(&hold);
    assert_eq!(stored.state, HoldState::Denied);
    let denial = stored.denial.unwrap();
    assert_eq!(
        (denial.approver.as_str(), denial.reason.as_str()),
        ("alice", "the task was staging only")
    );

    let page = alice.get(&format!("/ui/holds/{}", hold.id));
    assert!(page.body.contains("the task was staging only"));
    let decisions = alice.get("/ui/decisions");
    assert_eq!(decisions.status, 200);
    assert!(
        decisions.body.contains("verdict-deny"),
        "{}",
        decisions.body
    );
    assert!(decisions.body.contains("cursor-staging-fix"));
}

#[test]
fn hostile_content_renders_inert() {
    let fixture = Fixture::new(T0);
    let seed = fixture.enrol("alice");
    let mut hostile = incident_hold();
    hostile.summary = Some("<script>alert('pwned')</script> delete everything".to_owned());
    hostile.task = Some("\"><img src=x onerror=alert(1)>".to_owned());
    hostile.request = blastdoor_approval::CanonicalRequest::new(
        blastdoor_core::Layer::Gateway,
        "POST",
        "railway",
        "/graphql/v2",
        br#"{"query":"</pre><script>alert(2)</script>"}"#,
    );
    let hold = fixture.hold(hostile);
    let server = fixture.serve();
    let mut alice = Client::new(&server);
    alice.login("alice", &code(&seed, T0));

    for path in ["/ui".to_owned(), format!("/ui/holds/{}", hold.id)] {
        let page = alice.get(&path);
        assert_eq!(page.status, 200);
        assert!(
            !page.body.contains("<script>alert"),
            "{path}: {}",
            page.body
        );
        assert!(!page.body.contains("<img src=x"), "{path}");
        assert!(
            page.body
                .contains("&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;"),
            "{path}"
        );
        // The only script is the static file.
        assert_eq!(page.body.matches("<script").count(), 1, "{path}");
    }
}

#[test]
fn the_detail_shows_the_exact_operation_and_the_missing_snapshot() {
    let fixture = Fixture::new(T0);
    let seed = fixture.enrol("alice");
    let hold = fixture.hold(incident_hold());
    let server = fixture.serve();
    let mut alice = Client::new(&server);
    alice.login("alice", &code(&seed, T0));
    let page = alice.get(&format!("/ui/holds/{}", hold.id));
    for expected in [
        ">POST<",
        "/graphql/v2",
        "railway.volume-delete",
        "Safer alternative:",
        "No snapshot: this resource has no protection entry.",
        "fix the credential mismatch in the staging deploy",
        "3f1c2a9e-7d4b-4c55-9a61-pocketos-pg-data",
        hold.digest.to_hex().as_str(),
        "&quot;volumeId&quot;: &quot;3f1c2a9e",
    ] {
        assert!(page.body.contains(expected), "missing {expected:?}");
    }
}

#[test]
fn pages_carry_the_security_headers_and_cookies_their_flags() {
    let fixture = Fixture::new(T0);
    let seed = fixture.enrol("alice");
    let server = fixture.serve_with(fixture.clock(), CookieSecurity::SecureOnly);
    let mut alice = Client::new(&server);
    let login = alice.login("alice", &code(&seed, T0));
    let session_cookie = login
        .all_headers("set-cookie")
        .into_iter()
        .find(|cookie| cookie.starts_with("blastdoor_session="))
        .unwrap()
        .to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/ui", "Secure"] {
        assert!(session_cookie.contains(flag), "{session_cookie}");
    }
    let page = alice.get("/ui");
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let css = alice.get("/ui/static/app.css");
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
}

#[test]
fn logout_ends_the_session() {
    let fixture = Fixture::new(T0);
    let seed = fixture.enrol("alice");
    let server = fixture.serve();
    let mut alice = Client::new(&server);
    alice.login("alice", &code(&seed, T0));
    let stolen = alice.cookies.clone();
    let csrf = alice.session_csrf();
    let out = alice.post("/ui/logout", &[("csrf", &csrf)]);
    assert_eq!(location(&out), "/ui/login");
    let mut replay = Client::new(&server);
    replay.cookies = stolen;
    assert_eq!(replay.get("/ui").status, 303);
}

#[test]
fn sessions_expire() {
    let fixture = Fixture::new(T0);
    let seed = fixture.enrol("alice");
    let server = fixture.serve();
    let mut alice = Client::new(&server);
    alice.login("alice", &code(&seed, T0));
    assert_eq!(alice.get("/ui").status, 200);
    fixture.advance(blastdoor_web::DEFAULT_SESSION_TTL_SECS);
    assert_eq!(alice.get("/ui").status, 303);
}

#[test]
fn the_json_api_lists_and_shows_holds() {
    let fixture = Fixture::new(T0);
    let seed = fixture.enrol("alice");
    let hold = fixture.hold(incident_hold());
    let server = fixture.serve();
    let mut alice = Client::new(&server);
    alice.login("alice", &code(&seed, T0));
    let list: serde_json::Value = serde_json::from_str(&alice.get("/ui/api/holds").body).unwrap();
    assert_eq!(list["holds"][0]["id"], hold.id.as_str());
    assert_eq!(list["holds"][0]["state_now"], "pending");
    let one = alice.get(&format!("/ui/api/holds/{}", hold.id));
    assert_eq!(one.status, 200);
    let one: serde_json::Value = serde_json::from_str(&one.body).unwrap();
    assert_eq!(one["approvals_required"], 2);
    let missing = alice.get("/ui/api/holds/hold_nope");
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("hold_unknown"));
}

#[test]
fn an_overdue_hold_reads_as_expired_and_cannot_be_approved() {
    let fixture = Fixture::new(T0);
    let seed = fixture.enrol("alice");
    let hold = fixture.hold(incident_hold());
    let server = fixture.serve();
    fixture.advance(3600);
    let mut alice = Client::new(&server);
    alice.login("alice", &code(&seed, fixture.now()));
    let page = alice.get(&format!("/ui/holds/{}", hold.id));
    assert!(page.body.contains(">EXPIRED<"));
    assert!(!page.body.contains("id=\"approve\""));
    let csrf = alice.session_csrf();
    let refused = alice.post(
        &format!("/ui/holds/{}/approve", hold.id),
        &[("csrf", &csrf)],
    );
    assert_eq!(refused.status, 409);
    assert_eq!(fixture.reload(&hold).state, HoldState::Expired);
}

#[test]
fn an_approved_destroy_in_its_cooling_off_window_shows_when_it_opens() {
    let fixture = Fixture::new(T0);
    let alice_seed = fixture.enrol("alice");
    let mut cooling = incident_hold();
    cooling.approvals_required = std::num::NonZeroU8::MIN;
    cooling.not_before = Some(T0 + 600);
    let hold = fixture.hold(cooling);
    let server = fixture.serve();
    let mut alice = Client::new(&server);
    alice.login("alice", &code(&alice_seed, T0));
    let csrf = alice.session_csrf();
    alice.post(
        &format!("/ui/holds/{}/approve", hold.id),
        &[("csrf", &csrf)],
    );
    fixture.advance(25);

    let page = alice.get(&format!("/ui/holds/{}", hold.id));
    assert!(page.body.contains(">COOLING OFF<"), "{}", page.body);
    // The server-rendered countdown (the no-script reading) and the deadline for app.js.
    assert!(
        page.body
            .contains(&format!("data-deadline=\"{}\"", T0 + 600))
    );
    assert!(page.body.contains(">9m 35s</time>"), "{}", page.body);
    let queue = alice.get("/ui");
    assert!(queue.body.contains(">COOLING OFF<"));
}

#[test]
fn an_unknown_hold_is_a_plain_404() {
    let fixture = Fixture::new(T0);
    let seed = fixture.enrol("alice");
    let server = fixture.serve();
    let mut alice = Client::new(&server);
    alice.login("alice", &code(&seed, T0));
    for path in [
        "/ui/holds/hold_0000",
        "/ui/holds/%3Cscript%3E",
        "/ui/nowhere",
    ] {
        let page = alice.get(path);
        assert_eq!(page.status, 404, "{path}");
        assert!(!page.body.contains("<script>"), "{path}");
    }
}

#[test]
fn held_bodies_are_redacted_on_the_page_and_in_the_api() {
    const BEARER: &str = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LWJlYXJlcg";
    const PGPASSWORD: &str = "pg-hunter2-secret";
    let fixture = Fixture::new(T0);
    let seed = fixture.enrol("alice");
    let mut shell = incident_hold();
    shell.request = blastdoor_approval::CanonicalRequest::shell(
        "session-1",
        "/home/u/proj",
        &format!(
            "PGPASSWORD={PGPASSWORD} psql -h db.prod -c 'DROP TABLE bookings' && curl -H 'Authorization: Bearer {BEARER}' https://api.example.com"
        ),
    );
    let shell = fixture.hold(shell);
    let mut graphql = incident_hold();
    graphql.request = blastdoor_approval::CanonicalRequest::new(
        blastdoor_core::Layer::Gateway,
        "POST",
        "railway",
        "/graphql/v2",
        serde_json::json!({
            "query": "mutation($input: VariableUpsertInput!) { variableUpsert(input: $input) }",
            "variables": {"input": {"name": "DATABASE_URL", "password": PGPASSWORD, "authorization": format!("Bearer {BEARER}")}},
        })
        .to_string()
        .as_bytes(),
    );
    let graphql = fixture.hold(graphql);
    let server = fixture.serve();
    let mut alice = Client::new(&server);
    alice.login("alice", &code(&seed, T0));

    let shell_page = alice.get(&format!("/ui/holds/{}", shell.id));
    assert!(
        shell_page.body.contains("psql -h db.prod"),
        "{}",
        shell_page.body
    );
    let graphql_page = alice.get(&format!("/ui/holds/{}", graphql.id));
    assert!(
        graphql_page.body.contains("variableUpsert"),
        "{}",
        graphql_page.body
    );
    let responses = [
        shell_page,
        graphql_page,
        alice.get("/ui/api/holds"),
        alice.get(&format!("/ui/api/holds/{}", shell.id)),
        alice.get(&format!("/ui/api/holds/{}", graphql.id)),
    ];
    for response in &responses {
        assert_eq!(response.status, 200);
        for secret in [BEARER, PGPASSWORD, "UEdQQVNTV09SRD"] {
            assert!(
                !response.body.contains(secret),
                "{secret}: {}",
                response.body
            );
        }
        assert!(!response.body.contains("as stored: secrets redacted"));
    }
    let api: serde_json::Value =
        serde_json::from_str(&alice.get(&format!("/ui/api/holds/{}", shell.id)).body).unwrap();
    assert_eq!(api["request"]["method"], "SHELL");
    assert!(
        api["request"]["body"]["text"]
            .as_str()
            .unwrap()
            .contains("PGPASSWORD=[redacted]")
    );
}

#[test]
fn the_queue_counts_waiting_holds_per_agent_and_narrows_to_one() {
    let fixture = Fixture::new(T0);
    let seed = fixture.enrol("alice");
    let agent = |name: &str| Some(blastdoor_core::AgentName::new(name).unwrap());
    let mut flood = Vec::new();
    for index in 0..3 {
        let mut new = incident_hold();
        new.agent = agent("flooder");
        new.summary = Some(format!("flood item {index}"));
        flood.push(fixture.hold(new));
    }
    let mut real = incident_hold();
    real.summary = Some("the real production delete".to_owned());
    let real = fixture.hold(real);
    let server = fixture.serve();
    let mut alice = Client::new(&server);
    alice.login("alice", &code(&seed, T0));

    let queue = alice.get("/ui");
    assert_eq!(queue.status, 200);
    assert!(
        queue.body.contains("4 operations are waiting"),
        "{}",
        queue.body
    );
    assert!(
        queue.body.contains(
            "<li><span class=\"count\">3</span> <a href=\"/ui?agent=flooder\">flooder</a></li>"
        ),
        "{}",
        queue.body
    );
    assert!(
        queue
            .body
            .contains("<span class=\"count\">1</span> <a href=\"/ui?agent=cursor-staging-fix\">"),
        "{}",
        queue.body
    );
    // Narrowed to the one agent: its hold only, the counts still for everyone.
    let narrowed = alice.get("/ui?agent=cursor-staging-fix");
    assert_eq!(narrowed.status, 200);
    assert!(narrowed.body.contains(real.id.as_str()));
    assert!(narrowed.body.contains("the real production delete"));
    for hold in &flood {
        assert!(
            !narrowed.body.contains(hold.id.as_str()),
            "{}",
            narrowed.body
        );
    }
    assert!(
        narrowed
            .body
            .contains("Showing the holds of <strong>cursor-staging-fix</strong>")
    );
    assert!(narrowed.body.contains("4 operations are waiting"));
    // Whatever is asked for is escaped, and matches nothing.
    let hostile = alice.get("/ui?agent=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    assert_eq!(hostile.status, 200);
    assert!(!hostile.body.contains("<script>alert"), "{}", hostile.body);
    assert!(
        hostile
            .body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert!(hostile.body.contains("No held operations from this agent."));

    // The JSON API: the same counts, the same filter.
    let list: serde_json::Value =
        serde_json::from_str(&alice.get("/ui/api/holds?agent=flooder").body).unwrap();
    assert_eq!(list["pending"], 4);
    assert_eq!(list["pending_by_agent"][0]["agent"], "flooder");
    assert_eq!(list["pending_by_agent"][0]["pending"], 3);
    assert_eq!(list["pending_by_agent"][1]["agent"], "cursor-staging-fix");
    assert_eq!(list["holds"].as_array().unwrap().len(), 3);
    assert!(
        list["holds"]
            .as_array()
            .unwrap()
            .iter()
            .all(|hold| hold["agent"] == "flooder")
    );
    let all: serde_json::Value = serde_json::from_str(&alice.get("/ui/api/holds").body).unwrap();
    assert_eq!(all["holds"].as_array().unwrap().len(), 4);
}
