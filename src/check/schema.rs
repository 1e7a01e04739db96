//! Record schemas: the subset of JSON Schema that lint reads to check field paths.
//!
//! Supported: `type` (a name or a list of names), `properties`, `additionalProperties`,
//! `patternProperties`, `items` (one schema for every element), `required`, `$ref` to a
//! place in the same document (`#/definitions/step`, `#/$defs/step`, any `#/...`
//! pointer), and `allOf`/`anyOf`/`oneOf`, whose alternatives' properties are pooled.
//!
//! **Which fields exist.** An object schema that lists `properties` allows exactly
//! those, unless `additionalProperties` is `true` or a schema, or `patternProperties` is
//! given. This is stricter than JSON Schema, where an absent `additionalProperties`
//! allows any field: a lint is meant to catch misspelt paths, and a schema that lists
//! its fields documents them. A schema without `properties` (or `true`, or `{}`) allows
//! any field, and nothing below it is checked.

use std::path::Path;

use serde_json::Value as Json;

use super::paths::{FieldPath, Segment};
use crate::compile::table;

/// Deepest chain of `$ref`s and combinators followed from one schema node.
const MAX_DEPTH: usize = 32;

/// The schema that allows anything, standing in for what cannot be followed.
static ANY: Json = Json::Bool(true);

/// A loaded record schema.
#[derive(Debug)]
pub struct RecordSchema {
    /// The path as the policy wrote it.
    pub display: String,
    root: Json,
}

/// The schema's verdict on one step of a path.
#[derive(Debug)]
enum Step<'s> {
    /// The step leads to this schema.
    Schema(&'s Json),
    /// Anything is allowed here; nothing below is checked.
    Any,
    /// The field is not among the listed properties.
    UnknownField { listed: Vec<String> },
    /// The value here cannot have fields: it is only of these types.
    NotObject { types: Vec<String> },
}

/// The outcome of following a whole path through the schema.
#[derive(Debug, PartialEq, Eq)]
pub enum Followed {
    /// Every step is in the schema; `required` when each field on the way is required
    /// (so the path is present in every valid record).
    Known { required: bool },
    /// Part of the path is not checked: the schema allows anything there.
    Unchecked,
    /// Segment `index` names a field the schema does not list.
    UnknownField { index: usize, listed: Vec<String> },
    /// Segment `index` reads a field of a value that cannot have fields.
    NotObject { index: usize, types: Vec<String> },
}

/// A problem found while loading: message and help.
pub type Problem = (String, String);

impl RecordSchema {
    /// Loads the schema at `relative` to `policy_dir`; paths may not leave the directory.
    /// Returns the schema with any `$ref` it cannot follow, or why it cannot be used.
    pub fn load(policy_dir: &Path, relative: &str) -> Result<(RecordSchema, Vec<Problem>), Problem> {
        let path = table::resolve_path(policy_dir, relative).map_err(|error| (error.message, error.help))?;
        let text = std::fs::read_to_string(&path).map_err(|error| {
            (
                format!("cannot read record schema `{relative}`: {error}"),
                "check the path and its permissions".to_string(),
            )
        })?;
        let root: Json = serde_json::from_str(text.strip_prefix('\u{FEFF}').unwrap_or(&text)).map_err(|error| {
            (
                format!("record schema `{relative}` is not valid JSON: {error}"),
                "a record schema is a JSON Schema document".to_string(),
            )
        })?;
        if !root.is_object() && !root.is_boolean() {
            return Err((
                format!("record schema `{relative}` is not a JSON Schema"),
                "the document must be a JSON object (or `true`)".to_string(),
            ));
        }
        let schema = RecordSchema { display: relative.to_string(), root };
        let problems = schema.broken_refs().into_iter().map(|reference| {
            (
                format!("record schema `{relative}` has a `$ref` lint cannot follow: `{reference}`"),
                "lint follows references inside the document (`#/definitions/...`, `#/$defs/...`); paths below this reference are not checked".to_string(),
            )
        });
        let problems = problems.collect();
        Ok((schema, problems))
    }

    /// Follows `path` from the root of the schema.
    pub fn follow(&self, path: &FieldPath) -> Followed {
        let mut node = &self.root;
        let mut required = true;
        for (index, segment) in path.0.iter().enumerate() {
            let step = match segment {
                Segment::Field(name) => {
                    required &= self.requires(node, name);
                    self.field(node, name)
                }
                Segment::Element => {
                    required = false;
                    self.element(node)
                }
                Segment::Dynamic => return Followed::Unchecked,
            };
            node = match step {
                Step::Schema(next) => next,
                Step::Any => return Followed::Unchecked,
                Step::UnknownField { listed } => return Followed::UnknownField { index, listed },
                Step::NotObject { types } => return Followed::NotObject { index, types },
            };
        }
        Followed::Known { required }
    }

