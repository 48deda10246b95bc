//! Paths as the rules see them: resolved against the cwd and `~` without touching the
//! filesystem, and sorted into the places that matter: the workspace's build outputs, scratch
//! space, credential files, and the files that keep blastdoor armed.

use std::path::{Component, Path, PathBuf};

use crate::Context;

/// Directory names whose contents a build recreates, so deleting them loses nothing.
const BUILD_OUTPUTS: &[&str] = &[
    "target",
    "node_modules",
    "dist",
    "build",
    ".cache",
    "__pycache__",
    ".next",
    ".nuxt",
    ".turbo",
    ".parcel-cache",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "coverage",
    ".gradle",
    "out",
    ".svelte-kit",
    ".tox",
    ".venv",
    ".eggs",
    ".angular",
    ".expo",
];

/// `.env` variants that hold examples rather than secrets.
const ENV_EXAMPLE_SUFFIXES: &[&str] = &[
    "example", "sample", "template", "dist", "defaults", "schema", "tpl",
];

/// Resolves `text` (as the command wrote it) to an absolute, lexically normalised path.
pub(crate) fn resolve(text: &str, context: &Context<'_>) -> PathBuf {
    let joined = if text == "~" || text.starts_with("~/") {
        let home = context
            .home
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/home/~"));
        home.join(text.trim_start_matches('~').trim_start_matches('/'))
    } else if text.starts_with('/') {
        PathBuf::from(text)
    } else {
        context.cwd.join(text)
    };
    normalise(&joined)
}

/// Removes `.` and resolves `..` lexically (`/a/b/../c` is `/a/c`; `/..` is `/`).
pub(crate) fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(part) => out.push(part),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// Where a deletion would land.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeletePlace {
    /// Inside a build-output directory under the cwd: recreated by the next build.
    BuildOutput,
    /// Under `/tmp` (not `/tmp` itself).
    Scratch,
    /// Inside the workspace, outside its build outputs.
    Workspace,
    /// The repository's history (`.git`).
    GitDirectory,
    /// The workspace itself or one of its parents.
    WorkspaceRoot,
    /// The user's home directory itself, or `/`.
    Catastrophic,
    /// Anywhere else on the machine.
    Outside,
}

/// Classifies the target of a deletion. A trailing glob (`dir/*`) counts as `dir`'s contents.
pub(crate) fn delete_place(text: &str, context: &Context<'_>) -> DeletePlace {
    let trimmed = text.trim_end_matches(['*', '/']);
    let path = if trimmed.is_empty() && text.starts_with('/') {
        PathBuf::from("/")
    } else if trimmed.is_empty() {
        context.cwd.to_path_buf()
    } else {
        resolve(trimmed, context)
    };
    let cwd = normalise(context.cwd);
    let home = context.home.map(normalise);
    if path == Path::new("/")
        || home.as_deref() == Some(path.as_path())
        || text.trim_end_matches('/') == "~"
    {
        return DeletePlace::Catastrophic;
    }
    for scratch in ["/tmp", "/var/tmp", "/private/tmp"] {
        if let Ok(relative) = path.strip_prefix(scratch)
            && relative.components().next().is_some()
        {
            return DeletePlace::Scratch;
        }
    }
    if let Ok(relative) = path.strip_prefix(&cwd) {
        let parts: Vec<&str> = relative.iter().filter_map(|part| part.to_str()).collect();
        if parts.is_empty() {
            // `dir/*` is the workspace's contents (held when recursive, like any workspace
            // path); the bare directory is the workspace itself.
            if text.ends_with('*') {
                return DeletePlace::Workspace;
            }
            return DeletePlace::WorkspaceRoot;
        }
        if parts.first() == Some(&".git") {
            return DeletePlace::GitDirectory;
        }
        if parts.iter().any(|part| BUILD_OUTPUTS.contains(part)) {
            return DeletePlace::BuildOutput;
        }
        return DeletePlace::Workspace;
    }
    if cwd.starts_with(&path) {
        return DeletePlace::WorkspaceRoot;
    }
    DeletePlace::Outside
}

