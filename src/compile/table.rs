//! Reference data: sets and tables loaded from CSV, text, JSON or YAML beside a policy.
//!
//! **Effective dating.** A table declared with `effective FROM..UNTIL` gives each row
//! a validity interval: `FROM` inclusive, `UNTIL` exclusive, an empty cell meaning
//! open-ended. Membership and lookup are judged at the run's event time, never at
//! the wall clock, so old runs are judged by the data of their day.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

use crate::value::{Value, date_start, key_text, parse_date, parse_decimal, parse_timestamp};

/// One loaded set or table.
#[derive(Debug)]
pub struct Table {
    /// The alias the policy uses (`deprioritized_vendors`).
    pub name: String,
    /// Path as written in the `use` line, for messages.
    pub display_path: String,
    pub rows: Vec<Row>,
    /// Key text to the indices of its rows, in file order.
    index: HashMap<String, Vec<usize>, foldhash::fast::RandomState>,
    pub effective: bool,
}

/// One row: its fields, where it came from, and when it is valid.
#[derive(Debug)]
pub struct Row {
    pub key: String,
    /// The row as a JSON object (a plain value for sets of scalars).
    pub data: Json,
    /// 1-based line in a CSV file; for JSON and YAML, the 1-based position of the row.
    pub line: usize,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
}

impl Row {
    fn is_valid_at(&self, at: DateTime<Utc>) -> bool {
        self.valid_from.is_none_or(|from| from <= at) && self.valid_until.is_none_or(|until| at < until)
    }
}

/// What a lookup found, for verdicts and their evidence.
#[derive(Debug)]
pub enum Lookup<'t> {
    Found(&'t Row),
    /// The key has rows, but none valid at the event time.
    NotInForce {
        rows: Vec<&'t Row>,
    },
    Absent,
}

/// How a `use` line asked for its data to be read.
pub struct TableSpec<'a> {
    pub name: &'a str,
    pub display_path: &'a str,
    pub key: Option<&'a str>,
    pub effective: Option<(&'a str, &'a str)>,
}

/// A problem loading reference data; `field` names the column or row at fault.
#[derive(Debug)]
pub struct TableError {
    pub message: String,
    pub help: String,
}

fn table_error(message: impl Into<String>, help: impl Into<String>) -> TableError {
    TableError { message: message.into(), help: help.into() }
}

impl Table {
    /// Rows in force for `key` at `at` (all rows with that key when the table is not effective-dated).
    pub fn lookup(&self, key: &str, at: Option<DateTime<Utc>>) -> Lookup<'_> {
        let Some(indices) = self.index.get(key) else { return Lookup::Absent };
        match self.row_in_force(indices, at) {
            Some(position) => Lookup::Found(&self.rows[position]),
            None => Lookup::NotInForce { rows: indices.iter().map(|&i| &self.rows[i]).collect() },
        }
    }

    /// Returns the position in [`Self::rows`] of the row that [`Self::lookup`] finds for
    /// `key` at `at`, or `None` when it finds none.
    pub fn position(&self, key: &str, at: Option<DateTime<Utc>>) -> Option<usize> {
        self.row_in_force(self.index.get(key)?, at)
    }

    /// Returns the first of a key's rows (`indices`, in file order) that is in force at `at`.
    fn row_in_force(&self, indices: &[usize], at: Option<DateTime<Utc>>) -> Option<usize> {
        if !self.effective {
            return indices.first().copied();
        }
        let at = at.expect("callers pass the event time for effective-dated tables");
        // NOTE: when rows of one key overlap in time, the first in file order wins here;
        // `semslo lint` reports such rows as an error (`semslo::lint::effective_overlap`).
        indices.iter().copied().find(|&i| self.rows[i].is_valid_at(at))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.index.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Loads `path` as described by `spec`; the format comes from the extension.
pub fn load(path: &Path, spec: &TableSpec<'_>) -> Result<Table, TableError> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let text = std::fs::read_to_string(path).map_err(|e| {
        table_error(
            format!("cannot read `{}`: {e}", spec.display_path),
            "check that the file exists beside the policy and is readable UTF-8 text",
        )
    })?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(&text);
    let raw_rows = match extension.as_str() {
        "csv" => csv_rows(text, spec)?,
        "txt" => text_rows(text, spec)?,
        "json" => {
            let json: Json = serde_json::from_str(text).map_err(|e| {
                table_error(
                    format!("`{}` is not valid JSON: {e}", spec.display_path),
                    "fix the JSON syntax at that line",
                )
            })?;
            json_rows(json, spec)?
        }
        "yaml" | "yml" => {
            let json: Json = yaml_to_json(text).map_err(|e| {
                table_error(format!("`{}` is not valid YAML: {e}", spec.display_path), "fix the YAML at that line")
            })?;
            json_rows(json, spec)?
        }
        _ => {
            return Err(table_error(
                format!("`{}` has an unsupported extension", spec.display_path),
                "reference data must be a `.csv`, `.txt`, `.json`, `.yaml` or `.yml` file",
            ));
        }
    };
    build(raw_rows, spec)
}

