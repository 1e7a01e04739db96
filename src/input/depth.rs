//! The nesting limit that every reader applies to records.
//!
//! A record may nest at most [`MAX_DEPTH`] arrays and objects, counting the record
//! object itself. The number is serde_json's, whose parser rejects the 128th nested
//! container (`recursion limit exceeded`), so JSON input cannot go deeper. The YAML
//! reader and the adapters use the same limit, so that a record is accepted or not
//! whatever format it came in. Deeper records are a [`RecordError`] with
//! [`too_deep_reason`], never a stack overflow.
//!
//! [`RecordError`]: super::RecordError

use serde_json::Value;

/// The maximum number of nested arrays and objects in a record.
pub const MAX_DEPTH: usize = 127;

/// Returns the reason text for a record that nests deeper than [`MAX_DEPTH`].
pub fn too_deep_reason() -> String {
    format!("nested deeper than {MAX_DEPTH} levels of arrays and objects")
}

/// Returns whether `value` nests more than [`MAX_DEPTH`] arrays and objects.
///
/// Walks the value with an explicit stack, so it cannot overflow the call stack
/// whatever the depth.
pub fn exceeds_max_depth(value: &Value) -> bool {
    let mut pending: Vec<(&Value, usize)> = vec![(value, 1)];
    while let Some((value, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(entries) => Box::new(entries.values()),
            _ => continue,
        };
        if depth > MAX_DEPTH {
            return true;
        }
        pending.extend(children.filter(|child| child.is_array() || child.is_object()).map(|child| (child, depth + 1)));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested_arrays(depth: usize) -> Value {
        let mut value = Value::Array(Vec::new());
        for _ in 1..depth {
            value = Value::Array(vec![value]);
        }
        value
    }

    #[test]
    fn depth_at_limit_is_accepted() {
        assert!(!exceeds_max_depth(&nested_arrays(MAX_DEPTH)));
    }

    #[test]
    fn depth_past_limit_is_rejected() {
        assert!(exceeds_max_depth(&nested_arrays(MAX_DEPTH + 1)));
    }

    #[test]
    fn scalars_do_not_count_as_levels() {
        let value = serde_json::json!({"a": {"b": [1, "x", null]}});
        assert!(!exceeds_max_depth(&value));
    }
}
