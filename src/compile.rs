//! Compile: a policy file or directory to an immutable [`PolicySet`].
//!
//! Loading parses every file, loads its reference data, resolves names, compiles
//! regexes and parses literals, and collects every diagnostic of every file. The
//! set is returned only when no diagnostic is an error.

pub mod fast;
mod program;
pub mod projection;
mod resolve;
mod slo;
pub mod table;
mod tests;
mod types;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use program::*;
pub use resolve::RECORD_FIELDS;
use resolve::{Scope, TableRef};
pub use table::{Lookup, Row, Table};

use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile};
use crate::syntax::{self, ast};

/// A compiled policy set: every rule of every file, with the reference data they read.
#[derive(Debug)]
pub struct PolicySet {
    pub files: Vec<CompiledFile>,
    pub rules: Vec<CompiledRule>,
    pub slos: Vec<CompiledSlo>,
    /// Segments in run order: the `segments` declarations first, then any other segment
    /// named by a rule, in order of appearance.
    pub segments: Vec<String>,
    pub costs: Option<CompiledCosts>,
    /// `test` blocks, with their records loaded.
    pub tests: Vec<CompiledTest>,
    pub lets: Vec<CompiledLet>,
    pub tables: Vec<Table>,
    /// The fast form of each rule, in rule order: `None` for a rule that only the
    /// general evaluator can decide.
    pub fast_rules: Vec<Option<fast::FastRule>>,
    /// The paths from the record that the fast rules read.
    pub record_paths: fast::RecordPaths,
    /// `sha256:` and the hex digest of every policy file and data file the set read.
    pub hash: String,
}

impl PolicySet {
    pub fn rule(&self, name: &str) -> Option<&CompiledRule> {
        self.rules.iter().find(|rule| rule.name == name)
    }

    /// The source text an expression of `rule` was written as.
    pub fn source_text(&self, rule: &CompiledRule, span: crate::diagnostic::Span) -> &str {
        &self.files[rule.file].source.text()[span.start..span.end]
    }
}

/// Loads the policy file at `path`, or every `*.slo` file under the directory at `path`.
pub fn load(path: &Path) -> (Option<PolicySet>, Diagnostics) {
    let mut diagnostics = Diagnostics::default();
    let files = match policy_files(path) {
        Ok(files) => files,
        Err(diagnostic) => {
            diagnostics.push(diagnostic);
            return (None, diagnostics);
        }
    };
    let mut sources = Vec::new();
    for file in files {
        match std::fs::read(&file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => sources.push(SourceFile::new(&file, file.display().to_string(), &text)),
                Err(_) => diagnostics.push(
                    Diagnostic::error("semslo::load::not_utf8", format!("`{}` is not UTF-8 text", file.display()))
                        .with_help("save the policy file as UTF-8"),
                ),
            },
            Err(error) => diagnostics.push(
                Diagnostic::error("semslo::load::unreadable", format!("cannot read `{}`: {error}", file.display()))
                    .with_help("check the path and its permissions"),
            ),
        }
    }
    let (set, more) = compile_sources(&sources);
    diagnostics.extend(more);
    if diagnostics.has_errors() { (None, diagnostics) } else { (set, diagnostics) }
}

/// Finds the policy sets under `path`: a `.slo` file is one set; a directory that
/// holds `.slo` files directly is one set (with every `.slo` file below it); any other
/// directory is searched the same way one level down, in name order.
pub fn discover_sets(path: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    let not_found = |error: std::io::Error| {
        Diagnostic::error("semslo::load::not_found", format!("cannot open policy path `{}`: {error}", path.display()))
            .with_help("pass a `.slo` file or a directory of them")
    };
    let metadata = std::fs::metadata(path).map_err(not_found)?;
    if metadata.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut sets = Vec::new();
    discover_in(path, &mut sets, 0).map_err(not_found)?;
    if sets.is_empty() {
        return Err(Diagnostic::error(
            "semslo::load::no_policies",
            format!("no `.slo` files under `{}`", path.display()),
        )
        .with_help("policy files end in `.slo`"));
    }
    Ok(sets)
}

