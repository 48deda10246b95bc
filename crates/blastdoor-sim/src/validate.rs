//! Validates a whole document against the schema, as a GraphQL server does before it executes
//! anything: every field at every depth exists on its parent type, leaf fields have no
//! selection and composite fields have one, arguments and input-object fields are known,
//! unique, present when required and of the right type (scalars, enums, lists, non-null),
//! directives are known and in their place, fragments are known, used, acyclic and can apply
//! where they are spread, variables are defined, used, of input types and allowed where they
//! are used, and fields under one response key can be merged. Messages follow graphql-js's
//! wording (without its "Did you mean" suggestions); every error found is reported.

use std::collections::{BTreeMap, BTreeSet};

use crate::graphql::{
    Directive, DocType, Document, Field, Literal, OperationDef, OperationKind, Selection,
};
use crate::schema::{Schema, TypeDef, TypeKind, TypeRef};

/// The most fields the overlap check expands, fragments included, over a whole document.
const MAX_EXPANDED: usize = 100_000;

/// Every validation error of `document`, in the order found, each once.
pub(crate) fn validate(document: &Document, schema: &'static Schema) -> Vec<String> {
    let mut validator = Validator {
        schema,
        document,
        errors: Vec::new(),
        budget: std::cell::Cell::new(MAX_EXPANDED),
    };
    validator.document();
    let mut seen = BTreeSet::new();
    validator
        .errors
        .into_iter()
        .filter(|error| seen.insert(error.clone()))
        .collect()
}

/// Converts a document's type to the schema's, if every name in it is a type of the schema.
pub(crate) fn schema_type(schema: &'static Schema, ty: &DocType) -> Option<TypeRef> {
    Some(match ty {
        DocType::Named(name) => TypeRef::Named(schema.type_def(name)?.name),
        DocType::List(inner) => TypeRef::List(Box::new(schema_type(schema, inner)?)),
        DocType::NonNull(inner) => TypeRef::NonNull(Box::new(schema_type(schema, inner)?)),
    })
}

/// The root type of an operation kind.
pub(crate) fn root_type(schema: &'static Schema, kind: OperationKind) -> Option<&'static TypeDef> {
    let name = match kind {
        OperationKind::Query => schema.query_type,
        OperationKind::Mutation => schema.mutation_type,
        OperationKind::Subscription => schema.subscription_type,
    }?;
    schema.type_def(name)
}

/// A variable used somewhere, with the type expected where it is used (none inside a custom
/// scalar's literal) and whether that place has a default.
#[derive(Debug, Clone)]
struct Usage {
    name: String,
    expected: Option<TypeRef>,
    location_default: bool,
}

/// What one definition's selections use: variables and fragment spreads.
#[derive(Debug, Default)]
struct Uses {
    variables: Vec<Usage>,
    spreads: Vec<String>,
}

struct Validator<'a> {
    schema: &'static Schema,
    document: &'a Document,
    errors: Vec<String>,
    /// How many more fields the overlap check may expand.
    budget: std::cell::Cell<usize>,
}

impl<'a> Validator<'a> {
    fn error(&mut self, message: String) {
        self.errors.push(message);
    }

