//! [`Scope`]: what a capability token (or one block of it) lets an agent touch — upstreams,
//! environments, risk classes — and until when; plus its one canonical Datalog form.
//!
//! A token block's Datalog is the only place a scope lives. [`Scope::to_datalog_checks`] writes
//! it exactly as biscuit prints it back, and [`BlockSource::parse`] reads it and refuses
//! anything that does not render back to the same text, so the checks a biscuit verifier would
//! run and the scope blastdoor enforces are the same thing.

use std::collections::BTreeSet;
use std::fmt;

use blastdoor_core::{Environment, EnvironmentName, Risk};
use serde::{Deserialize, Serialize};

use crate::BrokerError;

/// The name of an upstream as configured (`railway`, `github`): a lowercase slug, 1 to 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UpstreamName(String);

impl UpstreamName {
    pub fn new(name: impl Into<String>) -> Result<UpstreamName, BrokerError> {
        let name = name.into();
        let valid = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
            });
        if valid {
            Ok(UpstreamName(name))
        } else {
            Err(BrokerError::InvalidScope(format!(
                "upstream `{name}`: use 1 to 64 lowercase letters, digits, `-`, `_` or `.`"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for UpstreamName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UpstreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for UpstreamName {
    type Error = BrokerError;
    fn try_from(name: String) -> Result<UpstreamName, BrokerError> {
        UpstreamName::new(name)
    }
}

impl From<UpstreamName> for String {
    fn from(name: UpstreamName) -> String {
        name.0
    }
}

/// The risk classes a token may grant. `unknown` is not one of them: an operation nobody
/// could classify is never inside a scope.
pub const GRANTABLE_RISKS: [Risk; 5] = [
    Risk::Read,
    Risk::Write,
    Risk::Execute,
    Risk::Escalate,
    Risk::Destroy,
];

/// Upstreams, environments and risk classes, each non-empty, and an expiry (unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scope {
    upstreams: BTreeSet<UpstreamName>,
    environments: BTreeSet<EnvironmentName>,
    risks: BTreeSet<Risk>,
    expires_at: u64,
}

impl Scope {
    /// Checks that every set is non-empty and that no risk is `unknown`.
    pub fn new(
        upstreams: BTreeSet<UpstreamName>,
        environments: BTreeSet<EnvironmentName>,
        risks: BTreeSet<Risk>,
        expires_at: u64,
    ) -> Result<Scope, BrokerError> {
        if upstreams.is_empty() {
            return Err(BrokerError::InvalidScope("no upstream".to_owned()));
        }
        if environments.is_empty() {
            return Err(BrokerError::InvalidScope("no environment".to_owned()));
        }
        if risks.is_empty() {
            return Err(BrokerError::InvalidScope("no risk class".to_owned()));
        }
        if risks.contains(&Risk::Unknown) {
            return Err(BrokerError::InvalidScope(
                "risk `unknown` can never be granted".to_owned(),
            ));
        }
        if expires_at > MAX_EXPIRY {
            return Err(BrokerError::InvalidScope(
                "expiry is past the year 9999".to_owned(),
            ));
        }
        Ok(Scope {
            upstreams,
            environments,
            risks,
            expires_at,
        })
    }

    pub fn upstreams(&self) -> &BTreeSet<UpstreamName> {
        &self.upstreams
    }

    pub fn environments(&self) -> &BTreeSet<EnvironmentName> {
        &self.environments
    }

    pub fn risks(&self) -> &BTreeSet<Risk> {
        &self.risks
    }

    /// Unix seconds after which the scope grants nothing.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// `Ok` when the operation is inside this scope at `now`; otherwise what is outside it.
    /// An empty environment list and [`Environment::Unknown`] are never inside.
    pub fn check(
        &self,
        upstream: &str,
        environments: &[Environment],
        risk: Risk,
        now: u64,
    ) -> Result<(), String> {
        if now > self.expires_at {
            return Err(format!("use after its expiry ({})", self.expires_at));
        }
        if !self
            .upstreams
            .iter()
            .any(|allowed| allowed.as_str() == upstream)
        {
            return Err(format!("upstream `{upstream}`"));
        }
        if environments.is_empty() {
            return Err("an operation whose environment is unknown".to_owned());
        }
        for environment in environments {
            match environment {
                Environment::Named(name) if self.environments.contains(name) => {}
                other => return Err(format!("environment `{other}`")),
            }
        }
        if !self.risks.contains(&risk) {
            return Err(format!("risk `{risk}`"));
        }
        Ok(())
    }

    /// This scope narrowed by `narrowing`: each given set intersected, the earlier expiry.
    /// Never wider than `self`; an intersection that leaves nothing is an error.
    pub fn narrow(&self, narrowing: &Narrowing) -> Result<Scope, BrokerError> {
        fn intersect<T: Ord + Clone>(
            what: &str,
            name: fn(&T) -> &str,
            current: &BTreeSet<T>,
            wanted: Option<&BTreeSet<T>>,
        ) -> Result<BTreeSet<T>, BrokerError> {
            let Some(wanted) = wanted else {
                return Ok(current.clone());
            };
            if let Some(outside) = wanted.iter().find(|item| !current.contains(item)) {
                return Err(BrokerError::Attenuate(format!(
                    "{what} `{}` is not in the token's scope (an attenuated token can only be narrower)",
                    name(outside)
                )));
            }
            Ok(wanted.clone())
        }
        let upstreams = intersect(
            "upstream",
            UpstreamName::as_str,
            &self.upstreams,
            narrowing.upstreams.as_ref(),
        )?;
        let environments = intersect(
            "environment",
            EnvironmentName::as_str,
            &self.environments,
            narrowing.environments.as_ref(),
        )?;
        let risks = match narrowing.risks.as_ref() {
            Some(wanted) => {
                if let Some(outside) = wanted.iter().find(|risk| !self.risks.contains(risk)) {
                    return Err(BrokerError::Attenuate(format!(
                        "risk `{outside}` is not in the token's scope (an attenuated token can only be narrower)"
                    )));
                }
                wanted.clone()
            }
            None => self.risks.clone(),
        };
        let expires_at = narrowing
            .expires_at
            .map_or(self.expires_at, |wanted| wanted.min(self.expires_at));
        Scope::new(upstreams, environments, risks, expires_at)
    }

    /// What both scopes allow: for reading a token's effective scope from all its blocks.
    pub fn intersect(&self, other: &Scope) -> Result<Scope, BrokerError> {
        Scope::new(
            self.upstreams
                .intersection(&other.upstreams)
                .cloned()
                .collect(),
            self.environments
                .intersection(&other.environments)
                .cloned()
                .collect(),
            self.risks.intersection(&other.risks).copied().collect(),
            self.expires_at.min(other.expires_at),
        )
        .map_err(|error| {
            BrokerError::Attenuate(format!("the token already grants nothing ({error})"))
        })
    }

    /// The checks of a block that carries this scope, exactly as biscuit prints them.
    pub(crate) fn to_datalog_checks(&self) -> String {
        let upstreams = datalog_set(self.upstreams.iter().map(UpstreamName::as_str));
        let environments = datalog_set(self.environments.iter().map(EnvironmentName::as_str));
        let risks = datalog_set(self.risks.iter().map(|risk| risk.as_str()));
        format!(
            "check if time($t), $t <= {expiry};\n\
             check if operation_upstream($u), {upstreams}.contains($u);\n\
             check if operation_environment($e);\n\
             check all operation_environment($e), {environments}.contains($e);\n\
             check if operation_risk($r), {risks}.contains($r);\n",
            expiry = format_rfc3339(self.expires_at),
        )
    }
}

/// What `token attenuate` asks for: each `Some` replaces that dimension (it must be a subset).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Narrowing {
    pub upstreams: Option<BTreeSet<UpstreamName>>,
    pub environments: Option<BTreeSet<EnvironmentName>>,
    pub risks: Option<BTreeSet<Risk>>,
    pub expires_at: Option<u64>,
}

/// One token block read back from its Datalog source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlockSource {
    /// `agent` and `token_id` facts: present in the authority block only.
    pub identity: Option<(String, String)>,
    pub scope: Scope,
}

impl BlockSource {
    /// Renders a block: the identity facts (authority block only), then the scope's checks.
    pub(crate) fn render(identity: Option<(&str, &str)>, scope: &Scope) -> String {
        let mut source = String::new();
        if let Some((agent, token_id)) = identity {
            source.push_str(&format!("agent(\"{agent}\");\ntoken_id(\"{token_id}\");\n"));
        }
        source.push_str(&scope.to_datalog_checks());
        source
    }

    /// Reads a block printed by biscuit; anything but the exact form [`BlockSource::render`]
    /// writes is refused with what was wrong.
    pub(crate) fn parse(source: &str, authority: bool) -> Result<BlockSource, String> {
        let mut statements = source
            .split(";\n")
            .filter(|statement| !statement.is_empty());
        let mut next = |what: &str| statements.next().ok_or_else(|| format!("missing {what}"));
        let identity = if authority {
            let agent = quoted_argument(next("agent fact")?, "agent(")?;
            let token_id = quoted_argument(next("token_id fact")?, "token_id(")?;
            Some((agent.to_owned(), token_id.to_owned()))
        } else {
            None
        };
        let expiry = next("expiry check")?
            .strip_prefix("check if time($t), $t <= ")
            .ok_or("expiry check is not in blastdoor's form")?;
        let expires_at = parse_rfc3339(expiry).ok_or("expiry is not a date")?;
        let upstreams = set_argument(
            next("upstream check")?,
            "check if operation_upstream($u), ",
            ".contains($u)",
        )?;
        if next("environment presence check")? != "check if operation_environment($e)" {
            return Err("environment presence check is not in blastdoor's form".to_owned());
        }
        let environments = set_argument(
            next("environment check")?,
            "check all operation_environment($e), ",
            ".contains($e)",
        )?;
        let risks = set_argument(
            next("risk check")?,
            "check if operation_risk($r), ",
            ".contains($r)",
        )?;
        let scope = Scope::new(
            upstreams
                .into_iter()
                .map(UpstreamName::new)
                .collect::<Result<_, _>>()
                .map_err(|error| error.to_string())?,
            environments
                .into_iter()
                .map(EnvironmentName::new)
                .collect::<Result<_, _>>()
                .map_err(|error| error.to_string())?,
            risks
                .into_iter()
                .map(|risk| risk.parse::<Risk>())
                .collect::<Result<_, _>>()
                .map_err(|error| error.to_string())?,
            expires_at,
        )
        .map_err(|error| error.to_string())?;
        let block = BlockSource { identity, scope };
        let rendered = BlockSource::render(
            block
                .identity
                .as_ref()
                .map(|(agent, token_id)| (agent.as_str(), token_id.as_str())),
            &block.scope,
        );
        // Biscuit prints set members in symbol-table order, not sorted: compare modulo that.
        if rendered != sort_set_members(source) {
            return Err("block holds statements blastdoor did not write".to_owned());
        }
        Ok(block)
    }
}

/// 9999-12-31T23:59:59Z: past it, RFC 3339 needs more than four year digits.
const MAX_EXPIRY: u64 = 253_402_300_799;

fn datalog_set<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut quoted: Vec<String> = items.map(|item| format!("\"{item}\"")).collect();
    quoted.sort_unstable();
    format!("{{{}}}", quoted.join(", "))
}