fn discover_in(dir: &Path, sets: &mut Vec<PathBuf>, depth: usize) -> std::io::Result<()> {
    if depth > MAX_DIRECTORY_DEPTH {
        return Ok(());
    }
    let mut children: Vec<PathBuf> =
        std::fs::read_dir(dir)?.map(|entry| entry.map(|e| e.path())).collect::<Result<_, _>>()?;
    children.retain(|child| !child.file_name().is_some_and(|name| name.to_string_lossy().starts_with('.')));
    children.sort();
    if children.iter().any(|child| child.is_file() && child.extension().is_some_and(|e| e == "slo")) {
        sets.push(dir.to_path_buf());
        return Ok(());
    }
    for child in children.iter().filter(|child| child.is_dir()) {
        discover_in(child, sets, depth + 1)?;
    }
    Ok(())
}

/// Lists the `.slo` files of the policy set at `path` (a file, or every `.slo` file below a
/// directory), in path order.
pub fn policy_files(path: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    let metadata = std::fs::metadata(path).map_err(|error| {
        Diagnostic::error("semslo::load::not_found", format!("cannot open policy path `{}`: {error}", path.display()))
            .with_help("pass a `.slo` file or a directory of them with `--policy`")
    })?;
    if metadata.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    collect_slo_files(path, &mut files, 0).map_err(|error| {
        Diagnostic::error("semslo::load::unreadable", format!("cannot list `{}`: {error}", path.display()))
            .with_help("check the directory's permissions")
    })?;
    files.sort();
    if files.is_empty() {
        return Err(Diagnostic::error("semslo::load::no_policies", format!("no `.slo` files in `{}`", path.display()))
            .with_help("policy files end in `.slo`"));
    }
    Ok(files)
}

/// Deepest directory level searched for policy files.
const MAX_DIRECTORY_DEPTH: usize = 16;

fn collect_slo_files(dir: &Path, files: &mut Vec<PathBuf>, depth: usize) -> std::io::Result<()> {
    if depth > MAX_DIRECTORY_DEPTH {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        // Names starting with a dot are hidden: editors' swap files, and the `..data`
        // and timestamped directories of a mounted Kubernetes ConfigMap, whose files
        // are also visible through the links beside them and would be read twice.
        if path.file_name().is_some_and(|name| name.to_string_lossy().starts_with('.')) {
            continue;
        }
        if path.is_dir() {
            collect_slo_files(&path, files, depth + 1)?;
        } else if path.extension().is_some_and(|e| e == "slo") {
            files.push(path);
        }
    }
    Ok(())
}

/// Compiles policy sources already in memory; `use` paths resolve against each source's directory.
pub fn compile_sources(sources: &[SourceFile]) -> (Option<PolicySet>, Diagnostics) {
    let mut diagnostics = Diagnostics::default();
    let mut builder = SetBuilder::default();
    for source in sources {
        // Items that parsed are compiled even when others did not, so a syntax error in
        // one rule does not hide a name or type error in the next.
        let (ast, parse_diagnostics) = syntax::parse(source);
        diagnostics.extend(parse_diagnostics);
        builder.add_file(source, &ast, &mut diagnostics);
    }
    builder.check_duplicate_rules(&mut diagnostics);
    let set = builder.finish(&mut diagnostics);
    dedupe(&mut diagnostics);
    (set, diagnostics)
}

/// An SLO whose expressions are compiled but whose rule names wait for every file.
struct PendingSlo {
    slo: CompiledSlo,
    good: Option<(ast::GoodCondition, crate::diagnostic::Span)>,
    source: SourceFile,
}

#[derive(Default)]
struct SetBuilder {
    files: Vec<CompiledFile>,
    rules: Vec<CompiledRule>,
    slos: Vec<PendingSlo>,
    tests: Vec<tests::PendingTest>,
    segments: Vec<String>,
    costs: Option<CompiledCosts>,
    lets: Vec<CompiledLet>,
    tables: Vec<Table>,
    rule_heads: Vec<(String, SourceFile, crate::diagnostic::Span)>,
    /// Rules and SLOs that did not parse, in every file.
    unparsed: Vec<String>,
    hasher: Sha256,
}