    fn document(&mut self) {
        let document = self.document;
        let mut names = BTreeSet::new();
        for operation in &document.operations {
            if let Some(name) = &operation.name
                && !names.insert(name.clone())
            {
                self.error(format!("There can be only one operation named \"{name}\"."));
            }
            if operation.name.is_none() && document.operations.len() > 1 {
                self.error("This anonymous operation must be the only defined operation.".into());
            }
        }
        let mut fragment_names = BTreeSet::new();
        let mut fragment_uses = BTreeMap::new();
        for fragment in &document.fragments {
            if !fragment_names.insert(fragment.name.clone()) {
                self.error(format!(
                    "There can be only one fragment named \"{}\".",
                    fragment.name
                ));
            }
            let mut uses = Uses::default();
            self.directives(&fragment.directives, "FRAGMENT_DEFINITION", &mut uses);
            match self.schema.type_def(&fragment.type_condition) {
                None => self.error(format!("Unknown type \"{}\".", fragment.type_condition)),
                Some(definition) if !definition.kind.is_composite() => self.error(format!(
                    "Fragment \"{}\" cannot condition on non composite type \"{}\".",
                    fragment.name, fragment.type_condition
                )),
                Some(definition) => {
                    self.selection_set(definition, &fragment.selections, &mut uses);
                }
            }
            fragment_uses.entry(fragment.name.as_str()).or_insert(uses);
        }
        self.fragment_cycles(&fragment_uses);

        let mut used_fragments = BTreeSet::new();
        for operation in &document.operations {
            let mut uses = Uses::default();
            self.operation(operation, &mut uses);
            // Every fragment the operation reaches, and the variables they use.
            let mut reached = BTreeSet::new();
            let mut pending = uses.spreads.clone();
            while let Some(name) = pending.pop() {
                if !reached.insert(name.clone()) {
                    continue;
                }
                if let Some(inner) = fragment_uses.get(name.as_str()) {
                    pending.extend(inner.spreads.iter().cloned());
                    uses.variables.extend(inner.variables.iter().cloned());
                }
            }
            self.operation_variables(operation, &uses.variables);
            used_fragments.extend(reached);
            if let Some(root) = root_type(self.schema, operation.kind) {
                let fields = self.expand(root.name, &operation.selections);
                self.overlaps(fields, 0);
            }
        }
        for fragment in &document.fragments {
            if !used_fragments.contains(&fragment.name) {
                self.error(format!("Fragment \"{}\" is never used.", fragment.name));
            }
        }
    }

    fn operation(&mut self, operation: &'a OperationDef, uses: &mut Uses) {
        let location = match operation.kind {
            OperationKind::Query => "QUERY",
            OperationKind::Mutation => "MUTATION",
            OperationKind::Subscription => "SUBSCRIPTION",
        };
        self.directives(&operation.directives, location, uses);
        let mut names = BTreeSet::new();
        for variable in &operation.variables {
            if !names.insert(variable.name.clone()) {
                self.error(format!(
                    "There can be only one variable named \"${}\".",
                    variable.name
                ));
            }
            let mut default_uses = Uses::default();
            self.directives(
                &variable.directives,
                "VARIABLE_DEFINITION",
                &mut default_uses,
            );
            let named = variable.ty.named();
            match self.schema.type_def(named) {
                None => self.error(format!("Unknown type \"{named}\".")),
                Some(definition) if !definition.kind.is_input() => self.error(format!(
                    "Variable \"${}\" cannot be non-input type \"{}\".",
                    variable.name, variable.ty
                )),
                Some(_) => {
                    if let (Some(default), Some(ty)) =
                        (&variable.default, schema_type(self.schema, &variable.ty))
                    {
                        let mut default_uses = Uses::default();
                        self.literal(default, &ty, &mut default_uses);
                        for usage in default_uses.variables {
                            self.error(format!(
                                "Variable \"${}\" is not allowed in a default value.",
                                usage.name
                            ));
                        }
                    }
                }
            }
        }
        let Some(root) = root_type(self.schema, operation.kind) else {
            self.error(format!(
                "Schema is not configured to execute {} operation.",
                operation.kind.keyword()
            ));
            return;
        };
        if operation.kind == OperationKind::Subscription {
            let fields = self.expand(root.name, &operation.selections);
            let keys: BTreeSet<&str> = fields.iter().map(|(_, field)| field.key()).collect();
            if keys.len() != 1 {
                self.error(match &operation.name {
                    Some(name) => {
                        format!("Subscription \"{name}\" must select only one top level field.")
                    }
                    None => "Anonymous Subscription must select only one top level field.".into(),
                });
            }
        }
        self.selection_set(root, &operation.selections, uses);
    }

