//! `fs.recursive-delete`: recursive deletion outside the workspace's build outputs.
//!
//! Flags `rm -r`/`rm -rf`/`rm -R`, `find ... -delete` without a filter, `find -exec rm -rf {}`
//! `rsync --delete` into such a destination (or a remote one), and `shred` whose target is not inside a build output under the cwd (`target/`,
//! `node_modules/`, `dist/`, `build/`, `.cache/`, ...) or a scratch path under `/tmp`. Risky
//! because it is irreversible and one wrong path (`rm -rf ~/`, `rm -rf $EMPTY/`) erases a
//! home directory, a repository's history or a server's data. `/`, `~` and
//! `--no-preserve-root` are denied; anything else outside build outputs is held. Example:
//! `rm -rf ../other-project`. Safer: delete the specific build output (`cargo clean`,
//! `rm -rf node_modules`) or move things to a trash directory.

use blastdoor_core::Risk;

use super::{Finding, Rule, path_target};
use crate::analysis::Walker;
use crate::command::Invocation;
use crate::paths::{DeletePlace, delete_place, resolve};

pub(crate) static RULE: Rule = Rule {
    id: "fs.recursive-delete",
    summary: "recursive or unrecoverable deletion outside the workspace's build outputs (home, /, the repository, .git, other projects)",
    alternative: "delete only build outputs (target/, node_modules/, dist/, build/), or move files to a trash directory the user can restore from",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let program = invocation.program();
    if program == "rsync" {
        check_rsync_delete(invocation, walker);
        return;
    }
    let recursive = match program {
        "rm" => invocation.has_flag(&['r', 'R'], &["--recursive"]),
        "shred" => true,
        "srm" | "wipe" => true,
        _ => false,
    };
    if !recursive {
        return;
    }
    let no_preserve_root = invocation.has_flag(&[], &["--no-preserve-root"]);
    let targets = invocation.positionals(&["-n", "--iterations", "-s", "--size"]);
    for arg in targets {
        let resolved = resolve(&arg.text, &walker.context())
            .to_string_lossy()
            .into_owned();
        let target = path_target("path", &resolved, invocation);
        if arg.dynamic {
            walker.report(Finding::hold(
                &RULE,
                Risk::Destroy,
                format!("`{program}` recursively deletes `{}`, a path only known at run time (an empty variable makes it `/`)", arg.text),
                vec![target],
            ));
            continue;
        }
        let place = delete_place(&arg.text, &walker.context());
        let explanation = match place {
            DeletePlace::BuildOutput | DeletePlace::Scratch => continue,
            DeletePlace::Catastrophic => {
                walker.report(Finding::deny(
                    &RULE,
                    Risk::Destroy,
                    format!("`{program}` would recursively delete `{}`: the whole machine or home directory", arg.text),
                    vec![target],
                ));
                continue;
            }
            DeletePlace::WorkspaceRoot => format!(
                "`{program}` would recursively delete the workspace itself or a parent of it (`{}`)",
                arg.text
            ),
            DeletePlace::GitDirectory => format!(
                "`{program}` would delete the repository's history (`{}`)",
                arg.text
            ),
            DeletePlace::Workspace => format!(
                "`{program}` would recursively delete `{}` in the workspace, which is not a build output",
                arg.text
            ),
            DeletePlace::Outside => format!(
                "`{program}` would recursively delete `{}`, outside the workspace",
                arg.text
            ),
        };
        if no_preserve_root {
            walker.report(Finding::deny(
                &RULE,
                Risk::Destroy,
                format!("{explanation}, with --no-preserve-root"),
                vec![target],
            ));
        } else {
            walker.report(Finding::hold(
                &RULE,
                Risk::Destroy,
                explanation,
                vec![target],
            ));
        }
    }
}

