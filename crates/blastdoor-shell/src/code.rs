//! Pragmatic scanning of inline interpreter code (`python -c`, `node -e`, `perl -e`,
//! `ruby -e`, scripts with such a shebang, `mongosh --eval`). We do not parse these languages:
//! we look for the calls that delete files, run commands, reach infrastructure APIs or read
//! credentials, and take the string literal they are given when there is one.

/// The language family, which decides what `exec(` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Language {
    Python,
    JavaScript,
    Perl,
    Ruby,
    Php,
    /// A script whose interpreter we do not know: scanned with every table.
    Other,
}

/// One thing the code would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CodeAction {
    /// Deletes a path: the literal path when the call names one; `recursive` for tree deletes.
    Delete {
        path: Option<String>,
        recursive: bool,
        call: &'static str,
    },
    /// Runs a shell command given literally.
    RunCommand(String),
    /// Runs a command or code only known at run time (`subprocess.run(cmd)`, `eval(x)`).
    RunDynamic(&'static str),
    /// Sends a request to Railway's API; `mutation` when the code holds a GraphQL mutation.
    RailwayRequest { body: String },
    /// Sends a destructive request (`DELETE`, a delete-named endpoint) to an infrastructure API.
    InfraDelete(&'static str),
    /// Reads a credential file named literally.
    ReadsCredential(String),
    /// Prints or serialises the whole environment.
    DumpsEnvironment,
    /// Writes or deletes one of blastdoor's protected files.
    Disarms(String),
    /// A SQL or database command string that destroys data.
    DestroysData(String),
}

const DELETE_CALLS: &[(&str, bool)] = &[
    ("shutil.rmtree(", true),
    ("rmtree(", true),
    ("os.removedirs(", true),
    ("os.remove(", false),
    ("os.unlink(", false),
    ("os.rmdir(", false),
    (".unlink(", false),
    (".rmdir(", false),
    ("fs.rmSync(", true),
    (".rmSync(", true),
    (".rmdirSync(", true),
    (".unlinkSync(", false),
    ("fs.rmdirSync(", true),
    ("fs.promises.rm(", true),
    ("fs.rm(", true),
    ("fs.rmdir(", true),
    ("fs.unlinkSync(", false),
    ("fs.unlink(", false),
    ("rimraf.sync(", true),
    ("rimraf(", true),
    ("Deno.remove(", true),
    ("FileUtils.rm_rf(", true),
    ("FileUtils.rm_r(", true),
    ("FileUtils.remove_dir(", true),
    ("FileUtils.rm(", false),
    ("File.delete(", false),
    ("remove_tree(", true),
    ("unlink(", false),
    ("unlink ", false),
];

const EXEC_CALLS: &[&str] = &[
    "subprocess.run(",
    "subprocess.call(",
    "subprocess.check_call(",
    "subprocess.check_output(",
    "subprocess.Popen(",
    "subprocess.getoutput(",
    "subprocess.getstatusoutput(",
    "os.system(",
    "os.popen(",
    "os.execvp(",
    "os.execv(",
    "os.spawnvp(",
    "execSync(",
    "execFileSync(",
    "spawnSync(",
    "child_process.exec(",
    "').exec(",
    "\").exec(",
    "').execSync(",
    "cp.exec(",
    "spawn(",
    "execFile(",
    "shell_exec(",
    "passthru(",
    "proc_open(",
    "popen(",
    "system(",
    "system ",
    "exec ",
    "Open3.capture2(",
    "Open3.capture3(",
    "Open3.popen3(",
    "IO.popen(",
    "Bun.spawn(",
    "Bun.spawnSync(",
    "new Deno.Command(",
    "%x(",
    "qx(",
];

const EVAL_CALLS: &[(&str, Language)] = &[
    ("exec(", Language::Python),
    ("eval(", Language::Python),
    ("compile(", Language::Python),
    ("__import__(", Language::Python),
    ("eval(", Language::JavaScript),
    ("new Function(", Language::JavaScript),
    ("exec(", Language::JavaScript),
    ("eval(", Language::Ruby),
    ("eval(", Language::Php),
    ("eval ", Language::Perl),
    ("eval(", Language::Perl),
];

/// Hosts of infrastructure APIs whose destructive calls the hook holds.
pub(crate) const INFRA_HOSTS: &[&str] = &[
    "api.github.com",
    "api.cloudflare.com",
    "api.digitalocean.com",
    "api.heroku.com",
    "api.vercel.com",
    "api.fly.io",
    "api.machines.dev",
    "api.supabase.com",
    "amazonaws.com",
    "management.azure.com",
    "googleapis.com",
    "api.render.com",
    "api.netlify.com",
    "api.linode.com",
    "api.hetzner.cloud",
    "api.neon.tech",
    "api.planetscale.com",
    "api.mongodb.com",
    "cloud.mongodb.com",
    "api.upstash.com",
    "api.scaleway.com",
    "api.vultr.com",
    "api.gitlab.com",
    "gitlab.com/api",
    "api.pulumi.com",
    "app.terraform.io",
    "api.heroku.com",
    "api.railway.app",
];

/// The Railway API hosts (GraphQL at `/graphql/v2`).
pub(crate) const RAILWAY_HOSTS: &[&str] = &["backboard.railway.com", "backboard.railway.app"];

/// Everything the code would do that a rule cares about.
pub(crate) fn scan(code: &str, language: Language) -> Vec<CodeAction> {
    let mut actions = Vec::new();
    for (call, recursive) in DELETE_CALLS {
        for position in call_sites(code, call, language) {
            let after = code.get(position + call.len()..).unwrap_or("");
            let path = first_literal(after);
            actions.push(CodeAction::Delete {
                path,
                recursive: *recursive,
                call: call.trim_end_matches(['(', ' ']),
            });
        }
    }
    for call in EXEC_CALLS {
        for position in call_sites(code, call, language) {
            let after = code.get(position + call.len()..).unwrap_or("");
            if after.trim_start().starts_with(')') {
                // `platform.system()`-like calls with no argument run nothing.
                continue;
            }
            match command_literal(after) {
                Some(command) => actions.push(CodeAction::RunCommand(command)),
                None => actions.push(CodeAction::RunDynamic(call.trim_end_matches(['(', ' ']))),
            }
        }
    }
    if matches!(language, Language::Perl | Language::Ruby | Language::Other) {
        let mut rest = code;
        while let Some(start) = rest.find('`') {
            let after = rest.get(start + 1..).unwrap_or("");
            let Some(end) = after.find('`') else { break };
            actions.push(CodeAction::RunCommand(
                after.get(..end).unwrap_or("").to_owned(),
            ));
            rest = after.get(end + 1..).unwrap_or("");
        }
    }
    for (call, call_language) in EVAL_CALLS {
        if (language == *call_language || language == Language::Other)
            && !find_all(code, call).is_empty()
        {
            let preceded_by_word = find_all(code, call).iter().all(|position| {
                code.get(..*position)
                    .and_then(|before| before.chars().last())
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
            });
            if !preceded_by_word {
                actions.push(CodeAction::RunDynamic(call.trim_end_matches(['(', ' '])));
            }
        }
    }

    let lower = code.to_ascii_lowercase();
    if RAILWAY_HOSTS.iter().any(|host| lower.contains(host))
        || lower.contains("railway") && lower.contains("graphql")
    {
        actions.push(CodeAction::RailwayRequest {
            body: code.to_owned(),
        });
    }
    if let Some(host) = INFRA_HOSTS.iter().find(|host| lower.contains(*host)) {
        let deletes = lower.contains("delete")
            || lower.contains("destroy")
            || lower.contains("purge")
            || lower.contains("terminate");
        if deletes {
            actions.push(CodeAction::InfraDelete(host));
        }
    }

    for literal in literals(code) {
        let path = std::path::Path::new(literal.trim_start_matches("~/"));
        let looks_like_path = !literal.contains(char::is_whitespace) && literal.len() < 512;
        if looks_like_path && crate::paths::credential_file(path).is_some() {
            actions.push(CodeAction::ReadsCredential(literal.clone()));
        }
        if looks_like_path && is_protected_literal(&literal) && writes_files(code) {
            actions.push(CodeAction::Disarms(literal.clone()));
        }
        let (risk, what) = crate::sql::classify(&literal);
        let upper = literal.trim_start().to_ascii_uppercase();
        let sqlish = [
            "DROP ",
            "TRUNCATE ",
            "DELETE ",
            "UPDATE ",
            "ALTER ",
            "FLUSHALL",
            "FLUSHDB",
        ]
        .iter()
        .any(|keyword| upper.starts_with(keyword));
        if sqlish && risk == blastdoor_core::Risk::Destroy {
            actions.push(CodeAction::DestroysData(what));
        }
    }
    for marker in [
        "dropDatabase(",
        ".drop()",
        ".drop({",
        "deleteMany({})",
        ".remove({})",
        "dropAllUsers(",
        "flushall(",
        "flushdb(",
        "flushAll(",
        "flushDb(",
    ] {
        if code.contains(marker) {
            actions.push(CodeAction::DestroysData(
                marker.trim_end_matches(['(', ')', '{', '}']).to_owned(),
            ));
        }
    }
    for marker in [
        "print(os.environ)",
        "pprint(os.environ)",
        "print(dict(os.environ",
        "dict(os.environ)",
        "os.environ.items()",
        "os.environ.copy()",
        "json.dumps(os.environ",
        "console.log(process.env)",
        "JSON.stringify(process.env",
        "Object.entries(process.env",
        "Object.keys(process.env",
        "console.dir(process.env",
        "ENV.to_h",
        "ENV.each",
        "p ENV",
        "puts ENV",
        "%ENV",
        "getenv()",
        "print_r($_ENV",
        "var_dump($_ENV",
    ] {
        if code.contains(marker) {
            actions.push(CodeAction::DumpsEnvironment);
            break;
        }
    }
    actions
}

fn is_protected_literal(literal: &str) -> bool {
    [
        ".claude/settings",
        ".codex/hooks",
        ".codex/config",
        ".cursor/hooks",
        ".gemini/settings",
        ".github/hooks",
        ".blastdoor",
        "BLASTDOOR_HOME",
    ]
    .iter()
    .any(|marker| literal.contains(marker))
}

fn writes_files(code: &str) -> bool {
    [
        "'w'",
        "\"w\"",
        "'a'",
        "\"a\"",
        "write",
        "unlink",
        "remove",
        "rmtree",
        "dump(",
        "rename",
        "replace(",
        "chmod",
        "rmSync",
        "rm(",
        "truncate",
        "open(",
        "File.open",
    ]
    .iter()
    .any(|marker| code.contains(marker))
}

/// Where `call` is really called: a bare name (`system(`, `unlink(`) must not be the tail of
/// a longer name or a method (`platform.system(`, `os.unlink(` has its own entry), and the
/// space-terminated forms (`system "..."`, `exec "..."`, `unlink $f`) exist only in Perl and Ruby.
fn call_sites(code: &str, call: &str, language: Language) -> Vec<usize> {
    let bare = !call.contains('.')
        && !call.starts_with(['%', '\'', '"', ')'])
        && !call.starts_with("qx")
        && !call.starts_with("new ");
    if call.ends_with(' ') && !matches!(language, Language::Perl | Language::Ruby | Language::Other)
    {
        return Vec::new();
    }
    find_all(code, call)
        .into_iter()
        .filter(|position| {
            if !bare {
                return true;
            }
            let before = code
                .get(..*position)
                .and_then(|before| before.chars().last());
            !before.is_some_and(|c| {
                c.is_alphanumeric() || c == '_' || c == '.' || c == ':' || c == '$'
            })
        })
        .collect()
}

fn find_all(haystack: &str, needle: &str) -> Vec<usize> {
    haystack
        .match_indices(needle)
        .map(|(index, _)| index)
        .take(64)
        .collect()
}

/// The string literal that starts `text` (after spaces), if any.
fn first_literal(text: &str) -> Option<String> {
    let text = text.trim_start();
    let text = text
        .strip_prefix("Path(")
        .or_else(|| text.strip_prefix("pathlib.Path("))
        .unwrap_or(text)
        .trim_start();
    let text = text
        .strip_prefix(['f', 'r', 'b'])
        .filter(|rest| rest.starts_with(['"', '\'']))
        .unwrap_or(text);
    let quote = text
        .chars()
        .next()
        .filter(|c| matches!(c, '"' | '\'' | '`'))?;
    let body = text.get(1..)?;
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
        } else if c == quote {
            if quote == '`' && out.contains("${") {
                return None;
            }
            return Some(out);
        } else {
            out.push(c);
        }
    }
    None
}

