//! [`plain_summary`]: one line a person woken at 3 a.m. understands, such as
//! "DELETE volume pg-data in production and staging — irreversible".

use blastdoor_core::{Environment, Risk, Target, redact_known_secrets};

/// Describes what an operation of `risk` on `targets` would do. Without targets it falls back
/// to the classifier's `description` (redacted, cut to 160 characters).
pub fn plain_summary(risk: Risk, targets: &[Target], description: &str) -> String {
    let verb = match risk {
        Risk::Read => "READ",
        Risk::ReadSecrets => "READ SECRETS OF",
        Risk::Write => "CHANGE",
        Risk::Execute => "RUN CODE ON",
        Risk::Escalate => "WIDEN ACCESS TO",
        Risk::Destroy => "DELETE",
        Risk::Unknown => "UNRECOGNISED OPERATION ON",
    };
    let consequence = match risk {
        Risk::Read => "no change",
        Risk::ReadSecrets => "reveals credentials or decrypted variables",
        Risk::Write => "a change that can be undone",
        Risk::Execute => "runs arbitrary code",
        Risk::Escalate => "widens privileges",
        Risk::Destroy => "irreversible",
        Risk::Unknown => "blastdoor could not tell what it does; treat it as irreversible",
    };
    if targets.is_empty() {
        let description: String = redact_known_secrets(description)
            .chars()
            .take(160)
            .collect();
        return format!(
            "{verb}: {description} (environment unknown, may be production) — {consequence}"
        );
    }
    let objects: Vec<String> = targets
        .iter()
        .map(|target| {
            format!(
                "{} {} in {}",
                target.kind,
                redact_known_secrets(&target.id),
                environments_in_words(&target.environments)
            )
        })
        .collect();
    format!("{verb} {} — {consequence}", join_words(&objects))
}

/// "production and staging", "an unresolved environment (may be production)".
fn environments_in_words(environments: &[Environment]) -> String {
    if environments.is_empty() {
        return "an unresolved environment (may be production)".to_owned();
    }
    let mut names: Vec<String> = Vec::new();
    // Production first: it is what the reader must see.
    let mut sorted: Vec<&Environment> = environments.iter().collect();
    sorted.sort_by_key(|environment| {
        (
            !environment.is_production(),
            environment.as_str().to_owned(),
        )
    });
    sorted.dedup();
    for environment in sorted {
        names.push(match environment {
            Environment::Unknown => "an unresolved environment (may be production)".to_owned(),
            Environment::Named(name) => name.as_str().to_owned(),
        });
    }
    join_words(&names)
}

fn join_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_what_and_where_in_plain_words() {
        let staging = Environment::parse("staging").unwrap();
        let volume = Target::new(
            "volume",
            "pg-data",
            vec![staging.clone(), Environment::production()],
        );
        assert_eq!(
            plain_summary(Risk::Destroy, &[volume], "volumeDelete"),
            "DELETE volume pg-data in production and staging — irreversible"
        );
        let unknown = Target::new("service", "api", vec![]);
        assert_eq!(
            plain_summary(Risk::Write, &[unknown], ""),
            "CHANGE service api in an unresolved environment (may be production) — a change that can be undone"
        );
        let summary = plain_summary(Risk::Unknown, &[], "mutation fooBar with token=abcdef123");
        assert!(summary.starts_with("UNRECOGNISED OPERATION ON: mutation fooBar"));
        assert!(!summary.contains("abcdef123"));
    }
}
