//! [`MalformedRequest`]: a request the REST and Kubernetes classifiers refuse to read, because
//! it cannot be read the one way its upstream would read it.
//!
//! This is not [`crate::HttpError`], which the Railway classifier turns into
//! [`blastdoor_core::Risk::Unknown`] (a hold). A malformed request is never held and never
//! forwarded: the gateway answers it with `400 Bad Request`, and the agent sends a well-formed
//! one. Holding it would ask a human to approve bytes whose meaning blastdoor could only guess.

/// Why a request is malformed. Messages never quote body values, only the names of keys and
/// media types, cut to [`MAX_QUOTED_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedRequest {
    /// A GET, HEAD or OPTIONS with a body: a read carries none, and an upstream (or a proxy in
    /// between) that reads it anyway could do something other than read.
    #[error("a {method} request carries a {size}-byte body; reads carry no body")]
    BodyOnSafeMethod { method: String, size: usize },
    #[error("the request body is {size} bytes, more than the {limit} bytes read")]
    BodyTooLarge { size: usize, limit: usize },
    /// A write that needs a body (a create, an update, a patch) has none.
    #[error("a `{verb}` request needs a body")]
    MissingBody { verb: String },
    /// The media type is not one the upstream reads for this request, or not one blastdoor
    /// reads (protobuf, CBOR), or is not text, or has a charset other than UTF-8.
    #[error("Content-Type `{content_type}` is not accepted here; send {expected}")]
    UnsupportedContentType {
        content_type: String,
        expected: &'static str,
    },
    /// The body is YAML, or something else that is not JSON, under a YAML media type; or JSON
    /// with a `<<` key, which YAML 1.1 readers may take for a merge key.
    #[error(
        "the body is not plain JSON: blastdoor reads YAML media types only when the body is JSON \
         without `<<` keys (kubectl and client-go send JSON); send the same object as JSON"
    )]
    YamlNotJson,
    /// The body is not JSON: the message is `serde_json`'s, with line and column.
    #[error("the request body is not valid JSON: {0}")]
    InvalidJson(String),
    /// The same key twice in one JSON object: readers disagree on which one counts (serde_json
    /// and Go keep the last, some keep the first), so the body has no single meaning.
    #[error("the request body has the key `{key}` twice in one object")]
    DuplicateKey { key: String },
    /// JSON of the wrong shape for its media type: an object where the upstream expects one, an
    /// array of operations for a JSON Patch.
    #[error("the request body is not {expected}")]
    WrongShape { expected: &'static str },
    /// A JSON Patch operation the upstream would refuse: an unknown `op`, a missing `path`,
    /// `from` or `value`, or a `path` that is not a JSON Pointer.
    #[error("JSON Patch operation {index} is not valid: {why}")]
    InvalidJsonPatch { index: usize, why: String },
}

/// At most this many characters of a key or media type are quoted in a message.
pub const MAX_QUOTED_CHARS: usize = 64;

impl MalformedRequest {
    /// A stable, lowercase code for the error, for logs, responses and tests.
    pub fn code(&self) -> &'static str {
        match self {
            MalformedRequest::BodyOnSafeMethod { .. } => "body-on-safe-method",
            MalformedRequest::BodyTooLarge { .. } => "body-too-large",
            MalformedRequest::MissingBody { .. } => "missing-body",
            MalformedRequest::UnsupportedContentType { .. } => "unsupported-content-type",
            MalformedRequest::YamlNotJson => "yaml-not-json",
            MalformedRequest::InvalidJson(_) => "invalid-json",
            MalformedRequest::DuplicateKey { .. } => "duplicate-key",
            MalformedRequest::WrongShape { .. } => "wrong-shape",
            MalformedRequest::InvalidJsonPatch { .. } => "invalid-json-patch",
        }
    }
}

/// `text` cut to [`MAX_QUOTED_CHARS`] characters, with control characters and backticks
/// replaced, for quoting in a message.
pub(crate) fn quote(text: &str) -> String {
    let mut quoted: String = text
        .chars()
        .take(MAX_QUOTED_CHARS)
        .map(|c| if c.is_control() || c == '`' { '?' } else { c })
        .collect();
    if text.chars().nth(MAX_QUOTED_CHARS).is_some() {
        quoted.push('…');
    }
    quoted
}
