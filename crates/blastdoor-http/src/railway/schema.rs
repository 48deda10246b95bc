//! Railway's published GraphQL schema, as the classifier walks it: every type with its fields,
//! their arguments, and what they return.
//!
//! The data is `data/railway-schema.json`, written by `scripts/railway-schema.py` from the
//! vendored introspection result (`test_data/railway-cli/schema.json`); a test rebuilds it from
//! that file and compares. It is embedded in the binary and parsed once, on first use (about a
//! millisecond). Nothing here trusts the request: the walk looks names up and treats a name the
//! schema does not know as [`blastdoor_core::Risk::Unknown`].

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use serde::Deserialize;

use crate::HttpError;

/// The embedded compact schema.
const SCHEMA_JSON: &str = include_str!("../../data/railway-schema.json");

/// What sort of type a name denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TypeKind {
    Object,
    Interface,
    Union,
    InputObject,
    Enum,
    Scalar,
}

/// One named type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeDef {
    pub kind: TypeKind,
    /// Output fields (objects and interfaces) or input fields (input objects).
    #[serde(default)]
    pub fields: HashMap<String, FieldDef>,
    /// The members of a union or the implementations of an interface.
    #[serde(default)]
    pub possible: Vec<String>,
}

/// One field: its type as written in GraphQL (`[String!]!`) and its arguments.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    #[serde(rename = "type")]
    pub type_ref: String,
    #[serde(default)]
    pub args: HashMap<String, ArgumentDef>,
    /// An input field's default value, as GraphQL text.
    #[serde(default)]
    pub default: Option<String>,
}

impl FieldDef {
    /// The named type under the list and non-null wrappers.
    pub fn named_type(&self) -> &str {
        named_type(&self.type_ref)
    }
}

/// One argument: its type and its default value as GraphQL text, if any.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgumentDef {
    #[serde(rename = "type")]
    pub type_ref: String,
    pub default: Option<String>,
}

/// The whole schema.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    pub query: String,
    pub mutation: Option<String>,
    pub subscription: Option<String>,
    pub types: HashMap<String, TypeDef>,
    /// Object types whose records live in one environment: those with an `environmentId`
    /// field (service instances, deployments, domains, volume instances ...). Computed.
    #[serde(skip)]
    environment_bound: BTreeSet<String>,
}

impl Schema {
    /// Parses a schema in the compact format.
    pub fn from_json(text: &str) -> Result<Schema, HttpError> {
        let mut schema: Schema =
            serde_json::from_str(text).map_err(|error| HttpError::Schema(error.to_string()))?;
        schema.environment_bound = schema
            .types
            .iter()
            .filter(|(_, definition)| {
                definition.kind == TypeKind::Object
                    && definition.fields.contains_key("environmentId")
            })
            .map(|(name, _)| name.clone())
            .collect();
        Ok(schema)
    }

    pub fn type_def(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name)
    }

    /// The field `field` of type `type_name`, if both exist.
    pub fn field(&self, type_name: &str, field: &str) -> Option<&FieldDef> {
        self.types.get(type_name)?.fields.get(field)
    }

    /// True when records of `type_name` live in one environment (see [`Schema`]).
    pub fn is_environment_bound(&self, type_name: &str) -> bool {
        self.environment_bound.contains(type_name)
    }

    /// The environment-bound types, sorted.
    pub fn environment_bound_types(&self) -> impl Iterator<Item = &str> {
        self.environment_bound.iter().map(String::as_str)
    }

    /// The root type of an operation type.
    pub fn root_type(&self, operation: crate::railway::document::OperationType) -> Option<&str> {
        use crate::railway::document::OperationType;
        match operation {
            OperationType::Query => Some(self.query.as_str()),
            OperationType::Mutation => self.mutation.as_deref(),
            OperationType::Subscription => self.subscription.as_deref(),
        }
    }
}

/// The named type under the list and non-null wrappers: `[Log!]!` → `Log`.
pub fn named_type(type_ref: &str) -> &str {
    type_ref.trim_matches(|character| matches!(character, '[' | ']' | '!'))
}

/// Railway's schema, parsed on first use. An embedded schema that does not parse is an error
/// on every call (the classifier then fails closed); a test makes sure it parses.
pub fn railway() -> Result<&'static Schema, HttpError> {
    static SCHEMA: OnceLock<Result<Schema, HttpError>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| Schema::from_json(SCHEMA_JSON))
        .as_ref()
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_schema_parses_and_knows_the_incident_fields() {
        let schema = railway().unwrap();
        assert_eq!(schema.query, "Query");
        assert_eq!(
            schema.field("Mutation", "volumeDelete").unwrap().type_ref,
            "Boolean!"
        );
        assert_eq!(
            schema.field("Environment", "config").unwrap().named_type(),
            "EnvironmentConfig"
        );
        assert!(schema.is_environment_bound("Deployment"));
        assert!(schema.is_environment_bound("ServiceInstance"));
        assert!(!schema.is_environment_bound("Project"));
        assert!(!schema.is_environment_bound("Environment"));
    }

    #[test]
    fn named_type_strips_wrappers() {
        assert_eq!(named_type("[Log!]!"), "Log");
        assert_eq!(named_type("String"), "String");
    }
}
