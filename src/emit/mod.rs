//! Emit: render a language's templates with the IR, normalise the output, and
//! write it (or compare it with what is on disk).
//!
//! Templates live in `templates/<language>/` (servers) and
//! `templates/clients/<language>/` (client libraries, `--client`), embedded
//! in the binary; `--templates DIR` overrides them file by file
//! (`DIR/<language>/<path>`, `DIR/clients/<language>/<path>`).
//! - `<path>.tera` renders to `<path>`; other files are copied verbatim;
//! - a path component starting with one `_` marks a partial (include/import
//!   only); dunder names such as `__init__.py` and `__module__` are outputs;
//! - `__module__` / `__package__` in a path become `lang.module` / `lang.package`;
//! - a template that renders to only whitespace produces no file (how optional
//!   files, such as the chat page, are switched off);
//! - a template whose first line is [`USER_OWNED`] renders the user's file:
//!   written when absent, never overwritten (see [`write`]), so the code a
//!   user puts there survives regeneration.

mod cargo_lock;
mod check;
pub mod context;
pub mod filters;
mod js_layout;
pub(crate) mod normalize;
mod py_layout;
mod rust_layout;
mod scan;
pub mod shape;
mod templates;
pub mod write;

pub use crate::lang::LangNames;
pub use context::TemplateContext;
pub use templates::TemplateSet;

use crate::ir::{Server, ServerKind};
use crate::lang::Language;
use std::path::PathBuf;

/// One generated file, relative to the output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub path: PathBuf,
    pub contents: String,
    /// The user's file: created once, then theirs ([`USER_OWNED`]).
    pub user_owned: bool,
}

/// The first line of a template that renders a file the user owns (a Tera
/// comment, so it renders to nothing).
pub const USER_OWNED: &str = "{#- wsgen: user-owned";

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error("{0}")]
    Capability(String),
    #[error("template {template}: {message}")]
    Template { template: String, message: String },
    #[error("generated {path} is not valid {language}: {message}")]
    Invalid {
        path: String,
        language: &'static str,
        message: String,
    },
    #[error("{0}")]
    Io(String),
}

/// What a template tree makes from a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Product {
    /// The server (`templates/<language>/`).
    Server,
    /// The typed client library of that server (`templates/clients/<language>/`).
    Client,
}

impl Product {
    pub const ALL: [Product; 2] = [Product::Server, Product::Client];

    /// The product's template folder for `lang`, relative to `templates/`.
    pub fn template_dir(self, lang: Language) -> String {
        match self {
            Product::Server => lang.name().to_string(),
            Product::Client => format!("clients/{}", lang.name()),
        }
    }
}

/// The template context: the IR as `server`, plus `lang`, `deps`,
/// `contract` and `wsgen` (and `client` for a client library).
pub fn context(server: &Server, lang: Language, product: Product) -> TemplateContext<'_> {
    match product {
        Product::Server => TemplateContext::new(server, lang),
        Product::Client => TemplateContext::client(server, lang),
    }
}

/// Render every file of `lang`'s server for `server`.
pub fn generate(
    server: &Server,
    lang: Language,
    templates: &TemplateSet,
) -> Result<Vec<GeneratedFile>, EmitError> {
    generate_product(server, lang, Product::Server, templates)
}

/// Render every file of `lang`'s `product` for `server`.
pub fn generate_product(
    server: &Server,
    lang: Language,
    product: Product,
    templates: &TemplateSet,
) -> Result<Vec<GeneratedFile>, EmitError> {
    match product {
        Product::Server => lang.check_capabilities(server),
        Product::Client => check_client(server),
    }
    .map_err(EmitError::Capability)?;
    let typed = context(server, lang, product);
    let tera = templates.engine(lang, product)?;
    let ctx = tera::Context::from_serialize(&typed).map_err(|e| EmitError::Template {
        template: "(context)".into(),
        message: e.to_string(),
    })?;
    let outputs = templates.outputs(lang, product);
    if outputs.is_empty() {
        let dir = product.template_dir(lang);
        return Err(EmitError::Template {
            template: dir.clone(),
            message: format!("no templates for {lang} (expected templates/{dir}/...)"),
        });
    }
    let mut files = Vec::new();
    for (name, verbatim) in outputs {
        let contents = match verbatim {
            Some(text) => text.to_string(),
            None => tera.render(&name, &ctx).map_err(|e| EmitError::Template {
                template: format!("{}/{}", product.template_dir(lang), name),
                message: templates::describe(&e),
            })?,
        };
        if contents.trim().is_empty() {
            continue;
        }
        let rel = output_path(&name, &typed.lang);
        let contents = normalize::normalize(lang, &rel, contents)?;
        files.push(GeneratedFile {
            path: rel,
            contents,
            user_owned: templates.is_user_owned(lang, product, &name),
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Client libraries exist for the types whose protocol is ours; an MCP
/// server's clients are the MCP SDKs.
fn check_client(server: &Server) -> Result<(), String> {
    match server.kind {
        ServerKind::Echo | ServerKind::Chat | ServerKind::Session => Ok(()),
        ServerKind::Mcp => Err(
            "--client: there is no generated client for `type: mcp`; its clients are the \
             official MCP SDKs (e.g. @modelcontextprotocol/sdk's WebSocketClientTransport)"
                .into(),
        ),
    }
}

fn output_path(template: &str, names: &LangNames) -> PathBuf {
    let mut p = template
        .strip_suffix(".tera")
        .unwrap_or(template)
        .to_string();
    for (key, value) in [("module", &names.module), ("package", &names.package)] {
        if let Some(v) = value {
            p = p.replace(&format!("__{key}__"), v);
        }
    }
    PathBuf::from(p)
}
