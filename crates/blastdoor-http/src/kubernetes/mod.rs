//! Kubernetes API server requests: the verb, resource and namespace of a request from its
//! method and path, what its body does, its risk, and the environment its namespace belongs to.
//!
//! Paths: `/api/v1/...` (core group) and `/apis/{group}/{version}/...`, then optionally
//! `namespaces/{namespace}/`, then `{resource}[/{name}[/{subresource}]]`; the legacy
//! `/api/v1/watch/...` prefix means `watch`. Verbs as the API server derives them: GET is `get`
//! with a name and `list` (or `watch` with `?watch=true`) without; POST `create`; PUT `update`;
//! PATCH `patch`; DELETE `delete` with a name and `deletecollection` without.
//!
//! Risk, from the path and method first ([`RULES`] documents every rule):
//! - `kubernetes.exec` (Execute): `pods/exec`, `pods/attach`, `pods/portforward` and the
//!   `proxy` subresources (they reach the kubelet or the workload), whatever the verb.
//! - `kubernetes.escalate` (Escalate): any write to `rbac.authorization.k8s.io`,
//!   `serviceaccounts/token`, `certificatesigningrequests` (and their approval).
//! - `kubernetes.namespace-finalize` (Destroy): any write to `namespaces/{name}/finalize`.
//! - `kubernetes.collection-delete` (Destroy): every `deletecollection`, pods included.
//! - `kubernetes.delete` (Destroy): `delete` of anything but pods and events (controllers
//!   recreate pods; a custom resource may well be a database).
//! - `kubernetes.secrets-read` (Read, sensitive): reading secrets.
//! - `kubernetes.write` / `kubernetes.read` otherwise; discovery paths (`/api`, `/apis`,
//!   `/version`, `/healthz`, `/openapi/...`) are reads for GET.
//! - `kubernetes.path-unknown` (Unknown): anything else, a non-canonical path (`//`, `.`,
//!   `..`, percent-escapes: the API server's reading might differ from ours), an unknown
//!   method, or a path longer than [`crate::rest::MAX_PATH_BYTES`].
//!
//! Then from the body ([`body`]), which can only raise the risk: an update or patch that
//! scales to zero (`kubernetes.scale-to-zero`), removes finalizers
//! (`kubernetes.finalizers-removed`), sets the deletion timestamp
//! (`kubernetes.deletion-timestamp`), sets owner references (`kubernetes.owner-references`),
//! removes a Secret's or ConfigMap's keys (`kubernetes.data-keys-removed`) or sets a volume's
//! reclaim policy to `Delete` (`kubernetes.reclaim-delete`); a pod deleted with a grace period
//! of 0 (`kubernetes.pod-force-delete`). Creates are read but not checked: a pod created with
//! `privileged: true` is a write here.
//!
//! A request whose body cannot be read as the API server would read it is not classified at
//! all: [`classify`] returns a [`MalformedRequest`], which the gateway answers with 400. So is
//! a GET, HEAD or OPTIONS with a body.

use std::collections::BTreeMap;

use blastdoor_core::{Environment, EnvironmentName, Risk, RuleId};

use crate::Method;
use crate::malformed::MalformedRequest;
use crate::rule::Rule;

pub mod body;
pub mod rules;

pub use rules::RULES;

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

/// One request to the API server, as the gateway received it.
#[derive(Debug, Clone, Copy)]
pub struct KubernetesRequest<'a> {
    pub method: &'a Method,
    /// The path, without the query string (anything from a `?` or `#` on is ignored).
    pub path: &'a str,
    /// The query string without `?` (for `watch` and `gracePeriodSeconds`).
    pub query: Option<&'a str>,
    /// The raw value of the `Content-Type` header (the first one, as the API server reads it),
    /// if any.
    pub content_type: Option<&'a [u8]>,
    /// The whole body; empty when there is none.
    pub body: &'a [u8],
}

