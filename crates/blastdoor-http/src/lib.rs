//! Sans-IO classification of requests that agents send to upstream APIs through the gateway:
//! what a request would do ([`blastdoor_core::Risk`]), which rule said so
//! ([`blastdoor_core::RuleId`]) and which resources it acts on.
//!
//! - [`railway`]: Railway's GraphQL API (`/graphql/v2`), with a risk table covering every
//!   mutation of Railway's published schema, the hidden deletes inside patches, and the
//!   [`railway::Topology`] that maps volumes and services to the environments they live in.
//! - [`rest`]: generic REST upstreams, by method and per-upstream path rules.
//! - [`kubernetes`]: Kubernetes API server paths and verbs, and the bodies of updates, patches
//!   and deletes, read once as the API server reads them ([`strict_json`]).
//!
//! The REST and Kubernetes classifiers refuse a request they cannot read the one way its
//! upstream would (a body on a GET, a body that is not what its `Content-Type` says, a JSON
//! object with a duplicate key) with a [`MalformedRequest`], which the gateway answers with 400
//! rather than holding it. Their rules are documented as data ([`Rule`]).
//!
//! This crate must not do IO: it opens no socket, reads no file or clock, and depends on no
//! HTTP stack. Every function is pure, never panics, and bounds its work on hostile input (the
//! limits are documented beside each entry point). The gateway (`blastdoor-gateway`) does the
//! IO and calls in here.

mod error;
pub mod kubernetes;
mod malformed;
pub mod railway;
pub mod rest;
mod rule;
pub mod strict_json;

pub use error::HttpError;
pub use malformed::{MAX_QUOTED_CHARS, MalformedRequest};
pub use rule::Rule;

/// The HTTP methods classifiers distinguish. Anything else is [`Method::Other`], which no rule
/// treats as a read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Head,
    Options,
    Post,
    Put,
    Patch,
    Delete,
    /// Any other method (`TRACE`, `CONNECT`, extension methods), kept for messages.
    Other(String),
}

impl Method {
    /// Parses a method name. Methods are case-sensitive in HTTP: `get` is not `GET`, and
    /// becomes [`Method::Other`].
    pub fn parse(name: &str) -> Method {
        match name {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "OPTIONS" => Method::Options,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            other => Method::Other(other.chars().take(32).collect()),
        }
    }

    /// The method's name as sent on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Other(name) => name,
        }
    }

    /// GET, HEAD and OPTIONS: the methods that must not change state.
    pub fn is_safe(&self) -> bool {
        matches!(self, Method::Get | Method::Head | Method::Options)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Builds a [`blastdoor_core::RuleId`] from a rule id literal of this crate. Every literal is
/// checked by a test; a typo gives the rule id `unknown` rather than a panic on a request path.
pub(crate) fn rule_id(text: &str) -> blastdoor_core::RuleId {
    match blastdoor_core::RuleId::new(text) {
        Ok(id) => id,
        Err(_) => unknown_rule_id(),
    }
}

#[expect(
    clippy::expect_used,
    reason = "a constant that satisfies RuleId's rules"
)]
fn unknown_rule_id() -> blastdoor_core::RuleId {
    // INVARIANT: `unknown` is a non-empty lowercase slug shorter than 96 bytes.
    blastdoor_core::RuleId::new("unknown").expect("`unknown` is a valid rule id")
}
