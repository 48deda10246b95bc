//! Walks a GraphQL document (parsed with `apollo-parser`) against Railway's schema: every
//! field at every depth of the operation a request executes, through aliases, fragments and
//! inline fragments, with arguments as JSON after substituting variables and the schema's
//! defaults. Each root field comes back with what was found beneath it: records that live in
//! an environment, fields that reveal secrets, and names the schema does not know, each with
//! where its data lives ([`Reach`]).
//!
//! Validation is GraphQL's own where a server and this walk could otherwise disagree: one
//! definition per operation and fragment name, a lone anonymous operation, fragments defined,
//! used and acyclic, variables declared, leaves without selections and composites with them.
//! Conservative by construction: `@skip`/`@include` are ignored and every fragment is walked
//! whatever its type condition, so a field that might run is always listed.

use std::collections::{BTreeMap, BTreeSet};

use apollo_parser::cst::{self, CstNode};
use serde_json::{Map, Value};

use crate::HttpError;
use crate::railway::schema::{FieldDef, Schema, TypeKind};

/// The most tokens a document may have before parsing stops with an error.
pub const MAX_TOKENS: usize = 50_000;
/// The deepest nesting of selections and values the parser accepts.
pub const MAX_RECURSION: usize = 64;
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

/// Where a nested field's data lives, relative to the root field it was reached from.
///
/// The walk cannot know the ids of nested records (they are the upstream's data), so it says
/// which of the root field's resources they belong to: the environment the root field pins,
/// an environment a nested argument names, or every environment of the resources the root
/// field names (every environment the credential can see when it names none).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reach {
    /// The environments the root field's own arguments name.
    Root,
    /// The environments named by a nested field's `environmentId` argument.
    Environments(Vec<String>),
    /// Every environment of the projects the root field's arguments name; every environment
    /// the credential can see when they name none.
    Spanning,
}

/// Why a nested field matters to the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UseKind {
    /// Records that live in an environment (deployments, service instances, domains ...).
    EnvironmentData,
    /// A field that reveals secrets (decrypted variables, credentials, tokens).
    Secret,
    /// A field or argument the reviewed schema does not know: [`blastdoor_core::Risk::Unknown`].
    Unknown,
}

/// One nested field that matters to the decision, with where its data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NestedUse {
    pub kind: UseKind,
    /// The path of schema field names from the root field (`environments.edges.node.config`).
    pub path: String,
    /// `Type.field` of the field itself.
    pub field: String,
    pub reach: Reach,
}

/// One root field of the executed operation, with what the walk found beneath it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RootField {
    pub(crate) operation_type: OperationType,
    pub(crate) name: String,
    pub(crate) alias: Option<String>,
    /// The field's arguments with variables and schema defaults substituted. May hold secrets
    /// (variable values): never log it.
    pub(crate) arguments: Map<String, Value>,
    /// The named type the field returns, when the schema knows the field.
    pub(crate) returns: Option<&'static str>,
    /// Nested fields that matter, deduplicated.
    pub(crate) uses: Vec<NestedUse>,
    /// Every `(type, field)` of the schema the field and its selections resolve, in walk order
    /// (the root field included; `__typename` excluded).
    pub(crate) walked: Vec<(&'static str, &'static str)>,
}

/// Parses `query`, validates it as GraphQL requires (one definition per operation and
/// fragment name, a lone anonymous operation, every fragment defined, used and acyclic, every
/// variable declared), picks the operation named `operation_name` (or the only one), and
/// walks it against Railway's schema.
pub(crate) fn root_fields(
    query: &str,
    operation_name: Option<&str>,
    variables: &Map<String, Value>,
) -> Result<Vec<RootField>, HttpError> {
    let schema = crate::railway::schema::railway()?;
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
    validate_operation_names(&operations)?;
    validate_fragments(&operations, &fragments)?;

    let operation = select_operation(&operations, operation_name)?;
    let operation_type = match operation.operation_type() {
        None => OperationType::Query,
        Some(kind) if kind.mutation_token().is_some() => OperationType::Mutation,
        Some(kind) if kind.subscription_token().is_some() => OperationType::Subscription,
        Some(_) => OperationType::Query,
    };
    let root_type = schema.root_type(operation_type).ok_or_else(|| {
        HttpError::InvalidDocument(format!(
            "the schema has no {} type",
            operation_type.as_str()
        ))
    })?;
    let (variables, declared) = effective_variables(operation, variables)?;
    let selection_set = operation
        .selection_set()
        .ok_or_else(|| HttpError::InvalidDocument("operation has no selection set".into()))?;

    let mut walker = Walker {
        schema,
        operation_type,
        fragments: &fragments,
        variables: &variables,
        declared: &declared,
        stack: Vec::new(),
        path: Vec::new(),
        visited: 0,
        fields: Vec::new(),
    };
    walker.root_selection_set(&selection_set, root_type)?;
    Ok(walker.fields)
}

