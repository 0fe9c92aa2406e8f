//! Writing a generated project and `--check`ing one, as `wsgen generate`
//! reports them; the rules (the manifest, what is refused) are in
//! [`wsgen::emit::write`].

use super::exit;
use serde_json::{Value, json};
use std::path::Path;
use wsgen::emit::GeneratedFile;
use wsgen::emit::write::{self as regen, RegenError};
use wsgen::lang::Language;

/// Write `files` into `dir` (refusing to overwrite the user's work unless
/// `force`), report it unless `json`, and return the JSON result, or the
/// exit code on failure.
pub fn write(
    lang: Language,
    dir: &Path,
    files: &[GeneratedFile],
    spec: Option<&Path>,
    force: bool,
    json: bool,
    next: &str,
) -> Result<Value, i32> {
    let mode = if force {
        regen::Mode::Force
    } else {
        regen::Mode::KeepEdits
    };
    let written = match regen::write(dir, files, spec, lang, mode) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(match e {
                RegenError::Refused { .. } => exit::USAGE,
                RegenError::Io(_) => exit::ENVIRONMENT,
            });
        }
    };
    for p in &written.overwritten {
        eprintln!("{lang}: overwrote {} (--force)", dir.join(p).display());
    }
    for p in &written.kept {
        eprintln!(
            "{lang}: kept {} (your code: wsgen writes it once and never overwrites it)",
            dir.join(p).display()
        );
    }
    for p in &written.removed {
        eprintln!(
            "{lang}: removed {} (no longer generated, untouched)",
            dir.join(p).display()
        );
    }
    if !json {
        let (n, total) = (written.written.len(), files.len());
        if n == 0 {
            println!("{lang}: {} is up to date ({total} files)", dir.display());
        } else if n == total {
            println!("{lang}: wrote {total} files to {}", dir.display());
        } else {
            println!(
                "{lang}: wrote {n} of {total} files to {} (the others were up to date)",
                dir.display()
            );
        }
        println!("  next: {next}");
    }
    Ok(json!({
        "language": lang,
        "out": dir,
        "files": files.iter().map(|f| &f.path).collect::<Vec<_>>(),
        "overwritten": written.overwritten,
        "removed": written.removed,
        "extra": written.extra,
        "kept": written.kept,
    }))
}

/// Compare `dir` with `files`, report it unless `json`, and return whether
/// it is clean and the JSON result.
pub fn check(lang: Language, dir: &Path, files: &[GeneratedFile], json: bool) -> (bool, Value) {
    let check = regen::check(dir, files);
    if !json {
        if check.is_clean() {
            println!("{lang}: {} is up to date", dir.display());
        } else {
            let unknown = if check.changed.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} changed; no manifest to tell edits from drift",
                    check.changed.len()
                )
            };
            println!(
                "{lang}: {} differs from what the spec generates ({} missing, {} drift, {} edited{unknown}):",
                dir.display(),
                check.missing.len(),
                check.drift.len(),
                check.edited.len(),
            );
        }
        print!("{}", check.summary());
    }
    let result = json!({
        "language": lang, "out": dir, "clean": check.is_clean(),
        "manifest": check.manifest, "missing": check.missing, "drift": check.drift,
        "edited": check.edited, "changed": check.changed, "extra": check.extra,
        "yours": check.yours,
    });
    (check.is_clean(), result)
}
