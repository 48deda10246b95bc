//! The root fields of Railway's published schema (Query, Mutation, Subscription) with their
//! argument names and return types, from `data/railway-root-fields.tsv` (generated from
//! `test_data/railway-cli/schema.json` by `scripts/root-fields.py`; a test checks that it
//! still matches). The simulator validates every request against it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

const ROOT_FIELDS: &str = include_str!("../data/railway-root-fields.tsv");

/// One root field of the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootField {
    /// `Query`, `Mutation` or `Subscription`.
    pub root_type: &'static str,
    pub name: &'static str,
    /// Argument names with whether each is required.
    pub arguments: Vec<(&'static str, bool)>,
    /// The return type as written in SDL (`Boolean!`, `[VolumeInstanceBackup!]!`).
    pub returns: &'static str,
}

type Table = BTreeMap<&'static str, BTreeMap<&'static str, RootField>>;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = Table::new();
        let rows = ROOT_FIELDS
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .filter_map(|line| {
                let mut columns = line.split('\t');
                let root_type = columns.next()?;
                let name = columns.next()?;
                let arguments = columns
                    .next()?
                    .split(',')
                    .filter(|argument| !argument.is_empty())
                    .map(|argument| match argument.strip_suffix('!') {
                        Some(required) => (required, true),
                        None => (argument, false),
                    })
                    .collect();
                let returns = columns.next()?;
                Some(RootField {
                    root_type,
                    name,
                    arguments,
                    returns,
                })
            });
        for row in rows {
            table
                .entry(row.root_type)
                .or_default()
                .insert(row.name, row);
        }
        table
    })
}

/// The root field `name` of `root_type`, if the schema has it.
pub fn root_field(root_type: &str, name: &str) -> Option<&'static RootField> {
    table().get(root_type)?.get(name)
}

/// Every root field of `root_type`, sorted by name.
pub fn root_fields(root_type: &str) -> Vec<&'static RootField> {
    table()
        .get(root_type)
        .map(|fields| fields.values().collect())
        .unwrap_or_default()
}
