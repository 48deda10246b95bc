//! The ledger's record format: [`Record`] (what a caller appends), [`Entry`] (a record with its
//! sequence number, as read back) and the canonical entry bytes that are stored and hashed.
//!
//! Entry bytes are `serde_json` of a struct with a fixed field order, `seq` first:
//! `{"seq":N,"time_unix_ms":...,"layer":...,...}`. They are produced once, on append, stored
//! verbatim and hashed verbatim, so verification never depends on re-serialising anything.

use blastdoor_core::{
    Actor, HoldId, Layer, Operation, Reason, SnapshotId, Target, Verdict, redact_known_secrets,
};
use serde::{Deserialize, Serialize};

use crate::AuditError;

/// One ledger entry as the caller describes it. The time is passed in (no clock is read here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub time_unix_ms: i64,
    pub layer: Layer,
    pub actor: Actor,
    /// The already-redacted description of the operation, with its risk and targets.
    pub operation: Operation,
    pub verdict: Verdict,
    pub hold_id: Option<HoldId>,
    pub approvers: Vec<String>,
    pub snapshot_id: Option<SnapshotId>,
    pub upstream_response: Option<UpstreamResponse>,
}

/// What the upstream answered to a forwarded operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamResponse {
    /// The HTTP status (or a protocol-specific code) of the answer.
    pub status: u16,
    /// A short, redacted summary of the answer.
    pub summary: String,
}

/// A stored entry: its sequence number (1-based, contiguous) and its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub record: Record,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryOwned {
    seq: u64,
    time_unix_ms: i64,
    layer: Layer,
    actor: Actor,
    operation: Operation,
    verdict: Verdict,
    hold_id: Option<HoldId>,
    approvers: Vec<String>,
    snapshot_id: Option<SnapshotId>,
    upstream_response: Option<UpstreamResponse>,
}

impl Record {
    /// The same record with [`redact_known_secrets`] applied again to every free-text field:
    /// defence in depth for a caller that built a description from a string holding a secret.
    pub fn redacted(&self) -> Record {
        let operation = Operation::new(
            self.operation.kind(),
            self.operation.description(),
            self.operation.risk(),
            self.operation.targets().iter().map(redact_target).collect(),
        );
        let verdict = Verdict {
            decision: self.verdict.decision,
            reasons: self.verdict.reasons.iter().map(redact_reason).collect(),
        };
        Record {
            time_unix_ms: self.time_unix_ms,
            layer: self.layer,
            actor: self.actor.clone(),
            operation,
            verdict,
            hold_id: self.hold_id.clone(),
            approvers: self
                .approvers
                .iter()
                .map(|name| redact_known_secrets(name))
                .collect(),
            snapshot_id: self.snapshot_id.clone(),
            upstream_response: self
                .upstream_response
                .as_ref()
                .map(|response| UpstreamResponse {
                    status: response.status,
                    summary: redact_known_secrets(&response.summary),
                }),
        }
    }
}

fn redact_target(target: &Target) -> Target {
    Target {
        kind: redact_known_secrets(&target.kind),
        id: redact_known_secrets(&target.id),
        upstream: target.upstream.as_deref().map(redact_known_secrets),
        environments: target.environments.clone(),
    }
}

fn redact_reason(reason: &Reason) -> Reason {
    Reason {
        rule_id: reason.rule_id.clone(),
        explanation: redact_known_secrets(&reason.explanation),
        alternative: reason.alternative.as_deref().map(redact_known_secrets),
        agent_message: redact_known_secrets(&reason.agent_message),
    }
}

/// The canonical bytes of entry `seq` holding `record` (which the caller has already redacted).
pub fn encode_entry(seq: u64, record: &Record) -> Result<Vec<u8>, AuditError> {
    entry_bytes(seq, &encode_record(record)?)
}

/// A record already redacted and serialised for the ledger, so that a caller with many
/// threads can do that work before handing the record to the one thread that commits (see
/// [`crate::Ledger::append_encoded_batch`]). Only [`EncodedRecord::new`] makes one, so its bytes
/// are always a redacted record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedRecord(Vec<u8>);

