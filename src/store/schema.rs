//! The tables of the verdict store and the connection settings.
//!
//! Times are microseconds since the Unix epoch (UTC), as SQLite integers.

use rusqlite::{Connection, OptionalExtension};

/// Identifier of this schema, kept in the `meta` table; a store written by an
/// incompatible version is refused instead of being misread.
pub const SCHEMA: &str = "semslo.store.v3";

/// The schema before `rule_verdicts` became a column of `runs`; opening such a store
/// migrates it in one transaction, to v2 and then to v3.
const SCHEMA_V1: &str = "semslo.store.v1";

/// The schema before `slo_outcomes` became a column of `runs`; opening such a store
/// migrates it in one transaction.
const SCHEMA_V2: &str = "semslo.store.v2";

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per accepted run, keyed by its run id.
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY,
    run_id      TEXT NOT NULL UNIQUE,
    -- sha256 of the canonical body: a resubmission with another hash is a conflict.
    body_sha256 TEXT NOT NULL,
    -- The latest event time any SLO placed the run at; NULL when none could.
    event_time  INTEGER,
    -- Wall-clock time the run was accepted.
    received_at INTEGER NOT NULL,
    policy_hash TEXT NOT NULL,
    -- The run's verdicts as JSON, exactly as the first response returned them.
    result      TEXT NOT NULL,
    -- Each rule's verdict, as a JSON object from rule name to pass, fail, skip or error.
    rule_verdicts TEXT NOT NULL DEFAULT '{}',
    -- How each SLO counted the run, as a JSON array (see store/outcomes.rs).
    slo_outcomes TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS runs_by_event_time ON runs (event_time);
CREATE INDEX IF NOT EXISTS runs_by_received_at ON runs (received_at) WHERE event_time IS NULL;
";

/// Page size of a new store, in bytes (SQLite's default is 4,096). A commit writes
/// each page it changed to the log once, so larger pages take fewer log frames,
/// write calls and checksums for the runs appended in a commit. But each index page
/// that one insert changes costs the whole page. In the load test's NDJSON phase
/// 16 KiB took 7 % more runs per second than 4 KiB; 32 KiB was no faster and 64 KiB slower.
const PAGE_SIZE: i64 = 16 * 1024;

/// Sets up a connection: the page size of a new store, WAL journal, `synchronous = FULL`,
/// and a busy timeout for readers meeting a checkpoint.
///
/// `FULL` makes every commit fsync the write-ahead log before it returns, so a
/// run whose commit returned survives a power loss. `NORMAL` would be enough
/// against a crash of the process, but may lose the last commits on power loss,
/// and the server promises that a run is durable once its response is sent.
pub fn configure(connection: &Connection, in_memory: bool) -> rusqlite::Result<()> {
    // Only a new database takes the page size; an existing one keeps its own.
    connection.pragma_update(None, "page_size", PAGE_SIZE)?;
    if !in_memory {
        let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(rusqlite::Error::InvalidParameterName(format!(
                "cannot switch the database to WAL mode: its journal mode stays `{mode}`; use a local file system"
            )));
        }
    }
    connection.execute_batch("PRAGMA synchronous = FULL;")?;
    connection.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

/// Moves the rows of v1's `rule_verdicts` table (one row per run and rule, written on
/// every run but read only for the per-rule counts) into a column of `runs`, which
/// takes one insert per run instead of one per rule.
const MIGRATE_V1: &str = "
BEGIN IMMEDIATE;
ALTER TABLE runs ADD COLUMN rule_verdicts TEXT NOT NULL DEFAULT '{}';
UPDATE runs SET rule_verdicts = coalesce(
    (SELECT json_group_object(rule, verdict) FROM rule_verdicts WHERE run = runs.id), '{}');
DROP TABLE rule_verdicts;
UPDATE meta SET value = 'semslo.store.v2' WHERE key = 'schema';
COMMIT;
";

/// Moves v2's `slo_outcomes` table into a column of `runs`. The table took one row
/// per run and SLO, and its index by SLO and event time took inserts at scattered
/// places. The column takes no insert of its own.
const MIGRATE_V2: &str = "
BEGIN IMMEDIATE;
ALTER TABLE runs ADD COLUMN slo_outcomes TEXT NOT NULL DEFAULT '[]';
UPDATE runs SET slo_outcomes = coalesce(
    (SELECT json_group_array(json_object(
        'slo', slo,
        'result', result,
        'field_missing', json(CASE WHEN field_missing THEN 'true' ELSE 'false' END),
        'event_time', event_time,
        'event_time_error', event_time_error,
        'segment', segment,
        'bad_rules', json(bad_rules),
        'dimensions', json(dimensions)))
     FROM slo_outcomes WHERE run = runs.id), '[]');
DROP TABLE slo_outcomes;
UPDATE meta SET value = 'semslo.store.v3' WHERE key = 'schema';
COMMIT;
";

/// Refuses a database that is not a semslo store this version reads or migrates,
/// before anything is written to it: one with tables but no schema identifier in a
/// `meta` table, or with an unknown identifier. A database without tables is new.
pub fn check_existing(connection: &Connection) -> Result<(), String> {
    let tables: i64 = connection
        .query_row("SELECT count(*) FROM sqlite_schema WHERE type = 'table'", [], |row| row.get(0))
        .map_err(|error| error.to_string())?;
    if tables == 0 {
        return Ok(());
    }
    let found: Option<String> = connection
        .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |row| row.get(0))
        .optional()
        .or_else(|error| match error {
            // A missing `meta` table is treated as a missing row.
            rusqlite::Error::SqliteFailure(_, Some(message)) if message.starts_with("no such table") => Ok(None),
            error => Err(error),
        })
        .map_err(|error| error.to_string())?;
    match found {
        None => Err(
            "the file is an SQLite database but not a semslo store: it has tables but no `schema` row in a `meta` table, so it was left unchanged; give `--store` a new file or a store semslo wrote"
                .to_string(),
        ),
        Some(found) if ![SCHEMA, SCHEMA_V2, SCHEMA_V1].contains(&found.as_str()) => Err(format!(
            "the store has schema `{found}`, but this semslo reads `{SCHEMA}` and migrates `{SCHEMA_V2}` and `{SCHEMA_V1}`"
        )),
        Some(_) => Ok(()),
    }
}

/// Creates the tables if they do not exist, migrates a v1 or v2 store, and checks
/// the schema identifier. Call [`check_existing`] before, so a file that is not a
/// store is refused before anything is written.
pub fn create(connection: &Connection) -> Result<(), String> {
    connection.execute_batch(TABLES).map_err(|error| error.to_string())?;
    connection
        .execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?1)", [SCHEMA])
        .map_err(|error| error.to_string())?;
    let mut found: String = connection
        .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |row| row.get(0))
        .map_err(|error| error.to_string())?;
    if found != SCHEMA {
        tracing::info!(from = %found, to = SCHEMA, "migrating the verdict store; an older semslo will refuse it afterwards");
    }
    if found == SCHEMA_V1 {
        connection
            .execute_batch(MIGRATE_V1)
            .map_err(|error| format!("cannot migrate the store from `{SCHEMA_V1}`: {error}"))?;
        found = SCHEMA_V2.to_string();
    }
    if found == SCHEMA_V2 {
        connection
            .execute_batch(MIGRATE_V2)
            .map_err(|error| format!("cannot migrate the store from `{SCHEMA_V2}`: {error}"))?;
        found = SCHEMA.to_string();
    }
    if found != SCHEMA {
        return Err(format!("the store has schema `{found}`, but this semslo reads `{SCHEMA}`"));
    }
    Ok(())
}
