//! Target languages. Everything wsgen knows about one language lives in one
//! file, `src/lang/<language>.rs`, as an implementation of [`LanguageDriver`]:
//! its name and aliases, what it can honour (with exact value ranges), the
//! names its templates read as `lang.*`, its library, the toolchain it needs,
//! how to install, build and launch a generated project (as data, run by
//! [`crate::runner`]), the CLI's next-step hint, the output normaliser, the
//! bench's memory target and its single-file form ([`crate::single`]).
//! `deps.rs` is the one table of pinned versions.
//!
//! [`Language`] is the enum users select; [`Language::ALL`] drives every list
//! (CLI help, `wsgen languages`, bench, verify, tests) and
//! [`Language::driver`] is the one `match` on it.

pub mod deps;
pub mod plan;

pub use plan::{BuildPlan, Cmd, STAGING, Step, Tool};

use crate::emit::EmitError;
use crate::ir::Server;
use crate::runner::BuildOptions;
use crate::single::SingleFile;
use serde::Serialize;
use std::fmt;
use std::path::Path;

/// The languages: `Variant => module::Driver`. This list is the one place a
/// language is named; it declares the module, the `Language` variant, its
/// place in `Language::ALL` (the order of every list and table) and its
/// driver. Adding a language is one line here plus `src/lang/<module>.rs`.
macro_rules! languages {
    ($($variant:ident => $module:ident :: $driver:ident),+ $(,)?) => {
        $(mod $module;)+

        /// A target language of the generator.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "lowercase")]
        pub enum Language {
            $($variant,)+
        }

        impl Language {
            pub const ALL: [Language; [$(stringify!($variant)),+].len()] =
                [$(Language::$variant,)+];

            /// The one place a language is matched: its driver.
            pub fn driver(self) -> &'static dyn LanguageDriver {
                match self {
                    $(Language::$variant => &$module::$driver,)+
                }
            }
        }
    };
}

languages! {
    Node => node::Node,
    Python => python::Python,
    Go => go::Go,
    Rust => rust::Rust,
}

/// What a language is, as data: everything about it that needs no code.
#[derive(Debug)]
pub struct Profile {
    /// The variant this profile describes.
    pub language: Language,
    /// The name users type and folders use (`node`, `python`, ...).
    pub name: &'static str,
    /// Other names accepted by `--language` (lowercase); the first is shown
    /// in help texts.
    pub aliases: &'static [&'static str],
    /// The WebSocket library the generated server is built on.
    pub library: &'static str,
    /// What the templates and library honour; a capability missing here is
    /// not honoured at all.
    pub capabilities: &'static [(Capability, Support)],
    /// The tools its install and build need.
    pub toolchain: &'static [Tool],
    /// The bench's target for memory per idle connection, in bytes.
    pub idle_memory_target: f64,
    /// The extension of its source files (no dot): `--output FILE.<ext>`
    /// names this language, and messages say `*.<ext>`.
    pub extension: &'static str,
    /// Why it has no single-file form, when [`LanguageDriver::single_file`]
    /// is `None` (default: `<name> has no single-file form`).
    pub single_file_refusal: Option<&'static str>,
}

