//! Batch checking of JSON Lines at the speed of parsing: each line is parsed with the
//! policy set's projection (only the fields rules read) into a [`Document`] that
//! borrows from the input and is reused for every line of a chunk, evaluated without
//! explanations, in parallel over chunks of the input, and handed back in input
//! order. Memory is bounded by the chunks in flight, not by the input size.
//!
//! A caller that wants the details of a failing run parses its line again in full
//! with [`LineRun::full_record`]; that costs one more parse for those runs only.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::mpsc;

use serde_json::Value as Json;

use crate::compile::PolicySet;
use crate::compile::projection::Projection;
use crate::document::Document;
use crate::eval::{self, RuleVerdict};
use crate::input::projected::{ReadPlan, parse_into};
use crate::input::{Location, RecordError, parse_json_line};

/// Bytes read per chunk; a chunk then extends to the end of its last line.
pub const CHUNK_BYTES: usize = 1024 * 1024;

/// Chunks in flight per worker, which bounds memory to about `jobs × 2 × CHUNK_BYTES`.
const CHUNKS_PER_WORKER: usize = 2;

/// One checked line.
pub struct LineRun {
    pub location: Location,
    /// The fields of the record that the caller asked to keep.
    pub record: Json,
    /// Verdicts without explanations.
    pub verdicts: Vec<RuleVerdict>,
    chunk: Arc<Vec<u8>>,
    range: std::ops::Range<usize>,
}

impl LineRun {
    /// Parses the line again in full, for explanations and provenance.
    pub fn full_record(&self) -> Result<Json, String> {
        parse_json_line(&self.chunk[self.range.clone()])
    }
}

/// Decides every rule of `set` on one JSON record through the projecting reader, as
/// [`check_lines`] does for each line: only the fields `projection` names are parsed,
/// and the verdicts carry no explanations.
pub fn decide_text(set: &PolicySet, projection: &Projection, text: &[u8]) -> Result<Vec<RuleVerdict>, String> {
    let plan = ReadPlan::new(projection);
    let mut document = Document::default();
    decide_line(set, &plan, &Projection::default(), text, &mut document).map(|(verdicts, _)| verdicts)
}

/// Decides one record: its verdicts and the fields `keep` names, or the reason the
/// text is not a JSON object, worded by the standard reader.
fn decide_line<'c>(
    set: &PolicySet,
    plan: &'c ReadPlan,
    keep: &Projection,
    text: &'c [u8],
    document: &mut Document<'c>,
) -> Result<(Vec<RuleVerdict>, Json), String> {
    if plan.is_whole() {
        // The rules read the record as a whole, or read nothing: parse it in full.
        let record = parse_json_line(text)?;
        return Ok((eval::decide_all(set, &record), record));
    }
    let parsed = parse_into(text, plan, document);
    match document.root().filter(|root| parsed.is_ok() && root.is_object()) {
        Some(root) => Ok((eval::decide_all_projected(set, root), root.to_json_kept(&keep.root))),
        // The standard reader gives the reason, so both readers reject a line alike.
        None => match parse_json_line(text) {
            Err(reason) => Err(reason),
            Ok(_) => Err("the line could not be read as a JSON object".to_string()),
        },
    }
}

/// One line of input: checked, or rejected as malformed.
pub enum LineResult {
    Run(LineRun),
    Rejected(RecordError),
}

impl LineResult {
    fn location_mut(&mut self) -> &mut Location {
        match self {
            LineResult::Run(run) => &mut run.location,
            LineResult::Rejected(error) => &mut error.location,
        }
    }
}

