//! The browser end to end: a held incident request approved in the web UI and executed.
//!
//! The real `blastdoor serve` sits in front of the Railway simulator; an agent's token (allowed
//! production and destroy) sends the incident `volumeDelete`, which policy holds for two
//! approvers (428 with a hold id). In real headless Chromium, driven through chromedriver's W3C
//! WebDriver HTTP API, approver one logs in at `/ui/login` with a TOTP code, finds the hold in the
//! queue, opens it and approves; logs out; approver two does the same and the page shows
//! APPROVED. The agent then re-sends the identical request under `Blastdoor-Hold`: the simulator
//! executes exactly one `volumeDelete`, and the reloaded hold page shows the outcome.
//! Screenshots go to `target/test-output/browser-e2e/`. The gateway side uses the helpers of
//! `serve`; the browser is driven by `blastdoor_testkit::webdriver`.
//!
//! Needs Debian's `chromium` and `chromium-driver`; `scripts/test` installs them. Without them
//! this test fails (it never skips).

use std::path::Path;
use std::time::{Duration, Instant};

use blastdoor_sim::{INCIDENT_ACCOUNT_TOKEN, ids};
use blastdoor_testkit::webdriver::{Browser, Driver, require_chromium};

use crate::serve::{
    Served, Sim, enrol, graphql, home_with, incident, mint, resend, totp_code, volume_deletes,
};

#[test]
fn the_held_incident_is_approved_in_headless_chromium_and_then_executed_once() {
    let driver = Driver::start(&require_chromium());

    let sim = Sim::start();
    // No cooling-off: the approved destroy runs as soon as it is re-sent.
    let home = home_with(&sim, "[approvals]\ncooling_off = \"0s\"\n");
    let served = Served::start(&home, None);
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
    let token = mint(&home, "staging,production", "read,write,destroy");
    let held = graphql(served.address, &token, incident());
    assert_eq!(held.status, 428, "{held:?}");
    let extensions = held.json()["errors"][0]["extensions"].clone();
    assert_eq!(extensions["approvals_required"], 2, "{held:?}");
    let id = extensions["hold_id"].as_str().unwrap().to_owned();
    assert_eq!(volume_deletes(&sim), 0);
    assert!(sim.state.has_volume(ids::PG_DATA));

    let alice = enrol(&home, "alice");
    let bob = enrol(&home, "bob");
    let screenshots =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-output/browser-e2e");
    let browser = Browser::open(&driver, screenshots);

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
    let early = resend(served.address, &token, &id, &incident());
    assert_eq!(early.status, 428, "{early:?}");
    assert_eq!(volume_deletes(&sim), 0);

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
    assert_eq!(volume_deletes(&sim), 0);

    // The agent re-sends the identical request under the hold: it runs, once.
    let ran = resend(served.address, &token, &id, &incident());
    assert_eq!(ran.status, 200, "{ran:?}");
    assert_eq!(volume_deletes(&sim), 1);
    assert!(!sim.state.has_volume(ids::PG_DATA));
    let again = resend(served.address, &token, &id, &incident());
    assert_eq!(again.status, 403, "{again:?}");
    assert_eq!(volume_deletes(&sim), 1);

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
