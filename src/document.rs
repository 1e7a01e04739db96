//! Projected records: the fields of one JSON record that a policy set reads, kept in
//! flat buffers that borrow from the input text.
//!
//! The projecting reader ([`crate::input::projected`]) fills a [`Document`] while it
//! parses a line. A value that rules read as a whole is kept as its JSON source text and
//! converted only when an expression reads it, so a number keeps every digit and an
//! unescaped string is never copied. Objects and lists on the way to those values keep
//! only the wanted members. One `Document` is cleared and reused for every line of a
//! chunk, so a record costs no allocation once the buffers have grown.

use std::borrow::Cow;

use serde_json::{Map, Value as Json};

use crate::value::{NumberOutOfRange, Value, parse_decimal};

/// Index of a node in its [`Document`].
pub type NodeId = u32;

/// One value of a projected record.
#[derive(Clone, Debug)]
pub(crate) enum Node<'a> {
    /// A value kept whole, as its JSON source text (`"V-1"`, `4260.00`, `{"a":1}`), and
    /// whether it is a string without escapes, whose content is its text between the quotes.
    Source(&'a str, bool),
    /// An object: its kept members are `members[first..first + len]`, in input order.
    Object { first: u32, len: u32 },
    /// A list: its elements are `members[first..first + len]`, with empty keys.
    List { first: u32, len: u32 },
}

/// The kept fields of one record. The root is the node added last.
#[derive(Debug, Default)]
pub struct Document<'a> {
    pub(crate) nodes: Vec<Node<'a>>,
    /// Object members and list elements: a key (empty for elements) and a node.
    pub(crate) members: Vec<(&'a str, NodeId)>,
    /// Members of the containers being parsed, moved to `members` when a container ends.
    pub(crate) pending: Vec<(&'a str, NodeId)>,
}

impl<'a> Document<'a> {
    /// Empties the document, keeping its buffers for the next record.
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.members.clear();
        self.pending.clear();
    }

    /// Returns the root value, or `None` for an empty document.
    pub fn root(&self) -> Option<NodeRef<'_>> {
        let last = self.nodes.len().checked_sub(1)?;
        Some(NodeRef { document: self, id: last as NodeId })
    }

    pub(crate) fn push(&mut self, node: Node<'a>) -> NodeId {
        self.nodes.push(node);
        (self.nodes.len() - 1) as NodeId
    }

    /// Moves the members pending since `start` into a finished container node.
    pub(crate) fn finish_container(&mut self, start: usize, is_object: bool) -> NodeId {
        let first = self.members.len() as u32;
        let len = (self.pending.len() - start) as u32;
        self.members.extend_from_slice(&self.pending[start..]);
        self.pending.truncate(start);
        let node = if is_object { Node::Object { first, len } } else { Node::List { first, len } };
        self.push(node)
    }
}

/// A value inside a [`Document`].
#[derive(Clone, Copy, Debug)]
pub struct NodeRef<'a> {
    document: &'a Document<'a>,
    id: NodeId,
}

impl<'a> NodeRef<'a> {
    fn node(&self) -> &'a Node<'a> {
        &self.document.nodes[self.id as usize]
    }

