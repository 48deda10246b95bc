//! Kubernetes request bodies: read once, the way the API server reads them, then checked for
//! destruction hidden inside updates, patches and delete options.
//!
//! Reading ([`read`]): the media type of `Content-Type` says how the API server reads the body.
//!
//! | verb | media types | blastdoor reads |
//! |---|---|---|
//! | `patch` | `application/json-patch+json`, `application/merge-patch+json`, `application/strategic-merge-patch+json`, `application/apply-patch+yaml` | each as its kind of patch; apply only when the body is JSON |
//! | `create`, `update`, `delete`, `deletecollection` | `application/json` (also when `Content-Type` is absent, as the API server defaults), `application/yaml` | a JSON object; YAML only when the body is JSON |
//!
//! Anything else is malformed ([`MalformedRequest`]), never `Unknown`: a body that cannot be
//! read as its media type says (invalid JSON, a duplicate key, the wrong shape, an invalid JSON
//! Patch operation), a PATCH without a patch media type (the API server answers 415), protobuf
//! and CBOR (blastdoor does not read them: send JSON), a YAML body that is not JSON, a charset
//! other than UTF-8, a create, update or patch with no body, a body over [`MAX_BODY_BYTES`].
//! JSON is a subset of YAML, and a JSON body under a YAML media type means the same to the
//! API server's YAML reader (what that reader could refuse, such as a surrogate escape, only
//! fails the request), with one exception blastdoor refuses: a `<<` key, which a YAML 1.1
//! reader may take for a merge key. So no YAML reader is needed, and none is linked.
//!
//! Checking ([`inspect`]): [`WATCHED`] lists the fields whose change is destructive, each with
//! its rule; an object body (update, merge, strategic merge, apply) and every JSON Patch
//! operation are checked against each field, reading keys without regard to ASCII case (an
//! older API server matched them so; the stricter reading only flags more). Deletes are checked
//! for a forced pod deletion. Creates are read but not checked: nothing exists yet to lose.

use serde_json::{Map, Value};

use crate::malformed::{MalformedRequest, quote};
use crate::rule::Rule;

use super::rules;

/// Bodies larger than this are malformed: the API server's own limit
/// (`--max-request-body-bytes`, 3 MiB), which no object it stores comes near.
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// How the API server reads a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// `application/json`, or no `Content-Type`: a whole object (or `DeleteOptions`).
    Json,
    /// `application/yaml`: a whole object, read by blastdoor only when it is JSON.
    Yaml,
    /// `application/merge-patch+json` (RFC 7386): `null` removes, lists are replaced whole.
    MergePatch,
    /// `application/strategic-merge-patch+json`: a merge patch where lists with a merge key are
    /// merged, and the `$patch`, `$retainKeys` and `$deleteFromPrimitiveList/...` directives
    /// replace or delete.
    StrategicMergePatch,
    /// `application/json-patch+json` (RFC 6902): a list of operations on JSON Pointers.
    JsonPatch,
    /// `application/apply-patch+yaml`: server-side apply of a whole (partial) object, read by
    /// blastdoor only when it is JSON.
    ApplyPatch,
}

const PATCH_MEDIA_TYPES: &str = "`application/json-patch+json`, `application/merge-patch+json`, \
                                 `application/strategic-merge-patch+json` or \
                                 `application/apply-patch+yaml` (with a JSON body)";
const OBJECT_MEDIA_TYPES: &str = "`application/json` (or `application/yaml` with a JSON body)";

/// What one part of a request asks for, as far as the body rules care.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    pub verb: &'a str,
    pub resource: &'a str,
    pub subresource: Option<&'a str>,
    pub query: Option<&'a str>,
    pub content_type: Option<&'a [u8]>,
    pub body: &'a [u8],
}

/// A destructive change found in a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub rule: &'static Rule,
    /// What the body does, for the explanation: "sets `spec.replicas` to 0".
    pub what: &'static str,
}

