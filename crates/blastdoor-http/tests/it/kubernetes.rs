//! Kubernetes API server requests: verbs, resources, namespaces to environments, and risk,
//! from the path and from the body.

use blastdoor_core::{Environment, EnvironmentName, Risk};
use blastdoor_http::Method;
use blastdoor_http::kubernetes::{
    KubernetesClassification, KubernetesRequest, NamespaceMap, RULES, classify,
};

fn namespaces() -> NamespaceMap {
    NamespaceMap::new(
        [
            (
                "prod".to_owned(),
                EnvironmentName::new("production").unwrap(),
            ),
            ("stage".to_owned(), EnvironmentName::new("staging").unwrap()),
        ],
        Environment::production(),
    )
}

/// Classifies `method` on `path` with a body that changes nothing (`{}` for a create, update
/// or patch; none otherwise), so that only the path and method decide.
fn run(method: &str, path: &str) -> KubernetesClassification {
    let (path, query) = match path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path, None),
    };
    let (content_type, body): (Option<&[u8]>, &[u8]) = match method {
        "PATCH" => (Some(b"application/merge-patch+json"), b"{}"),
        "POST" | "PUT" => (Some(b"application/json"), b"{}"),
        _ => (None, b""),
    };
    classify(
        &KubernetesRequest {
            method: &Method::parse(method),
            path,
            query,
            content_type,
            body,
        },
        &namespaces(),
    )
    .unwrap()
}

/// Checks risk, rule id, verb and environment.
fn check(method: &str, path: &str, risk: Risk, rule: &str, verb: &str, environment: &str) {
    let result = run(method, path);
    assert_eq!(
        (
            result.risk,
            result.rule_id.as_str(),
            result.verb.as_str(),
            result.environment.as_str()
        ),
        (risk, rule, verb, environment),
        "{method} {path}: {result:?}"
    );
}

const DESTROY: Risk = Risk::Destroy;

#[test]
fn deletes_of_stateful_resources_destroy() {
    check(
        "DELETE",
        "/api/v1/namespaces/prod",
        DESTROY,
        "kubernetes.delete",
        "delete",
        "production",
    );
    check(
        "DELETE",
        "/api/v1/namespaces/stage/persistentvolumeclaims/data",
        DESTROY,
        "kubernetes.delete",
        "delete",
        "staging",
    );
    check(
        "DELETE",
        "/api/v1/persistentvolumes/pv-1",
        DESTROY,
        "kubernetes.delete",
        "delete",
        "production",
    );
    check(
        "DELETE",
        "/apis/apps/v1/namespaces/prod/statefulsets/pg",
        DESTROY,
        "kubernetes.delete",
        "delete",
        "production",
    );
    check(
        "DELETE",
        "/apis/apps/v1/namespaces/prod/deployments/web",
        DESTROY,
        "kubernetes.delete",
        "delete",
        "production",
    );
    check(
        "DELETE",
        "/api/v1/namespaces/prod/services/web",
        DESTROY,
        "kubernetes.delete",
        "delete",
        "production",
    );
    check(
        "DELETE",
        "/api/v1/namespaces/prod/secrets/db",
        DESTROY,
        "kubernetes.delete",
        "delete",
        "production",
    );
    check(
        "DELETE",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/clusters.postgresql.cnpg.io",
        DESTROY,
        "kubernetes.delete",
        "delete",
        "production",
    );
    check(
        "DELETE",
        "/apis/postgresql.cnpg.io/v1/namespaces/other/clusters/main",
        DESTROY,
        "kubernetes.delete",
        "delete",
        "unknown",
    );
    check(
        "DELETE",
        "/api/v1/namespaces/stage/pods",
        DESTROY,
        "kubernetes.collection-delete",
        "deletecollection",
        "staging",
    );
    check(
        "DELETE",
        "/api/v1/namespaces/stage/pods/web-1",
        Risk::Write,
        "kubernetes.write",
        "delete",
        "staging",
    );
}