fn operation_name_of(operation: &cst::OperationDefinition) -> Option<String> {
    operation.name().map(|name| name.text().to_string())
}

/// GraphQL's "operation name uniqueness" and "lone anonymous operation" rules. Executors
/// differ on which of two same-named operations they run; a document with both is refused.
fn validate_operation_names(operations: &[cst::OperationDefinition]) -> Result<(), HttpError> {
    let mut seen = BTreeSet::new();
    for operation in operations {
        match operation_name_of(operation) {
            Some(name) if !seen.insert(name.clone()) => {
                return Err(HttpError::InvalidDocument(format!(
                    "operation `{}` is defined twice",
                    shorten(&name)
                )));
            }
            Some(_) => {}
            None if operations.len() > 1 => {
                return Err(HttpError::InvalidDocument(
                    "an anonymous operation must be the only operation in the document".into(),
                ));
            }
            None => {}
        }
    }
    Ok(())
}

/// Every spread names a defined fragment, no fragment spreads itself (directly or not), and
/// every fragment is used: GraphQL's own validation rules, checked over the whole document
/// (not just the operation that runs), as a server does before it executes anything.
fn validate_fragments(
    operations: &[cst::OperationDefinition],
    fragments: &BTreeMap<String, cst::FragmentDefinition>,
) -> Result<(), HttpError> {
    let mut spreads_of: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (name, fragment) in fragments {
        let mut spreads = Vec::new();
        if let Some(set) = fragment.selection_set() {
            collect_spreads(&set, &mut spreads, 0)?;
        }
        spreads_of.insert(name.as_str(), spreads);
    }
    let mut used = BTreeSet::new();
    for operation in operations {
        let mut spreads = Vec::new();
        if let Some(set) = operation.selection_set() {
            collect_spreads(&set, &mut spreads, 0)?;
        }
        used.extend(spreads);
    }
    for spreads in spreads_of.values() {
        for spread in spreads {
            if !fragments.contains_key(spread) {
                return Err(HttpError::UnknownFragment(shorten(spread)));
            }
            used.insert(spread.clone());
        }
    }
    for name in &used {
        if !fragments.contains_key(name) {
            return Err(HttpError::UnknownFragment(shorten(name)));
        }
    }
    if let Some(unused) = fragments.keys().find(|name| !used.contains(*name)) {
        return Err(HttpError::InvalidDocument(format!(
            "fragment `{}` is never used",
            shorten(unused)
        )));
    }
    // Cycle detection: depth-first over the spread graph, three colours.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    for name in fragments.keys() {
        visit_fragment(name, &spreads_of, &mut state)?;
    }
    Ok(())
}

fn visit_fragment<'a>(
    name: &'a str,
    spreads_of: &'a BTreeMap<&'a str, Vec<String>>,
    state: &mut BTreeMap<&'a str, u8>,
) -> Result<(), HttpError> {
    // 0 unvisited, 1 on the stack, 2 done. An explicit stack keeps hostile documents from
    // exhausting ours.
    let mut stack: Vec<(&str, usize)> = vec![(name, 0)];
    while let Some((current, next)) = stack.pop() {
        if next == 0 {
            match state.get(current) {
                Some(2) => continue,
                Some(1) => return Err(HttpError::FragmentCycle(shorten(current))),
                _ => {
                    state.insert(current, 1);
                }
            }
        }
        let children = spreads_of.get(current).map(Vec::as_slice).unwrap_or(&[]);
        match children.get(next) {
            Some(child) => {
                stack.push((current, next + 1));
                match state.get(child.as_str()) {
                    Some(1) => return Err(HttpError::FragmentCycle(shorten(child))),
                    Some(2) => {}
                    _ => {
                        if let Some((key, _)) = spreads_of.get_key_value(child.as_str()) {
                            stack.push((key, 0));
                        }
                    }
                }
            }
            None => {
                state.insert(current, 2);
            }
        }
    }
    Ok(())
}

