//! What an evaluation saw: the values read, the reference rows consulted, the
//! quantifiers' counts. Collected only while explaining a failing or erroring rule.

use serde::Serialize;
use serde_json::Value as Json;

/// Most observations kept for one rule on one run; later ones are counted, not kept.
pub const MAX_OBSERVATIONS: usize = 48;

/// A reference row as evidence: where it is and when it is valid.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowInfo {
    pub table: String,
    pub file: String,
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Observation {
    /// A field of the run was read: `outcome.vendor.id` was `V-17`.
    Read {
        expression: String,
        value: Json,
        /// Quantifier variables in force, e.g. `s = steps[3]`.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        bindings: Vec<String>,
    },
    /// `value in table`, with the row that decided it.
    Membership {
        expression: String,
        value: Json,
        table: String,
        found: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        row: Option<RowInfo>,
        /// Rows with this key that were not in force at the event time.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        rows_not_in_force: Vec<RowInfo>,
        #[serde(skip_serializing_if = "Option::is_none")]
        event_time: Option<String>,
    },
    /// `table[key]` found a row.
    Lookup { table: String, key: String, row: RowInfo },
    /// A comparison and the two values it compared.
    Comparison { expression: String, left: Json, right: Json, held: bool },
    /// `a before b`: the positions of the two elements found (`None`: no element matched).
    Order { left: String, left_index: Option<usize>, right: String, right_index: Option<usize>, held: bool },
    /// `any`/`all`/`none`/`count` over a list.
    Quantifier {
        expression: String,
        /// Elements in the list.
        total: usize,
        /// Elements that passed the `where` filter.
        considered: usize,
        /// Elements that satisfied the body (for `count`, that passed the filter).
        satisfied: usize,
        /// For a false `all`, the first element that did not satisfy it; for a false
        /// `none`, the first that did.
        #[serde(skip_serializing_if = "Option::is_none")]
        counterexample: Option<usize>,
        held: bool,
    },
}

impl Observation {
    /// Whether two observations say the same thing (a path read twice).
    pub fn same_as(&self, other: &Observation) -> bool {
        self == other
    }
}