/// A command given as a literal string or a list of literals (`["rm", "-rf", "/x"]`).
fn command_literal(text: &str) -> Option<String> {
    let trimmed = text.trim_start();
    if let Some(list) = trimmed.strip_prefix('[') {
        let end = list.find(']')?;
        let inside = list.get(..end)?;
        let mut words = Vec::new();
        for part in inside.split(',') {
            let word = first_literal(part)?;
            if word.contains(|c: char| c.is_whitespace() || "'\"$`;|&<>(){}".contains(c)) {
                words.push(format!("'{}'", word.replace('\'', "")));
            } else {
                words.push(word);
            }
        }
        return Some(words.join(" "));
    }
    if let Some(command) = first_literal(trimmed) {
        // `'r' + 'm -rf ~'`, `"rm %s" % x`, `f"rm {x}"`, `"rm " .. x`: built at run time.
        let quoted_len = command.len() + 2;
        let after_literal = trimmed.get(quoted_len..).unwrap_or("").trim_start();
        let formatted =
            trimmed.starts_with(['f', 'F']) || command.contains("${") || command.contains("#{");
        if formatted
            || after_literal.starts_with(['+', '%', '.', '*'])
            || after_literal.starts_with("..")
        {
            return None;
        }
        // `spawn("rm", ["-rf", "/x"])`: the program, then its argument list.
        let after = trimmed.get(command.len() + 2..).unwrap_or("").trim_start();
        if let Some(arguments) = after
            .strip_prefix(',')
            .filter(|rest| rest.trim_start().starts_with('['))
            .and_then(command_literal)
        {
            return Some(format!("{command} {arguments}"));
        }
        return Some(command);
    }
    None
}

