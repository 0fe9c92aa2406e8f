//! Per-language normalisation of rendered files: each language's driver
//! decides (`LanguageDriver::normalize`). Rust is parsed with syn and printed
//! with prettyplease (invalid Rust fails generation). Go, Python and Node
//! output is checked by their own tools in the test suite (gofmt, go vet,
//! py_compile, node --check), so generation needs no external formatter.

use super::EmitError;
use crate::lang::Language;
use std::path::Path;

pub fn normalize(lang: Language, path: &Path, contents: String) -> Result<String, EmitError> {
    lang.driver().normalize(path, contents)
}

pub(crate) fn rust(path: &Path, contents: &str) -> Result<String, EmitError> {
    let file = syn::parse_file(contents).map_err(|e| {
        let start = e.span().start();
        let line = contents
            .lines()
            .nth(start.line.saturating_sub(1))
            .unwrap_or("");
        EmitError::Invalid {
            path: path.display().to_string(),
            language: "Rust",
            message: format!("{}:{}: {e}\n    {line}", start.line, start.column + 1),
        }
    })?;
    Ok(prettyplease::unparse(&file))
}
