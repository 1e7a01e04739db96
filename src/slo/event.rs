//! Compact events: what an SLO keeps of each valid run after reading it.
//!
//! A run is reduced to its event time, two flag bits, its first failing segment,
//! and indices into interned tables (the set of rules that made it bad, its `by`
//! dimension values). Windows, the daily series and the breakdowns are computed
//! from these after reading; the record itself is never kept.

use std::collections::HashMap;
use std::hash::Hash;

/// Flag: the run counts against the SLO.
pub const BAD: u8 = 1;
/// Flag: the run is bad only because something could not be decided (no counted
/// rule failed, but one errored, or `valid when` errored).
pub const ERROR: u8 = 2;

/// Segment index of a bad run with no segment.
pub const NO_SEGMENT: u16 = u16::MAX;

/// One valid run, 16 bytes.
#[derive(Clone, Copy, Debug)]
pub struct Event {
    /// Event time, microseconds since the Unix epoch.
    pub time: i64,
    /// Index into [`EventLog::rule_sets`]; 0 is the empty set.
    pub rules: u32,
    /// Index into the policy set's segments, or [`NO_SEGMENT`].
    pub segment: u16,
    pub flags: u8,
}

impl Event {
    pub fn is_bad(&self) -> bool {
        self.flags & BAD != 0
    }

    pub fn is_error(&self) -> bool {
        self.flags & ERROR != 0
    }
}

/// Values stored once and referred to by index.
#[derive(Debug)]
pub struct Interner<T> {
    values: Vec<T>,
    index: HashMap<T, u32>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner { values: Vec::new(), index: HashMap::new() }
    }
}

impl<T: Clone + Eq + Hash> Interner<T> {
    pub fn intern(&mut self, value: T) -> u32 {
        if let Some(&id) = self.index.get(&value) {
            return id;
        }
        let id = u32::try_from(self.values.len()).expect("fewer than 2^32 distinct values");
        self.values.push(value.clone());
        self.index.insert(value, id);
        id
    }

    pub fn get(&self, id: u32) -> &T {
        &self.values[id as usize]
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }
}

/// A counted rule that made a run bad: its index in the policy set, and whether
/// its verdict was `error` (true) or `fail` (false).
pub type BadRule = (u32, bool);

/// The valid, placed runs of one SLO.
#[derive(Debug)]
pub struct EventLog {
    pub events: Vec<Event>,
    /// `dimension_count` value indices per event, in event order.
    pub dimensions: Vec<u32>,
    pub dimension_count: usize,
    /// Interned values of each dimension.
    pub dimension_values: Vec<Interner<String>>,
    pub rule_sets: Interner<Vec<BadRule>>,
}

impl EventLog {
    pub fn new(dimension_count: usize) -> EventLog {
        let mut rule_sets = Interner::default();
        rule_sets.intern(Vec::new());
        EventLog {
            events: Vec::new(),
            dimensions: Vec::new(),
            dimension_count,
            dimension_values: (0..dimension_count).map(|_| Interner::default()).collect(),
            rule_sets,
        }
    }

    pub fn push(&mut self, event: Event, dimensions: &[String]) {
        self.events.push(event);
        for (interner, value) in self.dimension_values.iter_mut().zip(dimensions) {
            let id = interner.intern(value.clone());
            self.dimensions.push(id);
        }
    }

    /// Returns the value index of dimension `dimension` for the event at `index`.
    pub fn dimension(&self, index: usize, dimension: usize) -> u32 {
        self.dimensions[index * self.dimension_count + dimension]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_is_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Event>(), 16);
    }

    #[test]
    fn interner_returns_one_index_per_value() {
        let mut interner = Interner::default();
        let a = interner.intern("V-17".to_string());
        let b = interner.intern("V-04".to_string());
        assert_eq!(interner.intern("V-17".to_string()), a);
        assert_ne!(a, b);
        assert_eq!(interner.get(b), "V-04");
    }
}
