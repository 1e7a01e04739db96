//! The tables of the verdict store and the connection settings.
//!
//! Times are microseconds since the Unix epoch (UTC), as SQLite integers.

use rusqlite::Connection;

/// Identifier of this schema, kept in the `meta` table; a store written by an
/// incompatible version is refused instead of being misread.
pub const SCHEMA: &str = "semslo.store.v2";

/// The schema before `rule_verdicts` became a column of `runs`; opening such a store
/// migrates it in one transaction.
const SCHEMA_V1: &str = "semslo.store.v1";

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
    rule_verdicts TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS runs_by_event_time ON runs (event_time);
CREATE INDEX IF NOT EXISTS runs_by_received_at ON runs (received_at) WHERE event_time IS NULL;

-- How each SLO counted each run.
CREATE TABLE IF NOT EXISTS slo_outcomes (
    run              INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    slo              TEXT NOT NULL,
    -- good, bad, error or not_valid.
    result           TEXT NOT NULL,
    -- 1 when a not_valid run's `valid when` read a missing field.
    field_missing    INTEGER NOT NULL,
    -- NULL when the run's event time is missing or invalid (event_time_error says why).
    event_time       INTEGER,
    event_time_error TEXT,
    segment          TEXT,
    -- JSON array of {\"rule\", \"verdict\"}: the counted rules that made the run bad.
    bad_rules        TEXT NOT NULL,
    -- JSON array of {\"by\", \"value\"}: the run's value of each `by` dimension.
    dimensions       TEXT NOT NULL,
    PRIMARY KEY (run, slo)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS slo_outcomes_by_window ON slo_outcomes (slo, event_time);
";

/// Sets up a connection: WAL journal, `synchronous = FULL`, foreign keys (for the
/// cascading deletes of retention), and a busy timeout for readers meeting a checkpoint.
///
/// `FULL` makes every commit fsync the write-ahead log before it returns, so a
/// run whose commit returned survives a power loss. `NORMAL` would be enough
/// against a crash of the process, but may lose the last commits on power loss,
/// and the server promises that a run is durable once its response is sent.
pub fn configure(connection: &Connection, in_memory: bool) -> rusqlite::Result<()> {
    if !in_memory {
        let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(rusqlite::Error::InvalidParameterName(format!(
                "cannot switch the database to WAL mode: its journal mode stays `{mode}`; use a local file system"
            )));
        }
    }
    connection.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
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

/// Creates the tables if they do not exist, migrates a v1 store, and checks the
/// schema identifier.
pub fn create(connection: &Connection) -> Result<(), String> {
    connection.execute_batch(TABLES).map_err(|error| error.to_string())?;
    connection
        .execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?1)", [SCHEMA])
        .map_err(|error| error.to_string())?;
    let mut found: String = connection
        .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |row| row.get(0))
        .map_err(|error| error.to_string())?;
    if found == SCHEMA_V1 {
        connection
            .execute_batch(MIGRATE_V1)
            .map_err(|error| format!("cannot migrate the store from `{SCHEMA_V1}`: {error}"))?;
        found = SCHEMA.to_string();
    }
    if found != SCHEMA {
        return Err(format!("the store has schema `{found}`, but this semslo reads `{SCHEMA}`"));
    }
    Ok(())
}
