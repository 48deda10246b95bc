//! `fs.delete-outside-workspace`: deleting, emptying or overwriting single files outside the
//! workspace.
//!
//! Flags `rm`, `unlink` (without `-r`) of files outside the cwd and `/tmp`, including paths
//! only known at run time (`xargs rm`, `rm $f`); and destroying a file's contents outside the
//! cwd, `/tmp` and the workspace's build outputs: a truncating redirection (`> f`, `>| f`,
//! `&> f`; not `>>`), the destination of `cp`/`mv`, every file of `truncate`, `tee` without
//! `-a`, `dd of=`. Devices (`/dev/null`, ...) are left to `fs.raw-device`; targets only known
//! at run time are not flagged for overwrites (a redirection to `$LOG` is everyday shell).
//! Risky because files outside the workspace (dotfiles, system configuration, databases,
//! other projects) are not under the agent's task and may not be in version control. Example:
//! `rm ~/.bashrc`, `: > /srv/db.sqlite`. Safer: change files inside the workspace only, or
//! move the file aside instead of deleting it.

use blastdoor_core::{Environment, Risk, Target};

use super::{Finding, Rule, path_target};
use crate::analysis::Walker;
use crate::command::{Invocation, option_text};
use crate::paths::{DeletePlace, delete_place, resolve};
use crate::words::Arg;

pub(crate) static RULE: Rule = Rule {
    id: "fs.delete-outside-workspace",
    summary: "deletes files outside the workspace (dotfiles, system files, other projects), or files named only at run time",
    alternative: "delete only inside the workspace, or move the file aside (mv file file.bak) so it can be restored",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    check_overwrites(invocation, walker);
    let program = invocation.program();
    if !matches!(program, "rm" | "unlink") || invocation.has_flag(&['r', 'R'], &["--recursive"]) {
        return;
    }
    for arg in invocation.positionals(&[]) {
        let resolved = resolve(&arg.text, &walker.context())
            .to_string_lossy()
            .into_owned();
        let target = path_target("file", &resolved, invocation);
        if arg.dynamic {
            walker.report(Finding::hold(
                &RULE,
                Risk::Destroy,
                format!("`{program}` deletes `{}`, only known at run time", arg.text),
                vec![target],
            ));
            continue;
        }
        match delete_place(&arg.text, &walker.context()) {
            DeletePlace::BuildOutput | DeletePlace::Scratch | DeletePlace::Workspace => {}
            DeletePlace::GitDirectory => walker.report(Finding::hold(
                &RULE,
                Risk::Destroy,
                format!("`{program}` deletes `{}` inside .git", arg.text),
                vec![target],
            )),
            _ => walker.report(Finding::hold(
                &RULE,
                Risk::Destroy,
                format!("`{program}` deletes `{}`, outside the workspace", arg.text),
                vec![target],
            )),
        }
    }
}

/// A truncating redirection (`>`, `>|`, `&>`) to `arg`, made by the shell itself. `remote`
/// when the shell runs on another machine.
pub(crate) fn check_truncating_redirect(arg: &Arg, remote: bool, walker: &mut Walker<'_, '_>) {
    let what = format!("`>` empties `{}`", arg.text);
    let target = |resolved: &str| {
        if remote {
            Target::new("file", resolved, vec![Environment::Unknown]).on_upstream("remote-host")
        } else {
            super::local_target("file", resolved)
        }
    };
    report_overwrite(arg, what, target, walker);
}

/// The files `cp`, `mv`, `truncate`, `tee` and `dd` overwrite.
fn check_overwrites(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let program = invocation.program();
    let targets: Vec<Arg> = match program {
        "cp" | "mv" => {
            let directory = option_text(invocation.operands(), &["-t"], &["--target-directory"]);
            match directory {
                Some(directory) => vec![Arg::literal(directory)],
                None => {
                    let positionals = invocation.positionals(&["-S", "--suffix"]);
                    // One operand is not a copy; with two or more the last is the destination.
                    if positionals.len() < 2 {
                        Vec::new()
                    } else {
                        positionals
                            .last()
                            .map(|arg| (*arg).clone())
                            .into_iter()
                            .collect()
                    }
                }
            }
        }
        "truncate" => invocation
            .positionals(&["-s", "--size", "-r", "--reference"])
            .into_iter()
            .cloned()
            .collect(),
        "tee" if !invocation.has_flag(&['a'], &["--append"]) => {
            invocation.positionals(&[]).into_iter().cloned().collect()
        }
        "dd" if !invocation
            .operands()
            .iter()
            .any(|arg| arg.text.starts_with("conv=") && arg.text.contains("notrunc")) =>
        {
            invocation
                .operands()
                .iter()
                .filter_map(|arg| {
                    arg.text.strip_prefix("of=").map(|path| Arg {
                        text: path.to_owned(),
                        ..arg.clone()
                    })
                })
                .collect()
        }
        _ => Vec::new(),
    };
    for arg in targets {
        let what = match program {
            "cp" => format!("`cp` overwrites `{}`", arg.text),
            "mv" => format!("`mv` replaces `{}`", arg.text),
            "truncate" => format!("`truncate` cuts `{}`", arg.text),
            "tee" => format!("`tee` empties `{}`", arg.text),
            _ => format!("`{program}` overwrites `{}`", arg.text),
        };
        report_overwrite(
            &arg,
            what,
            |resolved| path_target("file", resolved, invocation),
            walker,
        );
    }
}

