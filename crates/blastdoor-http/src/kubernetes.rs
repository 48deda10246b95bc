//! Kubernetes API server requests: the verb, resource and namespace of a request from its
//! method and path, its risk, and the environment its namespace belongs to.
//!
//! Paths: `/api/v1/...` (core group) and `/apis/{group}/{version}/...`, then optionally
//! `namespaces/{namespace}/`, then `{resource}[/{name}[/{subresource}]]`; the legacy
//! `/api/v1/watch/...` prefix means `watch`. Verbs as the API server derives them: GET is `get`
//! with a name and `list` (or `watch` with `?watch=true`) without; POST `create`; PUT `update`;
//! PATCH `patch`; DELETE `delete` with a name and `deletecollection` without.
//!
//! Risk:
//! - `kubernetes.exec` (Execute): `pods/exec`, `pods/attach`, `pods/portforward` and the
//!   `proxy` subresources (they reach the kubelet or the workload), whatever the verb.
//! - `kubernetes.escalate` (Escalate): any write to `rbac.authorization.k8s.io`,
//!   `serviceaccounts/token`, `certificatesigningrequests` (and their approval).
//! - `kubernetes.delete` (Destroy): `delete` of anything but pods and events (controllers
//!   recreate pods; a custom resource may well be a database), and every `deletecollection`.
//! - `kubernetes.secrets-read` (Read, sensitive): reading secrets.
//! - `kubernetes.write` / `kubernetes.read` otherwise; discovery paths (`/api`, `/apis`,
//!   `/version`, `/healthz`, `/openapi/...`) are reads for GET.
//! - `kubernetes.path-unknown` (Unknown): anything else, a non-canonical path (`//`, `.`,
//!   `..`, percent-escapes: the API server's reading might differ from ours), an unknown
//!   method, or a path longer than [`crate::rest::MAX_PATH_BYTES`].
//!
//! The request body is not inspected: a pod created with `privileged: true` is a write here.

use std::collections::BTreeMap;

use blastdoor_core::{Environment, EnvironmentName, Risk, RuleId};

use crate::Method;

/// Which environment each namespace belongs to, and the environment of cluster-scoped
/// resources (nodes, persistent volumes, CRDs, cluster roles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceMap {
    namespaces: BTreeMap<String, EnvironmentName>,
    cluster: Environment,
}

impl NamespaceMap {
    /// `cluster` is the environment of cluster-scoped resources; pass
    /// [`Environment::Unknown`] unless the whole cluster is one environment.
    pub fn new(
        namespaces: impl IntoIterator<Item = (String, EnvironmentName)>,
        cluster: Environment,
    ) -> NamespaceMap {
        NamespaceMap {
            namespaces: namespaces.into_iter().collect(),
            cluster,
        }
    }

    /// The configured environment of `namespace`, or `Unknown`.
    pub fn environment(&self, namespace: &str) -> Environment {
        match self.namespaces.get(namespace) {
            Some(name) => Environment::Named(name.clone()),
            None => Environment::Unknown,
        }
    }
}