#[test]
fn exec_attach_portforward_and_proxy_execute() {
    check(
        "POST",
        "/api/v1/namespaces/prod/pods/web-1/exec?command=sh",
        Risk::Execute,
        "kubernetes.exec",
        "create",
        "production",
    );
    check(
        "GET",
        "/api/v1/namespaces/prod/pods/web-1/exec?command=sh",
        Risk::Execute,
        "kubernetes.exec",
        "get",
        "production",
    );
    check(
        "POST",
        "/api/v1/namespaces/stage/pods/web-1/attach",
        Risk::Execute,
        "kubernetes.exec",
        "create",
        "staging",
    );
    check(
        "POST",
        "/api/v1/namespaces/stage/pods/web-1/portforward",
        Risk::Execute,
        "kubernetes.exec",
        "create",
        "staging",
    );
    check(
        "GET",
        "/api/v1/nodes/node-1/proxy/run",
        Risk::Execute,
        "kubernetes.exec",
        "get",
        "production",
    );
}

#[test]
fn rbac_tokens_and_certificates_escalate() {
    check(
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        Risk::Escalate,
        "kubernetes.escalate",
        "create",
        "production",
    );
    check(
        "PUT",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/stage/roles/r",
        Risk::Escalate,
        "kubernetes.escalate",
        "update",
        "staging",
    );
    check(
        "POST",
        "/api/v1/namespaces/stage/serviceaccounts/default/token",
        Risk::Escalate,
        "kubernetes.escalate",
        "create",
        "staging",
    );
    check(
        "PUT",
        "/apis/certificates.k8s.io/v1/certificatesigningrequests/csr-1/approval",
        Risk::Escalate,
        "kubernetes.escalate",
        "update",
        "production",
    );
    check(
        "GET",
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        Risk::Read,
        "kubernetes.read",
        "list",
        "production",
    );
}

#[test]
fn reads_writes_and_secrets() {
    check(
        "GET",
        "/api/v1/namespaces/stage/pods",
        Risk::Read,
        "kubernetes.read",
        "list",
        "staging",
    );
    check(
        "GET",
        "/api/v1/namespaces/stage/pods?watch=true",
        Risk::Read,
        "kubernetes.read",
        "watch",
        "staging",
    );
    check(
        "GET",
        "/api/v1/watch/namespaces/stage/pods",
        Risk::Read,
        "kubernetes.read",
        "watch",
        "staging",
    );
    check(
        "GET",
        "/api/v1/namespaces/stage/secrets/db",
        Risk::Read,
        "kubernetes.secrets-read",
        "get",
        "staging",
    );
    assert!(run("GET", "/api/v1/namespaces/stage/secrets").sensitive);
    assert!(!run("GET", "/api/v1/namespaces/stage/pods").sensitive);
    check(
        "PATCH",
        "/apis/apps/v1/namespaces/prod/deployments/web/scale",
        Risk::Write,
        "kubernetes.write",
        "patch",
        "production",
    );
    check(
        "POST",
        "/apis/apps/v1/namespaces/stage/deployments",
        Risk::Write,
        "kubernetes.write",
        "create",
        "staging",
    );
    check(
        "GET",
        "/api/v1/namespaces/prod",
        Risk::Read,
        "kubernetes.read",
        "get",
        "production",
    );
    let parsed = run(
        "PATCH",
        "/apis/apps/v1/namespaces/prod/deployments/web/scale",
    );
    assert_eq!(
        (
            parsed.group.as_str(),
            parsed.version.as_str(),
            parsed.namespace.as_deref(),
            parsed.resource.as_deref(),
            parsed.name.as_deref(),
            parsed.subresource.as_deref()
        ),
        (
            "apps",
            "v1",
            Some("prod"),
            Some("deployments"),
            Some("web"),
            Some("scale")
        )
    );
}

