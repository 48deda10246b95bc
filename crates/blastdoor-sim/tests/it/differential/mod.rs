//! The differential test between the gateway's Railway classifier and the simulator (issue 13):
//! for generated requests (see `generate`), every field a real GraphQL executor resolves
//! against Railway's schema is one the classifier walked.
//!
//! Each request goes to the simulator (a server on port 0) and through
//! `blastdoor_http::railway::classify_request_body` (or `classify_get_query` for a GET). Per
//! executed operation, each `(concrete object type, field)` the simulator resolved, introspection
//! left out, must be covered by a `(declared type, field)` of the classifier's `walked` for that
//! operation's root fields: the same field name on the same type, or on an interface or union
//! the object type is a possible type of. The root fields must be the same (as sent, fragments
//! expanded, `@skip`/`@include` not applied). The classifier must never call a request
//! malformed when the simulator executed all of it, and must never panic, whatever the
//! simulator made of the request.
//!
//! `BLASTDOOR_DIFF_DOCUMENTS` (default 3000) sets how many requests, `BLASTDOOR_DIFF_SEED` the
//! seed; request `i` is generated from the seed and `i` alone, so a failure names both and prints
//! the request. Run with `--nocapture` to see the counts.

mod generate;

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use blastdoor_http::railway::{RailwayClassification, classify_get_query, classify_request_body};
use blastdoor_sim::schema::schema;
use blastdoor_sim::{INCIDENT_ACCOUNT_TOKEN, RequestRecord, ResolvedField, SimState};

use crate::client::{Auth, Reply, Running, send, start};
use generate::{Generator, Shape};

const DEFAULT_DOCUMENTS: u64 = 3000;
const DEFAULT_SEED: u64 = 13;
/// A fresh incident scenario every so many requests: mutations delete what later requests
/// would otherwise resolve.
const REQUESTS_PER_SIMULATOR: u64 = 40;
/// Failures printed in full before the test gives up.
const MAX_FAILURES: usize = 5;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(default)
}