fn report_overwrite(
    arg: &Arg,
    what: String,
    target: impl Fn(&str) -> Target,
    walker: &mut Walker<'_, '_>,
) {
    if arg.dynamic || arg.text.is_empty() || arg.text == "-" {
        return;
    }
    let resolved = resolve(&arg.text, &walker.context())
        .to_string_lossy()
        .into_owned();
    // Devices and process files are not stored data; disks are `fs.raw-device`'s.
    if resolved.starts_with("/dev/") || resolved.starts_with("/proc/") {
        return;
    }
    // A destination directory that is the workspace or a scratch directory itself
    // (`cp x .`, `cp x /tmp/`) receives a new file inside it.
    let context = walker.context();
    let directory = resolve(arg.text.trim_end_matches('/'), &context);
    if directory == resolve(".", &context)
        || ["/tmp", "/var/tmp", "/private/tmp"]
            .iter()
            .any(|scratch| directory == std::path::Path::new(scratch))
    {
        return;
    }
    match delete_place(&arg.text, &context) {
        DeletePlace::BuildOutput
        | DeletePlace::Scratch
        | DeletePlace::Workspace
        | DeletePlace::GitDirectory => {}
        DeletePlace::WorkspaceRoot | DeletePlace::Catastrophic | DeletePlace::Outside => {
            walker.report(Finding::hold(
                &RULE,
                Risk::Destroy,
                format!("{what}, outside the workspace: its contents are lost"),
                vec![target(&resolved)],
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check("rm ~/.bashrc", "hold fs.delete-outside-workspace");
        check("rm /etc/hosts", "hold fs.delete-outside-workspace");
        check(
            "unlink ../other/file.txt",
            "hold fs.delete-outside-workspace",
        );
        check("rm src/old.rs", "allow");
        check("rm -f /tmp/out.log", "allow");
        check("rm \"$f\"", "hold fs.delete-outside-workspace");
        check("rm .git/index.lock", "hold fs.delete-outside-workspace");
    }

    #[test]
    fn overwriting_files_outside_the_workspace() {
        for command in [
            ": > /srv/db.sqlite",
            "echo > /srv/db.sqlite",
            "> /srv/db.sqlite",
            "echo x >| /srv/db.sqlite",
            "date &> /srv/app.log",
            "cp /dev/null /srv/db.sqlite",
            "cp -f src/a.rs ~/.bashrc",
            "cp -t /srv src/a.rs",
            "mv notes.txt /etc/hosts",
            "truncate -s 0 /srv/db.sqlite",
            "truncate --size=0 ../other/data.db",
            "tee /srv/db.sqlite </dev/null",
            "echo x | sudo tee /etc/hosts",
            "dd if=/dev/zero of=/srv/db.sqlite bs=1 count=0",
        ] {
            check(command, "hold fs.delete-outside-workspace");
        }
        for command in [
            "echo hi > notes.txt",
            "echo hi > ./src/notes.txt",
            "cargo build > /dev/null",
            "cargo build 2>/dev/null",
            "make &> /dev/null",
            "ls > /tmp/x",
            "echo x >> /srv/app.log",
            "echo x | tee -a /srv/app.log",
            "echo x | tee notes.txt",
            "cp src/a.rs src/b.rs",
            "cp src/a.rs /tmp/",
            "mv old.txt target/new.txt",
            "truncate -s 0 out.log",
            "dd if=/dev/zero of=disk.img bs=1M count=10",
            "cp /srv/config.toml .",
            "echo x > /dev/stderr",
        ] {
            check(command, "allow");
        }
    }
}