    fn operation_variables(&mut self, operation: &OperationDef, usages: &[Usage]) {
        for usage in usages {
            let Some(definition) = operation
                .variables
                .iter()
                .find(|variable| variable.name == usage.name)
            else {
                self.error(match &operation.name {
                    Some(name) => format!(
                        "Variable \"${}\" is not defined by operation \"{name}\".",
                        usage.name
                    ),
                    None => format!("Variable \"${}\" is not defined.", usage.name),
                });
                continue;
            };
            let (Some(expected), Some(declared)) =
                (&usage.expected, schema_type(self.schema, &definition.ty))
            else {
                continue;
            };
            let has_default = definition
                .default
                .as_ref()
                .is_some_and(|default| *default != Literal::Null);
            let effective = if expected.is_non_null()
                && !declared.is_non_null()
                && (has_default || usage.location_default)
            {
                TypeRef::NonNull(Box::new(declared.clone()))
            } else {
                declared.clone()
            };
            if !is_subtype(&effective, expected) {
                self.error(format!(
                    "Variable \"${}\" of type \"{}\" used in position expecting type \"{expected}\".",
                    usage.name, definition.ty
                ));
            }
        }
        for variable in &operation.variables {
            if !usages.iter().any(|usage| usage.name == variable.name) {
                self.error(match &operation.name {
                    Some(name) => format!(
                        "Variable \"${}\" is never used in operation \"{name}\".",
                        variable.name
                    ),
                    None => format!("Variable \"${}\" is never used.", variable.name),
                });
            }
        }
    }

    fn fragment_cycles(&mut self, uses: &BTreeMap<&str, Uses>) {
        let mut reported = BTreeSet::new();
        for start in uses.keys() {
            // Depth-first from `start`, looking for a way back to it.
            let mut stack: Vec<(String, Vec<String>)> = vec![(start.to_string(), Vec::new())];
            let mut visited = BTreeSet::new();
            while let Some((name, path)) = stack.pop() {
                let Some(inner) = uses.get(name.as_str()) else {
                    continue;
                };
                for spread in &inner.spreads {
                    if spread == start {
                        if reported.insert(start.to_string()) {
                            self.error(if path.is_empty() && name == *start {
                                format!("Cannot spread fragment \"{start}\" within itself.")
                            } else {
                                let mut via = path.clone();
                                via.push(name.clone());
                                via.retain(|step| step != start);
                                let via: Vec<String> =
                                    via.iter().map(|step| format!("\"{step}\"")).collect();
                                format!(
                                    "Cannot spread fragment \"{start}\" within itself via {}.",
                                    via.join(", ")
                                )
                            });
                        }
                    } else if visited.insert(spread.clone()) {
                        let mut next = path.clone();
                        if name != *start {
                            next.push(name.clone());
                        }
                        stack.push((spread.clone(), next));
                    }
                }
            }
        }
    }

    fn directives(&mut self, directives: &[Directive], location: &str, uses: &mut Uses) {
        let mut seen = BTreeSet::new();
        for directive in directives {
            let Some(definition) = self.schema.directive(&directive.name) else {
                self.error(format!("Unknown directive \"@{}\".", directive.name));
                continue;
            };
            if !definition.locations.contains(&location) {
                self.error(format!(
                    "Directive \"@{}\" may not be used on {location}.",
                    directive.name
                ));
            }
            if !seen.insert(directive.name.as_str()) {
                self.error(format!(
                    "The directive \"@{}\" can only be used once at this location.",
                    directive.name
                ));
            }
            let mut names = BTreeSet::new();
            for (name, value) in &directive.arguments {
                if !names.insert(name.as_str()) {
                    self.error(format!("There can be only one argument named \"{name}\"."));
                }
                match definition
                    .arguments
                    .iter()
                    .find(|argument| argument.name == name)
                {
                    None => self.error(format!(
                        "Unknown argument \"{name}\" on directive \"@{}\".",
                        directive.name
                    )),
                    Some(argument) => {
                        self.value_at(value, &argument.ty, argument.default.is_some(), uses)
                    }
                }
            }
            for argument in &definition.arguments {
                if argument.ty.is_non_null()
                    && argument.default.is_none()
                    && !directive
                        .arguments
                        .iter()
                        .any(|(name, _)| name == argument.name)
                {
                    self.error(format!(
                        "Directive \"@{}\" argument \"{}\" of type \"{}\" is required, but it was not provided.",
                        directive.name, argument.name, argument.ty
                    ));
                }
            }
        }
    }

