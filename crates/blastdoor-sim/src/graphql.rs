//! Reads a GraphQL document the way a server does: `apollo-parser`'s syntax tree turned into
//! the simulator's own owned tree (operations, fragments, selections with aliases, arguments
//! and directives, variable definitions, literals with strings unescaped). Validation is in
//! `validate`, execution in `execute`.
//!
//! This is the simulator's own reading of GraphQL, independent of `blastdoor-http`'s: a test
//! peer must not share the code it tests.

use std::fmt;

use apollo_parser::cst::{self, CstNode};

use crate::SimError;

/// The deepest a document may nest (selections, lists, objects, types).
pub(crate) const MAX_DEPTH: usize = 64;
/// The most selections a document may contain as written.
const MAX_SELECTIONS: usize = 10_000;

/// A whole document: its operations and fragments, in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Document {
    pub(crate) operations: Vec<OperationDef>,
    pub(crate) fragments: Vec<FragmentDef>,
}

impl Document {
    pub(crate) fn fragment(&self, name: &str) -> Option<&FragmentDef> {
        self.fragments.iter().find(|fragment| fragment.name == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OperationKind {
    Query,
    Mutation,
    Subscription,
}

impl OperationKind {
    /// `query`, `mutation`, `subscription`.
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            OperationKind::Query => "query",
            OperationKind::Mutation => "mutation",
            OperationKind::Subscription => "subscription",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OperationDef {
    pub(crate) kind: OperationKind,
    pub(crate) name: Option<String>,
    pub(crate) variables: Vec<VariableDef>,
    pub(crate) directives: Vec<Directive>,
    pub(crate) selections: Vec<Selection>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VariableDef {
    pub(crate) name: String,
    pub(crate) ty: DocType,
    pub(crate) default: Option<Literal>,
    pub(crate) directives: Vec<Directive>,
}

/// A type as a document writes it (names not yet looked up in the schema).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DocType {
    Named(String),
    List(Box<DocType>),
    NonNull(Box<DocType>),
}

impl fmt::Display for DocType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocType::Named(name) => formatter.write_str(name),
            DocType::List(inner) => write!(formatter, "[{inner}]"),
            DocType::NonNull(inner) => write!(formatter, "{inner}!"),
        }
    }
}

impl DocType {
    pub(crate) fn named(&self) -> &str {
        match self {
            DocType::Named(name) => name,
            DocType::List(inner) | DocType::NonNull(inner) => inner.named(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FragmentDef {
    pub(crate) name: String,
    pub(crate) type_condition: String,
    pub(crate) directives: Vec<Directive>,
    pub(crate) selections: Vec<Selection>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Selection {
    Field(Field),
    Spread(Spread),
    Inline(InlineFragment),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    pub(crate) alias: Option<String>,
    pub(crate) name: String,
    pub(crate) arguments: Vec<(String, Literal)>,
    pub(crate) directives: Vec<Directive>,
    pub(crate) selections: Vec<Selection>,
}

impl Field {
    /// The key in the response: the alias if any, else the name.
    pub(crate) fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }

    pub(crate) fn argument(&self, name: &str) -> Option<&Literal> {
        lookup(&self.arguments, name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spread {
    pub(crate) name: String,
    pub(crate) directives: Vec<Directive>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InlineFragment {
    pub(crate) type_condition: Option<String>,
    pub(crate) directives: Vec<Directive>,
    pub(crate) selections: Vec<Selection>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Directive {
    pub(crate) name: String,
    pub(crate) arguments: Vec<(String, Literal)>,
}

/// A value as written in the document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Variable(String),
    /// The digits as written (they may not fit any integer type).
    Int(String),
    Float(String),
    String(String),
    Boolean(bool),
    Null,
    Enum(String),
    List(Vec<Literal>),
    Object(Vec<(String, Literal)>),
}

/// The value of `name` in an argument or object-field list.
pub(crate) fn lookup<'a>(pairs: &'a [(String, Literal)], name: &str) -> Option<&'a Literal> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

impl fmt::Display for Literal {
    /// GraphQL syntax, as graphql-js prints a value in its messages.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Variable(name) => write!(formatter, "${name}"),
            Literal::Int(text) | Literal::Float(text) | Literal::Enum(text) => {
                formatter.write_str(text)
            }
            Literal::String(text) => {
                formatter.write_str(&serde_json::Value::String(text.clone()).to_string())
            }
            Literal::Boolean(value) => write!(formatter, "{value}"),
            Literal::Null => formatter.write_str("null"),
            Literal::List(items) => {
                formatter.write_str("[")?;
                for (at, item) in items.iter().enumerate() {
                    if at > 0 {
                        formatter.write_str(", ")?;
                    }
                    write!(formatter, "{item}")?;
                }
                formatter.write_str("]")
            }
            Literal::Object(fields) => {
                formatter.write_str("{")?;
                for (at, (name, value)) in fields.iter().enumerate() {
                    if at > 0 {
                        formatter.write_str(", ")?;
                    }
                    write!(formatter, "{name}: {value}")?;
                }
                formatter.write_str("}")
            }
        }
    }
}

fn syntax(message: &str) -> SimError {
    SimError::Syntax(format!("Syntax Error: {message}"))
}

fn name_of(name: Option<cst::Name>) -> Result<String, SimError> {
    name.map(|name| name.text().to_string())
        .ok_or_else(|| syntax("Expected Name."))
}

/// Parses `query` into a [`Document`]; a document with any syntax error is refused whole.
pub(crate) fn parse_document(query: &str) -> Result<Document, SimError> {
    let tree = apollo_parser::Parser::new(query)
        .recursion_limit(MAX_DEPTH)
        .token_limit(100_000)
        .parse();
    if let Some(error) = tree.errors().next() {
        return Err(syntax(error.message()));
    }
    let mut reader = Reader { selections: 0 };
    let mut document = Document {
        operations: Vec::new(),
        fragments: Vec::new(),
    };
    for definition in tree.document().definitions() {
        match definition {
            cst::Definition::OperationDefinition(operation) => {
                document.operations.push(reader.operation(&operation)?);
            }
            cst::Definition::FragmentDefinition(fragment) => {
                document.fragments.push(reader.fragment(&fragment)?);
            }
            other => {
                let what = match other.name() {
                    Some(name) => format!("The \"{}\" definition", name.text()),
                    None => format!("The {} definition", other.kind()),
                };
                return Err(SimError::Validation(format!("{what} is not executable.")));
            }
        }
    }
    if document.operations.is_empty() && document.fragments.is_empty() {
        return Err(syntax("Unexpected <EOF>."));
    }
    Ok(document)
}

/// Parses one constant value (a schema default such as `false` or `"No longer supported"`).
pub(crate) fn parse_literal(text: &str) -> Option<Literal> {
    let document = format!("{{ f(a: {text}) }}");
    let tree = apollo_parser::Parser::new(&document)
        .recursion_limit(MAX_DEPTH)
        .parse();
    if tree.errors().next().is_some() {
        return None;
    }
    let mut reader = Reader { selections: 0 };
    let definition = tree.document().definitions().next()?;
    let cst::Definition::OperationDefinition(operation) = definition else {
        return None;
    };
    let selection = operation.selection_set()?.selections().next()?;
    let cst::Selection::Field(field) = selection else {
        return None;
    };
    let argument = field.arguments()?.arguments().next()?;
    reader.value(&argument.value()?, 0).ok()
}

struct Reader {
    selections: usize,
}

impl Reader {
    fn operation(
        &mut self,
        operation: &cst::OperationDefinition,
    ) -> Result<OperationDef, SimError> {
        let kind = match operation.operation_type() {
            Some(kind) if kind.mutation_token().is_some() => OperationKind::Mutation,
            Some(kind) if kind.subscription_token().is_some() => OperationKind::Subscription,
            _ => OperationKind::Query,
        };
        let mut variables = Vec::new();
        if let Some(definitions) = operation.variable_definitions() {
            for definition in definitions.variable_definitions() {
                let name = name_of(definition.variable().and_then(|variable| variable.name()))?;
                let ty = self.ty(&definition.ty().ok_or_else(|| syntax("Expected Name."))?, 0)?;
                let default = match definition.default_value().and_then(|value| value.value()) {
                    Some(value) => Some(self.value(&value, 0)?),
                    None => None,
                };
                variables.push(VariableDef {
                    name,
                    ty,
                    default,
                    directives: self.directives(definition.directives())?,
                });
            }
        }
        let selection_set = operation
            .selection_set()
            .ok_or_else(|| syntax("Expected \"{\"."))?;
        Ok(OperationDef {
            kind,
            name: operation.name().map(|name| name.text().to_string()),
            variables,
            directives: self.directives(operation.directives())?,
            selections: self.selection_set(&selection_set, 0)?,
        })
    }

    fn fragment(&mut self, fragment: &cst::FragmentDefinition) -> Result<FragmentDef, SimError> {
        let name = name_of(fragment.fragment_name().and_then(|name| name.name()))?;
        let type_condition = name_of(
            fragment
                .type_condition()
                .and_then(|condition| condition.named_type())
                .and_then(|named| named.name()),
        )?;
        let selection_set = fragment
            .selection_set()
            .ok_or_else(|| syntax("Expected \"{\"."))?;
        Ok(FragmentDef {
            name,
            type_condition,
            directives: self.directives(fragment.directives())?,
            selections: self.selection_set(&selection_set, 0)?,
        })
    }

    fn ty(&mut self, ty: &cst::Type, depth: usize) -> Result<DocType, SimError> {
        if depth > MAX_DEPTH {
            return Err(syntax("The type is nested too deeply."));
        }
        Ok(match ty {
            cst::Type::NamedType(named) => DocType::Named(name_of(named.name())?),
            cst::Type::ListType(list) => DocType::List(Box::new(self.ty(
                &list.ty().ok_or_else(|| syntax("Expected Name."))?,
                depth + 1,
            )?)),
            cst::Type::NonNullType(non_null) => {
                let inner = match (non_null.named_type(), non_null.list_type()) {
                    (Some(named), _) => DocType::Named(name_of(named.name())?),
                    (None, Some(list)) => DocType::List(Box::new(self.ty(
                        &list.ty().ok_or_else(|| syntax("Expected Name."))?,
                        depth + 1,
                    )?)),
                    (None, None) => return Err(syntax("Expected Name.")),
                };
                DocType::NonNull(Box::new(inner))
            }
        })
    }

    fn directives(
        &mut self,
        directives: Option<cst::Directives>,
    ) -> Result<Vec<Directive>, SimError> {
        let Some(directives) = directives else {
            return Ok(Vec::new());
        };
        directives
            .directives()
            .map(|directive| {
                Ok(Directive {
                    name: name_of(directive.name())?,
                    arguments: self.arguments(directive.arguments())?,
                })
            })
            .collect()
    }

    fn arguments(
        &mut self,
        arguments: Option<cst::Arguments>,
    ) -> Result<Vec<(String, Literal)>, SimError> {
        let Some(arguments) = arguments else {
            return Ok(Vec::new());
        };
        arguments
            .arguments()
            .map(|argument| {
                let name = name_of(argument.name())?;
                let value = argument.value().ok_or_else(|| syntax("Expected value."))?;
                Ok((name, self.value(&value, 0)?))
            })
            .collect()
    }

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
            self.selections += 1;
            if self.selections > MAX_SELECTIONS {
                return Err(SimError::Validation("The query is too large.".into()));
            }
            selections.push(match selection {
                cst::Selection::Field(field) => Selection::Field(Field {
                    alias: field
                        .alias()
                        .and_then(|alias| alias.name())
                        .map(|alias| alias.text().to_string()),
                    name: name_of(field.name())?,
                    arguments: self.arguments(field.arguments())?,
                    directives: self.directives(field.directives())?,
                    selections: match field.selection_set() {
                        Some(inner) => self.selection_set(&inner, depth + 1)?,
                        None => Vec::new(),
                    },
                }),
                cst::Selection::FragmentSpread(spread) => Selection::Spread(Spread {
                    name: name_of(spread.fragment_name().and_then(|name| name.name()))?,
                    directives: self.directives(spread.directives())?,
                }),
                cst::Selection::InlineFragment(fragment) => {
                    let type_condition = match fragment.type_condition() {
                        Some(condition) => Some(name_of(
                            condition.named_type().and_then(|named| named.name()),
                        )?),
                        None => None,
                    };
                    Selection::Inline(InlineFragment {
                        type_condition,
                        directives: self.directives(fragment.directives())?,
                        selections: match fragment.selection_set() {
                            Some(inner) => self.selection_set(&inner, depth + 1)?,
                            None => return Err(syntax("Expected \"{\".")),
                        },
                    })
                }
            });
        }
        Ok(selections)
    }

    fn value(&mut self, value: &cst::Value, depth: usize) -> Result<Literal, SimError> {
        if depth > MAX_DEPTH {
            return Err(syntax("A value is nested too deeply."));
        }
        Ok(match value {
            cst::Value::Variable(variable) => Literal::Variable(name_of(variable.name())?),
            cst::Value::StringValue(string) => {
                Literal::String(string_value(&string.syntax().text().to_string()))
            }
            cst::Value::IntValue(_) => Literal::Int(value.syntax().text().to_string()),
            cst::Value::FloatValue(_) => Literal::Float(value.syntax().text().to_string()),
            cst::Value::BooleanValue(boolean) => Literal::Boolean(boolean.true_token().is_some()),
            cst::Value::NullValue(_) => Literal::Null,
            cst::Value::EnumValue(enum_value) => Literal::Enum(name_of(enum_value.name())?),
            cst::Value::ListValue(list) => Literal::List(
                list.values()
                    .map(|item| self.value(&item, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            cst::Value::ObjectValue(object) => Literal::Object(
                object
                    .object_fields()
                    .map(|field| {
                        let name = name_of(field.name())?;
                        let inner = field.value().ok_or_else(|| syntax("Expected value."))?;
                        Ok((name, self.value(&inner, depth + 1)?))
                    })
                    .collect::<Result<_, SimError>>()?,
            ),
        })
    }
}

/// The value of a string token as written (quotes included): escapes resolved, block strings
/// dedented as the spec says.
fn string_value(raw: &str) -> String {
    let raw = raw.trim();
    if let Some(block) = raw
        .strip_prefix("\"\"\"")
        .and_then(|rest| rest.strip_suffix("\"\"\""))
    {
        return block_string(&block.replace("\\\"\"\"", "\"\"\""));
    }
    let inner = raw
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(raw);
    unescape(inner)
}

fn unescape(input: &str) -> String {
    let mut output = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            output.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => output.push('\n'),
            Some('r') => output.push('\r'),
            Some('t') => output.push('\t'),
            Some('b') => output.push('\u{8}'),
            Some('f') => output.push('\u{c}'),
            Some('u') => {
                let code = if chars.peek() == Some(&'{') {
                    chars.next();
                    let digits: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    u32::from_str_radix(&digits, 16).ok()
                } else {
                    let digits: String = chars.by_ref().take(4).collect();
                    u32::from_str_radix(&digits, 16).ok()
                };
                let code = match code {
                    Some(lead @ 0xD800..=0xDBFF) => {
                        // A surrogate pair: `\uD83D\uDE00`.
                        let mut lookahead = chars.clone();
                        let trail = (lookahead.next() == Some('\\')
                            && lookahead.next() == Some('u'))
                        .then(|| {
                            let digits: String = lookahead.by_ref().take(4).collect();
                            u32::from_str_radix(&digits, 16).ok()
                        })
                        .flatten()
                        .filter(|trail| (0xDC00..=0xDFFF).contains(trail));
                        match trail {
                            Some(trail) => {
                                chars = lookahead;
                                Some((lead - 0xD800) * 0x400 + (trail - 0xDC00) + 0x10000)
                            }
                            None => Some(lead),
                        }
                    }
                    other => other,
                };
                output.push(code.and_then(char::from_u32).unwrap_or('\u{FFFD}'));
            }
            Some(other) => output.push(other),
            None => output.push('\\'),
        }
    }
    output
}

/// The spec's BlockStringValue: common indentation and blank first and last lines removed.
fn block_string(raw: &str) -> String {
    let normalised = raw.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = normalised.split('\n').collect();
    let indent = lines
        .iter()
        .skip(1)
        .filter_map(|line| {
            let width = line.len() - line.trim_start_matches([' ', '\t']).len();
            (width < line.len()).then_some(width)
        })
        .min()
        .unwrap_or(0);
    let mut trimmed: Vec<&str> = lines
        .iter()
        .enumerate()
        .map(|(at, line)| {
            if at == 0 {
                line
            } else {
                line.get(indent..).unwrap_or("")
            }
        })
        .collect();
    while trimmed
        .first()
        .is_some_and(|line| line.trim_matches([' ', '\t']).is_empty())
    {
        trimmed.remove(0);
    }
    while trimmed
        .last()
        .is_some_and(|line| line.trim_matches([' ', '\t']).is_empty())
    {
        trimmed.pop();
    }
    trimmed.join("\n")
}