/// One language: everything the generator, runner, CLI and bench need to
/// know about it. Implemented once per language in `src/lang/<name>.rs`.
pub trait LanguageDriver: Sync {
    /// The language's data.
    fn profile(&self) -> &'static Profile;
    fn language(&self) -> Language {
        self.profile().language
    }
    fn name(&self) -> &'static str {
        self.profile().name
    }
    fn aliases(&self) -> &'static [&'static str] {
        self.profile().aliases
    }
    fn library(&self) -> &'static str {
        self.profile().library
    }
    fn capabilities(&self) -> &'static [(Capability, Support)] {
        self.profile().capabilities
    }
    fn toolchain(&self) -> &'static [Tool] {
        self.profile().toolchain
    }
    fn idle_memory_target(&self) -> f64 {
        self.profile().idle_memory_target
    }
    /// The names the templates read as `lang.*`.
    fn names(&self, server: &Server) -> LangNames;
    /// Its pinned dependency versions, read by templates as `deps.*` (from
    /// the one table, `deps.rs`).
    fn dependencies(&self) -> serde_json::Map<String, serde_json::Value> {
        deps::for_language(self.language())
    }
    /// How to install, build and launch a project generated into `dir` with
    /// these `names`: commands as data, run by the runner.
    fn build_plan(&self, dir: &Path, names: &LangNames, opts: &BuildOptions) -> BuildPlan;
    /// The command the CLI prints after generating into `dir`.
    fn next_step(&self, dir: &Path, names: &LangNames) -> String;
    /// The names a client library's templates read as `lang.*` (`--client`).
    fn client_names(&self, server: &Server) -> LangNames;
    /// How to install and build a client library generated into `dir`;
    /// `launch` runs its `tail` example (the caller appends the arguments,
    /// docs/protocol/clients-v1.md).
    fn client_build_plan(&self, dir: &Path, names: &LangNames, opts: &BuildOptions) -> BuildPlan;
    /// The command the CLI prints after generating a client into `dir`.
    fn client_next_step(&self, dir: &Path) -> String;
    /// Normalise a rendered file (Rust: check it parses); the default
    /// keeps it as rendered.
    fn normalize(&self, path: &Path, contents: String) -> Result<String, EmitError> {
        let _ = path;
        Ok(contents)
    }
    /// Its single-file form (`--output echo-server.js`), if it has one.
    fn single_file(&self) -> Option<&'static dyn SingleFile> {
        None
    }
}

impl Language {
    /// The language of `generate-server --type ...` without `--language`
    /// (nor a task file's `language` or a single file's extension): the
    /// skill's commands default to Node.js.
    pub const DEFAULT: Language = Language::Node;

