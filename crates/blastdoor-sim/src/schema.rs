//! Railway's published schema as a type table: every object, interface, union, enum, scalar and
//! input object with its fields, arguments, input fields and defaults, and the directives, from
//! `data/railway-schema.tsv` (generated from `test_data/railway-cli/schema.json` by
//! `scripts/schema-table.py`; a test checks that it still matches). The simulator validates
//! and executes every request against it, at every depth.
//!
//! [`root_field`] and [`root_fields`] are the older, root-only view of the same table.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

const TABLE: &str = include_str!("../data/railway-schema.tsv");

/// What kind of type a [`TypeDef`] is (`__TypeKind` without the wrappers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TypeKind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

impl TypeKind {
    fn parse(text: &str) -> Option<TypeKind> {
        Some(match text {
            "SCALAR" => TypeKind::Scalar,
            "OBJECT" => TypeKind::Object,
            "INTERFACE" => TypeKind::Interface,
            "UNION" => TypeKind::Union,
            "ENUM" => TypeKind::Enum,
            "INPUT_OBJECT" => TypeKind::InputObject,
            _ => return None,
        })
    }

    /// The introspection name: `OBJECT`, `INPUT_OBJECT`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            TypeKind::Scalar => "SCALAR",
            TypeKind::Object => "OBJECT",
            TypeKind::Interface => "INTERFACE",
            TypeKind::Union => "UNION",
            TypeKind::Enum => "ENUM",
            TypeKind::InputObject => "INPUT_OBJECT",
        }
    }

    /// Objects, interfaces and unions: types that take a selection set.
    pub fn is_composite(self) -> bool {
        matches!(
            self,
            TypeKind::Object | TypeKind::Interface | TypeKind::Union
        )
    }

    /// Scalars and enums: types that end a selection.
    pub fn is_leaf(self) -> bool {
        matches!(self, TypeKind::Scalar | TypeKind::Enum)
    }

    /// Scalars, enums and input objects: types a variable or argument may have.
    pub fn is_input(self) -> bool {
        matches!(
            self,
            TypeKind::Scalar | TypeKind::Enum | TypeKind::InputObject
        )
    }
}

/// A type reference as written in SDL: `String`, `[ID!]`, `Project!`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TypeRef {
    Named(&'static str),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    /// Parses SDL type syntax (`[String!]!`); `None` when it is not a whole type.
    pub fn parse(text: &'static str) -> Option<TypeRef> {
        let (ty, rest) = TypeRef::parse_prefix(text.trim())?;
        rest.is_empty().then_some(ty)
    }

    fn parse_prefix(text: &'static str) -> Option<(TypeRef, &'static str)> {
        let (inner, rest) = if let Some(rest) = text.strip_prefix('[') {
            let (inner, rest) = TypeRef::parse_prefix(rest)?;
            (TypeRef::List(Box::new(inner)), rest.strip_prefix(']')?)
        } else {
            let end = text
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(text.len());
            let (name, rest) = text.split_at(end);
            if name.is_empty() {
                return None;
            }
            (TypeRef::Named(name), rest)
        };
        Some(match rest.strip_prefix('!') {
            Some(rest) => (TypeRef::NonNull(Box::new(inner)), rest),
            None => (inner, rest),
        })
    }

    /// The named type inside the wrappers.
    pub fn named(&self) -> &'static str {
        match self {
            TypeRef::Named(name) => name,
            TypeRef::List(inner) | TypeRef::NonNull(inner) => inner.named(),
        }
    }

    pub fn is_non_null(&self) -> bool {
        matches!(self, TypeRef::NonNull(_))
    }

    /// The type without its outer `!`.
    pub fn nullable(&self) -> &TypeRef {
        match self {
            TypeRef::NonNull(inner) => inner,
            other => other,
        }
    }
}

impl fmt::Display for TypeRef {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeRef::Named(name) => formatter.write_str(name),
            TypeRef::List(inner) => write!(formatter, "[{inner}]"),
            TypeRef::NonNull(inner) => write!(formatter, "{inner}!"),
        }
    }
}

/// An argument, an input field or a directive argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputValueDef {
    pub name: &'static str,
    pub ty: TypeRef,
    /// The default as a GraphQL literal (`false`, `50`, `"No longer supported"`).
    pub default: Option<&'static str>,
}

