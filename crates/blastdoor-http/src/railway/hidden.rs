//! Destruction and code execution hidden inside mutations the table rates as writes.
//!
//! - `railway.hidden-delete`: `environmentPatchCommit` (`patch`), `environmentStageChanges`
//!   (`input`) and `environmentApplyChangeSet` (`input`) whose patch sets `isDeleted: true`
//!   anywhere (a service, volume or bucket), maps a service, volume or bucket to `null`, or
//!   sets a variable to `null` (deletes it). Example: `environmentPatchCommit(environmentId:
//!   "env", patch: {volumes: {"vol-1": {isDeleted: true}}})`. Safer: `volumeInstanceBackupCreate`
//!   first, and let a human approve the delete.
//!   A patch that sets a domain, TCP proxy or volume mount (or a whole `networking` section) to
//!   `null` deletes them too.
//! - `railway.patch-uninspectable`: a patch that is not a JSON object (after decoding a JSON
//!   string) cannot be checked, so it is `Unknown`.
//! - `railway.start-command-change`: a patch setting a service's commands or where its code
//!   and build come from (`startCommand`, `preDeployCommand`, `buildCommand`, `source`,
//!   `dockerfilePath`, `nixpacksPlan`, a config-file path, `rootDirectory`, `builder`) runs new
//!   code in the service: `Execute`. Typed inputs (`serviceInstanceUpdate`,
//!   `variableCollectionUpsert`'s `replace`) are judged by [`crate::railway::inputs`].
//!
//! `environmentPatchCommitStaged` carries no patch: it commits what was staged before. Staging
//! through the gateway is checked here; a gateway that wants to see changes staged elsewhere
//! can fetch them ([`crate::railway::topology::STAGED_CHANGES_QUERY`]) and call
//! [`inspect_patch`].

use blastdoor_core::Risk;
use serde_json::{Map, Value};

use crate::HttpError;
use crate::railway::document::MAX_VALUE_DEPTH;

/// A risk found inside the arguments, above the table's risk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiddenFinding {
    pub risk: Risk,
    pub rule_id: &'static str,
    pub explanation: String,
}

/// Keys whose presence in a patch's service settings means new code will run: commands, and
/// where the code and its build come from.
const EXECUTION_KEYS: &[&str] = &[
    "builder",
    "buildCommand",
    "configFile",
    "dockerfilePath",
    "nixpacksPlan",
    "preDeployCommand",
    "railwayConfigFile",
    "rootDirectory",
    "source",
    "startCommand",
];

/// Maps whose entries are resources: an entry set to `null` deletes the resource (a service,
/// a volume, a bucket, a volume mount, a domain, a TCP proxy).
const RESOURCE_MAPS: &[&str] = &[
    "buckets",
    "customDomains",
    "domains",
    "serviceDomains",
    "services",
    "tcpProxies",
    "volumeMounts",
    "volumes",
];

/// The hidden risk of mutation `field` given its arguments (variables substituted), if any.
pub fn hidden_risk(field: &str, arguments: &Map<String, Value>) -> Option<HiddenFinding> {
    match field {
        "environmentPatchCommit" => inspect_patch(arguments.get("patch").unwrap_or(&Value::Null)),
        "environmentStageChanges" | "environmentApplyChangeSet" => {
            inspect_patch(arguments.get("input").unwrap_or(&Value::Null))
        }
        _ => None,
    }
}

