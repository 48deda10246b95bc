//! Validation of `[[upstream]]`: names, kinds, URLs, environment mappings and rest rules.

use std::collections::BTreeSet;

use blastdoor_core::{EnvironmentName, Risk};
use toml::Spanned;

use super::Context;
use crate::ConfigError;
use crate::raw::RawUpstream;
use crate::types::{PathPattern, RestRule, RuleMethod, UpstreamConfig, UpstreamKind, UpstreamName};

pub(super) fn upstream(
    context: &Context<'_>,
    index: usize,
    raw: RawUpstream,
) -> Result<UpstreamConfig, ConfigError> {
    let key = |field: &str| format!("upstream[{}].{field}", index + 1);
    let name = raw.name.get_ref();
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if !name_ok {
        return Err(context.error(
            raw.name.span(),
            key("name"),
            format!("`{name}` is not a valid upstream name: use lowercase letters, digits, `-` and `_` (it becomes the URL path `/{name}/...`)"),
        ));
    }
    if UpstreamName::RESERVED.contains(&name.as_str()) {
        return Err(context.error(
            raw.name.span(),
            key("name"),
            format!(
                "`{name}` is reserved for the gateway's own pages ({})",
                UpstreamName::RESERVED.join(", ")
            ),
        ));
    }
    let kind = match raw.kind.get_ref().as_str() {
        "railway" => UpstreamKind::Railway,
        "rest" => UpstreamKind::Rest,
        "kubernetes" => UpstreamKind::Kubernetes,
        other => {
            return Err(context.error(
                raw.kind.span(),
                key("kind"),
                format!("unknown upstream kind `{other}` (expected railway, rest or kubernetes)"),
            ));
        }
    };
    let url = context.url(&raw.url, &key("url"))?;
    let credential = raw
        .credential
        .as_ref()
        .map(|credential| context.secret_name(credential, &key("credential")))
        .transpose()?;
    let ca_file = match &raw.ca_file {
        Some(path) => Some(context.path(Some(path), &key("ca_file"), "")?),
        None => None,
    };
    let environment = raw
        .environment
        .as_ref()
        .map(|environment| {
            EnvironmentName::new(environment.get_ref().as_str()).map_err(|error| {
                context.error(environment.span(), key("environment"), error.to_string())
            })
        })
        .transpose()?;
    let mut environments = Vec::with_capacity(raw.environments.len());
    let mut seen_ids = BTreeSet::new();
    for (environment_name, ids) in raw.environments {
        let environment_key = key(&format!("environments.{environment_name}"));
        let name = EnvironmentName::new(environment_name.as_str()).map_err(|error| {
            context.error(ids.span(), environment_key.clone(), error.to_string())
        })?;
        let mut validated_ids = Vec::with_capacity(ids.get_ref().len());
        for id in ids.into_inner() {
            check_environment_id(context, kind, &id, &environment_key)?;
            if !seen_ids.insert(id.get_ref().clone()) {
                return Err(context.error(
                    id.span(),
                    environment_key,
                    format!(
                        "`{}` is listed under more than one environment",
                        id.get_ref()
                    ),
                ));
            }
            validated_ids.push(id.into_inner());
        }
        environments.push((name, validated_ids));
    }
    let mut rules = Vec::with_capacity(raw.rule.len());
    for (rule_index, rule) in raw.rule.into_iter().enumerate() {
        let rule_key = |field: &str| key(&format!("rule[{}].{field}", rule_index + 1));
        if kind != UpstreamKind::Rest {
            return Err(context.error(
                rule.method.span(),
                rule_key("method"),
                format!("`[[upstream.rule]]` only applies to `rest` upstreams; `{}` upstreams are classified by blastdoor itself", kind.as_str()),
            ));
        }
        let method = match rule.method.get_ref().as_str() {
            "*" => RuleMethod::Any,
            method
                if !method.is_empty()
                    && method.len() <= 16
                    && method.chars().all(|c| c.is_ascii_alphabetic()) =>
            {
                RuleMethod::Exactly(method.to_ascii_uppercase())
            }
            method => {
                return Err(context.error(
                    rule.method.span(),
                    rule_key("method"),
                    format!("`{method}` is not an HTTP method; expected GET, POST, PUT, PATCH, DELETE, ... or \"*\""),
                ));
            }
        };
        let path = path_pattern(rule.path.get_ref())
            .map_err(|message| context.error(rule.path.span(), rule_key("path"), message))?;
        let risk: Risk =
            rule.risk
                .get_ref()
                .parse()
                .map_err(|error: blastdoor_core::CoreError| {
                    context.error(rule.risk.span(), rule_key("risk"), error.to_string())
                })?;
        rules.push(RestRule { method, path, risk });
    }
    Ok(UpstreamConfig {
        name: UpstreamName(name.clone()),
        kind,
        url,
        credential,
        ca_file,
        environment,
        environments,
        rules,
    })
}

fn check_environment_id(
    context: &Context<'_>,
    kind: UpstreamKind,
    id: &Spanned<String>,
    key: &str,
) -> Result<(), ConfigError> {
    let value = id.get_ref();
    let problem = match kind {
        UpstreamKind::Railway
            if value.trim().is_empty() || value.chars().any(char::is_whitespace) =>
        {
            Some("expected a Railway environment id".to_owned())
        }
        UpstreamKind::Kubernetes
            if value.is_empty()
                || value.len() > 63
                || !value
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') =>
        {
            Some(format!("`{value}` is not a Kubernetes namespace name"))
        }
        UpstreamKind::Rest if !value.starts_with('/') || value.chars().any(char::is_whitespace) => {
            Some(format!(
                "`{value}` is not a path prefix; for rest upstreams environments map to path prefixes such as \"/v1/projects/prod/\""
            ))
        }
        _ => None,
    };
    match problem {
        Some(message) => Err(context.error(id.span(), key, message)),
        None => Ok(()),
    }
}

fn path_pattern(text: &str) -> Result<PathPattern, String> {
    if !text.starts_with('/') {
        return Err(format!("`{text}` must start with `/`"));
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a path pattern must not contain spaces".to_owned());
    }
    let segments: Vec<&str> = text.split('/').collect();
    let last = segments.len().saturating_sub(1);
    for (index, segment) in segments.iter().enumerate() {
        if segment.contains('*') && *segment != "*" && *segment != "**" {
            return Err(format!(
                "in `{text}`, `*` must be a whole path segment (`/a/*/b`, or `/**` at the end)"
            ));
        }
        if *segment == "**" && index != last {
            return Err(format!("in `{text}`, `**` may only be the last segment"));
        }
    }
    Ok(PathPattern(text.to_owned()))
}