fn collect_spreads(
    set: &cst::SelectionSet,
    spreads: &mut Vec<String>,
    depth: usize,
) -> Result<(), HttpError> {
    if depth > MAX_RECURSION {
        return Err(HttpError::TooDeep(MAX_RECURSION));
    }
    for selection in set.selections() {
        match selection {
            cst::Selection::Field(field) => {
                if let Some(inner) = field.selection_set() {
                    collect_spreads(&inner, spreads, depth + 1)?;
                }
            }
            cst::Selection::InlineFragment(fragment) => {
                if let Some(inner) = fragment.selection_set() {
                    collect_spreads(&inner, spreads, depth + 1)?;
                }
            }
            cst::Selection::FragmentSpread(spread) => {
                let name = spread
                    .fragment_name()
                    .and_then(|name| name.name())
                    .map(|name| name.text().to_string())
                    .ok_or_else(|| {
                        HttpError::InvalidDocument("fragment spread without a name".into())
                    })?;
                spreads.push(name);
            }
        }
    }
    Ok(())
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

/// The request's variables over the operation's declared defaults, and the names declared.
/// A provided variable the operation does not declare is ignored, as executors do.
fn effective_variables(
    operation: &cst::OperationDefinition,
    provided: &Map<String, Value>,
) -> Result<(Map<String, Value>, BTreeSet<String>), HttpError> {
    let mut variables = Map::new();
    let mut declared = BTreeSet::new();
    if let Some(definitions) = operation.variable_definitions() {
        for definition in definitions.variable_definitions() {
            let name = definition
                .variable()
                .and_then(|variable| variable.name())
                .map(|name| name.text().to_string())
                .ok_or_else(|| HttpError::InvalidDocument("variable without a name".into()))?;
            if !declared.insert(name.clone()) {
                return Err(HttpError::InvalidDocument(format!(
                    "variable `${}` is declared twice",
                    shorten(&name)
                )));
            }
            let default = definition.default_value().and_then(|value| value.value());
            if let Some(default) = default
                && let Some(value) = to_json(&default, &Map::new(), 0)?
            {
                variables.insert(name.clone(), value);
            }
            if let Some(value) = provided.get(&name) {
                variables.insert(name, value.clone());
            }
        }
    }
    Ok((variables, declared))
}

struct Walker<'a> {
    schema: &'static Schema,
    operation_type: OperationType,
    fragments: &'a BTreeMap<String, cst::FragmentDefinition>,
    variables: &'a Map<String, Value>,
    declared: &'a BTreeSet<String>,
    /// Fragments being expanded, to bound recursion (cycles were refused before).
    stack: Vec<String>,
    /// Schema field names from the root field down to the current one.
    path: Vec<String>,
    visited: usize,
    fields: Vec<RootField>,
}

/// Where the walk is: the reach of the current object, and whether a record that spans
/// environments lies between it and the last environment or environment-bound record.
#[derive(Debug, Clone)]
struct Context {
    reach: Reach,
    under_owner: bool,
}

/// What the walk collects under one root field.
#[derive(Default)]
struct Found {
    uses: Vec<NestedUse>,
    /// More distinct uses than [`MAX_USES_PER_FIELD`]: the request is refused rather than
    /// judged on part of them.
    overflow: bool,
    walked: Vec<(&'static str, &'static str)>,
}

impl Found {
    fn add(&mut self, found: NestedUse) {
        // Environment data is recorded once per reach; secrets and unknowns once per field.
        let duplicate = self.uses.iter().any(|known| {
            known.kind == found.kind
                && known.reach == found.reach
                && (found.kind == UseKind::EnvironmentData || known.field == found.field)
        });
        if duplicate {
            return;
        }
        if self.uses.len() < MAX_USES_PER_FIELD {
            self.uses.push(found);
        } else {
            self.overflow = true;
        }
    }
}

/// At most this many distinct nested uses are kept per root field; past it the request is
/// malformed (no client needs hundreds of distinct unknown or secret fields in one request,
/// and judging only some of them could let a refusal become a hold).
pub const MAX_USES_PER_FIELD: usize = 256;

