//! Executes a validated operation as the GraphQL spec's executor does: picks the operation,
//! coerces the request's variables against their declared types (defaults applied), collects
//! fields through fragments, inline fragments with type conditions and `@skip`/`@include`,
//! coerces each field's arguments (literals, variables, schema defaults), asks a [`Resolver`]
//! for the value and completes it against the field's type at every depth: lists, non-null
//! (null propagates to the nearest nullable parent with an error), abstract types (resolved
//! to an object type), leaves. A resolver may answer with plain JSON or with
//! [`Resolved::Generic`], which completes to a type-correct placeholder: null where the type is
//! nullable, an empty list, `0`, `false`, `"sim"`, a fresh id, the enum's first value, an
//! object whose fields are generic in turn.
//!
//! Every field resolved is traced as (parent object type, field name), each pair once, in the
//! order first resolved.

use std::collections::BTreeSet;

use serde_json::{Map, Number, Value, json};

use crate::SimError;
use crate::graphql::{
    Directive, Document, Field, Literal, OperationDef, OperationKind, Selection, lookup,
    parse_literal,
};
use crate::schema::{InputValueDef, Schema, TypeDef, TypeKind, TypeRef, schema};
use crate::validate::{field_def, root_type, schema_type};

/// The most fields one request may resolve (lists included).
const MAX_RESOLUTIONS: usize = 100_000;

/// A value as a resolver answers it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Resolved<S> {
    Null,
    /// Plain data: a leaf, or a JSON object whose keys answer its fields (missing keys are
    /// generic; `__typename` names its type when the field's type is abstract).
    Value(Value),
    /// A modelled object whose fields the resolver answers.
    Object(S),
    List(Vec<Resolved<S>>),
    /// Not modelled: a type-correct placeholder.
    Generic,
}

/// A field error: the message and `extensions.code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub(crate) message: String,
    pub(crate) code: &'static str,
}

impl FieldError {
    pub(crate) fn not_found(what: &str) -> FieldError {
        FieldError {
            message: format!("{what} not found"),
            code: "NOT_FOUND",
        }
    }
}

/// Answers fields of modelled objects.
pub(crate) trait Resolver {
    type Source;
    /// The source of the root fields.
    fn root(&self) -> Self::Source;
    /// The value of `field` of `parent` (an object type) on `source`.
    fn resolve(
        &mut self,
        parent: &'static str,
        source: &Self::Source,
        field: &'static str,
        arguments: &Map<String, Value>,
        returns: &TypeRef,
    ) -> Result<Resolved<Self::Source>, FieldError>;
    /// The object type of `source`, where a field's type is an interface or union.
    fn type_name(&self, source: &Self::Source) -> Option<&'static str>;
}

/// An operation picked from a valid document, with its variables coerced.
#[derive(Debug)]
pub(crate) struct Prepared<'d> {
    document: &'d Document,
    operation: &'d OperationDef,
    root: &'static TypeDef,
    variables: Map<String, Value>,
}

/// The outcome of executing an operation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Execution {
    /// `data`: an object, or null when a non-null root field failed.
    pub(crate) data: Value,
    pub(crate) errors: Vec<Value>,
    /// (parent object type, field) for every field resolved, each once, in order.
    pub(crate) resolved: Vec<(&'static str, &'static str)>,
}