/// Parses a YAML file with the record reader's rules: YAML 1.2 core schema, duplicate
/// keys rejected, numbers kept digit for digit.
fn yaml_to_json(text: &str) -> Result<Json, String> {
    crate::input::parse_yaml_document(text, 1)
}

/// A row before keys and validity are worked out: (position, data).
type RawRow = (usize, Json);

fn csv_rows(text: &str, spec: &TableSpec<'_>) -> Result<Vec<RawRow>, TableError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| {
            table_error(
                format!("cannot read the header of `{}`: {e}", spec.display_path),
                "the first line must name the columns",
            )
        })?
        .clone();
    if headers.is_empty() {
        return Err(table_error(
            format!("`{}` is empty: it has no header line", spec.display_path),
            "the first line of a CSV file names its columns",
        ));
    }
    // Declared columns must exist even when the table has no rows yet.
    let columns = headers.iter().collect::<Vec<_>>().join(", ");
    let effective = spec.effective.into_iter().flat_map(|(from, until)| [from, until]);
    for (column, role) in spec.key.map(|key| (key, "the key")).into_iter().chain(effective.map(|c| (c, "`effective`")))
    {
        if !headers.iter().any(|header| header == column) {
            return Err(table_error(
                format!("`{}` has no column `{column}` for {role}", spec.display_path),
                format!("name one of its columns: {columns}"),
            ));
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            table_error(
                format!("`{}` line {line}: {e}", spec.display_path),
                "every row needs as many cells as the header has columns",
            )
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let mut object = Map::new();
        for (column, cell) in headers.iter().zip(record.iter()) {
            object.insert(column.to_string(), csv_cell(cell));
        }
        rows.push((line, Json::Object(object)));
    }
    Ok(rows)
}

/// A set from a text file: one value per line; blank lines and lines starting with `#`
/// are skipped, and surrounding white space is removed.
fn text_rows(text: &str, spec: &TableSpec<'_>) -> Result<Vec<RawRow>, TableError> {
    if spec.key.is_some() || spec.effective.is_some() {
        return Err(table_error(
            format!("`{}` is a plain list of values, so it has no columns for `key` or `effective`", spec.display_path),
            "use a CSV file for a table with columns, or drop `key ...` and `effective ...`",
        ));
    }
    Ok(text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(line_number, line)| (line_number, Json::String(line.to_string())))
        .collect())
}

/// Types a CSV cell: empty is null, decimal text is a number, `true`/`false` are
/// booleans, anything else stays text (dates too: they are parsed where compared).
fn csv_cell(cell: &str) -> Json {
    if cell.is_empty() {
        return Json::Null;
    }
    if cell == "true" || cell == "false" {
        return Json::Bool(cell == "true");
    }
    let looks_numeric =
        cell.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') && cell.bytes().any(|b| b.is_ascii_digit());
    if looks_numeric
        && parse_decimal(cell).is_some()
        && !(cell.len() > 1 && cell.starts_with('0') && !cell.starts_with("0."))
    {
        if let Ok(number) = serde_json::from_str::<Json>(cell) {
            return number;
        }
    }
    Json::String(cell.to_string())
}

fn json_rows(json: Json, spec: &TableSpec<'_>) -> Result<Vec<RawRow>, TableError> {
    match json {
        Json::Array(items) => Ok(items.into_iter().enumerate().map(|(i, item)| (i + 1, item)).collect()),
        // An object keyed by id (`{"V-17": {...}}`): each member is a row, its name the key
        // unless the policy names a key field.
        Json::Object(members) => Ok(members
            .into_iter()
            .enumerate()
            .map(|(i, (key, value))| {
                let value = match value {
                    Json::Object(mut object) if spec.key.is_none() => {
                        object.insert("__key".to_string(), Json::String(key));
                        Json::Object(object)
                    }
                    Json::Object(object) => Json::Object(object),
                    scalar => {
                        let mut object = Map::new();
                        object.insert("__key".to_string(), Json::String(key));
                        object.insert("value".to_string(), scalar);
                        Json::Object(object)
                    }
                };
                (i + 1, value)
            })
            .collect()),
        _ => Err(table_error(
            format!("`{}` holds a single value, not a set or table", spec.display_path),
            "use a JSON array of values or objects, or an object keyed by id",
        )),
    }
}

