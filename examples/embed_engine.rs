//! A service that embeds the semslo engine: it loads a policy directory, keeps it
//! current while the files change, and judges each run as it arrives.
//!
//! ```text
//! cargo run --example embed_engine -- policies/procurement < examples/procurement/runs.jsonl
//! ```
//!
//! Runs arrive as NDJSON on standard input, one per line. For each run, one JSON
//! line goes to standard output: the run id, the hash of the policy set that judged
//! it, the rules that failed or errored, and how each SLO counts it. Edit a file of
//! the policy directory while it runs (for example with `tail -f runs.jsonl |`):
//! valid edits go live for the next run, and broken ones are reported on standard
//! error while the last good set stays live.

use std::io::Write;
use std::path::PathBuf;

use semslo::engine::{Engine, ReloadResult};
use semslo::input::{self, InputFormat, Source};
use serde_json::json;

fn main() -> std::process::ExitCode {
    let policy = std::env::args_os().nth(1).map_or_else(|| PathBuf::from("policies/procurement"), PathBuf::from);

    let engine = match Engine::load(&policy) {
        Ok(engine) => engine,
        Err(diagnostics) => {
            for diagnostic in diagnostics.iter() {
                eprintln!("{}", semslo::diagnostic::render_plain(diagnostic, 100));
            }
            return std::process::ExitCode::from(2);
        }
    };
    engine.on_reload(|outcome| match outcome.outcome {
        ReloadResult::Applied => eprintln!("policy set {} is live ({} rules)", outcome.live_hash, outcome.rules),
        ReloadResult::Unchanged => {}
        ReloadResult::Rejected => {
            eprintln!("policy change rejected; {} stays live:", outcome.live_hash);
            for diagnostic in &outcome.diagnostics {
                eprintln!("{}", diagnostic.rendered);
            }
        }
    });
    // The watcher runs until this handle is dropped at the end of `main`.
    let _watch = match engine.watch() {
        Ok(handle) => handle,
        Err(error) => {
            eprintln!("cannot watch {}: {error}", policy.display());
            return std::process::ExitCode::from(3);
        }
    };

    let records = match input::read_records(Source::Stdin, InputFormat::Jsonl) {
        Ok(records) => records,
        Err(error) => {
            eprintln!("cannot read standard input: {error}");
            return std::process::ExitCode::from(3);
        }
    };
    let mut stdout = std::io::stdout().lock();
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                eprintln!("{}: {}", error.location, error.reason);
                continue;
            }
        };
        let verdicts = engine.evaluate(&record.value);
        let broken: Vec<_> = verdicts
            .verdicts
            .iter()
            .filter(|verdict| matches!(verdict.verdict, "fail" | "error"))
            .map(|verdict| json!({"rule": verdict.rule, "verdict": verdict.verdict}))
            .collect();
        let slos: Vec<_> =
            verdicts.slos.iter().map(|effect| json!({"slo": effect.slo, "result": effect.result})).collect();
        let line =
            json!({"run_id": verdicts.run_id, "policy_hash": verdicts.policy_hash, "broken": broken, "slos": slos});
        if writeln!(stdout, "{line}").is_err() {
            break;
        }
    }
    std::process::ExitCode::SUCCESS
}
