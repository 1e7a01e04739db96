//! Loading a policy path as one consistent snapshot, ready to go live: every file
//! parsed, checked and compiled, and every `test` block passing.
//!
//! A directory is read the way `semslo check --policy DIR` reads it (every `*.slo`
//! file below it, in path order, named by its path under `DIR`, so both give the
//! same policy-set hash), with two differences:
//!
//! - Files and directories whose name starts with a dot are skipped: editor lock
//!   and swap files (`.#procurement.slo`) and the internals of a Kubernetes
//!   ConfigMap volume (`..data`, `..2025_01_01_00_00_00.123`).
//! - When the directory contains a `..data` symlink, as a mounted ConfigMap does, the
//!   link is resolved once and the files are read from its target. Kubernetes
//!   publishes a new version by writing a new timestamped directory and renaming a
//!   new `..data` link over the old one, so the target never changes while it is
//!   read: a load sees either the old version or the new one, never a mix.

use std::path::{Path, PathBuf};

use crate::compile::{self, PolicySet, TestTarget};
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile};
use crate::policy_test::{self, TestReport};

/// The symlink through which a Kubernetes ConfigMap volume publishes its current files.
pub const CONFIGMAP_DATA_LINK: &str = "..data";

/// Deepest directory level searched for policy files, as `semslo check` searches.
const MAX_DIRECTORY_DEPTH: usize = 16;

/// A policy set that compiled without errors and passed all its tests.
pub(super) struct Candidate {
    pub set: PolicySet,
    /// Warnings of the compilation; a candidate has no errors.
    pub warnings: Diagnostics,
    pub tests_passed: usize,
    /// The directory the files were read from: the policy path, or the target of its `..data` link.
    pub read_from: PathBuf,
}

/// Loads the policy file or directory at `path` as a candidate set, or returns every
/// diagnostic that keeps it from going live (compile errors and failing tests).
pub(super) fn load_candidate(path: &Path) -> Result<Candidate, Diagnostics> {
    let metadata = std::fs::metadata(path).map_err(|error| {
        single(
            Diagnostic::error(
                "semslo::load::not_found",
                format!("cannot open policy path `{}`: {error}", path.display()),
            )
            .with_help("pass a `.slo` file or a directory of them"),
        )
    })?;

    let (compiled, read_from) = if metadata.is_file() {
        (compile::load(path), path.to_path_buf())
    } else {
        let read_from = snapshot_root(path);
        let sources = read_sources(path, &read_from)?;
        (compile::compile_sources(&sources), read_from)
    };

    let (set, diagnostics) = compiled;
    let set = match set {
        Some(set) if !diagnostics.has_errors() => set,
        _ => return Err(diagnostics),
    };

    if set.rules.is_empty() {
        let mut rejected = diagnostics;
        rejected
            .push(Diagnostic::error("semslo::engine::no_rules", "the policy set has no rules").with_help(
                "a set without rules would judge every run good; an emptied policy file is the usual cause",
            ));
        return Err(rejected);
    }
    let report = policy_test::run(&set);
    if report.failed() > 0 {
        let mut rejected = diagnostics;
        rejected.extend(test_failures(&set, &report));
        return Err(rejected);
    }
    Ok(Candidate { tests_passed: report.passed(), set, warnings: diagnostics, read_from })
}

/// Returns the directory to read files from: the target of `path/..data` when that
/// is a symlink (a mounted ConfigMap), else `path` itself.
fn snapshot_root(path: &Path) -> PathBuf {
    let link = path.join(CONFIGMAP_DATA_LINK);
    let is_link = std::fs::symlink_metadata(&link).is_ok_and(|metadata| metadata.file_type().is_symlink());
    if is_link {
        if let Ok(target) = link.canonicalize() {
            return target;
        }
    }
    path.to_path_buf()
}

/// Reads every `*.slo` file under `root`, naming each by its place under `path`.
fn read_sources(path: &Path, root: &Path) -> Result<Vec<SourceFile>, Diagnostics> {
    let mut files = Vec::new();
    collect_slo_files(root, Path::new(""), &mut files, 0).map_err(|error| {
        single(
            Diagnostic::error("semslo::load::unreadable", format!("cannot list `{}`: {error}", root.display()))
                .with_help("check the directory's permissions"),
        )
    })?;
    files.sort();
    if files.is_empty() {
        return Err(single(
            Diagnostic::error("semslo::load::no_policies", format!("no `.slo` files in `{}`", path.display()))
                .with_help("policy files end in `.slo`"),
        ));
    }

    let mut diagnostics = Diagnostics::default();
    let mut sources = Vec::new();
    for relative in files {
        let real = root.join(&relative);
        let name = path.join(&relative).display().to_string();
        match std::fs::read(&real) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => sources.push(SourceFile::new(&real, name, &text)),
                Err(_) => diagnostics.push(
                    Diagnostic::error("semslo::load::not_utf8", format!("`{name}` is not UTF-8 text"))
                        .with_help("save the policy file as UTF-8"),
                ),
            },
            Err(error) => diagnostics.push(
                Diagnostic::error("semslo::load::unreadable", format!("cannot read `{name}`: {error}"))
                    .with_help("check the path and its permissions"),
            ),
        }
    }
    if diagnostics.has_errors() { Err(diagnostics) } else { Ok(sources) }
}

/// Collects the paths, relative to `root`, of the `*.slo` files below `root/relative`.
fn collect_slo_files(root: &Path, relative: &Path, files: &mut Vec<PathBuf>, depth: usize) -> std::io::Result<()> {
    if depth > MAX_DIRECTORY_DEPTH {
        return Ok(());
    }
    for entry in std::fs::read_dir(root.join(relative))? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let child = relative.join(&name);
        let full = root.join(&child);
        if full.is_dir() {
            collect_slo_files(root, &child, files, depth + 1)?;
        } else if full.extension().is_some_and(|extension| extension == "slo") {
            files.push(child);
        }
    }
    Ok(())
}

/// Builds one diagnostic per failed expectation of the set's `test` blocks, placed
/// at the expectation, so a rejected reload shows which test broke and where.
fn test_failures(set: &PolicySet, report: &TestReport) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (test, result) in set.tests.iter().zip(&report.results) {
        let source = &set.files[test.file].source;
        for failure in &result.failures {
            let span = test
                .expects
                .iter()
                .find(|expect| {
                    let target = match expect.target {
                        TestTarget::Rule(index) => &set.rules[index].name,
                        TestTarget::Slo(index) => &set.slos[index].name,
                    };
                    *target == failure.target && source.line_column(expect.span.start).0 == failure.line
                })
                .map_or(test.head_span, |expect| expect.span);
            diagnostics.push(
                Diagnostic::error(
                    "semslo::test::failed",
                    format!(
                        "test `{}` failed: expected `{}` {}, got {}",
                        test.name, failure.target, failure.expected, failure.actual
                    ),
                )
                .in_file(source)
                .with_label(span, "this expectation does not hold")
                .with_help("fix the rule or the test; a policy set goes live only when all its tests pass"),
            );
        }
    }
    diagnostics
}

fn single(diagnostic: Diagnostic) -> Diagnostics {
    Diagnostics(vec![diagnostic])
}