fn build(raw_rows: Vec<RawRow>, spec: &TableSpec<'_>) -> Result<Table, TableError> {
    let mut rows = Vec::with_capacity(raw_rows.len());
    for (line, data) in raw_rows {
        let key = row_key(&data, spec, line)?;
        let (valid_from, valid_until) = match spec.effective {
            Some((from, until)) => {
                (validity_bound(&data, from, spec, line)?, validity_bound(&data, until, spec, line)?)
            }
            None => (None, None),
        };
        let data = match data {
            Json::Object(mut object) if object.contains_key("__key") => {
                let key = object.remove("__key").unwrap_or(Json::Null);
                if object.len() == 1 && object.contains_key("value") {
                    object.remove("value").unwrap_or(Json::Null)
                } else {
                    object.insert("key".to_string(), key);
                    Json::Object(object)
                }
            }
            other => other,
        };
        rows.push(Row { key, data, line, valid_from, valid_until });
    }

    let mut index: HashMap<String, Vec<usize>, _> =
        HashMap::with_capacity_and_hasher(rows.len(), foldhash::fast::RandomState::default());
    for (i, row) in rows.iter().enumerate() {
        index.entry(row.key.clone()).or_default().push(i);
    }
    if spec.effective.is_none() {
        if let Some((key, positions)) = index.iter().find(|(_, positions)| positions.len() > 1) {
            let lines: Vec<String> = positions.iter().map(|&i| rows[i].line.to_string()).collect();
            return Err(table_error(
                format!("key `{key}` appears more than once in `{}` (rows {})", spec.display_path, lines.join(", ")),
                "keys must be unique; if the rows are valid at different times, add `effective FROM..UNTIL` to the `use` line",
            ));
        }
    }
    Ok(Table {
        name: spec.name.to_string(),
        display_path: spec.display_path.to_string(),
        rows,
        index,
        effective: spec.effective.is_some(),
    })
}

fn row_key(data: &Json, spec: &TableSpec<'_>, line: usize) -> Result<String, TableError> {
    let where_ = format!("`{}` row {line}", spec.display_path);
    let key_value = match (spec.key, data) {
        (Some(column), Json::Object(object)) => object.get(column).ok_or_else(|| {
            let columns: Vec<&str> = object.keys().map(String::as_str).filter(|k| *k != "__key").collect();
            table_error(
                format!("{where_} has no column `{column}`"),
                format!("the key must be one of its columns: {}", columns.join(", ")),
            )
        })?,
        (None, Json::Object(object)) if object.contains_key("__key") => &object["__key"],
        (None, Json::Object(object)) if object.len() == 1 => object.values().next().expect("one column"),
        (None, Json::Object(object)) => {
            let columns: Vec<&str> = object.keys().map(String::as_str).collect();
            return Err(table_error(
                format!("{where_} has several columns but the `use` line names no key"),
                format!("add `key COLUMN` to the `use` line; the columns are {}", columns.join(", ")),
            ));
        }
        (Some(column), _) => {
            return Err(table_error(
                format!("{where_} is a plain value, so it has no column `{column}`"),
                "remove `key ...` for a set of plain values, or make each row an object",
            ));
        }
        (None, scalar) => scalar,
    };
    let value = Value::from_json(key_value).map_err(|e| {
        table_error(format!("{where_}: number `{}` is out of range", e.0), "keys must be text or numbers")
    })?;
    key_text(&value).map(Cow::into_owned).ok_or_else(|| {
        table_error(
            format!("{where_}: the key is {} {}, not text or a number", value.type_name(), crate::value::Shown(&value)),
            "keys must be text or numbers",
        )
    })
}

fn validity_bound(
    data: &Json,
    column: &str,
    spec: &TableSpec<'_>,
    line: usize,
) -> Result<Option<DateTime<Utc>>, TableError> {
    let where_ = format!("`{}` row {line}", spec.display_path);
    let Json::Object(object) = data else {
        return Err(table_error(
            format!("{where_} is a plain value without validity columns"),
            "effective-dated rows must be objects",
        ));
    };
    let cell = object.get(column).ok_or_else(|| {
        table_error(
            format!("{where_} has no column `{column}` for `effective`"),
            "name the columns that hold each row's validity dates, e.g. `effective since..until`",
        )
    })?;
    match cell {
        Json::Null => Ok(None),
        Json::String(text) if text.is_empty() => Ok(None),
        Json::String(text) => parse_timestamp(text)
            .map(|t| t.with_timezone(&Utc))
            .or_else(|| parse_date(text).map(|d| date_start(d).with_timezone(&Utc)))
            .map(Some)
            .ok_or_else(|| {
                table_error(
                    format!("{where_}: `{column}` is `{text}`, not a date or timestamp"),
                    "write dates as YYYY-MM-DD or RFC 3339 timestamps; leave the cell empty for no bound",
                )
            }),
        other => Err(table_error(
            format!("{where_}: `{column}` is `{other}`, not a date or timestamp"),
            "write dates as YYYY-MM-DD or RFC 3339 timestamps; leave the cell empty for no bound",
        )),
    }
}

