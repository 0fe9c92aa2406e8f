//! `wsgen generate` / the short form `wsgen --spec FILE --language L --out DIR`.

use super::exit;
use clap::{Args, ValueEnum};
use serde_json::json;
use std::path::{Path, PathBuf};
use wsgen::emit::{self, TemplateSet};
use wsgen::ir::Overrides;
use wsgen::lang::Language;
use wsgen::pipeline;

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The spec file (YAML or JSON). Without it, the flags below describe the server.
    #[arg(long, short = 's', value_name = "FILE")]
    pub spec: Option<PathBuf>,
    #[arg(long, short = 'l', value_name = "LANG", value_parser = parse_targets,
          help = format!("Target language: {}", Language::choices(true)))]
    pub language: Option<Targets>,
    /// Output folder (with `all`, one subfolder per language).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Overwrite files in a non-empty output folder.
    #[arg(long)]
    pub force: bool,
    /// Compare the output folder with what would be generated; exit 1 on drift.
    #[arg(long, conflicts_with = "force")]
    pub check: bool,
    /// Folder laid over the embedded templates, file by file (DIR/<language>/<path>.tera).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Output format of the result.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Project name (overrides the spec's `name`).
    #[arg(long, help_heading = "Settings (override the spec)")]
    pub name: Option<String>,
    /// Server type: echo or chat.
    #[arg(
        long = "type",
        value_name = "TYPE",
        help_heading = "Settings (override the spec)"
    )]
    pub kind: Option<String>,
    /// Comma-separated features, e.g. rooms,presence,history.
    #[arg(long, value_delimiter = ',', num_args = 1.., help_heading = "Settings (override the spec)")]
    pub features: Option<Vec<String>>,
    /// Default TCP port.
    #[arg(
        long,
        allow_negative_numbers = true,
        help_heading = "Settings (override the spec)"
    )]
    pub port: Option<i64>,
    /// WebSocket path.
    #[arg(long, help_heading = "Settings (override the spec)")]
    pub path: Option<String>,
    /// permessage-deflate, true/on, or false/none/off.
    #[arg(long, value_name = "MODE", value_parser = parse_compression, help_heading = "Settings (override the spec)")]
    pub compression: Option<bool>,
    /// Comma-separated subprotocols in preference order.
    #[arg(long, value_delimiter = ',', num_args = 1.., help_heading = "Settings (override the spec)")]
    pub subprotocols: Option<Vec<String>>,
    /// Largest message in bytes.
    #[arg(
        long,
        allow_negative_numbers = true,
        help_heading = "Settings (override the spec)"
    )]
    pub max_payload: Option<i64>,
    /// Milliseconds between pings.
    #[arg(
        long,
        allow_negative_numbers = true,
        help_heading = "Settings (override the spec)"
    )]
    pub ping_interval: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// One language or all four.
#[derive(Debug, Clone)]
pub struct Targets(pub Vec<Language>);

impl Targets {
    pub fn is_all(&self) -> bool {
        self.0.len() > 1
    }
}

/// `--language`: one language, an alias, or `all`.
pub fn parse_targets(s: &str) -> Result<Targets, String> {
    Language::parse_list(s, true).map(Targets)
}

/// `--language` of the commands that run one server: no `all`.
pub fn parse_one(s: &str) -> Result<Language, String> {
    Language::parse_list(s, false).map(|l| l[0])
}

fn parse_compression(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "permessage-deflate" | "deflate" | "true" | "on" | "yes" => Ok(true),
        "false" | "none" | "off" | "no" => Ok(false),
        _ => Err(format!(
            "unknown compression `{s}`; use permessage-deflate or none"
        )),
    }
}

impl GenerateArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            name: self.name.clone(),
            kind: self.kind.clone(),
            features: self.features.clone(),
            port: self.port,
            path: self.path.clone(),
            subprotocols: self.subprotocols.clone(),
            compression: self.compression,
            max_payload: self.max_payload,
            ping_interval: self.ping_interval,
        }
    }
}

pub fn run(args: GenerateArgs) -> i32 {
    let Some(targets) = args.language.clone() else {
        eprintln!(
            "error: --language is required: {}\n\n  wsgen --spec specs/echo.yaml --language go --out echo-go\n\nSee `wsgen --help`.",
            Language::choices(true)
        );
        return exit::USAGE;
    };
    let Some(out) = args.out.clone() else {
        eprintln!("error: --out DIR is required: the folder to write the project to");
        return exit::USAGE;
    };
    let server = match pipeline::load_server(args.spec.as_deref(), &args.overrides()) {
        Ok(s) => s,
        Err(e) => {
            eprint!("{}", e.render());
            return exit::USAGE;
        }
    };
    let templates = match &args.templates {
        Some(dir) => match TemplateSet::with_overrides(dir) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        },
        None => TemplateSet::embedded(),
    };

    let mut results = Vec::new();
    let mut drifted = false;
    for lang in &targets.0 {
        let dir = if targets.is_all() {
            out.join(lang.name())
        } else {
            out.clone()
        };
        let files = match emit::generate(&server, *lang, &templates) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("error: {e}");
                return match e {
                    emit::EmitError::Io(_) => exit::ENVIRONMENT,
                    _ => exit::USAGE,
                };
            }
        };
        if args.check {
            match emit::check(&dir, &files) {
                Ok(drift) => {
                    if !drift.is_clean() {
                        drifted = true;
                    }
                    report_check(&args, *lang, &dir, &drift);
                    results.push(json!({
                        "language": lang, "out": dir, "clean": drift.is_clean(),
                        "missing": drift.missing, "changed": drift.changed, "extra": drift.extra,
                    }));
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::ENVIRONMENT;
                }
            }
            continue;
        }
        if let Err(e) = emit::write(&dir, &files, args.force) {
            eprintln!("error: {e}");
            return exit::ENVIRONMENT;
        }
        if args.format == Format::Text {
            println!("{}: wrote {} files to {}", lang, files.len(), dir.display());
            println!(
                "  next: {}",
                lang.driver().next_step(&dir, &lang.names(&server))
            );
        }
        results.push(json!({
            "language": lang,
            "out": dir,
            "files": files.iter().map(|f| &f.path).collect::<Vec<_>>(),
        }));
    }
    if args.format == Format::Json {
        let doc = json!({ "settings": server, "results": results, "ok": !drifted });
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("serialisable")
        );
    }
    if drifted { exit::FAILED } else { exit::OK }
}

fn report_check(args: &GenerateArgs, lang: Language, dir: &Path, drift: &emit::Drift) {
    if args.format == Format::Json {
        return;
    }
    if drift.is_clean() {
        println!("{lang}: {} is up to date", dir.display());
    } else {
        println!(
            "{lang}: {} differs from what the spec generates ({} missing, {} changed):",
            dir.display(),
            drift.missing.len(),
            drift.changed.len()
        );
    }
    print!("{}", drift.summary());
}
