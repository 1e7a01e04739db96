//! The inputs of the lint checks of one policy set: each file's source and AST, the
//! compiled set when it compiles, the reference tables that load, and record schemas.

use std::path::{Path, PathBuf};

use super::schema::RecordSchema;
use crate::compile::table::{self, Table, TableSpec};
use crate::compile::{self, PolicySet};
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile, Span};
use crate::syntax::{self, ast};

/// One policy set, loaded for linting.
pub struct SetContext {
    /// Every diagnostic of loading and compiling the set.
    pub compile_diagnostics: Diagnostics,
    /// The files that could be read, with the items of each that parsed.
    pub files: Vec<ParsedFile>,
    /// The compiled set; `None` when compiling found errors.
    pub set: Option<PolicySet>,
    /// Every `use` table of every file that loaded.
    pub tables: Vec<LoadedTable>,
    /// The record schema of each file (same order as `files`), its own or the set's.
    pub schemas: Vec<Option<std::sync::Arc<RecordSchema>>>,
}

/// One policy file: its text and the items that parsed.
pub struct ParsedFile {
    pub source: SourceFile,
    pub ast: ast::PolicyFile,
    /// The directory `use` and `schema` paths are relative to.
    pub dir: PathBuf,
    /// Whether every item of the file parsed; when not, `ast` lacks the items that did not.
    pub complete: bool,
}

/// A reference table loaded from a `use` line.
pub struct LoadedTable {
    /// Index into [`SetContext::files`] of the file with the `use` line.
    pub file: usize,
    pub declaration: ast::Use,
    pub table: Table,
    /// The data file, when it is CSV: lint findings about rows point at its lines.
    pub csv_source: Option<SourceFile>,
}

impl SetContext {
    /// Loads, compiles and parses the set at `path`. Problems become compile
    /// diagnostics; files or tables that cannot be read are left out of the context.
    pub fn load(path: &Path) -> SetContext {
        let (set, mut compile_diagnostics) = compile::load(path);
        let files = read_files(path);
        let tables = files.iter().enumerate().flat_map(|(index, file)| load_tables(index, file)).collect();
        let schemas = load_schemas(&files, &mut compile_diagnostics);
        SetContext { compile_diagnostics, files, set, tables, schemas }
    }

    /// Tells whether compiling already reported a diagnostic with `code` at `span` of `source`.
    pub fn compile_reported(&self, code: &str, source: &SourceFile, span: Span) -> bool {
        self.compile_diagnostics.iter().any(|diagnostic| {
            diagnostic.code == code
                && diagnostic.source.as_ref().is_some_and(|s| s.name() == source.name())
                && diagnostic.labels.first().is_some_and(|label| label.span == span)
        })
    }
}

/// Reads and parses every file of the set. Files that cannot be read or are not UTF-8
/// are skipped: [`compile::load`] has reported them already, as it has every syntax error.
fn read_files(path: &Path) -> Vec<ParsedFile> {
    let Ok(paths) = compile::policy_files(path) else { return Vec::new() };
    let mut files = Vec::new();
    for file in paths {
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        let source = SourceFile::new(&file, file.display().to_string(), &text);
        let (ast, diagnostics) = syntax::parse(&source);
        let complete = !diagnostics.iter().any(Diagnostic::is_error);
        files.push(ParsedFile { dir: policy_dir(&file), source, ast, complete });
    }
    files
}

fn policy_dir(file: &Path) -> PathBuf {
    match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Loads the tables of one file the way the compiler does; tables that fail to load
/// are left out (the compiler reported why).
fn load_tables(file_index: usize, file: &ParsedFile) -> Vec<LoadedTable> {
    let mut tables = Vec::new();
    for declaration in &file.ast.uses {
        let spec = TableSpec {
            name: &declaration.alias.name,
            display_path: &declaration.path,
            key: declaration.key.as_ref().map(|key| key.name.as_str()),
            effective: declaration.effective.as_ref().map(|(from, until)| (from.name.as_str(), until.name.as_str())),
        };
        let Ok(resolved) = table::resolve_path(&file.dir, &declaration.path) else { continue };
        let Ok(table) = table::load(&resolved, &spec) else { continue };
        let is_csv = resolved.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("csv"));
        let csv_source = is_csv
            .then(|| std::fs::read_to_string(&resolved).ok())
            .flatten()
            .map(|text| SourceFile::new(&resolved, file.dir.join(&declaration.path).display().to_string(), &text));
        tables.push(LoadedTable { file: file_index, declaration: declaration.clone(), table, csv_source });
    }
    tables
}

/// Loads each file's `schema`; a file without one uses the first schema declared in the
/// set. A schema that cannot be used is a diagnostic, and its file gets no schema.
fn load_schemas(files: &[ParsedFile], diagnostics: &mut Diagnostics) -> Vec<Option<std::sync::Arc<RecordSchema>>> {
    let mut own = Vec::with_capacity(files.len());
    for file in files {
        let Some((relative, span)) = &file.ast.schema else {
            own.push(None);
            continue;
        };
        match RecordSchema::load(&file.dir, relative) {
            Ok((schema, problems)) => {
                for (message, help) in problems {
                    diagnostics.push(schema_error(file, *span, message, help));
                }
                own.push(Some(std::sync::Arc::new(schema)));
            }
            Err((message, help)) => {
                diagnostics.push(schema_error(file, *span, message, help));
                own.push(None);
            }
        }
    }
    let fallback = own.iter().flatten().next().cloned();
    files
        .iter()
        .zip(&own)
        .map(|(file, schema)| if file.ast.schema.is_some() { schema.clone() } else { fallback.clone() })
        .collect()
}

fn schema_error(file: &ParsedFile, span: Span, message: String, help: String) -> Diagnostic {
    Diagnostic::error("semslo::lint::invalid_schema", message)
        .in_file(&file.source)
        .with_label(span, "")
        .with_help(help)
}

/// Returns the byte span of 1-based `line` of `source`, without its line break.
pub fn line_span(source: &SourceFile, line: usize) -> Span {
    let text = source.text();
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return Span::new(text.len(), text.len()),
        }
    }
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let end = if text[start..end].ends_with('\r') { end - 1 } else { end };
    Span::new(start, end)
}
