//! Hot reload: watching a policy path and reloading the [`Engine`] when its files change.
//!
//! The whole policy directory is watched recursively with `notify` (inotify on
//! Linux), following symlinks, and events pass through `notify-debouncer-full`,
//! which holds back each file's events until that file has been quiet for the
//! debounce time. Any change then triggers [`Engine::reload_for`], which reloads
//! the whole set as one transaction, so what kind of change it was does not matter:
//!
//! - an in-place write, or a file written in several chunks: the debounce waits
//!   for the last chunk, so the reload reads the final content;
//! - an editor's rename-save (write a temporary file, rename it over the old one);
//! - delete-then-recreate: a reload that runs between the delete and the create
//!   is rejected because the file is missing, so the old set stays live, and the
//!   create triggers the next reload;
//! - a change of a reference-data file: data files lie inside the policy
//!   directory, so they are watched too;
//! - the Kubernetes ConfigMap swap: a new timestamped directory appears and the
//!   `..data` symlink is renamed over, which the directory watch sees.
//!
//! Reads (access events) are ignored, so the engine's own reading of the files
//! does not trigger another reload. A reload that finds the live set's hash again
//! is `unchanged` and changes nothing.
//!
//! NOTE: if the watched directory itself is removed and created again, its watch is
//! gone; such a layout needs a new [`Engine::watch`]. A ConfigMap swap never
//! removes the mounted directory, only entries inside it.

mod events;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use crate::engine::{Engine, ReloadTrigger};

/// Default quiet time before a change is acted on. A file read while half written fails
/// validation, so the live set stays in place, and the event of the write that
/// completes the file starts another reload.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(50);

/// How often repeated watcher errors are logged at `warn`; in between they are counted.
const ERROR_LOG_INTERVAL: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug)]
pub struct WatchOptions {
    /// How long a file must be quiet before its change triggers a reload.
    pub debounce: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions { debounce: DEFAULT_DEBOUNCE }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot watch `{path}`: {source}")]
    Watch {
        path: PathBuf,
        #[source]
        source: notify::Error,
    },
    #[error("cannot start the reload thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// A running watcher. Dropping it stops the watcher and waits for a reload in
/// progress to finish.
pub struct WatchHandle {
    debouncer: Option<Debouncer<notify::RecommendedWatcher, RecommendedCache>>,
    messages: Sender<Message>,
    thread: Option<JoinHandle<()>>,
    root: PathBuf,
}

impl WatchHandle {
    /// Returns the directory being watched.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        let _ = self.messages.send(Message::Stop);
        if let Some(debouncer) = self.debouncer.take() {
            debouncer.stop_nonblocking();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for WatchHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchHandle").field("root", &self.root).finish_non_exhaustive()
    }
}

enum Message {
    Events(DebounceEventResult),
    Stop,
}

/// Starts watching `engine`'s policy path: its directory, or for a single policy
/// file the directory that contains it (its data files lie below it).
pub(crate) fn start(engine: Engine, options: WatchOptions) -> Result<WatchHandle, WatchError> {
    let path = engine.path().to_path_buf();
    let root = if path.is_dir() {
        path.clone()
    } else {
        path.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf()
    };
    let watch_error = |source| WatchError::Watch { path: root.clone(), source };

    let (messages, received) = mpsc::channel();
    let sender = messages.clone();
    let mut debouncer = new_debouncer(options.debounce, None, move |result: DebounceEventResult| {
        let _ = sender.send(Message::Events(result));
    })
    .map_err(watch_error)?;
    debouncer.watch(&root, RecursiveMode::Recursive).map_err(watch_error)?;

    let thread = std::thread::Builder::new()
        .name("semslo-policy-watch".to_string())
        .spawn(move || reload_loop(&engine, &received))
        .map_err(WatchError::Thread)?;
    tracing::info!(path = %root.display(), debounce_ms = options.debounce.as_millis() as u64, "watching policy files");
    Ok(WatchHandle { debouncer: Some(debouncer), messages, thread: Some(thread), root })
}

/// Reloads once at start (a change between loading and watching would otherwise be
/// missed), then once per debounced batch of relevant events, until stopped. The
/// start-up reload counts as a reload only when it finds a change, because a check
/// the user did not cause should not show up in the reload metrics.
fn reload_loop(engine: &Engine, messages: &Receiver<Message>) {
    let mut errors = ErrorLog::default();
    engine.reload_for(ReloadTrigger::WatchStart);
    loop {
        let batch = match messages.recv_timeout(ERROR_LOG_INTERVAL) {
            Ok(Message::Events(batch)) => batch,
            Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {
                errors.flush();
                continue;
            }
        };
        let mut relevant = errors.take_relevant(batch);
        // Batches that queued up during the last reload are covered by one reload.
        loop {
            match messages.try_recv() {
                Ok(Message::Events(batch)) => relevant |= errors.take_relevant(batch),
                Ok(Message::Stop) | Err(TryRecvError::Disconnected) => return,
                Err(TryRecvError::Empty) => break,
            }
        }
        if relevant {
            engine.reload_for(ReloadTrigger::Watch);
        }
    }
}

/// Watcher errors, logged at `warn` the first time and then counted, with the
/// count logged at most once per [`ERROR_LOG_INTERVAL`].
#[derive(Default)]
struct ErrorLog {
    last_logged: Option<Instant>,
    unlogged: u64,
}

impl ErrorLog {
    /// Returns whether `batch` contains a change that calls for a reload, and logs its
    /// errors. An error may mean lost events (an overflowing event queue), so it calls for one too.
    fn take_relevant(&mut self, batch: DebounceEventResult) -> bool {
        match batch {
            Ok(events) => events.iter().any(|event| events::is_change(&event.event)),
            Err(errors) => {
                for error in errors {
                    self.record(&error);
                }
                true
            }
        }
    }

    fn record(&mut self, error: &notify::Error) {
        let due = self.last_logged.is_none_or(|at| at.elapsed() >= ERROR_LOG_INTERVAL);
        if due {
            tracing::warn!(error = %error, earlier_unlogged = self.unlogged, "policy watcher error; reloading to catch up");
            self.last_logged = Some(Instant::now());
            self.unlogged = 0;
        } else {
            self.unlogged += 1;
        }
    }

    fn flush(&mut self) {
        if self.unlogged > 0 {
            tracing::warn!(errors = self.unlogged, "policy watcher errors in the last minute");
            self.unlogged = 0;
            self.last_logged = Some(Instant::now());
        }
    }
}
