//! Tests of `blastdoor snapshots` and `blastdoor restore` against a real PostgreSQL server
//! (started by scripts/test through scripts/test-services; BLASTDOOR_TEST_PG).

use std::path::Path;
use std::process::Command;

use crate::support::{TestHome, file_contains, stderr, stdout};

fn admin_dsn() -> String {
    std::env::var("BLASTDOOR_TEST_PG").unwrap_or_else(|_| {
        panic!("BLASTDOOR_TEST_PG is not set: run scripts/test (it sources scripts/test-services and starts PostgreSQL)")
    })
}

fn password() -> String {
    let dsn = admin_dsn();
    let userinfo = dsn.split("://").nth(1).unwrap().split('@').next().unwrap();
    userinfo.split(':').nth(1).unwrap().to_owned()
}

fn psql(dsn: &str, sql: &str) -> String {
    let output = Command::new("psql")
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

fn create_database(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    psql(&admin_dsn(), &format!("CREATE DATABASE {name}"));
    format!("{}/{name}", admin_dsn().rsplit_once('/').unwrap().0)
}

fn rows(dsn: &str) -> String {
    psql(
        dsn,
        "SELECT count(*) || ' ' || md5(string_agg(id || ':' || plate, ',' ORDER BY id)) FROM bookings",
    )
}

/// An initialised home whose config snapshots `vol-prod` with pg_dump of secret `prod-db`
/// (holding `dsn`) into a directory outside the home.
fn home_protecting(dsn: &str) -> TestHome {
    let home = TestHome::initialised();
    let store = home.scratch().join("isolated-store");
    let config = home.path().join("blastdoor.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[[upstream]]\nname = \"railway\"\nkind = \"railway\"\nurl = \"http://127.0.0.1:9\"\n\n[snapshots]\nstore = \"{}\"\n\n[[protect]]\nupstream = \"railway\"\nresource = \"vol-prod\"\nmethod = \"pg_dump\"\ndsn = \"prod-db\"\n",
        store.display()
    ));
    std::fs::write(&config, text).unwrap();
    let output = home.run_with_stdin(&["secret", "set", "prod-db"], dsn.as_bytes());
    assert!(output.status.success(), "{}", stderr(&output));
    home
}

/// No file under `dir` holds `needle` in clear.
fn no_file_contains(dir: &Path, needle: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            no_file_contains(&path, needle);
        } else {
            assert!(
                !file_contains(&path, needle.as_bytes()),
                "`{}` holds the password",
                path.display()
            );
        }
    }
}

