//! Railway's GraphQL API (`POST /graphql/v2`, `GET /graphql/v2?query=`): what a request would
//! do, field by field, at every depth.
//!
//! Entry points: [`classify_http`] for a request by method, [`classify_request_body`] for a
//! POST body (one request object or a batched array) and [`classify_get_query`] for a GET
//! query string. Each parses the document, validates it as GraphQL requires, picks the
//! operation the server would run (`operationName`), and walks it against Railway's
//! [`schema`] ([`document`]): every field at every depth, through aliases and fragments, with
//! variables and defaults substituted. Root query fields are reads (some reveal secrets:
//! [`Risk::ReadSecrets`]); root mutations take their risk from the reviewed [`table`], then
//! from their input values ([`inputs`]) and the hidden deletes in patches ([`hidden`]).
//! Beneath each root field, records that live in an environment, fields that reveal secrets
//! and names the schema does not know become [`NestedFinding`]s with their [`Reach`], which
//! [`topology`] resolves to environments. A name the schema does not know is
//! [`Risk::Unknown`] (held: Railway's schema grows); a request that does not parse or breaks
//! GraphQL's validation rules is malformed (refused, never held).
//!
//! Limits on hostile input, each making the request malformed: bodies over
//! [`MAX_BODY_BYTES`], batches over [`MAX_BATCH`], documents over [`document::MAX_TOKENS`]
//! tokens, [`document::MAX_RECURSION`] levels or [`document::MAX_SELECTIONS`] selections
//! (fragments counted each time they are spread), argument values over
//! [`document::MAX_VALUE_DEPTH`] levels, more than [`MAX_IDS_PER_FIELD`] ids in one field.

pub mod document;
pub mod hidden;
pub mod inputs;
pub mod schema;
pub mod table;
pub mod topology;
pub mod upload;

use blastdoor_core::{Risk, RuleId};
use serde::Deserialize;
use serde_json::{Map, Value};

pub use crate::railway::document::{NestedUse, Reach, UseKind};
use crate::railway::document::{OperationType, RootField, shorten};
pub use crate::railway::topology::{
    EnvironmentMap, Topology, TopologyEnvironment, TopologyService, TopologyVolume, targets_for,
};
use crate::{HttpError, Method};

/// Bodies larger than this are not parsed: the gateway refuses them (413) with the same limit.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Batched arrays with more operations than this are not classified.
pub const MAX_BATCH: usize = 32;
/// At most this many `(argument path, id)` pairs are kept per field.
pub const MAX_IDS_PER_FIELD: usize = 64;

/// Query fields that return secrets: `read-secrets`, rule `railway.secrets-read`.
pub const SECRET_QUERY_FIELDS: &[&str] = &[
    "bucketS3Credentials",
    "variables",
    "variablesForServiceDeployment",
];

/// What a request would do: the worst risk of its fields, each field, and why it was refused
/// as malformed, if it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RailwayClassification {
    pub risk: Risk,
    pub fields: Vec<ClassifiedField>,
    /// Why the request is malformed: it does not parse, breaks GraphQL's validation rules, or
    /// exceeds a limit. A malformed request is refused (400), never held: a well-meaning
    /// client does not send one. Holds no secrets: messages quote at most short pieces of the
    /// document, never variable values.
    pub malformed: Option<String>,
}

impl RailwayClassification {
    fn failed(error: &HttpError) -> RailwayClassification {
        RailwayClassification {
            risk: Risk::Unknown,
            fields: Vec::new(),
            malformed: Some(error.to_string()),
        }
    }

    /// A one-line description for the ledger and the approver: each field with its alias, ids,
    /// risk and rule (`mutation volumeDelete(volumeId: vol-1) → destroy [railway.volume-delete]`),
    /// or why it is malformed. Holds ids only, never argument values.
    pub fn summary(&self) -> String {
        if let Some(error) = &self.malformed {
            return format!("malformed GraphQL request: {error}");
        }
        self.fields
            .iter()
            .map(ClassifiedField::summary)
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The distinct rule ids of the fields and their findings, in order of first appearance.
    pub fn rule_ids(&self) -> Vec<RuleId> {
        let mut ids: Vec<RuleId> = Vec::new();
        for field in &self.fields {
            for rule in
                std::iter::once(&field.rule_id).chain(field.nested.iter().map(|n| &n.rule_id))
            {
                if !ids.contains(rule) {
                    ids.push(rule.clone());
                }
            }
        }
        ids
    }
}

/// One root field of the executed operation and what it, and everything selected beneath it,
/// would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassifiedField {
    /// `query`, `mutation` or `subscription`.
    pub operation_type: &'static str,
    /// The schema field (`volumeDelete`), whatever alias the document gave it.
    pub field: String,
    pub alias: Option<String>,
    /// The root field's own risk (its nested findings carry theirs).
    pub risk: Risk,
    pub rule_id: RuleId,
    /// Why, in a sentence for the human who approves.
    pub explanation: String,
    /// The ids the field acts on, as `(argument path, value)`: `("volumeId", "vol-1")`,
    /// `("input.serviceId", "svc-1")`. Only arguments whose name ends in `id`/`Id`/`Ids`.
    pub ids: Vec<(String, String)>,
    /// The named type the field returns (`None` when the schema does not know the field).
    pub returns: Option<&'static str>,
    /// The field's input sets `allEnvironments: true` (or the like): it reaches every
    /// environment of its project, whatever environment it names.
    pub all_environments: bool,
    /// What was found beneath the root field: environment data, secrets, unknown names.
    pub nested: Vec<NestedFinding>,
    /// Every `(type, field)` of the schema the field and its selections resolve.
    pub walked: Vec<(&'static str, &'static str)>,
    /// Which request of a batched array the field belongs to (0 for a single request).
    pub batch_index: usize,
}