/// What a request to the API server would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubernetesClassification {
    pub risk: Risk,
    pub rule_id: RuleId,
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`, or
    /// the method in lowercase for discovery paths.
    pub verb: String,
    /// The API group (`""` for the core group, `apps`, `rbac.authorization.k8s.io`).
    pub group: String,
    pub version: String,
    pub namespace: Option<String>,
    pub resource: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
    /// The environment of the namespace (or of the cluster, for cluster-scoped resources).
    pub environment: Environment,
    /// True when the response will hold secrets (reading `secrets`).
    pub sensitive: bool,
    pub explanation: String,
}

/// Resources whose deletion is recoverable because a controller recreates them.
const RECOVERABLE_ON_DELETE: &[&str] = &["pods", "events"];
const EXEC_SUBRESOURCES: &[&str] = &["exec", "attach", "portforward", "proxy"];

/// Classifies `method` on `path`; `query` is the query string without `?` (for `watch`).
pub fn classify(
    method: &Method,
    path: &str,
    query: Option<&str>,
    namespaces: &NamespaceMap,
) -> KubernetesClassification {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let mut result = KubernetesClassification {
        risk: Risk::Unknown,
        rule_id: crate::rule_id("kubernetes.path-unknown"),
        verb: method.as_str().to_ascii_lowercase(),
        group: String::new(),
        version: String::new(),
        namespace: None,
        resource: None,
        name: None,
        subresource: None,
        environment: Environment::Unknown,
        sensitive: false,
        explanation: String::new(),
    };
    if path.len() > crate::rest::MAX_PATH_BYTES
        || !path.starts_with('/')
        || path.contains('%')
        || path.contains('\\')
    {
        result.explanation = "the path is not a canonical API server path".to_owned();
        return result;
    }
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let segments: &[&str] = match segments.split_last() {
        Some((&"", rest)) => rest,
        _ => &segments,
    };
    if segments
        .iter()
        .any(|segment| matches!(*segment, "" | "." | ".."))
    {
        result.explanation = "the path is not a canonical API server path".to_owned();
        return result;
    }

    let (group, version, rest) = match segments {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        []
        | ["api"]
        | ["apis"]
        | ["apis", _]
        | ["version"]
        | ["healthz" | "livez" | "readyz", ..]
        | ["openapi", ..] => return discovery(method, result),
        _ => {
            result.explanation = "not a Kubernetes API path".to_owned();
            return result;
        }
    };
    result.group = group.to_owned();
    result.version = version.to_owned();
    let (watch_prefix, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        _ => (false, rest),
    };
    // `namespaces/{ns}` is both the namespace object and the scope of namespaced resources.
    let (namespace, resource, name, subresource) = match rest {
        [] => return discovery(method, result),
        ["namespaces", namespace] => (None, "namespaces", Some(*namespace), None),
        ["namespaces", namespace, sub @ ("status" | "finalize")] => {
            (None, "namespaces", Some(*namespace), Some(*sub))
        }
        ["namespaces", namespace, resource] => (Some(*namespace), *resource, None, None),
        ["namespaces", namespace, resource, name] => {
            (Some(*namespace), *resource, Some(*name), None)
        }
        ["namespaces", namespace, resource, name, sub, ..] => {
            (Some(*namespace), *resource, Some(*name), Some(*sub))
        }
        [resource] => (None, *resource, None, None),
        [resource, name] => (None, *resource, Some(*name), None),
        [resource, name, sub, ..] => (None, *resource, Some(*name), Some(*sub)),
    };
    result.namespace = namespace.map(str::to_owned);
    result.resource = Some(resource.to_owned());
    result.name = name.map(str::to_owned);
    result.subresource = subresource.map(str::to_owned);
    result.environment = match (namespace, resource, name) {
        (Some(namespace), _, _) => namespaces.environment(namespace),
        (None, "namespaces", Some(namespace)) => namespaces.environment(namespace),
        (None, _, _) => namespaces.cluster.clone(),
    };

    let watch = watch_prefix
        || query.is_some_and(|query| {
            query
                .split('&')
                .any(|pair| matches!(pair, "watch=true" | "watch=1" | "watch"))
        });
    let verb = match (method, name.is_some()) {
        (Method::Get, _) if watch => "watch",
        (Method::Get | Method::Head, true) => "get",
        (Method::Get | Method::Head, false) => "list",
        (Method::Post, _) => "create",
        (Method::Put, _) => "update",
        (Method::Patch, _) => "patch",
        (Method::Delete, true) => "delete",
        (Method::Delete, false) => "deletecollection",
        (Method::Options, _) => "options",
        (Method::Other(_), _) => {
            result.explanation = format!("method `{method}` is not a Kubernetes verb");
            return result;
        }
    };
    result.verb = verb.to_owned();
    let is_read = matches!(verb, "get" | "list" | "watch" | "options");
    let full_resource = match subresource {
        Some(sub) => format!("{resource}/{sub}"),
        None => resource.to_owned(),
    };

    let (risk, rule, explanation) =
        if subresource.is_some_and(|sub| EXEC_SUBRESOURCES.contains(&sub)) {
            (
                Risk::Execute,
                "kubernetes.exec",
                format!("`{full_resource}` runs commands in or reaches into a workload"),
            )
        } else if !is_read
            && (group == "rbac.authorization.k8s.io"
                || (resource == "serviceaccounts" && subresource == Some("token"))
                || resource == "certificatesigningrequests")
        {
            (
                Risk::Escalate,
                "kubernetes.escalate",
                format!("`{verb}` of `{full_resource}` grants access or mints credentials"),
            )
        } else if verb == "deletecollection" {
            (
                Risk::Destroy,
                "kubernetes.delete",
                format!("`deletecollection` of `{resource}` deletes every matching object"),
            )
        } else if verb == "delete" && !RECOVERABLE_ON_DELETE.contains(&resource) {
            (
                Risk::Destroy,
                "kubernetes.delete",
                format!("deleting `{full_resource}` is not undone by any controller"),
            )
        } else if is_read && resource == "secrets" {
            result.sensitive = true;
            (
                Risk::Read,
                "kubernetes.secrets-read",
                "reading secrets returns credentials".to_owned(),
            )
        } else if is_read {
            (
                Risk::Read,
                "kubernetes.read",
                format!("`{verb}` of `{full_resource}`"),
            )
        } else {
            (
                Risk::Write,
                "kubernetes.write",
                format!("`{verb}` of `{full_resource}`"),
            )
        };
    result.risk = risk;
    result.rule_id = crate::rule_id(rule);
    result.explanation = explanation;
    result
}

fn discovery(method: &Method, mut result: KubernetesClassification) -> KubernetesClassification {
    if method.is_safe() {
        result.risk = Risk::Read;
        result.rule_id = crate::rule_id("kubernetes.read");
        result.explanation = "API discovery".to_owned();
    } else {
        result.explanation = format!("`{method}` on a discovery path");
    }
    result
}
