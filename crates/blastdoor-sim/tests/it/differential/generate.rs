//! A seeded generator of Railway GraphQL requests for the differential test, driven by the
//! simulator's type table (`blastdoor_sim::schema`): operations of every kind (root queries,
//! mutations with their required arguments filled from their declared types, subscriptions),
//! nested selections to a random depth, aliases (a unique one on every field that takes
//! arguments, sometimes a root field's alias named after another root field), inline
//! fragments with and without type conditions (the type itself, an interface it implements,
//! a possible type of an interface or union), named fragments (reused where they can apply),
//! variables (some with defaults, some left to their default), `@skip`/`@include` with
//! literals and variables, documents of several operations picked with `operationName`,
//! batches, and GET requests. Ids are the incident scenario's, so that the simulator's modelled
//! objects resolve their nested fields for real.
//!
//! Documents are meant to be valid: aliases keep GraphQL's "fields can be merged" rule (a
//! response key without an alias names the same argument-less field of the same type
//! everywhere it appears), every declared variable is used, every fragment is spread, and
//! fragments only spread fragments finished before them (no cycles). A few requests get a
//! fault on purpose (a truncated document, an unknown field or type, a leaf with selections,
//! an unused fragment, an undeclared variable, two operations of one name) to exercise the
//! paths where the simulator refuses a document.

use blastdoor_sim::ids;
use blastdoor_sim::schema::{FieldDef, Schema, TypeDef, TypeKind, TypeRef, schema};
use serde_json::{Map, Value, json};

/// SplitMix64: small, seedable, the same sequence on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        usize::try_from(self.next_u64() % n as u64).unwrap_or(0)
    }

    /// True `percent` times in a hundred.
    pub fn percent(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

/// One GraphQL request object.
#[derive(Debug, Clone)]
pub struct GraphqlRequest {
    pub query: String,
    pub operation_name: Option<String>,
    pub variables: Map<String, Value>,
    /// Variables sent as a JSON string rather than an object (some clients do).
    pub variables_as_string: bool,
}

impl GraphqlRequest {
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("query".into(), Value::String(self.query.clone()));
        if let Some(name) = &self.operation_name {
            object.insert("operationName".into(), Value::String(name.clone()));
        }
        if !self.variables.is_empty() {
            let variables = Value::Object(self.variables.clone());
            object.insert(
                "variables".into(),
                if self.variables_as_string {
                    Value::String(variables.to_string())
                } else {
                    variables
                },
            );
        }
        Value::Object(object)
    }

    /// `query=...&variables=...&operationName=...`, percent-encoded.
    pub fn to_query_string(&self) -> String {
        let mut pairs = vec![format!("query={}", encode(&self.query))];
        if !self.variables.is_empty() {
            pairs.push(format!(
                "variables={}",
                encode(&Value::Object(self.variables.clone()).to_string())
            ));
        }
        if let Some(name) = &self.operation_name {
            pairs.push(format!("operationName={}", encode(name)));
        }
        pairs.join("&")
    }
}

fn encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// How a request goes to the server.
#[derive(Debug, Clone)]
pub enum Shape {
    /// `POST` with one request object.
    Single(GraphqlRequest),
    /// `POST` with a batched array.
    Batch(Vec<GraphqlRequest>),
    /// `GET` with the request in the query string (queries only).
    Get(GraphqlRequest),
}

impl Shape {
    pub fn requests(&self) -> Vec<&GraphqlRequest> {
        match self {
            Shape::Single(request) | Shape::Get(request) => vec![request],
            Shape::Batch(requests) => requests.iter().collect(),
        }
    }

    pub fn body(&self) -> Vec<u8> {
        let value = match self {
            Shape::Single(request) | Shape::Get(request) => request.to_json(),
            Shape::Batch(requests) => {
                Value::Array(requests.iter().map(GraphqlRequest::to_json).collect())
            }
        };
        serde_json::to_vec(&value).unwrap_or_default()
    }
}