/// A field of an object or interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    pub name: &'static str,
    pub ty: TypeRef,
    pub arguments: Vec<InputValueDef>,
}

impl FieldDef {
    pub fn argument(&self, name: &str) -> Option<&InputValueDef> {
        self.arguments.iter().find(|argument| argument.name == name)
    }
}

/// A named type of the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDef {
    pub name: &'static str,
    pub kind: TypeKind,
    /// The interfaces an object implements.
    pub interfaces: Vec<&'static str>,
    /// The objects an interface or union may be.
    pub possible_types: Vec<&'static str>,
    /// The fields of an object or interface, in the schema's order.
    pub fields: Vec<FieldDef>,
    /// The fields of an input object.
    pub input_fields: Vec<InputValueDef>,
    /// The values of an enum, in the schema's order.
    pub enum_values: Vec<&'static str>,
}

impl TypeDef {
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|field| field.name == name)
    }

    pub fn input_field(&self, name: &str) -> Option<&InputValueDef> {
        self.input_fields.iter().find(|field| field.name == name)
    }
}

/// A directive the schema declares (`@skip`, `@include`, `@deprecated`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectiveDef {
    pub name: &'static str,
    /// `FIELD`, `FRAGMENT_SPREAD`, ...
    pub locations: Vec<&'static str>,
    pub arguments: Vec<InputValueDef>,
}

/// The whole schema.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schema {
    pub query_type: Option<&'static str>,
    pub mutation_type: Option<&'static str>,
    pub subscription_type: Option<&'static str>,
    types: Vec<TypeDef>,
    index: BTreeMap<&'static str, usize>,
    directives: Vec<DirectiveDef>,
}

impl Schema {
    /// Every named type, in the schema's order.
    pub fn types(&self) -> &[TypeDef] {
        &self.types
    }

    pub fn type_def(&self, name: &str) -> Option<&TypeDef> {
        self.index.get(name).and_then(|&at| self.types.get(at))
    }

    /// The field `name` of the object or interface `type_name`.
    pub fn field(&self, type_name: &str, name: &str) -> Option<&FieldDef> {
        self.type_def(type_name)?.field(name)
    }

    pub fn directives(&self) -> &[DirectiveDef] {
        &self.directives
    }

    pub fn directive(&self, name: &str) -> Option<&DirectiveDef> {
        self.directives
            .iter()
            .find(|directive| directive.name == name)
    }

