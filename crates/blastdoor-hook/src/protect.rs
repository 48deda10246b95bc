//! The disarm rule (`blastdoor.disarm`): an agent's file tool must not write the files that
//! register the hook or blastdoor's own state, since that is how an agent turns the guard off.
//!
//! Paths are compared lexically (relative paths joined to the agent's cwd, `.` and `..`
//! folded) with no filesystem access; a symlink pointing into a protected place is not seen
//! here. The shell side of the same rule (`sed -i`, `rm`, `chmod` on these files) belongs to
//! the shell classifier.

use std::path::{Component, Path, PathBuf};

use blastdoor_core::{Reason, RuleId};

/// The stable id of the disarm rule.
pub const DISARM_RULE: &str = "blastdoor.disarm";

/// Settings files through which each harness loads its hooks, as trailing path components.
const HOOK_SETTINGS: &[&[&str]] = &[
    &[".claude", "settings.json"],
    &[".claude", "settings.local.json"],
    &[".codex", "hooks.json"],
    &[".codex", "config.toml"],
    &[".cursor", "hooks.json"],
    &[".gemini", "settings.json"],
];

/// Why writing `path` would disarm blastdoor, or `None` when it would not.
pub fn disarm_reason(path: &Path, cwd: &Path, blastdoor_home: Option<&Path>) -> Option<Reason> {
    let target = normalise(&cwd.join(path));
    let what = if let Some(home) = blastdoor_home.filter(|home| !home.as_os_str().is_empty()) {
        match target.starts_with(normalise(&cwd.join(home))) {
            true => Some("blastdoor's own configuration and state (BLASTDOOR_HOME)"),
            false => None,
        }
    } else {
        None
    };
    let what = what.or_else(|| is_hook_settings(&target).then_some("a harness's hook settings"))?;
    let rule_id = RuleId::new(DISARM_RULE).ok()?;
    Some(Reason::new(
        rule_id,
        format!(
            "the agent tried to write `{}`, which is {what}",
            target.display()
        ),
        Some(
            "change hook settings or blastdoor's configuration yourself, outside the agent"
                .to_owned(),
        ),
        format!(
            "Writing `{}` would change {what}, which controls the safety hook. Agents may not \
             edit it; ask the user to make this change.",
            target.display()
        ),
    ))
}

fn is_hook_settings(path: &Path) -> bool {
    let names: Vec<&str> = path
        .components()
        .filter_map(|component| match component {
            Component::Normal(name) => name.to_str(),
            _ => None,
        })
        .collect();
    let ends_with = |suffix: &[&str]| names.len() >= suffix.len() && names.ends_with(suffix);
    if HOOK_SETTINGS.iter().any(|suffix| ends_with(suffix)) {
        return true;
    }
    // Copilot CLI loads every `.github/hooks/*.json`.
    match names.as_slice() {
        [.., github, hooks, file] => {
            *github == ".github" && *hooks == "hooks" && file.ends_with(".json")
        }
        _ => false,
    }
}

/// Folds `.` and `..` without touching the filesystem.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disarms(path: &str) -> bool {
        disarm_reason(
            Path::new(path),
            Path::new("/work/proj"),
            Some(Path::new("/home/u/.blastdoor")),
        )
        .is_some()
    }

    #[test]
    fn hook_settings_and_blastdoor_home_are_protected() {
        for path in [
            "/home/u/.claude/settings.json",
            ".claude/settings.local.json",
            "sub/../.cursor/hooks.json",
            "/home/u/.codex/hooks.json",
            ".gemini/settings.json",
            ".github/hooks/blastdoor.json",
            ".github/hooks/other.json",
            "/home/u/.blastdoor/blastdoor.toml",
            "/home/u/.blastdoor/policies/x.cedar",
            "../../home/u/.blastdoor",
        ] {
            assert!(disarms(path), "{path}");
        }
    }

    #[test]
    fn ordinary_files_are_not() {
        for path in [
            "src/main.rs",
            ".claude/agents/x.md",
            ".github/workflows/ci.yml",
            "/home/u/.blastdoorx",
            "settings.json",
        ] {
            assert!(!disarms(path), "{path}");
        }
    }

    #[test]
    fn reason_names_the_rule() {
        let reason =
            disarm_reason(Path::new(".claude/settings.json"), Path::new("/p"), None).unwrap();
        assert_eq!(reason.rule_id.as_str(), DISARM_RULE);
        assert!(reason.agent_message.contains("/p/.claude/settings.json"));
    }
}
