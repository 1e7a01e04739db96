//! Hot reload through real file operations in temporary directories: every way an
//! editor, a deploy script or Kubernetes changes policy files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use semslo::engine::{Engine, ReloadResult, ReloadTrigger};
use semslo::watch::{WatchHandle, WatchOptions};

/// Maximum wait for a change to go live. It is generous because two test processes
/// may share two cores; tests only wait up to it and never assert a duration.
const DEADLINE: Duration = Duration::from_secs(20);
/// Debounce used by most tests.
const DEBOUNCE: Duration = Duration::from_millis(100);

const POLICY: &str = r#"policy orders
use "data/blocked_vendors.csv" as blocked_vendors key vendor_id
event time outcome.created_at

rule vendor_not_blocked {
  when   outcome.type == "order"
  expect outcome.vendor not in blocked_vendors
}

slo orders_correct {
  objective 90% over 7d
  valid     when outcome.type == "order"
  good      when all rules pass
}

test "an order to V-9 fails" {
  given record {"run_id": "t", "outcome": {"type": "order", "vendor": "V-9", "created_at": "2025-01-01T00:00:00Z"}}
  expect vendor_not_blocked fails
}
"#;

const BLOCKED: &str = "vendor_id\nV-9\n";

fn write_policy(root: &Path, policy: &str, blocked: &str) {
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::fs::write(root.join("orders.slo"), policy).unwrap();
    std::fs::write(root.join("data/blocked_vendors.csv"), blocked).unwrap();
}

/// A policy directory with the engine watching it.
struct Watched {
    directory: tempfile::TempDir,
    engine: Engine,
    handle: Option<WatchHandle>,
}

impl Watched {
    fn new() -> Self {
        Watched::with_debounce(DEBOUNCE)
    }

    fn with_debounce(debounce: Duration) -> Self {
        let directory = tempfile::tempdir().unwrap();
        write_policy(directory.path(), POLICY, BLOCKED);
        Watched::start(directory, debounce)
    }

    fn start(directory: tempfile::TempDir, debounce: Duration) -> Self {
        let engine = Engine::load(directory.path()).unwrap();
        let handle = engine.watch_with(WatchOptions { debounce }).unwrap();
        let watched = Watched { directory, engine, handle: Some(handle) };
        // The watcher checks the files once at start. Wait for that check, so counts start from there.
        watched.wait_until("the start-up check", |engine| {
            engine.reload_status().last.trigger == ReloadTrigger::WatchStart
        });
        watched
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.directory.path().join(relative)
    }

