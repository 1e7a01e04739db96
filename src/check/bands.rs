//! Band tables, as the band lints read them.
//!
//! **Convention.** A reference table is a band table when every row has a `min` and a
//! `max` column (an empty cell or `null` is an open end), or when every row is a list of
//! objects that each have `min` and `max` (a JSON or YAML table such as
//! `{"copy_paper": [{"min": 0, "max": 100}, ...]}`). Edges are inclusive; a row states
//! other edges in an `edges` column: `[]` (the default), `[)`, `(]` or `()`, read like
//! interval notation. Rows are compared within a group: rows with the same `group`
//! value, else the same `category` value, else (for rows that are lists) the bands of
//! one row, else the whole table. Rows of an effective-dated table are compared only
//! with rows of the same validity interval. Edges are numbers, dates or timestamps.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value as Json;

use super::context::{LoadedTable, SetContext, line_span};
use crate::compile::table::Row;
use crate::diagnostic::Diagnostic;
use crate::value::{date_start, parse_date, parse_decimal, parse_timestamp};

/// An edge value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Point {
    Number(Decimal),
    Instant(DateTime<Utc>),
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Point::Number(number) => write!(f, "{}", number.normalize()),
            Point::Instant(instant) => f.write_str(&instant_text(*instant)),
        }
    }
}

/// A date when `instant` is midnight UTC, else an RFC 3339 timestamp.
pub fn instant_text(instant: DateTime<Utc>) -> String {
    if instant.time() == chrono::NaiveTime::MIN {
        instant.date_naive().to_string()
    } else {
        instant.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }
}

/// One band: `low`..`high`, `None` for an open end.
#[derive(Debug)]
pub struct Band<'t> {
    pub low: Option<Point>,
    pub low_inclusive: bool,
    pub high: Option<Point>,
    pub high_inclusive: bool,
    pub row: &'t Row,
    /// The band's 1-based position in its row, for rows that are lists of bands.
    pub element: Option<usize>,
}

impl Band<'_> {
    /// Whether the band contains no value: `low` above `high`, or equal with an exclusive edge.
    pub fn is_empty(&self) -> bool {
        match (self.low, self.high) {
            (Some(low), Some(high)) => low > high || (low == high && !(self.low_inclusive && self.high_inclusive)),
            _ => false,
        }
    }
}

/// Bands compared with each other.
#[derive(Debug)]
pub struct BandGroup<'t> {
    /// How the group is named in messages (``category `copy_paper` ``), `None` for the whole table.
    pub name: Option<String>,
    pub bands: Vec<Band<'t>>,
}

/// A row whose band cannot be read.
#[derive(Debug)]
pub struct BandProblem<'t> {
    pub row: &'t Row,
    pub element: Option<usize>,
    pub message: String,
}

/// A band table with its groups and the rows that could not be read.
pub struct BandTable<'t> {
    pub table: &'t LoadedTable,
    pub groups: Vec<BandGroup<'t>>,
    pub problems: Vec<BandProblem<'t>>,
}

/// Every band table of the set.
pub fn band_tables(context: &SetContext) -> Vec<BandTable<'_>> {
    context.tables.iter().filter_map(read_band_table).collect()
}

fn read_band_table(loaded: &LoadedTable) -> Option<BandTable<'_>> {
    let rows = &loaded.table.rows;
    if rows.is_empty() || !rows.iter().all(is_band_row) {
        return None;
    }
    let mut problems = Vec::new();
    let mut grouped: Vec<(String, Option<String>, Vec<Band<'_>>)> = Vec::new();
    for row in rows {
        for (element, object) in band_objects(row) {
            let band = match read_band(row, element, object) {
                Ok(band) => band,
                Err(message) => {
                    problems.push(BandProblem { row, element, message });
                    continue;
                }
            };
            let (identity, name) = group_of(row, element, object);
            match grouped.iter_mut().find(|(existing, ..)| *existing == identity) {
                Some((_, _, bands)) => bands.push(band),
                None => grouped.push((identity, name, vec![band])),
            }
        }
    }
    let groups = grouped.into_iter().map(|(_, name, bands)| BandGroup { name, bands }).collect();
    Some(BandTable { table: loaded, groups, problems })
}

fn has_edges(json: &Json) -> bool {
    json.as_object().is_some_and(|object| object.contains_key("min") && object.contains_key("max"))
}

fn is_band_row(row: &Row) -> bool {
    match &row.data {
        Json::Array(items) => !items.is_empty() && items.iter().all(has_edges),
        data => has_edges(data),
    }
}