/// Root fields the simulator models (their objects answer nested fields for real): picked
/// more often than the others.
const MODELLED_QUERIES: &[&str] = &[
    "me",
    "workspace",
    "externalWorkspaces",
    "project",
    "projects",
    "projectsByIds",
    "environment",
    "environments",
    "service",
    "serviceInstance",
    "deployment",
    "deployments",
    "deploymentSnapshot",
    "domains",
    "customDomain",
    "domainStatus",
    "tcpProxies",
    "volumeInstance",
    "volumeInstanceBackupList",
    "variables",
    "variablesForServiceDeployment",
    "environmentStagedChanges",
    "environmentPatch",
    "environmentPatches",
];

const MODELLED_MUTATIONS: &[&str] = &[
    "volumeDelete",
    "volumeInstanceBackupCreate",
    "serviceDelete",
    "environmentDelete",
    "projectScheduleDelete",
    "variableUpsert",
    "variableCollectionUpsert",
    "variableDelete",
    "environmentStageChanges",
    "environmentPatchCommit",
    "environmentPatchCommitStaged",
];

const ENVIRONMENTS: &[&str] = &[ids::PRODUCTION, ids::STAGING];
const SERVICES: &[&str] = &[ids::POSTGRES, ids::API];
const VOLUME_INSTANCES: &[&str] = &[ids::PG_DATA_PRODUCTION, ids::PG_DATA_STAGING];
const DEPLOYMENTS: &[&str] = &[
    "dep-svc-postgres-env-production",
    "dep-svc-postgres-env-staging",
    "dep-svc-api-env-production",
    "dep-svc-api-env-staging",
];
const DOMAINS: &[&str] = &[
    ids::API_CUSTOM_DOMAIN,
    "sd-api-production",
    "sd-api-staging",
];
const ANY_IDS: &[&str] = &[
    ids::PROJECT,
    ids::PRODUCTION,
    ids::STAGING,
    ids::POSTGRES,
    ids::API,
    ids::PG_DATA,
    ids::PG_DATA_PRODUCTION,
    ids::PG_DATA_STAGING,
    ids::PRODUCTION_BACKUP,
    ids::STAGING_BACKUP,
    ids::WORKSPACE,
    ids::USER,
    ids::API_CUSTOM_DOMAIN,
    "dep-svc-api-env-production",
    "staged-env-production",
    "tcp-postgres-production",
];

/// A value to send: rendered as a GraphQL literal or as JSON (a variable's value).
#[derive(Debug, Clone)]
enum Generated {
    Null,
    Int(i64),
    Float(f64),
    Str(String),
    /// Rendered as a block string in GraphQL.
    Block(String),
    Bool(bool),
    Enum(&'static str),
    List(Vec<Generated>),
    Object(Vec<(String, Generated)>),
    /// `$name` (GraphQL only).
    Variable(String),
}

impl Generated {
    fn literal(&self, out: &mut String) {
        match self {
            Generated::Null => out.push_str("null"),
            Generated::Int(number) => out.push_str(&number.to_string()),
            Generated::Float(number) => out.push_str(&format!("{number:?}")),
            Generated::Str(text) => out.push_str(&Value::String(text.clone()).to_string()),
            Generated::Block(text) => {
                out.push_str("\"\"\"");
                out.push_str(text);
                out.push_str("\"\"\"");
            }
            Generated::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            Generated::Enum(value) => out.push_str(value),
            Generated::List(items) => {
                out.push('[');
                for (at, item) in items.iter().enumerate() {
                    if at > 0 {
                        out.push_str(", ");
                    }
                    item.literal(out);
                }
                out.push(']');
            }
            Generated::Object(fields) => {
                out.push('{');
                for (at, (name, value)) in fields.iter().enumerate() {
                    if at > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(name);
                    out.push_str(": ");
                    value.literal(out);
                }
                out.push('}');
            }
            Generated::Variable(name) => {
                out.push('$');
                out.push_str(name);
            }
        }
    }

    fn json(&self) -> Value {
        match self {
            Generated::Null | Generated::Variable(_) => Value::Null,
            Generated::Int(number) => json!(number),
            Generated::Float(number) => json!(number),
            Generated::Str(text) | Generated::Block(text) => Value::String(text.clone()),
            Generated::Bool(value) => Value::Bool(*value),
            Generated::Enum(value) => Value::String((*value).to_owned()),
            Generated::List(items) => Value::Array(items.iter().map(Generated::json).collect()),
            Generated::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(name, value)| (name.clone(), value.json()))
                    .collect(),
            ),
        }
    }
}

