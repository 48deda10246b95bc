//! `cred.hunting`: searching for credentials.
//!
//! Flags recursive searches for secrets (`grep -r TOKEN .`, `rg -i 'api_key|secret'`, patterns
//! like `sk_live`, `ghp_`, `AKIA`, `PRIVATE KEY`), finding key files (`find / -name '*.pem'`,
//! `-name '.env*'`, `id_rsa`), dumping the environment into a filter (`env | grep KEY`,
//! `printenv | grep -i token`), printing secret-named variables (`echo $RAILWAY_TOKEN`,
//! `printenv AWS_SECRET_ACCESS_KEY`), and CLIs that print tokens or secrets (`gh auth token`,
//! `aws configure get aws_secret_access_key`, `gcloud auth print-access-token`, `railway
//! variables`, `kubectl get secret -o yaml`, `vault kv get`). Denied: this is how the agent in
//! the incident found a broadly scoped token in an unrelated file. Held instead (a human may
//! approve honest work): bare `env`/`printenv`, and searches confined to named subdirectories
//! of the workspace (`grep -rn token src/auth/`). Example: `grep -rn
//! "RAILWAY_TOKEN\|API_KEY" ~`. Safer: ask the user; use blastdoor capability tokens.

use blastdoor_core::Risk;

use super::{Action, Finding, Rule, local_target};
use crate::analysis::Walker;
use crate::command::{Invocation, lower_words, option_text};
use crate::words::Arg;

pub(crate) static RULE: Rule = Rule {
    id: "cred.hunting",
    summary: "searches for or prints credentials: recursive greps for tokens and keys, key-file searches, environment dumps, CLIs that print tokens",
    alternative: "ask the user for what the task needs; reach APIs through blastdoor capability tokens instead of finding raw credentials",
};

const SECRET_WORDS: &[&str] = &[
    "token",
    "secret",
    "passw",
    "api_key",
    "apikey",
    "api-key",
    "access_key",
    "accesskey",
    "private_key",
    "privatekey",
    "credential",
    "bearer",
    "auth_token",
    "client_secret",
];
const SECRET_EXACT: &[&str] = &["key", "keys", "pass", "pwd", "auth", "dsn", "database_url"];
const SECRET_FORMATS: &[&str] = &[
    "sk_live",
    "sk-",
    "ghp_",
    "gho_",
    "github_pat",
    "akia",
    "xoxb",
    "xoxp",
    "rw_live",
    "private key",
    "begin rsa",
    "begin openssh",
    "-----begin",
];
const KEY_FILE_PATTERNS: &[&str] = &[
    ".pem",
    ".key",
    "id_rsa",
    "id_ed25519",
    "id_ecdsa",
    "id_dsa",
    ".env",
    "credential",
    "secret",
    "token",
    ".p12",
    ".pfx",
    "kubeconfig",
    ".netrc",
    ".pgpass",
    "config.json",
    ".aws",
    ".railway",
    ".ssh",
];

/// True when a variable or search term names a secret (`RAILWAY_TOKEN`, `api_key`, `KEY`).
pub(crate) fn is_secret_name(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    if SECRET_WORDS.iter().any(|word| lower.contains(word))
        || SECRET_FORMATS.iter().any(|format| lower.contains(format))
    {
        return true;
    }
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| SECRET_EXACT.contains(&word))
        || lower.ends_with("_key")
        || lower.contains("_key_")
}

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let program = invocation.program();
    let operands = invocation.operands();
    let explanation = match program {
        "env" | "printenv" | "export" | "set" | "declare" | "typeset" | "compgen" => {
            environment_dump(invocation)
        }
        "echo" | "printf" => {
            let secret = operands
                .iter()
                .flat_map(|arg| arg.variables.iter())
                .find(|name| is_secret_name(name));
            match secret {
                Some(name)
                    if invocation.piped_to.is_none()
                        || invocation.piped_to.as_deref().is_some_and(is_filter) =>
                {
                    Some((
                        Action::Deny,
                        format!("prints the secret variable `${name}`"),
                    ))
                }
                _ => None,
            }
        }
        "grep" | "egrep" | "fgrep" | "rg" | "ag" | "ack" | "git" => secret_search(invocation),
        "find" | "fd" | "locate" | "mlocate" | "plocate" => {
            key_file_search(invocation).map(|explanation| (Action::Deny, explanation))
        }
        _ => token_printing_cli(invocation).map(|explanation| (Action::Deny, explanation)),
    };
    if let Some((action, explanation)) = explanation {
        let finding = Finding {
            rule: &RULE,
            action,
            risk: Risk::Escalate,
            explanation: format!("`{program}` {explanation}"),
            targets: vec![local_target("credentials", program)],
        };
        walker.report(finding);
    }
}