    fn selection_set(
        &mut self,
        parent: &'static TypeDef,
        selections: &[Selection],
        uses: &mut Uses,
    ) {
        for selection in selections {
            match selection {
                Selection::Field(field) => self.field(parent, field, uses),
                Selection::Inline(fragment) => {
                    self.directives(&fragment.directives, "INLINE_FRAGMENT", uses);
                    let target = match &fragment.type_condition {
                        None => parent,
                        Some(condition) => match self.schema.type_def(condition) {
                            None => {
                                self.error(format!("Unknown type \"{condition}\"."));
                                continue;
                            }
                            Some(definition) if !definition.kind.is_composite() => {
                                self.error(format!(
                                    "Fragment cannot condition on non composite type \"{condition}\"."
                                ));
                                continue;
                            }
                            Some(definition) => {
                                if !self.overlap(parent.name, definition.name) {
                                    self.error(format!(
                                        "Fragment cannot be spread here as objects of type \"{}\" can never be of type \"{}\".",
                                        parent.name, definition.name
                                    ));
                                }
                                definition
                            }
                        },
                    };
                    self.selection_set(target, &fragment.selections, uses);
                }
                Selection::Spread(spread) => {
                    self.directives(&spread.directives, "FRAGMENT_SPREAD", uses);
                    uses.spreads.push(spread.name.clone());
                    let Some(fragment) = self.document.fragment(&spread.name) else {
                        self.error(format!("Unknown fragment \"{}\".", spread.name));
                        continue;
                    };
                    if let Some(condition) = self.schema.type_def(&fragment.type_condition)
                        && condition.kind.is_composite()
                        && !self.overlap(parent.name, condition.name)
                    {
                        self.error(format!(
                            "Fragment \"{}\" cannot be spread here as objects of type \"{}\" can never be of type \"{}\".",
                            spread.name, parent.name, condition.name
                        ));
                    }
                }
            }
        }
    }

    /// Whether some object type is both a `left` and a `right`.
    fn overlap(&self, left: &str, right: &str) -> bool {
        let right = self.schema.possible_types(right);
        self.schema
            .possible_types(left)
            .iter()
            .any(|object| right.contains(object))
    }

    fn field(&mut self, parent: &'static TypeDef, field: &Field, uses: &mut Uses) {
        self.directives(&field.directives, "FIELD", uses);
        let Some((parent_name, name, ty, arguments)) = field_def(self.schema, parent, &field.name)
        else {
            self.error(format!(
                "Cannot query field \"{}\" on type \"{}\".",
                field.name, parent.name
            ));
            return;
        };
        let mut names = BTreeSet::new();
        for (argument_name, value) in &field.arguments {
            if !names.insert(argument_name.as_str()) {
                self.error(format!(
                    "There can be only one argument named \"{argument_name}\"."
                ));
            }
            match arguments
                .iter()
                .find(|argument| argument.name == argument_name)
            {
                None => self.error(format!(
                    "Unknown argument \"{argument_name}\" on field \"{parent_name}.{name}\"."
                )),
                Some(argument) => {
                    self.value_at(value, &argument.ty, argument.default.is_some(), uses);
                }
            }
        }
        for argument in arguments {
            if argument.ty.is_non_null()
                && argument.default.is_none()
                && !field
                    .arguments
                    .iter()
                    .any(|(name, _)| name == argument.name)
            {
                self.error(format!(
                    "Field \"{name}\" argument \"{}\" of type \"{}\" is required, but it was not provided.",
                    argument.name, argument.ty
                ));
            }
        }
        let Some(returns) = self.schema.type_def(ty.named()) else {
            return;
        };
        if returns.kind.is_leaf() {
            if !field.selections.is_empty() {
                self.error(format!(
                    "Field \"{name}\" must not have a selection since type \"{ty}\" has no subfields."
                ));
            }
        } else if field.selections.is_empty() {
            self.error(format!(
                "Field \"{name}\" of type \"{ty}\" must have a selection of subfields. Did you mean \"{name} {{ ... }}\"?"
            ));
        } else {
            self.selection_set(returns, &field.selections, uses);
        }
    }