/// `rsync --delete SRC DEST`: deletes whatever in DEST is not in SRC.
fn check_rsync_delete(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let deletes = invocation
        .operands()
        .iter()
        .any(|arg| arg.text.starts_with("--delete") || arg.text == "--remove-source-files");
    if !deletes {
        return;
    }
    let positionals = invocation.positionals(&[
        "-e",
        "--rsh",
        "--exclude",
        "--include",
        "--filter",
        "-f",
        "--chown",
        "--chmod",
        "--port",
        "--password-file",
        "--exclude-from",
        "--include-from",
    ]);
    let Some(destination) = positionals.last() else {
        return;
    };
    let text = destination.text.as_str();
    let remote = text
        .split('/')
        .next()
        .is_some_and(|head| head.contains(':'));
    let explanation = if remote {
        format!("`rsync --delete` deletes files on `{text}` that the source lacks")
    } else {
        match delete_place(text, &walker.context()) {
            DeletePlace::BuildOutput | DeletePlace::Scratch => return,
            _ => format!("`rsync --delete` deletes files in `{text}` that the source lacks"),
        }
    };
    let target = if remote {
        blastdoor_core::Target::new(
            "remote-path",
            text,
            vec![blastdoor_core::Environment::Unknown],
        )
    } else {
        path_target(
            "path",
            &resolve(text, &walker.context()).to_string_lossy(),
            invocation,
        )
    };
    walker.report(Finding::hold(
        &RULE,
        Risk::Destroy,
        explanation,
        vec![target],
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check("rm -rf /", "deny fs.recursive-delete");
        check("rm -rf ~", "deny fs.recursive-delete");
        check("rm -rf ~/", "deny fs.recursive-delete");
        check("rm -rf $HOME", "deny fs.recursive-delete");
        check("rm -rf /*", "deny fs.recursive-delete");
        check("rm -rf --no-preserve-root /var", "deny fs.recursive-delete");
        check("rm -rf ~/projects", "hold fs.recursive-delete");
        check("rm -rf ..", "deny fs.recursive-delete");
        check("rm -rf ../other-project", "hold fs.recursive-delete");
        check("rm -rf .", "hold fs.recursive-delete");
        check("rm -rf .git", "hold fs.recursive-delete");
        check("rm -rf src", "hold fs.recursive-delete");
        check("rm -rf /var/lib/postgresql", "hold fs.recursive-delete");
        check("rm -rf \"$DIR\"", "hold fs.recursive-delete");
        check("rm -r -f target", "allow");
        check("rm -rf node_modules dist", "allow");
        check("rm -rf ./packages/web/.next", "allow");
        check("rm -rf /tmp/build-123", "allow");
        check("rm -rf node_modules/../src", "hold fs.recursive-delete");
        check("r''m -rf ~/x", "hold fs.recursive-delete");
        check("\\rm -rf ~/x", "hold fs.recursive-delete");
        check("\"rm\" -rf ~/x", "hold fs.recursive-delete");
        check("$'\\x72\\x6d' -rf ~/x", "hold fs.recursive-delete");
        check("rm$IFS-rf$IFS~/x", "hold fs.recursive-delete");
        check("{rm,-rf,/srv}", "hold fs.recursive-delete");
        check("sudo rm -rf /var/www", "hold fs.recursive-delete");
        check("find ~/data -exec rm -rf {} +", "hold fs.recursive-delete");
        check("find . -delete", "hold fs.recursive-delete");
        check("find . -name '*.pyc' -delete", "allow");
        check("ls | xargs rm -rf", "hold fs.recursive-delete");
        check("ssh prod 'rm -rf /var/lib/app'", "hold fs.recursive-delete");
        check(
            "rsync -a --delete ./empty/ ~/Documents/",
            "hold fs.recursive-delete",
        );
        check(
            "rsync -az --delete dist/ deploy@web1:/var/www/app/",
            "hold fs.recursive-delete",
        );
        check("rsync -a --delete src/ build/", "allow");
    }
}
