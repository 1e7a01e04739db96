//! The SQLite verdict store: durability settings, idempotent submission, conflicts,
//! restarts, retention, and SLO status computed from stored rows.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::TimeDelta;
use semslo::engine::Engine;
use semslo::input::{self, InputFormat, Source};
use semslo::slo::{ReportBuilder, ReportOptions};
use semslo::store::{NewRun, Store, Submission, canonical, retention, slo_status};
use serde_json::{Value as Json, json};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/serve/policy")
}

fn procurement() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/procurement")
}

fn order(run_id: &str, vendor: &str, created_at: &str) -> Json {
    json!({"run_id": run_id, "outcome": {
        "type": "order", "vendor": vendor, "total": 20, "unit_price": 10, "quantity": 2, "created_at": created_at
    }})
}

fn new_run(engine: &Engine, record: &Json) -> NewRun {
    let verdicts = engine.evaluate(record);
    let run_id = verdicts.run_id.clone().unwrap();
    NewRun::new(run_id, canonical::body_hash(record), &verdicts)
}

fn read_jsonl(path: &Path) -> Vec<Json> {
    input::read_records(Source::Path(path.to_path_buf()), InputFormat::Jsonl)
        .unwrap()
        .map(|r| r.unwrap().value)
        .collect()
}

#[test]
fn file_store_uses_wal_and_large_pages() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("verdicts.db");
    let _store = Store::open(&path).unwrap();
    let connection = rusqlite::Connection::open(&path).unwrap();
    let mode: String = connection.query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let page_size: i64 = connection.query_row("PRAGMA page_size", [], |row| row.get(0)).unwrap();
    assert_eq!(page_size, 16 * 1024);
}

#[test]
fn resubmitted_run_is_a_duplicate() {
    let engine = Engine::load(fixture()).unwrap();
    let store = Store::open_in_memory().unwrap();
    let record = order("r-1", "V-9", "2025-03-01T10:00:00Z");
    assert_eq!(store.submit(vec![new_run(&engine, &record)]).unwrap(), [Submission::Accepted]);

    // Same content, other key order and number notation.
    let reordered: Json = serde_json::from_str(
        r#"{"outcome": {"created_at": "2025-03-01T10:00:00Z", "quantity": 2.0, "unit_price": 10, "total": 20, "vendor": "V-9", "type": "order"}, "run_id": "r-1"}"#,
    )
    .unwrap();
    let again = store.submit(vec![new_run(&engine, &reordered)]).unwrap();
    match &again[0] {
        Submission::Duplicate { result, policy_hash } => {
            assert_eq!(policy_hash, &engine.hash());
            let stored: Json = serde_json::from_str(result).unwrap();
            assert_eq!(stored["verdicts"][0]["verdict"], "fail");
        }
        other => panic!("expected a duplicate, got {other:?}"),
    }
    assert_eq!(store.run_count().unwrap(), 1);
}

#[test]
fn different_body_under_known_id_conflicts() {
    let engine = Engine::load(fixture()).unwrap();
    let store = Store::open_in_memory().unwrap();
    let first = order("r-1", "V-1", "2025-03-01T10:00:00Z");
    let second = order("r-1", "V-2", "2025-03-01T10:00:00Z");
    store.submit(vec![new_run(&engine, &first)]).unwrap();

    let result = store.submit(vec![new_run(&engine, &second)]).unwrap();
    match &result[0] {
        Submission::Conflict { stored_body_hash, .. } => assert_eq!(stored_body_hash, &canonical::body_hash(&first)),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.run_count().unwrap(), 1);
}

#[test]
fn repeated_id_within_one_batch_counts_once() {
    let engine = Engine::load(fixture()).unwrap();
    let store = Store::open_in_memory().unwrap();
    let record = order("r-1", "V-1", "2025-03-01T10:00:00Z");
    let results = store.submit(vec![new_run(&engine, &record), new_run(&engine, &record)]).unwrap();
    assert_eq!(results[0], Submission::Accepted);
    assert!(matches!(results[1], Submission::Duplicate { .. }), "{results:?}");
    assert_eq!(store.run_count().unwrap(), 1);
}

