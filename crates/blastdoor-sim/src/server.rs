//! The simulator's HTTP side: `POST /graphql/v2` (a request object or a batched array) and
//! `GET /graphql/v2?query=...`, authenticated like Railway (`Authorization: Bearer` or
//! `Project-Access-Token`), answered with Railway-shaped JSON. Every request is recorded in
//! [`SimState::requests`], without the credential.

use std::convert::Infallible;
use std::future::Future;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::SimError;
use crate::execute::prepare;
use crate::graphql::parse_document;
use crate::schema::schema;
use crate::state::{AuthHeader, OperationRecord, RequestRecord, ResolvedField, SimState};
use crate::validate::validate;

/// Bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 4 << 20;

/// How a blastdoor capability token begins: one in a header means a gateway forwarded it.
const CAPABILITY_TOKEN_PREFIX: &str = "bd1_";

/// Serves the simulator on `listener` until `shutdown` completes; then stops accepting and
/// drops open connections.
pub async fn serve(
    listener: TcpListener,
    state: SimState,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(accepted) => accepted,
                    // A failed accept (too many files, a reset) is not fatal to the server.
                    Err(_) => continue,
                };
                let state = state.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(request, &state).await) }
                    });
                    // A client that hangs up mid-request is its own business.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
    Ok(())
}

async fn handle(request: Request<Incoming>, state: &SimState) -> Response<Full<Bytes>> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query_string = request.uri().query().unwrap_or("").to_owned();
    let (auth_header, credential_present, authorized) = credentials(request.headers(), state);
    let header_names = request
        .headers()
        .keys()
        .map(|name| name.as_str().to_owned())
        .collect();
    let headers_with_capability_token = request
        .headers()
        .iter()
        .filter(|(_, value)| {
            value
                .as_bytes()
                .windows(CAPABILITY_TOKEN_PREFIX.len())
                .any(|window| window == CAPABILITY_TOKEN_PREFIX.as_bytes())
        })
        .map(|(name, _)| name.as_str().to_owned())
        .collect();
    let headers_with_credential = request
        .headers()
        .iter()
        .filter(|(name, _)| *name != AUTHORIZATION && name.as_str() != "project-access-token")
        .filter(|(_, value)| state.holds_credential(value.as_bytes()))
        .map(|(name, _)| name.as_str().to_owned())
        .collect();
    let mut record = RequestRecord {
        method: method.as_str().to_owned(),
        path: path.clone(),
        auth_header,
        credential_present,
        authorized,
        header_names,
        headers_with_capability_token,
        headers_with_credential,
        status: 0,
        operations: Vec::new(),
    };

    let response = if path != "/graphql/v2" {
        error_response(StatusCode::NOT_FOUND, "Not Found", "NOT_FOUND")
    } else {
        let body = match method {
            Method::POST => match Limited::new(request.into_body(), MAX_BODY_BYTES)
                .collect()
                .await
            {
                Ok(collected) => Ok(collected.to_bytes()),
                Err(_) => Err(error_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Request body too large",
                    "BAD_REQUEST",
                )),
            },
            Method::GET => Ok(Bytes::new()),
            _ => Err(error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "BAD_REQUEST",
            )),
        };
        match body {
            Err(response) => response,
            Ok(body) => {
                let requests = if method == Method::GET {
                    get_request(&query_string).map(|request| (vec![request], false))
                } else {
                    post_requests(&body)
                };
                match requests {
                    Err(message) => {
                        error_response(StatusCode::BAD_REQUEST, &message, "BAD_REQUEST")
                    }
                    Ok((requests, batched)) => {
                        answer(state, &requests, batched, authorized, &mut record)
                    }
                }
            }
        }
    };
    record.status = response.status().as_u16();
    state.record(record);
    response
}

fn credentials(headers: &HeaderMap, state: &SimState) -> (AuthHeader, bool, bool) {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.strip_prefix("Bearer ").unwrap_or(""));
    let project_token = headers
        .get("project-access-token")
        .and_then(|value| value.to_str().ok());
    state.authorize(bearer, project_token)
}

/// One GraphQL request: document, operation name, variables.
struct GraphqlRequest {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Map<String, Value>,
}

fn post_requests(body: &[u8]) -> Result<(Vec<GraphqlRequest>, bool), String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|error| format!("Body is not valid JSON: {error}"))?;
    match value {
        Value::Array(items) if !items.is_empty() => Ok((
            items
                .into_iter()
                .map(request_object)
                .collect::<Result<_, _>>()?,
            true,
        )),
        Value::Object(_) => Ok((vec![request_object(value)?], false)),
        _ => Err("POST body must be a JSON object or a non-empty array".into()),
    }
}