/// `source` with the members of every `{...}` set sorted, the order [`datalog_set`] writes.
fn sort_set_members(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(open) = rest.find('{') {
        let (before, from_open) = rest.split_at(open);
        out.push_str(before);
        let Some(close) = from_open.find('}') else {
            out.push_str(from_open);
            return out;
        };
        let inner = from_open.get(1..close).unwrap_or_default();
        let mut members: Vec<&str> = inner.split(", ").collect();
        members.sort_unstable();
        out.push('{');
        out.push_str(&members.join(", "));
        out.push('}');
        rest = from_open.get(close + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

fn quoted_argument<'a>(statement: &'a str, prefix: &str) -> Result<&'a str, String> {
    statement
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('"'))
        .and_then(|rest| rest.strip_suffix("\")"))
        .filter(|value| !value.contains('"') && !value.contains('\\'))
        .ok_or_else(|| format!("expected `{prefix}\"...\")`"))
}

fn set_argument<'a>(
    statement: &'a str,
    prefix: &str,
    suffix: &str,
) -> Result<Vec<&'a str>, String> {
    let inner = statement
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
        .and_then(|rest| rest.strip_prefix('{'))
        .and_then(|rest| rest.strip_suffix('}'))
        .ok_or_else(|| format!("expected `{prefix}{{...}}{suffix}`"))?;
    inner
        .split(", ")
        .map(|item| {
            item.strip_prefix('"')
                .and_then(|item| item.strip_suffix('"'))
                .ok_or_else(|| format!("set member {item} is not a string"))
        })
        .collect()
}