/// Reads the body of `request` as the API server would, and returns the first destructive
/// change in it, if any. Only called for `create`, `update`, `patch`, `delete` and
/// `deletecollection` of a resource (not for `exec`-like subresources, whose body belongs to
/// the workload).
pub(crate) fn inspect(request: &Request<'_>) -> Result<Option<Finding>, MalformedRequest> {
    let body = read(request.verb, request.content_type, request.body)?;
    match request.verb {
        "update" | "patch" => {
            let semantics = match body.format {
                BodyFormat::Json | BodyFormat::Yaml => Semantics::Replace,
                BodyFormat::ApplyPatch => Semantics::Apply,
                BodyFormat::MergePatch => Semantics::Merge,
                BodyFormat::StrategicMergePatch => Semantics::Strategic,
                BodyFormat::JsonPatch => {
                    let operations = operations(&body.value)?;
                    return Ok(first_finding(request, |field| {
                        operations
                            .iter()
                            .any(|operation| operation_hits(operation, field))
                    }));
                }
            };
            let Value::Object(root) = &body.value else {
                return Ok(None);
            };
            Ok(first_finding(request, |field| {
                object_hits(semantics, root, field)
            }))
        }
        "delete" if request.resource == "pods" => {
            let in_body = match &body.value {
                Value::Object(options) => fields(options, "gracePeriodSeconds").any(forces),
                _ => false,
            };
            let in_query = request.query.is_some_and(|query| {
                query_values(query, "gracePeriodSeconds").any(|value| forces(&Value::String(value)))
            });
            Ok((in_body || in_query).then_some(Finding {
                rule: &rules::POD_FORCE_DELETE,
                what: "with a grace period of 0",
            }))
        }
        _ => Ok(None),
    }
}

/// A body read as its media type says.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub format: BodyFormat,
    /// The body: an object, or the array of a JSON Patch; `Null` for an empty delete body.
    pub value: Value,
}

/// Reads `body` for `verb` (`create`, `update`, `patch`, `delete`, `deletecollection`) under
/// `content_type` (the raw header value, if any), as the API server would, refusing what it
/// cannot read unambiguously. A delete without a body gives `Null`.
pub fn read(
    verb: &str,
    content_type: Option<&[u8]>,
    body: &[u8],
) -> Result<Body, MalformedRequest> {
    if body.len() > MAX_BODY_BYTES {
        return Err(MalformedRequest::BodyTooLarge {
            size: body.len(),
            limit: MAX_BODY_BYTES,
        });
    }
    let is_delete = matches!(verb, "delete" | "deletecollection");
    if body.is_empty() && is_delete {
        return Ok(Body {
            format: BodyFormat::Json,
            value: Value::Null,
        });
    }
    let expected = if verb == "patch" {
        PATCH_MEDIA_TYPES
    } else {
        OBJECT_MEDIA_TYPES
    };
    let media = media_type(content_type, expected)?;
    let format = match (verb, media.as_deref()) {
        ("patch", Some("application/json-patch+json")) => BodyFormat::JsonPatch,
        ("patch", Some("application/merge-patch+json")) => BodyFormat::MergePatch,
        ("patch", Some("application/strategic-merge-patch+json")) => {
            BodyFormat::StrategicMergePatch
        }
        ("patch", Some("application/apply-patch+yaml")) => BodyFormat::ApplyPatch,
        ("patch", _) => return Err(unsupported(media.as_deref(), expected)),
        (_, None | Some("application/json")) => BodyFormat::Json,
        (_, Some("application/yaml")) => BodyFormat::Yaml,
        (_, Some(_)) => return Err(unsupported(media.as_deref(), expected)),
    };
    if body.is_empty() {
        return Err(MalformedRequest::MissingBody {
            verb: verb.to_owned(),
        });
    }
    let value = match crate::strict_json::parse(body) {
        Ok(value) => value,
        Err(MalformedRequest::InvalidJson(_))
            if matches!(format, BodyFormat::Yaml | BodyFormat::ApplyPatch) =>
        {
            return Err(MalformedRequest::YamlNotJson);
        }
        Err(error) => return Err(error),
    };
    if matches!(format, BodyFormat::Yaml | BodyFormat::ApplyPatch) && has_merge_key(&value) {
        return Err(MalformedRequest::YamlNotJson);
    }
    let shape_ok = match format {
        BodyFormat::JsonPatch => value.is_array(),
        _ => value.is_object(),
    };
    if !shape_ok {
        return Err(MalformedRequest::WrongShape {
            expected: match format {
                BodyFormat::JsonPatch => "a JSON Patch (an array of operations)",
                _ => "a JSON object",
            },
        });
    }
    Ok(Body { format, value })
}