/// Picks the operation (`operationName`, or the only one) and coerces `variables`.
pub(crate) fn prepare<'d>(
    document: &'d Document,
    operation_name: Option<&str>,
    variables: &Map<String, Value>,
) -> Result<Prepared<'d>, SimError> {
    let operation = match operation_name {
        Some(wanted) => document
            .operations
            .iter()
            .find(|operation| operation.name.as_deref() == Some(wanted))
            .ok_or_else(|| {
                SimError::BadRequest(format!("Unknown operation named \"{wanted}\"."))
            })?,
        None => match document.operations.as_slice() {
            [only] => only,
            [] => return Err(SimError::BadRequest("Must provide an operation.".into())),
            _ => {
                return Err(SimError::BadRequest(
                    "Must provide operation name if query contains multiple operations.".into(),
                ));
            }
        },
    };
    let schema = schema();
    let root = root_type(schema, operation.kind).ok_or_else(|| {
        SimError::Validation(format!(
            "Schema is not configured to execute {} operation.",
            operation.kind.keyword()
        ))
    })?;
    let mut coerced = Map::new();
    for definition in &operation.variables {
        let name = &definition.name;
        let Some(ty) = schema_type(schema, &definition.ty) else {
            return Err(SimError::Validation(format!(
                "Unknown type \"{}\".",
                definition.ty.named()
            )));
        };
        match variables.get(name) {
            None => {
                if let Some(default) = &definition.default {
                    let value = Coercer {
                        schema,
                        variables: &Map::new(),
                    }
                    .literal(default, &ty)
                    .map_err(|reason| {
                        SimError::BadRequest(format!(
                            "Variable \"${name}\" has an invalid default value; {reason}"
                        ))
                    })?;
                    coerced.insert(name.clone(), value);
                } else if ty.is_non_null() {
                    return Err(SimError::BadRequest(format!(
                        "Variable \"${name}\" of required type \"{}\" was not provided.",
                        definition.ty
                    )));
                }
            }
            Some(Value::Null) if ty.is_non_null() => {
                return Err(SimError::BadRequest(format!(
                    "Variable \"${name}\" of non-null type \"{}\" must not be null.",
                    definition.ty
                )));
            }
            Some(value) => {
                let value =
                    coerce_json(schema, value, &ty, &mut Vec::new()).map_err(|(at, reason)| {
                        let at = if at.is_empty() {
                            String::new()
                        } else {
                            format!(" at \"{name}{at}\"")
                        };
                        SimError::BadRequest(format!(
                            "Variable \"${name}\" got invalid value {value}{at}; {reason}"
                        ))
                    })?;
                coerced.insert(name.clone(), value);
            }
        }
    }
    Ok(Prepared {
        document,
        operation,
        root,
        variables: coerced,
    })
}

impl Prepared<'_> {
    pub(crate) fn kind(&self) -> OperationKind {
        self.operation.kind
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.operation.name.as_deref()
    }

    /// The root field names as sent: fragments expanded, aliases resolved, `@skip` and
    /// `@include` not applied.
    pub(crate) fn root_fields(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut stack = Vec::new();
        root_names(
            self.document,
            &self.operation.selections,
            &mut stack,
            &mut names,
        );
        names
    }

    /// Executes the operation against `resolver`.
    pub(crate) fn execute<R: Resolver>(&self, resolver: &mut R) -> Execution {
        let mut executor = Executor {
            prepared: self,
            schema: schema(),
            resolver,
            errors: Vec::new(),
            resolved: Vec::new(),
            traced: BTreeSet::new(),
            resolutions: 0,
            next_id: 0,
        };
        let source = Source::Model(executor.resolver.root());
        let sets = [self.operation.selections.as_slice()];
        let data = match executor.selection_set(self.root, &source, &sets, &mut Vec::new()) {
            Ok(map) => Value::Object(map),
            Err(Propagate) => Value::Null,
        };
        Execution {
            data,
            errors: executor.errors,
            resolved: executor.resolved,
        }
    }
}

fn root_names<'d>(
    document: &'d Document,
    selections: &'d [Selection],
    stack: &mut Vec<&'d str>,
    names: &mut Vec<String>,
) {
    for selection in selections {
        match selection {
            Selection::Field(field) => names.push(field.name.clone()),
            Selection::Inline(fragment) => {
                root_names(document, &fragment.selections, stack, names);
            }
            Selection::Spread(spread) => {
                if stack.contains(&spread.name.as_str()) {
                    continue;
                }
                if let Some(fragment) = document.fragment(&spread.name) {
                    stack.push(&fragment.name);
                    root_names(document, &fragment.selections, stack, names);
                    stack.pop();
                }
            }
        }
    }
}

/// A field's value completed to null where its type forbids it: the parent is null too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Propagate;

/// What a field is resolved on.
enum Source<S> {
    Model(S),
    Json(Map<String, Value>),
    Generic,
}