/// A nested field that matters to the decision, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NestedFinding {
    pub risk: Risk,
    pub rule_id: RuleId,
    pub explanation: String,
    /// Schema field names from the root field (`environments.edges.node.config`).
    pub path: String,
    /// Where the data lives, relative to the root field.
    pub reach: Reach,
}

impl ClassifiedField {
    /// The worst risk of the field and its findings.
    pub fn worst_risk(&self) -> Risk {
        self.nested
            .iter()
            .map(|finding| finding.risk)
            .fold(self.risk, Risk::max)
    }

    /// `mutation gone: volumeDelete(volumeId: vol-1) → destroy [railway.volume-delete]`, then
    /// the secret and unknown findings beneath it.
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
        let mut summary = format!(
            "{} {alias}{}({ids}) → {} [{}]",
            self.operation_type,
            shorten(&self.field),
            self.risk,
            self.rule_id
        );
        for finding in self
            .nested
            .iter()
            .filter(|finding| finding.risk != Risk::Read)
        {
            summary.push_str(&format!(
                ", with {} → {} [{}]",
                shorten(&finding.path),
                finding.risk,
                finding.rule_id
            ));
        }
        summary
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
/// A GET runs queries only (GraphQL over HTTP): a mutation or subscription sent as GET is
/// malformed.
pub fn classify_get_query(query_string: &str) -> RailwayClassification {
    let classification = match parse_get_query(query_string) {
        Ok(request) => classify_requests(std::slice::from_ref(&request)),
        Err(error) => return RailwayClassification::failed(&error),
    };
    match classification
        .fields
        .iter()
        .find(|field| field.operation_type != OperationType::Query.as_str())
    {
        Some(field) => {
            RailwayClassification::failed(&HttpError::NotAQueryOverGet(field.operation_type))
        }
        None => classification,
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

/// Classifies already-parsed requests (a batch of one or more). Any request of the batch that
/// is malformed makes the whole batch malformed.
pub fn classify_requests(requests: &[GraphqlRequest]) -> RailwayClassification {
    let mut classification = RailwayClassification {
        risk: Risk::Read,
        fields: Vec::new(),
        malformed: None,
    };
    if requests.is_empty() {
        return RailwayClassification::failed(&HttpError::EmptyBatch);
    }
    for (batch_index, request) in requests.iter().enumerate() {
        let outcome = classify_one(request, batch_index).and_then(|fields| {
            if fields.is_empty() {
                Err(HttpError::NoOperation)
            } else {
                Ok(fields)
            }
        });
        match outcome {
            Ok(fields) => {
                for field in fields {
                    classification.risk = classification.risk.max(field.worst_risk());
                    classification.fields.push(field);
                }
            }
            Err(error) => {
                let message = if requests.len() > 1 {
                    format!("request {batch_index} of the batch: {error}")
                } else {
                    error.to_string()
                };
                return RailwayClassification {
                    risk: Risk::Unknown,
                    fields: Vec::new(),
                    malformed: Some(message),
                };
            }
        }
    }
    classification
}

/// The fields of one request, or why it is malformed.
fn classify_one(
    request: &GraphqlRequest,
    batch_index: usize,
) -> Result<Vec<ClassifiedField>, HttpError> {
    let fields = document::root_fields(
        &request.query,
        request.operation_name.as_deref(),
        &request.variables,
    )?;
    fields
        .into_iter()
        .map(|field| classify_field(field, batch_index))
        .collect()
}

fn classify_field(field: RootField, batch_index: usize) -> Result<ClassifiedField, HttpError> {
    let (ids, ids_error) = extract_ids(&field.name, &field.arguments);
    // Ids past the limit could name a target in another environment (a production service
    // after 64 staging ones): such a request is refused as malformed.
    if let Some(error) = ids_error {
        return Err(error);
    }
    let mut all_environments = false;
    let introspection = field.name.starts_with("__");
    let (risk, rule, explanation) = match (field.operation_type, field.returns) {
        // `__typename` (allowed on every root type), `__schema`, `__type`: the schema's own
        // metadata, never Railway's data.
        (_, Some(_)) if introspection => (
            Risk::Read,
            "railway.read",
            format!("`{}` describes the schema", shorten(&field.name)),
        ),
        (_, None) => (
            Risk::Unknown,
            if field.operation_type == OperationType::Mutation {
                "railway.mutation-unknown"
            } else {
                "railway.field-unknown"
            },
            format!(
                "`{}` is not a {} field of the reviewed Railway schema",
                shorten(&field.name),
                field.operation_type.as_str()
            ),
        ),
        (OperationType::Query | OperationType::Subscription, Some(_)) => {
            if SECRET_QUERY_FIELDS.contains(&field.name.as_str()) {
                (
                    Risk::ReadSecrets,
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
        (OperationType::Mutation, Some(_)) => match table::mutation_rule(&field.name) {
            None => (
                Risk::Unknown,
                "railway.mutation-unknown",
                format!(
                    "`{}` is not a mutation of the reviewed Railway schema",
                    shorten(&field.name)
                ),
            ),
            Some(rule) => {
                let mut judged = (
                    rule.risk,
                    rule.rule_id,
                    if rule.note.is_empty() {
                        format!("`{}` is {}", rule.field, describe(rule.risk))
                    } else {
                        format!("`{}` is {}: {}", rule.field, describe(rule.risk), rule.note)
                    },
                );
                let schema = schema::railway()?;
                let found = inputs::walk_inputs(
                    schema,
                    schema.mutation.as_deref().unwrap_or("Mutation"),
                    &field.name,
                    &field.arguments,
                );
                if found.too_deep {
                    return Err(HttpError::TooDeep(document::MAX_VALUE_DEPTH));
                }
                all_environments = found.all_environments;
                if let Some((risk, input_rule, path)) = found.risk
                    && risk > judged.0
                {
                    judged = (
                        risk,
                        input_rule.rule_id,
                        format!(
                            "`{}` sets `{}`: {}",
                            rule.field,
                            shorten(&path),
                            input_rule.why
                        ),
                    );
                }
                hidden::check_patch_text(&field.name, &field.arguments)?;
                match hidden::hidden_risk(&field.name, &field.arguments) {
                    Some(finding) if finding.risk > judged.0 => {
                        (finding.risk, finding.rule_id, finding.explanation)
                    }
                    _ => judged,
                }
            }
        },
    };
    let nested = field.uses.iter().map(nested_finding).collect();
    Ok(ClassifiedField {
        operation_type: field.operation_type.as_str(),
        field: field.name,
        alias: field.alias,
        risk,
        rule_id: crate::rule_id(rule),
        explanation,
        ids,
        returns: field.returns,
        all_environments,
        nested,
        walked: field.walked,
        batch_index,
    })
}

fn nested_finding(found: &NestedUse) -> NestedFinding {
    let (risk, rule, explanation) = match found.kind {
        UseKind::EnvironmentData => (
            Risk::Read,
            "railway.read",
            format!("`{}` reads records of an environment", shorten(&found.path)),
        ),
        UseKind::Secret => (
            Risk::ReadSecrets,
            "railway.secrets-read",
            format!(
                "`{}` ({}) reveals secrets: decrypted variables, credentials or tokens",
                shorten(&found.path),
                found.field
            ),
        ),
        UseKind::Unknown => (
            Risk::Unknown,
            "railway.field-unknown",
            format!(
                "`{}` is not in the reviewed Railway schema",
                shorten(&found.field)
            ),
        ),
    };
    NestedFinding {
        risk,
        rule_id: crate::rule_id(rule),
        explanation,
        path: found.path.clone(),
        reach: found.reach.clone(),
    }
}

fn describe(risk: Risk) -> &'static str {
    match risk {
        Risk::Read => "a read",
        Risk::ReadSecrets => "a read of secrets",
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
    // Two readings of one object (the gateway keeps one `volumeId`, a server the other) are
    // impossible when no object has a key twice: such a body is refused, at every depth.
    crate::strict_json::parse(body).map_err(|error| HttpError::InvalidJson(error.to_string()))?;
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
        // The string is JSON read a second time: with the same strictness (no key twice).
        Some(Value::String(text)) => match crate::strict_json::parse(text.as_bytes()) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(Value::Null) => Ok(Map::new()),
            Ok(_) => Err(HttpError::InvalidVariables),
            Err(error) => Err(HttpError::InvalidJson(format!("in `variables`: {error}"))),
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
