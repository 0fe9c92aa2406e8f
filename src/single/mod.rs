//! Single-file servers: `wsgen generate-server --type echo --output echo-server.js`.
//!
//! A single file is not a second copy of the server logic: it is the
//! project form, rendered by the same templates, with its modules inlined
//! into one file by a small per-language bundler:
//! - node: each ES module becomes a function scope returning its exports,
//!   in dependency order; the file is CommonJS (`require('ws')`), so it runs
//!   with `node FILE` next to a plain `npm install ws@VERSION`;
//! - python: the package's modules are concatenated in dependency order
//!   (relative imports dropped; a top-level name defined by two modules with
//!   different text is refused), `__package__` becomes the package name;
//! - go: the files of `package main` are concatenated under one merged
//!   import block.
//!
//! Only `type: echo` has a single-file form (chat ships a page and more
//! modules: use a project folder), and Rust has none (a Rust server needs a
//! Cargo project).
//!
//! Which languages have a single-file form, and how each one is named,
//! bundled, run and verified, is up to the language's driver
//! ([`crate::lang::LanguageDriver::single_file`], a [`SingleFile`]); this
//! module only orchestrates.

pub(crate) mod go;
pub(crate) mod node;
pub(crate) mod python;

use crate::emit::{self, EmitError, GeneratedFile, TemplateSet};
use crate::ir::{Server, ServerKind};
use crate::lang::{BuildPlan, LangNames, Language};
use crate::runner::{BuildOptions, Launch};
use std::path::{Path, PathBuf};

/// A language's single-file form, as its driver describes it
/// ([`crate::lang::LanguageDriver::single_file`]).
pub trait SingleFile: Sync {
    /// The extensions (lowercase, no dot) of a file `--output` writes in
    /// this form.
    fn extensions(&self) -> &'static [&'static str];
    /// The file `server` is written to by default (and by
    /// `verify --single-file`).
    fn default_file_name(&self, server: &Server) -> String;
    /// The one command line, run from the folder holding `file`, that
    /// installs the pinned library and starts it (the file's header and the
    /// CLI's next step).
    fn run_command(&self, file: &str) -> String;
    /// Inline the project form's `files` into one file opening with `header`.
    fn bundle(
        &self,
        files: &[GeneratedFile],
        header: &Header,
        names: &LangNames,
    ) -> Result<String, String>;
    /// How `wsgen verify --single-file` installs, builds and launches `file`
    /// written into `dir`, as its header says: data, run by the runner like
    /// a project's plan.
    fn build_plan(
        &self,
        dir: &Path,
        file: &str,
        names: &LangNames,
        opts: &BuildOptions,
    ) -> BuildPlan;
}

/// The single-file form of `lang`, if it has one.
fn form(lang: Language) -> Option<&'static dyn SingleFile> {
    lang.driver().single_file()
}

/// The file-name extension of `lang`'s files (named in messages).
pub fn extension(lang: Language) -> &'static str {
    lang.driver().profile().extension
}

/// The language a file name's extension stands for, if any: the one whose
/// single-file form or source files use it.
pub fn language_of(path: &Path) -> Option<Language> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Language::ALL.into_iter().find(|l| {
        extension(*l) == ext || form(*l).is_some_and(|f| f.extensions().contains(&ext.as_str()))
    })
}

/// Whether `--output` names a single file (its extension is one of a language's).
pub fn is_single_file(path: &Path) -> bool {
    language_of(path).is_some()
}

/// The default file name of a language's single-file form (`main.<ext>`
/// for a language without one, as refusals name it).
pub fn default_file_name(server: &Server, lang: Language) -> String {
    match form(lang) {
        Some(f) => f.default_file_name(server),
        None => format!("main.{}", extension(lang)),
    }
}

/// Why `lang`/`server` has no single-file form, with what to do instead.
pub fn unsupported(server: &Server, lang: Language, file: &Path) -> Option<String> {
    let name = file.display();
    let folder = format!("{}-{}", server.slug, lang.name());
    let driver = lang.driver();
    if form(lang).is_none() {
        let why = driver
            .profile()
            .single_file_refusal
            .map(str::to_string)
            .unwrap_or_else(|| format!("{lang} has no single-file form"));
        return Some(format!(
            "--output {name}: {why}\n  \
             help: pass a folder instead: --output {folder}/, then `{}`",
            driver.next_step(Path::new(&folder), &lang.names(server))
        ));
    }
    if server.kind != ServerKind::Echo {
        let forms: Vec<String> = Language::ALL
            .into_iter()
            .filter(|l| form(*l).is_some())
            .map(|l| format!("{l} .{}", extension(l)))
            .collect();
        return Some(format!(
            "--output {name}: only `type: echo` has a single-file form ({}); \
             a {} server is several modules\n  \
             help: pass a folder instead: --output {folder}/",
            forms.join(", "),
            server.kind.name()
        ));
    }
    None
}

/// The one command line that installs the library and starts `file`, run
/// from the folder holding it (empty otherwise).
pub fn run_command(lang: Language, file: &str) -> String {
    form(lang).map(|f| f.run_command(file)).unwrap_or_default()
}