/// Whether an object anywhere in `value` has the key `<<`, which a YAML 1.1 reader may take
/// for a merge key (pulling another map's keys in) where a JSON reader sees a plain key.
fn has_merge_key(value: &Value) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(key, inner)| key == "<<" || has_merge_key(inner)),
        Value::Array(items) => items.iter().any(has_merge_key),
        _ => false,
    }
}

fn unsupported(media: Option<&str>, expected: &'static str) -> MalformedRequest {
    MalformedRequest::UnsupportedContentType {
        content_type: quote(media.unwrap_or("(none)")),
        expected,
    }
}

/// The media type of a `Content-Type` value, lowercased, without parameters; `None` when the
/// header is absent or empty (the API server then assumes JSON for objects). A value that is
/// not visible ASCII, or names a charset other than UTF-8, is refused.
fn media_type(
    content_type: Option<&[u8]>,
    expected: &'static str,
) -> Result<Option<String>, MalformedRequest> {
    let Some(raw) = content_type else {
        return Ok(None);
    };
    let text = std::str::from_utf8(raw)
        .ok()
        .filter(|text| {
            text.bytes()
                .all(|byte| byte == b'\t' || (0x20..0x7f).contains(&byte))
        })
        .ok_or(MalformedRequest::UnsupportedContentType {
            content_type: "(not text)".to_owned(),
            expected,
        })?;
    let mut parts = text.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    for parameter in parts {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        let value = value.trim().trim_matches('"');
        if name.trim().eq_ignore_ascii_case("charset")
            && !value.eq_ignore_ascii_case("utf-8")
            && !value.eq_ignore_ascii_case("utf8")
        {
            return Err(MalformedRequest::UnsupportedContentType {
                content_type: quote(text),
                expected: "UTF-8",
            });
        }
    }
    Ok((!essence.is_empty()).then_some(essence))
}

/// How an object body changes the stored object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Semantics {
    /// An update (PUT): the body is the whole new object.
    Replace,
    /// Server-side apply: the body is the whole intent of its field manager.
    Apply,
    /// JSON merge patch: `null` removes a key, a list replaces the stored list.
    Merge,
    /// Strategic merge patch: lists with a merge key merge; `$` directives replace and delete.
    Strategic,
}

/// What about a watched field is destructive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Watch {
    /// The field becomes a number 0 (or a string that reads as 0).
    Zero,
    /// The field becomes 0, null, or is removed: for a field that is a plain number, which a
    /// missing value leaves at 0 (the `scale` subresource's `spec.replicas`).
    ZeroOrRemoved,
    /// The field is set to anything but null.
    Set,
    /// The field becomes the string `Delete`.
    Delete,
    /// Entries are added to this list, or it is set to a list that is not empty.
    NewEntries,
    /// Entries of this list are removed or replaced (or the whole list is).
    ListEntries,
    /// Keys of this map are removed (or the whole map is replaced or removed).
    MapKeys,
}

/// A field whose change a body rule flags.
#[derive(Debug)]
struct Watched {
    /// Keys from the object's root.
    path: &'static [&'static str],
    watch: Watch,
    /// The resources the field is watched on (`None`: all).
    resources: Option<&'static [&'static str]>,
    /// The subresource the field is watched on (`None`: the object and all subresources).
    subresource: Option<&'static str>,
    rule: &'static Rule,
    /// What a body that trips it does, for the explanation.
    what: &'static str,
}

