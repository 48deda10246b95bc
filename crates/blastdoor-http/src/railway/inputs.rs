//! Risk carried by a mutation's input values: which input fields of Railway's schema make a
//! write run new code, destroy something, or reach every environment.
//!
//! [`INPUT_RULES`] is the reviewed table, one row per `(input type, field)`; a test checks that
//! every row names an input field of the schema. [`walk_inputs`] follows a mutation's
//! arguments through the schema's input types (nested input objects and lists included), so a
//! rule fires wherever its field appears, whatever the argument is called. JSON-typed patches
//! (`environmentPatchCommit`'s `patch`), which the schema cannot describe, are inspected by
//! [`crate::railway::hidden`].
//!
//! - `railway.start-command-change` (Execute): a start, pre-deploy or build command; the
//!   service runs it. Example: `serviceInstanceUpdate(input: {startCommand: "curl … | sh"})`.
//! - `railway.build-config-change` (Execute): where the code or its build comes from (source
//!   repository or image, Dockerfile path, config-file path, Nixpacks plan, root directory,
//!   builder, registry credentials): the service builds and runs something new.
//! - `railway.volume-instance-delete` (Destroy): a volume instance set to a deleted state.
//! - `railway.variables-replace` (Destroy): `replace: true` deletes every variable not listed.
//! - `railway.all-environments` (reach): `allEnvironments: true` applies the change in every
//!   environment of the project, whatever `environmentId` says.
//!
//! Safer alternatives: change commands in staging first and let a human approve production;
//! take a backup (`volumeInstanceBackupCreate`) before any delete.

use blastdoor_core::Risk;
use serde_json::{Map, Value};

use crate::railway::document::MAX_VALUE_DEPTH;
use crate::railway::schema::{Schema, TypeKind, named_type};

/// When a row fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// The field is given a value other than `null`.
    Present,
    /// The field is `true`.
    True,
    /// The field is one of these enum values.
    OneOf(&'static [&'static str]),
}

/// What a row does to the mutation's judgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Raises the risk to at least this.
    Risk(Risk),
    /// The mutation reaches every environment of its project.
    AllEnvironments,
}

/// One reviewed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputRule {
    pub input_type: &'static str,
    pub field: &'static str,
    pub condition: Condition,
    pub effect: Effect,
    pub rule_id: &'static str,
    pub why: &'static str,
}

macro_rules! input_rules {
    ($(($type:literal, $field:literal, $condition:expr, $effect:expr, $rule:literal, $why:expr),)*) => {
        /// The reviewed table (see the module docs).
        pub const INPUT_RULES: &[InputRule] = &[
            $(InputRule { input_type: $type, field: $field, condition: $condition, effect: $effect, rule_id: $rule, why: $why },)*
        ];
    };
}

const EXECUTE: Effect = Effect::Risk(Risk::Execute);
const DESTROY: Effect = Effect::Risk(Risk::Destroy);
const START: &str = "the service will run this command";
const BUILD: &str = "the service will build and run code from a new source or configuration";

input_rules! {
    ("ServiceInstanceUpdateInput", "startCommand", Condition::Present, EXECUTE, "railway.start-command-change", START),
    ("ServiceInstanceUpdateInput", "preDeployCommand", Condition::Present, EXECUTE, "railway.start-command-change", START),
    ("ServiceInstanceUpdateInput", "buildCommand", Condition::Present, EXECUTE, "railway.start-command-change", START),
    ("ServiceInstanceUpdateInput", "source", Condition::Present, EXECUTE, "railway.build-config-change", BUILD),
    ("ServiceInstanceUpdateInput", "dockerfilePath", Condition::Present, EXECUTE, "railway.build-config-change", BUILD),
    ("ServiceInstanceUpdateInput", "nixpacksPlan", Condition::Present, EXECUTE, "railway.build-config-change", BUILD),
    ("ServiceInstanceUpdateInput", "railwayConfigFile", Condition::Present, EXECUTE, "railway.build-config-change", BUILD),
    ("ServiceInstanceUpdateInput", "rootDirectory", Condition::Present, EXECUTE, "railway.build-config-change", BUILD),
    ("ServiceInstanceUpdateInput", "builder", Condition::Present, EXECUTE, "railway.build-config-change", BUILD),
    ("ServiceInstanceUpdateInput", "registryCredentials", Condition::Present, EXECUTE, "railway.build-config-change", BUILD),
    ("TemplateDeployService", "startCommand", Condition::Present, EXECUTE, "railway.start-command-change", START),
    ("TemplateDeployService", "preDeployCommand", Condition::Present, EXECUTE, "railway.start-command-change", START),
    ("VolumeInstanceUpdateInput", "state", Condition::OneOf(&["DELETED", "DELETING"]), DESTROY, "railway.volume-instance-delete", "the volume instance and its data are deleted"),
    ("VariableCollectionUpsertInput", "replace", Condition::True, DESTROY, "railway.variables-replace", "every variable not listed is deleted"),
    ("EgressGatewayServiceTargetInput", "allEnvironments", Condition::True, Effect::AllEnvironments, "railway.all-environments", "the change applies in every environment of the project"),
}