fn is_filter(program: &str) -> bool {
    matches!(
        program,
        "grep"
            | "egrep"
            | "fgrep"
            | "rg"
            | "ag"
            | "awk"
            | "sed"
            | "cat"
            | "tee"
            | "less"
            | "more"
            | "head"
            | "tail"
            | "sort"
            | "base64"
            | "xxd"
            | "cut"
            | "tr"
            | "jq"
            | "nc"
            | "curl"
    )
}

fn environment_dump(invocation: &Invocation) -> Option<(Action, String)> {
    let program = invocation.program();
    let operands = invocation.operands();
    let names: Vec<&Arg> = operands
        .iter()
        .filter(|arg| !arg.text.starts_with('-'))
        .collect();
    match program {
        "printenv" | "env" if names.is_empty() => {}
        "printenv" => {
            return names
                .iter()
                .find(|arg| is_secret_name(&arg.text))
                .map(|arg| {
                    (
                        Action::Deny,
                        format!("prints the secret variable `{}`", arg.text),
                    )
                });
        }
        "export" | "declare" | "typeset"
            if operands
                .iter()
                .all(|arg| arg.text == "-p" || arg.text == "-x") => {}
        "set" if operands.is_empty() => {}
        "compgen"
            if operands
                .iter()
                .any(|arg| arg.text == "-v" || arg.text == "-e") => {}
        _ => return None,
    }
    match invocation.piped_to.as_deref() {
        Some(next) if is_filter(next) => Some((
            Action::Deny,
            format!("pipes every environment variable, secrets included, into `{next}`"),
        )),
        _ if invocation.stdout_captured && !invocation.writes.is_empty() => Some((
            Action::Deny,
            "writes every environment variable, secrets included, into a file".to_owned(),
        )),
        // A bare dump may be an honest look at the configuration: a human decides.
        _ => Some((
            Action::Hold,
            "prints every environment variable, tokens and passwords included".to_owned(),
        )),
    }
}