    /// Looks up the field `name` in the object schema at `node`.
    fn field<'s>(&'s self, node: &'s Json, name: &str) -> Step<'s> {
        let parts = self.parts(node);
        if parts.iter().any(|part| matches!(part, Json::Bool(true))) || parts.is_empty() {
            return Step::Any;
        }
        if let Some(found) = parts.iter().find_map(|part| part.get("properties")?.get(name)) {
            return Step::Schema(found);
        }
        for part in &parts {
            match part.get("additionalProperties") {
                Some(Json::Bool(true)) => return Step::Any,
                Some(schema @ Json::Object(_)) => return Step::Schema(schema),
                _ => {}
            }
            if part.get("patternProperties").is_some() {
                return Step::Any;
            }
        }
        let listed: Vec<String> = parts
            .iter()
            .filter_map(|part| part.get("properties")?.as_object())
            .flat_map(|properties| properties.keys().cloned())
            .collect();
        if !listed.is_empty() {
            return Step::UnknownField { listed };
        }
        let types = declared_types(&parts);
        if types.is_empty() || types.iter().any(|t| t == "object") { Step::Any } else { Step::NotObject { types } }
    }

    /// Looks up the schema of an element of the list schema at `node`.
    fn element<'s>(&'s self, node: &'s Json) -> Step<'s> {
        let parts = self.parts(node);
        match parts.iter().find_map(|part| part.get("items")) {
            Some(items @ (Json::Object(_) | Json::Bool(_))) => Step::Schema(items),
            _ => Step::Any,
        }
    }

    /// Whether the field `name` of an object described by `node` must be present.
    fn requires(&self, node: &Json, name: &str) -> bool {
        self.parts(node).iter().any(|part| {
            part.get("required").and_then(Json::as_array).is_some_and(|names| names.iter().any(|n| n == name))
        })
    }

    /// `node` with its `$ref` followed and the members of `allOf`, `anyOf` and `oneOf`
    /// added, recursively. A reference that cannot be followed contributes `true`.
    fn parts<'s>(&'s self, node: &'s Json) -> Vec<&'s Json> {
        let mut parts = Vec::new();
        self.collect_parts(node, 0, &mut parts);
        parts
    }

    fn collect_parts<'s>(&'s self, node: &'s Json, depth: usize, parts: &mut Vec<&'s Json>) {
        if depth > MAX_DEPTH {
            parts.push(&ANY);
            return;
        }
        if let Some(reference) = node.get("$ref").and_then(Json::as_str) {
            match self.pointer(reference) {
                Some(target) => self.collect_parts(target, depth + 1, parts),
                None => parts.push(&ANY),
            }
        }
        parts.push(node);
        for combinator in ["allOf", "anyOf", "oneOf"] {
            for member in node.get(combinator).and_then(Json::as_array).into_iter().flatten() {
                self.collect_parts(member, depth + 1, parts);
            }
        }
    }

    /// Finds the node a local reference (`#`, `#/definitions/step`) points to.
    fn pointer(&self, reference: &str) -> Option<&Json> {
        let pointer = reference.strip_prefix('#')?;
        if pointer.is_empty() {
            return Some(&self.root);
        }
        self.root.pointer(pointer)
    }

    /// Lists every `$ref` in the document that [`Self::pointer`] cannot follow.
    fn broken_refs(&self) -> Vec<String> {
        let mut broken = Vec::new();
        let mut stack = vec![&self.root];
        while let Some(node) = stack.pop() {
            match node {
                Json::Object(members) => {
                    if let Some(Json::String(reference)) = members.get("$ref") {
                        if self.pointer(reference).is_none() {
                            broken.push(reference.clone());
                        }
                    }
                    stack.extend(members.values());
                }
                Json::Array(items) => stack.extend(items),
                _ => {}
            }
        }
        broken.sort();
        broken.dedup();
        broken
    }
}

/// Collects the `type` names the parts state; empty when none states a type.
fn declared_types(parts: &[&Json]) -> Vec<String> {
    let mut types = Vec::new();
    for part in parts {
        match part.get("type") {
            Some(Json::String(name)) => types.push(name.clone()),
            Some(Json::Array(names)) => types.extend(names.iter().filter_map(Json::as_str).map(str::to_string)),
            _ => {}
        }
    }
    types.sort();
    types.dedup();
    types
}
