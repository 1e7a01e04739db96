//! `semslo::lint::duplicate_column`: a CSV reference file whose header names a column
//! twice. Each row then keeps only the last cell of that name, so the other one is
//! silently ignored. When it is the key or a validity column, lookups use whichever
//! cell happens to come last.

use std::collections::HashMap;

use super::LintOptions;
use super::context::{SetContext, line_span};
use crate::compile::table;
use crate::diagnostic::{Diagnostic, SourceFile};

const CODE: &str = "semslo::lint::duplicate_column";

pub fn check(context: &SetContext, _options: &LintOptions, findings: &mut Vec<Diagnostic>) {
    for file in &context.files {
        for declaration in &file.ast.uses {
            let Ok(path) = table::resolve_path(&file.dir, &declaration.path) else { continue };
            if !path.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("csv")) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else { continue };
            let source = SourceFile::new(&path, file.dir.join(&declaration.path).display().to_string(), &text);
            for column in repeated_columns(source.text()) {
                findings.push(
                    Diagnostic::error(
                        CODE,
                        format!("column `{column}` appears more than once in `{}`", declaration.path),
                    )
                    .in_file(&source)
                    .with_label(line_span(&source, 1), "header")
                    .with_help("each row keeps only the last cell of a repeated column; rename or remove the other"),
                );
            }
        }
    }
}

/// Lists the column names the header of `text` repeats, in header order.
fn repeated_columns(text: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let Ok(headers) = reader.headers() else { return Vec::new() };
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut repeated = Vec::new();
    for name in headers {
        let count = counts.entry(name).or_default();
        *count += 1;
        if *count == 2 {
            repeated.push(name.to_string());
        }
    }
    repeated
}
