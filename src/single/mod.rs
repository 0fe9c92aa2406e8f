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

mod go;
mod node;
mod python;

use crate::emit::{self, EmitError, GeneratedFile, TemplateSet};
use crate::ir::{Server, ServerKind};
use crate::lang::{Language, deps};
use crate::runner::{BuildOptions, Launch};
use std::path::{Path, PathBuf};

/// The file-name extension of each language's single-file form.
pub fn extension(lang: Language) -> &'static str {
    match lang {
        Language::Node => "js",
        Language::Python => "py",
        Language::Go => "go",
        Language::Rust => "rs",
    }
}

/// The language a file name's extension stands for, if any.
pub fn language_of(path: &Path) -> Option<Language> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "mjs" | "cjs" => Some(Language::Node),
        _ => Language::ALL.into_iter().find(|l| extension(*l) == ext),
    }
}

/// Whether `--output` names a single file (its extension is one of a language's).
pub fn is_single_file(path: &Path) -> bool {
    language_of(path).is_some()
}

/// The default file name of a language's single-file form.
pub fn default_file_name(server: &Server, lang: Language) -> String {
    match lang {
        Language::Node => format!("{}-server.js", server.slug),
        Language::Python => format!("{}_server.py", server.slug.replace('-', "_")),
        Language::Go => "main.go".into(),
        Language::Rust => "main.rs".into(),
    }
}

/// Why `lang`/`server` has no single-file form, with what to do instead.
pub fn unsupported(server: &Server, lang: Language, file: &Path) -> Option<String> {
    let name = file.display();
    if lang == Language::Rust {
        return Some(format!(
            "--output {name}: a Rust server needs a Cargo project (Cargo.toml, dependencies); \
             there is no single-file Rust form\n  \
             help: pass a folder instead: --output {}-rust/, then `cd {}-rust && cargo run --release`",
            server.slug, server.slug
        ));
    }
    if server.kind != ServerKind::Echo {
        return Some(format!(
            "--output {name}: only `type: echo` has a single-file form (node .js, python .py, go .go); \
             a chat server is several modules and a page\n  \
             help: pass a folder instead: --output {}-{}/",
            server.slug,
            lang.name()
        ));
    }
    None
}

/// The one command line that installs the library and starts `file`, run
/// from the folder holding it (empty otherwise).
pub fn run_command(lang: Language, file: &str) -> String {
    match lang {
        Language::Node => format!(
            "npm install ws@{} && node {file}",
            deps::version(lang, "ws")
        ),
        Language::Python => format!(
            "pip install websockets=={} && python3 {file}",
            deps::version(lang, "websockets")
        ),
        Language::Go => format!(
            "go mod init {} && go get github.com/coder/websocket@{} && go run {file}",
            go::MODULE,
            deps::version(lang, "coder_websocket")
        ),
        Language::Rust => String::new(),
    }
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
    let files = emit::generate(server, lang, templates)?;
    let header = Header {
        file,
        command: run_command(lang, file),
        name: &server.name,
    };
    let bundled = match lang {
        Language::Node => node::bundle(&files, &header),
        Language::Python => python::bundle(&files, &header, &lang.names(server)),
        Language::Go => go::bundle(&files, &header),
        Language::Rust => unreachable!("refused above"),
    };
    let contents = bundled.map_err(|message| EmitError::Template {
        template: format!("{lang} single file"),
        message,
    })?;
    Ok(GeneratedFile {
        path: PathBuf::from(file),
        contents,
    })
}

/// What the file's opening comment says.
struct Header<'a> {
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
/// (for `wsgen verify --single-file`). Node installs `ws` next to it, Python
/// uses the project form's cached virtual environment, Go creates a module.
pub fn prepare(
    server: &Server,
    lang: Language,
    dir: &Path,
    opts: &BuildOptions,
) -> Result<Launch, String> {
    crate::runner::toolchain::check(lang)?;
    let name = default_file_name(server, lang);
    let f = render(server, lang, &TemplateSet::embedded(), &name).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join(&f.path), &f.contents).map_err(|e| e.to_string())?;
    let run =
        |program: &str, args: &[&str]| crate::runner::build::run(dir, program, args, &[], opts);
    let launch = |program: PathBuf, args: Vec<String>| Launch {
        program,
        args,
        dir: dir.to_path_buf(),
        env: vec![],
    };
    match lang {
        Language::Node => {
            let ws = format!("ws@{}", deps::version(lang, "ws"));
            run(
                "npm",
                &[
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    &ws,
                ],
            )?;
            Ok(launch("node".into(), vec![name]))
        }
        Language::Python => {
            // The project form's plan creates (once) the cached venv holding
            // the pinned websockets; start the single file with its python.
            let project = crate::runner::prepare(lang, dir, &lang.names(server), opts)?;
            Ok(launch(project.program, vec![name]))
        }
        Language::Go => {
            let get = format!(
                "github.com/coder/websocket@{}",
                deps::version(lang, "coder_websocket")
            );
            if !dir.join("go.mod").exists() {
                run("go", &["mod", "init", go::MODULE])?;
            }
            run("go", &["get", &get])?;
            let bin = dir.join(".wsgen").join("server");
            run("go", &["build", "-o", &bin.to_string_lossy(), &name])?;
            Ok(launch(bin, vec![]))
        }
        Language::Rust => Err("Rust has no single-file form".into()),
    }
}
