//! Target languages: what each can honour (the capability table), the names
//! and pinned dependencies its templates read, and its normalisation step.
//! One small module per language; `deps.rs` is the single table of pinned
//! dependency versions.

pub mod deps;
mod go;
mod node;
mod python;
mod rust;

use crate::ir::Server;
use serde::Serialize;
use std::fmt;

/// A target language of the generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Node,
    Python,
    Go,
    Rust,
}

impl Language {
    pub const ALL: [Language; 4] = [
        Language::Node,
        Language::Python,
        Language::Go,
        Language::Rust,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Language::Node => "node",
            Language::Python => "python",
            Language::Go => "go",
            Language::Rust => "rust",
        }
    }

    /// Parse a language name; `nodejs`, `js`, `golang`, `py`, `rs` are aliases.
    pub fn parse(s: &str) -> Option<Language> {
        Some(match s.to_ascii_lowercase().as_str() {
            "node" | "nodejs" | "node.js" | "js" | "javascript" => Language::Node,
            "python" | "py" | "python3" => Language::Python,
            "go" | "golang" => Language::Go,
            "rust" | "rs" => Language::Rust,
            _ => return None,
        })
    }

    /// What this language's templates and library can honour.
    pub fn capabilities(self) -> &'static [Capability] {
        match self {
            Language::Node => node::CAPABILITIES,
            Language::Python => python::CAPABILITIES,
            Language::Go => go::CAPABILITIES,
            Language::Rust => rust::CAPABILITIES,
        }
    }

    /// Language-specific names the templates read as `lang.*`.
    pub fn context(self, server: &Server) -> serde_json::Value {
        match self {
            Language::Node => node::context(server),
            Language::Python => python::context(server),
            Language::Go => go::context(server),
            Language::Rust => rust::context(server),
        }
    }

    /// The WebSocket library the generated server is built on.
    pub fn library(self) -> &'static str {
        match self {
            Language::Node => node::LIBRARY,
            Language::Python => python::LIBRARY,
            Language::Go => go::LIBRARY,
            Language::Rust => rust::LIBRARY,
        }
    }

    /// Fail with a message naming every feature the spec asks for that this
    /// language cannot honour.
    pub fn check_capabilities(self, server: &Server) -> Result<(), String> {
        let missing: Vec<Capability> = server
            .required_capabilities()
            .into_iter()
            .filter(|c| !self.capabilities().contains(c))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = missing
            .iter()
            .map(|c| format!("`{}`", c.spec_key()))
            .collect();
        Err(format!(
            "{} cannot honour {} (library: {}); remove {} from the spec or pick another language (see `wsgen languages`)",
            self.name(),
            list.join(", "),
            self.library(),
            if missing.len() == 1 { "it" } else { "them" },
        ))
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A feature a spec can ask for and a language may or may not honour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Capability {
    Echo,
    Chat,
    Subprotocols,
    Compression,
    ServerNoContextTakeover,
    ClientNoContextTakeover,
    ServerMaxWindowBits,
    ClientMaxWindowBits,
    Threshold,
}

impl Capability {
    pub const ALL: [Capability; 9] = [
        Capability::Echo,
        Capability::Chat,
        Capability::Subprotocols,
        Capability::Compression,
        Capability::ServerNoContextTakeover,
        Capability::ClientNoContextTakeover,
        Capability::ServerMaxWindowBits,
        Capability::ClientMaxWindowBits,
        Capability::Threshold,
    ];

    /// How the feature is written in a spec.
    pub fn spec_key(self) -> &'static str {
        match self {
            Capability::Echo => "type: echo",
            Capability::Chat => "type: chat",
            Capability::Subprotocols => "subprotocols",
            Capability::Compression => "compression",
            Capability::ServerNoContextTakeover => "compression.serverNoContextTakeover",
            Capability::ClientNoContextTakeover => "compression.clientNoContextTakeover",
            Capability::ServerMaxWindowBits => "compression.serverMaxWindowBits",
            Capability::ClientMaxWindowBits => "compression.clientMaxWindowBits",
            Capability::Threshold => "compression.threshold",
        }
    }
}

/// The capability table as text (`wsgen languages`).
pub fn capability_table() -> String {
    let mut out = format!("{:<38}", "feature");
    for l in Language::ALL {
        out.push_str(&format!("{:<8}", l.name()));
    }
    out.push('\n');
    for c in Capability::ALL {
        out.push_str(&format!("{:<38}", c.spec_key()));
        for l in Language::ALL {
            let mark = if l.capabilities().contains(&c) {
                "yes"
            } else {
                "no"
            };
            out.push_str(&format!("{mark:<8}"));
        }
        out.push('\n');
    }
    out.push('\n');
    for l in Language::ALL {
        out.push_str(&format!("{:<8}{}\n", l.name(), l.library()));
    }
    out
}
