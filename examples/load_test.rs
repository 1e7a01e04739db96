//! A bounded load test of `semslo serve`, on this machine only.
//!
//! ```text
//! scripts/load-test.sh            # builds in release mode and runs with the defaults
//! target/release/examples/load_test --seconds 10 --concurrency 1,8,64 --batch 25
//! ```
//!
//! It copies `--policy` to a temporary directory, starts the `semslo` binary on
//! it with `--listen 127.0.0.1:0` and a fresh store, and reads the address from the
//! server's log. Then, for each concurrency and for two request forms (one run per
//! request, and NDJSON batches of `--batch` runs), clients send runs for
//! `--seconds` or until `--max-requests`, whichever comes first. Every second a
//! policy file is rewritten with a different trailing comment, so the set is
//! reloaded (and applied, its hash changes) while traffic runs.
//!
//! The runs are the records of `--records` with a run id made unique per request.
//! Only records whose event time lies within 90 days of the newest are used, so
//! the store's retention (the longest SLO window plus its alert windows) keeps all
//! of them and the final count can be compared. After the last phase the server is
//! stopped with SIGTERM, and the store must hold exactly the runs the responses
//! reported as accepted: the difference is printed as verdicts lost.
//!
//! Traffic goes only to the loopback address the server reports; the test refuses
//! any other.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value as Json;

struct Options {
    binary: PathBuf,
    policy: PathBuf,
    records: PathBuf,
    seconds: u64,
    concurrency: Vec<usize>,
    batch: usize,
    max_requests: u64,
}

impl Options {
    fn parse() -> Result<Options, String> {
        let mut options = Options {
            binary: PathBuf::from("target/release/semslo"),
            policy: PathBuf::from("policies/procurement"),
            records: PathBuf::from("examples/procurement/runs.jsonl"),
            seconds: 10,
            concurrency: vec![1, 8, 64],
            batch: 25,
            max_requests: 200_000,
        };
        let mut arguments = std::env::args().skip(1);
        while let Some(flag) = arguments.next() {
            let value = arguments.next().ok_or_else(|| format!("`{flag}` needs a value"))?;
            let number =
                |text: &str| text.parse::<u64>().map_err(|_| format!("`{flag}` needs a whole number, not `{text}`"));
            match flag.as_str() {
                "--binary" => options.binary = PathBuf::from(value),
                "--policy" => options.policy = PathBuf::from(value),
                "--records" => options.records = PathBuf::from(value),
                "--seconds" => options.seconds = number(&value)?,
                "--batch" => options.batch = number(&value)? as usize,
                "--max-requests" => options.max_requests = number(&value)?,
                "--concurrency" => {
                    options.concurrency =
                        value.split(',').map(|part| number(part).map(|n| n as usize)).collect::<Result<_, _>>()?;
                }
                _ => return Err(format!("unknown option `{flag}`")),
            }
        }
        if options.seconds == 0 || options.seconds > 300 {
            return Err("`--seconds` must be between 1 and 300, so the test stays bounded".to_string());
        }
        Ok(options)
    }
}

/// What one phase measured.
struct Phase {
    form: &'static str,
    concurrency: usize,
    requests: u64,
    failed_requests: u64,
    accepted: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
    reloads_applied: f64,
}

fn main() -> std::process::ExitCode {
    let options = match Options::parse() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("load_test: {message}");
            return std::process::ExitCode::from(3);
        }
    };
    match run(&options) {
        Ok(0) => std::process::ExitCode::SUCCESS,
        Ok(_) => std::process::ExitCode::from(1),
        Err(message) => {
            eprintln!("load_test: {message}");
            std::process::ExitCode::from(4)
        }
    }
}