/// Names the credential a path holds, or `None` when it is not a known credential file.
pub(crate) fn credential_file(path: &Path) -> Option<&'static str> {
    let parts: Vec<&str> = path.iter().filter_map(|part| part.to_str()).collect();
    let name = *parts.last()?;
    let parent = parts
        .len()
        .checked_sub(2)
        .and_then(|index| parts.get(index))
        .copied();
    let has_dir = |dir: &str| parts.iter().rev().skip(1).any(|part| *part == dir);

    if name == ".env" || name == ".envrc" || name.ends_with(".env") && name.len() > 4 {
        return Some("an environment file (.env) with secrets");
    }
    if let Some(suffix) = name.strip_prefix(".env.") {
        let lower = suffix.to_ascii_lowercase();
        if ENV_EXAMPLE_SUFFIXES
            .iter()
            .any(|example| lower.ends_with(example))
        {
            return None;
        }
        return Some("an environment file (.env) with secrets");
    }
    if matches!(
        name,
        ".railway" | ".aws" | ".kube" | ".azure" | ".gnupg" | ".password-store"
    ) || name == "gcloud" && parent == Some(".config")
    {
        return Some("a directory of cloud or CLI credentials");
    }
    if name == ".ssh" {
        return Some("the directory of SSH private keys");
    }
    if has_dir(".railway") || (has_dir("railway") && has_dir(".config")) {
        return Some("the Railway CLI's token");
    }
    if has_dir(".aws") && name != "config" {
        return Some("AWS credentials");
    }
    if has_dir(".kube") || name == "kubeconfig" || name.ends_with(".kubeconfig") {
        return Some("a Kubernetes config with cluster credentials");
    }
    if has_dir(".ssh") {
        let public = name.ends_with(".pub")
            || matches!(
                name,
                "known_hosts" | "known_hosts.old" | "config" | "authorized_keys"
            );
        return if public {
            None
        } else {
            Some("an SSH private key")
        };
    }
    if name.starts_with("id_")
        && !name.ends_with(".pub")
        && matches!(
            name,
            "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519" | "id_ecdsa_sk" | "id_ed25519_sk"
        )
    {
        return Some("an SSH private key");
    }
    if parent == Some("gcloud") || has_dir("gcloud") && has_dir(".config") {
        return Some("Google Cloud credentials");
    }
    if has_dir(".azure") {
        return Some("Azure credentials");
    }
    if parent == Some(".docker") && name == "config.json" {
        return Some("Docker registry credentials");
    }
    if parent == Some("gh") && name == "hosts.yml" {
        return Some("the GitHub CLI's token");
    }
    if has_dir(".fly")
        || parent == Some("doctl")
        || has_dir(".supabase")
        || has_dir("com.vercel.cli")
    {
        return Some("a cloud CLI's token");
    }
    if (parent == Some(".terraform.d") && name == "credentials.tfrc.json")
        || (parent == Some(".pulumi") && name == "credentials.json")
    {
        return Some("an infrastructure-as-code token");
    }
    if has_dir(".blastdoor") && (has_dir("keys") || name.ends_with(".key")) {
        return Some("blastdoor's own keys");
    }
    match name {
        ".netrc" | "_netrc" | ".pgpass" | ".git-credentials" | ".pypirc" | ".npmrc" | ".my.cnf"
        | "credentials.json" | "credentials" | ".bash_history" | ".zsh_history"
        | "secrets.json" | "secrets.yaml" | "secrets.yml" | "secrets.toml" | ".secrets" => {
            return Some("a file that stores credentials");
        }
        _ => {}
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("service-account") && lower.ends_with(".json") {
        return Some("a cloud service-account key");
    }
    for extension in [".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".ppk"] {
        if lower.ends_with(extension) {
            return Some("a private key or certificate store");
        }
    }
    None
}

