//! Reading a spec file: YAML (or JSON, a YAML subset) into [`Spec`], with
//! parse errors and unknown keys turned into located [`SpecError`]s with
//! "did you mean" hints.

use super::diag::{SpecError, SpecErrors};
use super::keys;
use super::model::Spec;
use std::path::Path;
use std::sync::Arc;

/// A parsed spec together with the text it came from, so later stages can
/// point at the lines of values they reject.
#[derive(Debug)]
pub struct Source {
    pub file: String,
    pub text: Arc<String>,
}

impl Source {
    /// An error at a value's location; values that came from flags (no
    /// location) are reported against the file as a whole.
    pub fn error_at(
        &self,
        loc: &serde_saphyr::Location,
        len: usize,
        message: impl Into<String>,
    ) -> SpecError {
        if loc.line() == 0 {
            SpecError::whole_file(&self.file, message)
        } else {
            SpecError::at(
                &self.file,
                &self.text,
                loc.line() as usize,
                loc.column() as usize,
                len,
                message,
            )
        }
    }
}

/// Read and parse a spec file.
pub fn load_file(path: &Path) -> Result<(Spec, Source), SpecErrors> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| SpecError::whole_file(&file, format!("cannot read spec: {e}")))?;
    parse_str(&file, &text)
}

/// Parse spec text; `file` is the name used in messages.
pub fn parse_str(file: &str, text: &str) -> Result<(Spec, Source), SpecErrors> {
    let source = Source {
        file: file.to_string(),
        text: Arc::new(text.to_string()),
    };
    if text.trim().is_empty() {
        return Err(SpecError::whole_file(file, "the spec is empty")
            .with_help("start from `wsgen init --type echo`, which writes a commented spec")
            .into());
    }
    parse_as::<Spec>(source)
}

/// Parse `source` as a `T` (a spec, or a document holding one such as a
/// task file), errors located like a spec's.
pub(crate) fn parse_as<T: serde::de::DeserializeOwned>(
    source: Source,
) -> Result<(T, Source), SpecErrors> {
    match serde_saphyr::from_str::<T>(&source.text) {
        Ok(value) => Ok((value, source)),
        Err(err) => Err(convert(&source, &err).into()),
    }
}

fn convert(source: &Source, err: &serde_saphyr::Error) -> SpecError {
    let message = clean_message(&err.without_snippet().to_string());
    let loc = err.location().unwrap_or(serde_saphyr::Location::UNKNOWN);
    let e = source.error_at(&loc, 1, message.clone());
    if message.starts_with("expected ") {
        e.with_help("check the value's type against `wsgen schema`")
    } else {
        e
    }
}

/// One error per key the table does not know, with the closest known key
/// of the same section as a hint, and one per value of the wrong type.
pub fn unknown_key_errors(spec: &Spec, source: &Source) -> Vec<SpecError> {
    let wrong_type = spec.wrong_type.iter().map(|w| {
        source
            .error_at(&w.at, 1, w.message.clone())
            .with_help("check the value's type against `wsgen schema`")
    });
    spec.unknown
        .iter()
        .map(|u| {
            let key = &u.key.value;
            let e = source.error_at(
                &u.key.referenced,
                key.chars().count(),
                format!("unknown key `{key}`"),
            );
            let known = keys::names_in(u.section);
            match did_you_mean(key, &known) {
                Some(s) => e.with_help(format!("did you mean `{s}`?")),
                None => e.with_help(format!("known keys here: {}", known.join(", "))),
            }
        })
        .chain(wrong_type)
        .collect()
}

/// serde-saphyr appends its own location; we print ours, so drop it.
fn clean_message(raw: &str) -> String {
    let first = raw.lines().next().unwrap_or(raw).trim();
    let first = match first.rfind(" at line ") {
        Some(i) => &first[..i],
        None => first,
    };
    if let Some(rest) = first.strip_prefix("invalid type: ")
        && let Some((got, expected)) = rest.split_once(", expected ")
    {
        return format!("expected {expected}, got {got}");
    }
    match first {
        "invalid i64" | "invalid u64" => "expected an integer".to_string(),
        "invalid bool" => "expected true or false".to_string(),
        other => other.to_string(),
    }
}

/// The closest known key, when it is close enough to be a typo.
pub fn did_you_mean(word: &str, known: &[&str]) -> Option<String> {
    known
        .iter()
        .map(|k| {
            (
                strsim::jaro_winkler(&word.to_lowercase(), &k.to_lowercase()),
                *k,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.to_string())
}