    fn child(&self, id: NodeId) -> NodeRef<'a> {
        NodeRef { document: self.document, id }
    }

    fn members(&self) -> &'a [(&'a str, NodeId)] {
        match self.node() {
            Node::Object { first, len } | Node::List { first, len } => {
                &self.document.members[*first as usize..(*first + *len) as usize]
            }
            Node::Source(..) => &[],
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self.node(), Node::Object { .. })
    }

    pub fn is_list(&self) -> bool {
        matches!(self.node(), Node::List { .. })
    }

    /// Returns the member `name` of an object. With duplicate keys the last one counts,
    /// as in `serde_json`.
    pub fn get(&self, name: &str) -> Option<NodeRef<'a>> {
        if !self.is_object() {
            return None;
        }
        self.members()
            .iter()
            .rev()
            .find(|(key, _)| same_key(key.as_bytes(), name.as_bytes()))
            .map(|(_, id)| self.child(*id))
    }

    /// Returns whether the value is JSON `null`.
    pub fn is_null(&self) -> bool {
        match self.node() {
            Node::Source(text, _) => text.trim_ascii() == "null",
            Node::Object { .. } | Node::List { .. } => false,
        }
    }

    /// Returns the JSON source text of a value kept whole.
    pub fn source_text(&self) -> Option<&'a str> {
        match self.node() {
            Node::Source(text, _) => Some(text),
            _ => None,
        }
    }

    /// Returns the content of a string kept whole when it has no escapes, which the
    /// reader found while parsing it.
    pub fn plain_text(&self) -> Option<&'a str> {
        match self.node() {
            Node::Source(text, true) => Some(&text[1..text.len() - 1]),
            _ => None,
        }
    }

    /// Returns the number of members of an object or elements of a list.
    pub fn len(&self) -> usize {
        self.members().len()
    }

    pub fn is_empty(&self) -> bool {
        self.members().is_empty()
    }

    /// Returns the elements of a list (or the member values of an object), in input order.
    pub fn items(&self) -> impl ExactSizeIterator<Item = NodeRef<'a>> + 'a {
        let document = self.document;
        self.members().iter().map(move |(_, id)| NodeRef { document, id: *id })
    }

    /// Returns the member keys of an object, in input order and without duplicates.
    pub fn keys(&self) -> Vec<&'a str> {
        let mut keys: Vec<&'a str> = Vec::with_capacity(self.len());
        for (key, _) in self.members() {
            if !keys.contains(key) {
                keys.push(key);
            }
        }
        keys
    }

    /// Converts to an evaluation value. Objects and lists stay references into the
    /// document; a value kept as source text is converted now.
    pub fn to_value(self) -> Result<Value<'a>, NumberOutOfRange> {
        match self.node() {
            Node::Object { .. } | Node::List { .. } => Ok(Value::Document(self)),
            Node::Source(text, true) => Ok(Value::Text(Cow::Borrowed(&text[1..text.len() - 1]))),
            Node::Source(text, false) => source_value(text),
        }
    }

    /// Converts to an owned JSON value, for reports and messages.
    pub fn to_json(&self) -> Json {
        match self.node() {
            Node::Source(text, _) => source_json(text),
            Node::List { .. } => Json::Array(self.items().map(|item| item.to_json()).collect()),
            Node::Object { .. } => {
                let mut object = Map::with_capacity(self.len());
                for (key, id) in self.members() {
                    object.insert((*key).to_string(), self.child(*id).to_json());
                }
                Json::Object(object)
            }
        }
    }

    /// Converts to owned JSON, keeping only the parts `keep` names (see
    /// [`crate::compile::projection::PathNode`]).
    pub fn to_json_kept(&self, keep: &crate::compile::projection::PathNode) -> Json {
        if keep.is_leaf() {
            return self.to_json();
        }
        match self.node() {
            Node::Object { .. } => {
                let mut object = Map::with_capacity(keep.fields.len().min(self.len()));
                for (key, id) in self.members() {
                    if let Some(child) = keep.fields.get(*key) {
                        object.insert((*key).to_string(), self.child(*id).to_json_kept(child));
                    }
                }
                Json::Object(object)
            }
            Node::List { .. } => match &keep.elements {
                Some(element) => Json::Array(self.items().map(|item| item.to_json_kept(element)).collect()),
                None => self.to_json(),
            },
            Node::Source(..) => self.to_json(),
        }
    }
}

