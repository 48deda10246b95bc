//! `blastdoor.disarm`: an agent turning blastdoor off.
//!
//! Flags writing, moving, deleting or changing the permissions of the harness hook settings
//! (`.claude/settings*.json`, `.codex/hooks.json`, `.cursor/hooks.json`,
//! `.gemini/settings.json`, `.github/hooks/`), anything under `BLASTDOOR_HOME`, or the
//! `blastdoor` binary (`chmod -x $(which blastdoor)`); running the human-only commands
//! (`blastdoor approve`, `thaw`, `deny`, `token`, `secret`, `policy`, `approver`, `install`,
//! `init`, `restore`); and stopping blastdoor's processes. Denied: a guard the agent can
//! switch off protects nothing, and agents that meet a deny are known to try exactly this.
//! Example: `echo '{}' > .claude/settings.json`. Safer: ask the user to change blastdoor's
//! settings themselves.

use blastdoor_core::Risk;

use super::{Finding, Rule, local_target};
use crate::analysis::Walker;
use crate::command::Invocation;
use crate::paths::{is_blastdoor_binary, protected_path, resolve};
use crate::words::Arg;

pub(crate) static RULE: Rule = Rule {
    id: "blastdoor.disarm",
    summary: "changes blastdoor's hook settings, configuration, keys or binary, or runs a command reserved for humans (approve, thaw, token, secret, policy)",
    alternative: "ask the user to change blastdoor's settings or approve the held operation themselves",
};

/// Programs that change the files named in their operands.
const MODIFIERS: &[&str] = &[
    "rm", "rmdir", "unlink", "shred", "mv", "cp", "ln", "install", "tee", "touch", "truncate",
    "chmod", "chown", "chgrp", "chattr", "setfacl", "rsync", "scp", "dd", "sed", "perl", "patch",
    "git", "jq", "sponge", "vim", "vi", "nvim", "nano", "emacs", "code", "ed", "ex", "mkdir",
];

const HUMAN_ONLY: &[&str] = &[
    "approve",
    "thaw",
    "deny",
    "token",
    "secret",
    "policy",
    "approver",
    "install",
    "uninstall",
    "init",
    "restore",
    "config",
];

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let program = invocation.program();
    let operands = invocation.operands();
    if program == "blastdoor" {
        let words = invocation.positionals(&["--cwd"]);
        if let Some(subcommand) = words
            .first()
            .filter(|word| HUMAN_ONLY.contains(&word.text.as_str()))
        {
            walker.report(Finding::deny(
                &RULE,
                Risk::Escalate,
                format!("`blastdoor {}` is reserved for humans", subcommand.text),
                vec![local_target("blastdoor", &subcommand.text)],
            ));
        }
        return;
    }
    if matches!(
        program,
        "kill" | "pkill" | "killall" | "systemctl" | "launchctl" | "service"
    ) && operands.iter().any(|arg| arg.text.contains("blastdoor"))
    {
        walker.report(Finding::deny(
            &RULE,
            Risk::Escalate,
            format!("`{program}` stops blastdoor"),
            vec![local_target("process", "blastdoor")],
        ));
        return;
    }
    if !MODIFIERS.contains(&program) {
        return;
    }
    if program == "sed"
        && !operands
            .iter()
            .any(|arg| arg.text.starts_with("-i") || arg.text.starts_with("--in-place"))
    {
        return;
    }
    if program == "perl"
        && !operands
            .iter()
            .any(|arg| arg.text.starts_with("-i") || arg.text.starts_with("-pi"))
    {
        return;
    }
    if program == "git" {
        let modifies =
            super::git_force_push::git_subcommand(invocation).is_some_and(|(subcommand, _)| {
                matches!(
                    subcommand.as_str(),
                    "checkout" | "restore" | "rm" | "mv" | "apply"
                )
            });
        if !modifies {
            return;
        }
    }
    for arg in operands {
        let text = arg.text.strip_prefix("of=").unwrap_or(&arg.text);
        if arg.dynamic
            && arg
                .substitutions
                .iter()
                .any(|substitution| substitution.contains("blastdoor"))
        {
            walker.report(Finding::deny(
                &RULE,
                Risk::Escalate,
                format!("`{program}` changes `{text}`, which resolves to blastdoor itself"),
                vec![local_target("file", text)],
            ));
            continue;
        }
        check_write(
            &Arg {
                text: text.to_owned(),
                ..arg.clone()
            },
            walker,
        );
    }
}

/// Denies a write to a protected path (redirections, `tee`, `cp` destinations).
pub(crate) fn check_write(arg: &Arg, walker: &mut Walker<'_, '_>) {
    if arg.text.starts_with('-') && !arg.text.contains('/') {
        return;
    }
    let path = resolve(&arg.text, &walker.context());
    let what = protected_path(&path, &walker.context()).or_else(|| {
        is_blastdoor_binary(&path, &walker.context()).then_some("the blastdoor binary")
    });
    if let Some(what) = what {
        let shown = path.to_string_lossy().into_owned();
        walker.report(Finding::deny(
            &RULE,
            Risk::Escalate,
            format!("`{}` is {what}", arg.text),
            vec![local_target("file", &shown)],
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check("echo '{}' > .claude/settings.json", "deny blastdoor.disarm");
        check("rm .claude/settings.local.json", "deny blastdoor.disarm");
        check(
            "sed -i 's/blastdoor/true/' ~/.claude/settings.json",
            "deny blastdoor.disarm",
        );
        check("mv .cursor/hooks.json /tmp/", "deny blastdoor.disarm");
        check("cat /dev/null > .codex/hooks.json", "deny blastdoor.disarm");
        check("rm -rf .github/hooks", "deny blastdoor.disarm");
        check(
            "jq '.hooks = {}' .gemini/settings.json | sponge .gemini/settings.json",
            "deny blastdoor.disarm",
        );
        check("rm -rf ~/.blastdoor", "deny blastdoor.disarm");
        check("chmod -x $(which blastdoor)", "deny blastdoor.disarm");
        check(
            "chmod 000 /usr/local/bin/blastdoor",
            "deny blastdoor.disarm",
        );
        check("blastdoor approve h-123", "deny blastdoor.disarm");
        check("blastdoor thaw", "deny blastdoor.disarm");
        check("blastdoor token mint --agent me", "deny blastdoor.disarm");
        check("pkill -f blastdoor", "deny blastdoor.disarm");
        check("cat .claude/settings.json", "allow");
        check("blastdoor holds", "allow");
        check("blastdoor check -- ls", "allow");
        check("blastdoor audit verify", "allow");
        check("echo 'run blastdoor approve later' > notes.txt", "allow");
    }
}