/// The seed of request `index`.
fn request_seed(seed: u64, index: u64) -> u64 {
    seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[derive(Debug, Default)]
struct Tally {
    requests: u64,
    batches: u64,
    gets: u64,
    operations: u64,
    executed: u64,
    /// Operations the simulator refused as invalid (`GRAPHQL_VALIDATION_FAILED`) or otherwise.
    refused_invalid: u64,
    refused_other: u64,
    malformed: u64,
    /// Requests the simulator refused (some operation) that the classifier classified anyway.
    classified_though_refused: u64,
    /// Resolved `(type, field)` pairs compared, over every executed operation.
    fields: u64,
    /// Of those, fields the classifier walked on an interface or union (or a fragment on
    /// one) and the simulator resolved on an object type of it.
    through_abstract: u64,
    distinct: BTreeSet<ResolvedField>,
    /// Executed documents with named fragments, inline fragments, variables, `@skip` or
    /// `@include`, several operations.
    with_fragments: u64,
    with_inline_fragments: u64,
    with_variables: u64,
    with_directives: u64,
    with_operations: u64,
    deepest: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_the_simulator_resolves_is_one_the_classifier_walked() {
    let documents = env_number("BLASTDOOR_DIFF_DOCUMENTS", DEFAULT_DOCUMENTS);
    let seed = env_number("BLASTDOOR_DIFF_SEED", DEFAULT_SEED);
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    let mut sim: Option<Running> = None;
    for index in 0..documents {
        if index % REQUESTS_PER_SIMULATOR == 0 {
            sim = Some(start(SimState::incident_scenario()).await);
        }
        let Some(running) = &sim else { continue };
        let shape = Generator::new(request_seed(seed, index)).request();
        // The simulator answers on the runtime's workers while this thread classifies.
        let answer = tokio::spawn(send_to(running.addr, shape.clone()));
        let classification = classify(&shape);
        let reply = answer.await.unwrap();
        let record = running.state.requests().pop().unwrap();
        let problems = compare(&shape, &classification, &reply, &record, &mut tally);
        if !problems.is_empty() {
            failures.push(format!(
                "request {index} (BLASTDOOR_DIFF_SEED={seed}):\n{}\n{}\nclassifier: {}\n",
                problems.join("\n"),
                describe(&shape),
                match &classification {
                    Ok(classification) => classification.summary(),
                    Err(panic) => format!("PANICKED: {panic}"),
                },
            ));
            if failures.len() >= MAX_FAILURES {
                break;
            }
        }
    }
    println!(
        "differential: {} requests ({} batches, {} GETs) in {:.1?}, seed {seed}: {} operations, \
         {} executed, {} refused as invalid and {} otherwise by the simulator; {} malformed to \
         the classifier, {} refused by the simulator but classified; {} resolved fields \
         compared ({} of them walked on an interface or union, {} distinct (type, field) pairs, \
         deepest selection {}); executed operations with named fragments {}, inline fragments \
         {}, variables {}, @skip/@include {}, in a document of several operations {}",
        tally.requests,
        tally.batches,
        tally.gets,
        started.elapsed(),
        tally.operations,
        tally.executed,
        tally.refused_invalid,
        tally.refused_other,
        tally.malformed,
        tally.classified_though_refused,
        tally.fields,
        tally.through_abstract,
        tally.distinct.len(),
        tally.deepest,
        tally.with_fragments,
        tally.with_inline_fragments,
        tally.with_variables,
        tally.with_directives,
        tally.with_operations,
    );
    assert!(
        failures.is_empty(),
        "{} request(s) where the classifier and the simulator disagree:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The generator must reach the simulator's modelled objects, not just the roots.
    assert!(tally.executed * 2 > tally.operations, "{tally:?}");
    assert!(tally.distinct.len() > 200, "{tally:?}");
}

/// Sends `shape` to the simulator.
async fn send_to(addr: std::net::SocketAddr, shape: Shape) -> Reply {
    let auth = Auth::Bearer(INCIDENT_ACCOUNT_TOKEN);
    match &shape {
        Shape::Get(request) => {
            let target = format!("/graphql/v2?{}", request.to_query_string());
            send(addr, "GET", &target, auth, b"").await
        }
        Shape::Single(_) | Shape::Batch(_) => {
            send(addr, "POST", "/graphql/v2", auth, &shape.body()).await
        }
    }
}

/// Classifies `shape` the way the gateway does; a panic is caught and returned as its message.
fn classify(shape: &Shape) -> Result<RailwayClassification, String> {
    let classified = match shape {
        Shape::Get(request) => {
            let query_string = request.to_query_string();
            catch_unwind(AssertUnwindSafe(|| classify_get_query(&query_string)))
        }
        Shape::Single(_) | Shape::Batch(_) => {
            let body = shape.body();
            catch_unwind(AssertUnwindSafe(|| classify_request_body(&body)))
        }
    };
    classified.map_err(panic_message)
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

/// Introspection (`__typename`, `__schema`, `__type` and the fields of the `__` types): the
/// classifier walks Railway's data, not the schema's description of itself.
fn is_introspection(field: &ResolvedField) -> bool {
    field.field.starts_with("__") || field.parent_type.starts_with("__")
}

/// What is wrong with one request's classification, if anything.
fn compare(
    shape: &Shape,
    classification: &Result<RailwayClassification, String>,
    reply: &Reply,
    record: &RequestRecord,
    tally: &mut Tally,
) -> Vec<String> {
    let schema = schema();
    let requests = shape.requests();
    tally.requests += 1;
    match shape {
        Shape::Batch(_) => tally.batches += 1,
        Shape::Get(_) => tally.gets += 1,
        Shape::Single(_) => {}
    }
    tally.operations += requests.len() as u64;
    let executed = record
        .operations
        .iter()
        .filter(|operation| operation.executed)
        .count();
    tally.executed += executed as u64;
    let refused = requests.len() - executed.min(requests.len());
    let invalid = reply
        .body
        .to_string()
        .matches("GRAPHQL_VALIDATION_FAILED")
        .count()
        .min(refused);
    tally.refused_invalid += invalid as u64;
    tally.refused_other += (refused - invalid) as u64;
    let all_executed = refused == 0 && record.operations.len() == requests.len();

    let classification = match classification {
        Ok(classification) => classification,
        Err(panic) => return vec![format!("the classifier panicked: {panic}")],
    };
    if let Some(why) = &classification.malformed {
        tally.malformed += 1;
        return if all_executed {
            vec![format!(
                "the classifier calls the request malformed ({why}), but the simulator executed \
                 every operation of it (status {})",
                reply.status
            )]
        } else {
            Vec::new()
        };
    }
    if !all_executed {
        tally.classified_though_refused += 1;
    }

    let mut problems = Vec::new();
    for (index, operation) in record.operations.iter().enumerate() {
        if !operation.executed {
            continue;
        }
        if let Some(request) = requests.get(index) {
            let query = &request.query;
            tally.with_fragments += u64::from(query.contains("fragment "));
            tally.with_inline_fragments += u64::from(query.contains("..."));
            tally.with_variables += u64::from(query.contains('$'));
            tally.with_directives +=
                u64::from(query.contains("@skip") || query.contains("@include"));
            tally.with_operations += u64::from(
                ["\nquery", "\nmutation", "\nsubscription"]
                    .iter()
                    .any(|keyword| query.contains(keyword)),
            );
        }
        let fields: Vec<_> = classification
            .fields
            .iter()
            .filter(|field| field.batch_index == index)
            .collect();
        let mut sent: Vec<&str> = operation.fields.iter().map(String::as_str).collect();
        let mut classified: Vec<&str> = fields.iter().map(|field| field.field.as_str()).collect();
        sent.sort_unstable();
        classified.sort_unstable();
        if sent != classified {
            problems.push(format!(
                "operation {index}: the simulator's root fields {sent:?} are not the \
                 classifier's {classified:?}"
            ));
        }
        let walked: Vec<(&str, &str)> = fields
            .iter()
            .flat_map(|field| field.walked.iter().copied())
            .collect();
        let mut missing = Vec::new();
        for resolved in operation
            .resolved
            .iter()
            .filter(|field| !is_introspection(field))
        {
            tally.fields += 1;
            tally.distinct.insert(*resolved);
            let exact = walked.contains(&(resolved.parent_type, resolved.field));
            let covered = exact
                || walked.iter().any(|&(declared, name)| {
                    name == resolved.field
                        && schema.is_possible_type(declared, resolved.parent_type)
                });
            if !covered {
                missing.push(resolved.to_string());
            } else if !exact {
                tally.through_abstract += 1;
            }
        }
        if !missing.is_empty() {
            problems.push(format!(
                "operation {index}: resolved by the simulator but not walked by the \
                 classifier: {missing:?}\n  walked: {walked:?}"
            ));
        }
    }
    tally.deepest = tally.deepest.max(
        requests
            .iter()
            .map(|request| nesting(&request.query))
            .max()
            .unwrap_or(0),
    );
    problems
}

/// The deepest `{` nesting of a document, as written.
fn nesting(query: &str) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0;
    for character in query.chars() {
        match character {
            '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The request as sent, for a failure message: each document in full, its operation name and
/// variables.
fn describe(shape: &Shape) -> String {
    let (how, requests) = match shape {
        Shape::Single(request) => ("POST", vec![request]),
        Shape::Get(request) => ("GET", vec![request]),
        Shape::Batch(requests) => ("POST batch", requests.iter().collect()),
    };
    let mut text = format!("{how}:");
    for (index, request) in requests.iter().enumerate() {
        text.push_str(&format!(
            "\n--- [{index}] operationName: {:?}, variables: {}\n{}",
            request.operation_name,
            serde_json::Value::Object(request.variables.clone()),
            request.query
        ));
    }
    text
}