#[test]
fn discovery_and_odd_paths() {
    check(
        "GET",
        "/api",
        Risk::Read,
        "kubernetes.read",
        "get",
        "unknown",
    );
    check(
        "GET",
        "/apis/apps/v1",
        Risk::Read,
        "kubernetes.read",
        "get",
        "unknown",
    );
    check(
        "GET",
        "/version",
        Risk::Read,
        "kubernetes.read",
        "get",
        "unknown",
    );
    check(
        "POST",
        "/version",
        Risk::Unknown,
        "kubernetes.path-unknown",
        "post",
        "unknown",
    );
    check(
        "DELETE",
        "/api/v1/namespaces/prod/../stage/pods/x",
        Risk::Unknown,
        "kubernetes.path-unknown",
        "delete",
        "unknown",
    );
    check(
        "DELETE",
        "/api/v1/namespaces//prod",
        Risk::Unknown,
        "kubernetes.path-unknown",
        "delete",
        "unknown",
    );
    check(
        "DELETE",
        "/api/v1/namespaces/%70rod",
        Risk::Unknown,
        "kubernetes.path-unknown",
        "delete",
        "unknown",
    );
    check(
        "GET",
        "/metrics-server/x",
        Risk::Unknown,
        "kubernetes.path-unknown",
        "get",
        "unknown",
    );
    check(
        "TRACE",
        "/api/v1/pods",
        Risk::Unknown,
        "kubernetes.path-unknown",
        "trace",
        "production",
    );
}

/// Short names for the paths the body cases use.
const PATHS: &[(&str, &str)] = &[
    ("DEP", "/apis/apps/v1/namespaces/prod/deployments/web"),
    ("DEPS", "/apis/apps/v1/namespaces/prod/deployments"),
    ("STS", "/apis/apps/v1/namespaces/prod/statefulsets/pg"),
    (
        "SCALE",
        "/apis/apps/v1/namespaces/prod/deployments/web/scale",
    ),
    (
        "HPA",
        "/apis/autoscaling/v2/namespaces/prod/horizontalpodautoscalers/web",
    ),
    (
        "ROLLOUT",
        "/apis/argoproj.io/v1alpha1/namespaces/prod/rollouts/web",
    ),
    ("PVC", "/api/v1/namespaces/prod/persistentvolumeclaims/data"),
    ("PV", "/api/v1/persistentvolumes/pv-1"),
    ("SECRET", "/api/v1/namespaces/prod/secrets/db"),
    ("CM", "/api/v1/namespaces/prod/configmaps/app"),
    ("POD", "/api/v1/namespaces/prod/pods/pg-0"),
    (
        "ROLE",
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/view",
    ),
];

/// Sends `body` as `method` with `kind` of body to `path` (with its query, if any), and checks
/// the outcome. `kind` is `merge`, `smp` (strategic), `jp` (JSON Patch), `apply`, `json`,
/// `yaml`, `-` (no `Content-Type`) or a `Content-Type` as sent. `expected` is the rule id that
/// decides (its risk is the rule's, from [`RULES`]), or `400:CODE` when the request is
/// malformed.
fn check_body(method: &str, kind: &str, path: &str, body: &str, expected: &str) {
    let content_type = match kind {
        "-" => None,
        "merge" => Some("application/merge-patch+json"),
        "smp" => Some("application/strategic-merge-patch+json"),
        "jp" => Some("application/json-patch+json"),
        "apply" => Some("application/apply-patch+yaml"),
        "json" => Some("application/json"),
        "yaml" => Some("application/yaml"),
        other => Some(other),
    };
    let (path, query) = match path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path, None),
    };
    let outcome = classify(
        &KubernetesRequest {
            method: &Method::parse(method),
            path,
            query,
            content_type: content_type.map(str::as_bytes),
            body: body.as_bytes(),
        },
        &namespaces(),
    );
    let context = format!("{method} {kind} {path} {body:.200}: {outcome:.300?}");
    match (expected.strip_prefix("400:"), outcome) {
        (Some(code), Err(error)) => assert_eq!(error.code(), code, "{context}"),
        (None, Ok(classified)) => {
            let rule = RULES
                .iter()
                .find(|rule| rule.id == expected)
                .unwrap_or_else(|| panic!("`{expected}` is not in RULES"));
            assert_eq!(
                (classified.rule_id.as_str(), classified.risk),
                (expected, rule.risk),
                "{context}"
            );
            assert!(!classified.explanation.is_empty(), "{context}");
        }
        _ => panic!("expected {expected}; {context}"),
    }
}

