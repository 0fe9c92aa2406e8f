//! Located diagnostics for specs (and scenario files): file, line, column, the
//! offending line with a caret, what was expected, and a hint. Rendered by miette.

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, SourceSpan};
use std::fmt;
use std::sync::Arc;

/// One located error in a YAML/JSON input file.
#[derive(Debug, Clone)]
pub struct SpecError {
    pub file: String,
    /// 1-based line; 0 when the error has no location (e.g. unreadable file).
    pub line: usize,
    /// 1-based column in characters.
    pub column: usize,
    pub message: String,
    pub help: Option<String>,
    source: Arc<String>,
    span: SourceSpan,
}

impl SpecError {
    /// An error at `line:column` (1-based) of `source`, underlining `len` characters.
    pub fn at(
        file: &str,
        source: &Arc<String>,
        line: usize,
        column: usize,
        len: usize,
        message: impl Into<String>,
    ) -> Self {
        let (offset, byte_len) = byte_span(source, line, column, len);
        SpecError {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
            help: None,
            source: source.clone(),
            span: (offset, byte_len).into(),
        }
    }

    /// An error with no position (the file as a whole).
    pub fn whole_file(file: &str, message: impl Into<String>) -> Self {
        SpecError {
            file: file.to_string(),
            line: 0,
            column: 0,
            message: message.into(),
            help: None,
            source: Arc::new(String::new()),
            span: (0, 0).into(),
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `file:line:column: message`, then the snippet with a caret and the hint.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if self.line > 0 {
            out.push_str(&format!(
                "{}:{}:{}: {}\n",
                self.file, self.line, self.column, self.message
            ));
            let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
                .with_context_lines(1);
            let mut report = String::new();
            let _ = handler.render_report(&mut report, self);
            // The first line repeats the message we already printed.
            let snippet = report
                .find('╭')
                .and_then(|i| report[..i].rfind('\n').map(|n| &report[n + 1..]))
                .unwrap_or(&report);
            out.push_str(snippet);
        } else {
            out.push_str(&format!("{}: {}\n", self.file, self.message));
            if let Some(h) = &self.help {
                out.push_str(&format!("  help: {h}\n"));
            }
        }
        out
    }
}

/// Byte offset and byte length of `len` characters starting at line:column.
fn byte_span(source: &str, line: usize, column: usize, len: usize) -> (usize, usize) {
    let mut offset = 0;
    for (i, l) in source.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let text = l.trim_end_matches(['\n', '\r']);
            let start: usize = text
                .chars()
                .take(column.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            let rest = &text[start.min(text.len())..];
            let n: usize = rest.chars().take(len.max(1)).map(char::len_utf8).sum();
            return (offset + start, n);
        }
        offset += l.len();
    }
    (source.len(), 0)
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SpecError {}

impl Diagnostic for SpecError {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(self)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(Some("here".into()), self.span),
        )))
    }
}

impl miette::SourceCode for SpecError {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let c = self.source.as_str().read_span(span, before, after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.file.clone(),
            c.data(),
            *c.span(),
            c.line(),
            c.column(),
            c.line_count(),
        )))
    }
}

/// All errors found in one file (semantic checks report every problem at once).
#[derive(Debug, Clone)]
pub struct SpecErrors(pub Vec<SpecError>);

impl SpecErrors {
    pub fn render(&self) -> String {
        let mut s = String::new();
        for e in &self.0 {
            s.push_str(&e.render());
            s.push('\n');
        }
        if self.0.len() > 1 {
            s.push_str(&format!("{} errors\n", self.0.len()));
        }
        s
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.render().trim_end())
    }
}

impl std::error::Error for SpecErrors {}

impl From<SpecError> for SpecErrors {
    fn from(e: SpecError) -> Self {
        SpecErrors(vec![e])
    }
}
