//! A one-line progress meter on stderr for long transfers, drawn only when stderr is a
//! terminal (never in logs, pipes or the gateway) and at most five times a second.

use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

/// Whether to draw progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Never draw (servers, tests).
    Quiet,
    /// Draw on stderr if it is a terminal.
    Terminal,
}

#[derive(Debug)]
pub(crate) struct Meter {
    label: &'static str,
    total: Option<u64>,
    started: Instant,
    last_draw: Option<Instant>,
    enabled: bool,
}

impl Meter {
    pub(crate) fn new(progress: Progress, label: &'static str, total: Option<u64>) -> Meter {
        Meter {
            label,
            total,
            started: Instant::now(),
            last_draw: None,
            enabled: progress == Progress::Terminal && std::io::stderr().is_terminal(),
        }
    }

    pub(crate) fn update(&mut self, done: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self
            .last_draw
            .is_some_and(|last| now.duration_since(last) < Duration::from_millis(200))
        {
            return;
        }
        self.last_draw = Some(now);
        self.draw(done);
    }

    pub(crate) fn finish(&mut self, done: u64) {
        if self.enabled {
            self.draw(done);
            eprintln!();
        }
    }

    fn draw(&self, done: u64) {
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        let megabytes = to_megabytes(done);
        let rate = megabytes / seconds;
        let line = match self.total.filter(|total| *total > 0) {
            Some(total) => {
                let fraction = (to_megabytes(done) / to_megabytes(total)).clamp(0.0, 1.0);
                let filled = (fraction * 30.0).round() as usize;
                format!(
                    "\r{}: [{}{}] {:>3.0}% {:.1}/{:.1} MB {:.1} MB/s ",
                    self.label,
                    "#".repeat(filled),
                    " ".repeat(30usize.saturating_sub(filled)),
                    fraction * 100.0,
                    megabytes,
                    to_megabytes(total),
                    rate
                )
            }
            None => format!("\r{}: {megabytes:.1} MB {rate:.1} MB/s ", self.label),
        };
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(line.as_bytes());
        let _ = stderr.flush();
    }
}

fn to_megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}
