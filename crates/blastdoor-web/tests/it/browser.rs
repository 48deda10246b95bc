//! The incident in a real browser: headless Chromium, driven through chromedriver's W3C
//! WebDriver HTTP API by `blastdoor_testkit::webdriver`. Two approvers log in with TOTP codes,
//! see the held `volumeDelete` in the queue with PRODUCTION highlighted, open it and approve it;
//! the page then shows it approved. Screenshots go to `target/test-output/web/`.
//!
//! Needs Debian's `chromium` and `chromium-driver`; `scripts/test` installs them. Without them
//! this test fails (it never skips).

use std::path::Path;
use std::time::Duration;

use blastdoor_approval::HoldState;
use blastdoor_testkit::webdriver::{Browser, Driver, require_chromium};
use blastdoor_web::{CookieSecurity, WebState};

use crate::support::{Fixture, code, incident_hold};

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
    let driver = Driver::start(&require_chromium());

    // Real time: the browser's countdown and the codes both use the wall clock.
    let fixture = Fixture::new(unix_now());
    let alice_seed = fixture.enrol("alice");
    let bob_seed = fixture.enrol("bob");
    let hold = fixture.hold(incident_hold());
    let server = fixture.serve_with(WebState::system_clock(), CookieSecurity::DangerousPlainHttp);
    let origin = server.origin.clone();
    let screenshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-output/web");
    let browser = Browser::open(&driver, screenshots);

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