/// The watched fields, in the order findings are reported (the first one found is cited).
static WATCHED: &[Watched] = &[
    Watched {
        path: &["metadata", "deletionTimestamp"],
        watch: Watch::Set,
        resources: None,
        subresource: None,
        rule: &rules::DELETION_TIMESTAMP,
        what: "sets `metadata.deletionTimestamp`",
    },
    Watched {
        path: &["metadata", "deletionGracePeriodSeconds"],
        watch: Watch::Set,
        resources: None,
        subresource: None,
        rule: &rules::DELETION_TIMESTAMP,
        what: "sets `metadata.deletionGracePeriodSeconds`",
    },
    Watched {
        path: &["metadata", "finalizers"],
        watch: Watch::ListEntries,
        resources: None,
        subresource: None,
        rule: &rules::FINALIZERS_REMOVED,
        what: "removes or replaces `metadata.finalizers`",
    },
    Watched {
        path: &["metadata", "ownerReferences"],
        watch: Watch::NewEntries,
        resources: None,
        subresource: None,
        rule: &rules::OWNER_REFERENCES,
        what: "sets `metadata.ownerReferences`",
    },
    Watched {
        path: &["spec", "replicas"],
        watch: Watch::Zero,
        resources: None,
        subresource: None,
        rule: &rules::SCALE_TO_ZERO,
        what: "sets `spec.replicas` to 0",
    },
    Watched {
        path: &["spec", "maxReplicas"],
        watch: Watch::Zero,
        resources: None,
        subresource: None,
        rule: &rules::SCALE_TO_ZERO,
        what: "sets `spec.maxReplicas` to 0",
    },
    Watched {
        path: &["spec", "replicas"],
        watch: Watch::ZeroOrRemoved,
        resources: None,
        subresource: Some("scale"),
        rule: &rules::SCALE_TO_ZERO,
        what: "removes `spec.replicas` from a Scale, which leaves it at 0",
    },
    Watched {
        path: &["data"],
        watch: Watch::MapKeys,
        resources: Some(&["secrets", "configmaps"]),
        subresource: None,
        rule: &rules::DATA_KEYS_REMOVED,
        what: "removes keys from `data`",
    },
    Watched {
        path: &["binaryData"],
        watch: Watch::MapKeys,
        resources: Some(&["configmaps"]),
        subresource: None,
        rule: &rules::DATA_KEYS_REMOVED,
        what: "removes keys from `binaryData`",
    },
    Watched {
        path: &["spec", "persistentVolumeReclaimPolicy"],
        watch: Watch::Delete,
        resources: None,
        subresource: None,
        rule: &rules::RECLAIM_DELETE,
        what: "sets `spec.persistentVolumeReclaimPolicy` to `Delete`",
    },
    Watched {
        path: &[
            "spec",
            "persistentVolumeClaimRetentionPolicy",
            "whenDeleted",
        ],
        watch: Watch::Delete,
        resources: None,
        subresource: None,
        rule: &rules::RECLAIM_DELETE,
        what: "sets `spec.persistentVolumeClaimRetentionPolicy.whenDeleted` to `Delete`",
    },
    Watched {
        path: &["spec", "persistentVolumeClaimRetentionPolicy", "whenScaled"],
        watch: Watch::Delete,
        resources: None,
        subresource: None,
        rule: &rules::RECLAIM_DELETE,
        what: "sets `spec.persistentVolumeClaimRetentionPolicy.whenScaled` to `Delete`",
    },
];

fn first_finding(request: &Request<'_>, hits: impl Fn(&Watched) -> bool) -> Option<Finding> {
    WATCHED
        .iter()
        .filter(|field| {
            field
                .resources
                .is_none_or(|only| only.contains(&request.resource))
                && field
                    .subresource
                    .is_none_or(|only| request.subresource == Some(only))
        })
        .find(|field| hits(field))
        .map(|field| Finding {
            rule: field.rule,
            what: field.what,
        })
}

/// The values of `map` under `key`, compared without regard to ASCII case.
fn fields<'v, 'k>(
    map: &'v Map<String, Value>,
    key: &'k str,
) -> impl Iterator<Item = &'v Value> + use<'v, 'k> {
    map.iter()
        .filter(move |(name, _)| name.eq_ignore_ascii_case(key))
        .map(|(_, value)| value)
}

/// Every value at `path` below `value` (keys without regard to ASCII case).
fn lookup<'v>(value: &'v Value, path: &[&str], found: &mut Vec<&'v Value>) {
    match path.split_first() {
        None => found.push(value),
        Some((key, rest)) => {
            if let Value::Object(map) = value {
                for inner in fields(map, key) {
                    lookup(inner, rest, found);
                }
            }
        }
    }
}

