//! Writing generated files to a folder, or comparing them with one (`--check`).

use super::{EmitError, GeneratedFile};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Write `files` under `out`. Refuses a non-empty folder unless `force`.
pub fn write(out: &Path, files: &[GeneratedFile], force: bool) -> Result<(), EmitError> {
    if out.exists() {
        let non_empty = std::fs::read_dir(out)
            .map_err(|e| EmitError::Io(format!("{}: {e}", out.display())))?
            .next()
            .is_some();
        if non_empty && !force {
            return Err(EmitError::Io(format!(
                "{} is not empty; pass --force to overwrite generated files, or --check to compare",
                out.display()
            )));
        }
    }
    for f in files {
        let path = out.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| EmitError::Io(format!("creating {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, &f.contents)
            .map_err(|e| EmitError::Io(format!("writing {}: {e}", path.display())))?;
    }
    Ok(())
}

/// What differs between a folder and what would be generated.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Drift {
    pub missing: Vec<PathBuf>,
    pub changed: Vec<PathBuf>,
    /// Files on disk that generation does not produce (reported, not an error:
    /// users add their own files).
    pub extra: Vec<PathBuf>,
}

impl Drift {
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.changed.is_empty()
    }

    pub fn summary(&self) -> String {
        let mut s = String::new();
        for p in &self.missing {
            s.push_str(&format!("  missing  {}\n", p.display()));
        }
        for p in &self.changed {
            s.push_str(&format!("  changed  {}\n", p.display()));
        }
        for p in &self.extra {
            s.push_str(&format!(
                "  extra    {} (not generated; left alone)\n",
                p.display()
            ));
        }
        s
    }
}

/// Compare `files` with the contents of `out`.
pub fn check(out: &Path, files: &[GeneratedFile]) -> Result<Drift, EmitError> {
    let mut drift = Drift::default();
    let generated: BTreeSet<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    for f in files {
        match std::fs::read_to_string(out.join(&f.path)) {
            Ok(text) if text == f.contents => {}
            Ok(_) => drift.changed.push(f.path.clone()),
            Err(_) => drift.missing.push(f.path.clone()),
        }
    }
    if out.is_dir() {
        let mut on_disk = Vec::new();
        list(out, out, &mut on_disk);
        for p in on_disk {
            if !generated.contains(&p) {
                drift.extra.push(p);
            }
        }
    }
    Ok(drift)
}

const IGNORED_DIRS: &[&str] = &[
    "node_modules",
    "target",
    "__pycache__",
    ".venv",
    ".git",
    ".pytest_cache",
];

fn list(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() {
            if !IGNORED_DIRS.contains(&name) && !name.ends_with(".egg-info") {
                list(root, &p, out);
            }
        } else {
            out.push(p.strip_prefix(root).expect("under root").to_path_buf());
        }
    }
}
