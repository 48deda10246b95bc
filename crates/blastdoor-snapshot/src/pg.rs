//! PostgreSQL plumbing: splitting a DSN into the password-free part that may go on a command
//! line and the password that goes only into `PGPASSWORD`, and running `pg_dump`, `pg_restore`
//! and `psql` with it. A password never reaches argv, an error or a log.

use std::process::Stdio;

use blastdoor_core::{Secret, redact_known_secrets};
use tokio::process::Command;

use crate::SnapshotError;

/// A `postgres://` DSN split so that the password is never on a command line.
#[derive(Clone)]
pub struct PgTarget {
    /// The DSN without the password: safe for argv (`--dbname`), not for logs (it may carry
    /// other parameters); print [`PgTarget::display_name`] instead.
    without_password: String,
    password: Option<Secret<String>>,
    host: String,
    database: String,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display_name())
    }
}

impl PgTarget {
    /// Parses a `postgres://` or `postgresql://` URL. `label` names it in errors (a secret name
    /// or `--to`), never the value.
    pub fn parse(dsn: &Secret<String>, label: &str) -> Result<PgTarget, SnapshotError> {
        let bad = |why: &str| SnapshotError::BadDsn {
            name: label.to_owned(),
            why: why.to_owned(),
        };
        let text = dsn.expose_secret().trim();
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| bad("expected a postgres:// URL"))?;
        if scheme != "postgres" && scheme != "postgresql" {
            return Err(bad("expected a postgres:// URL"));
        }
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(authority_end);
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            Some(userinfo) => match userinfo.split_once(':') {
                Some((user, password)) => (Some(user), Some(percent_decode(password))),
                None => (Some(userinfo), None),
            },
            None => (None, None),
        };
        if hostport.is_empty() {
            return Err(bad("the URL names no host"));
        }
        let database = path_and_query
            .strip_prefix('/')
            .map(|path| path.split('?').next().unwrap_or_default())
            .filter(|path| !path.is_empty())
            .map(percent_decode)
            .unwrap_or_else(|| {
                user.map(percent_decode)
                    .unwrap_or_else(|| "postgres".to_owned())
            });
        // libpq also reads `?password=` (and `?sslpassword=`): a password there would reach
        // argv through `--dbname`. `password` moves to `PGPASSWORD`; other secret-bearing
        // parameters have no environment variable, so they are refused.
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path_and_query, None),
        };
        let mut password = password;
        let mut kept_parameters: Vec<&str> = Vec::new();
        for parameter in query.unwrap_or_default().split('&') {
            let (key, value) = parameter.split_once('=').unwrap_or((parameter, ""));
            let key = percent_decode(key).to_ascii_lowercase();
            if key == "password" {
                if password.is_some() {
                    return Err(bad(
                        "the URL gives the password twice; give it once, in `user:password@`",
                    ));
                }
                password = Some(percent_decode(value));
            } else if key.contains("password") {
                return Err(bad(
                    "the URL carries a secret parameter (such as `sslpassword`) that would be visible on the command line; remove it",
                ));
            } else if !parameter.is_empty() {
                kept_parameters.push(parameter);
            }
        }
        let query = if kept_parameters.is_empty() {
            String::new()
        } else {
            format!("?{}", kept_parameters.join("&"))
        };
        let without_password = match user {
            Some(user) => format!("{scheme}://{user}@{hostport}{path}{query}"),
            None => format!("{scheme}://{hostport}{path}{query}"),
        };
        Ok(PgTarget {
            without_password,
            password: password.map(Secret::new),
            host: hostport.to_owned(),
            database,
        })
    }

    /// True when the URL carried a password (in `user:password@` or `?password=`): a caller
    /// that got the URL from argv refuses it, since argv is visible to every local user.
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// `host:port/database`: what may be printed.
    pub fn display_name(&self) -> String {
        format!("{}/{}", self.host, self.database)
    }

    /// A tool invocation with the connection in place: `--dbname` carries the DSN without its
    /// password, `PGPASSWORD` the password.
    pub(crate) fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.env_remove("PGPASSWORD").env_remove("PGPASSFILE");
        if let Some(password) = &self.password {
            command.env("PGPASSWORD", password.expose_secret());
        }
        command.kill_on_drop(true);
        command
    }

    pub(crate) fn dsn_without_password(&self) -> &str {
        &self.without_password
    }

    /// Removes this target's password and anything credential-shaped from tool output.
    pub(crate) fn scrub(&self, text: &str) -> String {
        scrub(text, self.password.as_ref())
    }

    /// How many user tables (in any schema but the system ones) the database holds.
    pub async fn user_table_count(&self) -> Result<u64, SnapshotError> {
        let query = "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p','m','v','S','f') AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'";
        let output = self
            .command("psql")
            .args([
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                query,
                "--dbname",
            ])
            .arg(self.dsn_without_password())
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|source| SnapshotError::Spawn {
                program: "psql".into(),
                source,
            })?;
        if !output.status.success() {
            return Err(SnapshotError::ToolFailed {
                program: "psql".into(),
                status: output.status.to_string(),
                stderr: self.scrub(String::from_utf8_lossy(&output.stderr).trim()),
            });
        }
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .map_err(|_| SnapshotError::ToolFailed {
                program: "psql".into(),
                status: "unexpected output".into(),
                stderr: String::new(),
            })
    }
}

