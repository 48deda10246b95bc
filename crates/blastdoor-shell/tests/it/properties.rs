//! Property tests: classification never panics and is deterministic, on arbitrary strings and
//! on corpus commands mutated byte by byte.

use proptest::prelude::*;

use crate::support::{assess, corpus, files};

/// Found by `cargo fuzz run assess_command`: a word with many unclosed `{` made the brace
/// parser backtrack exponentially, so classification never returned. It must return (the
/// 60-second bound only separates "finishes" from "hangs") and must not allow the command.
#[test]
fn many_unclosed_braces_classify_without_hanging() {
    let command = format!(",kub{}[ctl creeeeeee-sa[ctl creeeeeee-", "{".repeat(94));
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let assessment = assess(&command, &files());
        let _ = sender.send(assessment);
    });
    let assessment = receiver
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("classification of a word with many unclosed braces never returned");
    assert!(!assessment.verdict.reasons.is_empty());
}

/// Found by `cargo fuzz run assess_command`: a brace expression holding a run of digits too
/// long for an `i64` made brush-parser panic (`unwrap` on the integer parse). The word's value
/// is unknown, so the command must classify, and not be allowed.
#[test]
fn a_brace_number_that_overflows_classifies_without_panicking() {
    let crash = format!(
        ",kb{{k{{{}*\0{{{}{{{{{{{{ternative-",
        "\0".repeat(7),
        "8".repeat(71)
    );
    for command in [
        crash,
        "rm -rf /x{1..99999999999999999999}".to_owned(),
        "r{m,x} -rf /srv/data99999999999999999999".to_owned(),
    ] {
        let assessment = assess(&command, &files());
        assert!(!assessment.verdict.reasons.is_empty(), "{command}");
        assert_ne!(
            assessment.verdict.decision,
            blastdoor_core::Decision::Allow,
            "{command}"
        );
    }
}

/// A word whose brace expansion is not followed (too many digits or braces) could become any
/// flags at all, so it never makes a command safe (found in review: these were allowed once
/// the overflow above was bounded).
#[test]
fn a_brace_word_too_large_to_follow_is_never_allowed() {
    for command in [
        "find / {1111111111111111111,-delete}",
        "git push origin main {--force,1111111111111111111}",
        "find / {a,-delete}{,}{,}{,}{,}{,}{,}{,}{,}",
        "ls {a,b}{,}{,}{,}{,}{,}{,}{,}{,}",
    ] {
        let assessment = assess(command, &files());
        assert_ne!(
            assessment.verdict.decision,
            blastdoor_core::Decision::Allow,
            "{command}"
        );
    }
    // Ordinary brace expansion still expands and is judged on what it gives.
    assert_eq!(
        assess("ls {src,tests}/", &files()).verdict.decision,
        blastdoor_core::Decision::Allow
    );
    assert_ne!(
        assess("find / {-name,-delete}", &files()).verdict.decision,
        blastdoor_core::Decision::Allow
    );
}

/// A command's output standing where `find` or `git push` read flags could be `-delete` or
/// `--force`: never allowed. Computed values that are only values stay allowed.
#[test]
fn computed_arguments_in_flag_positions_are_never_allowed() {
    for command in [
        "find / $(echo -delete)",
        "find /srv -type f `printf -- -delete`",
        "git push origin main $(echo --force)",
        "git -C repo push origin $(echo +main)",
    ] {
        assert_ne!(
            assess(command, &files()).verdict.decision,
            blastdoor_core::Decision::Allow,
            "{command}"
        );
    }
    for command in [
        "find . -name \"$(cat pattern.txt)\"",
        "git commit -m \"$(cat msg.txt)\"",
        "ls $(pwd)",
    ] {
        assert_eq!(
            assess(command, &files()).verdict.decision,
            blastdoor_core::Decision::Allow,
            "{command}"
        );
    }
}

fn shell_like() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "rm",
        "-rf",
        "/",
        "~",
        "$X",
        "$(",
        ")",
        "`",
        "'",
        "\"",
        "\\",
        "|",
        "||",
        "&&",
        ";",
        "<<EOF\n",
        "\nEOF\n",
        "<<<",
        ">",
        ">>",
        "<(",
        "{",
        "}",
        "{a,b}",
        "$'\\x72'",
        "$IFS",
        "bash",
        "-c",
        "eval",
        "curl",
        "-d",
        "@-",
        "@body.json",
        "https://backboard.railway.com/graphql/v2",
        "python3",
        "-e",
        "sudo",
        "env",
        "xargs",
        "find",
        "-exec",
        "{}",
        ";",
        "+",
        "ssh",
        "h",
        "kubectl",
        "exec",
        "--",
        "psql",
        "DROP TABLE x",
        " ",
        "\n",
        "#",
        "for",
        "in",
        "do",
        "done",
        "if",
        "then",
        "fi",
        "case",
        "esac",
        "((",
        "))",
        "$((1+1))",
        "${x:-y}",
        "!",
        "&",
        "2>&1",
        "*",
        "?",
        "[",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_and_is_deterministic_on_arbitrary_text(text in ".{0,200}") {
        let files = files();
        let first = assess(&text, &files);
        let second = assess(&text, &files);
        prop_assert_eq!(first, second);
    }

    #[test]
    fn never_panics_and_is_deterministic_on_shell_like_text(text in shell_like()) {
        let files = files();
        let first = assess(&text, &files);
        prop_assert!(!first.verdict.reasons.is_empty());
        if first.operation.risk() == blastdoor_core::Risk::Unknown {
            prop_assert_ne!(first.verdict.decision, blastdoor_core::Decision::Allow);
        }
        let second = assess(&text, &files);
        prop_assert_eq!(first, second);
    }

    #[test]
    fn mutated_corpus_commands_never_panic(index in any::<prop::sample::Index>(), position in any::<prop::sample::Index>(), byte in any::<u8>(), delete in any::<bool>()) {
        let cases = corpus();
        let case = index.get(&cases);
        let mut bytes = case.command.clone().into_bytes();
        if !bytes.is_empty() {
            let at = position.index(bytes.len());
            if delete { bytes.remove(at); } else { bytes.insert(at, byte); }
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let files = files();
        let first = assess(&text, &files);
        let second = assess(&text, &files);
        prop_assert_eq!(first, second);
    }
}