    pub fn name(self) -> &'static str {
        self.driver().name()
    }

    /// Parse a language name or one of its aliases (case-insensitive).
    pub fn parse(s: &str) -> Option<Language> {
        let s = s.to_ascii_lowercase();
        Language::ALL.into_iter().find(|l| {
            let d = l.driver();
            d.name() == s || d.aliases().contains(&s.as_str())
        })
    }

    /// Parse `--language`: a language, an alias, or (with `allow_all`) `all`.
    /// The error names the choices and the closest one to a typo.
    pub fn parse_list(s: &str, allow_all: bool) -> Result<Vec<Language>, String> {
        if allow_all && s.eq_ignore_ascii_case("all") {
            return Ok(Language::ALL.to_vec());
        }
        if let Some(l) = Language::parse(s) {
            return Ok(vec![l]);
        }
        // Every name and alias, each standing for its language's own name:
        // `golan` is closest to `golang`, and the hint says `go`.
        let known = Language::ALL.into_iter().flat_map(|l| {
            std::iter::once(l.name())
                .chain(l.driver().aliases().iter().copied())
                .map(move |k| (k, l))
        });
        let typed = s.to_ascii_lowercase();
        let hint = known
            .map(|(k, l)| (strsim::jaro_winkler(&typed, k), l))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, l)| format!(" (did you mean `{l}`?)"))
            .unwrap_or_default();
        Err(format!(
            "unknown language `{s}`{hint}; use {}",
            Language::choices(allow_all)
        ))
    }

    /// `node, python, go, rust or all (aliases: nodejs, py, golang, rs)`,
    /// from [`Language::ALL`], for help texts and errors.
    pub fn choices(with_all: bool) -> String {
        let names: Vec<&str> = Language::ALL.iter().map(|l| l.name()).collect();
        let list = if with_all {
            format!("{} or all", names.join(", "))
        } else {
            let (last, rest) = names.split_last().expect("languages");
            format!("{} or {last}", rest.join(", "))
        };
        let aliases: Vec<&str> = Language::ALL
            .iter()
            .filter_map(|l| l.driver().aliases().first().copied())
            .collect();
        format!("{list} (aliases: {})", aliases.join(", "))
    }

    /// What this language honours, and for which values.
    pub fn support(self, c: Capability) -> Support {
        self.driver()
            .capabilities()
            .iter()
            .find(|(k, _)| *k == c)
            .map(|(_, s)| *s)
            .unwrap_or(Support::No)
    }

    /// The names the templates read as `lang.*`.
    pub fn names(self, server: &Server) -> LangNames {
        self.driver().names(server)
    }

    /// The names a client library's templates read as `lang.*`.
    pub fn client_names(self, server: &Server) -> LangNames {
        self.driver().client_names(server)
    }

    /// The WebSocket library the generated server is built on.
    pub fn library(self) -> &'static str {
        self.driver().library()
    }

    /// Fail with a message naming every feature (and value) the spec asks for
    /// that this language cannot honour. Nothing is ever silently changed: a
    /// value outside the language's range is refused here.
    pub fn check_capabilities(self, server: &Server) -> Result<(), String> {
        let missing: Vec<String> = server
            .required_capabilities()
            .into_iter()
            .filter_map(|c| {
                let value = c.value(server);
                match (self.support(c), value) {
                    (Support::Yes, _) => None,
                    (Support::Values(lo, hi), Some(v)) if (lo..=hi).contains(&v) => None,
                    (Support::Values(lo, hi), Some(v)) => Some(format!(
                        "`{}: {v}`, only {}",
                        c.spec_key(),
                        Support::Values(lo, hi)
                    )),
                    (_, Some(v)) => Some(format!("`{}: {v}`", c.spec_key())),
                    (_, None) => Some(format!("`{}`", c.spec_key())),
                }
            })
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(format!(
            "{} cannot honour {} (library: {}); change {} in the spec or pick another language (see `wsgen languages`)",
            self.name(),
            missing.join(", "),
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

/// The names a language's templates read as `lang.*` (and that name output
/// paths: `__module__`, `__package__`). A language sets only the ones its
/// templates use; the others are absent from the context.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LangNames {
    /// Package name: npm package (node), distribution (python), crate (rust).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Import name (python) or crate name with underscores (rust).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// Go module path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module_path: Option<String>,
    /// Go binary name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binary: Option<String>,
    /// Rust: the exact body of `GET /healthz` (templates pass it through `rust_str`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthz_body: Option<String>,
}

/// A feature a spec can ask for and a language may or may not honour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Capability {
    Echo,
    Chat,
    Mcp,
    Session,
    RedisBackplane,
    Subprotocols,
    Compression,
    ServerNoContextTakeover,
    ClientNoContextTakeover,
    ServerMaxWindowBits,
    ClientMaxWindowBits,
    Threshold,
}

/// The capability table of a language that honours every feature, with
/// these permessage-deflate window ranges (the values the four languages'
/// libraries differ on).
pub const fn every_feature(
    server_max_window_bits: Support,
    client_max_window_bits: Support,
) -> [(Capability, Support); 12] {
    [
        (Capability::Echo, Support::Yes),
        (Capability::Chat, Support::Yes),
        (Capability::Mcp, Support::Yes),
        (Capability::Session, Support::Yes),
        (Capability::RedisBackplane, Support::Yes),
        (Capability::Subprotocols, Support::Yes),
        (Capability::Compression, Support::Yes),
        (Capability::ServerNoContextTakeover, Support::Yes),
        (Capability::ClientNoContextTakeover, Support::Yes),
        (Capability::ServerMaxWindowBits, server_max_window_bits),
        (Capability::ClientMaxWindowBits, client_max_window_bits),
        (Capability::Threshold, Support::Yes),
    ]
}

/// How far a language honours a capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Support {
    /// Not at all.
    No,
    /// Every value the spec allows.
    Yes,
    /// Only values from `.0` to `.1` (inclusive).
    Values(u64, u64),
}

