//! `semslo::lint::rarely_present`: a field path that fewer than half of the sample runs
//! hold. A `when` that reads it skips the other runs ("skip: field missing"), so the
//! rule silently judges only a few runs; an `expect` that reads it errors on them.
//! Only paths a condition reads on every run are judged: not paths the policy treats as
//! optional (under `exists`, `is missing` or left of `otherwise`), not paths read only
//! after something else decided they are needed (right of `and`/`or`, in an `if`
//! branch), and not paths through a list, whose elements a quantifier's `where` picks.

use super::context::SetContext;
use super::paths::{FieldPath, Segment};
use super::samples::SetSamples;
use crate::diagnostic::Diagnostic;

const CODE: &str = "semslo::lint::rarely_present";

pub fn check(context: &SetContext, samples: &SetSamples, findings: &mut Vec<Diagnostic>) {
    let mut reported: Vec<FieldPath> = Vec::new();
    let judged_reads = samples.reads.iter().filter(|(_, read)| {
        !read.guarded && !read.conditional && read.path.0.iter().all(|s| matches!(s, Segment::Field(_)))
    });
    for (file_index, read) in judged_reads {
        let file = &context.files[*file_index];
        for index in 0..read.path.0.len() {
            let path = FieldPath(read.path.0[..=index].to_vec());
            let counts = &samples.paths[&path];
            let judged = counts.present + counts.absent;
            // Never present is `unknown_field`; present in half or more is fine.
            if counts.present == 0 || counts.present * 2 >= judged {
                continue;
            }
            if !reported.contains(&path) {
                reported.push(path.clone());
                findings.push(
                    Diagnostic::warning(
                        CODE,
                        format!("`{path}` is missing in {} of {judged} sample runs", counts.absent),
                    )
                    .in_file(&file.source)
                    .with_label(read.spans[index], if counts.present == 1 { "present in only 1 run".to_string() } else { format!("present in only {} runs", counts.present) })
                    .with_help(
                        "a `when` that reads a missing field skips the run and an `expect` errors on it; if the field is optional, test it with `exists` or give a default with `otherwise`",
                    ),
                );
            }
            break;
        }
    }
}