/// Runs a table of cases, one a line: `METHOD KIND PATH BODY EXPECTED` (see [`check_body`]),
/// where PATH may be a name from [`PATHS`], BODY is `-` for none, and `#` starts a comment.
fn check_table(table: &str) {
    for line in table.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let [method, kind, path, .., expected] = words[..] else {
            panic!("not a case: {line}");
        };
        let body = match words[3..words.len() - 1].join(" ") {
            body if body == "-" => String::new(),
            body => body,
        };
        let (name, query) = path.split_once('?').unwrap_or((path, ""));
        let path = match PATHS.iter().find(|(short, _)| *short == name) {
            Some((_, full)) if query.is_empty() => (*full).to_owned(),
            Some((_, full)) => format!("{full}?{query}"),
            None => path.to_owned(),
        };
        check_body(method, kind, &path, &body, expected);
    }
}

#[test]
fn deletes_of_collections_destroy() {
    check_table(
        r#"
DELETE -    /api/v1/namespaces/prod/pods                           -  kubernetes.collection-delete
DELETE -    DEPS                                                   -  kubernetes.collection-delete
DELETE -    /api/v1/nodes                                          -  kubernetes.collection-delete
DELETE -    /api/v1/persistentvolumes                              -  kubernetes.collection-delete
DELETE -    /api/v1/namespaces                                     -  kubernetes.collection-delete
DELETE -    /api/v1/namespaces/prod/pods?labelSelector=app%3Dweb   -  kubernetes.collection-delete
DELETE -    /apis/postgresql.cnpg.io/v1/namespaces/prod/clusters/  -  kubernetes.collection-delete
DELETE -    /api/v1/watch/namespaces/prod/configmaps               -  kubernetes.collection-delete
DELETE json /api/v1/namespaces/prod/secrets  {"dryRun":["All"]}      kubernetes.collection-delete
# One pod is recreated by its controller, unless it is forced away.
DELETE -    POD                                  -                          kubernetes.write
DELETE -    POD?gracePeriodSeconds=30            -                          kubernetes.write
DELETE json POD                                  {"gracePeriodSeconds":30}  kubernetes.write
DELETE -    POD?gracePeriodSeconds=0             -                          kubernetes.pod-force-delete
DELETE -    POD?propagationPolicy=Background&gracePeriodSeconds=%30 -       kubernetes.pod-force-delete
DELETE json POD                                  {"gracePeriodSeconds":0}   kubernetes.pod-force-delete
DELETE -    POD  {"kind":"DeleteOptions","gracePeriodSeconds":0}            kubernetes.pod-force-delete
DELETE json PVC                                  {"gracePeriodSeconds":0}   kubernetes.delete
"#,
    );
}

