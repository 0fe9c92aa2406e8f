//! Per-language normalisation of rendered files: each language's driver
//! decides (`LanguageDriver::normalize`). Rust is parsed with syn so
//! that invalid Rust fails generation with a located message; the rendered
//! text is kept as is (comments, blank lines and layout come from the
//! templates, which are written the way rustfmt lays them out, so a generated
//! project passes `cargo fmt --check`; tests/generated_hygiene.rs proves it).
//! Go, Python and Node output is checked by their own tools in the test suite
//! (gofmt, go vet, py_compile, node --check), so generation needs no external
//! formatter.

use super::EmitError;
use crate::lang::Language;
use std::path::Path;

pub fn normalize(lang: Language, path: &Path, contents: String) -> Result<String, EmitError> {
    lang.driver().normalize(path, contents)
}

/// Checks that `contents` parses as a Rust file and returns it unchanged.
pub(crate) fn rust(path: &Path, contents: String) -> Result<String, EmitError> {
    if let Err(e) = syn::parse_file(&contents) {
        let start = e.span().start();
        let line = contents
            .lines()
            .nth(start.line.saturating_sub(1))
            .unwrap_or("");
        return Err(EmitError::Invalid {
            path: path.display().to_string(),
            language: "Rust",
            message: format!("{}:{}: {e}\n    {line}", start.line, start.column + 1),
        });
    }
    Ok(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_is_returned_as_rendered() {
        let text = "//! Module doc.\n\n// A comment.\nfn a() {}\n\nfn b() {}\n";
        let out = normalize(Language::Rust, Path::new("src/x.rs"), text.to_string()).unwrap();
        assert_eq!(out, text);
    }

    #[test]
    fn invalid_rust_fails_with_its_location() {
        let text = "fn a() {}\nfn b( {}\n";
        let err = normalize(Language::Rust, Path::new("src/x.rs"), text.to_string()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("generated src/x.rs is not valid Rust: 2:"),
            "{msg}"
        );
        assert!(msg.contains("fn b( {}"), "{msg}");
    }

    #[test]
    fn other_files_pass_through() {
        let text = "not rust {".to_string();
        let out = normalize(Language::Rust, Path::new("Cargo.toml"), text.clone()).unwrap();
        assert_eq!(out, text);
    }
}