/// The band objects of a row, with their position when the row is a list.
fn band_objects(row: &Row) -> Vec<(Option<usize>, &Json)> {
    match &row.data {
        Json::Array(items) => items.iter().enumerate().map(|(i, item)| (Some(i + 1), item)).collect(),
        data => vec![(None, data)],
    }
}

/// The group identity (for comparing) and its name (for messages).
fn group_of(row: &Row, element: Option<usize>, object: &Json) -> (String, Option<String>) {
    let named = ["group", "category"].into_iter().find_map(|column| {
        let value = object.get(column)?;
        let text = value.as_str().map_or_else(|| value.to_string(), str::to_string);
        Some(format!("{column} `{text}`"))
    });
    let name = named.or_else(|| element.map(|_| format!("row `{}`", row.key)));
    let validity = match (row.valid_from, row.valid_until) {
        (None, None) => String::new(),
        (from, until) => format!(
            " in force {}..{}",
            from.map(instant_text).unwrap_or_default(),
            until.map(instant_text).unwrap_or_default()
        ),
    };
    let name = match (name, validity.is_empty()) {
        (Some(name), _) => Some(format!("{name}{validity}")),
        (None, false) => Some(format!("rows{validity}")),
        (None, true) => None,
    };
    (name.clone().unwrap_or_default(), name)
}

fn read_band<'t>(row: &'t Row, element: Option<usize>, object: &Json) -> Result<Band<'t>, String> {
    let (low_inclusive, high_inclusive) = match object.get("edges") {
        None | Some(Json::Null) => (true, true),
        Some(Json::String(text)) => match text.as_str() {
            "[]" => (true, true),
            "[)" => (true, false),
            "(]" => (false, true),
            "()" => (false, false),
            other => return Err(format!("`edges` is `{other}`, not one of `[]`, `[)`, `(]` or `()`")),
        },
        Some(other) => return Err(format!("`edges` is `{other}`, not one of `[]`, `[)`, `(]` or `()`")),
    };
    let low = edge(object, "min")?;
    let high = edge(object, "max")?;
    if let (Some(low), Some(high)) = (low, high) {
        if std::mem::discriminant(&low) != std::mem::discriminant(&high) {
            return Err("`min` and `max` are not both numbers or both dates".to_string());
        }
    }
    Ok(Band { low, low_inclusive, high, high_inclusive, row, element })
}

fn edge(object: &Json, column: &str) -> Result<Option<Point>, String> {
    match object.get(column) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Number(number)) => parse_decimal(number.as_str())
            .map(|n| Some(Point::Number(n)))
            .ok_or_else(|| format!("`{column}` is `{number}`, which is out of range")),
        Some(Json::String(text)) if text.is_empty() => Ok(None),
        Some(Json::String(text)) => parse_timestamp(text)
            .map(|t| t.with_timezone(&Utc))
            .or_else(|| parse_date(text).map(|d| date_start(d).with_timezone(&Utc)))
            .map(Point::Instant)
            .or_else(|| parse_decimal(text).map(Point::Number))
            .map(Some)
            .ok_or_else(|| format!("`{column}` is `{text}`, not a number, date or timestamp")),
        Some(other) => Err(format!("`{column}` is `{other}`, not a number, date or timestamp")),
    }
}

/// Where two neighbouring bands of a group meet badly.
#[derive(Debug)]
pub enum Junction<'b, 't> {
    /// No band contains the values between `earlier` and `later`.
    Gap { earlier: &'b Band<'t>, later: &'b Band<'t> },
    /// `earlier` and `later` both contain the values from `later`'s low edge to `to`.
    Overlap { earlier: &'b Band<'t>, later: &'b Band<'t>, to: Option<Point> },
}

/// Finds the gaps and overlaps of a group whose edges are all of one kind; empty bands
/// are left out (`invalid_band` reports them).
pub fn junctions<'b, 't>(group: &'b BandGroup<'t>) -> Vec<Junction<'b, 't>> {
    let mut bands: Vec<&Band<'t>> = group.bands.iter().filter(|band| !band.is_empty()).collect();
    if !one_kind(&bands) {
        return Vec::new();
    }
    bands.sort_by(|a, b| compare_low(a, b));
    let mut found = Vec::new();
    let Some((first, rest)) = bands.split_first() else { return found };
    let mut reach: &Band<'t> = first;
    for band in rest {
        match meeting(reach, band) {
            Ordering::Less => found.push(Junction::Gap { earlier: reach, later: band }),
            Ordering::Greater => {
                let to = lower_high(reach, band);
                found.push(Junction::Overlap { earlier: reach, later: band, to });
            }
            Ordering::Equal => {}
        }
        if compare_high(band, reach) == Ordering::Greater {
            reach = band;
        }
    }
    found
}