    fn wait_until(&self, what: &str, condition: impl Fn(&Engine) -> bool) {
        let started = Instant::now();
        while !condition(&self.engine) {
            assert!(
                started.elapsed() < DEADLINE,
                "timed out waiting for {what}; status: {:#?}",
                self.engine.reload_status()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the live hash is `expected`.
    fn wait_for_hash(&self, expected: &str) {
        self.wait_until(&format!("hash {expected}"), |engine| engine.hash() == expected);
    }

    fn wait_for_rejection(&self) {
        self.wait_until("a rejected reload", |engine| engine.reload_status().counts.rejected >= 1);
    }
}

/// Returns the hash the watched directory has once it contains `policy` and
/// `blocked`. The files are compiled from a scratch copy under the watched
/// directory's names, because the hash covers file names as well as contents.
fn hash_of(watched: &Watched, policy: &str, blocked: &str) -> String {
    let scratch = tempfile::tempdir().unwrap();
    write_policy(scratch.path(), policy, blocked);
    let name = watched.directory.path().join("orders.slo").display().to_string();
    let source = semslo::diagnostic::SourceFile::new(scratch.path().join("orders.slo"), name, policy);
    let (set, diagnostics) = semslo::compile::compile_sources(&[source]);
    assert!(!diagnostics.has_errors(), "{diagnostics:?}");
    set.unwrap().hash
}

#[test]
fn in_place_write_goes_live() {
    let watched = Watched::new();
    let changed = POLICY.replace("objective 90%", "objective 95%");
    std::fs::write(watched.path("orders.slo"), &changed).unwrap();
    watched.wait_for_hash(&hash_of(&watched, &changed, BLOCKED));
}

#[test]
fn chunked_write_reloads_once_with_final_content() {
    let watched = Watched::with_debounce(Duration::from_millis(400));
    let changed = POLICY.replace("objective 90%", "objective 96%");
    let applied_before = watched.engine.reload_status().counts.applied;
    {
        let mut file = std::fs::File::create(watched.path("orders.slo")).unwrap();
        let third = changed.len() / 3;
        for chunk in [&changed[..third], &changed[third..2 * third], &changed[2 * third..]] {
            file.write_all(chunk.as_bytes()).unwrap();
            file.flush().unwrap();
            std::thread::sleep(Duration::from_millis(30));
        }
    }
    watched.wait_for_hash(&hash_of(&watched, &changed, BLOCKED));
    // Give a second, late reload the chance to show up before counting.
    std::thread::sleep(Duration::from_millis(800));
    let status = watched.engine.reload_status();
    assert_eq!(status.counts.applied - applied_before, 1, "{status:#?}");
    assert_eq!(status.counts.rejected, 0, "no partial file was loaded: {status:#?}");
}

#[test]
fn rename_save_goes_live() {
    let watched = Watched::new();
    let changed = POLICY.replace("objective 90%", "objective 97%");
    let temporary = watched.path(".orders.slo.swp");
    std::fs::write(&temporary, &changed).unwrap();
    std::fs::rename(&temporary, watched.path("orders.slo")).unwrap();
    watched.wait_for_hash(&hash_of(&watched, &changed, BLOCKED));
}

#[test]
fn delete_then_recreate_goes_live() {
    let watched = Watched::new();
    let before = watched.engine.hash();
    std::fs::remove_file(watched.path("orders.slo")).unwrap();
    // Long enough for the delete to be reloaded (and rejected) on its own.
    watched.wait_for_rejection();
    assert_eq!(watched.engine.hash(), before, "a missing file never goes live");

    let changed = POLICY.replace("objective 90%", "objective 98%");
    std::fs::write(watched.path("orders.slo"), &changed).unwrap();
    watched.wait_for_hash(&hash_of(&watched, &changed, BLOCKED));
}

#[test]
fn data_file_change_goes_live() {
    let watched = Watched::new();
    let blocked = "vendor_id\nV-9\nV-1\n";
    std::fs::write(watched.path("data/blocked_vendors.csv"), blocked).unwrap();
    watched.wait_for_hash(&hash_of(&watched, POLICY, blocked));
    let run = serde_json::json!({"run_id": "r", "outcome": {"type": "order", "vendor": "V-1", "created_at": "2025-01-01T00:00:00Z"}});
    assert_eq!(watched.engine.evaluate(&run).verdicts[0].verdict, "fail");
}

#[test]
fn configmap_symlink_swap_goes_live() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    write_policy(&root.join("..2025_01_01_00_00_00.000000001"), POLICY, BLOCKED);
    std::os::unix::fs::symlink("..2025_01_01_00_00_00.000000001", root.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/orders.slo", root.join("orders.slo")).unwrap();
    std::os::unix::fs::symlink("..data/data", root.join("data")).unwrap();
    let watched = Watched::start(directory, DEBOUNCE);

    // What the kubelet does: write the new version aside, point a new link at it,
    // rename that link over `..data`, then remove the old version.
    let changed = POLICY.replace("objective 90%", "objective 99%");
    write_policy(&watched.path("..2025_01_02_00_00_00.000000002"), &changed, BLOCKED);
    std::os::unix::fs::symlink("..2025_01_02_00_00_00.000000002", watched.path("..data_tmp")).unwrap();
    std::fs::rename(watched.path("..data_tmp"), watched.path("..data")).unwrap();
    std::fs::remove_dir_all(watched.path("..2025_01_01_00_00_00.000000001")).unwrap();

    watched.wait_for_hash(&hash_of(&watched, &changed, BLOCKED));
    assert!(watched.engine.current().read_from.ends_with("..2025_01_02_00_00_00.000000002"));
}

#[test]
fn broken_edit_stays_out_until_fixed() {
    let watched = Watched::new();
    let before = watched.engine.hash();
    let broken =
        POLICY.replace("expect outcome.vendor not in blocked_vendors", "expect outcome.vendor not in blocked_vendor");
    std::fs::write(watched.path("orders.slo"), &broken).unwrap();
    watched.wait_for_rejection();
    assert_eq!(watched.engine.hash(), before);
    let status = watched.engine.reload_status();
    let rejected = status.last_rejected.expect("the rejection and its diagnostics are kept");
    assert_eq!(rejected.outcome, ReloadResult::Rejected);
    assert!(rejected.diagnostics.iter().any(|d| d.code == "semslo::check::unknown_name"), "{rejected:#?}");

    let fixed = POLICY.replace("objective 90%", "objective 92%");
    std::fs::write(watched.path("orders.slo"), &fixed).unwrap();
    watched.wait_for_hash(&hash_of(&watched, &fixed, BLOCKED));
    assert!(watched.engine.reload_status().last_rejected.is_none());
}

#[test]
fn dropping_the_handle_stops_watching() {
    let mut watched = Watched::new();
    let before = watched.engine.hash();
    drop(watched.handle.take());
    std::fs::write(watched.path("orders.slo"), POLICY.replace("objective 90%", "objective 93%")).unwrap();
    std::thread::sleep(DEBOUNCE * 5);
    assert_eq!(watched.engine.hash(), before);
}
