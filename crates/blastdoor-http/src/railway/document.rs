//! Walks a GraphQL document (parsed with `apollo-parser`) down to the root fields of the
//! operation a request executes, with their arguments as JSON after substituting variables.
//!
//! Conservative by construction: type conditions and `@skip`/`@include` directives on root
//! selections are ignored, so a field that might run is always listed.

use std::collections::BTreeMap;

use apollo_parser::cst::{self, CstNode};
use serde_json::{Map, Value};

use crate::HttpError;

/// The most tokens a document may have before parsing stops with an error.
pub const MAX_TOKENS: usize = 50_000;
/// The deepest nesting of selections and values the parser accepts.
pub const MAX_RECURSION: usize = 64;
/// The most root selections a document may expand to once fragments are resolved (bounds the
/// work of documents that spread the same fragment many times).
pub const MAX_ROOT_SELECTIONS: usize = 1_000;
/// The deepest nesting of an argument value converted to JSON.
pub const MAX_VALUE_DEPTH: usize = 64;

/// `query`, `mutation` or `subscription`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperationType {
    Query,
    Mutation,
    Subscription,
}

impl OperationType {
    /// The keyword as written in GraphQL.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationType::Query => "query",
            OperationType::Mutation => "mutation",
            OperationType::Subscription => "subscription",
        }
    }
}

/// One root field of the executed operation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RootField {
    pub(crate) operation_type: OperationType,
    pub(crate) name: String,
    pub(crate) alias: Option<String>,
    /// The field's arguments with variables substituted. May hold secrets (variable values):
    /// never log it.
    pub(crate) arguments: Map<String, Value>,
}

/// Parses `query`, picks the operation named `operation_name` (or the only one), and lists its
/// root fields, resolving fragment spreads and inline fragments.
pub(crate) fn root_fields(
    query: &str,
    operation_name: Option<&str>,
    variables: &Map<String, Value>,
) -> Result<Vec<RootField>, HttpError> {
    let tree = apollo_parser::Parser::new(query)
        .recursion_limit(MAX_RECURSION)
        .token_limit(MAX_TOKENS)
        .parse();
    if let Some(error) = tree.errors().next() {
        return Err(HttpError::InvalidDocument(shorten(error.message())));
    }
    let document = tree.document();

    let mut operations = Vec::new();
    let mut fragments: BTreeMap<String, cst::FragmentDefinition> = BTreeMap::new();
    for definition in document.definitions() {
        match definition {
            cst::Definition::OperationDefinition(operation) => operations.push(operation),
            cst::Definition::FragmentDefinition(fragment) => {
                let name = fragment
                    .fragment_name()
                    .and_then(|name| name.name())
                    .map(|name| name.text().to_string())
                    .ok_or_else(|| HttpError::InvalidDocument("fragment without a name".into()))?;
                if fragments.insert(name.clone(), fragment).is_some() {
                    return Err(HttpError::InvalidDocument(format!(
                        "fragment `{}` is defined twice",
                        shorten(&name)
                    )));
                }
            }
            other => {
                return Err(HttpError::InvalidDocument(format!(
                    "`{}` is not allowed in a request",
                    other.kind()
                )));
            }
        }
    }

    let operation = select_operation(&operations, operation_name)?;
    let operation_type = match operation.operation_type() {
        None => OperationType::Query,
        Some(kind) if kind.mutation_token().is_some() => OperationType::Mutation,
        Some(kind) if kind.subscription_token().is_some() => OperationType::Subscription,
        Some(_) => OperationType::Query,
    };
    let variables = effective_variables(operation, variables)?;
    let selection_set = operation
        .selection_set()
        .ok_or_else(|| HttpError::InvalidDocument("operation has no selection set".into()))?;

    let mut walker = Walker {
        operation_type,
        fragments: &fragments,
        variables: &variables,
        stack: Vec::new(),
        visited: 0,
        fields: Vec::new(),
    };
    walker.selection_set(&selection_set)?;
    Ok(walker.fields)
}

