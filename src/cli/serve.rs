//! `semslo serve`: evaluate runs over HTTP, keep verdicts in SQLite, reload policies on change.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use semslo::engine::Engine;
use semslo::serve::{self, Limits, ServeConfig};
use semslo::store::Store;
use semslo::watch::WatchOptions;

use super::{ExitStatus, print_diagnostics};

/// Environment variable holding the bearer token, when `--token-file` is not given.
const TOKEN_VARIABLE: &str = "SEMSLO_TOKEN";

#[derive(Args)]
pub struct ServeArgs {
    /// Policy file (`.slo`) or directory of policy files; watched for changes.
    #[arg(long, short = 'p', value_name = "PATH")]
    policy: PathBuf,

    /// SQLite file holding the verdicts (created if missing); `:memory:` keeps them in memory only.
    #[arg(long, value_name = "PATH", default_value = "semslo.db")]
    store: PathBuf,

    /// Address to listen on. The default accepts connections from this machine only.
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1:8787", value_parser = parse_listen_address)]
    listen: SocketAddr,

    /// File holding the bearer token that POST requests must send; default: the SEMSLO_TOKEN variable, else no token.
    #[arg(long, value_name = "PATH")]
    token_file: Option<PathBuf>,

    /// Largest request body accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_body_bytes)]
    max_body_bytes: usize,

    /// Most runs accepted in one request.
    #[arg(long, value_name = "RUNS", default_value_t = Limits::default().max_batch,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    max_batch: usize,

    /// Wall-clock time one request may spend evaluating its runs, queueing included (e.g. `30s`, `500ms`).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    request_timeout: Duration,

    /// Quiet time a changed policy file needs before it is reloaded (e.g. `50ms`).
    #[arg(long, value_name = "DURATION", default_value = "50ms", value_parser = parse_duration)]
    debounce: Duration,

    /// Do not watch the policy files; reload only through `POST /v1/policy/reload`.
    #[arg(long)]
    no_watch: bool,

    /// Log format on stderr: `pretty` for people, `json` for one JSON object per line.
    #[arg(long, value_enum, default_value_t = LogFormat::Pretty)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Pretty,
    Json,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    semslo::value::parse_duration(text)
        .and_then(|duration| duration.to_std().ok())
        .filter(|duration| !duration.is_zero())
        .ok_or_else(|| format!("`{text}` is not a positive duration; write e.g. `30s`, `500ms` or `1m`"))
}

pub fn run(args: ServeArgs) -> ExitStatus {
    install_logging(args.log_format);

    let token = match read_token(args.token_file.as_ref()) {
        Ok(token) => token,
        Err(message) => {
            eprintln!("semslo: {message}");
            return ExitStatus::InvalidInput;
        }
    };
    let engine = match Engine::load(&args.policy) {
        Ok(engine) => engine,
        Err(diagnostics) => {
            print_diagnostics(diagnostics.iter());
            eprintln!(
                "semslo: the policy set has {} error{} or failing test{}; the server did not start",
                diagnostics.error_count(),
                if diagnostics.error_count() == 1 { "" } else { "s" },
                if diagnostics.error_count() == 1 { "" } else { "s" },
            );
            return ExitStatus::InvalidPolicy;
        }
    };
    let _watch = if args.no_watch {
        None
    } else {
        match engine.watch_with(WatchOptions { debounce: args.debounce }) {
            Ok(handle) => Some(handle),
            Err(error) => {
                eprintln!("semslo: {error}; pass --no-watch to serve without reloading on file changes");
                return ExitStatus::InvalidInput;
            }
        }
    };
    // The socket is bound before the store opens, so a port in use leaves no new store file.
    let listener = match bind(args.listen) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("semslo: cannot listen on {}: {error}", args.listen);
            return ExitStatus::InvalidInput;
        }
    };
    let store = match Store::open(&args.store) {
        Ok(store) => Arc::new(store),
        Err(error) => {
            eprintln!("semslo: {error}");
            return ExitStatus::InvalidInput;
        }
    };
    if !args.listen.ip().is_loopback() {
        tracing::warn!(address = %args.listen, "listening on a non-loopback address: other machines can reach the server");
    }

    let config = ServeConfig {
        limits: Limits {
            max_body_bytes: args.max_body_bytes,
            max_batch: args.max_batch,
            request_timeout: args.request_timeout,
        },
        token,
        ..ServeConfig::default()
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("semslo: cannot start the async runtime: {error}");
            return ExitStatus::Internal;
        }
    };
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|error| format!("cannot listen on {}: {error}", args.listen))?;
        serve::serve(listener, engine, store, config, shutdown_signal())
            .await
            .map_err(|error| format!("the server failed: {error}"))
    });
    match served {
        Ok(()) => ExitStatus::Success,
        Err(message) => {
            eprintln!("semslo: {message}");
            ExitStatus::InvalidInput
        }
    }
}

/// Parses `--listen`: an IP address and a port. A host name is not resolved, so the
/// message suggests the loopback address instead of `localhost`.
fn parse_listen_address(text: &str) -> Result<SocketAddr, String> {
    text.parse().map_err(|_| {
        format!("`{text}` is not an IP address and port; write it as IP:PORT, for example 127.0.0.1:8787 (this machine only)")
    })
}

/// Binds the listening socket, non-blocking, for the async runtime to take over.
fn bind(address: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(address)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Reads the token from `--token-file` (surrounding white space removed), else from
/// `SEMSLO_TOKEN`. An empty token is an error rather than an open server.
fn read_token(file: Option<&PathBuf>) -> Result<Option<String>, String> {
    let token = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|error| format!("cannot read the token file `{}`: {error}", path.display()))?;
            let message = format!(
                "the token file `{}` is empty; write the token into it, or drop `--token-file`",
                path.display()
            );
            Some((text.trim().to_string(), message))
        }
        None => std::env::var(TOKEN_VARIABLE).ok().map(|text| {
            (text.trim().to_string(), format!("{TOKEN_VARIABLE} is empty; set it to the token, or unset it"))
        }),
    };
    match token {
        Some((token, message)) if token.is_empty() => Err(message),
        Some((token, _)) => Ok(Some(token)),
        None => Ok(None),
    }
}

fn install_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colored = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colored);
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!(signal = "SIGINT", "shutdown requested"),
        () = terminate => tracing::info!(signal = "SIGTERM", "shutdown requested"),
    }
}
