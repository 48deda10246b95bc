//! The directory store with real PostgreSQL: take, verify, tamper, fail, restore.

use std::os::unix::fs::PermissionsExt as _;

use blastdoor_core::{Secret, SnapshotId};
use blastdoor_snapshot::{
    DirectoryStore, PgTarget, Progress, RestoreMode, SnapshotError, Snapshotter, now_unix,
};

use crate::support::*;

fn store_of(dir: &std::path::Path) -> DirectoryStore {
    DirectoryStore::open(&dir.join("store")).unwrap()
}

fn target(dsn: &str) -> PgTarget {
    PgTarget::parse(&Secret::new(dsn.to_owned()), "--to").unwrap()
}

#[tokio::test]
async fn pg_dump_round_trip_restores_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let source = create_database("src");
    fill_sample(&source);
    let config = config(dir.path(), PROTECT_PG);
    let snapshotter = directory_snapshotter(dir.path());

    let manifest = snapshotter
        .take(
            &config.protect[0],
            &secrets(source.clone()),
            now_unix(),
            Progress::Quiet,
        )
        .await
        .unwrap();
    assert!(manifest.isolated);
    assert_eq!(manifest.method, "pg_dump");
    assert!(manifest.size > 0);
    let listing = manifest.restore_list.clone().unwrap();
    assert_eq!(listing.tables, 2);
    assert_eq!(listing.table_data, 2);
    assert!(
        manifest
            .tool_versions
            .iter()
            .any(|version| version.starts_with("pg_dump"))
    );

    // Stored read-only, content-addressed.
    let store = store_of(dir.path());
    let blob = store.blob_path(&manifest.sha256);
    assert_eq!(
        std::fs::metadata(&blob).unwrap().permissions().mode() & 0o777,
        0o444
    );
    let manifest_file = store.manifest_path(&manifest.id);
    assert_eq!(
        std::fs::metadata(&manifest_file)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o444
    );
    use sha2::Digest as _;
    assert_eq!(
        hex::encode(sha2::Sha256::digest(std::fs::read(&blob).unwrap())),
        manifest.sha256
    );

    assert_eq!(
        snapshotter
            .verify(&manifest.id, Progress::Quiet)
            .await
            .unwrap(),
        manifest
    );
    let listed = snapshotter.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].manifest.as_ref().unwrap(), &manifest);

    // The production database is lost; the snapshot brings it back.
    let expected = sample_fingerprint(&source);
    let fresh = create_database("restored");
    let report = snapshotter
        .restore(
            &manifest.id,
            &target(&fresh),
            RestoreMode::RefuseNonEmpty,
            Progress::Quiet,
        )
        .await
        .unwrap();
    assert_eq!(report.bytes, manifest.size);
    assert!(!report.target.contains(&pg_password()));
    assert_eq!(sample_fingerprint(&fresh), expected);
    assert!(expected.starts_with("2000 5000 "));

    // The password reached neither the manifest nor the report.
    let stored = std::fs::read_to_string(&manifest_file).unwrap();
    assert!(!stored.contains(&pg_password()));
    assert!(!format!("{report:?}").contains(&pg_password()));
}

