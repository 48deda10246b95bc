//! Railway's GraphQL API (`POST /graphql/v2`, `GET /graphql/v2?query=`): what a request would
//! do, field by field.
//!
//! Entry points: [`classify_request_body`] for a POST body (one request object or a batched
//! array) and [`classify_get_query`] for a GET query string. Both parse the document, pick the
//! operation the server would run (`operationName`), expand fragments, substitute variables,
//! and classify every root field: queries and subscriptions are reads (some are flagged as
//! reading secrets), mutations take their risk from the reviewed [`table`] and then from the
//! hidden-delete rules in [`hidden`]. The whole request is as risky as its worst field; anything
//! that cannot be parsed or is not in the table is [`Risk::Unknown`].
//!
//! Limits on hostile input: bodies over [`MAX_BODY_BYTES`] and batches over [`MAX_BATCH`] are
//! not parsed; documents stop at [`document::MAX_TOKENS`] tokens and
//! [`document::MAX_RECURSION`] levels, fragment expansion at [`document::MAX_ROOT_SELECTIONS`]
//! root selections, argument values at [`document::MAX_VALUE_DEPTH`] levels; at most
//! [`MAX_IDS_PER_FIELD`] ids are extracted per field. Each limit gives `Unknown` with an error.

pub mod document;
pub mod hidden;
pub mod table;
pub mod topology;

use blastdoor_core::{Risk, RuleId};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::railway::document::{OperationType, RootField, shorten};
pub use crate::railway::topology::{
    EnvironmentMap, Topology, TopologyEnvironment, TopologyService, TopologyVolume, targets_for,
};
use crate::{HttpError, Method};

/// Bodies larger than this are not parsed (the gateway should refuse them before).
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Batched arrays with more operations than this are not classified.
pub const MAX_BATCH: usize = 32;
/// At most this many `(argument path, id)` pairs are kept per field.
pub const MAX_IDS_PER_FIELD: usize = 64;

/// Query fields that return secrets: reads, but flagged `railway.secrets-read`.
pub const SECRET_QUERY_FIELDS: &[&str] = &[
    "bucketS3Credentials",
    "variables",
    "variablesForServiceDeployment",
];

/// What a request would do: the worst risk of its fields, each field, and the error that made
/// it `Unknown` if it could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RailwayClassification {
    pub risk: Risk,
    pub fields: Vec<ClassifiedField>,
    /// Why the request could not be classified (then `risk` is `Unknown`). Holds no secrets:
    /// messages quote at most short pieces of the document, never variable values.
    pub error: Option<String>,
}

impl RailwayClassification {
    fn failed(error: &HttpError) -> RailwayClassification {
        RailwayClassification {
            risk: Risk::Unknown,
            fields: Vec::new(),
            error: Some(error.to_string()),
        }
    }

    /// A one-line description for the ledger and the approver: each field with its alias, ids,
    /// risk and rule (`mutation volumeDelete(volumeId: vol-1) → destroy [railway.volume-delete]`),
    /// or the error. Holds ids only, never argument values.
    pub fn summary(&self) -> String {
        if let Some(error) = &self.error {
            return format!("unclassifiable GraphQL request: {error}");
        }
        self.fields
            .iter()
            .map(ClassifiedField::summary)
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The distinct rule ids of the fields, in order of first appearance.
    pub fn rule_ids(&self) -> Vec<RuleId> {
        let mut ids: Vec<RuleId> = Vec::new();
        for field in &self.fields {
            if !ids.contains(&field.rule_id) {
                ids.push(field.rule_id.clone());
            }
        }
        ids
    }
}

/// One root field of the executed operation and what it would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassifiedField {
    /// `query`, `mutation` or `subscription`.
    pub operation_type: &'static str,
    /// The schema field (`volumeDelete`), whatever alias the document gave it.
    pub field: String,
    pub alias: Option<String>,
    pub risk: Risk,
    pub rule_id: RuleId,
    /// Why, in a sentence for the human who approves.
    pub explanation: String,
    /// The ids the field acts on, as `(argument path, value)`: `("volumeId", "vol-1")`,
    /// `("input.serviceId", "svc-1")`. Only arguments whose name ends in `id`/`Id`/`Ids`.
    pub ids: Vec<(String, String)>,
    /// Which request of a batched array the field belongs to (0 for a single request).
    pub batch_index: usize,
}