    /// The object types an object, interface or union type may be at run time.
    pub fn possible_types(&self, type_name: &str) -> Vec<&'static str> {
        match self.type_def(type_name) {
            Some(definition) if definition.kind == TypeKind::Object => vec![definition.name],
            Some(definition) => definition.possible_types.clone(),
            None => Vec::new(),
        }
    }

    /// Whether a value of object type `object` is a `type_name` (itself, an interface it
    /// implements or a union that holds it).
    pub fn is_possible_type(&self, type_name: &str, object: &str) -> bool {
        type_name == object || self.possible_types(type_name).contains(&object)
    }

    fn parse(text: &'static str) -> Schema {
        enum Owner {
            None,
            Type(usize),
            Field(usize, usize),
            Directive(usize),
        }
        let mut schema = Schema::default();
        let mut owner = Owner::None;
        let list = |column: Option<&'static str>| -> Vec<&'static str> {
            column
                .unwrap_or("")
                .split(',')
                .filter(|item| !item.is_empty())
                .collect()
        };
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let mut columns = line.split('\t');
            let Some(tag) = columns.next() else { continue };
            let name = columns.next().unwrap_or("");
            let third = columns.next();
            let fourth = columns.next();
            let value = || {
                Some(InputValueDef {
                    name,
                    ty: TypeRef::parse(third?)?,
                    default: fourth,
                })
            };
            match tag {
                "schema" => {
                    let non_empty = |name: Option<&'static str>| name.filter(|n| !n.is_empty());
                    schema.query_type = non_empty(Some(name));
                    schema.mutation_type = non_empty(third);
                    schema.subscription_type = non_empty(fourth);
                }
                "field" => {
                    let (Owner::Type(at) | Owner::Field(at, _)) = owner else {
                        continue;
                    };
                    let (Some(definition), Some(ty)) =
                        (schema.types.get_mut(at), third.and_then(TypeRef::parse))
                    else {
                        continue;
                    };
                    definition.fields.push(FieldDef {
                        name,
                        ty,
                        arguments: Vec::new(),
                    });
                    owner = Owner::Field(at, definition.fields.len() - 1);
                }
                "argument" => {
                    let Some(argument) = value() else { continue };
                    let arguments = match owner {
                        Owner::Field(at, field) => schema
                            .types
                            .get_mut(at)
                            .and_then(|definition| definition.fields.get_mut(field))
                            .map(|field| &mut field.arguments),
                        Owner::Directive(at) => schema
                            .directives
                            .get_mut(at)
                            .map(|directive| &mut directive.arguments),
                        _ => None,
                    };
                    if let Some(arguments) = arguments {
                        arguments.push(argument);
                    }
                }
                "input" => {
                    let (Owner::Type(at), Some(input)) = (&owner, value()) else {
                        continue;
                    };
                    if let Some(definition) = schema.types.get_mut(*at) {
                        definition.input_fields.push(input);
                    }
                }
                "DIRECTIVE" => {
                    schema.directives.push(DirectiveDef {
                        name,
                        locations: list(third),
                        arguments: Vec::new(),
                    });
                    owner = Owner::Directive(schema.directives.len() - 1);
                }
                kind => {
                    let Some(kind) = TypeKind::parse(kind) else {
                        continue;
                    };
                    let listed = list(third);
                    let mut definition = TypeDef {
                        name,
                        kind,
                        interfaces: Vec::new(),
                        possible_types: Vec::new(),
                        fields: Vec::new(),
                        input_fields: Vec::new(),
                        enum_values: Vec::new(),
                    };
                    match kind {
                        TypeKind::Object => definition.interfaces = listed,
                        TypeKind::Interface | TypeKind::Union => {
                            definition.possible_types = listed;
                        }
                        TypeKind::Enum => definition.enum_values = listed,
                        TypeKind::Scalar | TypeKind::InputObject => {}
                    }
                    schema.index.insert(name, schema.types.len());
                    schema.types.push(definition);
                    owner = Owner::Type(schema.types.len() - 1);
                }
            }
        }
        schema
    }
}

/// Railway's schema, parsed once.
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| Schema::parse(TABLE))
}

/// One root field of the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootField {
    /// `Query`, `Mutation` or `Subscription`.
    pub root_type: &'static str,
    pub name: &'static str,
    /// Argument names with whether each is required (non-null without a default).
    pub arguments: Vec<(&'static str, bool)>,
    /// The return type as written in SDL (`Boolean!`, `[VolumeInstanceBackup!]!`).
    pub returns: String,
}

type RootTable = BTreeMap<&'static str, BTreeMap<&'static str, RootField>>;

fn root_table() -> &'static RootTable {
    static TABLE: OnceLock<RootTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let schema = schema();
        let mut table = RootTable::new();
        for root_type in [
            schema.query_type,
            schema.mutation_type,
            schema.subscription_type,
        ]
        .into_iter()
        .flatten()
        {
            let Some(definition) = schema.type_def(root_type) else {
                continue;
            };
            for field in &definition.fields {
                let arguments = field
                    .arguments
                    .iter()
                    .map(|argument| {
                        (
                            argument.name,
                            argument.ty.is_non_null() && argument.default.is_none(),
                        )
                    })
                    .collect();
                table.entry(definition.name).or_default().insert(
                    field.name,
                    RootField {
                        root_type: definition.name,
                        name: field.name,
                        arguments,
                        returns: field.ty.to_string(),
                    },
                );
            }
        }
        table
    })
}

/// The root field `name` of `root_type`, if the schema has it.
pub fn root_field(root_type: &str, name: &str) -> Option<&'static RootField> {
    root_table().get(root_type)?.get(name)
}

/// Every root field of `root_type`, sorted by name.
pub fn root_fields(root_type: &str) -> Vec<&'static RootField> {
    root_table()
        .get(root_type)
        .map(|fields| fields.values().collect())
        .unwrap_or_default()
}
