//! Prometheus metrics, hand-written text exposition over atomics: request counts per upstream
//! and decision, and latency histograms (time to decide, and the whole request).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// How a request ended, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    Allow,
    Hold,
    Deny,
    Error,
}

impl Counted {
    const ALL: [Counted; 4] = [Counted::Allow, Counted::Hold, Counted::Deny, Counted::Error];

    fn as_str(self) -> &'static str {
        match self {
            Counted::Allow => "allow",
            Counted::Hold => "hold",
            Counted::Deny => "deny",
            Counted::Error => "error",
        }
    }

    fn index(self) -> usize {
        match self {
            Counted::Allow => 0,
            Counted::Hold => 1,
            Counted::Deny => 2,
            Counted::Error => 3,
        }
    }
}

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{{{}}} {sum}", labels.trim_end_matches(','));
        let _ = writeln!(
            out,
            "{name}_count{{{}}} {count}",
            labels.trim_end_matches(',')
        );
    }
}

#[derive(Debug, Default)]
struct UpstreamMetrics {
    requests: [AtomicU64; 4],
    decision_seconds: Histogram,
    request_seconds: Histogram,
}

/// The gateway's metrics. Upstreams are fixed at start-up, so recording never locks.
#[derive(Debug)]
pub struct Metrics {
    upstreams: BTreeMap<String, UpstreamMetrics>,
    unrouted: AtomicU64,
}

impl Metrics {
    pub fn new<'a>(upstream_names: impl IntoIterator<Item = &'a str>) -> Metrics {
        Metrics {
            upstreams: upstream_names
                .into_iter()
                .map(|name| (name.to_owned(), UpstreamMetrics::default()))
                .collect(),
            unrouted: AtomicU64::new(0),
        }
    }

    /// Counts a request that named no configured upstream (or failed before routing).
    pub fn unrouted(&self) {
        self.unrouted.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request to `upstream` and its latencies.
    pub fn record(
        &self,
        upstream: &str,
        counted: Counted,
        decision: Option<Duration>,
        total: Duration,
    ) {
        let Some(metrics) = self.upstreams.get(upstream) else {
            self.unrouted();
            return;
        };
        if let Some(counter) = metrics.requests.get(counted.index()) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(decision) = decision {
            metrics.decision_seconds.observe(decision);
        }
        metrics.request_seconds.observe(total);
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP blastdoor_gateway_requests_total Requests handled, by upstream and decision.\n",
        );
        out.push_str("# TYPE blastdoor_gateway_requests_total counter\n");
        for (name, metrics) in &self.upstreams {
            for counted in Counted::ALL {
                let value = metrics
                    .requests
                    .get(counted.index())
                    .map_or(0, |c| c.load(Ordering::Relaxed));
                let _ = writeln!(
                    out,
                    "blastdoor_gateway_requests_total{{upstream=\"{name}\",decision=\"{}\"}} {value}",
                    counted.as_str()
                );
            }
        }
        out.push_str(
            "# HELP blastdoor_gateway_unrouted_total Requests that named no configured upstream.\n",
        );
        out.push_str("# TYPE blastdoor_gateway_unrouted_total counter\n");
        let _ = writeln!(
            out,
            "blastdoor_gateway_unrouted_total {}",
            self.unrouted.load(Ordering::Relaxed)
        );
        out.push_str("# HELP blastdoor_gateway_decision_seconds Time from a complete request to a recorded decision.\n");
        out.push_str("# TYPE blastdoor_gateway_decision_seconds histogram\n");
        for (name, metrics) in &self.upstreams {
            metrics.decision_seconds.render(
                &mut out,
                "blastdoor_gateway_decision_seconds",
                &format!("upstream=\"{name}\","),
            );
        }
        out.push_str(
            "# HELP blastdoor_gateway_request_seconds Time from request head to response head.\n",
        );
        out.push_str("# TYPE blastdoor_gateway_request_seconds histogram\n");
        for (name, metrics) in &self.upstreams {
            metrics.request_seconds.render(
                &mut out,
                "blastdoor_gateway_request_seconds",
                &format!("upstream=\"{name}\","),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_renders_per_upstream_and_decision() {
        let metrics = Metrics::new(["railway"]);
        metrics.record(
            "railway",
            Counted::Hold,
            Some(Duration::from_micros(300)),
            Duration::from_millis(2),
        );
        metrics.record("nope", Counted::Allow, None, Duration::ZERO);
        let text = metrics.render();
        assert!(text.contains(
            "blastdoor_gateway_requests_total{upstream=\"railway\",decision=\"hold\"} 1"
        ));
        assert!(text.contains(
            "blastdoor_gateway_requests_total{upstream=\"railway\",decision=\"allow\"} 0"
        ));
        assert!(text.contains("blastdoor_gateway_unrouted_total 1"));
        assert!(text.contains(
            "blastdoor_gateway_decision_seconds_bucket{upstream=\"railway\",le=\"0.0005\"} 1"
        ));
        assert!(text.contains(
            "blastdoor_gateway_decision_seconds_bucket{upstream=\"railway\",le=\"0.00025\"} 0"
        ));
        assert!(text.contains("blastdoor_gateway_request_seconds_count{upstream=\"railway\"} 1"));
    }
}