/// A fragment definition already written (its body is complete, so spreading it cannot make a
/// cycle).
#[derive(Debug, Clone)]
struct Fragment {
    name: String,
    on: &'static TypeDef,
    /// The base type whose plain (alias-less) fields its body selects, if it has any: it may
    /// only be spread where that is the base type.
    plain_base: Option<&'static str>,
    /// The depth it was written for: it is spread no deeper, so expanded documents stay
    /// within the classifier's depth limit.
    depth: usize,
}

/// One operation being written.
#[derive(Debug, Default)]
struct Operation {
    declarations: Vec<String>,
    variables: Map<String, Value>,
    fragments: Vec<Fragment>,
    definitions: Vec<String>,
}

/// Writes the documents of one request.
#[derive(Debug)]
pub struct Generator {
    rng: Rng,
    schema: &'static Schema,
    counter: usize,
    max_depth: usize,
    /// Selections written so far in this document; past the budget, sets are kept small.
    selections: usize,
    budget: usize,
    operation: Operation,
}

impl Generator {
    pub fn new(seed: u64) -> Generator {
        Generator {
            rng: Rng::new(seed),
            schema: schema(),
            counter: 0,
            max_depth: 3,
            selections: 0,
            budget: 60,
            operation: Operation::default(),
        }
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter)
    }

    /// A whole request: one request object (most), a batch, or a GET; a few with a fault.
    pub fn request(&mut self) -> Shape {
        let roll = self.rng.below(100);
        let mut shape = if roll < 10 {
            let count = 2 + self.rng.below(3);
            Shape::Batch((0..count).map(|_| self.document(false)).collect())
        } else if roll < 20 {
            Shape::Get(self.document(true))
        } else {
            Shape::Single(self.document(false))
        };
        if self.rng.percent(6) {
            let rng = &mut self.rng;
            match &mut shape {
                Shape::Single(request) | Shape::Get(request) => inject_fault(rng, request),
                Shape::Batch(requests) => {
                    let at = rng.below(requests.len());
                    if let Some(request) = requests.get_mut(at) {
                        inject_fault(rng, request);
                    }
                }
            }
        }
        shape
    }

    /// One document of one to three operations, and the request that picks one of them.
    /// `queries_only`: every operation is a query (a GET request).
    fn document(&mut self, queries_only: bool) -> GraphqlRequest {
        self.max_depth = 1 + self.rng.below(6);
        self.selections = 0;
        self.budget = 20 + self.rng.below(80);
        let count = if self.rng.percent(80) {
            1
        } else {
            2 + self.rng.below(2)
        };
        let mut text = String::new();
        let mut names = Vec::new();
        let mut variables = Map::new();
        let chosen = self.rng.below(count);
        for at in 0..count {
            let kind = if queries_only {
                "query"
            } else {
                match self.rng.below(100) {
                    0..70 => "query",
                    70..95 => "mutation",
                    _ => "subscription",
                }
            };
            let name = (count > 1 || self.rng.percent(60)).then(|| self.fresh("Op"));
            let (operation, operation_variables) = self.operation(kind, name.as_deref());
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&operation);
            if at == chosen {
                variables = operation_variables;
            }
            names.push(name);
        }
        let chosen_name = names.get(chosen).cloned().flatten();
        let operation_name = match chosen_name {
            Some(name) if count > 1 || self.rng.percent(50) => Some(name),
            _ => None,
        };
        GraphqlRequest {
            query: text,
            operation_name,
            variables,
            variables_as_string: self.rng.percent(5),
        }
    }

    /// One operation with its fragments, and the variables its request sends.
    fn operation(&mut self, kind: &str, name: Option<&str>) -> (String, Map<String, Value>) {
        self.operation = Operation::default();
        let root_name = match kind {
            "mutation" => self.schema.mutation_type,
            "subscription" => self.schema.subscription_type,
            _ => self.schema.query_type,
        };
        let Some(root) = root_name.and_then(|name| self.schema.type_def(name)) else {
            return ("{ __typename }".into(), Map::new());
        };
        let mut body = String::new();
        self.root_selections(root, kind, &mut body);
        let operation = std::mem::take(&mut self.operation);
        let mut text = String::from(kind);
        if let Some(name) = name {
            text.push(' ');
            text.push_str(name);
        }
        if !operation.declarations.is_empty() {
            text.push('(');
            text.push_str(&operation.declarations.join(", "));
            text.push(')');
        }
        text.push_str(&body);
        for definition in &operation.definitions {
            text.push('\n');
            text.push_str(definition);
        }
        (text, operation.variables)
    }

    fn root_selections(&mut self, root: &'static TypeDef, kind: &str, out: &mut String) {
        out.push_str(" {");
        let count = match kind {
            "subscription" => 1,
            "mutation" => 1 + self.rng.below(2),
            _ => 1 + self.rng.below(3),
        };
        // A root field aliased as another root field (`me: projectDelete(...)`) is only safe
        // for the merge rule when it is the whole selection.
        let deceptive = count == 1 && self.rng.percent(15);
        for _ in 0..count {
            let mut field = String::new();
            if !self.root_field(root, deceptive, &mut field) {
                continue;
            }
            if kind == "subscription" || deceptive {
                out.push_str(&field);
                continue;
            }
            match self.rng.below(100) {
                0..8 => {
                    // An inline fragment on the root, with or without its type condition.
                    let condition = if self.rng.percent(50) {
                        format!(" on {}", root.name)
                    } else {
                        String::new()
                    };
                    out.push_str(&format!(" ...{condition} {{{field} }}"));
                }
                8..14 => {
                    let name = self.fresh("Root");
                    let directives = self.directives();
                    self.operation
                        .definitions
                        .push(format!("fragment {name} on {} {{{field} }}", root.name));
                    out.push_str(&format!(" ...{name}{directives}"));
                }
                _ => out.push_str(&field),
            }
        }
        if out.ends_with(" {") {
            out.push_str(" __typename");
        }
        out.push_str(" }");
    }

    /// One root field (biased towards those the simulator models).
    fn root_field(&mut self, root: &'static TypeDef, deceptive: bool, out: &mut String) -> bool {
        let modelled: &[&str] = if Some(root.name) == self.schema.mutation_type {
            MODELLED_MUTATIONS
        } else if Some(root.name) == self.schema.query_type {
            MODELLED_QUERIES
        } else {
            &[]
        };
        for _ in 0..8 {
            let field = if self.rng.percent(55) {
                self.rng
                    .pick(modelled)
                    .and_then(|name| root.field(name))
                    .or_else(|| self.rng.pick(&root.fields))
            } else {
                self.rng.pick(&root.fields)
            };
            let Some(field) = field else { return false };
            let alias = if deceptive {
                root.fields
                    .iter()
                    .map(|other| other.name)
                    .find(|other| *other != field.name && self.rng.percent(3))
                    .map(str::to_owned)
            } else {
                None
            };
            if self.field(root, field, root.name, 0, alias, out) {
                return true;
            }
        }
        false
    }

    /// A selection set on `ty` (a composite type) at `depth`.
    fn selection_set(&mut self, ty: &'static TypeDef, depth: usize, out: &mut String) {
        out.push_str(" {");
        let start = out.len();
        let count = if self.selections > self.budget {
            1
        } else {
            1 + self.rng.below(4)
        };
        for _ in 0..count {
            self.selection(ty, ty.name, depth, out);
        }
        if out.len() == start {
            out.push_str(" __typename");
        }
        out.push_str(" }");
    }

    /// One selection on `parent`, in a set whose field returns `base`.
    fn selection(
        &mut self,
        parent: &'static TypeDef,
        base: &'static str,
        depth: usize,
        out: &mut String,
    ) {
        self.selections += 1;
        let over_budget = self.selections > self.budget;
        let roll = self.rng.below(100);
        if parent.fields.is_empty() || over_budget {
            // A union (or a full budget): `__typename`, or fragments on its possible types.
            if roll < 40 || over_budget {
                out.push_str(" __typename");
            } else if roll < 80 {
                self.inline_fragment(parent, base, depth, out);
            } else {
                self.spread(parent, base, depth, out);
            }
            return;
        }
        match roll {
            0..6 => {
                let alias = if self.rng.percent(30) {
                    format!("{}: ", self.fresh("t"))
                } else {
                    String::new()
                };
                out.push_str(&format!(" {alias}__typename"));
            }
            6..16 => self.inline_fragment(parent, base, depth, out),
            16..24 => self.spread(parent, base, depth, out),
            _ => {
                for _ in 0..6 {
                    let Some(field) = self.pick_field(parent, depth) else {
                        break;
                    };
                    if self.field(parent, field, base, depth, None, out) {
                        return;
                    }
                }
                out.push_str(" __typename");
            }
        }
    }

    /// A field of `parent`: at the deepest level a leaf; otherwise a composite field about
    /// half the time (so that selections go deep).
    fn pick_field(&mut self, parent: &'static TypeDef, depth: usize) -> Option<&'static FieldDef> {
        let composite = |field: &FieldDef| {
            self.schema
                .type_def(field.ty.named())
                .is_some_and(|definition| definition.kind.is_composite())
        };
        let want_composite = depth < self.max_depth && self.rng.percent(50);
        let candidates: Vec<&'static FieldDef> = parent
            .fields
            .iter()
            .filter(|field| composite(field) == want_composite)
            .collect();
        match self.rng.pick(&candidates) {
            Some(field) => Some(field),
            None if depth < self.max_depth => self.rng.pick(&parent.fields),
            None => None,
        }
    }

    /// Writes `field` of `parent` with its arguments, alias, directives and selections; false
    /// when its arguments cannot be filled (or it needs selections deeper than allowed).
    fn field(
        &mut self,
        parent: &'static TypeDef,
        field: &'static FieldDef,
        base: &'static str,
        depth: usize,
        alias: Option<String>,
        out: &mut String,
    ) -> bool {
        let Some(returns) = self.schema.type_def(field.ty.named()) else {
            return false;
        };
        if returns.kind.is_composite() && depth >= self.max_depth + 2 {
            return false;
        }
        let Some(arguments) = self.arguments(field) else {
            return false;
        };
        // Fields with arguments, and fields selected on another type than the set's, get a
        // response key of their own: GraphQL's merge rule then always holds.
        let alias = match alias {
            Some(alias) => Some(alias),
            None if !arguments.is_empty() || parent.name != base || self.rng.percent(20) => {
                Some(self.fresh("a"))
            }
            None => None,
        };
        out.push(' ');
        if let Some(alias) = alias {
            out.push_str(&alias);
            out.push_str(": ");
        }
        out.push_str(field.name);
        out.push_str(&arguments);
        let directives = self.directives();
        out.push_str(&directives);
        if returns.kind.is_composite() {
            self.selection_set(returns, depth + 1, out);
        }
        true
    }

    /// `(name: value, ...)`: every required argument and some optional ones; `None` when a
    /// required one cannot be filled.
    fn arguments(&mut self, field: &'static FieldDef) -> Option<String> {
        let mut written = Vec::new();
        for argument in &field.arguments {
            let required = argument.ty.is_non_null() && argument.default.is_none();
            if !required && !self.rng.percent(25) {
                continue;
            }
            let hint = Hint {
                name: argument.name,
                returns: field.ty.named(),
            };
            let value = if self.rng.percent(30) {
                self.variable(&argument.ty, hint)
            } else {
                self.value(&argument.ty, hint, 0, true)
            };
            match value {
                Some(value) => {
                    let mut text = format!("{}: ", argument.name);
                    value.literal(&mut text);
                    written.push(text);
                }
                None if required => return None,
                None => {}
            }
        }
        Some(if written.is_empty() {
            String::new()
        } else {
            format!("({})", written.join(", "))
        })
    }

    /// Declares a variable of type `ty` (sometimes with a default, sometimes nullable with a
    /// default where `ty` is non-null), sets its value (unless the default is to apply), and
    /// returns its use.
    fn variable(&mut self, ty: &TypeRef, hint: Hint) -> Option<Generated> {
        let name = self.fresh("v");
        let default = if self.rng.percent(35) {
            Some(self.value(ty.nullable(), hint, 0, false)?)
        } else {
            None
        };
        let default = default.filter(|value| !matches!(value, Generated::Null));
        let declared = match (&default, ty) {
            // A nullable variable with a default may fill a non-null position.
            (Some(_), TypeRef::NonNull(inner)) if self.rng.percent(50) => inner.to_string(),
            _ => ty.to_string(),
        };
        let mut declaration = format!("${name}: {declared}");
        if let Some(default) = &default {
            declaration.push_str(" = ");
            default.literal(&mut declaration);
        }
        let provide = default.is_none() || self.rng.percent(50);
        if provide {
            let value = self.value(ty, hint, 0, false)?;
            self.operation.variables.insert(name.clone(), value.json());
        } else if default.is_none() && ty.is_non_null() {
            return None;
        }
        self.operation.declarations.push(declaration);
        Some(Generated::Variable(name))
    }

    /// A value of type `ty`; `variables`: input-object fields may be variables.
    fn value(
        &mut self,
        ty: &TypeRef,
        hint: Hint,
        depth: usize,
        variables: bool,
    ) -> Option<Generated> {
        match ty {
            TypeRef::NonNull(inner) => self.value_of(inner, hint, depth, variables),
            _ if self.rng.percent(8) => Some(Generated::Null),
            _ => self.value_of(ty, hint, depth, variables),
        }
    }

    fn value_of(
        &mut self,
        ty: &TypeRef,
        hint: Hint,
        depth: usize,
        variables: bool,
    ) -> Option<Generated> {
        if depth > 5 {
            return None;
        }
        match ty {
            TypeRef::NonNull(inner) => self.value_of(inner, hint, depth, variables),
            TypeRef::List(inner) => {
                if self.rng.percent(15) {
                    // One item where a list is expected: coerced to a list of one.
                    return self.value(inner, hint, depth + 1, variables);
                }
                let count = self.rng.below(3);
                let items = (0..count)
                    .map(|_| self.value(inner, hint, depth + 1, variables))
                    .collect::<Option<Vec<_>>>()?;
                Some(Generated::List(items))
            }
            TypeRef::Named(name) => {
                let definition = self.schema.type_def(name)?;
                match definition.kind {
                    TypeKind::Scalar => Some(self.scalar(name, hint)),
                    TypeKind::Enum => self
                        .rng
                        .pick(&definition.enum_values)
                        .copied()
                        .map(Generated::Enum),
                    TypeKind::InputObject => {
                        let mut fields = Vec::new();
                        for input in &definition.input_fields {
                            let required = input.ty.is_non_null() && input.default.is_none();
                            if !required && !self.rng.percent(25) {
                                continue;
                            }
                            let hint = Hint {
                                name: input.name,
                                returns: hint.returns,
                            };
                            let value = if variables && self.rng.percent(10) {
                                self.variable(&input.ty, hint)
                            } else {
                                self.value(&input.ty, hint, depth + 1, variables)
                            };
                            match value {
                                Some(value) => fields.push((input.name.to_owned(), value)),
                                None if required => return None,
                                None => {}
                            }
                        }
                        Some(Generated::Object(fields))
                    }
                    _ => None,
                }
            }
        }
    }

    fn scalar(&mut self, name: &str, hint: Hint) -> Generated {
        match name {
            "String" | "ID" => {
                let text = self.text(hint);
                if self.rng.percent(4) && !text.contains('"') && !text.contains('\\') {
                    Generated::Block(text)
                } else {
                    Generated::Str(text)
                }
            }
            "Int" | "BigInt" => Generated::Int(i64::try_from(self.rng.below(20)).unwrap_or(0) - 2),
            "Float" => {
                if self.rng.percent(50) {
                    Generated::Float(1.5)
                } else {
                    Generated::Int(3)
                }
            }
            "Boolean" => Generated::Bool(self.rng.percent(50)),
            "DateTime" => Generated::Str("2026-01-01T00:00:00.000Z".into()),
            // Custom scalars (`JSON`, `EnvironmentConfig`, ...) take any value.
            _ => match self.rng.below(3) {
                0 => Generated::Str("sim".into()),
                1 => Generated::Object(vec![("key".into(), Generated::Str("value".into()))]),
                _ => Generated::Object(Vec::new()),
            },
        }
    }

    /// A string for an argument or input field: an id of the incident scenario where the name
    /// says which kind, otherwise a plain (sometimes unusual) string.
    fn text(&mut self, hint: Hint) -> String {
        let lower = hint.name.to_ascii_lowercase();
        let pool: &[&str] = if lower == "id" {
            match hint.returns {
                "Project" => &[ids::PROJECT],
                "Environment" => ENVIRONMENTS,
                "Service" => SERVICES,
                "Deployment" => DEPLOYMENTS,
                "VolumeInstance" => VOLUME_INSTANCES,
                "CustomDomain" | "DomainWithStatus" => DOMAINS,
                "EnvironmentPatch" => &["staged-env-production", "staged-env-staging"],
                _ => ANY_IDS,
            }
        } else if lower.ends_with("projectid") || lower == "projectids" || lower == "ids" {
            &[ids::PROJECT]
        } else if lower.ends_with("environmentid") || lower == "environmentids" {
            ENVIRONMENTS
        } else if lower.ends_with("volumeinstanceid") {
            VOLUME_INSTANCES
        } else if lower.ends_with("serviceid") || lower == "serviceids" {
            SERVICES
        } else if lower.ends_with("volumeid") {
            &[ids::PG_DATA]
        } else if lower.ends_with("deploymentid") {
            DEPLOYMENTS
        } else if lower.ends_with("workspaceid") || lower == "teamid" {
            &[ids::WORKSPACE]
        } else if lower.ends_with("backupid") {
            &[ids::PRODUCTION_BACKUP, ids::STAGING_BACKUP]
        } else if lower.ends_with("id") || lower.ends_with("ids") {
            ANY_IDS
        } else {
            &[
                "sim",
                "DATABASE_URL",
                "a \"quoted\" value with a \\ backslash",
                "ünïcödé ✓",
                "",
            ]
        };
        self.rng.pick(pool).copied().unwrap_or("sim").to_owned()
    }

    /// ` @skip(if: ...)` or ` @include(if: ...)` (literal or variable), or nothing (most).
    fn directives(&mut self) -> String {
        if !self.rng.percent(12) {
            return String::new();
        }
        let directive = if self.rng.percent(50) {
            "skip"
        } else {
            "include"
        };
        let condition = if self.rng.percent(50) {
            if self.rng.percent(50) {
                "true".to_owned()
            } else {
                "false".to_owned()
            }
        } else {
            let name = self.fresh("b");
            let value = self.rng.percent(50);
            if self.rng.percent(30) {
                self.operation
                    .declarations
                    .push(format!("${name}: Boolean! = {value}"));
            } else {
                self.operation
                    .declarations
                    .push(format!("${name}: Boolean!"));
                self.operation
                    .variables
                    .insert(name.clone(), Value::Bool(value));
            }
            format!("${name}")
        };
        format!(" @{directive}(if: {condition})")
    }

    /// A type a fragment on `parent` may name: `parent` itself, an interface it implements, or
    /// one of the objects an interface or union may be.
    fn condition(&mut self, parent: &'static TypeDef) -> &'static TypeDef {
        let mut options: Vec<&'static str> = vec![parent.name];
        match parent.kind {
            TypeKind::Object => options.extend(parent.interfaces.iter().copied()),
            TypeKind::Interface | TypeKind::Union => {
                options.extend(parent.possible_types.iter().copied());
            }
            _ => {}
        }
        self.rng
            .pick(&options)
            .and_then(|name| self.schema.type_def(name))
            .unwrap_or(parent)
    }

    fn inline_fragment(
        &mut self,
        parent: &'static TypeDef,
        base: &'static str,
        depth: usize,
        out: &mut String,
    ) {
        let (condition, on) = if self.rng.percent(25) && !parent.fields.is_empty() {
            (String::new(), parent)
        } else {
            let on = self.condition(parent);
            (format!(" on {}", on.name), on)
        };
        let directives = self.directives();
        out.push_str(&format!(" ...{condition}{directives} {{"));
        let start = out.len();
        for _ in 0..1 + self.rng.below(3) {
            self.selection(on, base, depth, out);
        }
        if out.len() == start {
            out.push_str(" __typename");
        }
        out.push_str(" }");
    }

    /// Spreads a named fragment that can apply to `parent`: one written before (at this depth
    /// or deeper) or a new one.
    fn spread(
        &mut self,
        parent: &'static TypeDef,
        base: &'static str,
        depth: usize,
        out: &mut String,
    ) {
        let schema = self.schema;
        let overlaps = |fragment: &Fragment| {
            let possible = schema.possible_types(fragment.on.name);
            schema
                .possible_types(parent.name)
                .iter()
                .any(|object| possible.contains(object))
        };
        let reusable: Vec<Fragment> = self
            .operation
            .fragments
            .iter()
            .filter(|fragment| {
                fragment.depth >= depth
                    && fragment.plain_base.is_none_or(|plain| plain == base)
                    && overlaps(fragment)
            })
            .cloned()
            .collect();
        let name = match self.rng.pick(&reusable) {
            Some(fragment) if self.rng.percent(60) => fragment.name.clone(),
            _ => {
                let on = self.condition(parent);
                let name = self.fresh("F");
                let mut body = String::new();
                for _ in 0..1 + self.rng.below(3) {
                    // Plain fields only when the fragment's type is the set's own.
                    self.selection(
                        on,
                        if on.name == base { base } else { "" },
                        depth,
                        &mut body,
                    );
                }
                if body.is_empty() {
                    body.push_str(" __typename");
                }
                self.operation
                    .definitions
                    .push(format!("fragment {name} on {} {{{body} }}", on.name));
                self.operation.fragments.push(Fragment {
                    name: name.clone(),
                    on,
                    plain_base: (on.name == base).then_some(base),
                    depth,
                });
                name
            }
        };
        let directives = self.directives();
        out.push_str(&format!(" ...{name}{directives}"));
    }
}

/// What an argument or input field is called and what its field returns: enough to pick an
/// id of the right kind.
#[derive(Debug, Clone, Copy)]
struct Hint {
    name: &'static str,
    returns: &'static str,
}

/// Breaks a request on purpose, in one of the ways a server refuses.
fn inject_fault(rng: &mut Rng, request: &mut GraphqlRequest) {
    let query = &mut request.query;
    let braces: Vec<usize> = query.match_indices('{').map(|(at, _)| at + 1).collect();
    let brace = rng.pick(&braces).copied().unwrap_or(0);
    let parenthesis = query.find('(').map_or(0, |at| at + 1);
    match rng.below(13) {
        0 => {
            let mut cut = rng.below(query.len());
            while !query.is_char_boundary(cut) {
                cut -= 1;
            }
            query.truncate(cut);
        }
        1 => query.push_str("\nfragment Unused on Query { __typename }"),
        2 => query.insert_str(brace, " bogusField"),
        3 => query.insert_str(brace, " ... on NoSuchType { id }"),
        4 => query.insert_str(brace, " __typename { id }"),
        5 => query.insert_str(brace, " project(id: $undeclared) { id }"),
        6 => *query = format!("{query}\n{query}"),
        7 => query.insert_str(brace, " ...Missing"),
        8 => query.push_str("\ntype Extra { id: ID }"),
        9 => query.insert_str(brace, " __typename @unknown"),
        10 => query.insert_str(brace, " __typename @deprecated"),
        // A repeated argument or variable (or, where the first `(` is elsewhere, a syntax
        // error).
        11 if parenthesis > 0 => {
            let repeated: String = query
                .get(parenthesis..)
                .unwrap_or_default()
                .split([',', ')'])
                .next()
                .unwrap_or_default()
                .to_owned();
            query.insert_str(parenthesis, &format!("{repeated}, "));
        }
        _ => {
            if let Some(at) = query.find(" {") {
                query.insert_str(at, " @skip(if: true)");
            }
        }
    }
}
