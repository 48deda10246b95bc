//! [`UpstreamRoute`]: one upstream API the gateway fronts, as the server crate built it from
//! the configuration, and the [`UpstreamKind`]s that decide how requests are read and answered.

use http::uri::{Authority, Scheme};

use crate::GatewayError;
use crate::forward::UpstreamClient;

/// How an upstream's requests are classified and how refusals are phrased to its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpstreamKind {
    /// Railway's GraphQL API: GraphQL `errors` in answers, `Project-Access-Token` accepted.
    Railway,
    /// A REST API: `application/problem+json` answers.
    Rest,
    /// A Kubernetes API server: `application/problem+json` answers.
    Kubernetes,
}

impl UpstreamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UpstreamKind::Railway => "railway",
            UpstreamKind::Rest => "rest",
            UpstreamKind::Kubernetes => "kubernetes",
        }
    }
}

/// One upstream: its name (the first path segment agents use), kind and base URL.
#[derive(Debug, Clone)]
pub struct UpstreamRoute {
    name: String,
    kind: UpstreamKind,
    scheme: Scheme,
    authority: Authority,
    /// Path prefix of the base URL, without a trailing slash (often empty).
    base_path: String,
    /// A client of its own (an upstream with its own CA file); `None`: the gateway's.
    client: Option<UpstreamClient>,
}

impl UpstreamRoute {
    /// Checks `url` (`http://host:port[/prefix]` or `https://...`) and builds the route.
    pub fn new(name: &str, kind: UpstreamKind, url: &str) -> Result<UpstreamRoute, GatewayError> {
        let invalid = |why: &str| GatewayError::InvalidUpstream {
            name: name.to_owned(),
            why: why.to_owned(),
        };
        if name.is_empty()
            || name == "metrics"
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(invalid(
                "the name must be a non-empty slug other than `metrics`",
            ));
        }
        let uri: http::Uri = url.parse().map_err(|_| invalid("the url does not parse"))?;
        let scheme = uri
            .scheme()
            .cloned()
            .ok_or_else(|| invalid("the url has no scheme"))?;
        if scheme != Scheme::HTTP && scheme != Scheme::HTTPS {
            return Err(invalid("the url must be http:// or https://"));
        }
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| invalid("the url has no host"))?;
        if uri.query().is_some() {
            return Err(invalid("the url must not have a query"));
        }
        let base_path = uri.path().trim_end_matches('/').to_owned();
        Ok(UpstreamRoute {
            name: name.to_owned(),
            kind,
            scheme,
            authority,
            base_path,
            client: None,
        })
    }

    /// The same route, reached through `client` (built with the upstream's own CA file).
    pub fn with_client(mut self, client: UpstreamClient) -> UpstreamRoute {
        self.client = Some(client);
        self
    }

    /// The route's own client, if it has one.
    pub fn client(&self) -> Option<&UpstreamClient> {
        self.client.as_ref()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn kind(&self) -> UpstreamKind {
        self.kind
    }

    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The upstream URI for `path_and_query` (which starts with `/`).
    pub fn uri_for(&self, path_and_query: &str) -> Result<http::Uri, GatewayError> {
        http::Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(format!("{}{}", self.base_path, path_and_query))
            .build()
            .map_err(|_| GatewayError::BadRequest("the request path is not a valid URI".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_upstream_uris() {
        let route =
            UpstreamRoute::new("railway", UpstreamKind::Railway, "http://127.0.0.1:9/base/")
                .unwrap();
        assert_eq!(
            route.uri_for("/graphql/v2?x=1").unwrap().to_string(),
            "http://127.0.0.1:9/base/graphql/v2?x=1"
        );
        assert_eq!(
            UpstreamRoute::new(
                "railway",
                UpstreamKind::Railway,
                "https://backboard.railway.com"
            )
            .unwrap()
            .uri_for("/graphql/v2")
            .unwrap()
            .to_string(),
            "https://backboard.railway.com/graphql/v2"
        );
        assert!(UpstreamRoute::new("x", UpstreamKind::Rest, "ftp://127.0.0.1:9").is_err());
        assert!(UpstreamRoute::new("metrics", UpstreamKind::Rest, "http://127.0.0.1:9").is_err());
        assert!(UpstreamRoute::new("a/b", UpstreamKind::Rest, "http://127.0.0.1:9").is_err());
    }
}