impl Walker<'_> {
    fn count(&mut self) -> Result<(), HttpError> {
        self.visited += 1;
        if self.visited > MAX_SELECTIONS {
            return Err(HttpError::TooManySelections(MAX_SELECTIONS));
        }
        Ok(())
    }

    /// The root selections: fields, and fragments on the root type.
    fn root_selection_set(
        &mut self,
        selection_set: &cst::SelectionSet,
        root_type: &'static str,
    ) -> Result<(), HttpError> {
        for selection in selection_set.selections() {
            self.count()?;
            match selection {
                cst::Selection::Field(field) => self.root_field(&field, root_type)?,
                cst::Selection::InlineFragment(fragment) => {
                    self.check_condition(fragment.type_condition(), root_type)?;
                    let inner = fragment.selection_set().ok_or_else(|| {
                        HttpError::InvalidDocument("inline fragment without selections".into())
                    })?;
                    self.root_selection_set(&inner, root_type)?;
                }
                cst::Selection::FragmentSpread(spread) => {
                    let (name, fragment) = self.fragment(&spread)?;
                    self.check_condition(fragment.type_condition(), root_type)?;
                    let inner = fragment.selection_set().ok_or_else(|| {
                        HttpError::InvalidDocument("fragment without selections".into())
                    })?;
                    self.stack.push(name);
                    self.root_selection_set(&inner, root_type)?;
                    self.stack.pop();
                }
            }
        }
        Ok(())
    }

    /// A fragment spread's definition (defined and acyclic, checked before the walk).
    fn fragment(
        &self,
        spread: &cst::FragmentSpread,
    ) -> Result<(String, cst::FragmentDefinition), HttpError> {
        let name = spread
            .fragment_name()
            .and_then(|name| name.name())
            .map(|name| name.text().to_string())
            .ok_or_else(|| HttpError::InvalidDocument("fragment spread without a name".into()))?;
        if self.stack.len() > MAX_RECURSION || self.stack.contains(&name) {
            return Err(HttpError::FragmentCycle(shorten(&name)));
        }
        let fragment = self
            .fragments
            .get(&name)
            .cloned()
            .ok_or_else(|| HttpError::UnknownFragment(shorten(&name)))?;
        Ok((name, fragment))
    }

    /// A type condition on a root selection must name the root type.
    fn check_condition(
        &self,
        condition: Option<cst::TypeCondition>,
        root_type: &str,
    ) -> Result<(), HttpError> {
        match condition_type(condition) {
            None => Ok(()),
            Some(name) if name == root_type => Ok(()),
            Some(name) => Err(HttpError::InvalidDocument(format!(
                "fragment on `{}` cannot be spread on `{root_type}`",
                shorten(&name)
            ))),
        }
    }

    fn root_field(&mut self, field: &cst::Field, root_type: &'static str) -> Result<(), HttpError> {
        let name = field_name(field)?;
        let alias = field
            .alias()
            .and_then(|alias| alias.name())
            .map(|name| name.text().to_string());
        let mut found = Found::default();
        if let Some(meta) = introspection_root(&name) {
            // `__typename`, `__schema` and `__type` describe the schema, not Railway's data:
            // metadata reads whose selections are the server's to validate.
            self.fields.push(RootField {
                operation_type: self.operation_type,
                name,
                alias,
                arguments: Map::new(),
                returns: Some(meta),
                uses: Vec::new(),
                walked: Vec::new(),
            });
            return Ok(());
        }
        let definition =
            self.schema
                .types
                .get_key_value(root_type)
                .and_then(|(type_key, type_def)| {
                    type_def
                        .fields
                        .get_key_value(name.as_str())
                        .map(|(field_key, field_def)| {
                            (type_key.as_str(), field_key.as_str(), field_def)
                        })
                });
        let Some((type_key, field_key, field_def)) = definition else {
            // Unknown to the reviewed schema: the classifier makes it `Unknown`. Its arguments
            // are still read for the ids they name.
            let arguments = self.arguments(field, None, &mut found, root_type, &name)?;
            self.fields.push(RootField {
                operation_type: self.operation_type,
                name,
                alias,
                arguments,
                returns: None,
                uses: found.uses,
                walked: found.walked,
            });
            return Ok(());
        };
        found.walked.push((type_key, field_key));
        let arguments = self.arguments(field, Some(field_def), &mut found, type_key, field_key)?;
        let returns = self.named(field_def);
        self.path.clear();
        if let Some(returns) = returns {
            let context = Context {
                reach: Reach::Root,
                under_owner: false,
            };
            self.children(field, returns, context, &mut found)?;
        }
        if found.overflow {
            return Err(HttpError::InvalidDocument(format!(
                "`{}` selects more than {MAX_USES_PER_FIELD} distinct fields that are unknown, \
                 reveal secrets or live in different places",
                shorten(&name)
            )));
        }
        self.fields.push(RootField {
            operation_type: self.operation_type,
            name,
            alias,
            arguments,
            returns,
            uses: found.uses,
            walked: found.walked,
        });
        Ok(())
    }

    /// The schema's own `&'static str` for the type a field returns.
    fn named(&self, field_def: &FieldDef) -> Option<&'static str> {
        self.schema
            .types
            .get_key_value(field_def.named_type())
            .map(|(key, _)| key.as_str())
    }

    /// The field's selection set, walked with `type_name` as its parent, or a check that a
    /// leaf has none.
    fn children(
        &mut self,
        field: &cst::Field,
        type_name: &'static str,
        context: Context,
        found: &mut Found,
    ) -> Result<(), HttpError> {
        let composite = self.schema.type_def(type_name).is_some_and(|definition| {
            matches!(
                definition.kind,
                TypeKind::Object | TypeKind::Interface | TypeKind::Union
            )
        });
        match (field.selection_set(), composite) {
            (Some(set), true) => self.selection_set(&set, type_name, &context, found),
            (None, false) => Ok(()),
            (Some(_), false) => Err(HttpError::InvalidDocument(format!(
                "`{}` is a leaf and takes no selections",
                shorten(&field_name(field)?)
            ))),
            (None, true) => Err(HttpError::InvalidDocument(format!(
                "`{}` returns `{type_name}` and needs selections",
                shorten(&field_name(field)?)
            ))),
        }
    }

    fn selection_set(
        &mut self,
        selection_set: &cst::SelectionSet,
        type_name: &'static str,
        context: &Context,
        found: &mut Found,
    ) -> Result<(), HttpError> {
        if self.path.len() > MAX_RECURSION {
            return Err(HttpError::TooDeep(MAX_RECURSION));
        }
        for selection in selection_set.selections() {
            self.count()?;
            match selection {
                cst::Selection::Field(field) => self.field(&field, type_name, context, found)?,
                cst::Selection::InlineFragment(fragment) => {
                    let inner_type = self.narrow(fragment.type_condition(), type_name)?;
                    let inner = fragment.selection_set().ok_or_else(|| {
                        HttpError::InvalidDocument("inline fragment without selections".into())
                    })?;
                    self.selection_set(&inner, inner_type, context, found)?;
                }
                cst::Selection::FragmentSpread(spread) => {
                    let (name, fragment) = self.fragment(&spread)?;
                    let inner_type = self.narrow(fragment.type_condition(), type_name)?;
                    let inner = fragment.selection_set().ok_or_else(|| {
                        HttpError::InvalidDocument("fragment without selections".into())
                    })?;
                    self.stack.push(name);
                    self.selection_set(&inner, inner_type, context, found)?;
                    self.stack.pop();
                }
            }
        }
        Ok(())
    }

    /// The type a fragment's selections are walked with: its condition, which must be a
    /// composite type of the schema. Whether it can apply to `type_name` is the server's to
    /// check; walking it whatever the answer lists every field that might run.
    fn narrow(
        &self,
        condition: Option<cst::TypeCondition>,
        type_name: &'static str,
    ) -> Result<&'static str, HttpError> {
        let Some(name) = condition_type(condition) else {
            return Ok(type_name);
        };
        match self.schema.types.get_key_value(name.as_str()) {
            Some((key, definition))
                if matches!(
                    definition.kind,
                    TypeKind::Object | TypeKind::Interface | TypeKind::Union
                ) =>
            {
                Ok(key.as_str())
            }
            _ => Err(HttpError::InvalidDocument(format!(
                "unknown type `{}` in a fragment's condition",
                shorten(&name)
            ))),
        }
    }

    fn field(
        &mut self,
        field: &cst::Field,
        parent: &'static str,
        context: &Context,
        found: &mut Found,
    ) -> Result<(), HttpError> {
        let reach = &context.reach;
        let name = field_name(field)?;
        if name == "__typename" {
            if field.selection_set().is_some() {
                return Err(HttpError::InvalidDocument(
                    "`__typename` takes no selections".into(),
                ));
            }
            return Ok(());
        }
        let definition = self.schema.type_def(parent).and_then(|type_def| {
            type_def
                .fields
                .get_key_value(name.as_str())
                .map(|(key, field_def)| (key.as_str(), field_def))
        });
        let Some((field_key, field_def)) = definition else {
            self.path.push(name.clone());
            found.add(NestedUse {
                kind: UseKind::Unknown,
                path: self.path.join("."),
                field: format!("{parent}.{}", shorten(&name)),
                reach: reach.clone(),
            });
            self.path.pop();
            return Ok(());
        };
        found.walked.push((parent, field_key));
        self.path.push(field_key.to_owned());
        // A record that lives in an environment is that environment's data, except for the
        // names and ids that say which service, volume or environment it is (the metadata a
        // staging task may list everywhere).
        // Only values count: a link to another record is judged by what is read beneath it.
        let leaf = self.named(field_def).is_none_or(|named| {
            self.schema.type_def(named).is_none_or(|definition| {
                matches!(definition.kind, TypeKind::Scalar | TypeKind::Enum)
            })
        });
        if leaf && self.schema.is_environment_bound(parent) && !IDENTITY_FIELDS.contains(&field_key)
        {
            found.add(NestedUse {
                kind: UseKind::EnvironmentData,
                path: self.path.join("."),
                field: format!("{parent}.{field_key}"),
                reach: reach.clone(),
            });
        }
        let arguments = self.arguments(field, Some(field_def), found, parent, field_key)?;
        if is_secret_field(parent, field_key, &arguments) {
            found.add(NestedUse {
                kind: UseKind::Secret,
                path: self.path.join("."),
                field: format!("{parent}.{field_key}"),
                reach: reach.clone(),
            });
        }
        if let Some(child) = self.named(field_def) {
            let child_context = self.child_context(parent, child, &arguments, context);
            self.children(field, child, child_context, found)?;
        }
        self.path.pop();
        Ok(())
    }

    /// Where the records a nested field returns live (see [`Reach`]):
    /// - a field with its own `environmentId` argument: that environment;
    /// - from an environment-bound record to records or environments it links to directly:
    ///   the same environment (a deployment's service instance, a service instance's
    ///   deployments, an environment's service instances);
    /// - from an environment to another environment (`sourceEnvironment`): every environment;
    /// - to environment-bound records or environments below a record that spans environments
    ///   (a project, service, volume, workspace, user: an object with an `id` that is not
    ///   environment-bound), however many connection and edge objects lie between: every
    ///   environment;
    /// - otherwise (values such as logs and their tags, lists of domains): unchanged.
    fn child_context(
        &self,
        parent: &str,
        child: &str,
        arguments: &Map<String, Value>,
        context: &Context,
    ) -> Context {
        if let Some(Value::String(environment)) = arguments.get("environmentId") {
            return Context {
                reach: Reach::Environments(vec![environment.clone()]),
                under_owner: false,
            };
        }
        let child_is_environment = child == "Environment";
        let child_in_environment = child_is_environment || self.schema.is_environment_bound(child);
        if child_in_environment {
            let reach = if self.schema.is_environment_bound(parent)
                || (parent == "Environment" && !child_is_environment)
            {
                context.reach.clone()
            } else if (parent == "Environment" && child_is_environment) || context.under_owner {
                Reach::Spanning
            } else {
                context.reach.clone()
            };
            return Context {
                reach,
                under_owner: false,
            };
        }
        let child_spans = self.schema.type_def(child).is_some_and(|definition| {
            definition.kind == TypeKind::Object && definition.fields.contains_key("id")
        });
        Context {
            reach: context.reach.clone(),
            under_owner: context.under_owner || child_spans,
        }
    }

    /// The field's arguments as JSON with variables substituted and the schema's defaults
    /// filled in. An argument the schema does not know is recorded as an `Unknown` use.
    fn arguments(
        &self,
        field: &cst::Field,
        definition: Option<&FieldDef>,
        found: &mut Found,
        parent: &str,
        field_name: &str,
    ) -> Result<Map<String, Value>, HttpError> {
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
                self.check_variables(&value, 0)?;
                if let Some(definition) = definition
                    && !definition.args.contains_key(&argument_name)
                {
                    found.add(NestedUse {
                        kind: UseKind::Unknown,
                        path: self.path.join("."),
                        field: format!("{parent}.{field_name}({})", shorten(&argument_name)),
                        reach: Reach::Root,
                    });
                }
                if arguments.contains_key(&argument_name) {
                    return Err(HttpError::InvalidDocument(format!(
                        "argument `{}` is given twice",
                        shorten(&argument_name)
                    )));
                }
                // An argument given an unset variable is absent, as the GraphQL spec says.
                if let Some(value) = to_json(&value, self.variables, 0)? {
                    arguments.insert(argument_name, value);
                }
            }
        }
        if let Some(definition) = definition {
            for (name, argument) in &definition.args {
                if !arguments.contains_key(name)
                    && let Some(default) = argument.default.as_deref()
                {
                    arguments.insert(name.clone(), default_value(default));
                }
            }
        }
        Ok(arguments)
    }

    /// Every variable a value uses must be declared by the operation (GraphQL's "no undefined
    /// variables" rule).
    fn check_variables(&self, value: &cst::Value, depth: usize) -> Result<(), HttpError> {
        if depth > MAX_VALUE_DEPTH {
            return Err(HttpError::TooDeep(MAX_VALUE_DEPTH));
        }
        match value {
            cst::Value::Variable(variable) => {
                let name = variable
                    .name()
                    .map(|name| name.text().to_string())
                    .unwrap_or_default();
                if self.declared.contains(&name) {
                    Ok(())
                } else {
                    Err(HttpError::InvalidDocument(format!(
                        "variable `${}` is not declared by the operation",
                        shorten(&name)
                    )))
                }
            }
            cst::Value::ListValue(list) => list
                .values()
                .try_for_each(|item| self.check_variables(&item, depth + 1)),
            cst::Value::ObjectValue(object) => object.object_fields().try_for_each(|item| {
                item.value()
                    .map_or(Ok(()), |inner| self.check_variables(&inner, depth + 1))
            }),
            _ => Ok(()),
        }
    }
}