impl ClassifiedField {
    /// `mutation gone: volumeDelete(volumeId: vol-1) → destroy [railway.volume-delete]`.
    pub fn summary(&self) -> String {
        let alias = self
            .alias
            .as_ref()
            .map(|alias| format!("{}: ", shorten(alias)))
            .unwrap_or_default();
        let ids = self
            .ids
            .iter()
            .map(|(path, id)| format!("{}: {}", shorten(path), shorten(id)))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "{} {alias}{}({ids}) → {} [{}]",
            self.operation_type,
            shorten(&self.field),
            self.risk,
            self.rule_id
        )
    }
}

/// Classifies a POST body: a JSON request object `{"query", "variables", "operationName"}` or a
/// batched array of them. Never panics; anything it cannot understand is `Unknown`.
pub fn classify_request_body(body: &[u8]) -> RailwayClassification {
    match parse_body(body) {
        Ok(requests) => classify_requests(&requests),
        Err(error) => RailwayClassification::failed(&error),
    }
}

/// Classifies a GET request's query string (`query=...&variables=...&operationName=...`,
/// percent-encoded, without the leading `?`).
pub fn classify_get_query(query_string: &str) -> RailwayClassification {
    match parse_get_query(query_string) {
        Ok(request) => classify_requests(std::slice::from_ref(&request)),
        Err(error) => RailwayClassification::failed(&error),
    }
}

/// Classifies an HTTP request to the GraphQL endpoint whatever its method: GET by its query
/// string, POST by its body. A POST whose query string also holds `query`, `variables`,
/// `operationName` or `extensions` is `Unknown` (servers differ on which copy wins); any other
/// method is `Unknown`. `query_string` is the part after `?`, if any.
pub fn classify_http(
    method: &Method,
    query_string: Option<&str>,
    body: &[u8],
) -> RailwayClassification {
    match method {
        Method::Get => classify_get_query(query_string.unwrap_or("")),
        Method::Post => {
            let duplicated = query_string.unwrap_or("").split('&').find_map(|pair| {
                let key = pair.split_once('=').map_or(pair, |(key, _)| key);
                let key = percent_decode(key).unwrap_or_else(|_| key.to_owned());
                matches!(
                    key.as_str(),
                    "query" | "variables" | "operationName" | "extensions"
                )
                .then_some(key)
            });
            match duplicated {
                Some(key) => RailwayClassification::failed(&HttpError::ParametersInBothPlaces(key)),
                None => classify_request_body(body),
            }
        }
        other => RailwayClassification::failed(&HttpError::UnsupportedMethod(other.to_string())),
    }
}

/// A GraphQL request after JSON parsing: the document, the chosen operation, the variables.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphqlRequest {
    pub query: String,
    pub operation_name: Option<String>,
    /// May hold secrets (variable values): never log it.
    pub variables: Map<String, Value>,
}

/// Classifies already-parsed requests (a batch of one or more).
pub fn classify_requests(requests: &[GraphqlRequest]) -> RailwayClassification {
    let mut classification = RailwayClassification {
        risk: Risk::Read,
        fields: Vec::new(),
        error: None,
    };
    if requests.is_empty() {
        return RailwayClassification::failed(&HttpError::EmptyBatch);
    }
    for (batch_index, request) in requests.iter().enumerate() {
        match classify_one(request, batch_index) {
            Ok(fields) if fields.is_empty() => {
                classification.risk = Risk::Unknown;
                classification
                    .error
                    .get_or_insert_with(|| HttpError::NoOperation.to_string());
            }
            Ok(fields) => {
                for (field, error) in fields {
                    classification.risk = classification.risk.max(field.risk);
                    classification.fields.push(field);
                    if let Some(error) = error {
                        // A field that could not be read whole makes the request `Unknown`
                        // (`max` above already did; this names why).
                        classification.risk = Risk::Unknown;
                        let message = if requests.len() > 1 {
                            format!("request {batch_index} of the batch: {error}")
                        } else {
                            error.to_string()
                        };
                        classification.error.get_or_insert(message);
                    }
                }
            }
            Err(error) => {
                classification.risk = Risk::Unknown;
                let message = if requests.len() > 1 {
                    format!("request {batch_index} of the batch: {error}")
                } else {
                    error.to_string()
                };
                classification.error.get_or_insert(message);
            }
        }
    }
    classification
}

/// The fields of one request, each with the error that made it `Unknown`, if any.
fn classify_one(
    request: &GraphqlRequest,
    batch_index: usize,
) -> Result<Vec<(ClassifiedField, Option<HttpError>)>, HttpError> {
    let fields = document::root_fields(
        &request.query,
        request.operation_name.as_deref(),
        &request.variables,
    )?;
    Ok(fields
        .iter()
        .map(|field| classify_field(field, batch_index))
        .collect())
}