/// Names what a path protects when writing, moving or deleting it would disarm blastdoor.
pub(crate) fn protected_path(path: &Path, context: &Context<'_>) -> Option<&'static str> {
    let parts: Vec<&str> = path.iter().filter_map(|part| part.to_str()).collect();
    let name = parts.last().copied().unwrap_or("");
    let parent = parts
        .len()
        .checked_sub(2)
        .and_then(|index| parts.get(index))
        .copied();
    if parent == Some(".claude") && name.starts_with("settings") && name.ends_with(".json") {
        return Some("Claude Code's hook settings");
    }
    if parent == Some(".codex") && matches!(name, "hooks.json" | "config.toml") {
        return Some("Codex's hook settings");
    }
    if parent == Some(".cursor") && name == "hooks.json" {
        return Some("Cursor's hook settings");
    }
    if parent == Some(".gemini") && name == "settings.json" {
        return Some("Gemini CLI's hook settings");
    }
    if parts.windows(2).any(|pair| pair == [".github", "hooks"]) {
        return Some("Copilot CLI's hook settings");
    }
    if matches!(name, ".claude" | ".codex" | ".cursor" | ".gemini") {
        return Some("an agent harness's settings directory");
    }
    let blastdoor_home = match context.blastdoor_home {
        Some(home) => Some(normalise(home)),
        None => context.home.map(|home| normalise(&home.join(".blastdoor"))),
    };
    if let Some(blastdoor_home) = blastdoor_home
        && (path.starts_with(&blastdoor_home)
            || blastdoor_home.starts_with(path) && path != Path::new("/"))
    {
        return Some("blastdoor's configuration, keys and state (BLASTDOOR_HOME)");
    }
    if parts.contains(&".blastdoor") {
        return Some("blastdoor's configuration, keys and state");
    }
    None
}

/// True for a path that names the blastdoor binary outside the workspace.
pub(crate) fn is_blastdoor_binary(path: &Path, context: &Context<'_>) -> bool {
    path.file_name().and_then(|name| name.to_str()) == Some("blastdoor")
        && !path.starts_with(normalise(context.cwd))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NoFiles;

    fn context() -> Context<'static> {
        Context {
            cwd: Path::new("/home/u/proj"),
            home: Some(Path::new("/home/u")),
            blastdoor_home: None,
            files: &NoFiles,
        }
    }

    #[test]
    fn deletion_places() {
        let context = context();
        for (text, place) in [
            ("target", DeletePlace::BuildOutput),
            ("./node_modules/", DeletePlace::BuildOutput),
            ("packages/a/dist", DeletePlace::BuildOutput),
            ("node_modules/../src", DeletePlace::Workspace),
            ("src", DeletePlace::Workspace),
            (".", DeletePlace::WorkspaceRoot),
            ("*", DeletePlace::Workspace),
            ("..", DeletePlace::Catastrophic),
            ("../..", DeletePlace::WorkspaceRoot),
            (".git", DeletePlace::GitDirectory),
            ("/", DeletePlace::Catastrophic),
            ("/*", DeletePlace::Catastrophic),
            ("~", DeletePlace::Catastrophic),
            ("/home/u", DeletePlace::Catastrophic),
            ("/tmp/x", DeletePlace::Scratch),
            ("/tmp", DeletePlace::Outside),
            ("/etc", DeletePlace::Outside),
            ("~/other", DeletePlace::Outside),
        ] {
            assert_eq!(delete_place(text, &context), place, "{text}");
        }
    }

    #[test]
    fn credential_files() {
        for path in [
            "/p/.env",
            "/p/.env.production",
            "/home/u/.railway/config.json",
            "/home/u/.aws/credentials",
            "/home/u/.kube/config",
            "/home/u/.ssh/id_ed25519",
            "/home/u/.config/gcloud/credentials.db",
            "/p/server.pem",
            "/p/prod.env",
        ] {
            assert!(credential_file(Path::new(path)).is_some(), "{path}");
        }
        for path in [
            "/p/.env.example",
            "/p/src/main.rs",
            "/home/u/.ssh/id_ed25519.pub",
            "/home/u/.ssh/known_hosts",
            "/home/u/.aws/config",
            "/p/environment.ts",
        ] {
            assert!(credential_file(Path::new(path)).is_none(), "{path}");
        }
    }

    #[test]
    fn protected_paths() {
        let context = context();
        for path in [
            "/home/u/proj/.claude/settings.json",
            "/home/u/proj/.claude/settings.local.json",
            "/home/u/.codex/hooks.json",
            "/p/.cursor/hooks.json",
            "/p/.gemini/settings.json",
            "/p/.github/hooks/blastdoor.json",
            "/home/u/.blastdoor/blastdoor.toml",
        ] {
            assert!(
                protected_path(Path::new(path), &context).is_some(),
                "{path}"
            );
        }
        assert!(protected_path(Path::new("/home/u/proj/src/settings.json"), &context).is_none());
    }
}