/// Every quoted string literal in the code, bounded.
fn literals(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(start) = rest.find(['"', '\'']) {
        let Some(tail) = rest.get(start..) else { break };
        match first_literal(tail) {
            Some(literal) => {
                let consumed = start + literal.len() + 2;
                out.push(literal);
                rest = rest.get(consumed.min(rest.len())..).unwrap_or("");
            }
            None => rest = rest.get(start + 1..).unwrap_or(""),
        }
        if out.len() >= 256 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_deletes_commands_and_requests() {
        let actions = scan(
            "import shutil; shutil.rmtree('/srv/data')",
            Language::Python,
        );
        assert!(actions.contains(&CodeAction::Delete {
            path: Some("/srv/data".into()),
            recursive: true,
            call: "shutil.rmtree"
        }));
        let actions = scan(
            "import subprocess; subprocess.run(['rm', '-rf', '/x'])",
            Language::Python,
        );
        assert!(actions.contains(&CodeAction::RunCommand("rm -rf /x".into())));
        let actions = scan(
            "require('child_process').execSync('git push -f origin main')",
            Language::JavaScript,
        );
        assert!(actions.contains(&CodeAction::RunCommand("git push -f origin main".into())));
        let actions = scan("print(1 + 1)", Language::Python);
        assert!(actions.is_empty());
        let actions = scan("open('.env').read()", Language::Python);
        assert!(actions.contains(&CodeAction::ReadsCredential(".env".into())));
    }
}
