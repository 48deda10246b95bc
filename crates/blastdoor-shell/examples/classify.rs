//! Classifies each line of stdin (U+2424 stands for a newline) in the current directory and
//! prints the decision, rule ids and the time taken; with `--bench`, prints only timing
//! figures over the lines. A development aid and the benchmark of this crate, not a test.

use std::io::BufRead;
use std::time::Instant;

use blastdoor_shell::{Context, FsSource, assess_command};

fn main() {
    let bench = std::env::args().any(|arg| arg == "--bench");
    let cwd = std::env::current_dir().unwrap_or_else(|_| std::path::PathBuf::from("/"));
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let context = Context {
        cwd: &cwd,
        home: home.as_deref(),
        blastdoor_home: None,
        files: &FsSource,
    };
    let lines: Vec<String> = std::io::stdin()
        .lock()
        .lines()
        .map_while(Result::ok)
        .collect();
    let mut timings = Vec::new();
    for line in &lines {
        let command = line
            .rsplit('\t')
            .next()
            .unwrap_or(line)
            .replace('\u{2424}', "\n");
        let start = Instant::now();
        let assessment = assess_command(&command, &context);
        let elapsed = start.elapsed();
        timings.push(elapsed.as_nanos());
        if !bench {
            let ids: Vec<String> = assessment
                .verdict
                .rule_ids()
                .map(|id| id.to_string())
                .collect();
            println!(
                "{:<6} {:>8.1}us {:<40} {}",
                assessment.verdict.decision.as_str(),
                elapsed.as_secs_f64() * 1e6,
                ids.join(","),
                line
            );
        }
    }
    timings.sort_unstable();
    if let (Some(median), Some(max)) = (timings.get(timings.len() / 2), timings.last()) {
        let p99 = timings.get(timings.len() * 99 / 100).unwrap_or(max);
        println!(
            "{} commands: median {:.1} us, p99 {:.1} us, max {:.1} us",
            timings.len(),
            *median as f64 / 1e3,
            *p99 as f64 / 1e3,
            *max as f64 / 1e3
        );
    }
}