/// Checks every line of `reader` with `set`, calling `sink` for each non-blank line in
/// input order. `projection` names the fields to parse (the rules' fields and `keep`);
/// each run's [`LineRun::record`] contains the fields `keep` names. `jobs` is the number of
/// worker threads (1 checks on this thread).
pub fn check_lines(
    set: &PolicySet,
    projection: &Projection,
    keep: &Projection,
    reader: impl Read + Send,
    name: Arc<str>,
    jobs: usize,
    mut sink: impl FnMut(LineResult),
) -> io::Result<()> {
    let plan = &ReadPlan::new(projection);
    let mut chunks = ChunkReader::new(reader);
    // Workers number lines within their chunk. Chunks are handed on in input order, which
    // is where the lines before each chunk are known, so the reader need not count them.
    let mut lines_before = 0;
    let mut hand_on = |checked: CheckedChunk| {
        for mut result in checked.results {
            result.location_mut().line += lines_before;
            sink(result);
        }
        lines_before += checked.lines;
    };
    if jobs <= 1 {
        while let Some(chunk) = chunks.next_chunk()? {
            hand_on(check_chunk(set, plan, keep, &name, chunk));
        }
        return Ok(());
    }

    // Each worker reads its next chunk under a lock and checks it while the bytes are still
    // in its core's cache. Slots bound the chunks read but not yet handed on to `jobs × CHUNKS_PER_WORKER`.
    let input = std::sync::Mutex::new(SharedInput { chunks, next_sequence: 0, failure: None });
    std::thread::scope(|scope| {
        let (result_sender, result_receiver) = mpsc::sync_channel::<(u64, CheckedChunk)>(jobs * CHUNKS_PER_WORKER);
        let (slot_sender, slot_receiver) = mpsc::sync_channel::<()>(jobs * CHUNKS_PER_WORKER);
        for _ in 0..jobs {
            let result_sender = result_sender.clone();
            let slot_sender = slot_sender.clone();
            let (input, name) = (&input, &name);
            scope.spawn(move || {
                while slot_sender.send(()).is_ok() {
                    let Some((sequence, chunk)) = input.lock().expect("input lock").next() else { break };
                    let results = check_chunk(set, plan, keep, name, chunk);
                    if result_sender.send((sequence, results)).is_err() {
                        break;
                    }
                }
            });
        }
        drop((result_sender, slot_sender));

        // Results arrive out of order; hand them on in sequence.
        let mut pending: BTreeMap<u64, CheckedChunk> = BTreeMap::new();
        let mut next = 0;
        for (sequence, checked) in result_receiver {
            pending.insert(sequence, checked);
            while let Some(checked) = pending.remove(&next) {
                hand_on(checked);
                // Gives back the slot of the chunk just handed on.
                let _ = slot_receiver.try_recv();
                next += 1;
            }
        }
    });
    match input.into_inner().expect("input lock").failure {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// The input shared by the workers of [`check_lines`].
struct SharedInput<R> {
    chunks: ChunkReader<R>,
    next_sequence: u64,
    /// The first read error. Reading stops there, and the chunks before it are still checked.
    failure: Option<io::Error>,
}

impl<R: Read> SharedInput<R> {
    /// Reads and numbers the next chunk. Returns `None` at the end of the input or after an error.
    fn next(&mut self) -> Option<(u64, Chunk)> {
        if self.failure.is_some() {
            return None;
        }
        match self.chunks.next_chunk() {
            Ok(chunk) => {
                let sequence = self.next_sequence;
                self.next_sequence += 1;
                chunk.map(|chunk| (sequence, chunk))
            }
            Err(error) => {
                self.failure = Some(error);
                None
            }
        }
    }
}

/// A run of whole lines.
struct Chunk {
    bytes: Arc<Vec<u8>>,
}

/// The results of the non-blank lines of one chunk, numbered from 1 within the chunk,
/// and the number of lines in it.
struct CheckedChunk {
    results: Vec<LineResult>,
    lines: usize,
}

struct ChunkReader<R> {
    reader: R,
    /// Bytes after the last line end of the previous read.
    carry: Vec<u8>,
    at_start: bool,
    finished: bool,
}

impl<R: Read> ChunkReader<R> {
    fn new(reader: R) -> Self {
        ChunkReader { reader, carry: Vec::new(), at_start: true, finished: false }
    }

    fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        loop {
            if self.finished {
                return Ok(None);
            }
            // The carried bytes start the chunk. For a line longer than a chunk they grow
            // by doubling, so such a line is not copied once per chunk read.
            let mut bytes = std::mem::take(&mut self.carry);
            bytes.reserve(CHUNK_BYTES);
            // `read_to_end` fills the spare capacity without zeroing it first, and retries
            // reads that were interrupted.
            let read = (&mut self.reader).take(CHUNK_BYTES as u64).read_to_end(&mut bytes)?;
            if read < CHUNK_BYTES {
                self.finished = true;
            }
            if !self.finished {
                match memchr::memrchr(b'\n', &bytes) {
                    Some(last) => {
                        self.carry.extend_from_slice(&bytes[last + 1..]);
                        bytes.truncate(last + 1);
                    }
                    None => {
                        // A line longer than a chunk: keep reading until it ends.
                        self.carry = bytes;
                        continue;
                    }
                }
            }
            if self.at_start {
                self.at_start = false;
                if bytes.starts_with(b"\xEF\xBB\xBF") {
                    bytes.drain(..3);
                }
            }
            if bytes.is_empty() && self.finished {
                return Ok(None);
            }
            return Ok(Some(Chunk { bytes: Arc::new(bytes) }));
        }
    }
}

fn check_chunk(set: &PolicySet, plan: &ReadPlan, keep: &Projection, name: &Arc<str>, chunk: Chunk) -> CheckedChunk {
    let mut results = Vec::new();
    let bytes = &chunk.bytes;
    let mut document = Document::default();
    let mut start = 0;
    let mut line = 1;
    while start < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        let mut text_end = end;
        if text_end > start && bytes[text_end - 1] == b'\r' {
            text_end -= 1;
        }
        let text = &bytes[start..text_end];
        if !text.iter().all(u8::is_ascii_whitespace) {
            let location = Location::new(Arc::clone(name), line);
            document.clear();
            let line = Line { text, location, chunk: &chunk.bytes, range: start..text_end };
            results.push(check_line(set, plan, keep, line, &mut document));
        }
        start = end + 1;
        line += 1;
    }
    CheckedChunk { results, lines: line - 1 }
}