/// Every value at `path` below the object `root`.
fn lookup_in<'v>(root: &'v Map<String, Value>, path: &[&str], found: &mut Vec<&'v Value>) {
    if let Some((first, rest)) = path.split_first() {
        for value in fields(root, first) {
            lookup(value, rest, found);
        }
    }
}

fn scalar_is_destructive(watch: Watch, value: &Value) -> bool {
    match watch {
        Watch::Zero => is_zero(value),
        Watch::Set => !value.is_null(),
        Watch::Delete => value
            .as_str()
            .is_some_and(|text| text.trim().eq_ignore_ascii_case("Delete")),
        Watch::ZeroOrRemoved => value.is_null() || is_zero(value),
        Watch::NewEntries => value.as_array().is_some_and(|items| !items.is_empty()),
        Watch::ListEntries | Watch::MapKeys => false,
    }
}

/// A number equal to 0, or a string that reads as one (`"0"`, `"0.0"`): the API server refuses
/// a string where it wants a number, but flagging one costs nothing.
fn is_zero(value: &Value) -> bool {
    match value {
        Value::Number(number) => number.as_f64() == Some(0.0),
        Value::String(text) => text.trim().parse::<f64>() == Ok(0.0),
        _ => false,
    }
}

/// A `gracePeriodSeconds` of 0 or less: the deletion does not wait for the kubelet.
fn forces(value: &Value) -> bool {
    match value {
        Value::Number(number) => number.as_f64().is_some_and(|seconds| seconds <= 0.0),
        Value::String(text) => text
            .trim()
            .parse::<f64>()
            .is_ok_and(|seconds| seconds <= 0.0),
        _ => false,
    }
}

/// Does the object body `root` make the destructive change `field` watches for?
fn object_hits(semantics: Semantics, root: &Map<String, Value>, field: &Watched) -> bool {
    match field.watch {
        Watch::Zero | Watch::Set | Watch::Delete | Watch::NewEntries => {
            let mut found = Vec::new();
            lookup_in(root, field.path, &mut found);
            found
                .into_iter()
                .any(|value| scalar_is_destructive(field.watch, value))
        }
        // An update replaces the whole map: which keys it drops depends on the stored object,
        // which blastdoor does not see.
        Watch::MapKeys if semantics == Semantics::Replace => false,
        Watch::ListEntries | Watch::MapKeys => {
            container_hit(semantics, root, field.path, field.watch)
        }
        // A whole object without the field sets it to 0; a patch or apply without it leaves
        // it alone.
        Watch::ZeroOrRemoved => {
            let mut found = Vec::new();
            lookup_in(root, field.path, &mut found);
            (semantics == Semantics::Replace && found.is_empty())
                || container_hit(semantics, root, field.path, field.watch)
        }
    }
}

/// Does the object `node` remove entries of the list or map at `path` below it (or, for
/// [`Watch::ZeroOrRemoved`], remove the field or set it to 0)?
fn container_hit(
    semantics: Semantics,
    node: &Map<String, Value>,
    path: &[&str],
    watch: Watch,
) -> bool {
    let Some((key, rest)) = path.split_first() else {
        return false;
    };
    if semantics == Semantics::Strategic && strategic_drops(node, key) {
        return true;
    }
    if rest.is_empty() && semantics == Semantics::Strategic && watch == Watch::ListEntries {
        let deletes_entries = node.keys().any(|name| {
            name.get(..DELETE_FROM_PRIMITIVE_LIST.len())
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case(DELETE_FROM_PRIMITIVE_LIST))
                && name
                    .get(DELETE_FROM_PRIMITIVE_LIST.len()..)
                    .is_some_and(|list| list.eq_ignore_ascii_case(key))
        });
        if deletes_entries {
            return true;
        }
    }
    fields(node, key).any(|child| match child {
        // A null removes the key, and with it everything below.
        Value::Null => true,
        Value::Object(map) if !rest.is_empty() => container_hit(semantics, map, rest, watch),
        _ if !rest.is_empty() => false,
        Value::Array(items) if watch == Watch::ListEntries => match semantics {
            // A merge patch replaces the stored list with this one.
            Semantics::Merge => true,
            Semantics::Replace | Semantics::Apply => items.is_empty(),
            // A list of strings merges into the stored one; anything else is a directive.
            Semantics::Strategic => items.is_empty() || items.iter().any(|item| !item.is_string()),
        },
        _ if watch == Watch::ZeroOrRemoved => is_zero(child),
        Value::Object(map) if watch == Watch::MapKeys => {
            map.values().any(Value::is_null)
                || (semantics == Semantics::Strategic
                    && map.keys().any(|name| {
                        name.eq_ignore_ascii_case("$patch")
                            || name.eq_ignore_ascii_case("$retainKeys")
                    }))
        }
        _ => false,
    })
}