impl SetBuilder {
    fn add_file(&mut self, source: &SourceFile, ast: &ast::PolicyFile, diagnostics: &mut Diagnostics) {
        let file_id = self.files.len();
        // The file's own name, not the path it was reached by, so the same policy set has
        // one hash whether it is loaded as `pol`, `./pol` or an absolute path.
        let file_name =
            source.path().file_name().map_or_else(|| source.name().to_string(), |n| n.to_string_lossy().into_owned());
        hash_part(&mut self.hasher, &file_name, source.text().as_bytes());
        self.unparsed.extend(ast.unparsed.iter().cloned());
        let tables = self.load_tables(source, ast, diagnostics);

        let mut lets: HashMap<String, (LetId, types::Ty, bool)> = HashMap::new();
        for declaration in &ast.lets {
            let mut scope = Scope::new(source, &tables, lets.clone());
            let (node, ty) = scope.let_value(&declaration.value);
            let effective = scope.reads_effective_table;
            diagnostics.extend(scope.diagnostics);
            if tables.contains_key(&declaration.name.name) || lets.contains_key(&declaration.name.name) {
                diagnostics.push(duplicate_name(source, &declaration.name));
            }
            lets.insert(declaration.name.name.clone(), (self.lets.len(), ty, effective));
            self.lets.push(CompiledLet { name: declaration.name.name.clone(), value: node, file: file_id });
        }

        let event_time = ast.event_time.as_ref().map(|expr| {
            let mut scope = Scope::new(source, &tables, lets.clone());
            let (node, _) = scope.expr(expr);
            diagnostics.extend(scope.diagnostics);
            node
        });

        for rule in &ast.rules {
            self.add_rule(source, file_id, rule, &tables, &lets, ast.event_time.is_some(), diagnostics);
        }
        for name in &ast.segments {
            if !self.segments.contains(&name.name) {
                self.segments.push(name.name.clone());
            }
        }
        for slo in &ast.slos {
            let mut scope = Scope::new(source, &tables, lets.clone());
            if let Some(pending) =
                slo::compile_slo(source, file_id, slo, &mut scope, ast.event_time.is_some(), diagnostics)
            {
                self.slos.push(pending);
            }
            diagnostics.extend(scope.diagnostics);
        }
        let policy_dir = source.path().parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        for case in &ast.tests {
            if let Some((pending, bytes)) = tests::load_test(source, file_id, case, policy_dir, diagnostics) {
                if let Some(ast::GivenRecord::File { path, .. }) = &case.given {
                    hash_part(&mut self.hasher, path, &bytes);
                }
                self.tests.push(pending);
            }
        }
        if let Some(costs) = &ast.costs {
            if self.costs.is_some() {
                diagnostics.push(
                    Diagnostic::error("semslo::check::duplicate_costs", "`costs` is declared in more than one file")
                        .in_file(source)
                        .with_label(costs.span, "declared again here")
                        .with_help("declare the costs of the workflow once per policy set"),
                );
            }
            self.costs = slo::compile_costs(source, costs, diagnostics);
        }
        self.files.push(CompiledFile {
            source: source.clone(),
            policy_name: ast.name.as_ref().map(|n| n.name.clone()),
            event_time,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn add_rule(
        &mut self,
        source: &SourceFile,
        file_id: FileId,
        rule: &ast::Rule,
        tables: &HashMap<String, TableRef>,
        file_lets: &HashMap<String, (LetId, types::Ty, bool)>,
        has_event_time: bool,
        diagnostics: &mut Diagnostics,
    ) {
        let mut lets = file_lets.clone();
        let mut rule_reads_effective = false;
        let mut first_effective_span = None;
        for declaration in &rule.lets {
            let mut scope = Scope::new(source, tables, lets.clone());
            let (node, ty) = scope.let_value(&declaration.value);
            let effective = scope.reads_effective_table;
            diagnostics.extend(scope.diagnostics);
            let name = &declaration.name.name;
            let shadows_rule_let = lets.get(name).is_some_and(|(id, ..)| !file_lets.values().any(|(f, ..)| f == id));
            if tables.contains_key(name) || shadows_rule_let {
                diagnostics.push(duplicate_name(source, &declaration.name));
            }
            lets.insert(name.clone(), (self.lets.len(), ty, effective));
            self.lets.push(CompiledLet { name: name.clone(), value: node, file: file_id });
        }

        let mut scope = Scope::new(source, tables, lets);
        let when = rule.when.as_ref().map(|expr| scope.condition(expr, "when"));
        let waivers: Vec<CompiledWaiver> = rule
            .waivers
            .iter()
            .filter_map(|waiver| {
                let condition = scope.condition(&waiver.condition, "waive when");
                let Some(date) = crate::value::parse_date(&waiver.until.0) else {
                    scope.diagnostics.push(
                        Diagnostic::error(
                            "semslo::check::invalid_literal",
                            format!("`{}` is not a calendar date", waiver.until.0),
                        )
                        .in_file(source)
                        .with_label(waiver.until.1, "")
                        .with_help("write dates as YYYY-MM-DD with a real month and day"),
                    );
                    return None;
                };
                let until = crate::value::date_start(date).with_timezone(&chrono::Utc);
                Some(CompiledWaiver { condition, until, reason: waiver.reason.clone(), span: waiver.span })
            })
            .collect();
        let mode_until = rule.mode_until.as_ref().and_then(|(text, span)| {
            let date = crate::value::parse_date(text);
            if date.is_none() {
                scope.diagnostics.push(
                    Diagnostic::error("semslo::check::invalid_literal", format!("`{text}` is not a calendar date"))
                        .in_file(source)
                        .with_label(*span, "")
                        .with_help("write dates as YYYY-MM-DD with a real month and day"),
                );
            }
            date
        });
        let expects = rule.expects.iter().map(|expr| scope.condition(expr, "expect")).collect();
        rule_reads_effective |= scope.reads_effective_table;
        first_effective_span = first_effective_span.or(scope.effective_read_span);
        diagnostics.extend(scope.diagnostics);

        if !rule.waivers.is_empty() && !has_event_time {
            diagnostics.push(
                Diagnostic::error(
                    "semslo::check::missing_event_time",
                    format!("rule `{}` has waivers, but the policy declares no event time", rule.name.name),
                )
                .in_file(source)
                .with_label(rule.waivers[0].span, "a waiver expires at a date, judged by each run's time")
                .with_help("add `event time PATH` (e.g. `event time outcome.created_at`)"),
            );
        }
        if rule_reads_effective && !has_event_time {
            let span = first_effective_span.unwrap_or(rule.head_span);
            diagnostics.push(
                Diagnostic::error(
                    "semslo::check::missing_event_time",
                    format!("rule `{}` reads an effective-dated table, but the policy declares no event time", rule.name.name),
                    )
                .in_file(source)
                .with_label(span, "judged at which time?")
                .with_help("add `event time PATH` (e.g. `event time outcome.created_at`) so rows are judged at each run's own time"),
            );
        }
        self.rule_heads.push((rule.name.name.clone(), source.clone(), rule.name.span));
        self.rules.push(CompiledRule {
            name: rule.name.name.clone(),
            title: rule.title.clone(),
            severity: rule.severity,
            mode: rule.mode,
            segment: rule.segment.as_ref().map(|s| s.name.clone()),
            owner: rule.owner.clone(),
            when,
            expects,
            file: file_id,
            span: rule.span,
            head_span: rule.head_span,
            needs_event_time: rule_reads_effective || !waivers.is_empty(),
            mode_until,
            waivers,
        });
    }

    fn load_tables(
        &mut self,
        source: &SourceFile,
        ast: &ast::PolicyFile,
        diagnostics: &mut Diagnostics,
    ) -> HashMap<String, TableRef> {
        let policy_dir = source.path().parent().map(Path::to_path_buf).unwrap_or_default();
        let policy_dir = if policy_dir.as_os_str().is_empty() { PathBuf::from(".") } else { policy_dir };
        let mut tables = HashMap::new();
        for declaration in &ast.uses {
            if tables.contains_key(&declaration.alias.name) {
                diagnostics.push(duplicate_name(source, &declaration.alias));
                continue;
            }
            let spec = table::TableSpec {
                name: &declaration.alias.name,
                display_path: &declaration.path,
                key: declaration.key.as_ref().map(|k| k.name.as_str()),
                effective: declaration
                    .effective
                    .as_ref()
                    .map(|(from, until)| (from.name.as_str(), until.name.as_str())),
            };
            let loaded = table::resolve_path(&policy_dir, &declaration.path).and_then(|path| {
                let bytes = std::fs::read(&path).unwrap_or_default();
                hash_part(&mut self.hasher, &declaration.path, &bytes);
                table::load(&path, &spec)
            });
            match loaded {
                Ok(table) => {
                    let id = self.tables.len();
                    tables.insert(declaration.alias.name.clone(), TableRef { id, effective: table.effective });
                    self.tables.push(table);
                }
                Err(error) => {
                    let code = if error.message.contains("outside the policy directory") {
                        "semslo::load::data_outside_policy"
                    } else {
                        "semslo::load::invalid_data"
                    };
                    diagnostics.push(
                        Diagnostic::error(code, error.message)
                            .in_file(source)
                            .with_label(declaration.path_span, "")
                            .with_help(error.help),
                    );
                }
            }
        }
        tables
    }

    fn check_duplicate_rules(&self, diagnostics: &mut Diagnostics) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, (name, source, span)) in self.rule_heads.iter().enumerate() {
            if let Some(&first) = seen.get(name.as_str()) {
                let (_, first_source, first_span) = &self.rule_heads[first];
                let mut diagnostic =
                    Diagnostic::error("semslo::check::duplicate_rule", format!("rule `{name}` is defined twice"))
                        .in_file(source)
                        .with_label(*span, "defined again here")
                        .with_help("rule names identify verdicts across the whole policy set; rename one of them");
                if first_source.name() == source.name() {
                    diagnostic = diagnostic.with_label(*first_span, "first defined here");
                } else {
                    diagnostic.help = Some(format!(
                        "`{name}` is also defined in `{}`; rule names must be unique across the policy set",
                        first_source.name()
                    ));
                }
                diagnostics.push(diagnostic);
            } else {
                seen.insert(name, i);
            }
        }
    }

    fn finish(mut self, diagnostics: &mut Diagnostics) -> Option<PolicySet> {
        for rule in &self.rules {
            if let Some(segment) = &rule.segment {
                if !self.segments.contains(segment) {
                    self.segments.push(segment.clone());
                }
            }
        }
        let slos = slo::resolve_slos(std::mem::take(&mut self.slos), &self.rules, diagnostics);
        let tests =
            tests::resolve_tests(std::mem::take(&mut self.tests), &self.rules, &slos, &self.unparsed, diagnostics);
        if diagnostics.has_errors() {
            return None;
        }
        let digest = self.hasher.finalize();
        let hash = format!("sha256:{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let mut record_paths = fast::RecordPaths::default();
        let fast_rules = self
            .rules
            .iter()
            .map(|rule| fast::compile_rule(rule, &self.lets, &self.tables, &mut record_paths))
            .collect();
        Some(PolicySet {
            files: self.files,
            rules: self.rules,
            fast_rules,
            record_paths,
            slos,
            segments: self.segments,
            costs: self.costs,
            tests,
            lets: self.lets,
            tables: self.tables,
            hash,
        })
    }
}

/// Drops repeats: one check can meet the same problem twice (both bounds of a
/// `between` against one value), and a reader needs it once.
fn dedupe(diagnostics: &mut Diagnostics) {
    let mut seen = std::collections::HashSet::new();
    diagnostics.0.retain(|d| {
        let place = d.labels.first().map(|l| (l.span.start, l.span.end));
        seen.insert((d.code, d.message.clone(), place, d.source.as_ref().map(|s| s.name().to_string())))
    });
}

fn hash_part(hasher: &mut Sha256, name: &str, bytes: &[u8]) {
    hasher.update((name.len() as u64).to_le_bytes());
    hasher.update(name.as_bytes());
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

fn duplicate_name(source: &SourceFile, name: &ast::Ident) -> Diagnostic {
    Diagnostic::error("semslo::check::duplicate_name", format!("`{}` is declared twice", name.name))
        .in_file(source)
        .with_label(name.span, "declared again here")
        .with_help("tables and `let`s share one namespace in a file; rename one of them")
}
