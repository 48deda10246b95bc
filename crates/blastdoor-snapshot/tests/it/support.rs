//! Helpers: the test services from the environment, throwaway databases, configs and secrets.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use blastdoor_config::Config;
use blastdoor_core::Secret;
use blastdoor_snapshot::{DirectoryStore, ManifestSigner, Snapshotter, Store};

/// The superuser DSN of the test PostgreSQL server.
pub fn pg_admin_dsn() -> String {
    std::env::var("BLASTDOOR_TEST_PG").unwrap_or_else(|_| {
        panic!("BLASTDOOR_TEST_PG is not set: run scripts/test (it sources scripts/test-services and starts PostgreSQL)")
    })
}

/// The endpoint of the test S3 server.
pub fn s3_endpoint() -> String {
    std::env::var("BLASTDOOR_TEST_S3_ENDPOINT").unwrap_or_else(|_| {
        panic!("BLASTDOOR_TEST_S3_ENDPOINT is not set: run scripts/test (it sources scripts/test-services and starts moto)")
    })
}

/// The password in the admin DSN (to check it leaks nowhere).
pub fn pg_password() -> String {
    let dsn = pg_admin_dsn();
    let userinfo = dsn.split("://").nth(1).unwrap().split('@').next().unwrap();
    userinfo.split(':').nth(1).unwrap().to_owned()
}

/// A unique lowercase name with `prefix`.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let count = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}{}x{count}x{nanos}", std::process::id())
}

/// Creates an empty database; its DSN.
pub fn create_database(prefix: &str) -> String {
    let name = unique(prefix);
    psql(&pg_admin_dsn(), &format!("CREATE DATABASE {name}"));
    dsn_for(&name)
}

/// The admin DSN pointed at database `name`.
pub fn dsn_for(name: &str) -> String {
    let admin = pg_admin_dsn();
    let base = admin.rsplit_once('/').unwrap().0;
    format!("{base}/{name}")
}

/// Runs `sql` with psql; its unaligned, tuples-only output.
pub fn psql(dsn: &str, sql: &str) -> String {
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
        "psql failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Fills a database with two tables in two schemas.
pub fn fill_sample(dsn: &str) {
    psql(
        dsn,
        "CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, balance numeric NOT NULL);
         INSERT INTO accounts SELECT i, 'customer ' || i, i * 1.5 FROM generate_series(1, 2000) i;
         CREATE SCHEMA billing;
         CREATE TABLE billing.invoices (id bigserial PRIMARY KEY, account int REFERENCES accounts, total numeric);
         INSERT INTO billing.invoices (account, total) SELECT 1 + i % 2000, i FROM generate_series(1, 5000) i;",
    );
}

/// A fingerprint of the sample data: row counts and a digest of every row.
pub fn sample_fingerprint(dsn: &str) -> String {
    psql(
        dsn,
        "SELECT (SELECT count(*) FROM accounts) || ' ' || (SELECT count(*) FROM billing.invoices) || ' ' ||
                (SELECT md5(string_agg(id || ':' || name || ':' || balance, ',' ORDER BY id)) FROM accounts) || ' ' ||
                (SELECT md5(string_agg(id || ':' || account || ':' || total, ',' ORDER BY id)) FROM billing.invoices)",
    )
}

/// A validated config from `body` (with a railway upstream declared), as if read from `dir`.
pub fn config(dir: &Path, body: &str) -> Config {
    let text = format!(
        "[[upstream]]\nname = \"railway\"\nkind = \"railway\"\nurl = \"http://127.0.0.1:9\"\n\n{body}"
    );
    blastdoor_config::parse(&text, &dir.join("blastdoor.toml")).unwrap()
}

/// The `[[protect]]` entry for a pg_dump of secret `prod-db`.
pub const PROTECT_PG: &str = "[[protect]]\nupstream = \"railway\"\nresource = \"vol-prod\"\nmethod = \"pg_dump\"\ndsn = \"prod-db\"\n";

/// A `[[protect]]` entry running `argv` (TOML array text).
pub fn protect_command(argv: &str) -> String {
    format!(
        "[[protect]]\nupstream = \"railway\"\nresource = \"vol-cmd\"\nmethod = \"command\"\nargv = {argv}\n"
    )
}

/// A secret source holding `prod-db` = `dsn` and `s3-creds` = `test:test`.
pub fn secrets(dsn: String) -> impl Fn(&str) -> Result<Secret<String>, String> {
    move |name: &str| match name {
        "prod-db" => Ok(Secret::new(dsn.clone())),
        "s3-creds" => Ok(Secret::new("test:test".to_owned())),
        _ => Err(format!("no secret named `{name}`")),
    }
}

/// A snapshotter over a directory store in `dir/store`, signing with a key in `dir/keys`.
pub fn directory_snapshotter(dir: &Path) -> Snapshotter {
    let store = DirectoryStore::open(&dir.join("store")).unwrap();
    let signer = ManifestSigner::load_or_create(&dir.join("keys")).unwrap();
    Snapshotter::new(Store::Directory(store), signer)
}