#[test]
fn scaling_to_zero_destroys() {
    check_table(
        r#"
PATCH merge SCALE   {"spec":{"replicas":0}}                                    kubernetes.scale-to-zero
PUT   -     SCALE   {"kind":"Scale","spec":{"replicas":0}}                     kubernetes.scale-to-zero
PATCH smp   DEP     {"spec":{"replicas":0}}                                    kubernetes.scale-to-zero
PATCH jp    DEP     [{"op":"replace","path":"/spec/replicas","value":0}]       kubernetes.scale-to-zero
PATCH jp    STS     [{"op":"add","path":"/spec","value":{"replicas":0}}]       kubernetes.scale-to-zero
PATCH apply DEP     {"kind":"Deployment","spec":{"replicas":0}}                kubernetes.scale-to-zero
PUT   json  STS     {"metadata":{"name":"pg"},"spec":{"replicas":0.0}}         kubernetes.scale-to-zero
PUT   yaml  STS     {"metadata":{"name":"pg"},"spec":{"replicas":0}}           kubernetes.scale-to-zero
PATCH merge HPA     {"spec":{"maxReplicas":0}}                                 kubernetes.scale-to-zero
PATCH merge ROLLOUT {"spec":{"replicas":0}}                                    kubernetes.scale-to-zero
PATCH merge DEP     {"spec":{"Replicas":0}}                                    kubernetes.scale-to-zero
PATCH merge SCALE   {"spec":{"replicas":"0"}}                                  kubernetes.scale-to-zero
PATCH merge SCALE   {"spec":{"replicas":-0e3}}                                 kubernetes.scale-to-zero
PATCH jp    DEP     [{"op":"copy","from":"/spec/minReadySeconds","path":"/spec/replicas"}] kubernetes.scale-to-zero
PATCH application/Merge-Patch+JSON;charset=UTF-8 DEP {"spec":{"replicas":0}}   kubernetes.scale-to-zero
# A Scale's replicas is a plain number: a Scale without it is a Scale at 0.
PATCH merge SCALE   {"spec":{"replicas":null}}                                 kubernetes.scale-to-zero
PATCH smp   SCALE   {"spec":null}                                              kubernetes.scale-to-zero
PATCH smp   SCALE   {"spec":{"$patch":"replace"}}                              kubernetes.scale-to-zero
PUT   json  SCALE   {"kind":"Scale","spec":{}}                                 kubernetes.scale-to-zero
PATCH jp    SCALE   [{"op":"remove","path":"/spec/replicas"}]                  kubernetes.scale-to-zero
PATCH jp    SCALE   [{"op":"replace","path":"/spec","value":{}}]               kubernetes.scale-to-zero
PATCH jp    SCALE   [{"op":"move","from":"/spec/replicas","path":"/spec/x"}]   kubernetes.scale-to-zero
PATCH apply SCALE   {"spec":{"replicas":2}}                                    kubernetes.write
PATCH merge SCALE   {"metadata":{"labels":{"a":"b"}}}                          kubernetes.write
PUT   json  SCALE   {"kind":"Scale","spec":{"replicas":1}}                     kubernetes.write
# Scaling to anything else, reading the count, or creating at zero, is a write; so is
# removing a Deployment's replicas, which defaults it to 1.
PATCH merge SCALE   {"spec":{"replicas":3}}                                    kubernetes.write
PATCH jp    DEP     [{"op":"replace","path":"/spec/replicas","value":2}]       kubernetes.write
PATCH jp    DEP     [{"op":"remove","path":"/spec/replicas"}]                  kubernetes.write
PATCH jp    DEP     [{"op":"test","path":"/spec/replicas","value":0}]          kubernetes.write
PATCH merge DEP     {"spec":{"template":{"spec":{"replicas":0}}}}              kubernetes.write
PATCH jp    DEP     []                                                         kubernetes.write
POST  json  DEPS    {"metadata":{"name":"w"},"spec":{"replicas":0}}            kubernetes.write
"#,
    );
}

