//! The projecting reader: parses a JSON record into a [`Document`] that keeps only the
//! fields a policy set reads ([`Projection`]), skipping the rest while parsing.
//!
//! A value that rules read is kept as its source text, borrowed from the input, so
//! numbers keep every digit and unescaped strings are not copied. A value the policy
//! navigates into (`outcome` on the way to `outcome.total`) keeps only the wanted
//! members. If it is not an object or list after all, it is kept as the scalar it is.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value as Json};
use sonic_rs::LazyValue;

use crate::compile::projection::{PathNode, Projection};
use crate::document::{Document, Node, NodeId, same_key};

/// A [`Projection`] arranged for the reader: the members of each object in a list that
/// is searched by key length first, which is cheaper than a map for a handful of keys.
#[derive(Debug)]
pub struct ReadPlan {
    whole: bool,
    fields: Vec<(Box<str>, ReadPlan)>,
    elements: Option<Box<ReadPlan>>,
}

impl ReadPlan {
    pub fn new(projection: &Projection) -> ReadPlan {
        ReadPlan::of(&projection.root)
    }

    fn of(node: &PathNode) -> ReadPlan {
        ReadPlan {
            whole: node.is_leaf(),
            fields: node.fields.iter().map(|(name, child)| (name.as_str().into(), ReadPlan::of(child))).collect(),
            elements: node.elements.as_deref().map(|element| Box::new(ReadPlan::of(element))),
        }
    }

    /// True when the whole record is kept, so there is nothing to skip.
    pub fn is_whole(&self) -> bool {
        self.whole
    }

    fn field(&self, key: &str) -> Option<(&str, &ReadPlan)> {
        self.fields.iter().find(|(name, _)| same_key(name, key)).map(|(name, plan)| (&**name, plan))
    }
}

/// Parses one JSON text into `document`, which must be empty, keeping the parts that
/// `plan` names. The record is the document's root.
///
/// NOTE: skipped values are validated but their depth is not limited, so a record
/// nesting deeper than [`crate::input::MAX_DEPTH`] inside a field no rule reads is
/// accepted here, while the standard readers reject it (see docs/records.md).
pub fn parse_into<'a>(text: &'a [u8], plan: &'a ReadPlan, document: &mut Document<'a>) -> Result<(), String> {
    // sonic-rs reports invalid UTF-8 only inside the strings it decodes, and values kept as
    // source text or skipped are not decoded. So the whole line is checked first, once.
    let text = simdutf8::basic::from_utf8(text).map_err(|_| "the line is not valid UTF-8".to_string())?;
    let mut deserializer = sonic_rs::Deserializer::from_str(text);
    NodeSeed { plan, document }.deserialize(&mut deserializer).map_err(|e| e.to_string())?;
    deserializer.end().map_err(|e| e.to_string())?;
    if document.needs_full_check {
        // A kept value may hide an invalid escape or too deep a nesting: the standard
        // reader checks the whole line, so the line is rejected exactly when it would be.
        crate::input::parse_json_line(text.as_bytes())?;
    }
    Ok(())
}

/// Returns whether a value kept as source text is a string without escapes. Marks the
/// document for a check of the whole line when the value may be invalid JSON that
/// skipping did not check: an escape that does not decode (`\ud800`) or deep nesting.
fn classify_kept(text: &str, document: &mut Document<'_>) -> bool {
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(b'"') => {
            let plain = memchr::memchr(b'\\', bytes).is_none();
            // Decoding the one string is enough to know whether the line is valid.
            if !plain && serde_json::from_str::<String>(text).is_err() {
                document.needs_full_check = true;
            }
            plain
        }
        Some(b'[' | b'{') => {
            document.needs_full_check |= memchr::memchr(b'\\', bytes).is_some()
                || memchr::memchr2_iter(b'[', b'{', bytes).count() > crate::input::MAX_DEPTH;
            false
        }
        _ => false,
    }
}

/// Parses one JSON text, keeping the parts that `projection` names, as JSON.
pub fn parse_projected(text: &[u8], projection: &Projection) -> Result<Json, String> {
    let plan = ReadPlan::new(projection);
    let mut document = Document::default();
    parse_into(text, &plan, &mut document)?;
    Ok(document.root().map_or(Json::Null, |root| root.to_json()))
}

/// Reads one value into the document and returns its node.
struct NodeSeed<'p, 'd, 'a> {
    plan: &'p ReadPlan,
    document: &'d mut Document<'a>,
}

impl<'de: 'a, 'p: 'a, 'a> DeserializeSeed<'de> for NodeSeed<'p, '_, 'a> {
    type Value = NodeId;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<NodeId, D::Error> {
        if self.plan.whole {
            let lazy = <LazyValue<'de> as serde::Deserialize>::deserialize(deserializer)?;
            let text = lazy.as_raw_cow();
            let plain = classify_kept(&text, self.document);
            Ok(self.document.push(Node::Source(text, plain)))
        } else {
            deserializer.deserialize_any(ContainerVisitor { plan: self.plan, document: self.document })
        }
    }
}