struct Executor<'p, 'd, R: Resolver> {
    prepared: &'p Prepared<'d>,
    schema: &'static Schema,
    resolver: &'p mut R,
    errors: Vec<Value>,
    resolved: Vec<(&'static str, &'static str)>,
    traced: BTreeSet<(&'static str, &'static str)>,
    resolutions: usize,
    next_id: u64,
}

impl<'p, 'd, R: Resolver> Executor<'p, 'd, R> {
    fn error(&mut self, message: String, path: &[Value], code: &'static str) {
        self.errors.push(json!({
            "message": message,
            "path": path,
            "extensions": {"code": code},
        }));
    }

    fn selection_set(
        &mut self,
        object: &'static TypeDef,
        source: &Source<R::Source>,
        sets: &[&'d [Selection]],
        path: &mut Vec<Value>,
    ) -> Result<Map<String, Value>, Propagate> {
        let mut groups: Vec<(&'d str, Vec<&'d Field>)> = Vec::new();
        let mut visited = BTreeSet::new();
        for set in sets {
            self.collect(object, set, &mut visited, &mut groups);
        }
        let mut map = Map::new();
        let mut outcome = Ok(());
        for (key, fields) in groups {
            path.push(Value::String(key.to_owned()));
            let value = self.field(object, source, &fields, path);
            path.pop();
            match value {
                Ok(value) => {
                    map.insert(key.to_owned(), value);
                }
                Err(Propagate) => outcome = Err(Propagate),
            }
        }
        outcome.map(|()| map)
    }

    /// The spec's CollectFields: fields by response key, in order.
    fn collect(
        &self,
        object: &'static TypeDef,
        selections: &'d [Selection],
        visited: &mut BTreeSet<&'d str>,
        groups: &mut Vec<(&'d str, Vec<&'d Field>)>,
    ) {
        for selection in selections {
            match selection {
                Selection::Field(field) => {
                    if !self.included(&field.directives) {
                        continue;
                    }
                    match groups.iter_mut().find(|(key, _)| *key == field.key()) {
                        Some((_, fields)) => fields.push(field),
                        None => groups.push((field.key(), vec![field])),
                    }
                }
                Selection::Inline(fragment) => {
                    if !self.included(&fragment.directives)
                        || fragment.type_condition.as_deref().is_some_and(|condition| {
                            !self.schema.is_possible_type(condition, object.name)
                        })
                    {
                        continue;
                    }
                    self.collect(object, &fragment.selections, visited, groups);
                }
                Selection::Spread(spread) => {
                    if !self.included(&spread.directives) || !visited.insert(&spread.name) {
                        continue;
                    }
                    let document: &'d Document = self.prepared.document;
                    let Some(fragment) = document.fragment(&spread.name) else {
                        continue;
                    };
                    if !self
                        .schema
                        .is_possible_type(&fragment.type_condition, object.name)
                    {
                        continue;
                    }
                    self.collect(object, &fragment.selections, visited, groups);
                }
            }
        }
    }

    /// `@skip(if:)` and `@include(if:)`.
    fn included(&self, directives: &[Directive]) -> bool {
        let condition = |name: &str| {
            directives
                .iter()
                .find(|directive| directive.name == name)
                .and_then(|directive| lookup(&directive.arguments, "if"))
                .map(|value| match value {
                    Literal::Boolean(value) => *value,
                    Literal::Variable(variable) => self
                        .prepared
                        .variables
                        .get(variable)
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    _ => false,
                })
        };
        condition("skip") != Some(true) && condition("include") != Some(false)
    }

    fn field(
        &mut self,
        object: &'static TypeDef,
        source: &Source<R::Source>,
        fields: &[&'d Field],
        path: &mut Vec<Value>,
    ) -> Result<Value, Propagate> {
        let Some(first) = fields.first() else {
            return Ok(Value::Null);
        };
        let Some((parent, name, ty, definitions)) = field_def(self.schema, object, &first.name)
        else {
            return Ok(Value::Null);
        };
        self.resolutions += 1;
        if self.resolutions > MAX_RESOLUTIONS {
            self.error("The query is too expensive.".into(), path, "BAD_USER_INPUT");
            return if ty.is_non_null() {
                Err(Propagate)
            } else {
                Ok(Value::Null)
            };
        }
        let arguments = match self.arguments(first, definitions) {
            Ok(arguments) => arguments,
            Err(message) => {
                self.error(message, path, "BAD_USER_INPUT");
                return if ty.is_non_null() {
                    Err(Propagate)
                } else {
                    Ok(Value::Null)
                };
            }
        };
        if self.traced.insert((parent, name)) {
            self.resolved.push((parent, name));
        }
        if name == "__typename" {
            return Ok(Value::String(object.name.to_owned()));
        }
        let resolved = match source {
            Source::Model(source) => self.resolver.resolve(parent, source, name, &arguments, &ty),
            Source::Json(map) => Ok(map
                .get(name)
                .cloned()
                .map_or(Resolved::Generic, Resolved::Value)),
            Source::Generic => Ok(Resolved::Generic),
        };
        match resolved {
            Ok(resolved) => self.complete(&ty, fields, resolved, path, (parent, name)),
            Err(error) => {
                self.error(error.message, path, error.code);
                if ty.is_non_null() {
                    Err(Propagate)
                } else {
                    Ok(Value::Null)
                }
            }
        }
    }

    fn arguments(
        &self,
        field: &Field,
        definitions: &[InputValueDef],
    ) -> Result<Map<String, Value>, String> {
        let coercer = Coercer {
            schema: self.schema,
            variables: &self.prepared.variables,
        };
        let mut arguments = Map::new();
        for definition in definitions {
            let name = definition.name;
            let value = match field.argument(name) {
                Some(Literal::Variable(variable)) => match self.prepared.variables.get(variable) {
                    Some(Value::Null) if definition.ty.is_non_null() => {
                        return Err(format!(
                            "Argument \"{name}\" of non-null type \"{}\" must not be null.",
                            definition.ty
                        ));
                    }
                    Some(value) => Some(value.clone()),
                    None => match definition.default.and_then(parse_literal) {
                        Some(default) => Some(coercer.literal(&default, &definition.ty)?),
                        None if definition.ty.is_non_null() => {
                            return Err(format!(
                                "Argument \"{name}\" of required type \"{}\" was provided the variable \"${variable}\" which was not provided a runtime value.",
                                definition.ty
                            ));
                        }
                        None => None,
                    },
                },
                Some(literal) => Some(coercer.literal(literal, &definition.ty)?),
                None => match definition.default.and_then(parse_literal) {
                    Some(default) => Some(coercer.literal(&default, &definition.ty)?),
                    None if definition.ty.is_non_null() => {
                        return Err(format!(
                            "Argument \"{name}\" of required type \"{}\" was not provided.",
                            definition.ty
                        ));
                    }
                    None => None,
                },
            };
            if let Some(value) = value {
                arguments.insert(name.to_owned(), value);
            }
        }
        Ok(arguments)
    }

    fn complete(
        &mut self,
        ty: &TypeRef,
        fields: &[&'d Field],
        resolved: Resolved<R::Source>,
        path: &mut Vec<Value>,
        at: (&'static str, &'static str),
    ) -> Result<Value, Propagate> {
        match ty {
            TypeRef::NonNull(inner) => {
                match self.complete_nullable(inner, true, fields, resolved, path, at)? {
                    Value::Null => {
                        self.error(
                            format!(
                                "Cannot return null for non-nullable field {}.{}.",
                                at.0, at.1
                            ),
                            path,
                            "INTERNAL_SERVER_ERROR",
                        );
                        Err(Propagate)
                    }
                    value => Ok(value),
                }
            }
            _ => Ok(self
                .complete_nullable(ty, false, fields, resolved, path, at)
                .unwrap_or(Value::Null)),
        }
    }

    fn complete_nullable(
        &mut self,
        ty: &TypeRef,
        required: bool,
        fields: &[&'d Field],
        resolved: Resolved<R::Source>,
        path: &mut Vec<Value>,
        at: (&'static str, &'static str),
    ) -> Result<Value, Propagate> {
        if matches!(resolved, Resolved::Null | Resolved::Value(Value::Null))
            || (!required && matches!(resolved, Resolved::Generic))
        {
            return Ok(Value::Null);
        }
        match ty {
            TypeRef::NonNull(inner) => self.complete(inner, fields, resolved, path, at),
            TypeRef::List(inner) => {
                let items = match resolved {
                    Resolved::List(items) => items,
                    Resolved::Value(Value::Array(items)) => {
                        items.into_iter().map(Resolved::Value).collect()
                    }
                    Resolved::Generic => Vec::new(),
                    _ => {
                        self.error(
                            format!(
                                "Expected Iterable, but did not find one for field \"{}.{}\".",
                                at.0, at.1
                            ),
                            path,
                            "INTERNAL_SERVER_ERROR",
                        );
                        return Ok(Value::Null);
                    }
                };
                let mut values = Vec::with_capacity(items.len());
                let mut outcome = Ok(());
                for (index, item) in items.into_iter().enumerate() {
                    path.push(Value::from(index));
                    let value = self.complete(inner, fields, item, path, at);
                    path.pop();
                    match value {
                        Ok(value) => values.push(value),
                        Err(Propagate) => outcome = Err(Propagate),
                    }
                }
                outcome.map(|()| Value::Array(values))
            }
            TypeRef::Named(name) => {
                let Some(definition) = self.schema.type_def(name) else {
                    return Ok(Value::Null);
                };
                if definition.kind.is_leaf() {
                    return Ok(match resolved {
                        Resolved::Value(value) => value,
                        _ => self.placeholder(definition),
                    });
                }
                let source = match resolved {
                    Resolved::Object(source) => Source::Model(source),
                    Resolved::Value(Value::Object(map)) => Source::Json(map),
                    _ => Source::Generic,
                };
                let object = self.runtime_type(definition, &source);
                let sets: Vec<&'d [Selection]> = fields
                    .iter()
                    .map(|field| field.selections.as_slice())
                    .collect();
                self.selection_set(object, &source, &sets, path)
                    .map(Value::Object)
            }
        }
    }

    /// The object type a value of `declared` is.
    fn runtime_type(
        &self,
        declared: &'static TypeDef,
        source: &Source<R::Source>,
    ) -> &'static TypeDef {
        if declared.kind == TypeKind::Object {
            return declared;
        }
        let named = match source {
            Source::Model(source) => self.resolver.type_name(source),
            Source::Json(map) => map
                .get("__typename")
                .and_then(Value::as_str)
                .and_then(|name| self.schema.type_def(name).map(|definition| definition.name)),
            Source::Generic => None,
        };
        named
            .filter(|name| self.schema.is_possible_type(declared.name, name))
            .or_else(|| declared.possible_types.first().copied())
            .and_then(|name| self.schema.type_def(name))
            .unwrap_or(declared)
    }

    /// A type-correct value for a leaf nobody modelled.
    fn placeholder(&mut self, definition: &'static TypeDef) -> Value {
        if definition.kind == TypeKind::Enum {
            return definition
                .enum_values
                .first()
                .map_or(Value::Null, |value| Value::String((*value).to_owned()));
        }
        match definition.name {
            "String" => Value::String("sim".into()),
            "ID" => {
                self.next_id += 1;
                Value::String(format!("sim-id-{}", self.next_id))
            }
            "Int" | "BigInt" => Value::from(0),
            "Float" => json!(0.0),
            "Boolean" => Value::Bool(false),
            "DateTime" => Value::String("2026-01-01T00:00:00.000Z".into()),
            _ => Value::Object(Map::new()),
        }
    }
}

/// Turns literals (with the request's coerced variables) into argument values.
struct Coercer<'v> {
    schema: &'static Schema,
    variables: &'v Map<String, Value>,
}

impl Coercer<'_> {
    /// The value of a validated literal of type `ty`.
    fn literal(&self, literal: &Literal, ty: &TypeRef) -> Result<Value, String> {
        match (ty, literal) {
            (_, Literal::Variable(name)) => match self.variables.get(name) {
                Some(Value::Null) | None if ty.is_non_null() => Err(format!(
                    "Expected value of type \"{ty}\", found null (variable \"${name}\")."
                )),
                Some(value) => Ok(value.clone()),
                None => Ok(Value::Null),
            },
            (TypeRef::NonNull(_), Literal::Null) => {
                Err(format!("Expected value of type \"{ty}\", found null."))
            }
            (TypeRef::NonNull(inner), _) => self.literal(literal, inner),
            (_, Literal::Null) => Ok(Value::Null),
            (TypeRef::List(inner), Literal::List(items)) => items
                .iter()
                .map(|item| self.literal(item, inner))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            (TypeRef::List(inner), _) => Ok(Value::Array(vec![self.literal(literal, inner)?])),
            (TypeRef::Named(name), _) => {
                let definition = self
                    .schema
                    .type_def(name)
                    .ok_or_else(|| format!("Unknown type \"{name}\"."))?;
                match (definition.kind, literal) {
                    (TypeKind::InputObject, Literal::Object(fields)) => {
                        let mut object = Map::new();
                        for input in &definition.input_fields {
                            let value = match lookup(fields, input.name) {
                                Some(Literal::Variable(variable))
                                    if !self.variables.contains_key(variable) =>
                                {
                                    None
                                }
                                Some(value) => Some(self.literal(value, &input.ty)?),
                                None => None,
                            };
                            let value = match value {
                                Some(value) => Some(value),
                                None => match input.default.and_then(parse_literal) {
                                    Some(default) => Some(self.literal(&default, &input.ty)?),
                                    None if input.ty.is_non_null() => {
                                        return Err(format!(
                                            "Field \"{}.{}\" of required type \"{}\" was not provided.",
                                            definition.name, input.name, input.ty
                                        ));
                                    }
                                    None => None,
                                },
                            };
                            if let Some(value) = value {
                                object.insert(input.name.to_owned(), value);
                            }
                        }
                        Ok(Value::Object(object))
                    }
                    (TypeKind::Enum, Literal::Enum(value)) => Ok(Value::String(value.clone())),
                    (TypeKind::Scalar, _) => {
                        crate::validate::scalar_literal(name, literal)?;
                        self.scalar(name, literal)
                    }
                    _ => Err(format!("Expected value of type \"{ty}\", found {literal}.")),
                }
            }
        }
    }

    fn scalar(&self, scalar: &str, literal: &Literal) -> Result<Value, String> {
        Ok(match literal {
            Literal::Variable(name) => self.variables.get(name).cloned().unwrap_or(Value::Null),
            Literal::Int(text) if scalar == "ID" => Value::String(text.clone()),
            Literal::Int(text) => match text.parse::<i64>() {
                Ok(number) => Value::from(number),
                Err(_) => number(text),
            },
            Literal::Float(text) => number(text),
            Literal::String(text) | Literal::Enum(text) => Value::String(text.clone()),
            Literal::Boolean(value) => Value::Bool(*value),
            Literal::Null => Value::Null,
            Literal::List(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.scalar(scalar, item))
                    .collect::<Result<_, _>>()?,
            ),
            Literal::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(name, value)| Ok((name.clone(), self.scalar(scalar, value)?)))
                    .collect::<Result<_, String>>()?,
            ),
        })
    }
}