fn select_operation<'a>(
    operations: &'a [cst::OperationDefinition],
    operation_name: Option<&str>,
) -> Result<&'a cst::OperationDefinition, HttpError> {
    match operation_name {
        Some(wanted) => operations
            .iter()
            .find(|operation| {
                operation
                    .name()
                    .is_some_and(|name| name.text().as_str() == wanted)
            })
            .ok_or_else(|| HttpError::OperationNotFound(shorten(wanted))),
        None => match operations {
            [] => Err(HttpError::NoOperation),
            [only] => Ok(only),
            _ => Err(HttpError::AmbiguousOperation),
        },
    }
}

/// The request's variables over the operation's declared defaults.
fn effective_variables(
    operation: &cst::OperationDefinition,
    provided: &Map<String, Value>,
) -> Result<Map<String, Value>, HttpError> {
    let mut variables = Map::new();
    if let Some(definitions) = operation.variable_definitions() {
        for definition in definitions.variable_definitions() {
            let name = definition
                .variable()
                .and_then(|variable| variable.name())
                .map(|name| name.text().to_string());
            let default = definition.default_value().and_then(|value| value.value());
            if let (Some(name), Some(default)) = (name, default)
                && let Some(value) = to_json(&default, &Map::new(), 0)?
            {
                variables.insert(name, value);
            }
        }
    }
    for (name, value) in provided {
        variables.insert(name.clone(), value.clone());
    }
    Ok(variables)
}

struct Walker<'a> {
    operation_type: OperationType,
    fragments: &'a BTreeMap<String, cst::FragmentDefinition>,
    variables: &'a Map<String, Value>,
    /// Fragments being expanded, to detect cycles.
    stack: Vec<String>,
    visited: usize,
    fields: Vec<RootField>,
}

impl Walker<'_> {
    fn selection_set(&mut self, selection_set: &cst::SelectionSet) -> Result<(), HttpError> {
        for selection in selection_set.selections() {
            self.visited += 1;
            if self.visited > MAX_ROOT_SELECTIONS {
                return Err(HttpError::TooManySelections(MAX_ROOT_SELECTIONS));
            }
            match selection {
                cst::Selection::Field(field) => self.field(&field)?,
                cst::Selection::InlineFragment(fragment) => {
                    let inner = fragment.selection_set().ok_or_else(|| {
                        HttpError::InvalidDocument("inline fragment without selections".into())
                    })?;
                    self.selection_set(&inner)?;
                }
                cst::Selection::FragmentSpread(spread) => {
                    let name = spread
                        .fragment_name()
                        .and_then(|name| name.name())
                        .map(|name| name.text().to_string())
                        .ok_or_else(|| {
                            HttpError::InvalidDocument("fragment spread without a name".into())
                        })?;
                    if self.stack.contains(&name) {
                        return Err(HttpError::FragmentCycle(shorten(&name)));
                    }
                    let fragments = self.fragments;
                    let fragment = fragments
                        .get(&name)
                        .ok_or_else(|| HttpError::UnknownFragment(shorten(&name)))?;
                    let inner = fragment.selection_set().ok_or_else(|| {
                        HttpError::InvalidDocument("fragment without selections".into())
                    })?;
                    self.stack.push(name);
                    self.selection_set(&inner)?;
                    self.stack.pop();
                }
            }
        }
        Ok(())
    }

    fn field(&mut self, field: &cst::Field) -> Result<(), HttpError> {
        let name = field
            .name()
            .map(|name| name.text().to_string())
            .ok_or_else(|| HttpError::InvalidDocument("field without a name".into()))?;
        let alias = field
            .alias()
            .and_then(|alias| alias.name())
            .map(|name| name.text().to_string());
        let mut arguments = Map::new();
        if let Some(list) = field.arguments() {
            for argument in list.arguments() {
                let argument_name = argument
                    .name()
                    .map(|name| name.text().to_string())
                    .ok_or_else(|| HttpError::InvalidDocument("argument without a name".into()))?;
                let value = argument
                    .value()
                    .ok_or_else(|| HttpError::InvalidDocument("argument without a value".into()))?;
                // An argument given an unset variable is absent, as the GraphQL spec says.
                let Some(value) = to_json(&value, self.variables, 0)? else {
                    continue;
                };
                if arguments.insert(argument_name.clone(), value).is_some() {
                    return Err(HttpError::InvalidDocument(format!(
                        "argument `{}` is given twice",
                        shorten(&argument_name)
                    )));
                }
            }
        }
        self.fields.push(RootField {
            operation_type: self.operation_type,
            name,
            alias,
            arguments,
        });
        Ok(())
    }
}

