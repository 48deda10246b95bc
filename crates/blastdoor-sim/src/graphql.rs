//! Parses a GraphQL request the way a server does: the document, the operation chosen by
//! `operationName`, fragments expanded into plain selection trees, variables substituted;
//! validates root fields and their arguments against the schema; and shapes results to the
//! selection (aliases, nested fields, Relay connections).
//!
//! This is the simulator's own reading of GraphQL, independent of `blastdoor-http`'s: a test
//! peer must not share the code it tests.

use std::collections::BTreeMap;

use apollo_parser::cst::{self, CstNode};
use serde_json::{Map, Value};

use crate::SimError;
use crate::schema;

/// The most selections a document may expand to (fragments included).
const MAX_SELECTIONS: usize = 10_000;
const MAX_DEPTH: usize = 64;

/// A parsed and validated operation, ready to execute.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Operation {
    /// `Query`, `Mutation` or `Subscription`.
    pub(crate) root_type: &'static str,
    pub(crate) name: Option<String>,
    pub(crate) fields: Vec<Selection>,
}

/// One selected field with fragments expanded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Selection {
    /// The alias if any, else the field name: the key in the response.
    pub(crate) key: String,
    pub(crate) name: String,
    pub(crate) arguments: Map<String, Value>,
    pub(crate) children: Vec<Selection>,
}

/// Parses, picks the operation and validates it against the schema.
pub(crate) fn parse_operation(
    query: &str,
    operation_name: Option<&str>,
    variables: &Map<String, Value>,
) -> Result<Operation, SimError> {
    let tree = apollo_parser::Parser::new(query)
        .recursion_limit(MAX_DEPTH)
        .token_limit(100_000)
        .parse();
    if let Some(error) = tree.errors().next() {
        return Err(SimError::Syntax(format!(
            "Syntax Error: {}",
            error.message()
        )));
    }
    let document = tree.document();
    let mut operations = Vec::new();
    let mut fragments = BTreeMap::new();
    for definition in document.definitions() {
        match definition {
            cst::Definition::OperationDefinition(operation) => operations.push(operation),
            cst::Definition::FragmentDefinition(fragment) => {
                if let Some(name) = fragment.fragment_name().and_then(|name| name.name()) {
                    fragments.insert(name.text().to_string(), fragment);
                }
            }
            _ => {
                return Err(SimError::Validation(
                    "The document must contain only operations and fragments.".into(),
                ));
            }
        }
    }
    let operation = match operation_name {
        Some(wanted) => operations
            .iter()
            .find(|operation| operation.name().is_some_and(|name| name.text() == wanted))
            .ok_or_else(|| {
                SimError::BadRequest(format!("Unknown operation named \"{wanted}\"."))
            })?,
        None => match operations.as_slice() {
            [only] => only,
            [] => return Err(SimError::BadRequest("Must provide an operation.".into())),
            _ => {
                return Err(SimError::BadRequest(
                    "Must provide operation name if query contains multiple operations.".into(),
                ));
            }
        },
    };
    let root_type = match operation.operation_type() {
        Some(kind) if kind.mutation_token().is_some() => "Mutation",
        Some(kind) if kind.subscription_token().is_some() => "Subscription",
        _ => "Query",
    };
    let mut all_variables = Map::new();
    if let Some(definitions) = operation.variable_definitions() {
        for definition in definitions.variable_definitions() {
            let name = definition
                .variable()
                .and_then(|variable| variable.name())
                .map(|name| name.text().to_string());
            let default = definition.default_value().and_then(|value| value.value());
            if let (Some(name), Some(default)) = (name, default) {
                all_variables.insert(name, value_to_json(&default, &Map::new(), 0)?);
            }
        }
    }
    for (name, value) in variables {
        all_variables.insert(name.clone(), value.clone());
    }
    let mut expander = Expander {
        fragments: &fragments,
        variables: &all_variables,
        stack: Vec::new(),
        count: 0,
    };
    let selection_set = operation
        .selection_set()
        .ok_or_else(|| SimError::Syntax("Syntax Error: Expected \"{\".".into()))?;
    let fields = expander.selection_set(&selection_set, 0)?;
    validate(root_type, &fields)?;
    Ok(Operation {
        root_type,
        name: operation.name().map(|name| name.text().to_string()),
        fields,
    })
}

fn validate(root_type: &str, fields: &[Selection]) -> Result<(), SimError> {
    for field in fields {
        if field.name.starts_with("__") && root_type == "Query" || field.name == "__typename" {
            continue;
        }
        let Some(definition) = schema::root_field(root_type, &field.name) else {
            return Err(SimError::Validation(format!(
                "Cannot query field \"{}\" on type \"{root_type}\".",
                field.name
            )));
        };
        for argument in field.arguments.keys() {
            if !definition
                .arguments
                .iter()
                .any(|(name, _)| name == argument)
            {
                return Err(SimError::Validation(format!(
                    "Unknown argument \"{argument}\" on field \"{root_type}.{}\".",
                    field.name
                )));
            }
        }
        for (name, required) in &definition.arguments {
            if *required && field.arguments.get(*name).is_none_or(Value::is_null) {
                return Err(SimError::Validation(format!(
                    "Field \"{}\" argument \"{name}\" is required, but it was not provided.",
                    field.name
                )));
            }
        }
    }
    Ok(())
}