    /// Validates a value where `expected` is wanted, recording the variables it uses.
    fn value_at(
        &mut self,
        value: &Literal,
        expected: &TypeRef,
        location_default: bool,
        uses: &mut Uses,
    ) {
        if let Literal::Variable(name) = value {
            uses.variables.push(Usage {
                name: name.clone(),
                expected: Some(expected.clone()),
                location_default,
            });
            return;
        }
        self.literal(value, expected, uses);
    }

    fn literal(&mut self, value: &Literal, expected: &TypeRef, uses: &mut Uses) {
        match (expected, value) {
            (_, Literal::Variable(_)) => self.value_at(value, expected, false, uses),
            (TypeRef::NonNull(_), Literal::Null) => {
                self.error(format!(
                    "Expected value of type \"{expected}\", found null."
                ));
            }
            (TypeRef::NonNull(inner), _) => self.literal(value, inner, uses),
            (_, Literal::Null) => {}
            (TypeRef::List(inner), Literal::List(items)) => {
                for item in items {
                    self.value_at(item, inner, false, uses);
                }
            }
            (TypeRef::List(inner), _) => self.literal(value, inner, uses),
            (TypeRef::Named(name), _) => {
                let Some(definition) = self.schema.type_def(name) else {
                    return;
                };
                match definition.kind {
                    TypeKind::InputObject => self.input_object(definition, value, uses),
                    TypeKind::Enum => match value {
                        Literal::Enum(item) if definition.enum_values.contains(&item.as_str()) => {}
                        Literal::Enum(item) => self.error(format!(
                            "Value \"{item}\" does not exist in \"{name}\" enum."
                        )),
                        other => self.error(format!(
                            "Enum \"{name}\" cannot represent non-enum value: {other}."
                        )),
                    },
                    TypeKind::Scalar => {
                        if let Err(reason) = scalar_literal(name, value) {
                            self.error(reason);
                        }
                        record_nested_variables(value, uses);
                    }
                    _ => self.error(format!(
                        "Expected value of type \"{expected}\", found {value}."
                    )),
                }
            }
        }
    }

    fn input_object(&mut self, definition: &'static TypeDef, value: &Literal, uses: &mut Uses) {
        let Literal::Object(fields) = value else {
            self.error(format!(
                "Expected value of type \"{}\", found {value}.",
                definition.name
            ));
            return;
        };
        let mut names = BTreeSet::new();
        for (name, inner) in fields {
            if !names.insert(name.as_str()) {
                self.error(format!(
                    "There can be only one input field named \"{name}\"."
                ));
            }
            match definition.input_field(name) {
                None => self.error(format!(
                    "Field \"{name}\" is not defined by type \"{}\".",
                    definition.name
                )),
                Some(input) => self.value_at(inner, &input.ty, input.default.is_some(), uses),
            }
        }
        for input in &definition.input_fields {
            if input.ty.is_non_null()
                && input.default.is_none()
                && !fields.iter().any(|(name, _)| name == input.name)
            {
                self.error(format!(
                    "Field \"{}.{}\" of required type \"{}\" was not provided.",
                    definition.name, input.name, input.ty
                ));
            }
        }
    }

    /// Every field selected under `parent` with fragments expanded: (parent type, field).
    fn expand(
        &self,
        parent: &'static str,
        selections: &'a [Selection],
    ) -> Vec<(&'static str, &'a Field)> {
        let mut fields = Vec::new();
        let mut visited = BTreeSet::new();
        self.expand_into(parent, selections, &mut visited, &mut fields);
        fields
    }

    fn expand_into(
        &self,
        parent: &'static str,
        selections: &'a [Selection],
        visited: &mut BTreeSet<&'a str>,
        fields: &mut Vec<(&'static str, &'a Field)>,
    ) {
        for selection in selections {
            match selection {
                Selection::Field(field) => {
                    let Some(left) = self.budget.get().checked_sub(1) else {
                        return;
                    };
                    self.budget.set(left);
                    fields.push((parent, field));
                }
                Selection::Inline(fragment) => {
                    let target = fragment
                        .type_condition
                        .as_deref()
                        .and_then(|name| self.schema.type_def(name))
                        .map_or(parent, |definition| definition.name);
                    self.expand_into(target, &fragment.selections, visited, fields);
                }
                Selection::Spread(spread) => {
                    let document: &'a Document = self.document;
                    let Some(fragment) = document.fragment(&spread.name) else {
                        continue;
                    };
                    // A fragment spread twice in one selection set adds the same fields twice.
                    if !visited.insert(&fragment.name) {
                        continue;
                    }
                    let target = self
                        .schema
                        .type_def(&fragment.type_condition)
                        .map_or(parent, |definition| definition.name);
                    self.expand_into(target, &fragment.selections, visited, fields);
                }
            }
        }
    }