#[test]
fn removing_finalizers_or_setting_deletion_destroys() {
    check_table(
        r#"
PATCH merge PVC     {"metadata":{"finalizers":null}}                           kubernetes.finalizers-removed
PATCH merge PVC     {"metadata":{"finalizers":[]}}                             kubernetes.finalizers-removed
PATCH merge ROLLOUT {"metadata":{"finalizers":["a"]}}                          kubernetes.finalizers-removed
PATCH merge PVC     {"metadata":null}                                          kubernetes.finalizers-removed
PATCH smp   PVC     {"metadata":{"finalizers":null}}                           kubernetes.finalizers-removed
PATCH smp   PVC     {"metadata":{"finalizers":[{"$patch":"replace"}]}}         kubernetes.finalizers-removed
PATCH smp   PVC     {"metadata":{"$deleteFromPrimitiveList/finalizers":["x.io/a"]}} kubernetes.finalizers-removed
PATCH smp   PVC     {"metadata":{"$patch":"replace","name":"data"}}            kubernetes.finalizers-removed
PATCH smp   PVC     {"metadata":{"$retainKeys":["name"]}}                      kubernetes.finalizers-removed
PATCH smp   PVC     {"$patch":"delete"}                                        kubernetes.finalizers-removed
PATCH jp    PVC     [{"op":"remove","path":"/metadata/finalizers"}]            kubernetes.finalizers-removed
PATCH jp    PVC     [{"op":"remove","path":"/metadata/finalizers/0"}]          kubernetes.finalizers-removed
PATCH jp    PVC     [{"op":"replace","path":"/metadata/finalizers","value":[]}] kubernetes.finalizers-removed
PATCH jp    PVC     [{"op":"replace","path":"/metadata/finalizers/0","value":"x"}] kubernetes.finalizers-removed
PATCH jp    PVC     [{"op":"move","from":"/metadata/finalizers/0","path":"/metadata/x"}] kubernetes.finalizers-removed
PATCH jp    PVC     [{"op":"replace","path":"/metadata","value":{"name":"data"}}] kubernetes.finalizers-removed
PATCH jp    STS     [{"op":"replace","path":"","value":{"spec":{"replicas":0}}}] kubernetes.finalizers-removed
PATCH jp    PVC     [{"op":"remove","path":"/metadata/Finalizers"}]            kubernetes.finalizers-removed
PUT   json  PVC     {"metadata":{"name":"data","finalizers":[]}}               kubernetes.finalizers-removed
PATCH apply ROLLOUT {"metadata":{"finalizers":null}}                           kubernetes.finalizers-removed
PATCH merge ROLE    {"metadata":{"finalizers":null}}                           kubernetes.finalizers-removed
PUT   json  /api/v1/namespaces/prod/finalize {"spec":{"finalizers":[]}}        kubernetes.namespace-finalize
PUT   json  DEP     {"metadata":{"name":"web","deletionTimestamp":"2025-01-01T00:00:00Z"}} kubernetes.deletion-timestamp
PATCH merge DEP     {"metadata":{"deletionTimestamp":"2025-01-01T00:00:00Z"}}  kubernetes.deletion-timestamp
PATCH jp    DEP     [{"op":"add","path":"/metadata/deletionGracePeriodSeconds","value":0}] kubernetes.deletion-timestamp
PATCH merge PVC     {"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"x","uid":"0"}]}} kubernetes.owner-references
PATCH jp    PVC     [{"op":"add","path":"/metadata/ownerReferences/-","value":{"uid":"0"}}] kubernetes.owner-references
PATCH jp    PVC     [{"op":"replace","path":"/metadata/ownerReferences/0/uid","value":"0"}] kubernetes.owner-references
PUT   json  PVC     {"metadata":{"name":"data","ownerReferences":[{"uid":"0"}]}} kubernetes.owner-references
PATCH merge PVC     {"metadata":{"ownerReferences":null}}                      kubernetes.write
PATCH jp    PVC     [{"op":"remove","path":"/metadata/ownerReferences/0"}]     kubernetes.write
# Adding a finalizer, keeping them, and removing labels, containers or volumes are writes.
PATCH smp   PVC     {"metadata":{"finalizers":["x.io/keep"]}}                  kubernetes.write
PATCH jp    PVC     [{"op":"add","path":"/metadata/finalizers/-","value":"x.io/keep"}] kubernetes.write
PUT   json  PVC     {"metadata":{"name":"data","finalizers":["kubernetes.io/pvc-protection"]}} kubernetes.write
PATCH merge PVC     {"metadata":{"labels":{"team":null}}}                      kubernetes.write
PATCH merge DEP     {"metadata":{"deletionTimestamp":null}}                    kubernetes.write
PATCH smp   DEP     {"spec":{"template":{"spec":{"containers":[{"name":"old","$patch":"delete"}]}}}} kubernetes.write
PATCH smp   DEP     {"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}} kubernetes.write
PATCH smp   DEP     {"$setElementOrder/finalizers":["a"],"metadata":{"name":"web"}} kubernetes.write
PATCH jp    DEP     [{"op":"remove","path":"/spec/template/spec/volumes/0"}]   kubernetes.write
PATCH merge ROLE    {"metadata":{"labels":{"a":"b"}}}                          kubernetes.escalate
"#,
    );
}

#[test]
fn removing_secret_keys_and_arming_volume_deletion_destroy() {
    check_table(
        r#"
PATCH merge SECRET  {"data":{"password":null}}                                 kubernetes.data-keys-removed
PATCH smp   CM      {"data":null}                                              kubernetes.data-keys-removed
PATCH smp   CM      {"data":{"$patch":"replace","a":"1"}}                      kubernetes.data-keys-removed
PATCH merge CM      {"binaryData":{"blob":null}}                               kubernetes.data-keys-removed
PATCH jp    SECRET  [{"op":"remove","path":"/data/password"}]                  kubernetes.data-keys-removed
PATCH jp    SECRET  [{"op":"replace","path":"/data","value":{}}]               kubernetes.data-keys-removed
PATCH apply SECRET  {"data":{"password":null}}                                 kubernetes.data-keys-removed
# Changing a value is a write; so is a whole update, whose dropped keys cannot be seen.
PATCH merge SECRET  {"data":{"password":"bmV3"}}                               kubernetes.write
PATCH jp    SECRET  [{"op":"replace","path":"/data/password","value":"bmV3"}] kubernetes.write
PUT   json  SECRET  {"metadata":{"name":"db"},"data":{}}                       kubernetes.write
PATCH merge DEP     {"data":{"x":null}}                                        kubernetes.write
PATCH merge PV      {"spec":{"persistentVolumeReclaimPolicy":"Delete"}}        kubernetes.reclaim-delete
PATCH smp   STS     {"spec":{"persistentVolumeClaimRetentionPolicy":{"whenScaled":"Delete"}}} kubernetes.reclaim-delete
PATCH jp    STS     [{"op":"replace","path":"/spec/persistentVolumeClaimRetentionPolicy/whenDeleted","value":"Delete"}] kubernetes.reclaim-delete
PATCH merge PV      {"spec":{"persistentVolumeReclaimPolicy":"Retain"}}        kubernetes.write
"#,
    );
}

#[test]
fn malformed_requests_are_refused() {
    check_table(
        r#"
GET    -     DEP  {}                                              400:body-on-safe-method
HEAD   -     DEP  x                                               400:body-on-safe-method
OPTIONS -    DEP  x                                               400:body-on-safe-method
PATCH  -     DEP  {}                                              400:unsupported-content-type
PATCH  json  DEP  {}                                              400:unsupported-content-type
PATCH  application/apply-patch+cbor DEP x                         400:unsupported-content-type
PUT    application/vnd.kubernetes.protobuf DEP k8s                400:unsupported-content-type
PUT    application/json;charset=latin1 DEP {}                     400:unsupported-content-type
DELETE text/plain DEP now                                         400:unsupported-content-type
PATCH  merge DEP  {"spec":{"replicas":0,"replicas":3}}            400:duplicate-key
PATCH  merge DEP  {"spec":{"replicas":3,"r\u0065plicas":0}}       400:duplicate-key
PATCH  jp    DEP  [{"op":"add","op":"test","path":"/a","value":1}] 400:duplicate-key
PATCH  merge DEP  {"spec":                                        400:invalid-json
PUT    json  DEP  {"a":1}{"b":2}                                  400:invalid-json
PATCH  merge DEP  {"a":"\ud800"}                                  400:invalid-json
DELETE -     DEP  not-json                                        400:invalid-json
PATCH  apply DEP  {"spec":{"<<":{"replicas":0}}}                  400:yaml-not-json
PATCH  merge DEP  {"spec":{"<<":{"replicas":0}}}                  kubernetes.write
PATCH  merge DEP  []                                              400:wrong-shape
PUT    json  DEP  null                                            400:wrong-shape
PATCH  jp    DEP  {"op":"remove","path":"/spec"}                  400:wrong-shape
PATCH  jp    DEP  [{"op":"delete","path":"/spec"}]                400:invalid-json-patch
PATCH  jp    DEP  [{"op":"add","path":"/spec/replicas"}]          400:invalid-json-patch
PATCH  jp    DEP  [{"op":"remove","path":"spec/replicas"}]        400:invalid-json-patch
PATCH  jp    DEP  [{"op":"remove","path":"/spec/~2"}]             400:invalid-json-patch
PATCH  jp    DEP  [{"op":"copy","path":"/spec/replicas"}]         400:invalid-json-patch
PATCH  jp    DEP  ["remove"]                                      400:invalid-json-patch
PATCH  merge DEP  -                                               400:missing-body
POST   -     /api/v1/namespaces/prod/configmaps -                 400:missing-body
"#,
    );
    // Cases a one-line table cannot hold: whitespace, a byte-order mark, sizes.
    check_body(
        "PATCH",
        "apply",
        "/api/v1/pods",
        "spec:\n  replicas: 0\n",
        "400:yaml-not-json",
    );
    check_body(
        "PUT",
        "yaml",
        "/api/v1/nodes/n",
        "kind: Node\n",
        "400:yaml-not-json",
    );
    let charset = "application/json; charset=\"ISO-8859-1\"";
    check_body(
        "PUT",
        charset,
        "/api/v1/nodes/n",
        "{}",
        "400:unsupported-content-type",
    );
    check_body(
        "PATCH",
        "merge",
        "/api/v1/nodes/n",
        "\u{feff}{}",
        "400:invalid-json",
    );
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
    check_body("PUT", "json", "/api/v1/nodes/n", &deep, "400:invalid-json");
    let large = format!(r#"{{"a":"{}"}}"#, "x".repeat(3 * 1024 * 1024));
    check_body(
        "PATCH",
        "merge",
        "/api/v1/nodes/n",
        &large,
        "400:body-too-large",
    );
}

#[test]
fn bodies_that_belong_to_the_workload_or_to_an_unknown_path_are_not_read() {
    check_table(
        r#"
POST text/plain /api/v1/namespaces/prod/services/web/proxy/admin anything  kubernetes.exec
POST -          /api/v1/namespaces/prod/pods/web-1/exec?command=sh -       kubernetes.exec
POST text/plain /metrics-server/x                                anything  kubernetes.path-unknown
"#,
    );
}

#[test]
fn every_rule_is_documented_with_a_valid_unique_id() {
    let mut ids = std::collections::BTreeSet::new();
    for rule in RULES.iter().chain(blastdoor_http::rest::RULES) {
        assert!(blastdoor_core::RuleId::new(rule.id).is_ok(), "{}", rule.id);
        assert!(ids.insert(rule.id), "{} twice", rule.id);
        assert!(
            !rule.summary.is_empty() && !rule.example.is_empty(),
            "{}",
            rule.id
        );
        if rule.risk > Risk::Write {
            assert!(
                !rule.alternative.is_empty(),
                "{} has no safer alternative",
                rule.id
            );
        }
    }
}

#[test]
fn explanations_and_errors_name_what_was_found() {
    let request = |content_type: &'static [u8], body: &'static [u8]| KubernetesRequest {
        method: &Method::Patch,
        path: "/apis/apps/v1/namespaces/prod/deployments/web/scale",
        query: None,
        content_type: Some(content_type),
        body,
    };
    let merge = b"application/merge-patch+json";
    let classified = classify(
        &request(merge, br#"{"spec":{"replicas":0}}"#),
        &namespaces(),
    )
    .unwrap();
    assert_eq!(
        classified.explanation,
        "`patch` of `deployments/web/scale` sets `spec.replicas` to 0: scales a workload to zero \
         replicas: every pod stops"
    );
    assert_eq!(classified.environment.as_str(), "production");
    let duplicate = br#"{"spec":{"replicas":3,"replicas":0}}"#;
    let error = classify(&request(merge, duplicate), &namespaces()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the request body has the key `replicas` twice in one object"
    );
    let error = classify(&request(b"application/json", b"{}"), &namespaces()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("Content-Type `application/json` is not accepted")
    );
}
