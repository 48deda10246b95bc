//! Tests of `blastdoor secret`: values in through stdin only, encrypted at rest, listed by
//! fingerprint, clear errors for a wrong key or a corrupt store.

use crate::support::{TestHome, file_contains, stderr, stdout};

const VALUE: &str = "rw-live-5d41402abc4b2a76b9719d911017c592";

fn fingerprint(value: &str) -> String {
    blastdoor_core::Secret::new(value).fingerprint()
}

#[test]
fn set_list_rm_round_trip_without_ever_showing_the_value() {
    let home = TestHome::empty();
    let set = home.run_with_stdin(
        &["secret", "set", "railway-prod"],
        format!("{VALUE}\n").as_bytes(),
    );
    assert!(set.status.success(), "{}", stderr(&set));
    assert!(!stdout(&set).contains(VALUE) && !stderr(&set).contains(VALUE));

    let list = home.run(&["secret", "list"]);
    assert!(list.status.success(), "{}", stderr(&list));
    // One trailing newline was trimmed: the fingerprint is the value's own.
    assert_eq!(
        stdout(&list),
        format!("railway-prod\t{}\n", fingerprint(VALUE))
    );

    let json = home.run(&["secret", "list", "--json"]);
    let parsed: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(parsed[0]["name"], "railway-prod");
    assert_eq!(parsed[0]["fingerprint"], fingerprint(VALUE));

    let store = home.path().join("secrets.json");
    assert!(
        !file_contains(&store, VALUE.as_bytes()),
        "plaintext in the store file"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(home.path().join("keys/secrets.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let rm = home.run(&["secret", "rm", "railway-prod"]);
    assert!(rm.status.success(), "{}", stderr(&rm));
    assert_eq!(stdout(&home.run(&["secret", "list"])), "");
    let again = home.run(&["secret", "rm", "railway-prod"]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("no secret named `railway-prod`"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn empty_values_and_bad_names_are_refused() {
    let home = TestHome::empty();
    let empty = home.run_with_stdin(&["secret", "set", "x"], b"\n");
    assert!(!empty.status.success());
    assert!(
        stderr(&empty).contains("empty secret"),
        "{}",
        stderr(&empty)
    );
    let bad = home.run_with_stdin(&["secret", "set", "a b"], b"value");
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("invalid secret name `a b`"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn a_wrong_key_or_corrupt_store_is_a_clear_error() {
    let home = TestHome::empty();
    assert!(
        home.run_with_stdin(&["secret", "set", "a"], b"value-one")
            .status
            .success()
    );
    let key = home.path().join("keys/secrets.key");
    std::fs::write(&key, format!("{}\n", "ab".repeat(32))).unwrap();
    let wrong = home.run(&["secret", "list"]);
    assert_eq!(wrong.status.code(), Some(1));
    let message = stderr(&wrong);
    assert!(
        message.contains("secrets.json") && message.contains("wrong key"),
        "{message}"
    );
    assert!(!message.contains("panicked"));

    std::fs::write(
        home.path().join("secrets.json"),
        b"{\"version\": 1, \"trunc",
    )
    .unwrap();
    let corrupt = home.run(&["secret", "list"]);
    assert_eq!(corrupt.status.code(), Some(1));
    let message = stderr(&corrupt);
    assert!(
        message.contains("secrets.json") && message.contains("corrupt"),
        "{message}"
    );
}

#[cfg(unix)]
#[test]
fn a_key_file_readable_by_others_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let home = TestHome::empty();
    assert!(
        home.run_with_stdin(&["secret", "set", "a"], b"value-one")
            .status
            .success()
    );
    let key = home.path().join("keys/secrets.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = home.run(&["secret", "list"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("secrets.key") && message.contains("chmod 600"),
        "{message}"
    );
}
