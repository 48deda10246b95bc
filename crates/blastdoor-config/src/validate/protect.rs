//! Validation of `[[protect]]`: which resources are snapshotted before a destroy, and how.

use super::Context;
use crate::ConfigError;
use crate::raw::RawProtect;
use crate::types::{ProtectConfig, ProtectMethod, UpstreamConfig, UpstreamKind};

pub(super) fn protect(
    context: &Context<'_>,
    raw: Vec<RawProtect>,
    upstreams: &[UpstreamConfig],
) -> Result<Vec<ProtectConfig>, ConfigError> {
    let mut protect: Vec<ProtectConfig> = Vec::with_capacity(raw.len());
    for (index, entry) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("protect[{}].{field}", index + 1);
        let Some(upstream) = upstreams
            .iter()
            .find(|upstream| upstream.name.as_str() == entry.upstream.get_ref())
        else {
            return Err(context.error(
                entry.upstream.span(),
                key("upstream"),
                format!("no `[[upstream]]` is named `{}`", entry.upstream.get_ref()),
            ));
        };
        if entry.resource.get_ref().trim().is_empty() {
            return Err(context.error(
                entry.resource.span(),
                key("resource"),
                "expected the id of the resource to protect",
            ));
        }
        let method_name = entry.method.get_ref().as_str();
        let known = ["pg_dump", "command", "railway_backup"];
        if !known.contains(&method_name) {
            return Err(context.error(
                entry.method.span(),
                key("method"),
                format!("unknown snapshot method `{method_name}` (expected pg_dump, command or railway_backup)"),
            ));
        }
        if let Some(dsn) = &entry.dsn
            && method_name != "pg_dump"
        {
            return Err(context.error(
                dsn.span(),
                key("dsn"),
                format!("`dsn` only applies to `pg_dump`, not `{method_name}`"),
            ));
        }
        if let Some(argv) = &entry.argv
            && method_name != "command"
        {
            return Err(context.error(
                argv.span(),
                key("argv"),
                format!("`argv` only applies to `command`, not `{method_name}`"),
            ));
        }
        let method = match (method_name, &entry.dsn, &entry.argv) {
            ("pg_dump", Some(dsn), _) => ProtectMethod::PgDump {
                dsn: context.secret_name(dsn, &key("dsn"))?,
            },
            ("pg_dump", None, _) => {
                return Err(context.error(
                    entry.method.span(),
                    key("dsn"),
                    "`pg_dump` needs `dsn`, the name of the secret holding the database URL",
                ));
            }
            ("command", _, Some(argv)) => {
                if argv
                    .get_ref()
                    .first()
                    .is_none_or(|program| program.trim().is_empty())
                {
                    return Err(context.error(
                        argv.span(),
                        key("argv"),
                        "expected the program and its arguments, such as [\"mysqldump\", \"app\"]",
                    ));
                }
                ProtectMethod::Command {
                    argv: argv.get_ref().clone(),
                }
            }
            ("command", _, None) => {
                return Err(context.error(
                    entry.method.span(),
                    key("argv"),
                    "`command` needs `argv`",
                ));
            }
            _ if upstream.kind == UpstreamKind::Railway => ProtectMethod::RailwayBackup,
            _ => {
                return Err(context.error(
                    entry.method.span(),
                    key("method"),
                    format!(
                        "`railway_backup` needs a railway upstream; `{}` is {}",
                        upstream.name,
                        upstream.kind.as_str()
                    ),
                ));
            }
        };
        if protect.iter().any(|existing| {
            existing.upstream == upstream.name && existing.resource == *entry.resource.get_ref()
        }) {
            return Err(context.error(
                entry.resource.span(),
                key("resource"),
                format!(
                    "`{}` on `{}` is already protected above",
                    entry.resource.get_ref(),
                    upstream.name
                ),
            ));
        }
        protect.push(ProtectConfig {
            upstream: upstream.name.clone(),
            resource: entry.resource.into_inner(),
            method,
        });
    }
    Ok(protect)
}