/// Resolves a `use` path against the policy's directory and rejects paths that leave it.
pub fn resolve_path(policy_dir: &Path, relative: &str) -> Result<PathBuf, TableError> {
    let candidate = policy_dir.join(relative);
    let outside = || {
        table_error(
            format!("`{relative}` is outside the policy directory"),
            "reference data must live in the policy's directory or below it; copy the file there",
        )
    };
    if Path::new(relative).is_absolute() {
        return Err(outside());
    }
    // Judge `..` by the path as written first, so a missing file outside the directory
    // is reported as outside rather than as missing.
    let mut depth = 0i32;
    for component in Path::new(relative).components() {
        match component {
            std::path::Component::ParentDir => depth -= 1,
            std::path::Component::Normal(_) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            return Err(outside());
        }
    }
    let root = policy_dir
        .canonicalize()
        .map_err(|e| table_error(format!("cannot open the policy directory: {e}"), "check the policy path"))?;
    let resolved = candidate.canonicalize().map_err(|e| {
        table_error(
            format!("cannot open `{relative}`: {e}"),
            format!("paths are relative to the policy file's directory `{}`", policy_dir.display()),
        )
    })?;
    if !resolved.starts_with(&root) {
        return Err(outside());
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec<'a>(key: Option<&'a str>, effective: Option<(&'a str, &'a str)>) -> TableSpec<'a> {
        TableSpec { name: "t", display_path: "t.csv", key, effective }
    }

    fn csv_table(text: &str, spec: &TableSpec<'_>) -> Result<Table, TableError> {
        build(csv_rows(text, spec)?, spec)
    }

    #[test]
    fn csv_cells_get_types() {
        assert_eq!(csv_cell("14.20"), serde_json::from_str::<Json>("14.20").unwrap());
        assert_eq!(csv_cell(""), Json::Null);
        assert_eq!(csv_cell("007"), Json::String("007".into()));
        assert_eq!(csv_cell("2025-06-01"), Json::String("2025-06-01".into()));
    }

    #[test]
    fn effective_rows_are_judged_at_event_time() {
        let text = "vendor_id,since,until\nV-1,2025-06-01,\nV-2,2025-01-01,2025-03-01\nV-2,2025-05-01,\n";
        let table = csv_table(text, &spec(Some("vendor_id"), Some(("since", "until")))).unwrap();
        let at = |s: &str| Some(parse_timestamp(s).unwrap().with_timezone(&Utc));
        assert!(matches!(table.lookup("V-1", at("2025-05-31T23:59:59Z")), Lookup::NotInForce { .. }));
        assert!(matches!(table.lookup("V-1", at("2025-06-01T00:00:00Z")), Lookup::Found(_)));
        assert!(matches!(table.lookup("V-2", at("2025-03-01T00:00:00Z")), Lookup::NotInForce { .. }));
        assert!(matches!(table.lookup("V-2", at("2025-05-02T00:00:00Z")), Lookup::Found(row) if row.line == 4));
        assert!(matches!(table.lookup("V-3", at("2025-05-02T00:00:00Z")), Lookup::Absent));
    }

    #[test]
    fn duplicate_keys_need_effective_dates() {
        let error = csv_table("k,v\na,1\na,2\n", &spec(Some("k"), None)).unwrap_err();
        assert!(error.message.contains("more than once"), "{}", error.message);
    }

    #[test]
    fn missing_key_column_lists_the_columns() {
        let error = csv_table("vendor,v\na,1\n", &spec(Some("vendor_id"), None)).unwrap_err();
        assert!(error.help.contains("vendor, v"), "{}", error.help);
    }

    #[test]
    fn json_object_keyed_by_id_is_a_table() {
        let json: Json = serde_json::from_str(r#"{"A1": {"status": "ok"}, "B2": {"status": "no"}}"#).unwrap();
        let table = build(json_rows(json, &spec(None, None)).unwrap(), &spec(None, None)).unwrap();
        let Lookup::Found(row) = table.lookup("B2", None) else { panic!("B2 not found") };
        assert_eq!(row.data["status"], "no");
        assert_eq!(row.data["key"], "B2");
    }
}