const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";

/// Does a strategic merge patch's directive on map `node` drop its key `key`: `$patch` other
/// than `merge` (replace or delete the map), or `$retainKeys` not listing `key`?
fn strategic_drops(node: &Map<String, Value>, key: &str) -> bool {
    let replaces = fields(node, "$patch").any(|directive| directive.as_str() != Some("merge"));
    let retains_without = fields(node, "$retainKeys").any(|retained| match retained {
        Value::Array(names) => !names.iter().any(|name| {
            name.as_str()
                .is_some_and(|name| name.eq_ignore_ascii_case(key))
        }),
        _ => true,
    });
    replaces || retains_without
}

/// A JSON Patch operation, read.
#[derive(Debug)]
struct Operation<'a> {
    op: Op,
    path: Vec<String>,
    /// `from`, for `move` and `copy`.
    from: Option<Vec<String>>,
    /// `value`, for `add`, `replace` and `test`.
    value: Option<&'a Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Remove,
    Replace,
    Move,
    Copy,
    Test,
}

/// Reads a JSON Patch: every operation must be one the API server would apply.
fn operations(patch: &Value) -> Result<Vec<Operation<'_>>, MalformedRequest> {
    let Value::Array(items) = patch else {
        return Err(MalformedRequest::WrongShape {
            expected: "a JSON Patch (an array of operations)",
        });
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let invalid = |why: String| MalformedRequest::InvalidJsonPatch { index, why };
            let Value::Object(operation) = item else {
                return Err(invalid("not an object".to_owned()));
            };
            let op = match operation.get("op").and_then(Value::as_str) {
                Some("add") => Op::Add,
                Some("remove") => Op::Remove,
                Some("replace") => Op::Replace,
                Some("move") => Op::Move,
                Some("copy") => Op::Copy,
                Some("test") => Op::Test,
                Some(other) => return Err(invalid(format!("unknown op `{}`", quote(other)))),
                None => return Err(invalid("no `op` string".to_owned())),
            };
            let pointer_at = |member: &str| -> Result<Vec<String>, MalformedRequest> {
                let text = operation
                    .get(member)
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid(format!("no `{member}` string")))?;
                pointer(text).map_err(|why| invalid(format!("`{member}` {why}")))
            };
            let path = pointer_at("path")?;
            let from = match op {
                Op::Move | Op::Copy => Some(pointer_at("from")?),
                _ => None,
            };
            let value = match op {
                Op::Add | Op::Replace | Op::Test => Some(
                    operation
                        .get("value")
                        .ok_or_else(|| invalid("no `value`".to_owned()))?,
                ),
                _ => None,
            };
            Ok(Operation {
                op,
                path,
                from,
                value,
            })
        })
        .collect()
}

/// The reference tokens of a JSON Pointer (RFC 6901): `""` is the whole document, anything
/// else starts with `/`; `~1` is `/` and `~0` is `~`, and any other `~` is refused.
fn pointer(text: &str) -> Result<Vec<String>, &'static str> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = text.strip_prefix('/') else {
        return Err("is not a JSON Pointer: it does not start with `/`");
    };
    rest.split('/')
        .map(|token| {
            let mut decoded = String::with_capacity(token.len());
            let mut chars = token.chars();
            while let Some(c) = chars.next() {
                if c != '~' {
                    decoded.push(c);
                    continue;
                }
                match chars.next() {
                    Some('0') => decoded.push('~'),
                    Some('1') => decoded.push('/'),
                    _ => return Err("has a `~` not followed by `0` or `1`"),
                }
            }
            Ok(decoded)
        })
        .collect()
}

/// Where an operation's pointer lies relative to a watched field.
#[derive(Debug, PartialEq, Eq)]
enum Relation<'w> {
    /// At the field or above it; the rest of the field's path below the pointer.
    Contains(&'w [&'static str]),
    /// Strictly below the field (an entry of the list or map).
    Inside,
    Unrelated,
}