/// Compares two object keys. Most keys differ in length or first byte, and the short
/// keys of records are compared as two overlapping words each, which is cheaper than a
/// byte loop or a call to `memcmp`.
#[inline]
pub(crate) fn same_key(a: &[u8], b: &[u8]) -> bool {
    let length = a.len();
    if length != b.len() || a.first() != b.first() {
        return false;
    }
    match length {
        0..=3 => a.iter().zip(b).all(|(x, y)| x == y),
        4..=7 => {
            let word = |bytes: &[u8], at: usize| u32::from_ne_bytes(bytes[at..at + 4].try_into().expect("four bytes"));
            word(a, 0) == word(b, 0) && word(a, length - 4) == word(b, length - 4)
        }
        8..=16 => {
            let word = |bytes: &[u8], at: usize| u64::from_ne_bytes(bytes[at..at + 8].try_into().expect("eight bytes"));
            word(a, 0) == word(b, 0) && word(a, length - 8) == word(b, length - 8)
        }
        _ => a == b,
    }
}

/// Returns the content of the JSON string `text` when it has no escapes. The reader
/// validated the text, so such a string is its own content.
pub(crate) fn plain_text(text: &str) -> Option<&str> {
    let content = text.strip_prefix('"')?.strip_suffix('"')?;
    (!content.contains('\\')).then_some(content)
}

/// Converts the JSON source text of one value, borrowing unescaped text.
fn source_value(text: &str) -> Result<Value<'_>, NumberOutOfRange> {
    let bytes = text.as_bytes();
    if let Some(content) = plain_text(text) {
        return Ok(Value::Text(Cow::Borrowed(content)));
    }
    match bytes.first() {
        Some(b'-' | b'0'..=b'9') => match parse_decimal(text) {
            Some(number) => Ok(Value::Number(number)),
            // A number past 28 digits stays opaque JSON, as in `Value::from_json`.
            None => Value::from_owned_json(source_json(text)),
        },
        Some(b't') if text == "true" => Ok(Value::Bool(true)),
        Some(b'f') if text == "false" => Ok(Value::Bool(false)),
        Some(b'n') if text == "null" => Ok(Value::Null),
        _ => Value::from_owned_json(source_json(text)),
    }
}

/// Converts the JSON source text of one value, which the reader has already validated.
pub(crate) fn source_json(text: &str) -> Json {
    if let Some(content) = plain_text(text) {
        return Json::String(content.to_string());
    }
    match text.as_bytes().first() {
        Some(b't') if text == "true" => return Json::Bool(true),
        Some(b'f') if text == "false" => return Json::Bool(false),
        Some(b'n') if text == "null" => return Json::Null,
        _ => {}
    }
    // A failure here is a bug. `null` keeps it visible in a report instead of stopping
    // the check.
    serde_json::from_str(text).unwrap_or(Json::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_numbers_keep_every_digit() {
        let Ok(Value::Number(n)) = source_value("9007199254740993") else { panic!("not a number") };
        assert_eq!(n.to_string(), "9007199254740993");
    }

    #[test]
    fn source_text_is_borrowed_when_unescaped() {
        assert!(matches!(source_value(r#""V-1""#), Ok(Value::Text(Cow::Borrowed("V-1")))));
    }

    #[test]
    fn escaped_source_text_is_decoded() {
        let Ok(Value::Text(text)) = source_value(r#""a\"b""#) else { panic!("not text") };
        assert_eq!(text, "a\"b");
    }

    #[test]
    fn source_json_matches_serde_json() {
        for text in [r#""V-1""#, r#""a\"b\u00e9""#, r#""""#, "true", "false", "null", "12.50", "-1e3", "[1,{\"a\":2}]"]
        {
            assert_eq!(source_json(text), serde_json::from_str::<Json>(text).unwrap(), "{text}");
        }
    }

    #[test]
    fn nodes_stay_small() {
        // Every kept value of every line is a node, so their size is read and written per run.
        assert!(std::mem::size_of::<Node<'_>>() <= 32, "a node takes {} bytes", std::mem::size_of::<Node<'_>>());
    }

    #[test]
    fn long_number_stays_opaque() {
        let value = source_value("123456789012345678901234567890123").unwrap();
        assert_eq!(value.type_name(), "number that does not fit a decimal");
    }
}
