//! Shared fixtures: the test workspace `/home/u/proj` with `test_data/files/` mounted in it,
//! and the corpus reader.

use std::path::{Path, PathBuf};

use blastdoor_shell::{Assessment, Context, MemorySource, assess_command};

pub const CWD: &str = "/home/u/proj";
pub const HOME: &str = "/home/u";
pub const BLASTDOOR_HOME: &str = "/home/u/.blastdoor";

/// `test_data/files/` as the workspace's files.
pub fn files() -> MemorySource {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/files");
    let mut source = MemorySource::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(&root).unwrap();
                source =
                    source.with_file(Path::new(CWD).join(relative), std::fs::read(&path).unwrap());
            }
        }
    }
    source
}

pub fn assess(command: &str, files: &MemorySource) -> Assessment {
    let context = Context {
        cwd: Path::new(CWD),
        home: Some(Path::new(HOME)),
        blastdoor_home: Some(Path::new(BLASTDOOR_HOME)),
        files,
    };
    assess_command(command, &context)
}

/// One corpus line: `expected<TAB>category<TAB>command`, U+2424 standing for a newline.
#[derive(Debug, Clone)]
pub struct Case {
    pub file: String,
    pub line: usize,
    pub expected: String,
    pub category: String,
    pub command: String,
}

pub fn corpus() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/corpus");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "tsv"))
        .collect();
    paths.sort();
    let mut cases = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for (index, line) in text.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let mut parts = line.splitn(3, '\t');
            let expected = parts.next().unwrap().to_owned();
            let category = parts
                .next()
                .unwrap_or_else(|| panic!("{file}:{}: no category", index + 1))
                .to_owned();
            let command = parts
                .next()
                .unwrap_or_else(|| panic!("{file}:{}: no command", index + 1))
                .replace('\u{2424}', "\n");
            assert!(
                matches!(expected.as_str(), "allow" | "hold" | "deny"),
                "{file}:{}: bad expectation `{expected}`",
                index + 1
            );
            cases.push(Case {
                file: file.clone(),
                line: index + 1,
                expected,
                category,
                command,
            });
        }
    }
    cases
}