fn number(text: &str) -> Value {
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map_or_else(|| Value::String(text.to_owned()), Value::Number)
}

/// Coerces a variable's JSON value to `ty`; on failure, the path inside the value and why.
fn coerce_json(
    schema: &'static Schema,
    value: &Value,
    ty: &TypeRef,
    path: &mut Vec<String>,
) -> Result<Value, (String, String)> {
    let fail = |path: &Vec<String>, reason: String| Err((path.concat(), reason));
    match (ty, value) {
        (TypeRef::NonNull(_), Value::Null) => fail(
            path,
            format!("Expected non-nullable type \"{ty}\" not to be null."),
        ),
        (TypeRef::NonNull(inner), _) => coerce_json(schema, value, inner, path),
        (_, Value::Null) => Ok(Value::Null),
        (TypeRef::List(inner), Value::Array(items)) => {
            let mut coerced = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                path.push(format!("[{index}]"));
                coerced.push(coerce_json(schema, item, inner, path)?);
                path.pop();
            }
            Ok(Value::Array(coerced))
        }
        (TypeRef::List(inner), _) => {
            Ok(Value::Array(vec![coerce_json(schema, value, inner, path)?]))
        }
        (TypeRef::Named(name), _) => {
            let Some(definition) = schema.type_def(name) else {
                return fail(path, format!("Unknown type \"{name}\"."));
            };
            match definition.kind {
                TypeKind::InputObject => {
                    let Value::Object(fields) = value else {
                        return fail(path, format!("Expected type \"{name}\" to be an object."));
                    };
                    for key in fields.keys() {
                        if definition.input_field(key).is_none() {
                            return fail(
                                path,
                                format!("Field \"{key}\" is not defined by type \"{name}\"."),
                            );
                        }
                    }
                    let mut coerced = Map::new();
                    for input in &definition.input_fields {
                        match fields.get(input.name) {
                            Some(inner) => {
                                path.push(format!(".{}", input.name));
                                let value = coerce_json(schema, inner, &input.ty, path)?;
                                path.pop();
                                coerced.insert(input.name.to_owned(), value);
                            }
                            None => {
                                let default = input.default.and_then(parse_literal);
                                match default {
                                    Some(default) => {
                                        let value = Coercer {
                                            schema,
                                            variables: &Map::new(),
                                        }
                                        .literal(&default, &input.ty)
                                        .map_err(|reason| (path.concat(), reason))?;
                                        coerced.insert(input.name.to_owned(), value);
                                    }
                                    None if input.ty.is_non_null() => {
                                        return fail(
                                            path,
                                            format!(
                                                "Field \"{}\" of required type \"{}\" was not provided.",
                                                input.name, input.ty
                                            ),
                                        );
                                    }
                                    None => {}
                                }
                            }
                        }
                    }
                    Ok(Value::Object(coerced))
                }
                TypeKind::Enum => match value {
                    Value::String(item) if definition.enum_values.contains(&item.as_str()) => {
                        Ok(value.clone())
                    }
                    Value::String(item) => fail(
                        path,
                        format!("Value \"{item}\" does not exist in \"{name}\" enum."),
                    ),
                    other => fail(
                        path,
                        format!("Enum \"{name}\" cannot represent non-string value: {other}."),
                    ),
                },
                TypeKind::Scalar => match (*name, value) {
                    ("Int", Value::Number(number)) => match number.as_f64() {
                        Some(float)
                            if float.fract() == 0.0
                                && float >= f64::from(i32::MIN)
                                && float <= f64::from(i32::MAX) =>
                        {
                            Ok(Value::from(float as i64))
                        }
                        _ => fail(
                            path,
                            format!(
                                "Int cannot represent non 32-bit signed integer value: {value}"
                            ),
                        ),
                    },
                    ("Int", _) => fail(
                        path,
                        format!("Int cannot represent non-integer value: {value}"),
                    ),
                    ("Float", Value::Number(_))
                    | ("String", Value::String(_))
                    | ("Boolean", Value::Bool(_))
                    | ("ID", Value::String(_)) => Ok(value.clone()),
                    ("ID", Value::Number(number)) if number.is_i64() || number.is_u64() => {
                        Ok(Value::String(number.to_string()))
                    }
                    ("Float", _) => fail(
                        path,
                        format!("Float cannot represent non numeric value: {value}"),
                    ),
                    ("String", _) => fail(
                        path,
                        format!("String cannot represent a non string value: {value}"),
                    ),
                    ("Boolean", _) => fail(
                        path,
                        format!("Boolean cannot represent a non boolean value: {value}"),
                    ),
                    ("ID", _) => fail(path, format!("ID cannot represent value: {value}")),
                    _ => Ok(value.clone()),
                },
                _ => fail(path, format!("Type \"{name}\" is not an input type.")),
            }
        }
    }
}