impl fmt::Display for Support {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Support::No => f.write_str("no"),
            Support::Yes => f.write_str("yes"),
            Support::Values(lo, hi) if lo == hi => write!(f, "{lo}"),
            Support::Values(lo, hi) => write!(f, "{lo}..{hi}"),
        }
    }
}

impl Capability {
    pub const ALL: [Capability; 12] = [
        Capability::Echo,
        Capability::Chat,
        Capability::Mcp,
        Capability::Session,
        Capability::RedisBackplane,
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
            Capability::Mcp => "type: mcp",
            Capability::Session => "type: session",
            Capability::RedisBackplane => "backplane: redis",
            Capability::Subprotocols => "subprotocols",
            Capability::Compression => "compression",
            Capability::ServerNoContextTakeover => "compression.serverNoContextTakeover",
            Capability::ClientNoContextTakeover => "compression.clientNoContextTakeover",
            Capability::ServerMaxWindowBits => "compression.serverMaxWindowBits",
            Capability::ClientMaxWindowBits => "compression.clientMaxWindowBits",
            Capability::Threshold => "compression.threshold",
        }
    }

    /// The spec's value of a numeric capability (`None` for on/off ones).
    pub fn value(self, server: &Server) -> Option<u64> {
        let c = &server.compression;
        match self {
            Capability::ServerMaxWindowBits => Some(c.server_max_window_bits.into()),
            Capability::ClientMaxWindowBits => Some(c.client_max_window_bits.into()),
            Capability::Threshold => Some(c.threshold),
            _ => None,
        }
    }
}