/// What the input walk found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputFindings {
    /// The riskiest rule that fired, with the argument path it fired at.
    pub risk: Option<(Risk, &'static InputRule, String)>,
    /// A rule that makes the mutation reach every environment fired.
    pub all_environments: bool,
    /// The values nest deeper than [`MAX_VALUE_DEPTH`]: not fully inspected.
    pub too_deep: bool,
}

/// Follows `arguments` of `field` on `parent_type` through the schema's input types.
pub fn walk_inputs(
    schema: &Schema,
    parent_type: &str,
    field: &str,
    arguments: &Map<String, Value>,
) -> InputFindings {
    let mut findings = InputFindings::default();
    let Some(definition) = schema.field(parent_type, field) else {
        return findings;
    };
    for (name, value) in arguments {
        if let Some(argument) = definition.args.get(name) {
            walk_value(
                schema,
                named_type(&argument.type_ref),
                name,
                value,
                0,
                &mut findings,
            );
        }
    }
    findings
}

fn walk_value(
    schema: &Schema,
    type_name: &str,
    path: &str,
    value: &Value,
    depth: usize,
    findings: &mut InputFindings,
) {
    if depth > MAX_VALUE_DEPTH {
        findings.too_deep = true;
        return;
    }
    match value {
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                walk_value(
                    schema,
                    type_name,
                    &format!("{path}[{index}]"),
                    item,
                    depth + 1,
                    findings,
                );
            }
        }
        Value::Object(map) => {
            let Some(input) = schema
                .type_def(type_name)
                .filter(|definition| definition.kind == TypeKind::InputObject)
            else {
                return;
            };
            for (key, inner) in map {
                let inner_path = format!("{path}.{key}");
                if let Some(rule) = INPUT_RULES
                    .iter()
                    .find(|rule| rule.input_type == type_name && rule.field == key)
                    && fires(rule.condition, inner)
                {
                    match rule.effect {
                        Effect::AllEnvironments => findings.all_environments = true,
                        Effect::Risk(risk) => {
                            if findings
                                .risk
                                .as_ref()
                                .is_none_or(|(known, _, _)| risk > *known)
                            {
                                findings.risk = Some((risk, rule, inner_path.clone()));
                            }
                        }
                    }
                }
                if let Some(inner_field) = input.fields.get(key) {
                    walk_value(
                        schema,
                        inner_field.named_type(),
                        &inner_path,
                        inner,
                        depth + 1,
                        findings,
                    );
                }
            }
        }
        _ => {}
    }
}

fn fires(condition: Condition, value: &Value) -> bool {
    match condition {
        Condition::Present => !value.is_null(),
        Condition::True => value == &Value::Bool(true),
        Condition::OneOf(values) => value.as_str().is_some_and(|text| values.contains(&text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::railway::schema::railway;

    #[test]
    fn every_row_names_an_input_field_of_the_schema() {
        let schema = railway().unwrap();
        for rule in INPUT_RULES {
            let definition = schema
                .type_def(rule.input_type)
                .unwrap_or_else(|| panic!("{} is not a type", rule.input_type));
            assert_eq!(
                definition.kind,
                TypeKind::InputObject,
                "{}",
                rule.input_type
            );
            assert!(
                definition.fields.contains_key(rule.field),
                "{}.{} is not an input field",
                rule.input_type,
                rule.field
            );
        }
    }
}