#[test]
fn take_verify_list_and_restore_by_hand() {
    let production = create_database("prod");
    psql(
        &production,
        "CREATE TABLE bookings (id int PRIMARY KEY, plate text); INSERT INTO bookings SELECT i, 'CAR-' || i FROM generate_series(1, 3000) i;",
    );
    let expected = rows(&production);
    let home = home_protecting(&production);

    let output = home.run(&["snapshots", "take", "--resource", "vol-prod", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let manifest: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let id = manifest["id"].as_str().unwrap().to_owned();
    assert_eq!(manifest["isolated"], true);
    assert_eq!(manifest["method"], "pg_dump");

    let output = home.run(&["snapshots", "list", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let listed: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["valid"], true);

    let output = home.run(&["snapshots", "verify", &id]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains(&id));

    // Production is dropped; the snapshot brings every row back into a fresh database.
    psql(&production, "DROP TABLE bookings");
    let fresh = create_database("fresh");
    // A URL with a password on the command line would show in `ps`: refused, pointing at
    // `--to -`; nothing is restored.
    let output = home.run(&["restore", &id, "--to", &fresh]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--to -"), "{}", stderr(&output));
    assert!(!stderr(&output).contains(&password()));
    assert_eq!(
        psql(
            &fresh,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'bookings'"
        ),
        "0"
    );
    let output = home.run_with_stdin(&["restore", &id, "--to", "-"], fresh.as_bytes());
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(rows(&fresh), expected);
    assert!(expected.starts_with("3000 "));
    let printed = format!("{}{}", stdout(&output), stderr(&output));
    assert!(printed.contains("127.0.0.1"), "{printed}");
    assert!(!printed.contains(&password()), "{printed}");

    // Into a database that now has tables: refused without --force, the DSN read from stdin.
    let output = home.run_with_stdin(&["restore", &id, "--to", "-"], fresh.as_bytes());
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--force"), "{}", stderr(&output));
    assert!(!stderr(&output).contains(&password()));
    let output = home.run_with_stdin(&["restore", &id, "--to", "-", "--force"], fresh.as_bytes());
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(rows(&fresh), expected);

    // Every action is in the ledger with the snapshot id, and the chain verifies.
    let output = home.run(&["audit", "log", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let log = stdout(&output);
    for rule in [
        "system.snapshot-take",
        "system.snapshot-verify",
        "system.snapshot-restore",
    ] {
        assert!(
            log.lines()
                .any(|line| line.contains(rule) && line.contains(&id)),
            "{rule} missing:\n{log}"
        );
    }
    assert!(!log.contains(&password()));
    let output = home.run(&["audit", "verify"]);
    assert!(output.status.success(), "{}", stderr(&output));

    // The password is nowhere in the home (ledger, keys, config) nor in the store.
    no_file_contains(&home.path(), &password());
    no_file_contains(&home.scratch(), &password());
}

#[test]
fn a_failed_snapshot_or_tampered_store_fails_the_command() {
    let wrong = admin_dsn().replacen(&password(), "wrong-password-123", 1);
    let home = home_protecting(&wrong);
    let output = home.run(&["snapshots", "take", "--resource", "vol-prod"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("no snapshot of `vol-prod` was taken"),
        "{message}"
    );
    assert!(!message.contains("wrong-password-123"), "{message}");
    let output = home.run(&["snapshots", "take", "--resource", "not-protected"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("no `[[protect]]` entry"));
    let output = home.run(&["snapshots", "list", "--json"]);
    assert_eq!(stdout(&output).trim(), "[]");
    let output = home.run(&["audit", "log", "--json"]);
    assert!(stdout(&output).contains("system.snapshot-take"));
    assert!(!stdout(&output).contains("wrong-password-123"));
    no_file_contains(&home.path(), "wrong-password-123");

    // A snapshot whose blob is altered fails `verify` with a non-zero exit.
    let production = create_database("prod");
    psql(
        &production,
        "CREATE TABLE bookings (id int PRIMARY KEY, plate text); INSERT INTO bookings VALUES (1, 'A');",
    );
    let home = home_protecting(&production);
    let output = home.run(&["snapshots", "take", "--resource", "vol-prod", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let manifest: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let blob = home
        .scratch()
        .join("isolated-store/blobs")
        .join(manifest["sha256"].as_str().unwrap());
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&blob, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let output = home.run(&["snapshots", "verify", manifest["id"].as_str().unwrap()]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("SHA-256"), "{}", stderr(&output));
    // And it cannot be restored.
    let fresh = create_database("fresh");
    let output = home.run_with_stdin(
        &["restore", manifest["id"].as_str().unwrap(), "--to", "-"],
        fresh.as_bytes(),
    );
    assert!(!output.status.success());
    assert!(stderr(&output).contains("SHA-256"), "{}", stderr(&output));
    assert_eq!(
        psql(
            &fresh,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ),
        "0"
    );
}

/// Wrappers for pg_dump, pg_restore and psql, first in PATH, that log their argv and whether
/// PGPASSWORD was set, then run the real tool.
fn logging_tools(dir: &Path) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["pg_dump", "pg_restore", "psql"] {
        let real = String::from_utf8(
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        let script = format!(
            "#!/bin/sh\nprintf '%s\\n' \"{tool} $*\" >> '{log}'\n[ -n \"$PGPASSWORD\" ] && echo '{tool} PGPASSWORD set' >> '{log}'\nexec {real} \"$@\"\n",
            log = dir.join("argv.log").display(),
            real = real.trim()
        );
        let path = bin.join(tool);
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap())
}

#[test]
fn the_password_travels_in_the_environment_never_on_a_command_line() {
    let production = create_database("prod");
    psql(
        &production,
        "CREATE TABLE bookings (id int PRIMARY KEY, plate text); INSERT INTO bookings VALUES (1, 'A');",
    );
    let home = home_protecting(&production);
    let tools = home.scratch().join("tools");
    let path = logging_tools(&tools);

    let output = home
        .command(&["snapshots", "take", "--resource", "vol-prod", "--json"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let manifest: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let fresh = create_database("fresh");
    let output = home
        .command(&["restore", manifest["id"].as_str().unwrap(), "--to", "-"])
        .env("PATH", &path)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(fresh.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(rows(&fresh), rows(&production));

    let log = std::fs::read_to_string(tools.join("argv.log")).unwrap();
    for tool in ["pg_dump --format=custom", "pg_restore --no-owner", "psql "] {
        assert!(log.contains(tool), "{tool} was not run:\n{log}");
    }
    for tool in ["pg_dump", "pg_restore", "psql"] {
        assert!(
            log.contains(&format!("{tool} PGPASSWORD set")),
            "{tool} got no password:\n{log}"
        );
    }
    assert!(
        !log.contains(&password()),
        "a password reached a command line:\n{log}"
    );
}

/// `postgres://user:pw@host/db` rewritten as `postgres://user@host/db?{parameter}=pw`.
fn with_password_in_query(dsn: &str, parameter: &str) -> String {
    let (scheme, rest) = dsn.split_once("://").unwrap();
    let (userinfo, hostpath) = rest.split_once('@').unwrap();
    let (user, pw) = userinfo.split_once(':').unwrap();
    format!("{scheme}://{user}@{hostpath}?sslmode=disable&{parameter}={pw}")
}

#[test]
fn a_password_in_the_url_query_stays_off_the_command_line() {
    let production = create_database("prod");
    psql(
        &production,
        "CREATE TABLE bookings (id int PRIMARY KEY, plate text); INSERT INTO bookings VALUES (1, 'A');",
    );
    let home = home_protecting(&with_password_in_query(&production, "password"));
    let tools = home.scratch().join("tools");
    let path = logging_tools(&tools);
    let output = home
        .command(&["snapshots", "take", "--resource", "vol-prod", "--json"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let log = std::fs::read_to_string(tools.join("argv.log")).unwrap();
    assert!(log.contains("pg_dump --format=custom"), "{log}");
    assert!(log.contains("pg_dump PGPASSWORD set"), "{log}");
    assert!(
        !log.contains(&password()),
        "a password reached a command line:\n{log}"
    );
    assert!(!log.contains("password="), "{log}");

    // `--to` with the password in the query is refused like one in `user:pw@`.
    let manifest: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let fresh = with_password_in_query(&create_database("fresh"), "password");
    let output = home.run(&["restore", manifest["id"].as_str().unwrap(), "--to", &fresh]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--to -"), "{}", stderr(&output));

    // `sslpassword` has no environment variable: refused with a clear error, never echoed.
    let home = home_protecting(&with_password_in_query(&production, "sslpassword"));
    let output = home
        .command(&["snapshots", "take", "--resource", "vol-prod", "--json"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("sslpassword"),
        "{}",
        stderr(&output)
    );
    assert!(
        !stderr(&output).contains(&password()),
        "{}",
        stderr(&output)
    );
    let log = std::fs::read_to_string(tools.join("argv.log")).unwrap();
    assert!(!log.contains(&password()), "{log}");
}