fn request_object(value: Value) -> Result<GraphqlRequest, String> {
    let Value::Object(object) = value else {
        return Err("each request must be a JSON object".into());
    };
    Ok(GraphqlRequest {
        query: object
            .get("query")
            .and_then(Value::as_str)
            .map(str::to_owned),
        operation_name: object
            .get("operationName")
            .and_then(Value::as_str)
            .map(str::to_owned),
        variables: variables(object.get("variables"))?,
    })
}

fn variables(value: Option<&Value>) -> Result<Map<String, Value>, String> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map.clone()),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err("Variables are invalid JSON.".into()),
        },
        Some(_) => Err("Variables must be an object.".into()),
    }
}

fn get_request(query_string: &str) -> Result<GraphqlRequest, String> {
    let mut request = GraphqlRequest {
        query: None,
        operation_name: None,
        variables: Map::new(),
    };
    for pair in query_string.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = form_decode(value).ok_or("Bad percent-encoding in the query string")?;
        match form_decode(key).as_deref() {
            Some("query") => request.query = Some(value),
            Some("operationName") => request.operation_name = Some(value),
            Some("variables") => request.variables = variables(Some(&Value::String(value)))?,
            _ => {}
        }
    }
    Ok(request)
}

fn form_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut input = text.bytes();
    while let Some(byte) = input.next() {
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let high = (input.next()? as char).to_digit(16)?;
                let low = (input.next()? as char).to_digit(16)?;
                bytes.push(u8::try_from(high * 16 + low).ok()?);
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).ok()
}

fn answer(
    state: &SimState,
    requests: &[GraphqlRequest],
    batched: bool,
    authorized: bool,
    record: &mut RequestRecord,
) -> Response<Full<Bytes>> {
    let mut results = Vec::new();
    let mut status = StatusCode::OK;
    for request in requests {
        let mut operation_record = OperationRecord {
            operation_type: String::new(),
            operation_name: request.operation_name.clone(),
            fields: Vec::new(),
            executed: false,
            resolved: Vec::new(),
        };
        let result = match run(state, request, authorized, &mut operation_record) {
            Ok(result) => result,
            Err(errors) => {
                status = StatusCode::BAD_REQUEST;
                let errors: Vec<Value> = errors
                    .iter()
                    .map(|error| {
                        json!({"message": error.to_string(), "extensions": {"code": error.code()}})
                    })
                    .collect();
                json!({ "errors": errors })
            }
        };
        record.operations.push(operation_record);
        results.push(result);
    }
    if !authorized {
        // Railway refuses the whole request, batched or not, without a valid credential.
        return error_response(
            StatusCode::UNAUTHORIZED,
            "Not Authorized",
            "UNAUTHENTICATED",
        );
    }
    let body = if batched {
        Value::Array(results)
    } else {
        results.into_iter().next().unwrap_or(Value::Null)
    };
    json_response(if batched { StatusCode::OK } else { status }, &body)
}

/// Parses, validates, prepares and (when `authorized`) executes one GraphQL request: its
/// result object, or the errors that refuse it (status 400).
fn run(
    state: &SimState,
    request: &GraphqlRequest,
    authorized: bool,
    record: &mut OperationRecord,
) -> Result<Value, Vec<SimError>> {
    let query = request
        .query
        .as_deref()
        .ok_or_else(|| vec![SimError::BadRequest("Must provide query string.".into())])?;
    let document = parse_document(query).map_err(|error| vec![error])?;
    let errors = validate(&document, schema());
    if !errors.is_empty() {
        return Err(errors.into_iter().map(SimError::Validation).collect());
    }
    let prepared = prepare(
        &document,
        request.operation_name.as_deref(),
        &request.variables,
    )
    .map_err(|error| vec![error])?;
    record.operation_type = prepared.kind().keyword().to_owned();
    record.operation_name = prepared.name().map(str::to_owned);
    record.fields = prepared.root_fields();
    if !authorized {
        return Ok(
            json!({"errors": [{"message": "Not Authorized", "extensions": {"code": "UNAUTHENTICATED"}}]}),
        );
    }
    record.executed = true;
    let execution = state.execute(&prepared);
    record.resolved = execution
        .resolved
        .iter()
        .map(|&(parent_type, field)| ResolvedField { parent_type, field })
        .collect();
    Ok(if execution.errors.is_empty() {
        json!({"data": execution.data})
    } else {
        json!({"data": execution.data, "errors": execution.errors})
    })
}

fn error_response(status: StatusCode, message: &str, code: &str) -> Response<Full<Bytes>> {
    json_response(
        status,
        &json!({"errors": [{"message": message, "extensions": {"code": code}}]}),
    )
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}
