//! `interp.inline-code`: destructive calls inside code run by an interpreter.
//!
//! Scans the code of `python -c`, `node -e`, `perl -e`, `ruby -e`, `php -r`, scripts with
//! such a shebang or extension, and code piped into an interpreter (see [`crate::code`]).
//! Deleting a named path is judged by the filesystem rules; commands run through
//! `subprocess`/`os.system`/`execSync`/backticks are analysed as shell commands; requests to
//! Railway go through `http.railway-graphql`; reading credential files or dumping the
//! environment is credential hunting. This rule itself fires for what is left: deletes of
//! paths computed at run time, commands or code built at run time (`subprocess.run(cmd)`,
//! `eval(x)`), destructive SQL or Redis calls, and destructive calls to infrastructure APIs.
//! Risky because an interpreter is the easiest way around a shell guard. Example: `python3 -c
//! "import shutil; shutil.rmtree(p)"`. Safer: write plain shell commands the hook can read, or
//! a reviewed script in the workspace.

use blastdoor_core::{Environment, Risk, Target};

use super::{Finding, Rule, local_target};
use crate::analysis::Walker;
use crate::code::{CodeAction, Language, scan};
use crate::paths::{DeletePlace, delete_place, resolve};

pub(crate) static RULE: Rule = Rule {
    id: "interp.inline-code",
    summary: "interpreter code deletes paths or runs commands computed at run time, destroys database data, or calls destructive infrastructure APIs",
    alternative: "use plain shell commands the hook can read, or a reviewed script kept in the workspace",
};

pub(crate) fn check_code(
    code: &str,
    language: Language,
    interpreter: &str,
    walker: &mut Walker<'_, '_>,
) {
    walker.note_write();
    for action in scan(code, language) {
        match action {
            CodeAction::Delete {
                path,
                recursive,
                call,
            } => delete(path, recursive, call, interpreter, walker),
            CodeAction::RunCommand(command) => walker.walk_script(&command),
            CodeAction::RunDynamic(call) => walker.report(Finding::hold(
                &RULE,
                Risk::Unknown,
                format!(
                    "`{interpreter}` code calls `{call}` with a command or code built at run time"
                ),
                vec![Target::new("code", call, vec![])],
            )),
            CodeAction::RailwayRequest { body } => super::http_railway::check_code(&body, walker),
            CodeAction::InfraDelete(host) => walker.report(Finding::hold(
                &super::http_infra::RULE,
                Risk::Destroy,
                format!("`{interpreter}` code sends a destructive request to {host}"),
                vec![
                    Target::new("api-resource", host, vec![Environment::Unknown]).on_upstream(host),
                ],
            )),
            CodeAction::ReadsCredential(path) => {
                let resolved = resolve(&path, &walker.context())
                    .to_string_lossy()
                    .into_owned();
                walker.report(Finding::deny(
                    &super::cred_file_read::RULE,
                    Risk::Escalate,
                    format!("`{interpreter}` code opens `{path}`, a credential file"),
                    vec![local_target("file", &resolved)],
                ));
            }
            CodeAction::DumpsEnvironment => walker.report(Finding::deny(
                &super::cred_hunting::RULE,
                Risk::Escalate,
                format!("`{interpreter}` code prints the whole environment, tokens included"),
                vec![local_target("environment", "process environment")],
            )),
            CodeAction::Disarms(path) => walker.report(Finding::deny(
                &super::blastdoor_disarm::RULE,
                Risk::Escalate,
                format!("`{interpreter}` code writes `{path}`, which keeps blastdoor armed"),
                vec![local_target("file", &path)],
            )),
            CodeAction::DestroysData(what) => walker.report(Finding::hold(
                &RULE,
                Risk::Destroy,
                format!("`{interpreter}` code runs `{what}` against a database"),
                vec![Target::new("database", &what, vec![Environment::Unknown])],
            )),
        }
    }
}

fn delete(
    path: Option<String>,
    recursive: bool,
    call: &str,
    interpreter: &str,
    walker: &mut Walker<'_, '_>,
) {
    let Some(path) = path else {
        walker.report(Finding::hold(
            &RULE,
            Risk::Destroy,
            format!("`{interpreter}` code calls `{call}` on a path computed at run time"),
            vec![local_target("path", "computed at run time")],
        ));
        return;
    };
    let resolved = resolve(&path, &walker.context())
        .to_string_lossy()
        .into_owned();
    let target = vec![local_target("path", &resolved)];
    let explanation = match delete_place(&path, &walker.context()) {
        DeletePlace::BuildOutput | DeletePlace::Scratch => return,
        DeletePlace::Workspace if !recursive => return,
        DeletePlace::Catastrophic => {
            walker.report(Finding::deny(
                &super::fs_recursive_delete::RULE,
                Risk::Destroy,
                format!(
                    "`{interpreter}` code calls `{call}` on `{path}`: the whole machine or home"
                ),
                target,
            ));
            return;
        }
        place => format!("`{interpreter}` code calls `{call}` on `{path}` ({place:?})"),
    };
    let rule = if recursive {
        &super::fs_recursive_delete::RULE
    } else {
        &super::fs_delete_outside::RULE
    };
    walker.report(Finding::hold(rule, Risk::Destroy, explanation, target));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "python3 -c \"import shutil; shutil.rmtree('/srv/data')\"",
            "hold fs.recursive-delete",
        );
        check(
            "python -c 'import shutil,os; shutil.rmtree(os.path.expanduser(\"~\"))'",
            "hold interp.inline-code",
        );
        check(
            "node -e \"require('fs').rmSync('/var/lib/app', {recursive: true, force: true})\"",
            "hold fs.recursive-delete",
        );
        check(
            "node -e \"require('child_process').execSync('rm -rf ~/work')\"",
            "hold fs.recursive-delete",
        );
        check(
            "python3 -c \"import subprocess; subprocess.run(['git', 'push', '-f', 'origin', 'main'])\"",
            "hold git.force-push-protected",
        );
        check(
            "python3 -c 'import os; os.system(cmd)'",
            "hold interp.inline-code",
        );
        check(
            "perl -e 'system(\"rm -rf /srv\")'",
            "hold fs.recursive-delete",
        );
        check(
            "ruby -e 'FileUtils.rm_rf(\"/opt/app\")'",
            "hold fs.recursive-delete",
        );
        check(
            "python3 -c \"import psycopg2; c.execute('DROP TABLE users')\"",
            "hold interp.inline-code",
        );
        check(
            "python3 -c 'exec(__import__(\"base64\").b64decode(\"cHJpbnQoMSk=\"))'",
            "hold interp.inline-code",
        );
        check("python3 -c 'print(1 + 1)'", "allow");
        check(
            "node -e 'console.log(JSON.parse(process.argv[1]))' '{}'",
            "allow",
        );
        check(
            "python3 -c \"import shutil; shutil.rmtree('build')\"",
            "allow",
        );
        check("python3 -m pytest -q", "allow");
        check(
            "python3 -c \"print(open('.env').read())\"",
            "deny cred.file-read",
        );
        check("node -e 'console.log(process.env)'", "deny cred.hunting");
    }
}
