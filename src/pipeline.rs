//! The pipeline in one place: spec file (and flags) -> IR -> files per language.

use crate::emit::{self, EmitError, GeneratedFile, Product, TemplateSet};
use crate::ir::{self, Overrides, Server};
use crate::lang::Language;
use crate::spec::{self, SpecErrors};
use std::path::Path;

/// Load a spec (or start from defaults when `spec` is `None`) and resolve it
/// into the IR, the flags winning over the spec's values.
pub fn load_server(spec_path: Option<&Path>, overrides: &Overrides) -> Result<Server, SpecErrors> {
    let (spec, source) = match spec_path {
        Some(p) => spec::load_file(p)?,
        None => spec::parse_str("<flags>", "{}")?,
    };
    ir::resolve(&spec, &source, overrides)
}

/// Resolve a spec given as text (tests, adversarial specs).
pub fn server_from_str(file: &str, text: &str) -> Result<Server, SpecErrors> {
    let (spec, source) = spec::parse_str(file, text)?;
    ir::resolve(&spec, &source, &Overrides::default())
}

/// Render one language's project with the embedded templates.
pub fn generate(server: &Server, lang: Language) -> Result<Vec<GeneratedFile>, EmitError> {
    emit::generate(server, lang, &TemplateSet::embedded())
}

/// Generate a project straight into `out` (used by tests and the runner).
pub fn generate_into(
    server: &Server,
    lang: Language,
    out: &Path,
) -> Result<Vec<GeneratedFile>, EmitError> {
    let files = generate(server, lang)?;
    emit::write::write(out, &files, None, lang, emit::write::Mode::Owned)
        .map_err(|e| EmitError::Io(e.to_string()))?;
    Ok(files)
}

/// Render one language's client library (`--client`) with the embedded templates.
pub fn generate_client(server: &Server, lang: Language) -> Result<Vec<GeneratedFile>, EmitError> {
    emit::generate_product(server, lang, Product::Client, &TemplateSet::embedded())
}

/// Generate a client library straight into `out` (used by tests and `verify --client`).
pub fn generate_client_into(
    server: &Server,
    lang: Language,
    out: &Path,
) -> Result<Vec<GeneratedFile>, EmitError> {
    let files = generate_client(server, lang)?;
    emit::write::write(out, &files, None, lang, emit::write::Mode::Owned)
        .map_err(|e| EmitError::Io(e.to_string()))?;
    Ok(files)
}
