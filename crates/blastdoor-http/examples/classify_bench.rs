//! Measures what classification costs per request: every Railway CLI document wrapped in a
//! request body, the incident body, and a REST and a Kubernetes path. Prints figures; asserts
//! nothing. Run: `cargo run --release -p blastdoor-http --example classify_bench`.

use std::hint::black_box;
use std::time::Instant;

use blastdoor_http::Method;

fn main() {
    let root =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test_data/railway-cli");
    let mut bodies = Vec::new();
    for kind in ["queries", "mutations"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind)) else {
            eprintln!("fixtures not found under {}", root.display());
            return;
        };
        for entry in entries.flatten() {
            if let Ok(document) = std::fs::read_to_string(entry.path()) {
                let body = serde_json::json!({ "query": document, "variables": {"id": "v"} });
                if let Ok(bytes) = serde_json::to_vec(&body) {
                    bodies.push(bytes);
                }
            }
        }
    }
    let incident = br#"{"query":"mutation VolumeDelete($id: String!) { volumeDelete(volumeId: $id) }","variables":{"id":"vol-1"},"operationName":"VolumeDelete"}"#.to_vec();
    let rounds = 200;
    measure("every CLI document", rounds, &bodies);
    measure(
        "incident volumeDelete",
        rounds * 50,
        std::slice::from_ref(&incident),
    );

    let iterations = 1_000_000;
    let start = Instant::now();
    for _ in 0..iterations {
        let _ = black_box(blastdoor_http::rest::classify(
            &Method::Delete,
            black_box("/v1/projects/42/databases/main"),
            b"",
            &[],
        ));
    }
    report("REST DELETE path", iterations, start);
    let namespaces =
        blastdoor_http::kubernetes::NamespaceMap::new([], blastdoor_core::Environment::Unknown);
    let start = Instant::now();
    for _ in 0..iterations {
        let _ = black_box(blastdoor_http::kubernetes::classify(
            &blastdoor_http::kubernetes::KubernetesRequest {
                method: &Method::Delete,
                path: black_box("/api/v1/namespaces/prod/persistentvolumeclaims/data"),
                query: None,
                content_type: None,
                body: b"",
            },
            &namespaces,
        ));
    }
    report("Kubernetes PVC delete", iterations, start);
    let patch = br#"{"metadata":{"labels":{"tier":"web"}},"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"web","image":"web:2"}]}}}}"#;
    let start = Instant::now();
    for _ in 0..iterations {
        let _ = black_box(blastdoor_http::kubernetes::classify(
            &blastdoor_http::kubernetes::KubernetesRequest {
                method: &Method::Patch,
                path: black_box("/apis/apps/v1/namespaces/prod/deployments/web"),
                query: None,
                content_type: Some(b"application/strategic-merge-patch+json"),
                body: black_box(patch),
            },
            &namespaces,
        ));
    }
    report("Kubernetes deployment patch", iterations, start);
}

fn measure(name: &str, rounds: usize, bodies: &[Vec<u8>]) {
    let start = Instant::now();
    for _ in 0..rounds {
        for body in bodies {
            black_box(blastdoor_http::railway::classify_request_body(black_box(
                body,
            )));
        }
    }
    report(name, rounds * bodies.len(), start);
}

fn report(name: &str, count: usize, start: Instant) {
    let elapsed = start.elapsed();
    let per_request = elapsed.as_secs_f64() * 1e6 / count.max(1) as f64;
    println!("{name:<24} {count:>9} classifications  {per_request:>8.2} µs each");
}