/// A patch sent as a JSON string must be JSON a server reads the same way: one with a key given
/// twice makes the request malformed.
pub fn check_patch_text(field: &str, arguments: &Map<String, Value>) -> Result<(), HttpError> {
    let patch = match field {
        "environmentPatchCommit" => arguments.get("patch"),
        "environmentStageChanges" | "environmentApplyChangeSet" => arguments.get("input"),
        _ => None,
    };
    // A string that is not JSON at all is a JSON scalar the server may take as it is: it is
    // left to `inspect_patch`, which cannot inspect it (`Unknown`). A key given twice is two
    // readings of one patch: malformed.
    match patch {
        Some(Value::String(text)) => match crate::strict_json::parse(text.as_bytes()) {
            Err(error @ crate::MalformedRequest::DuplicateKey { .. }) => {
                Err(HttpError::InvalidJson(format!("in the patch: {error}")))
            }
            Ok(_) | Err(_) => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Checks an environment patch (an `EnvironmentConfig` or change set) for deletions and
/// command changes. A JSON string holding the patch is decoded first.
///
/// A `null` or absent patch gives no finding: the schema declares it non-null, so Railway
/// refuses such a request before doing anything.
pub fn inspect_patch(patch: &Value) -> Option<HiddenFinding> {
    if patch.is_null() {
        return None;
    }
    let decoded;
    let patch = match patch {
        // Read as strictly as the body: a key given twice could be read two ways.
        Value::String(text) => match crate::strict_json::parse(text.as_bytes()) {
            Ok(value) => {
                decoded = value;
                &decoded
            }
            Err(_) => return Some(uninspectable()),
        },
        other => other,
    };
    if !patch.is_object() {
        return Some(uninspectable());
    }
    let mut scan = Scan::default();
    scan.value(None, patch, 0);
    if scan.too_deep {
        return Some(uninspectable());
    }
    if let Some(what) = scan.deletion {
        return Some(HiddenFinding {
            risk: Risk::Destroy,
            rule_id: "railway.hidden-delete",
            explanation: format!("the environment patch deletes something: {what}"),
        });
    }
    scan.execution
        .map(|key| start_command_finding("environment patch", key))
}

fn start_command_finding(what: &str, key: &str) -> HiddenFinding {
    HiddenFinding {
        risk: Risk::Execute,
        rule_id: "railway.start-command-change",
        explanation: format!("`{what}` changes `{key}`: the service will run new code"),
    }
}

fn uninspectable() -> HiddenFinding {
    HiddenFinding {
        risk: Risk::Unknown,
        rule_id: "railway.patch-uninspectable",
        explanation: "the environment patch is not a JSON object blastdoor can inspect".to_owned(),
    }
}

#[derive(Default)]
struct Scan {
    deletion: Option<String>,
    execution: Option<&'static str>,
    too_deep: bool,
}

impl Scan {
    /// Walks the patch; `parent` is the key the value sits under.
    fn value(&mut self, parent: Option<&str>, value: &Value, depth: usize) {
        if depth > MAX_VALUE_DEPTH {
            self.too_deep = true;
            return;
        }
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    self.entry(parent, key, inner);
                    self.value(Some(key), inner, depth + 1);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.value(parent, item, depth + 1);
                }
            }
            _ => {}
        }
    }

    fn entry(&mut self, parent: Option<&str>, key: &str, value: &Value) {
        if self.deletion.is_some() {
            return;
        }
        if key == "isDeleted" && value != &Value::Bool(false) && !value.is_null() {
            self.deletion = Some("`isDeleted: true`".to_owned());
        } else if value.is_null() && parent.is_some_and(|parent| RESOURCE_MAPS.contains(&parent)) {
            self.deletion = Some(format!(
                "`{parent}` entry set to null",
                parent = parent.unwrap_or("")
            ));
        } else if value.is_null() && matches!(parent, Some("variables" | "sharedVariables")) {
            self.deletion = Some("a variable set to null".to_owned());
        } else if (key == "sharedVariables"
            || key == "variables"
            || key == "networking"
            || RESOURCE_MAPS.contains(&key))
            && value.is_null()
        {
            self.deletion = Some(format!("`{key}` set to null"));
        } else if self.execution.is_none()
            && let Some(found) = EXECUTION_KEYS.iter().find(|candidate| **candidate == key)
        {
            self.execution = Some(found);
        }
    }
}
