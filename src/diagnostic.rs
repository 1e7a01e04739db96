//! Diagnostics: problems found in policy files, as data.
//!
//! The library never prints. Every stage returns [`Diagnostic`]s carrying a stable
//! code (`semslo::parse::unexpected_token`), a severity, a message, labelled spans
//! into the shared [`SourceFile`], and help text. Only the CLI picks a renderer.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{LabeledSpan, MietteError, MietteSpanContents, NamedSource, SourceCode, SpanContents};

/// One policy file's text, shared by every diagnostic that points into it.
///
/// A leading UTF-8 byte-order mark is removed on load, so byte offsets in spans
/// count from the first character after it.
#[derive(Clone)]
pub struct SourceFile {
    path: PathBuf,
    display_name: Arc<str>,
    named: Arc<CharColumnSource>,
    text: Arc<str>,
    /// Byte offset of the start of each line, for [`SourceFile::line_column`].
    line_starts: Arc<[usize]>,
}

/// The file's text as miette reads it, reporting columns in characters rather than
/// bytes, so a location after non-ASCII text matches [`SourceFile::line_column`].
struct CharColumnSource {
    named: NamedSource<Arc<str>>,
    name: String,
    text: Arc<str>,
}

impl SourceCode for CharColumnSource {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents = self.named.read_span(span, context_lines_before, context_lines_after)?;
        if context_lines_before != 0 {
            return Ok(contents);
        }
        let offset = span.offset().min(self.text.len());
        let line_start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let column = self.text.get(line_start..offset).map_or(contents.column(), |before| before.chars().count());
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            *contents.span(),
            contents.line(),
            column,
            contents.line_count(),
        )))
    }
}

impl SourceFile {
    /// Wraps `text` read from `path`; `display_name` is how messages name the file.
    pub fn new(path: impl Into<PathBuf>, display_name: impl Into<Arc<str>>, text: &str) -> Self {
        let text: Arc<str> = Arc::from(text.strip_prefix('\u{FEFF}').unwrap_or(text));
        let display_name = display_name.into();
        let named = NamedSource::new(&display_name, Arc::clone(&text)).with_language("semslo");
        let named = CharColumnSource { named, name: display_name.to_string(), text: Arc::clone(&text) };
        let line_starts =
            std::iter::once(0).chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1)).collect();
        SourceFile { path: path.into(), display_name, named: Arc::new(named), text, line_starts }
    }

    /// Wraps an in-memory policy (tests, inline snippets) named `name`.
    pub fn from_text(name: &str, text: &str) -> Self {
        SourceFile::new(PathBuf::from(name), name, text)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn name(&self) -> &str {
        &self.display_name
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Returns the 1-based line and column (in characters) of byte `offset`.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        // The number of line starts at or before `offset` is the 1-based line.
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self.line_starts[line - 1];
        let column = self.text[line_start..offset].chars().count() + 1;
        (line, column)
    }
}

impl fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceFile({})", self.display_name)
    }
}

/// A byte range `start..end` in a [`SourceFile`]'s text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start, span.len()).into()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A label: a span with a short note shown under it.
#[derive(Clone, Debug)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One problem in a policy file or its reference data.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// Stable identifier users can look up and silence, e.g. `semslo::check::unknown_name`.
    pub code: &'static str,
    pub severity: Severity,
    /// Lowercase sentence; user input in backticks.
    pub message: String,
    /// The first label is the primary place.
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// File the spans point into; `None` for problems that have no place (a missing directory).
    pub source: Option<SourceFile>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            source: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, message) }
    }

    pub fn in_file(mut self, source: &SourceFile) -> Self {
        self.source = Some(source.clone());
        self
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label { span, message: message.into() });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:column` of the primary label, or the file name alone.
    pub fn location(&self) -> Option<String> {
        let source = self.source.as_ref()?;
        match self.labels.first() {
            Some(label) => {
                let (line, column) = source.line_column(label.span.start);
                Some(format!("{}:{line}:{column}", source.name()))
            }
            None => Some(source.name().to_string()),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Warning => miette::Severity::Warning,
            Severity::Error => miette::Severity::Error,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|source| source.named.as_ref() as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() || self.source.is_none() {
            return None;
        }
        Some(Box::new(self.labels.iter().enumerate().map(|(i, label)| {
            let text = (!label.message.is_empty()).then(|| label.message.clone());
            if i == 0 {
                LabeledSpan::new_primary_with_span(text, label.span)
            } else {
                LabeledSpan::new_with_span(text, label.span)
            }
        })))
    }
}

/// All diagnostics of one operation, in file order.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    pub fn extend(&mut self, more: impl IntoIterator<Item = Diagnostic>) {
        self.0.extend(more);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.0.len() - self.error_count()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Returns the candidate closest to `name` by edit distance, if close enough to be a likely typo.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .filter(|candidate| *candidate != name)
        .map(|candidate| (strsim::damerau_levenshtein(name, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, candidate)| (*distance, *candidate))
        .map(|(_, candidate)| candidate)
}

/// Longest source line shown in a rendered snippet; a diagnostic on a longer line is
/// rendered with its location only. The renderer cannot draw columns past 65,535.
const MAX_SNIPPET_LINE: usize = 4_096;

impl Diagnostic {
    /// A copy that any renderer can draw: the same diagnostic, or, when its place is on
    /// a line too long to show, one that names the place in words instead.
    pub fn renderable(&self) -> Diagnostic {
        let (Some(source), Some(label)) = (&self.source, self.labels.first()) else { return self.clone() };
        let text = source.text();
        let start = label.span.start.min(text.len());
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        if line_end - line_start <= MAX_SNIPPET_LINE {
            return self.clone();
        }
        let location = self.location().unwrap_or_default();
        Diagnostic {
            message: format!("{} (at {location}, on a line too long to show)", self.message),
            labels: Vec::new(),
            source: None,
            ..self.clone()
        }
    }
}

/// Renders a diagnostic as plain text (no colour) at `width` columns, the way the
/// CLI prints it with `--color never`; stable enough for snapshot tests.
pub fn render_plain(diagnostic: &Diagnostic, width: usize) -> String {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor()).with_width(width);
    let mut out = String::new();
    handler.render_report(&mut out, &diagnostic.renderable()).expect("rendering to a String cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_lines_and_characters() {
        let source = SourceFile::from_text("t.slo", "ab\nçd é\n\nx");
        assert_eq!(source.line_column(0), (1, 1));
        assert_eq!(source.line_column(2), (1, 3), "the newline ends line 1");
        assert_eq!(source.line_column(3), (2, 1));
        assert_eq!(source.line_column(7), (2, 4), "`ç` is one character of two bytes");
        assert_eq!(source.line_column(10), (3, 1));
        assert_eq!(source.line_column(11), (4, 1));
        assert_eq!(source.line_column(99), (4, 2), "offsets past the end clamp to it");
    }
}