fn secret_search(invocation: &Invocation) -> Option<(Action, String)> {
    let program = invocation.program();
    let operands = invocation.operands();
    let (args, recursive) = if program == "git" {
        let (subcommand, args) = super::git_force_push::git_subcommand(invocation)?;
        if subcommand != "grep" {
            return None;
        }
        (args, true)
    } else {
        let recursive = matches!(program, "rg" | "ag" | "ack")
            || invocation.has_flag(&['r', 'R'], &["--recursive", "--dereference-recursive"]);
        (operands.to_vec(), recursive)
    };
    let mut patterns: Vec<String> = Vec::new();
    let mut iter = args.iter();
    let mut positional = Vec::new();
    while let Some(arg) = iter.next() {
        match arg.text.as_str() {
            "-e" | "--regexp" => patterns.extend(iter.next().map(|value| value.text.clone())),
            "-f" | "--file" | "-g" | "--glob" | "-t" | "--type" | "-m" | "--max-count" | "-A"
            | "-B" | "-C" | "--include" | "--exclude" => {
                iter.next();
            }
            text if text.starts_with("--regexp=") => {
                patterns.push(text.trim_start_matches("--regexp=").to_owned())
            }
            text if text.starts_with('-') && text.len() > 1 => {}
            _ => positional.push(arg.text.clone()),
        }
    }
    if patterns.is_empty() && !positional.is_empty() {
        patterns.push(positional.remove(0));
    }
    let secret_pattern = patterns.iter().find(|pattern| is_secret_name(pattern))?;
    let formats = SECRET_FORMATS
        .iter()
        .any(|format| secret_pattern.to_ascii_lowercase().contains(format));
    let broad_paths = positional.iter().any(|path| {
        matches!(path.as_str(), "/" | "~" | ".." | "." | "./")
            || path.starts_with('/')
            || path.starts_with('~')
            || path.starts_with("..")
    });
    let searches_tree = recursive || positional.is_empty() && program != "grep";
    if !(searches_tree || formats || broad_paths) {
        return None;
    }
    let explanation = format!("searches files for secrets (`{secret_pattern}`)");
    // A search confined to named subdirectories of the workspace (`src/auth/`) may be honest
    // code work: held for a human. Whole trees, home, `/` and token formats are denied.
    let narrow = !positional.is_empty() && !broad_paths && !formats;
    Some((
        if narrow { Action::Hold } else { Action::Deny },
        explanation,
    ))
}

fn key_file_search(invocation: &Invocation) -> Option<String> {
    let program = invocation.program();
    let operands = invocation.operands();
    let patterns: Vec<String> = if program == "find" {
        let mut patterns = Vec::new();
        let mut iter = operands.iter();
        while let Some(arg) = iter.next() {
            if matches!(
                arg.text.as_str(),
                "-name" | "-iname" | "-path" | "-ipath" | "-regex" | "-iregex" | "-wholename"
            ) {
                patterns.extend(iter.next().map(|value| value.text.to_ascii_lowercase()));
            }
        }
        patterns
    } else {
        invocation
            .positionals(&["-e", "--extension", "-t", "--type", "-d", "--max-depth"])
            .iter()
            .map(|arg| arg.text.to_ascii_lowercase())
            .collect()
    };
    let found = patterns.iter().find(|pattern| {
        KEY_FILE_PATTERNS.iter().any(|key| pattern.contains(key))
            && !pattern.contains(".env.example")
            && !pattern.ends_with(".keys")
            && pattern.as_str() != "*.json"
    })?;
    let extension = option_text(operands, &["-e"], &["--extension"]).unwrap_or_default();
    let _ = extension;
    Some(format!("searches for credential files (`{found}`)"))
}