struct Expander<'a> {
    fragments: &'a BTreeMap<String, cst::FragmentDefinition>,
    variables: &'a Map<String, Value>,
    stack: Vec<String>,
    count: usize,
}

impl Expander<'_> {
    fn selection_set(
        &mut self,
        selection_set: &cst::SelectionSet,
        depth: usize,
    ) -> Result<Vec<Selection>, SimError> {
        if depth > MAX_DEPTH {
            return Err(SimError::Validation("The query is too deep.".into()));
        }
        let mut selections = Vec::new();
        for selection in selection_set.selections() {
            self.count += 1;
            if self.count > MAX_SELECTIONS {
                return Err(SimError::Validation("The query is too large.".into()));
            }
            match selection {
                cst::Selection::Field(field) => {
                    let name = field
                        .name()
                        .map(|name| name.text().to_string())
                        .unwrap_or_default();
                    let key = field
                        .alias()
                        .and_then(|alias| alias.name())
                        .map_or_else(|| name.clone(), |alias| alias.text().to_string());
                    let mut arguments = Map::new();
                    if let Some(list) = field.arguments() {
                        for argument in list.arguments() {
                            let (Some(argument_name), Some(value)) =
                                (argument.name(), argument.value())
                            else {
                                continue;
                            };
                            let value = value_to_json(&value, self.variables, 0)?;
                            arguments.insert(argument_name.text().to_string(), value);
                        }
                    }
                    let children = match field.selection_set() {
                        Some(inner) => self.selection_set(&inner, depth + 1)?,
                        None => Vec::new(),
                    };
                    selections.push(Selection {
                        key,
                        name,
                        arguments,
                        children,
                    });
                }
                cst::Selection::InlineFragment(fragment) => {
                    if let Some(inner) = fragment.selection_set() {
                        selections.extend(self.selection_set(&inner, depth + 1)?);
                    }
                }
                cst::Selection::FragmentSpread(spread) => {
                    let name = spread
                        .fragment_name()
                        .and_then(|name| name.name())
                        .map(|name| name.text().to_string())
                        .unwrap_or_default();
                    if self.stack.contains(&name) {
                        return Err(SimError::Validation(format!(
                            "Cannot spread fragment \"{name}\" within itself."
                        )));
                    }
                    let fragments = self.fragments;
                    let fragment = fragments.get(&name).ok_or_else(|| {
                        SimError::Validation(format!("Unknown fragment \"{name}\"."))
                    })?;
                    if let Some(inner) = fragment.selection_set() {
                        self.stack.push(name);
                        let expanded = self.selection_set(&inner, depth + 1)?;
                        self.stack.pop();
                        selections.extend(expanded);
                    }
                }
            }
        }
        Ok(selections)
    }
}

fn value_to_json(
    value: &cst::Value,
    variables: &Map<String, Value>,
    depth: usize,
) -> Result<Value, SimError> {
    if depth > MAX_DEPTH {
        return Err(SimError::Validation("A value is nested too deeply.".into()));
    }
    Ok(match value {
        cst::Value::Variable(variable) => {
            let name = variable
                .name()
                .map(|name| name.text().to_string())
                .unwrap_or_default();
            variables.get(&name).cloned().unwrap_or(Value::Null)
        }
        cst::Value::StringValue(string) => {
            let raw = string.syntax().text().to_string();
            match raw
                .strip_prefix("\"\"\"")
                .and_then(|rest| rest.strip_suffix("\"\"\""))
            {
                Some(block) => Value::String(block.to_owned()),
                None => serde_json::from_str::<String>(&raw)
                    .map(Value::String)
                    .unwrap_or(Value::String(raw)),
            }
        }
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
                .map(|item| value_to_json(&item, variables, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        cst::Value::ObjectValue(object) => {
            let mut map = Map::new();
            for field in object.object_fields() {
                if let (Some(name), Some(inner)) = (field.name(), field.value()) {
                    map.insert(
                        name.text().to_string(),
                        value_to_json(&inner, variables, depth + 1)?,
                    );
                }
            }
            Value::Object(map)
        }
    })
}

/// Shapes `value` to the selection: only selected fields, under their aliases.
pub(crate) fn project(value: &Value, children: &[Selection]) -> Value {
    if children.is_empty() {
        return value.clone();
    }
    match value {
        Value::Array(items) => {
            Value::Array(items.iter().map(|item| project(item, children)).collect())
        }
        Value::Object(object) => {
            let mut shaped = Map::new();
            for child in children {
                let inner = if child.name == "__typename" {
                    object
                        .get("__typename")
                        .cloned()
                        .unwrap_or(Value::String("Object".into()))
                } else {
                    project(
                        object.get(&child.name).unwrap_or(&Value::Null),
                        &child.children,
                    )
                };
                shaped.insert(child.key.clone(), inner);
            }
            Value::Object(shaped)
        }
        other => other.clone(),
    }
}