/// Removes `password` (if any) and anything [`redact_known_secrets`] recognises from `text`.
pub(crate) fn scrub(text: &str, password: Option<&Secret<String>>) -> String {
    let mut text = text.to_owned();
    if let Some(password) = password {
        let password = password.expose_secret();
        if !password.is_empty() {
            text = text.replace(password.as_str(), blastdoor_core::REDACTED);
        }
    }
    redact_known_secrets(&text)
}

/// The first line of `program --version`, or `program (version unknown)`.
pub(crate) async fn tool_version(program: &str) -> String {
    let output = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .await;
    match output {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .unwrap_or(program)
            .trim()
            .to_owned(),
        _ => format!("{program} (version unknown)"),
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let hex = bytes
                .get(index + 1..index + 3)
                .and_then(|pair| std::str::from_utf8(pair).ok());
            if let Some(value) = hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                out.push(value);
                index += 3;
                continue;
            }
        }
        out.push(byte);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_dsn_and_is_decoded() {
        let dsn =
            Secret::new("postgres://app:p%40ss@db.internal:5432/shop?sslmode=disable".to_owned());
        let target = PgTarget::parse(&dsn, "prod-db").unwrap();
        assert_eq!(
            target.dsn_without_password(),
            "postgres://app@db.internal:5432/shop?sslmode=disable"
        );
        assert_eq!(target.password.as_ref().unwrap().expose_secret(), "p@ss");
        assert_eq!(target.display_name(), "db.internal:5432/shop");
        assert!(!format!("{target:?}").contains("p@ss"));
        assert!(
            !target
                .scrub("FATAL: password p@ss rejected")
                .contains("p@ss")
        );
    }

    #[test]
    fn non_urls_are_refused_without_echoing_them() {
        let dsn = Secret::new("host=x password=hunter2".to_owned());
        let error = PgTarget::parse(&dsn, "prod-db").unwrap_err().to_string();
        assert!(error.contains("prod-db"));
        assert!(!error.contains("hunter2"));
    }

    #[test]
    fn a_password_in_the_query_moves_to_pgpassword() {
        for (dsn, without) in [
            (
                "postgres://app@db/prod?password=s3cret",
                "postgres://app@db/prod",
            ),
            (
                "postgres://app@db/prod?sslmode=require&password=s3cret&connect_timeout=5",
                "postgres://app@db/prod?sslmode=require&connect_timeout=5",
            ),
            (
                "postgresql://app@db/prod?pass%77ord=s3cret",
                "postgresql://app@db/prod",
            ),
        ] {
            let target = PgTarget::parse(&Secret::new(dsn.to_owned()), "prod-db").unwrap();
            assert_eq!(target.dsn_without_password(), without, "{dsn}");
            assert_eq!(target.password.as_ref().unwrap().expose_secret(), "s3cret");
            assert!(!format!("{target:?}").contains("s3cret"));
        }
    }

    #[test]
    fn secret_parameters_other_than_password_are_refused() {
        for dsn in [
            "postgres://app@db/prod?sslpassword=s3cret",
            "postgres://app@db/prod?sslmode=require&SSLPASSWORD=s3cret",
            "postgres://app:one@db/prod?password=s3cret",
            "postgres://app@db/prod?password=s3cret&password=other",
        ] {
            let error = PgTarget::parse(&Secret::new(dsn.to_owned()), "prod-db")
                .unwrap_err()
                .to_string();
            assert!(error.contains("prod-db"), "{error}");
            assert!(!error.contains("s3cret"), "{error}");
        }
    }
}