/// Runs every phase and returns the number of verdicts lost.
fn run(options: &Options) -> Result<u64, String> {
    let workspace = tempfile::tempdir().map_err(|e| e.to_string())?;
    let policy = workspace.path().join("policy");
    copy_dir(&options.policy, &policy).map_err(|e| format!("cannot copy the policy: {e}"))?;
    let store = workspace.path().join("load.db");
    let records = Arc::new(recent_records(&options.records)?.iter().map(RecordText::new).collect::<Vec<_>>());

    let (mut server, address) = start_server(&options.binary, &policy, &store, workspace.path())?;
    if !address.ip().is_loopback() {
        let _ = server.kill();
        return Err(format!("the server reported {address}, which is not a loopback address"));
    }
    let base = format!("http://{address}");
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let policy_file = first_slo_file(&policy)?;

    let mut phases = Vec::new();
    let mut accepted_total = 0;
    for (form_index, form) in ["single", "ndjson"].into_iter().enumerate() {
        for &concurrency in &options.concurrency {
            let phase_id = format!("{form_index}{concurrency}");
            let phase =
                runtime.block_on(run_phase(options, &base, form, concurrency, &phase_id, &records, &policy_file));
            accepted_total += phase.accepted;
            print_phase(&phase);
            phases.push(phase);
        }
    }

    stop_server(&mut server)?;
    let stored = semslo::store::Store::open(&store).and_then(|store| store.run_count()).map_err(|e| e.to_string())?;
    let lost = accepted_total.saturating_sub(stored);
    println!();
    println!("accepted runs (responses): {accepted_total}");
    println!("runs in the store:         {stored}");
    println!("verdicts lost:             {lost}");
    if stored > accepted_total {
        println!("runs stored but not reported accepted: {}", stored - accepted_total);
    }
    Ok(lost + stored.saturating_sub(accepted_total))
}

/// One record as JSON text around its `run_id`, so a client writes a run with a
/// new id by copying two slices instead of cloning and serializing a JSON value.
/// The client stays light, and the machine's cores go to the server it measures.
struct RecordText {
    before_id: String,
    after_id: String,
}

impl RecordText {
    fn new(record: &Json) -> RecordText {
        const MARKER: &str = "load-test-run-id-marker";
        let mut record = record.clone();
        record["run_id"] = Json::String(MARKER.to_string());
        let text = record.to_string();
        let (before_id, after_id) = text.split_once(MARKER).expect("the marker is in the text");
        RecordText { before_id: before_id.to_string(), after_id: after_id.to_string() }
    }

    /// Appends the record with run id `{prefix}-{counter}` and a line end to `body`.
    fn write(&self, body: &mut String, prefix: &str, counter: usize) {
        use std::fmt::Write;
        body.push_str(&self.before_id);
        let _ = write!(body, "{prefix}-{counter}");
        body.push_str(&self.after_id);
        body.push('\n');
    }
}

/// The part of the server's response that the test counts; the rest is skipped unparsed.
#[derive(serde::Deserialize)]
struct Answer {
    accepted: u64,
}

/// Reads the records whose `outcome.created_at` lies within 90 days of the newest one.
fn recent_records(path: &Path) -> Result<Vec<Json>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let records: Vec<Json> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let time = |record: &Json| {
        record["outcome"]["created_at"]
            .as_str()
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let newest: DateTime<Utc> = records.iter().filter_map(time).max().ok_or("no record has `outcome.created_at`")?;
    let recent: Vec<Json> =
        records.into_iter().filter(|record| time(record).is_some_and(|t| t >= newest - TimeDelta::days(90))).collect();
    println!("records: {} within 90 days of {newest}", recent.len());
    Ok(recent)
}