/// Unix seconds → `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC), as tokens write dates.
pub fn format_rfc3339(unix: u64) -> String {
    let days = unix / 86_400;
    let seconds_of_day = unix % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds_of_day / 3600,
        seconds_of_day / 60 % 60,
        seconds_of_day % 60
    )
}

/// The inverse of [`format_rfc3339`]; `None` for anything else.
pub(crate) fn parse_rfc3339(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.len() != 20 {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u64> {
        let part = text.get(range)?;
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let separators = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'Z'),
    ];
    if separators
        .iter()
        .any(|(index, byte)| bytes.get(*index) != Some(byte))
    {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if year < 1970
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let unix = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    // Refuse dates such as February 31st, which would not print back the same.
    (format_rfc3339(unix) == text).then_some(unix)
}

/// Howard Hinnant's `civil_from_days`, for days since 1970-01-01 (never negative here).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Howard Hinnant's `days_from_civil`, for years from 1970.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_index = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn scope(
        upstreams: &[&str],
        environments: &[&str],
        risks: &[&str],
        expires_at: u64,
    ) -> Scope {
        Scope::new(
            upstreams
                .iter()
                .map(|u| UpstreamName::new(*u).unwrap())
                .collect(),
            environments
                .iter()
                .map(|e| EnvironmentName::new(*e).unwrap())
                .collect(),
            risks.iter().map(|r| r.parse().unwrap()).collect(),
            expires_at,
        )
        .unwrap()
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(1_800_000_000), "2027-01-15T08:00:00Z");
        assert_eq!(parse_rfc3339("2027-01-15T08:00:00Z"), Some(1_800_000_000));
        assert_eq!(parse_rfc3339("2027-02-31T08:00:00Z"), None);
        assert_eq!(parse_rfc3339("2027-01-15 08:00:00Z"), None);
        assert_eq!(parse_rfc3339("9999-12-31T23:59:59Z"), Some(MAX_EXPIRY));
    }

    proptest! {
        #[test]
        fn any_date_round_trips(unix in 0..=MAX_EXPIRY) {
            prop_assert_eq!(parse_rfc3339(&format_rfc3339(unix)), Some(unix));
        }
    }

    #[test]
    fn unknown_is_never_grantable_and_empty_sets_are_refused() {
        let unknown = Scope::new(
            [UpstreamName::new("railway").unwrap()].into(),
            [EnvironmentName::new("staging").unwrap()].into(),
            [Risk::Unknown].into(),
            10,
        );
        assert!(
            unknown
                .unwrap_err()
                .to_string()
                .contains("`unknown` can never be granted")
        );
        assert!(Scope::new(BTreeSet::new(), BTreeSet::new(), BTreeSet::new(), 1).is_err());
    }

    #[test]
    fn check_refuses_unknown_and_missing_environments() {
        let staging = scope(&["railway"], &["staging"], &["read", "write"], 100);
        let env = |name: &str| Environment::parse(name).unwrap();
        assert!(
            staging
                .check("railway", &[env("staging")], Risk::Write, 50)
                .is_ok()
        );
        assert!(
            staging
                .check(
                    "railway",
                    &[env("staging"), env("production")],
                    Risk::Read,
                    50
                )
                .is_err()
        );
        assert!(
            staging
                .check("railway", &[Environment::Unknown], Risk::Read, 50)
                .is_err()
        );
        assert!(staging.check("railway", &[], Risk::Read, 50).is_err());
        assert!(
            staging
                .check("railway", &[env("staging")], Risk::Destroy, 50)
                .is_err()
        );
        assert!(
            staging
                .check("railway", &[env("staging")], Risk::Unknown, 50)
                .is_err()
        );
        assert!(
            staging
                .check("github", &[env("staging")], Risk::Read, 50)
                .is_err()
        );
        assert!(
            staging
                .check("railway", &[env("staging")], Risk::Read, 101)
                .is_err()
        );
    }

    #[test]
    fn narrowing_cannot_widen() {
        let parent = scope(&["railway"], &["staging", "dev"], &["read", "write"], 100);
        let wider = Narrowing {
            environments: Some([EnvironmentName::new("production").unwrap()].into()),
            ..Narrowing::default()
        };
        let error = parent.narrow(&wider).unwrap_err().to_string();
        assert!(
            error.contains("`production` is not in the token's scope"),
            "{error}"
        );
        let later = Narrowing {
            expires_at: Some(1000),
            ..Narrowing::default()
        };
        assert_eq!(parent.narrow(&later).unwrap().expires_at(), 100);
    }

    #[test]
    fn block_source_round_trips_and_refuses_additions() {
        let scope = scope(
            &["railway", "github"],
            &["staging"],
            &["read"],
            1_800_000_000,
        );
        let source = BlockSource::render(Some(("claude", "tok_1")), &scope);
        let parsed = BlockSource::parse(&source, true).unwrap();
        assert_eq!(parsed.scope, scope);
        assert_eq!(
            parsed.identity,
            Some(("claude".to_owned(), "tok_1".to_owned()))
        );
        // Biscuit prints set members in symbol order; that is the same block.
        let reordered = source.replace("{\"github\", \"railway\"}", "{\"railway\", \"github\"}");
        assert_ne!(reordered, source);
        assert_eq!(BlockSource::parse(&reordered, true).unwrap().scope, scope);
        let extra = format!("{source}check if true;\n");
        assert!(BlockSource::parse(&extra, true).is_err());
        assert!(BlockSource::parse(&source, false).is_err());
    }
}