fn one_kind(bands: &[&Band<'_>]) -> bool {
    let mut kinds = bands.iter().flat_map(|band| [band.low, band.high]).flatten().map(|p| std::mem::discriminant(&p));
    match kinds.next() {
        Some(first) => kinds.all(|kind| kind == first),
        None => true,
    }
}

/// Orders by low edge: open first, then by value, an inclusive edge before an exclusive one.
fn compare_low(a: &Band<'_>, b: &Band<'_>) -> Ordering {
    match (a.low, b.low) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.cmp(&y).then(b.low_inclusive.cmp(&a.low_inclusive)),
    }
}

/// Orders by high edge: open last, then by value, an exclusive edge before an inclusive one.
fn compare_high(a: &Band<'_>, b: &Band<'_>) -> Ordering {
    match (a.high, b.high) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => x.cmp(&y).then(a.high_inclusive.cmp(&b.high_inclusive)),
    }
}

/// How `next` starts relative to where `reach` ends: `Less` leaves a gap, `Equal` meets
/// exactly, `Greater` overlaps.
fn meeting(reach: &Band<'_>, next: &Band<'_>) -> Ordering {
    let (Some(high), Some(low)) = (reach.high, next.low) else { return Ordering::Greater };
    match high.cmp(&low) {
        Ordering::Less => Ordering::Less,
        Ordering::Greater => Ordering::Greater,
        Ordering::Equal => match (reach.high_inclusive, next.low_inclusive) {
            (true, true) => Ordering::Greater,
            (false, false) => Ordering::Less,
            _ => Ordering::Equal,
        },
    }
}

/// The lower of two high edges.
fn lower_high(a: &Band<'_>, b: &Band<'_>) -> Option<Point> {
    if compare_high(a, b) == Ordering::Greater { b.high } else { a.high }
}

/// How a band's row is named in messages: `line 4 of data/tiers.csv`, `entry 2 of ...`,
/// or `band 2 of \`copy_paper\` in ...`.
pub fn describe(loaded: &LoadedTable, row: &Row, element: Option<usize>) -> String {
    let path = &loaded.declaration.path;
    match element {
        Some(element) => format!("band {element} of `{}` in `{path}`", row.key),
        None if loaded.csv_source.is_some() => format!("line {} of `{path}`", row.line),
        None => format!("entry {} of `{path}`", row.line),
    }
}

/// Two rows named together: `lines 2 and 3 of \`data/limits.csv\``, `entries 1 and 4 of ...`.
pub fn describe_pair(loaded: &LoadedTable, first: &Row, second: &Row) -> String {
    let path = &loaded.declaration.path;
    let noun = if loaded.csv_source.is_some() { "lines" } else { "entries" };
    format!("{noun} {} and {} of `{path}`", first.line, second.line)
}

/// A finding about rows of `loaded`: in the CSV file when it is one, labelled at each
/// row's line, else in the policy file at the `use` line's path, labelled with the rows.
pub fn row_diagnostic(
    context: &SetContext,
    loaded: &LoadedTable,
    diagnostic: Diagnostic,
    rows: &[(&Row, Option<usize>, &str)],
) -> Diagnostic {
    match &loaded.csv_source {
        Some(csv) => {
            let mut diagnostic = diagnostic.in_file(csv);
            for (row, _, note) in rows {
                diagnostic = diagnostic.with_label(line_span(csv, row.line), *note);
            }
            diagnostic
        }
        None => {
            let file = &context.files[loaded.file];
            let places: Vec<String> = rows.iter().map(|(row, element, _)| describe(loaded, row, *element)).collect();
            diagnostic.in_file(&file.source).with_label(loaded.declaration.path_span, places.join(", "))
        }
    }
}

/// The band's edges written as an interval, e.g. `[1000, 5000)` or `[0, ∞)`.
pub fn interval_text(band: &Band<'_>) -> String {
    let open = if band.low_inclusive && band.low.is_some() { '[' } else { '(' };
    let close = if band.high_inclusive && band.high.is_some() { ']' } else { ')' };
    let low = band.low.map_or_else(|| "-∞".to_string(), |p| p.to_string());
    let high = band.high.map_or_else(|| "∞".to_string(), |p| p.to_string());
    format!("{open}{low}, {high}{close}")
}