fn classify_field(field: &RootField, batch_index: usize) -> (ClassifiedField, Option<HttpError>) {
    let (ids, ids_error) = extract_ids(&field.name, &field.arguments);
    let (risk, rule, explanation) = match field.operation_type {
        OperationType::Query | OperationType::Subscription => {
            if SECRET_QUERY_FIELDS.contains(&field.name.as_str()) {
                (
                    Risk::Read,
                    "railway.secrets-read",
                    format!(
                        "`{}` reads secrets (variable values or credentials)",
                        field.name
                    ),
                )
            } else {
                (
                    Risk::Read,
                    "railway.read",
                    format!("`{}` is a read", shorten(&field.name)),
                )
            }
        }
        OperationType::Mutation => match table::mutation_rule(&field.name) {
            None => (
                Risk::Unknown,
                "railway.mutation-unknown",
                format!(
                    "`{}` is not a mutation of the reviewed Railway schema",
                    shorten(&field.name)
                ),
            ),
            Some(rule) => {
                let base = (
                    rule.risk,
                    rule.rule_id,
                    if rule.note.is_empty() {
                        format!("`{}` is {}", rule.field, describe(rule.risk))
                    } else {
                        format!("`{}` is {}: {}", rule.field, describe(rule.risk), rule.note)
                    },
                );
                match hidden::hidden_risk(&field.name, &field.arguments) {
                    Some(finding) if finding.risk > rule.risk => {
                        (finding.risk, finding.rule_id, finding.explanation)
                    }
                    _ => base,
                }
            }
        },
    };
    // Ids past the limit could name a target in another environment (a production service
    // after 64 staging ones): the field is not understood, whatever the table says.
    let (risk, rule, explanation) = match &ids_error {
        Some(error) => (Risk::Unknown, "railway.ids-over-limit", error.to_string()),
        None => (risk, rule, explanation),
    };
    let classified = ClassifiedField {
        operation_type: field.operation_type.as_str(),
        field: field.name.clone(),
        alias: field.alias.clone(),
        risk,
        rule_id: crate::rule_id(rule),
        explanation,
        ids,
        batch_index,
    };
    (classified, ids_error)
}

fn describe(risk: Risk) -> &'static str {
    match risk {
        Risk::Read => "a read",
        Risk::Write => "a reversible write",
        Risk::Execute => "running code",
        Risk::Escalate => "widening access or turning a protection off",
        Risk::Destroy => "irreversible destruction",
        Risk::Unknown => "not understood",
    }
}

/// Every string (or list of strings) under a key named `id`, `*Id` or `*Ids`, with its path,
/// and the error if the arguments hold more than [`MAX_IDS_PER_FIELD`] ids or nest deeper than
/// [`document::MAX_VALUE_DEPTH`]: then the ids returned are incomplete and the caller must not
/// trust them to name every target.
pub(crate) fn extract_ids(
    field: &str,
    arguments: &Map<String, Value>,
) -> (Vec<(String, String)>, Option<HttpError>) {
    let mut ids = Vec::new();
    let mut error = None;
    for (key, value) in arguments {
        if let Err(limit) = collect_ids(key, key, value, &mut ids, 0) {
            error = Some(match limit {
                IdLimit::Count => HttpError::TooManyIds {
                    field: shorten(field),
                    limit: MAX_IDS_PER_FIELD,
                },
                IdLimit::Depth => HttpError::TooDeep(document::MAX_VALUE_DEPTH),
            });
            break;
        }
    }
    // serde_json's map order depends on a feature (cedar turns on `preserve_order`), so sort:
    // the same request must give the same ids, summary and ledger text in every build.
    ids.sort();
    (ids, error)
}

/// Which limit stopped id extraction.
enum IdLimit {
    Count,
    Depth,
}