/// Classifies `request`: from its method and path, then from its body, which is read the way
/// the API server would read it ([`body::read`]).
///
/// Returns [`MalformedRequest`] when the request cannot be read that way (a body on a GET, HEAD
/// or OPTIONS; a body that is not what its `Content-Type` says, has a duplicate key, or is
/// missing; see [`body`]): the gateway refuses it with 400, it never holds it. The body of a
/// request whose path is not understood, and of `exec`, `attach`, `portforward` and `proxy`
/// (whose body belongs to the workload), is not read; those are `Unknown` and `Execute`.
pub fn classify(
    request: &KubernetesRequest<'_>,
    namespaces: &NamespaceMap,
) -> Result<KubernetesClassification, MalformedRequest> {
    if request.method.is_safe() && !request.body.is_empty() {
        return Err(MalformedRequest::BodyOnSafeMethod {
            method: request.method.as_str().to_owned(),
            size: request.body.len(),
        });
    }
    let mut result = classify_path(request.method, request.path, request.query, namespaces);
    let Some(resource) = result.resource.as_deref() else {
        return Ok(result);
    };
    let reads_body = matches!(
        result.verb.as_str(),
        "create" | "update" | "patch" | "delete" | "deletecollection"
    ) && !result
        .subresource
        .as_deref()
        .is_some_and(|sub| EXEC_SUBRESOURCES.contains(&sub));
    if !reads_body {
        return Ok(result);
    }
    let finding = body::inspect(&body::Request {
        verb: &result.verb,
        resource,
        subresource: result.subresource.as_deref(),
        query: request.query,
        content_type: request.content_type,
        body: request.body,
    })?;
    if let Some(finding) = finding
        && finding.rule.risk > result.risk
    {
        let object = [
            Some(resource),
            result.name.as_deref(),
            result.subresource.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("/");
        result.explanation = format!(
            "`{verb}` of `{object}` {what}: {summary}",
            verb = result.verb,
            what = finding.what,
            summary = finding.rule.summary,
        );
        result.risk = finding.rule.risk;
        result.rule_id = finding.rule.rule_id();
    }
    Ok(result)
}

/// Classifies `method` on `path` alone.
fn classify_path(
    method: &Method,
    path: &str,
    query: Option<&str>,
    namespaces: &NamespaceMap,
) -> KubernetesClassification {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let mut result = KubernetesClassification {
        risk: Risk::Unknown,
        rule_id: rules::PATH_UNKNOWN.rule_id(),
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

    let (rule, explanation): (&Rule, String) =
        if subresource.is_some_and(|sub| EXEC_SUBRESOURCES.contains(&sub)) {
            (
                &rules::EXEC,
                format!("`{full_resource}` runs commands in or reaches into a workload"),
            )
        } else if !is_read
            && (group == "rbac.authorization.k8s.io"
                || (resource == "serviceaccounts" && subresource == Some("token"))
                || resource == "certificatesigningrequests")
        {
            (
                &rules::ESCALATE,
                format!("`{verb}` of `{full_resource}` grants access or mints credentials"),
            )
        } else if !is_read && resource == "namespaces" && subresource == Some("finalize") {
            (
                &rules::NAMESPACE_FINALIZE,
                format!(
                    "`{verb}` of `namespaces/finalize` drops the namespace's finalizers: it \
                     disappears before its contents are cleaned up"
                ),
            )
        } else if verb == "deletecollection" {
            (
                &rules::COLLECTION_DELETE,
                format!("`deletecollection` of `{resource}` deletes every matching object"),
            )
        } else if verb == "delete" && !RECOVERABLE_ON_DELETE.contains(&resource) {
            (
                &rules::DELETE,
                format!("deleting `{full_resource}` is not undone by any controller"),
            )
        } else if is_read && resource == "secrets" {
            result.sensitive = true;
            (
                &rules::SECRETS_READ,
                "reading secrets returns credentials".to_owned(),
            )
        } else if is_read {
            (&rules::READ, format!("`{verb}` of `{full_resource}`"))
        } else {
            (&rules::WRITE, format!("`{verb}` of `{full_resource}`"))
        };
    result.risk = rule.risk;
    result.rule_id = rule.rule_id();
    result.explanation = explanation;
    result
}

fn discovery(method: &Method, mut result: KubernetesClassification) -> KubernetesClassification {
    if method.is_safe() {
        result.risk = rules::READ.risk;
        result.rule_id = rules::READ.rule_id();
        result.explanation = "API discovery".to_owned();
    } else {
        result.explanation = format!("`{method}` on a discovery path");
    }
    result
}
