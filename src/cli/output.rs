//! What `wsgen generate` (alias `generate-server`) reads and where it writes:
//! the spec, a skill-style task file (`--task`) or flags; the language
//! (`--language`, the task's `language`, or the extension of `--output FILE`);
//! and the output, a project folder or a single file.
//!
//! - `--out`/`--output DIR`: a project folder (refused when not empty, unless
//!   `--force`);
//! - `--output FILE.js|.py|.go`: a single-file echo server ([`wsgen::single`]);
//! - neither: the folder `./<name>-<language>` (`./<name>` with `all`).

use super::exit;
use super::generate::{Format, GenerateArgs, Targets};
use serde_json::json;
use std::path::{Path, PathBuf};
use wsgen::emit::TemplateSet;
use wsgen::ir::{self, Server};
use wsgen::lang::Language;
use wsgen::spec::{Value, task};
use wsgen::{pipeline, single};

/// Where the result goes.
pub enum Output {
    Folder(PathBuf),
    File(PathBuf),
}

/// The languages, the resolved server and the output of a generate command;
/// `Err` holds the exit code after the error was printed.
pub fn resolve(args: &GenerateArgs) -> Result<(Targets, Server, Output), i32> {
    let (server, task_language) = load(args)?;
    // `x.js/` or an existing folder stays a folder.
    let file = args.out.as_ref().filter(|p| {
        single::is_single_file(p) && !p.to_string_lossy().ends_with('/') && !p.is_dir()
    });
    let targets = match (&args.language, task_language, file) {
        (Some(t), _, _) => t.clone(),
        (None, Some(l), _) => Targets(vec![l]),
        (None, None, Some(f)) => Targets(vec![single::language_of(f).expect("single file")]),
        // The skill's commands (`generate-server --type chat --output d/`)
        // default to Node.js; a spec alone still needs --language.
        (None, None, None) if args.settings.0.get("type").is_some() => {
            eprintln!(
                "note: no --language given; generating Node.js (--language python, go or rust for the others)"
            );
            Targets(vec![Language::DEFAULT])
        }
        (None, None, None) => {
            eprintln!(
                "error: --language is required: {}\n\n  wsgen --spec specs/echo.yaml --language go --out echo-go\n\nSee `wsgen --help`.",
                Language::choices(true)
            );
            return Err(exit::USAGE);
        }
    };
    let out = match (&args.out, file) {
        (_, Some(f)) => Output::File(f.clone()),
        (Some(dir), None) => Output::Folder(dir.clone()),
        (None, _) => Output::Folder(default_folder(&server, &targets, args.client)),
    };
    if let Output::File(f) = &out {
        single_file_allowed(args, &targets, &server, f)?;
    }
    Ok((targets, server, out))
}

/// `./<name>-<language>`, or `./<name>` holding one folder per language
/// (`<name>-client` for client libraries).
pub fn default_folder(server: &Server, targets: &Targets, client: bool) -> PathBuf {
    let base = if client {
        format!("{}-client", server.slug)
    } else {
        server.slug.clone()
    };
    if targets.is_all() {
        PathBuf::from(base)
    } else {
        PathBuf::from(format!("{base}-{}", targets.0[0].name()))
    }
}

/// The server from the task file, or the spec (or defaults) with the flags,
/// and the task's language. A server described without a name (flags only,
/// or a task without `name`) is named after its type (`echo`), not after
/// the task file or `<flags>`.
fn load(args: &GenerateArgs) -> Result<(Server, Option<Language>), i32> {
    let usage = |e: wsgen::spec::SpecErrors| {
        eprint!("{}", e.render());
        exit::USAGE
    };
    let mut flags = args.overrides();
    let name_after_type = |flags: &mut wsgen::ir::Overrides, spec_type: Option<Value>| {
        if flags.get("name").is_none() {
            let kind = flags
                .get("type")
                .map(|v| v.value)
                .or(spec_type)
                .unwrap_or_else(|| Value::Str("echo".into()));
            flags.set("name", kind);
        }
    };
    let Some(path) = &args.task else {
        if args.spec.is_none() {
            name_after_type(&mut flags, None);
        }
        let server = pipeline::load_server(args.spec.as_deref(), &flags).map_err(usage)?;
        return Ok((server, None));
    };
    let t = task::load(path).map_err(usage)?;
    let language = match &t.language {
        None => None,
        Some(l) => match Language::parse(&l.value) {
            Some(lang) => Some(lang),
            None => {
                let e = t
                    .source
                    .error_at(
                        &l.referenced,
                        l.value.chars().count().max(1),
                        format!("unknown language `{}`", l.value),
                    )
                    .with_help(Language::choices(false));
                return Err(usage(e.into()));
            }
        },
    };
    if t.spec.get("name").is_none() {
        name_after_type(&mut flags, t.spec.get("type").map(|v| v.value.clone()));
    }
    let server = ir::resolve(&t.spec, &t.source, &flags).map_err(usage)?;
    Ok((server, language))
}

/// A single file: one language, whose extension the file has, that has a
/// single-file form for this server type; no `--check`.
fn single_file_allowed(
    args: &GenerateArgs,
    targets: &Targets,
    server: &Server,
    file: &Path,
) -> Result<(), i32> {
    let refuse = |msg: String| {
        eprintln!("error: {msg}");
        Err(exit::USAGE)
    };
    if targets.is_all() {
        return refuse(format!(
            "--output {}: a single file holds one language; pass a folder for --language all",
            file.display()
        ));
    }
    if args.check {
        return refuse("--check compares project folders; a single file has none".into());
    }
    let lang = targets.0[0];
    let wanted = single::language_of(file).expect("single file");
    if wanted != lang {
        return refuse(format!(
            "--output {}: a .{} file is {wanted}, but --language is {lang}\n  \
             help: name the file *.{} (e.g. {}), or pass a folder",
            file.display(),
            single::extension(wanted),
            single::extension(lang),
            single::default_file_name(server, lang)
        ));
    }
    if let Some(why) = single::unsupported(server, lang, file) {
        return refuse(why);
    }
    Ok(())
}

/// Write the single-file form; refuses an existing file unless `--force`.
pub fn write_single(
    args: &GenerateArgs,
    server: &Server,
    lang: Language,
    templates: &TemplateSet,
    path: &Path,
) -> i32 {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let f = match single::render(server, lang, templates, &name) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    if path.exists() && !args.force {
        eprintln!(
            "error: {} exists; pass --force to overwrite it",
            path.display()
        );
        return exit::USAGE;
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        eprintln!("error: creating {}: {e}", parent.display());
        return exit::ENVIRONMENT;
    }
    if let Err(e) = std::fs::write(path, &f.contents) {
        eprintln!("error: writing {}: {e}", path.display());
        return exit::ENVIRONMENT;
    }
    let run = single::run_command(lang, &name);
    match args.format {
        Format::Text => {
            println!("{lang}: wrote the single-file server {}", path.display());
            println!("  next: {run}");
        }
        Format::Json => {
            let doc = json!({
                "settings": server,
                "results": [{
                    "language": lang,
                    "out": path,
                    "single_file": true,
                    "files": [path],
                    "run": run,
                }],
                "ok": true,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).expect("serialisable")
            );
        }
    }
    exit::OK
}