/// Reads an object or list that the policy navigates into.
struct ContainerVisitor<'p, 'd, 'a> {
    plan: &'p ReadPlan,
    document: &'d mut Document<'a>,
}

impl<'de: 'a, 'p: 'a, 'a> Visitor<'de> for ContainerVisitor<'p, '_, 'a> {
    type Value = NodeId;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeId, A::Error> {
        let start = self.document.pending.len();
        while let Some(wanted) = map.next_key_seed(KeySeed(self.plan))? {
            match wanted {
                Some((name, plan)) => {
                    let id = map.next_value_seed(NodeSeed { plan, document: &mut *self.document })?;
                    self.document.pending.push((name, id));
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(self.document.finish_container(start, true))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodeId, A::Error> {
        let start = self.document.pending.len();
        let element = self.plan.elements.as_deref().unwrap_or(&WHOLE);
        while let Some(id) = seq.next_element_seed(NodeSeed { plan: element, document: &mut *self.document })? {
            self.document.pending.push(("", id));
        }
        Ok(self.document.finish_container(start, false))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<NodeId, E> {
        Ok(self.document.push(Node::Scalar(Box::new(Json::Bool(value)))))
    }

    fn visit_unit<E: de::Error>(self) -> Result<NodeId, E> {
        Ok(self.document.push(Node::Scalar(Box::new(Json::Null))))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<NodeId, E> {
        Ok(self.document.push(Node::Scalar(Box::new(Json::Number(value.into())))))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<NodeId, E> {
        Ok(self.document.push(Node::Scalar(Box::new(Json::Number(value.into())))))
    }

    // NOTE: a fraction found where the policy expected an object or list arrives here as
    // an f64. Rules reading into it fail with a type error either way, but the number
    // shown in that error may differ in its last digits from the record.
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<NodeId, E> {
        let json = Number::from_f64(value).map_or(Json::Null, Json::Number);
        Ok(self.document.push(Node::Scalar(Box::new(json))))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<NodeId, E> {
        Ok(self.document.push(Node::Scalar(Box::new(Json::String(value.to_string())))))
    }
}

/// The plan of a value kept whole: list elements that nothing reads into.
static WHOLE: ReadPlan = ReadPlan { whole: true, fields: Vec::new(), elements: None };

/// Reads an object key and looks it up among the wanted members without allocating.
struct KeySeed<'p>(&'p ReadPlan);

impl<'de, 'p> DeserializeSeed<'de> for KeySeed<'p> {
    type Value = Option<(&'p str, &'p ReadPlan)>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(KeyVisitor(self.0))
    }
}

struct KeyVisitor<'p>(&'p ReadPlan);

impl<'de, 'p> Visitor<'de> for KeyVisitor<'p> {
    type Value = Option<(&'p str, &'p ReadPlan)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.field(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::projection::Projection;

    fn projection(paths: &[&str]) -> Projection {
        let mut projection = Projection::default();
        for path in paths {
            projection.keep(path);
        }
        projection
    }

    #[test]
    fn unread_fields_are_skipped() {
        let projection = projection(&["outcome.total", "run_id"]);
        let text = br#"{"run_id":"r1","steps":[{"a":1}],"outcome":{"total":4260.00,"vendor":{"id":"V-1"}}}"#;
        let value = parse_projected(text, &projection).unwrap();
        assert_eq!(value.to_string(), r#"{"run_id":"r1","outcome":{"total":4260.00}}"#);
    }

    #[test]
    fn list_elements_keep_their_count_and_wanted_fields() {
        let projection = projection(&["steps[].name"]);
        let text = br#"{"steps":[{"name":"a","output":{}},{"output":{}},{"name":"c"}]}"#;
        let value = parse_projected(text, &projection).unwrap();
        assert_eq!(value.to_string(), r#"{"steps":[{"name":"a"},{},{"name":"c"}]}"#);
    }

    #[test]
    fn numbers_keep_every_digit() {
        let projection = projection(&["n", "m"]);
        let text = br#"{"n":12345678901234567890.123,"m":9007199254740993}"#;
        let value = parse_projected(text, &projection).unwrap();
        assert_eq!(value["n"].to_string(), "12345678901234567890.123");
        assert_eq!(value["m"].to_string(), "9007199254740993");
    }

    #[test]
    fn escaped_strings_are_decoded() {
        let projection = projection(&["s"]);
        let value = parse_projected(br#"{"s":"a\"b\u00e9"}"#, &projection).unwrap();
        assert_eq!(value["s"], "a\"bé");
    }

    #[test]
    fn navigated_scalar_is_kept_as_it_is() {
        let projection = projection(&["outcome.total"]);
        let value = parse_projected(br#"{"outcome":"cancelled"}"#, &projection).unwrap();
        assert_eq!(value["outcome"], "cancelled");
    }

    #[test]
    fn malformed_text_is_an_error() {
        let projection = projection(&["a"]);
        assert!(parse_projected(br#"{"a": tru}"#, &projection).is_err());
        assert!(parse_projected(br#"{"a": 1} x"#, &projection).is_err());
    }
}