fn start_server(
    binary: &Path,
    policy: &Path,
    store: &Path,
    workspace: &Path,
) -> Result<(Child, std::net::SocketAddr), String> {
    let mut child = Command::new(binary)
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--policy"])
        .arg(policy)
        .arg("--store")
        .arg(store)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{}` (build it with `cargo build --release`): {e}", binary.display()))?;
    let mut lines = BufReader::new(child.stderr.take().expect("stderr is piped")).lines();
    let mut address = None;
    for line in lines.by_ref().map_while(Result::ok) {
        let Ok(entry) = serde_json::from_str::<Json>(&line) else { continue };
        if entry["message"] == "semslo serve listening" {
            address = entry["address"].as_str().and_then(|text| text.parse().ok());
            break;
        }
    }
    let Some(address) = address else {
        let _ = child.kill();
        return Err("the server exited before it listened".to_string());
    };
    // Keep draining the log into a file, so a full pipe never blocks the server.
    let log_path = workspace.join("server.log");
    std::thread::spawn(move || {
        let mut log = std::fs::File::create(log_path).ok();
        for line in lines.map_while(Result::ok) {
            if let Some(file) = log.as_mut() {
                use std::io::Write;
                let _ = writeln!(file, "{line}");
            }
        }
    });
    Ok((child, address))
}

fn stop_server(server: &mut Child) -> Result<(), String> {
    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().map_err(|e| e.to_string())?;
    if !killed.success() {
        return Err("cannot send SIGTERM to the server".to_string());
    }
    let status = server.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("the server exited with {status}"));
    }
    Ok(())
}

async fn run_phase(
    options: &Options,
    base: &str,
    form: &'static str,
    concurrency: usize,
    phase_id: &str,
    records: &Arc<Vec<RecordText>>,
    policy_file: &Path,
) -> Phase {
    let client = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(concurrency).build().expect("client");
    let reloads_before = reloads_applied(&client, base).await;
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let sent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();

    let reloader = tokio::spawn(touch_every_second(policy_file.to_path_buf(), deadline));
    let clients: Vec<_> = (0..concurrency)
        .map(|client_index| {
            let client = client.clone();
            let url = format!("{base}/v1/runs");
            let records = Arc::clone(records);
            let sent = Arc::clone(&sent);
            let prefix = format!("lt{phase_id}-{client_index}");
            let (batch, max_requests) = (if form == "single" { 1 } else { options.batch }, options.max_requests);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let (mut accepted, mut failed, mut counter) = (0u64, 0u64, 0usize);
                while Instant::now() < deadline && sent.fetch_add(1, Ordering::Relaxed) < max_requests {
                    let mut body = String::new();
                    for _ in 0..batch {
                        records[counter % records.len()].write(&mut body, &prefix, counter);
                        counter += 1;
                    }
                    let content_type = if batch == 1 { "application/json" } else { "application/x-ndjson" };
                    let request_started = Instant::now();
                    let response = client.post(&url).header("content-type", content_type).body(body).send().await;
                    let result = match response {
                        // Bytes, not text: the server's CPU is shared with this client, and
                        // serde_json checks the UTF-8 itself.
                        Ok(response) if response.status().is_success() => response.bytes().await.ok(),
                        _ => None,
                    };
                    latencies.push(request_started.elapsed());
                    match result.and_then(|bytes| serde_json::from_slice::<Answer>(&bytes).ok()) {
                        Some(answer) => accepted += answer.accepted,
                        None => failed += 1,
                    }
                }
                (latencies, accepted, failed)
            })
        })
        .collect();

    let mut phase = Phase {
        form,
        concurrency,
        requests: 0,
        failed_requests: 0,
        accepted: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        reloads_applied: 0.0,
    };
    for task in clients {
        let (latencies, accepted, failed) = task.await.expect("client task");
        phase.requests += latencies.len() as u64;
        phase.latencies.extend(latencies);
        phase.accepted += accepted;
        phase.failed_requests += failed;
    }
    phase.elapsed = started.elapsed();
    let _ = reloader.await;
    // Let the last reload finish before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    phase.reloads_applied = reloads_applied(&client, base).await - reloads_before;
    phase
}

/// Rewrites `path` once a second until `deadline`, alternating a trailing comment,
/// so every rewrite changes the set's hash and the reload is applied.
async fn touch_every_second(path: PathBuf, deadline: Instant) {
    let original = std::fs::read_to_string(&path).unwrap_or_default();
    let mut rewrites = 0u64;
    while Instant::now() + Duration::from_secs(1) < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        rewrites += 1;
        let _ = std::fs::write(&path, format!("{original}\n# load test rewrite {rewrites}\n"));
    }
}

async fn reloads_applied(client: &reqwest::Client, base: &str) -> f64 {
    let Ok(response) = client.get(format!("{base}/metrics")).send().await else { return 0.0 };
    let text = response.text().await.unwrap_or_default();
    text.lines()
        .find_map(|line| line.strip_prefix(r#"semslo_reloads_total{outcome="applied"} "#)?.trim().parse().ok())
        .unwrap_or(0.0)
}

fn print_phase(phase: &Phase) {
    let mut latencies = phase.latencies.clone();
    latencies.sort();
    let percentile = |p: f64| {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1000.0
    };
    println!(
        "{:<6} concurrency {:>3}: {:>7} requests, {:>8} runs accepted, {:>8.0} runs/s, p50 {:>7.2} ms, p99 {:>7.2} ms, {} failed requests, {} reloads applied",
        phase.form,
        phase.concurrency,
        phase.requests,
        phase.accepted,
        phase.accepted as f64 / phase.elapsed.as_secs_f64(),
        percentile(0.50),
        percentile(0.99),
        phase.failed_requests,
        phase.reloads_applied,
    );
}

fn first_slo_file(policy: &Path) -> Result<PathBuf, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(policy)
        .map_err(|e| e.to_string())?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "slo"))
        .collect();
    files.sort();
    files.into_iter().next().ok_or_else(|| format!("no `.slo` file in `{}`", policy.display()))
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