/// One line of a chunk.
struct Line<'c> {
    text: &'c [u8],
    location: Location,
    chunk: &'c Arc<Vec<u8>>,
    range: std::ops::Range<usize>,
}

fn check_line<'c>(
    set: &PolicySet,
    plan: &'c ReadPlan,
    keep: &Projection,
    line: Line<'c>,
    document: &mut Document<'c>,
) -> LineResult {
    match decide_line(set, plan, keep, line.text, document) {
        Ok((verdicts, record)) => LineResult::Run(LineRun {
            location: line.location,
            record,
            verdicts,
            chunk: Arc::clone(line.chunk),
            range: line.range,
        }),
        Err(reason) => LineResult::Rejected(RecordError::new(line.location, reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::compile_sources;
    use crate::diagnostic::SourceFile;
    use crate::eval::Verdict;

    fn policy() -> PolicySet {
        let source = SourceFile::from_text("t.slo", "rule positive {\n  expect outcome.total > 0\n}\n");
        compile_sources(&[source]).0.expect("the policy compiles")
    }

    /// Returns bytes a few at a time, with an interrupted read now and then, as pipes do.
    struct Trickle {
        bytes: Vec<u8>,
        at: usize,
        reads: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.reads += 1;
            if self.reads % 7 == 0 {
                return Err(io::Error::from(io::ErrorKind::Interrupted));
            }
            let n = out.len().min(4099).min(self.bytes.len() - self.at);
            out[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// Checks `input` and returns, per non-blank line, its number and `pass`, `fail` or
    /// `rejected`.
    fn outcomes(input: &[u8], jobs: usize) -> Vec<(usize, String)> {
        let set = policy();
        let projection = Projection::of(&set);
        let reader = Trickle { bytes: input.to_vec(), at: 0, reads: 0 };
        let mut seen = Vec::new();
        check_lines(&set, &projection, &Projection::default(), reader, Arc::from("runs.jsonl"), jobs, |line| {
            seen.push(match line {
                LineResult::Run(run) => {
                    let verdict = if run.verdicts[0].verdict == Verdict::Pass { "pass" } else { "fail" };
                    (run.location.line, verdict.to_string())
                }
                LineResult::Rejected(error) => (error.location.line, "rejected".to_string()),
            });
        })
        .expect("reading from memory succeeds");
        seen
    }

    fn record(total: i64) -> String {
        format!(r#"{{"run_id":"r-{total}","outcome":{{"total":{total}}}}}"#)
    }

    #[test]
    fn lines_keep_numbers_across_chunks() {
        // About 3 MiB: several chunks, with lines split across reads and chunks. Blank
        // lines are numbered but give no result, and malformed lines keep their numbers.
        let line = |i: usize| match i {
            _ if i % 1_000 == 999 => String::new(),
            _ if i % 777 == 776 => "{not json".to_string(),
            _ => record(i as i64 % 3 - 1),
        };
        let outcome = |i: usize| match i {
            _ if i % 777 == 776 => "rejected",
            _ if i % 3 == 2 => "pass",
            _ => "fail",
        };
        let input = (0..60_000).map(line).collect::<Vec<_>>().join("\n") + "\n";
        let expected: Vec<(usize, String)> =
            (0..60_000).filter(|i| i % 1_000 != 999).map(|i| (i + 1, outcome(i).to_string())).collect();
        assert_eq!(outcomes(input.as_bytes(), 1), expected);
        assert_eq!(outcomes(input.as_bytes(), 3), expected);
    }

    #[test]
    fn line_longer_than_chunk_is_read_whole() {
        let long = format!(r#"{{"note":"{}","outcome":{{"total":5}}}}"#, "x".repeat(CHUNK_BYTES * 5 / 2));
        let input = format!("{}\n{long}\n{}\n", record(1), record(-1));
        let expected = vec![(1, "pass".to_string()), (2, "pass".to_string()), (3, "fail".to_string())];
        assert_eq!(outcomes(input.as_bytes(), 1), expected);
        assert_eq!(outcomes(input.as_bytes(), 2), expected);
    }

    /// Returns its bytes, then fails as a disk or a network file system can.
    struct FailingAfter {
        bytes: io::Cursor<Vec<u8>>,
    }

    impl Read for FailingAfter {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            match self.bytes.read(out)? {
                0 => Err(io::Error::other("the device went away")),
                n => Ok(n),
            }
        }
    }

    #[test]
    fn read_error_keeps_earlier_lines() {
        let lines: Vec<String> = (0..60_000).map(|i| record(i % 3 - 1)).collect();
        let input = lines.join("\n") + "\n";
        let set = policy();
        let projection = Projection::of(&set);
        for jobs in [1, 3] {
            let reader = FailingAfter { bytes: io::Cursor::new(input.as_bytes().to_vec()) };
            let mut seen = Vec::new();
            let outcome =
                check_lines(&set, &projection, &Projection::default(), reader, Arc::from("r"), jobs, |line| {
                    if let LineResult::Run(run) = line {
                        seen.push(run.location.line);
                    }
                });

            assert_eq!(outcome.unwrap_err().to_string(), "the device went away");
            assert!(seen.len() >= CHUNK_BYTES / input.len().div_ceil(60_000), "{} lines with {jobs} jobs", seen.len());
            assert_eq!(seen, (1..=seen.len()).collect::<Vec<_>>(), "lines out of order with {jobs} jobs");
        }
    }

    #[test]
    fn bom_crlf_and_blank_lines_are_accepted() {
        let input = format!("\u{FEFF}{}\r\n\r\n  \n{}", record(1), record(2));
        assert_eq!(outcomes(input.as_bytes(), 1), vec![(1, "pass".to_string()), (4, "pass".to_string())]);
    }

    #[test]
    fn malformed_line_is_rejected_and_counted() {
        let input = format!("{}\n{{\"outcome\": \n[1, 2]\n{}\n", record(1), record(-1));
        let expected = vec![
            (1, "pass".to_string()),
            (2, "rejected".to_string()),
            (3, "rejected".to_string()),
            (4, "fail".to_string()),
        ];
        assert_eq!(outcomes(input.as_bytes(), 1), expected);
        assert_eq!(outcomes(input.as_bytes(), 2), expected);
    }
}