/// Render `server` as one `lang` file named `file` (its base name).
pub fn render(
    server: &Server,
    lang: Language,
    templates: &TemplateSet,
    file: &str,
) -> Result<GeneratedFile, EmitError> {
    if let Some(why) = unsupported(server, lang, Path::new(file)) {
        return Err(EmitError::Capability(why));
    }
    let form = form(lang).expect("refused above");
    let files = emit::generate(server, lang, templates)?;
    let header = Header {
        file,
        command: form.run_command(file),
        name: &server.name,
    };
    let contents = form
        .bundle(&files, &header, &lang.names(server))
        .map_err(|message| EmitError::Template {
            template: format!("{lang} single file"),
            message,
        })?;
    Ok(GeneratedFile {
        path: PathBuf::from(file),
        contents,
        user_owned: false,
    })
}

/// What the file's opening comment says.
pub struct Header<'a> {
    file: &'a str,
    command: String,
    name: &'a str,
}

impl Header<'_> {
    /// The header's lines, without comment markers.
    fn lines(&self) -> Vec<String> {
        vec![
            format!(
                "{}: the WebSocket echo server \"{}\" in one file, generated by wsgen {}.",
                self.file,
                self.name.replace(['\n', '\r'], " "),
                env!("CARGO_PKG_VERSION")
            ),
            String::new(),
            "Run it from its folder:".into(),
            format!("  {}", self.command),
            String::new(),
            "Environment: PORT, WS_MAX_PAYLOAD, WS_PING_INTERVAL, WS_COMPRESSION (see".into(),
            "docs/generated-servers.md of wsgen); GET /healthz answers 200.".into(),
        ]
    }

    fn comment(&self, prefix: &str) -> String {
        self.lines()
            .iter()
            .map(|l| {
                if l.is_empty() {
                    format!("{}\n", prefix.trim_end())
                } else {
                    format!("{prefix}{l}\n")
                }
            })
            .collect()
    }
}

/// The file of `files` at `path`.
fn file<'a>(files: &'a [GeneratedFile], path: &str) -> Result<&'a GeneratedFile, String> {
    files
        .iter()
        .find(|f| f.path == Path::new(path))
        .ok_or_else(|| format!("the project has no {path}"))
}

/// Write `file` into `dir` and install, build and launch it as its header says
/// (for `wsgen verify --single-file`), by the plan of the language's
/// single-file form.
pub fn prepare(
    server: &Server,
    lang: Language,
    dir: &Path,
    opts: &BuildOptions,
) -> Result<Launch, String> {
    crate::runner::toolchain::check(lang)?;
    let name = default_file_name(server, lang);
    let f = render(server, lang, &TemplateSet::embedded(), &name).map_err(|e| e.to_string())?;
    let form = form(lang).ok_or_else(|| format!("{lang} has no single-file form"))?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join(&f.path), &f.contents).map_err(|e| e.to_string())?;
    let plan = form.build_plan(dir, &name, &lang.names(server), opts);
    crate::runner::build::run_plan(dir, plan, opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Step;

    fn server(yaml: &str) -> Server {
        crate::pipeline::server_from_str("t.yaml", yaml).expect("valid spec")
    }

    #[test]
    fn the_extension_names_the_language() {
        let of = |f: &str| language_of(Path::new(f)).map(|l| l.name());
        assert_eq!(of("echo-server.js"), Some("node"));
        assert_eq!(of("x.MJS"), Some("node"));
        assert_eq!(of("x.cjs"), Some("node"));
        assert_eq!(of("echo_server.py"), Some("python"));
        assert_eq!(of("main.go"), Some("go"));
        assert_eq!(of("main.rs"), Some("rust"));
        assert_eq!(of("notes.txt"), None);
        assert_eq!(of("echo"), None);
        for l in Language::ALL {
            assert_eq!(
                language_of(Path::new(&format!("x.{}", extension(l)))),
                Some(l)
            );
            if let Some(f) = form(l) {
                let name = f.default_file_name(&server("name: my-echo\n"));
                assert_eq!(language_of(Path::new(&name)), Some(l), "{name}");
            }
        }
    }

    #[test]
    fn a_language_without_a_form_is_refused_with_its_reason() {
        let s = server("name: echo\n");
        let rust = Language::Rust;
        assert!(form(rust).is_none());
        assert_eq!(default_file_name(&s, rust), "main.rs");
        assert_eq!(run_command(rust, "main.rs"), "");
        let e = unsupported(&s, rust, Path::new("main.rs")).unwrap();
        assert_eq!(
            e,
            "--output main.rs: a Rust server needs a Cargo project (Cargo.toml, dependencies); \
             there is no single-file Rust form\n  \
             help: pass a folder instead: --output echo-rust/, then `cd echo-rust && cargo run --release`"
        );
        let chat = server("name: chat\ntype: chat\n");
        let go = Language::Go;
        let e = unsupported(&chat, go, Path::new("main.go")).unwrap();
        assert!(
            e.contains("single-file form (node .js, python .py, go .go)"),
            "{e}"
        );
        assert!(unsupported(&s, go, Path::new("main.go")).is_none());
    }

    #[test]
    fn go_inits_its_module_once() {
        let go = Language::Go;
        let plan = form(go).unwrap().build_plan(
            Path::new("/p"),
            "main.go",
            &LangNames::default(),
            &BuildOptions::default(),
        );
        assert!(
            matches!(&plan.steps[0], Step::Init { creates, .. } if creates == Path::new("/p/go.mod")),
            "{plan:?}"
        );
        assert_eq!(plan.launch.program, Path::new("/p/.wsgen/server"));
    }
}
