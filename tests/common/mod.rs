//! Helpers shared by the integration tests: policies compiled from text or from
//! real files in temporary directories, and diagnostics rendered for snapshots.

#![allow(dead_code, reason = "each test crate uses a different subset of these helpers")]

use std::path::{Path, PathBuf};

use semslo::compile::{self, PolicySet};
use semslo::diagnostic::{Diagnostics, SourceFile, render_plain};

/// Width at which diagnostics are rendered in snapshots.
pub const RENDER_WIDTH: usize = 80;

/// Renders every diagnostic without colour at [`RENDER_WIDTH`] columns, or
/// `no diagnostics` when there are none.
pub fn render_all(diagnostics: &Diagnostics) -> String {
    if diagnostics.is_empty() {
        return "no diagnostics\n".to_string();
    }
    diagnostics.iter().map(|diagnostic| render_plain(diagnostic, RENDER_WIDTH)).collect::<Vec<_>>().join("\n")
}

/// Replaces `directory` with `[TMP]` in every file name, message and help of
/// `diagnostics`, before rendering, so that line wrapping does not depend on
/// where the temporary directory is.
pub fn scrub_directory(diagnostics: &Diagnostics, directory: &Path) -> Diagnostics {
    let from = directory.display().to_string();
    let scrub = |text: &str| text.replace(&from, "[TMP]");
    let scrubbed = diagnostics
        .iter()
        .map(|diagnostic| {
            let mut diagnostic = diagnostic.clone();
            diagnostic.message = scrub(&diagnostic.message);
            diagnostic.help = diagnostic.help.as_deref().map(scrub);
            diagnostic.source = diagnostic
                .source
                .as_ref()
                .map(|source| SourceFile::new(source.path(), scrub(source.name()), source.text()));
            diagnostic
        })
        .collect();
    Diagnostics(scrubbed)
}

/// Returns the codes of `diagnostics`, in order.
pub fn codes(diagnostics: &Diagnostics) -> Vec<&'static str> {
    diagnostics.iter().map(|diagnostic| diagnostic.code).collect()
}

/// Writes `files` (relative path, text) under `directory`, creating folders as needed.
pub fn write_files(directory: &Path, files: &[(&str, &str)]) {
    for (relative, text) in files {
        let path = directory.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
    }
}

/// Compiles the policy `text` as `policy.slo` in a fresh temporary directory that
/// also contains the `data` files (relative path, text), so `use` lines read real
/// files. Returns the directory with the result, so the caller decides when it is
/// deleted.
pub fn compile_with_data(text: &str, data: &[(&str, &str)]) -> (tempfile::TempDir, Option<PolicySet>, Diagnostics) {
    let directory = tempfile::tempdir().unwrap();
    write_files(directory.path(), data);
    let path: PathBuf = directory.path().join("policy.slo");
    std::fs::write(&path, text).unwrap();
    let source = SourceFile::new(&path, "policy.slo", text);
    let (set, diagnostics) = compile::compile_sources(&[source]);
    (directory, set, diagnostics)
}

/// Compiles `text` with its `data` files and panics with the rendered diagnostics
/// if the policy has errors.
pub fn compile_ok(text: &str, data: &[(&str, &str)]) -> PolicySet {
    let (_directory, set, diagnostics) = compile_with_data(text, data);
    match set {
        Some(set) => set,
        None => panic!("the policy does not compile:\n{text}\n{}", render_all(&diagnostics)),
    }
}

/// Parses JSON text with serde_json's `arbitrary_precision`, so numbers keep their digits.
pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("invalid JSON in a test: {error}\n{text}"))
}