fn collect_ids(
    path: &str,
    key: &str,
    value: &Value,
    ids: &mut Vec<(String, String)>,
    depth: usize,
) -> Result<(), IdLimit> {
    if depth > document::MAX_VALUE_DEPTH {
        return Err(IdLimit::Depth);
    }
    let is_id_key = key == "id" || key.ends_with("Id") || key.ends_with("Ids");
    match value {
        Value::String(text) if is_id_key => {
            if ids.len() >= MAX_IDS_PER_FIELD {
                return Err(IdLimit::Count);
            }
            ids.push((path.to_owned(), text.clone()));
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                collect_ids(&format!("{path}[{index}]"), key, item, ids, depth + 1)?;
            }
        }
        Value::Object(map) => {
            for (inner_key, inner) in map {
                collect_ids(
                    &format!("{path}.{inner_key}"),
                    inner_key,
                    inner,
                    ids,
                    depth + 1,
                )?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    query: Option<String>,
    #[serde(default)]
    variables: Option<Value>,
    #[serde(default, rename = "operationName")]
    operation_name: Option<String>,
    /// Accepted and ignored (Apollo clients send it); a persisted-query hash without `query`
    /// is refused as `MissingQuery`.
    #[serde(default)]
    #[expect(dead_code, reason = "parsed to accept the member, never read")]
    extensions: Option<serde::de::IgnoredAny>,
}

fn parse_body(body: &[u8]) -> Result<Vec<GraphqlRequest>, HttpError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(HttpError::TooLarge {
            size: body.len(),
            limit: MAX_BODY_BYTES,
        });
    }
    let first = body.iter().find(|byte| !byte.is_ascii_whitespace());
    // Deserializing into structs (not `Value`) refuses duplicate keys such as two `query`
    // members, which different JSON parsers would resolve differently.
    let raw: Vec<RawRequest> = if first == Some(&b'[') {
        let batch: Vec<RawRequest> =
            serde_json::from_slice(body).map_err(|error| json_error(&error))?;
        if batch.is_empty() {
            return Err(HttpError::EmptyBatch);
        }
        if batch.len() > MAX_BATCH {
            return Err(HttpError::BatchTooLarge {
                count: batch.len(),
                limit: MAX_BATCH,
            });
        }
        batch
    } else {
        vec![serde_json::from_slice(body).map_err(|error| json_error(&error))?]
    };
    raw.into_iter().map(validate_raw).collect()
}

fn json_error(error: &serde_json::Error) -> HttpError {
    if error.is_data() {
        HttpError::NotARequest(shorten(&error.to_string()))
    } else {
        HttpError::InvalidJson(shorten(&error.to_string()))
    }
}

fn validate_raw(raw: RawRequest) -> Result<GraphqlRequest, HttpError> {
    let query = raw.query.ok_or(HttpError::MissingQuery)?;
    Ok(GraphqlRequest {
        query,
        operation_name: raw.operation_name,
        variables: variables_object(raw.variables)?,
    })
}

/// `variables` as an object; `null` or absent is empty, and a JSON string holding an object
/// (as GET requests and some clients send) is parsed.
fn variables_object(variables: Option<Value>) -> Result<Map<String, Value>, HttpError> {
    match variables {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(Map::new()),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(Value::Null) => Ok(Map::new()),
            _ => Err(HttpError::InvalidVariables),
        },
        Some(_) => Err(HttpError::InvalidVariables),
    }
}

/// Parses `query=...&variables=...&operationName=...`. A parameter given twice is refused
/// (servers disagree on which one wins).
pub fn parse_get_query(query_string: &str) -> Result<GraphqlRequest, HttpError> {
    if query_string.len() > MAX_BODY_BYTES {
        return Err(HttpError::TooLarge {
            size: query_string.len(),
            limit: MAX_BODY_BYTES,
        });
    }
    let mut query = None;
    let mut variables = None;
    let mut operation_name = None;
    for pair in query_string.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key)?;
        let value = percent_decode(value)?;
        let slot = match key.as_str() {
            "query" => &mut query,
            "variables" => &mut variables,
            "operationName" => &mut operation_name,
            // Other parameters (`extensions`, cache busters) do not change what runs.
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(HttpError::InvalidQueryString(format!(
                "parameter `{}` is given twice",
                shorten(&key)
            )));
        }
    }
    let query = query.ok_or(HttpError::MissingQuery)?;
    Ok(GraphqlRequest {
        query,
        operation_name: operation_name.filter(|name| !name.is_empty()),
        variables: variables_object(variables.map(Value::String))?,
    })
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space, `%XX` a byte); the bytes
/// must be UTF-8.
fn percent_decode(text: &str) -> Result<String, HttpError> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut input = text.bytes();
    while let Some(byte) = input.next() {
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let high = input.next().and_then(hex_value);
                let low = input.next().and_then(hex_value);
                match (high, low) {
                    (Some(high), Some(low)) => bytes.push(high * 16 + low),
                    _ => {
                        return Err(HttpError::InvalidQueryString("bad percent-encoding".into()));
                    }
                }
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes)
        .map_err(|_| HttpError::InvalidQueryString("not UTF-8 after decoding".into()))
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}