/// Converts a GraphQL value to JSON, substituting variables. A variable the request does not
/// set (and that has no default) gives `None`: the spec treats the argument or input field it
/// fills as absent (and a list item as `null`).
fn to_json(
    value: &cst::Value,
    variables: &Map<String, Value>,
    depth: usize,
) -> Result<Option<Value>, HttpError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(HttpError::TooDeep(MAX_VALUE_DEPTH));
    }
    let json = match value {
        cst::Value::Variable(variable) => {
            let name = variable
                .name()
                .map(|name| name.text().to_string())
                .ok_or_else(|| HttpError::InvalidDocument("variable without a name".into()))?;
            return Ok(variables.get(&name).cloned());
        }
        cst::Value::StringValue(string) => Value::String(string_value(string)),
        cst::Value::IntValue(_) | cst::Value::FloatValue(_) => {
            let text = value.syntax().text().to_string();
            serde_json::from_str::<serde_json::Number>(&text)
                .map(Value::Number)
                .unwrap_or(Value::String(text))
        }
        cst::Value::BooleanValue(boolean) => Value::Bool(boolean.true_token().is_some()),
        cst::Value::NullValue(_) => Value::Null,
        cst::Value::EnumValue(enum_value) => Value::String(
            enum_value
                .name()
                .map(|name| name.text().to_string())
                .unwrap_or_default(),
        ),
        cst::Value::ListValue(list) => Value::Array(
            list.values()
                .map(|item| to_json(&item, variables, depth + 1).map(Option::unwrap_or_default))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        cst::Value::ObjectValue(object) => {
            let mut map = Map::new();
            for object_field in object.object_fields() {
                let name = object_field
                    .name()
                    .map(|name| name.text().to_string())
                    .ok_or_else(|| {
                        HttpError::InvalidDocument("object field without a name".into())
                    })?;
                let inner = object_field.value().ok_or_else(|| {
                    HttpError::InvalidDocument("object field without a value".into())
                })?;
                let Some(inner) = to_json(&inner, variables, depth + 1)? else {
                    continue;
                };
                if map.insert(name.clone(), inner).is_some() {
                    return Err(HttpError::InvalidDocument(format!(
                        "object field `{}` is given twice",
                        shorten(&name)
                    )));
                }
            }
            Value::Object(map)
        }
    };
    Ok(Some(json))
}

/// The value of a GraphQL string literal. GraphQL's escapes are JSON's (plus `\u{...}`, which
/// is kept as written): ids never need more. Block strings keep their raw lines.
fn string_value(string: &cst::StringValue) -> String {
    let raw = string.syntax().text().to_string();
    if let Some(block) = raw
        .strip_prefix("\"\"\"")
        .and_then(|rest| rest.strip_suffix("\"\"\""))
    {
        return block.replace("\\\"\"\"", "\"\"\"");
    }
    match serde_json::from_str::<String>(&raw) {
        Ok(text) => text,
        Err(_) => raw
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap_or(&raw)
            .to_owned(),
    }
}

/// At most 120 characters of user input, for error messages.
pub(crate) fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(120).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}