/// Fields of an environment-bound record that only identify it (which environment, service,
/// volume or project it belongs to, and its name): metadata, not the environment's data.
pub const IDENTITY_FIELDS: &[&str] = &[
    "environmentId",
    "id",
    "name",
    "projectId",
    "serviceId",
    "serviceName",
    "volumeId",
];

/// The most selections (fields and fragments, at every depth, fragments counted each time
/// they are spread) a document may expand to: bounds the work of documents that spread the
/// same fragment many times.
pub const MAX_SELECTIONS: usize = 10_000;

/// The type an introspection root field returns, if `name` is one.
fn introspection_root(name: &str) -> Option<&'static str> {
    match name {
        "__typename" => Some("String"),
        "__schema" => Some("__Schema"),
        "__type" => Some("__Type"),
        _ => None,
    }
}

fn field_name(field: &cst::Field) -> Result<String, HttpError> {
    field
        .name()
        .map(|name| name.text().to_string())
        .ok_or_else(|| HttpError::InvalidDocument("field without a name".into()))
}

fn condition_type(condition: Option<cst::TypeCondition>) -> Option<String> {
    condition
        .and_then(|condition| condition.named_type())
        .and_then(|named| named.name())
        .map(|name| name.text().to_string())
}

/// A schema default (GraphQL text) as JSON: literals JSON shares, enum names as strings,
/// anything else as the text itself.
fn default_value(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => value,
        Err(_) => Value::String(text.to_owned()),
    }
}

/// Fields that reveal secrets when selected: decrypted configuration and variables, tokens,
/// credentials, integration and identity-provider configuration. (`Environment.variables` is
/// not one: Railway's `Variable` has names, not values.)
///
/// credentials, integration and identity-provider configuration. `Environment.config` reveals
/// them only with `decryptVariables` (true, or anything that is not literally false or null).
pub const SECRET_FIELDS: &[(&str, &str)] = &[
    ("ApiToken", "displayToken"),
    ("BucketS3CompatibleCredentials", "secretAccessKey"),
    ("DeploymentSnapshot", "variables"),
    ("Environment", "config"),
    ("EnvironmentPatch", "patch"),
    ("Integration", "config"),
    ("NotificationChannel", "config"),
    ("Plugin", "variables"),
    ("ProjectToken", "displayToken"),
    ("WorkspaceIdentityProvider", "connection"),
];

fn is_secret_field(parent: &str, field: &str, arguments: &Map<String, Value>) -> bool {
    if !SECRET_FIELDS.contains(&(parent, field)) {
        return false;
    }
    if (parent, field) == ("Environment", "config") {
        return !matches!(
            arguments.get("decryptVariables"),
            None | Some(Value::Null | Value::Bool(false))
        );
    }
    true
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
