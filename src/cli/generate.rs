//! `wsgen generate` / the short form `wsgen --spec FILE --language L --out DIR`.

use super::{exit, project};
use clap::{Arg, ArgMatches, Args, Command, FromArgMatches, ValueEnum};
use serde_json::json;
use std::path::PathBuf;
use wsgen::emit::{self, Product, TemplateSet};
use wsgen::ir::Overrides;
use wsgen::lang::Language;
use wsgen::spec::Value;
use wsgen::spec::keys::{KEYS, Key, Ty};

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The spec file (YAML or JSON). Without it, the flags below describe the server.
    #[arg(long, short = 's', value_name = "FILE")]
    pub spec: Option<PathBuf>,
    #[arg(long, short = 'l', value_name = "LANG", value_parser = parse_targets,
          help = format!("Target language: {}", Language::choices(true)))]
    pub language: Option<Targets>,
    /// Output folder (with `all`, one subfolder per language); default
    /// `./<name>-<language>`. A file name ending in .js, .py or .go writes a
    /// single-file echo server instead (the language follows the extension).
    #[arg(long, short = 'o', visible_alias = "output", value_name = "DIR|FILE")]
    pub out: Option<PathBuf>,
    /// A skill-style task file: {"operation": "generate-server", "config": {"language": ..., spec keys}}.
    #[arg(long, value_name = "FILE", conflicts_with = "spec")]
    pub task: Option<PathBuf>,
    /// Overwrite generated files you edited since (and a non-empty folder wsgen did
    /// not generate), listing them.
    #[arg(long)]
    pub force: bool,
    /// Compare the output folder with what would be generated, telling your edits from
    /// the generator's drift; exit 1 if anything differs.
    #[arg(long, conflicts_with = "force")]
    pub check: bool,
    /// Folder laid over the embedded templates, file by file (DIR/<language>/<path>.tera).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Generate the server's typed client library instead of the server (echo,
    /// chat and session specs): it reconnects and resumes exactly once, and
    /// ships the `tail` example (docs/clients.md). Default folder
    /// `./<name>-client-<language>`.
    #[arg(long, conflicts_with = "task")]
    pub client: bool,
    /// Output format of the result.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    #[command(flatten)]
    pub settings: SettingFlags,
}

/// One flag per spec key that declares one in `spec::KEYS`
/// (help heading "Settings (override the spec)").
#[derive(Debug, Default, Clone)]
pub struct SettingFlags(pub Overrides);

impl Args for SettingFlags {
    fn augment_args(cmd: Command) -> Command {
        cmd.args(KEYS.iter().filter_map(flag_arg))
    }
    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for SettingFlags {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut flags = SettingFlags::default();
        flags.update_from_arg_matches(m)?;
        Ok(flags)
    }
    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        for key in KEYS.iter().filter(|k| k.flag.is_some()) {
            let id = key.path;
            let value = match key.ty {
                Ty::Bool => m.get_one::<bool>(id).map(|b| Value::Bool(*b)),
                Ty::Int { .. } => m.get_one::<i64>(id).map(|i| Value::Int(*i)),
                Ty::List(_) => m.get_many::<String>(id).map(|l| Value::list(l.cloned())),
                Ty::Str { .. } | Ty::Enum(_) => {
                    m.get_one::<String>(id).map(|s| Value::Str(s.clone()))
                }
                Ty::Section { .. } => None,
            };
            if let Some(v) = value {
                self.0.set(id, v);
            }
        }
        Ok(())
    }
}

/// The clap argument for a key's flag, parsed as the key's type.
fn flag_arg(key: &'static Key) -> Option<Arg> {
    let flag = key.flag?;
    let arg = Arg::new(key.path)
        .long(flag.long)
        .value_name(flag.value_name)
        .help(flag.help)
        .help_heading("Settings (override the spec)");
    Some(match key.ty {
        Ty::Bool => arg.value_parser(parse_switch),
        Ty::Int { .. } => arg
            .value_parser(clap::value_parser!(i64))
            .allow_negative_numbers(true),
        Ty::List(_) => arg.value_delimiter(',').num_args(1..),
        Ty::Str { .. } | Ty::Enum(_) | Ty::Section { .. } => arg,
    })
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

/// A boolean flag; `permessage-deflate` and `none` read naturally for `--compression`.
fn parse_switch(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "permessage-deflate" | "deflate" | "true" | "on" | "yes" => Ok(true),
        "false" | "none" | "off" | "no" => Ok(false),
        _ => Err(format!(
            "unknown value `{s}`; use permessage-deflate/true/on or none/false/off"
        )),
    }
}

impl GenerateArgs {
    pub fn overrides(&self) -> Overrides {
        self.settings.0.clone()
    }
}

pub fn run(args: GenerateArgs) -> i32 {
    let (targets, server, out) = match super::output::resolve(&args) {
        Ok(r) => r,
        Err(code) => return code,
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
    let out = match out {
        super::output::Output::Folder(dir) => dir,
        super::output::Output::File(_) if args.client => {
            eprintln!("error: --client writes a package folder, not a single file: give --out DIR");
            return exit::USAGE;
        }
        super::output::Output::File(file) => {
            return super::output::write_single(&args, &server, targets.0[0], &templates, &file);
        }
    };
    let product = if args.client {
        Product::Client
    } else {
        Product::Server
    };

    let mut results = Vec::new();
    let mut drifted = false;
    for lang in &targets.0 {
        let dir = if targets.is_all() {
            out.join(lang.name())
        } else {
            out.clone()
        };
        let files = match emit::generate_product(&server, *lang, product, &templates) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("error: {e}");
                return match e {
                    emit::EmitError::Io(_) => exit::ENVIRONMENT,
                    _ => exit::USAGE,
                };
            }
        };
        let json = args.format == Format::Json;
        if args.check {
            let (clean, result) = project::check(*lang, &dir, &files, json);
            drifted |= !clean;
            results.push(result);
            continue;
        }
        let next = match product {
            Product::Server => lang.driver().next_step(&dir, &lang.names(&server)),
            Product::Client => lang.driver().client_next_step(&dir),
        };
        let spec = args.spec.as_deref();
        match project::write(*lang, &dir, &files, spec, args.force, json, &next) {
            Ok(result) => results.push(result),
            Err(code) => return code,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every flag of the key table parses, as the key's type, into that key.
    #[test]
    fn each_flag_sets_its_key() {
        let cmd = SettingFlags::augment_args(Command::new("wsgen"));
        for key in KEYS.iter().filter(|k| k.flag.is_some()) {
            let (text, want) = match key.ty {
                Ty::Bool => ("off", Value::Bool(false)),
                Ty::Int { .. } => ("-7", Value::Int(-7)),
                Ty::List(_) => ("a,b", Value::list(["a".into(), "b".into()])),
                _ => ("x", Value::Str("x".into())),
            };
            let long = format!("--{}", key.flag.unwrap().long);
            let m = cmd
                .clone()
                .try_get_matches_from(["wsgen", &long, text])
                .unwrap_or_else(|e| panic!("{long} {text}: {e}"));
            let flags = SettingFlags::from_arg_matches(&m).unwrap();
            assert_eq!(flags.0.get(key.path).map(|v| v.value), Some(want), "{long}");
        }
    }
}