    /// Fields under one response key must be one field with one set of arguments, unless
    /// their parents can never be the same object; and must return compatible shapes.
    fn overlaps(&mut self, fields: Vec<(&'static str, &'a Field)>, depth: usize) {
        if self.budget.get() == 0 {
            self.error("The query is too large.".into());
            return;
        }
        if depth > crate::graphql::MAX_DEPTH {
            return;
        }
        let mut by_key: BTreeMap<&'a str, Vec<(&'static str, &'a Field)>> = BTreeMap::new();
        for (parent, field) in &fields {
            by_key.entry(field.key()).or_default().push((parent, field));
        }
        for (key, group) in by_key {
            let Some(&(first_parent, first)) = group.first() else {
                continue;
            };
            let first_type = self.return_type(first_parent, &first.name);
            for &(parent, other) in group.iter().skip(1) {
                let exclusive = parent != first_parent
                    && self.is_object(parent)
                    && self.is_object(first_parent);
                if !exclusive {
                    if other.name != first.name {
                        self.error(format!(
                            "Fields \"{key}\" conflict because \"{}\" and \"{}\" are different fields. Use different aliases on the fields to fetch both if this was intentional.",
                            first.name, other.name
                        ));
                        continue;
                    }
                    if !same_arguments(&first.arguments, &other.arguments) {
                        self.error(format!(
                            "Fields \"{key}\" conflict because they have differing arguments. Use different aliases on the fields to fetch both if this was intentional."
                        ));
                        continue;
                    }
                }
                let other_type = self.return_type(parent, &other.name);
                if let (Some(left), Some(right)) = (&first_type, &other_type)
                    && !self.same_shape(left, right)
                {
                    self.error(format!(
                        "Fields \"{key}\" conflict because they return conflicting types \"{left}\" and \"{right}\". Use different aliases on the fields to fetch both if this was intentional."
                    ));
                }
            }
            // The (merged) sub-selections must merge too.
            let mut children = Vec::new();
            for &(parent, field) in &group {
                let Some(returns) = self.return_type(parent, &field.name) else {
                    continue;
                };
                if let Some(definition) = self.schema.type_def(returns.named()) {
                    children.extend(self.expand(definition.name, &field.selections));
                }
            }
            if !children.is_empty() {
                self.overlaps(children, depth + 1);
            }
        }
    }

    fn is_object(&self, name: &str) -> bool {
        self.schema
            .type_def(name)
            .is_some_and(|definition| definition.kind == TypeKind::Object)
    }

    fn return_type(&self, parent: &str, name: &str) -> Option<TypeRef> {
        let definition = self.schema.type_def(parent)?;
        field_def(self.schema, definition, name).map(|(_, _, ty, _)| ty)
    }

    fn same_shape(&self, left: &TypeRef, right: &TypeRef) -> bool {
        match (left, right) {
            (TypeRef::NonNull(left), TypeRef::NonNull(right))
            | (TypeRef::List(left), TypeRef::List(right)) => self.same_shape(left, right),
            (TypeRef::Named(left), TypeRef::Named(right)) => {
                let leaf = |name: &str| {
                    self.schema
                        .type_def(name)
                        .is_some_and(|definition| definition.kind.is_leaf())
                };
                if leaf(left) || leaf(right) {
                    left == right
                } else {
                    true
                }
            }
            _ => false,
        }
    }
}

static NO_ARGUMENTS: [crate::schema::InputValueDef; 0] = [];