#[tokio::test]
async fn tampering_with_a_blob_or_manifest_fails_verification() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        &protect_command(r#"["sh", "-c", "seq 1 5000"]"#),
    );
    let snapshotter = directory_snapshotter(dir.path());
    let secrets = secrets(String::new());
    let store = store_of(dir.path());

    // A flipped byte in the blob.
    let manifest = snapshotter
        .take(&config.protect[0], &secrets, now_unix(), Progress::Quiet)
        .await
        .unwrap();
    assert_eq!(
        manifest.size,
        std::fs::metadata(store.blob_path(&manifest.sha256))
            .unwrap()
            .len()
    );
    let blob = store.blob_path(&manifest.sha256);
    std::fs::set_permissions(&blob, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&blob, &bytes).unwrap();
    let error = snapshotter
        .verify(&manifest.id, Progress::Quiet)
        .await
        .unwrap_err();
    assert!(
        matches!(error, SnapshotError::Verification { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("SHA-256"), "{error}");

    // A truncated blob.
    std::fs::write(&blob, &bytes[..100]).unwrap();
    let error = snapshotter
        .verify(&manifest.id, Progress::Quiet)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("bytes"), "{error}");

    // A deleted blob.
    std::fs::remove_file(&blob).unwrap();
    let error = snapshotter
        .verify(&manifest.id, Progress::Quiet)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("missing"), "{error}");

    // An edited manifest (claims another digest) fails on the signature.
    let second = snapshotter
        .take(&config.protect[0], &secrets, now_unix(), Progress::Quiet)
        .await
        .unwrap();
    assert_ne!(second.id, manifest.id);
    let path = store.manifest_path(&second.id);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(
        &path,
        text.replace("\"resource\":\"vol-cmd\"", "\"resource\":\"vol-other\""),
    )
    .unwrap();
    let error = snapshotter
        .verify(&second.id, Progress::Quiet)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("signature"), "{error}");
    // ...and the listing flags it instead of trusting it.
    let listed = snapshotter.list().await.unwrap();
    assert!(
        listed
            .iter()
            .any(|entry| entry.id == second.id && entry.manifest.is_err())
    );

    // A manifest signed by another key.
    let third = snapshotter
        .take(&config.protect[0], &secrets, now_unix(), Progress::Quiet)
        .await
        .unwrap();
    let other_keys = tempfile::tempdir().unwrap();
    let other = Snapshotter::new(
        blastdoor_snapshot::Store::Directory(store_of(dir.path())),
        blastdoor_snapshot::ManifestSigner::load_or_create(other_keys.path()).unwrap(),
    );
    assert!(other.verify(&third.id, Progress::Quiet).await.is_err());
    assert!(snapshotter.verify(&third.id, Progress::Quiet).await.is_ok());

    // An unknown id.
    let missing = SnapshotId::new("snap-00000000-000000-00000000").unwrap();
    assert!(matches!(
        snapshotter.verify(&missing, Progress::Quiet).await,
        Err(SnapshotError::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_failed_or_empty_snapshot_is_an_error_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let snapshotter = directory_snapshotter(dir.path());
    let secrets_for = |dsn: String| secrets(dsn);

    let failing = config(
        dir.path(),
        &protect_command(r#"["sh", "-c", "echo partial; echo boom >&2; exit 3"]"#),
    );
    let error = snapshotter
        .take(
            &failing.protect[0],
            &secrets_for(String::new()),
            now_unix(),
            Progress::Quiet,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, SnapshotError::ToolFailed { .. }), "{error}");
    assert!(error.to_string().contains("boom"), "{error}");

    let empty = config(dir.path(), &protect_command(r#"["true"]"#));
    let error = snapshotter
        .take(
            &empty.protect[0],
            &secrets_for(String::new()),
            now_unix(),
            Progress::Quiet,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, SnapshotError::Empty { .. }), "{error}");

    let missing_program = config(
        dir.path(),
        &protect_command(r#"["/nonexistent/dump-tool"]"#),
    );
    assert!(
        snapshotter
            .take(
                &missing_program.protect[0],
                &secrets_for(String::new()),
                now_unix(),
                Progress::Quiet
            )
            .await
            .is_err()
    );

    // A wrong password: pg_dump fails, and neither password appears in the error.
    let pg = config(dir.path(), PROTECT_PG);
    let wrong = pg_admin_dsn().replacen(&pg_password(), "not-the-password-xyz", 1);
    let error = snapshotter
        .take(
            &pg.protect[0],
            &secrets_for(wrong),
            now_unix(),
            Progress::Quiet,
        )
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, SnapshotError::ToolFailed { .. }),
        "{message}"
    );
    assert!(message.contains("pg_dump"), "{message}");
    assert!(!message.contains("not-the-password-xyz"), "{message}");
    assert!(!message.contains(&pg_password()), "{message}");

    // A database that does not exist.
    let error = snapshotter
        .take(
            &pg.protect[0],
            &secrets_for(dsn_for("no_such_database")),
            now_unix(),
            Progress::Quiet,
        )
        .await
        .unwrap_err();
    assert!(!error.to_string().contains(&pg_password()), "{error}");

    // A secret that is not there.
    let error = snapshotter
        .take(
            &pg.protect[0],
            &|_: &str| Err("no secret named `prod-db`".to_owned()),
            now_unix(),
            Progress::Quiet,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, SnapshotError::Secret { .. }), "{error}");

    // Nothing half-made was stored.
    assert!(snapshotter.list().await.unwrap().is_empty());
    let staging = std::fs::read_dir(dir.path().join("store/.staging"))
        .unwrap()
        .count();
    assert_eq!(staging, 0);
}

#[tokio::test]
async fn restore_refuses_a_non_empty_database_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let source = create_database("src");
    fill_sample(&source);
    let config = config(dir.path(), PROTECT_PG);
    let snapshotter = directory_snapshotter(dir.path());
    let manifest = snapshotter
        .take(
            &config.protect[0],
            &secrets(source.clone()),
            now_unix(),
            Progress::Quiet,
        )
        .await
        .unwrap();
    let expected = sample_fingerprint(&source);

    // A table in a non-public schema is enough to count as non-empty.
    let occupied = create_database("occupied");
    psql(
        &occupied,
        "CREATE SCHEMA app; CREATE TABLE app.keep (x int); INSERT INTO app.keep VALUES (1);",
    );
    let error = snapshotter
        .restore(
            &manifest.id,
            &target(&occupied),
            RestoreMode::RefuseNonEmpty,
            Progress::Quiet,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, SnapshotError::TargetNotEmpty { tables: 1, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("--force"), "{error}");
    assert!(!error.to_string().contains(&pg_password()), "{error}");
    assert_eq!(psql(&occupied, "SELECT count(*) FROM app.keep"), "1");

    // Forced: the dump's objects are restored beside what was there.
    snapshotter
        .restore(
            &manifest.id,
            &target(&occupied),
            RestoreMode::DangerouslyOverwrite,
            Progress::Quiet,
        )
        .await
        .unwrap();
    assert_eq!(sample_fingerprint(&occupied), expected);

    // Forced over a database that already holds the same tables with other rows.
    psql(
        &occupied,
        "DELETE FROM billing.invoices WHERE id > 10; UPDATE accounts SET balance = 0;",
    );
    snapshotter
        .restore(
            &manifest.id,
            &target(&occupied),
            RestoreMode::DangerouslyOverwrite,
            Progress::Quiet,
        )
        .await
        .unwrap();
    assert_eq!(sample_fingerprint(&occupied), expected);
}

#[tokio::test]
async fn upstream_backups_are_recorded_as_not_isolated() {
    let dir = tempfile::tempdir().unwrap();
    let snapshotter = directory_snapshotter(dir.path());
    let railway = config(
        dir.path(),
        "[[protect]]\nupstream = \"railway\"\nresource = \"vol-1\"\nmethod = \"railway_backup\"\n",
    );
    let error = snapshotter
        .take(
            &railway.protect[0],
            &secrets(String::new()),
            now_unix(),
            Progress::Quiet,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, SnapshotError::UnsupportedMethod { .. }),
        "{error}"
    );

    let manifest = snapshotter
        .record_upstream_backup(
            "railway",
            "vol-1",
            "volumeInstanceBackupCreate -> backup bk-42",
            now_unix(),
        )
        .await
        .unwrap();
    assert!(!manifest.isolated);
    assert!(manifest.summary().contains("NOT isolated"));
    assert_eq!(
        snapshotter
            .verify(&manifest.id, Progress::Quiet)
            .await
            .unwrap(),
        manifest
    );
    // Nothing to restore from a record.
    let fresh = create_database("fresh");
    let error = snapshotter
        .restore(
            &manifest.id,
            &target(&fresh),
            RestoreMode::RefuseNonEmpty,
            Progress::Quiet,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, SnapshotError::NotRestorable { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn before_destroy_snapshots_protected_resources_only() {
    let dir = tempfile::tempdir().unwrap();
    let source = create_database("src");
    fill_sample(&source);
    let config = config(
        dir.path(),
        &format!(
            "{PROTECT_PG}\n[[protect]]\nupstream = \"railway\"\nresource = \"vol-upstream\"\nmethod = \"railway_backup\"\n"
        ),
    );
    let snapshotter = directory_snapshotter(dir.path());
    let secrets = secrets(source.clone());

    let protection = snapshotter
        .before_destroy(&config, "railway", "vol-prod", &secrets, now_unix())
        .await
        .unwrap();
    let blastdoor_snapshot::Protection::Snapshotted(manifest) = protection else {
        panic!("expected a snapshot, got {protection:?}")
    };
    let reason = manifest.ledger_reason().unwrap();
    assert_eq!(reason.rule_id.as_str(), "snapshot.verified");
    assert!(reason.explanation.contains(&manifest.id.to_string()));
    assert!(
        reason
            .explanation
            .contains(&format!("sha256:{}", manifest.sha256))
    );

    assert!(matches!(
        snapshotter
            .before_destroy(&config, "railway", "vol-other", &secrets, now_unix())
            .await,
        Ok(blastdoor_snapshot::Protection::NotProtected)
    ));
    assert!(matches!(
        snapshotter
            .before_destroy(&config, "railway", "vol-upstream", &secrets, now_unix())
            .await,
        Ok(blastdoor_snapshot::Protection::UpstreamBackupRequired)
    ));

    // When the snapshot cannot be taken, the answer is an error: the destroy must not run.
    let wrong = secrets_with_wrong_password();
    assert!(
        snapshotter
            .before_destroy(&config, "railway", "vol-prod", &wrong, now_unix())
            .await
            .is_err()
    );
}

fn secrets_with_wrong_password() -> impl Fn(&str) -> Result<Secret<String>, String> {
    secrets(pg_admin_dsn().replacen(&pg_password(), "wrong", 1))
}