fn token_printing_cli(invocation: &Invocation) -> Option<String> {
    let program = invocation.program();
    let words = lower_words(&invocation.positionals(&[
        "-n",
        "--namespace",
        "--context",
        "--profile",
        "--region",
        "-o",
        "--output",
        "-a",
        "--app",
        "-e",
        "--environment",
        "-s",
        "--service",
    ]));
    let texts: Vec<&str> = words.iter().map(String::as_str).collect();
    let operands = invocation.operands();
    let output_format = option_text(operands, &["-o"], &["--output"])
        .unwrap_or_default()
        .to_ascii_lowercase();
    let hit = match (program, texts.as_slice()) {
        ("gh", ["auth", "token", ..]) => true,
        ("gh", ["auth", "status", ..]) => invocation.has_flag(&['t'], &["--show-token"]),
        ("aws", ["configure", "get", key, ..]) => is_secret_name(key),
        ("aws", ["configure", "export-credentials", ..]) => true,
        ("aws", ["secretsmanager", "get-secret-value", ..]) => true,
        (
            "aws",
            [
                "ssm",
                "get-parameter" | "get-parameters" | "get-parameters-by-path",
                ..,
            ],
        ) => invocation.has_flag(&[], &["--with-decryption"]),
        (
            "aws",
            [
                "sts",
                "get-session-token" | "assume-role" | "get-federation-token",
                ..,
            ],
        ) => true,
        ("aws", ["ecr", "get-login-password", ..]) => invocation.piped_to.is_none(),
        ("gcloud", ["auth", "print-access-token" | "print-identity-token", ..]) => true,
        ("gcloud", ["auth", "application-default", "print-access-token", ..]) => true,
        ("gcloud", ["secrets", "versions", "access", ..]) => true,
        ("az", ["account", "get-access-token", ..]) => true,
        ("az", ["keyvault", "secret", "show", ..]) => true,
        ("railway", ["variables", ..])
        | ("railway", ["vars", ..])
        | ("railway", ["variable", ..]) => {
            !invocation.has_flag(&['s'], &["--set", "--set-from-stdin"])
                && !texts.iter().any(|text| matches!(*text, "set" | "delete"))
        }
        ("heroku", ["config", ..])
        | ("heroku", ["config:get", ..])
        | ("heroku", ["auth:token", ..]) => true,
        ("fly" | "flyctl", ["auth", "token", ..]) => true,
        ("doctl", ["auth", "token", ..]) => true,
        ("kubectl" | "oc", ["get", kind, ..]) => {
            kind.starts_with("secret")
                && (output_format.contains("yaml")
                    || output_format.contains("json")
                    || output_format.contains("template"))
        }
        ("vault", ["kv", "get", ..]) | ("vault", ["read", ..]) => true,
        ("op", ["read", ..]) | ("op", ["item", "get", ..]) => true,
        ("pass", ["show", ..]) => true,
        ("security", [first, ..]) => {
            first.starts_with("find-") && invocation.has_flag(&['w', 'g'], &[])
        }
        ("git", ["credential", "fill", ..]) => true,
        ("git", ["config", ..]) => texts
            .iter()
            .any(|text| text.contains("credential") || text.contains("token")),
        _ => false,
    };
    hit.then(|| {
        format!(
            "prints credentials (`{program} {}`)",
            texts.iter().take(3).copied().collect::<Vec<_>>().join(" ")
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check("grep -r TOKEN .", "deny cred.hunting");
        check(
            "grep -rniE 'token|secret|key|password' ~",
            "deny cred.hunting",
        );
        check("rg -i api_key", "deny cred.hunting");
        check("git grep -n RAILWAY_TOKEN", "deny cred.hunting");
        check("grep -r 'sk_live' /srv", "deny cred.hunting");
        check("find / -name '*.pem' 2>/dev/null", "deny cred.hunting");
        check("find ~ -name 'id_rsa*'", "deny cred.hunting");
        check("find . -iname '.env*'", "deny cred.hunting");
        check("env | grep -i token", "deny cred.hunting");
        check("printenv | grep KEY", "deny cred.hunting");
        check("printenv RAILWAY_API_TOKEN", "deny cred.hunting");
        check("echo $RAILWAY_TOKEN", "deny cred.hunting");
        check("gh auth token", "deny cred.hunting");
        check(
            "aws configure get aws_secret_access_key",
            "deny cred.hunting",
        );
        check("gcloud auth print-access-token", "deny cred.hunting");
        check("railway variables", "deny cred.hunting");
        check("kubectl get secret db-creds -o yaml", "deny cred.hunting");
        check("env", "hold cred.hunting");
        check("printenv PATH", "allow");
        check("grep -rn TODO src", "allow");
        check("rg 'fn main'", "allow");
        check("find . -name '*.rs'", "allow");
        check(
            "echo \"$TOKEN\" | docker login --password-stdin ghcr.io",
            "allow",
        );
        check("railway variables --set FOO=bar", "allow");
        check("kubectl describe secret db-creds", "allow");
        check("git commit -m 'rotate API_KEY handling'", "allow");
        check("grep -n password_hash src/user.rs", "allow");
    }
}