/// The definition of `name` on `parent` (meta-fields included): parent name, field name,
/// type and arguments.
pub(crate) fn field_def(
    schema: &'static Schema,
    parent: &'static TypeDef,
    name: &str,
) -> Option<(
    &'static str,
    &'static str,
    TypeRef,
    &'static [crate::schema::InputValueDef],
)> {
    if name == "__typename" && parent.kind.is_composite() {
        return Some((
            parent.name,
            "__typename",
            TypeRef::NonNull(Box::new(TypeRef::Named("String"))),
            &NO_ARGUMENTS,
        ));
    }
    if Some(parent.name) == schema.query_type {
        if name == "__schema" {
            return Some((
                parent.name,
                "__schema",
                TypeRef::NonNull(Box::new(TypeRef::Named("__Schema"))),
                &NO_ARGUMENTS,
            ));
        }
        if name == "__type" {
            static TYPE_ARGUMENTS: std::sync::OnceLock<[crate::schema::InputValueDef; 1]> =
                std::sync::OnceLock::new();
            let arguments = TYPE_ARGUMENTS.get_or_init(|| {
                [crate::schema::InputValueDef {
                    name: "name",
                    ty: TypeRef::NonNull(Box::new(TypeRef::Named("String"))),
                    default: None,
                }]
            });
            return Some((
                parent.name,
                "__type",
                TypeRef::Named("__Type"),
                arguments.as_slice(),
            ));
        }
    }
    let field = parent.field(name)?;
    Some((parent.name, field.name, field.ty.clone(), &field.arguments))
}

fn same_arguments(left: &[(String, Literal)], right: &[(String, Literal)]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .all(|(name, value)| crate::graphql::lookup(right, name) == Some(value))
}

/// Variables inside a custom scalar's literal (`{a: $x}` for `JSON`): used, of no known type.
fn record_nested_variables(value: &Literal, uses: &mut Uses) {
    match value {
        Literal::Variable(name) => uses.variables.push(Usage {
            name: name.clone(),
            expected: None,
            location_default: false,
        }),
        Literal::List(items) => {
            for item in items {
                record_nested_variables(item, uses);
            }
        }
        Literal::Object(fields) => {
            for (_, inner) in fields {
                record_nested_variables(inner, uses);
            }
        }
        _ => {}
    }
}

/// Whether a literal (not a variable, not null) is a valid `scalar`; the graphql-js message
/// when it is not. Custom scalars take any literal.
pub(crate) fn scalar_literal(scalar: &str, value: &Literal) -> Result<(), String> {
    match (scalar, value) {
        ("Int", Literal::Int(text)) => text
            .parse::<i32>()
            .map(|_| ())
            .map_err(|_| format!("Int cannot represent non 32-bit signed integer value: {value}")),
        ("Int", _) => Err(format!("Int cannot represent non-integer value: {value}")),
        ("Float", Literal::Int(_) | Literal::Float(_))
        | ("String", Literal::String(_))
        | ("Boolean", Literal::Boolean(_))
        | ("ID", Literal::String(_) | Literal::Int(_)) => Ok(()),
        ("Float", _) => Err(format!("Float cannot represent non numeric value: {value}")),
        ("String", _) => Err(format!(
            "String cannot represent a non string value: {value}"
        )),
        ("Boolean", _) => Err(format!(
            "Boolean cannot represent a non boolean value: {value}"
        )),
        ("ID", _) => Err(format!(
            "ID cannot represent a non-string and non-integer value: {value}"
        )),
        _ => Ok(()),
    }
}

/// Whether a value of type `sub` may be used where `expected` is wanted.
fn is_subtype(sub: &TypeRef, expected: &TypeRef) -> bool {
    match (sub, expected) {
        (TypeRef::NonNull(sub), TypeRef::NonNull(expected)) => is_subtype(sub, expected),
        (TypeRef::NonNull(sub), expected) => is_subtype(sub, expected),
        (_, TypeRef::NonNull(_)) => false,
        (TypeRef::List(sub), TypeRef::List(expected)) => is_subtype(sub, expected),
        (_, TypeRef::List(_)) | (TypeRef::List(_), _) => false,
        (TypeRef::Named(sub), TypeRef::Named(expected)) => sub == expected,
    }
}