/// The capability table as text (`wsgen languages`): `yes`, `no`, or the
/// values a language honours.
pub fn capability_table() -> String {
    let mut out = format!("{:<38}", "feature");
    for l in Language::ALL {
        out.push_str(&format!("{:<8}", l.name()));
    }
    out.push('\n');
    for c in Capability::ALL {
        out.push_str(&format!("{:<38}", c.spec_key()));
        for l in Language::ALL {
            out.push_str(&format!("{:<8}", l.support(c).to_string()));
        }
        out.push('\n');
    }
    out.push('\n');
    for l in Language::ALL {
        out.push_str(&format!("{:<8}{}\n", l.name(), l.library()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(yaml: &str) -> Server {
        crate::pipeline::server_from_str("t.yaml", yaml).expect("valid spec")
    }

    /// Instances of every language share one Redis through one Lua script:
    /// each project carries its text byte for byte, and only with
    /// `backplane: redis`.
    #[test]
    fn every_language_carries_the_one_backplane_script() {
        let script = include_str!("../../templates/common/chat-backplane.lua");
        let redis = server("name: c\ntype: chat\nbackplane: redis\n");
        let memory = server("name: c\ntype: chat\n");
        for l in Language::ALL {
            let lua = |s: &Server| {
                crate::pipeline::generate(s, l)
                    .expect("generates")
                    .into_iter()
                    .filter(|f| f.path.extension().is_some_and(|e| e == "lua"))
                    .map(|f| f.contents)
                    .collect::<Vec<_>>()
            };
            assert_eq!(lua(&redis), vec![script.to_string()], "{l}");
            assert!(lua(&memory).is_empty(), "{l}");
        }
    }

    #[test]
    fn every_language_parses_by_name_and_aliases() {
        for l in Language::ALL {
            assert_eq!(l.driver().language(), l);
            assert!(!l.driver().dependencies().is_empty(), "{l}: no pins");
            assert_eq!(Language::parse(l.name()), Some(l));
            assert_eq!(Language::parse(&l.name().to_uppercase()), Some(l));
            for a in l.driver().aliases() {
                assert_eq!(Language::parse(a), Some(l), "{a}");
            }
        }
        assert_eq!(Language::parse("golang"), Some(Language::Go));
        assert_eq!(Language::parse("nodejs"), Some(Language::Node));
        assert_eq!(Language::parse("cobol"), None);
        assert_eq!(Language::parse_list("all", true).unwrap().len(), 4);
        assert!(Language::parse_list("all", false).is_err());
        let e = Language::parse_list("pyton", true).unwrap_err();
        assert!(e.contains("unknown language `pyton`"), "{e}");
        assert!(e.contains("did you mean `python`?"), "{e}");
        assert!(e.contains("node, python, go, rust or all"), "{e}");
        // A typo of an alias suggests the language's own name.
        let e = Language::parse_list("golan", true).unwrap_err();
        assert!(e.contains("did you mean `go`?"), "{e}");
        let e = Language::parse_list("nodjs", false).unwrap_err();
        assert!(e.contains("did you mean `node`?"), "{e}");
    }

    #[test]
    fn server_window_of_8_is_refused_by_rust_python_and_go_and_accepted_by_node() {
        let s = server("compression:\n  serverMaxWindowBits: 8\n");
        for l in [Language::Rust, Language::Python, Language::Go] {
            let e = l.check_capabilities(&s).unwrap_err();
            assert!(
                e.contains("`compression.serverMaxWindowBits: 8`"),
                "{l}: {e}"
            );
            assert!(e.starts_with(&format!("{l} cannot honour")), "{e}");
            assert!(e.contains(l.library()), "{l}: {e}");
        }
        Language::Node.check_capabilities(&s).unwrap();
        // generation refuses it too, before any template runs
        assert!(matches!(
            crate::pipeline::generate(&s, Language::Rust),
            Err(EmitError::Capability(_))
        ));
    }

    #[test]
    fn server_window_ranges_are_exact() {
        let expect = [
            (Language::Node, 8..=15),
            (Language::Python, 9..=15),
            (Language::Go, 15..=15),
            (Language::Rust, 9..=15),
        ];
        for (l, range) in expect {
            for bits in 8..=15u8 {
                let s = server(&format!("compression:\n  serverMaxWindowBits: {bits}\n"));
                assert_eq!(
                    l.check_capabilities(&s).is_ok(),
                    range.contains(&bits),
                    "{l} with serverMaxWindowBits {bits}"
                );
            }
            // without compression the value asks nothing of the language
            let off = server("compression:\n  enabled: false\n  serverMaxWindowBits: 8\n");
            l.check_capabilities(&off).unwrap();
        }
        let e = Language::Go
            .check_capabilities(&server("compression:\n  serverMaxWindowBits: 10\n"))
            .unwrap_err();
        assert!(
            e.contains("serverMaxWindowBits: 10`, only 15 (library"),
            "{e}"
        );
        assert!(e.contains("github.com/coder/websocket"), "{e}");
    }

    #[test]
    fn client_window_of_8_is_honoured_everywhere() {
        let s = server("compression:\n  clientMaxWindowBits: 8\n");
        for l in Language::ALL {
            l.check_capabilities(&s).unwrap();
        }
    }

    #[test]
    fn the_table_shows_the_ranges() {
        let t = capability_table();
        let row = t
            .lines()
            .find(|l| l.starts_with("compression.serverMaxWindowBits"))
            .unwrap();
        let cells: Vec<&str> = row.split_whitespace().skip(1).collect();
        assert_eq!(cells, ["8..15", "9..15", "15", "9..15"], "{t}");
    }

    #[test]
    fn names_keep_the_template_keys() {
        let s = server("name: echo\n");
        let keys = |l: Language| -> Vec<String> {
            let names = serde_json::to_value(l.names(&s)).expect("names serialise");
            names.as_object().unwrap().keys().cloned().collect()
        };
        assert_eq!(keys(Language::Node), ["package"]);
        assert_eq!(keys(Language::Python), ["module", "package"]);
        assert_eq!(keys(Language::Go), ["binary", "module_path"]);
        assert_eq!(keys(Language::Rust), ["healthz_body", "module", "package"]);
    }
}