fn relation<'w>(pointer: &[String], field: &'w [&'static str]) -> Relation<'w> {
    let common = pointer
        .iter()
        .zip(field.iter())
        .take_while(|(token, key)| token.eq_ignore_ascii_case(key))
        .count();
    if common == pointer.len() {
        Relation::Contains(field.get(common..).unwrap_or_default())
    } else if common == field.len() {
        Relation::Inside
    } else {
        Relation::Unrelated
    }
}

/// Does the JSON Patch operation make the destructive change `field` watches for? A value the
/// patch copies or moves from elsewhere is unknown, so it counts as destructive.
fn operation_hits(operation: &Operation<'_>, field: &Watched) -> bool {
    let at = relation(&operation.path, field.path);
    match field.watch {
        Watch::Zero | Watch::Set | Watch::Delete | Watch::NewEntries => match (operation.op, at) {
            (Op::Add | Op::Replace, Relation::Contains(rest)) => {
                let mut found = Vec::new();
                if let Some(value) = operation.value {
                    lookup(value, rest, &mut found);
                }
                found
                    .into_iter()
                    .any(|value| scalar_is_destructive(field.watch, value))
            }
            (Op::Copy | Op::Move, Relation::Contains(_)) => true,
            // Adding or rewriting one entry of the list.
            (Op::Add | Op::Replace | Op::Copy | Op::Move, Relation::Inside) => {
                field.watch == Watch::NewEntries
            }
            _ => false,
        },
        Watch::ZeroOrRemoved => {
            let moves_out = operation.op == Op::Move
                && operation.from.as_deref().is_some_and(|from| {
                    matches!(relation(from, field.path), Relation::Contains(_))
                });
            let at_path = match (operation.op, at) {
                (Op::Remove | Op::Copy | Op::Move, Relation::Contains(_)) => true,
                // Writing the field, or something above it without the field.
                (Op::Add | Op::Replace, Relation::Contains(rest)) => {
                    let mut found = Vec::new();
                    if let Some(value) = operation.value {
                        lookup(value, rest, &mut found);
                    }
                    found.is_empty()
                        || found
                            .into_iter()
                            .any(|value| scalar_is_destructive(field.watch, value))
                }
                _ => false,
            };
            moves_out || at_path
        }
        Watch::ListEntries | Watch::MapKeys => {
            let moves_out = operation.op == Op::Move
                && operation
                    .from
                    .as_deref()
                    .is_some_and(|from| relation(from, field.path) != Relation::Unrelated);
            let at_path = match (operation.op, at) {
                (Op::Test, _) | (_, Relation::Unrelated) => false,
                // Removing the field, something above it, or one of its entries.
                (Op::Remove, _) => true,
                // Writing the field or something above it replaces the whole list or map.
                (_, Relation::Contains(_)) => true,
                // Replacing one entry of a list drops the entry that was there; replacing a
                // map's key only changes its value.
                (Op::Replace, Relation::Inside) => field.watch == Watch::ListEntries,
                (Op::Add | Op::Copy | Op::Move, Relation::Inside) => false,
            };
            moves_out || at_path
        }
    }
}

/// The percent-decoded values of `name` in a query string, as Go's `url.ParseQuery` reads
/// them (`+` is a space; a pair with a bad escape or a `;` is dropped). Names are compared
/// without regard to ASCII case, which can only flag more.
fn query_values<'q>(query: &'q str, name: &'q str) -> impl Iterator<Item = String> + 'q {
    query.split('&').filter_map(move |pair| {
        if pair.contains(';') {
            return None;
        }
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key)?;
        key.eq_ignore_ascii_case(name)
            .then(|| percent_decode(value))
            .flatten()
    })
}

fn percent_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut input = text.bytes();
    while let Some(byte) = input.next() {
        match byte {
            b'%' => {
                let high = char::from(input.next()?).to_digit(16)?;
                let low = char::from(input.next()?).to_digit(16)?;
                bytes.push(u8::try_from(high * 16 + low).ok()?);
            }
            b'+' => bytes.push(b' '),
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).ok()
}
