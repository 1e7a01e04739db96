//! Regression guard for the speed of `semslo check`, run by CI: times the whole
//! `semslo check --format counts --jobs 1` process on generated procurement runs and
//! compares it with the parse limit measured in the same run (serde_json reading every
//! line into `IgnoredAny`, in this process). A ratio, not a wall-clock threshold, so a
//! slower or busier machine does not fail it; a large regression does.
//!
//! `cargo bench --bench regression`; `SEMSLO_GUARD_RUNS` sets the number of runs
//! (default 40,000) and `SEMSLO_GUARD_MAX_RATIO` the failing ratio. The default, 8, is
//! about 2.4 times the 3.4 measured on a quiet 2-core machine. Before the projected
//! record replaced serde_json values, the guard measured 14.5 on a busier one.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Timed repetitions of each measurement; the fastest is kept.
const REPETITIONS: usize = 3;

fn main() {
    let runs: usize = env_number("SEMSLO_GUARD_RUNS", 40_000);
    let max_ratio: f64 = env_number("SEMSLO_GUARD_MAX_RATIO", 8.0);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let input = generate(root, runs);

    let parse = fastest(|| parse_limit(&input));
    let check = fastest(|| run_check(root, &input));
    let ratio = check.as_secs_f64() / parse.as_secs_f64();

    println!("runs: {runs} ({} bytes)", std::fs::metadata(&input).map_or(0, |m| m.len()));
    println!("parse limit (serde_json, IgnoredAny, in process): {:.3} s", parse.as_secs_f64());
    println!("semslo check --jobs 1 (whole process):           {:.3} s", check.as_secs_f64());
    println!("ratio: {ratio:.2} (fails above {max_ratio:.2})");
    if ratio > max_ratio {
        eprintln!("regression guard: semslo check is {ratio:.2}x the parse limit, above {max_ratio:.2}x");
        std::process::exit(1);
    }
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Writes `runs` records by repeating the bundled example runs with fresh run ids.
fn generate(root: &Path, runs: usize) -> PathBuf {
    let source = std::fs::read_to_string(root.join("examples/procurement/runs.jsonl")).expect("bundled example runs");
    let lines: Vec<&str> = source.lines().filter(|l| !l.trim().is_empty()).collect();
    // Beside the build, as cargo places it: `CARGO_TARGET_DIR` when set, else `target`.
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |dir| root.join(dir));
    let directory = target.join("regression-guard");
    std::fs::create_dir_all(&directory).expect("scratch directory");
    let path = directory.join(format!("runs-{runs}.jsonl"));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("scratch file"));
    for i in 0..runs {
        let line = lines[i % lines.len()];
        let line = line.replacen("\"run_id\":\"po-", &format!("\"run_id\":\"guard-{i}-po-"), 1);
        writeln!(out, "{line}").expect("write scratch file");
    }
    out.flush().expect("flush scratch file");
    path
}

fn fastest(mut measure: impl FnMut() -> Duration) -> Duration {
    (0..REPETITIONS).map(|_| measure()).min().expect("at least one repetition")
}

fn parse_limit(input: &Path) -> Duration {
    let start = Instant::now();
    let reader = BufReader::new(std::fs::File::open(input).expect("scratch file"));
    let mut count = 0usize;
    for line in reader.lines() {
        let line = line.expect("read scratch file");
        serde_json::from_str::<serde::de::IgnoredAny>(&line).expect("valid JSON");
        count += 1;
    }
    assert!(count > 0, "no runs were parsed");
    start.elapsed()
}

fn run_check(root: &Path, input: &Path) -> Duration {
    let start = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_semslo"))
        .args(["check", "--policy"])
        .arg(root.join("policies/procurement"))
        .arg("--records")
        .arg(input)
        .args(["--format", "counts", "--jobs", "1"])
        .output()
        .expect("semslo runs");
    let elapsed = start.elapsed();
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "semslo check failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}