#[test]
fn concurrent_submissions_all_commit() {
    let engine = Engine::load(fixture()).unwrap();
    let directory = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(directory.path().join("verdicts.db")).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let store = Arc::clone(&store);
            let engine = engine.clone();
            std::thread::spawn(move || {
                for index in 0..25 {
                    let record = order(&format!("t{thread}-{index}"), "V-1", "2025-03-01T10:00:00Z");
                    assert_eq!(store.submit(vec![new_run(&engine, &record)]).unwrap(), [Submission::Accepted]);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(store.run_count().unwrap(), 200);
}

#[test]
fn log_is_checkpointed_while_store_is_open() {
    let engine = Engine::load(fixture()).unwrap();
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("verdicts.db");
    let store = Store::open(&path).unwrap();
    let runs: Vec<NewRun> =
        (0..500).map(|index| new_run(&engine, &order(&format!("r-{index}"), "V-1", "2025-03-01T10:00:00Z"))).collect();
    store.submit(runs).unwrap();

    // Committed pages sit in the write-ahead log until a checkpoint copies them into
    // the database file; commits alone would not checkpoint before 10,000 pages.
    let database_bytes = || std::fs::metadata(&path).map_or(0, |m| m.len());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while database_bytes() < 100_000 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(database_bytes() >= 100_000, "the database file holds {} bytes", database_bytes());
    assert_eq!(store.run_count().unwrap(), 500);
}

#[test]
fn runs_survive_reopening() {
    let engine = Engine::load(fixture()).unwrap();
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("verdicts.db");
    let record = order("r-1", "V-9", "2025-03-01T10:00:00Z");
    {
        let store = Store::open(&path).unwrap();
        store.submit(vec![new_run(&engine, &record)]).unwrap();
        store.close().unwrap();
    }
    let store = Store::open(&path).unwrap();
    let stored = store.run("r-1").unwrap().expect("the run is still there");
    assert_eq!(stored.policy_hash, engine.hash());
    assert_eq!(stored.body_hash, canonical::body_hash(&record));
    assert!(matches!(store.submit(vec![new_run(&engine, &record)]).unwrap()[0], Submission::Duplicate { .. }));
}

#[test]
fn close_right_after_commit_returns() {
    let engine = Engine::load(fixture()).unwrap();
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("verdicts.db");
    let store = Store::open(&path).unwrap();
    let record = order("r-1", "V-1", "2025-03-01T10:00:00Z");
    store.submit(vec![new_run(&engine, &record)]).unwrap();

    // The checkpointer is still waiting to checkpoint this commit when `close` runs.
    let (closed, done) = std::sync::mpsc::channel();
    std::thread::spawn(move || closed.send(store.close()).unwrap());
    let result = done.recv_timeout(std::time::Duration::from_secs(20)).expect("close returns");
    assert!(result.is_ok(), "{result:?}");
    let wal = std::fs::metadata(path.with_extension("db-wal")).map_or(0, |m| m.len());
    assert_eq!(wal, 0, "the log is checkpointed and truncated on close");
}

#[test]
fn closed_store_rejects_writes() {
    let engine = Engine::load(fixture()).unwrap();
    let store = Store::open_in_memory().unwrap();
    store.close().unwrap();
    let record = order("r-1", "V-1", "2025-03-01T10:00:00Z");
    assert!(store.submit(vec![new_run(&engine, &record)]).is_err());
}

#[test]
fn retention_keeps_what_the_longest_window_needs() {
    let engine = Engine::load(fixture()).unwrap();
    let span = retention::span_for(&engine.current().set).unwrap();
    // The 7-day window plus the 3-day long window of the default ticket alert.
    assert_eq!(span, TimeDelta::days(10));

    let store = Store::open_in_memory().unwrap();
    store.set_retention(Some(span)).unwrap();
    let old = order("old", "V-1", "2025-01-01T00:00:00Z");
    let kept = order("kept", "V-1", "2025-03-02T00:00:00Z");
    store.submit(vec![new_run(&engine, &old), new_run(&engine, &kept)]).unwrap();
    assert_eq!(store.run_count().unwrap(), 1, "the old run is deleted in the same commit");
    assert!(store.run("old").unwrap().is_none());

    let newest = order("newest", "V-1", "2025-03-12T12:00:00Z");
    store.submit(vec![new_run(&engine, &newest)]).unwrap();
    assert!(store.run("kept").unwrap().is_none(), "more than 10 days before the newest event");
    assert_eq!(store.apply_retention().unwrap(), 0);
}

#[test]
fn default_alert_windows_extend_retention() {
    let engine = Engine::load(procurement()).unwrap();
    let span = retention::span_for(&engine.current().set).unwrap();
    // The calendar quarter (at most 92 days, plus slack for an offset change) plus the 3-day ticket window.
    assert_eq!(span, TimeDelta::days(92) + TimeDelta::hours(2) + TimeDelta::days(3));
}

#[test]
fn slo_status_matches_semslo_report() {
    let records = read_jsonl(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/procurement/runs.jsonl"));
    assert_status_matches_report(&procurement(), &records);
}

#[test]
fn status_of_uncounted_runs_matches_report() {
    assert_status_matches_report(&orders_policy(), &mixed_orders());
}

fn orders_policy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/slo/orders.slo")
}

/// Orders for `tests/data/slo/orders.slo` that every SLO counts differently: good,
/// failing in each segment, erroring, without or with an unreadable event time, and
/// not valid with and without the field `valid when` reads.
fn mixed_orders() -> Vec<Json> {
    let order = |id: &str, at: &str, vendor: &str, price: i64| json!({"run_id": id, "outcome": {"type": "order", "vendor": vendor, "price": price, "created_at": at}});
    let mut runs = vec![
        order("good-1", "2025-06-01T10:00:00Z", "acme", 10),
        order("good-2", "2025-06-03T09:00:00Z", "zenith", 20),
        order("blocked", "2025-06-03T10:00:00Z", "blocked", 10),
        order("pricey", "2025-06-03T11:00:00Z", "acme", 500),
        order("both", "2025-06-03T11:30:00Z", "blocked", 500),
        order("old", "2025-04-01T11:30:00Z", "blocked", 10),
    ];
    let mut no_price = order("no-price", "2025-06-03T12:00:00Z", "acme", 10);
    no_price["outcome"].as_object_mut().unwrap().remove("price");
    let mut timeless = order("timeless", "2025-06-03T12:00:00Z", "acme", 10);
    timeless["outcome"].as_object_mut().unwrap().remove("created_at");
    let bad_time = order("bad-time", "yesterday", "blocked", 10);
    let mut refund = order("refund", "2025-06-03T12:30:00Z", "acme", 10);
    refund["outcome"]["type"] = json!("refund");
    let mut untyped = order("untyped", "2025-06-03T12:40:00Z", "acme", 10);
    untyped["outcome"].as_object_mut().unwrap().remove("type");
    runs.extend([no_price, timeless, bad_time, refund, untyped]);
    runs
}

/// Stores `records` and checks that the status computed from the store equals the
/// report `semslo report` builds from the same records.
fn assert_status_matches_report(policy: &Path, records: &[Json]) {
    let engine = Engine::load(policy).unwrap();
    let live = engine.current();
    let store = Store::open_in_memory().unwrap();
    let mut builder = ReportBuilder::new(&live.set, ReportOptions::default());
    let mut runs = Vec::new();
    for (line, record) in records.iter().enumerate() {
        let verdicts = semslo::eval::evaluate(&live.set, record);
        builder.add_run(record, &input::Location::new(Arc::from("runs.jsonl"), line + 1), &verdicts);
        runs.push(new_run(&engine, record));
    }
    store.submit(runs).unwrap();

    let expected = serde_json::to_value(builder.finish()).unwrap();
    let actual = serde_json::to_value(slo_status::report(&store, &live.set, None).unwrap()).unwrap();
    assert_eq!(actual["slos"].as_array().unwrap().len(), live.set.slos.len());
    assert_eq!(actual["at"], expected["at"]);
    assert_eq!(actual["rules"], expected["rules"]);
    for (index, slo) in expected["slos"].as_array().unwrap().iter().enumerate() {
        let stored = &actual["slos"][index];
        for section in [
            "name",
            "status",
            "window",
            "counts",
            "sli",
            "budget",
            "burn_rate",
            "alerts",
            "daily",
            "by_rule",
            "by_segment",
            "by_dimension",
            "input_runs",
        ] {
            assert_eq!(stored[section], slo[section], "section `{section}` of `{}`", slo["name"]);
        }
    }
}

#[test]
fn slo_summary_of_unknown_name_is_none() {
    let engine = Engine::load(fixture()).unwrap();
    let store = Store::open_in_memory().unwrap();
    assert!(slo_status::summary(&store, &engine.current().set, "nope", None).unwrap().is_none());
}

/// Stores `records` in a new store file and returns the status report on `policy`,
/// as JSON, with the directory holding the file.
fn stored_runs(policy: &Path, records: &[Json], name: &str) -> (tempfile::TempDir, PathBuf, Json) {
    let engine = Engine::load(policy).unwrap();
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join(name);
    let store = Store::open(&path).unwrap();
    store.submit(records.iter().map(|record| new_run(&engine, record)).collect()).unwrap();
    let report = serde_json::to_value(slo_status::report(&store, &engine.current().set, None).unwrap()).unwrap();
    store.close().unwrap();
    (directory, path, report)
}

/// Turns a store file back into what semslo wrote with schema v2: one row per run and
/// SLO in an `slo_outcomes` table, indexed by SLO and event time.
fn rewrite_as_v2(connection: &rusqlite::Connection) {
    connection
        .execute_batch(
            "CREATE TABLE slo_outcomes (
                 run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                 slo TEXT NOT NULL, result TEXT NOT NULL, field_missing INTEGER NOT NULL,
                 event_time INTEGER, event_time_error TEXT, segment TEXT,
                 bad_rules TEXT NOT NULL, dimensions TEXT NOT NULL,
                 PRIMARY KEY (run, slo)) WITHOUT ROWID;
             CREATE INDEX slo_outcomes_by_window ON slo_outcomes (slo, event_time);
             INSERT INTO slo_outcomes SELECT runs.id, o.value ->> 'slo', o.value ->> 'result',
                 coalesce(o.value ->> 'field_missing', 0), o.value ->> 'event_time',
                 o.value ->> 'event_time_error', o.value ->> 'segment',
                 o.value -> 'bad_rules', o.value -> 'dimensions'
                 FROM runs, json_each(runs.slo_outcomes) AS o;
             ALTER TABLE runs DROP COLUMN slo_outcomes;
             UPDATE meta SET value = 'semslo.store.v2' WHERE key = 'schema';",
        )
        .unwrap();
}

/// Opens the store at `path` again, returns its status report on `policy` as JSON,
/// and checks that the schema is the current one and that `dropped` tables are gone.
fn reopened_report(policy: &Path, path: &Path, dropped: &[&str]) -> Json {
    let engine = Engine::load(policy).unwrap();
    let store = Store::open(path).unwrap();
    let report = serde_json::to_value(slo_status::report(&store, &engine.current().set, None).unwrap()).unwrap();
    store.close().unwrap();
    let connection = rusqlite::Connection::open(path).unwrap();
    let schema: String =
        connection.query_row("SELECT value FROM meta WHERE key = 'schema'", [], |row| row.get(0)).unwrap();
    assert_eq!(schema, semslo::store::SCHEMA);
    for table in dropped {
        let tables: i64 = connection
            .query_row("SELECT count(*) FROM sqlite_schema WHERE name = ?1", [table], |row| row.get(0))
            .unwrap();
        assert_eq!(tables, 0, "the table `{table}` is dropped");
    }
    report
}

#[test]
fn v2_store_migrates_with_same_status() {
    let runs = mixed_orders();
    let (_directory, path, before) = stored_runs(&orders_policy(), &runs, "v2.db");
    let connection = rusqlite::Connection::open(&path).unwrap();
    rewrite_as_v2(&connection);
    let rows: i64 = connection.query_row("SELECT count(*) FROM slo_outcomes", [], |row| row.get(0)).unwrap();
    assert_eq!(rows, 8 * runs.len() as i64, "eight SLOs for each run");
    drop(connection);

    let after = reopened_report(&orders_policy(), &path, &["slo_outcomes", "slo_outcomes_by_window"]);
    assert_eq!(after["rules"], before["rules"]);
    assert_eq!(after["slos"], before["slos"]);
}

#[test]
fn v1_store_migrates_with_same_status() {
    let records = read_jsonl(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/procurement/runs.jsonl"));
    let (_directory, path, before) = stored_runs(&procurement(), &records, "v1.db");
    // Turn the file back into what semslo wrote with schema v1: also one row per run and rule.
    let connection = rusqlite::Connection::open(&path).unwrap();
    rewrite_as_v2(&connection);
    connection
        .execute_batch(
            "CREATE TABLE rule_verdicts (
                 run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                 rule TEXT NOT NULL, verdict TEXT NOT NULL, PRIMARY KEY (run, rule)) WITHOUT ROWID;
             INSERT INTO rule_verdicts SELECT runs.id, verdict.key, verdict.value
                 FROM runs, json_each(runs.rule_verdicts) AS verdict;
             ALTER TABLE runs DROP COLUMN rule_verdicts;
             UPDATE meta SET value = 'semslo.store.v1' WHERE key = 'schema';",
        )
        .unwrap();
    let rows: i64 = connection.query_row("SELECT count(*) FROM rule_verdicts", [], |row| row.get(0)).unwrap();
    assert_eq!(rows, 6 * 1000);
    drop(connection);

    let after = reopened_report(&procurement(), &path, &["rule_verdicts", "slo_outcomes"]);
    assert_eq!(after["rules"], before["rules"]);
    assert_eq!(after["slos"], before["slos"]);
}

#[test]
fn foreign_database_is_refused_unchanged() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("app.db");
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection.execute_batch("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ada');").unwrap();
    drop(connection);
    let before = std::fs::read(&path).unwrap();

    let error = Store::open(&path).unwrap_err().to_string();
    assert!(error.contains("not a semslo store"), "{error}");
    assert!(error.contains("app.db"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "the file is left as it was");
}

#[test]
fn store_without_schema_row_is_refused() {
    let engine = Engine::load(fixture()).unwrap();
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("verdicts.db");
    let store = Store::open(&path).unwrap();
    store.submit(vec![new_run(&engine, &order("r-1", "V-1", "2025-03-01T10:00:00Z"))]).unwrap();
    store.close().unwrap();
    drop(store);
    rusqlite::Connection::open(&path).unwrap().execute_batch("DELETE FROM meta;").unwrap();

    let error = Store::open(&path).unwrap_err().to_string();
    assert!(error.contains("no `schema` row"), "{error}");
    let unknown = rusqlite::Connection::open(&path).unwrap();
    unknown.execute_batch("INSERT INTO meta VALUES ('schema', 'semslo.store.v9');").unwrap();
    drop(unknown);
    let error = Store::open(&path).unwrap_err().to_string();
    assert!(error.contains("`semslo.store.v9`"), "{error}");
}