impl EncodedRecord {
    /// Redacts `record` once more and serialises it.
    pub fn new(record: &Record) -> Result<EncodedRecord, AuditError> {
        encode_record(&record.redacted()).map(EncodedRecord)
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// `record` as JSON, fields in declaration order. Done on the appending thread, before the
/// sequence number is known, so that the committer only splices the number in.
pub(crate) fn encode_record(record: &Record) -> Result<Vec<u8>, AuditError> {
    serde_json::to_vec(record).map_err(|error| AuditError::Encode(error.to_string()))
}

/// Splices `"seq":N,` in front of the fields of `record_json` (the output of `encode_record`),
/// giving exactly the bytes `serde_json` would produce for the entry with `seq` first.
pub(crate) fn entry_bytes(seq: u64, record_json: &[u8]) -> Result<Vec<u8>, AuditError> {
    let fields = record_json
        .strip_prefix(b"{")
        .filter(|fields| fields.starts_with(b"\"") && fields.ends_with(b"}"))
        .ok_or_else(|| {
            AuditError::Encode("a record did not serialise to a JSON object".to_owned())
        })?;
    let prefix = format!("{{\"seq\":{seq},");
    let mut bytes = Vec::with_capacity(prefix.len() + fields.len());
    bytes.extend_from_slice(prefix.as_bytes());
    bytes.extend_from_slice(fields);
    Ok(bytes)
}

/// Parses stored entry bytes. Fails (naming `expected_seq`) when they are not a valid entry.
pub fn decode_entry(expected_seq: u64, bytes: &[u8]) -> Result<Entry, AuditError> {
    let owned: EntryOwned =
        serde_json::from_slice(bytes).map_err(|error| AuditError::BadEntry {
            seq: expected_seq,
            problem: format!("entry bytes do not parse: {error}"),
        })?;
    Ok(Entry {
        seq: owned.seq,
        record: Record {
            time_unix_ms: owned.time_unix_ms,
            layer: owned.layer,
            actor: owned.actor,
            operation: owned.operation,
            verdict: owned.verdict,
            hold_id: owned.hold_id,
            approvers: owned.approvers,
            snapshot_id: owned.snapshot_id,
            upstream_response: owned.upstream_response,
        },
    })
}

/// True when `bytes` are an entry whose canonical prefix names sequence number `seq`.
/// Canonical bytes always start with `{"seq":N,`, so this is a cheap check used by verify.
pub fn entry_names_seq(bytes: &[u8], seq: u64) -> bool {
    let prefix = format!("{{\"seq\":{seq},");
    bytes.starts_with(prefix.as_bytes())
}

#[cfg(test)]
mod tests {
    use blastdoor_core::{OperationKind, Risk, RuleId};

    use super::*;

    fn record(description: &str) -> Record {
        Record {
            time_unix_ms: 1_700_000_000_000,
            layer: Layer::Hook,
            actor: Actor::default(),
            operation: Operation::new(OperationKind::Shell, description, Risk::Destroy, vec![]),
            verdict: Verdict::deny(vec![Reason::new(
                RuleId::new("fs.recursive-delete").unwrap(),
                "deletes a tree",
                None,
                "do not",
            )]),
            hold_id: None,
            approvers: vec![],
            snapshot_id: None,
            upstream_response: None,
        }
    }

    #[test]
    fn entries_round_trip_and_start_with_their_seq() {
        let record = record("rm -rf /srv/data");
        let bytes = encode_entry(42, &record).unwrap();
        assert!(entry_names_seq(&bytes, 42));
        assert!(!entry_names_seq(&bytes, 4));
        let entry = decode_entry(42, &bytes).unwrap();
        assert_eq!(entry.seq, 42);
        assert_eq!(entry.record, record);
    }

    #[test]
    fn spliced_bytes_equal_a_plain_serialisation_with_seq_first() {
        #[derive(serde::Serialize)]
        struct WithSeq<'a> {
            seq: u64,
            #[serde(flatten)]
            record: &'a Record,
        }
        let record = record("rm -rf /srv/data");
        let plain = serde_json::to_vec(&WithSeq {
            seq: 9,
            record: &record,
        })
        .unwrap();
        let parsed: serde_json::Value = serde_json::from_slice(&plain).unwrap();
        let spliced: serde_json::Value =
            serde_json::from_slice(&encode_entry(9, &record).unwrap()).unwrap();
        assert_eq!(parsed, spliced);
    }

    #[test]
    fn redaction_reaches_reasons_and_responses() {
        let mut record = record("ok");
        record.verdict.reasons[0].explanation = "found RAILWAY_TOKEN=abc123def in .env".to_owned();
        record.upstream_response = Some(UpstreamResponse {
            status: 200,
            summary: "token ghp_0123456789abcdefghij".to_owned(),
        });
        let bytes = encode_entry(1, &record.redacted()).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(!text.contains("abc123def"));
        assert!(!text.contains("ghp_0123456789abcdefghij"));
    }

    #[test]
    fn garbage_is_an_error_naming_the_entry() {
        let error = decode_entry(7, b"{not json").unwrap_err();
        assert!(matches!(error, AuditError::BadEntry { seq: 7, .. }));
    }
}
