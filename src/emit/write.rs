//! Writing a project, and regeneration that never loses work.
//!
//! Generation writes a manifest into the project, `.wsgen/manifest.json`: the
//! wsgen version, the spec, the language and, for every generated file, the
//! SHA-256 of the contents written. With it, regenerating into the folder
//! tells the user's edits apart from the generator's own files:
//!
//! - a generated file that changed since it was written (its hash is not the
//!   manifest's) is *edited*: regeneration refuses to overwrite it unless
//!   `--force`, which lists what it overwrote;
//! - a folder that is not empty and has no manifest is refused the same way;
//! - files the user added are left alone and listed as extra; a file the
//!   generator no longer produces is removed only if untouched;
//! - `--check` ([`check`]) separates *edited* files from *drift*: files the
//!   generator would now write differently that the user did not touch;
//! - a *user-owned* file (the echo handler, where the user's code goes) is
//!   written only when absent: never overwritten, not even with `--force`,
//!   never removed, and listed by name in the manifest without a hash. To get
//!   the generator's version back, delete it and regenerate.
//!
//! The manifest is not part of [`crate::emit::generate`]'s output, so the
//! snapshots (`snapshots/`) never see it: it holds the spec's path as typed
//! and the wsgen version, which say where a project came from, not what it is.

use super::GeneratedFile;
use crate::lang::Language;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// Where the manifest lives, relative to the project folder.
pub const MANIFEST: &str = ".wsgen/manifest.json";

/// The manifest of a generated project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The wsgen version that generated the project.
    pub wsgen: String,
    /// The spec file as given on the command line (`None`: flags only).
    pub spec: Option<String>,
    /// The language's name (`go`, `node`, ...).
    pub language: String,
    /// How `files` are hashed: always `sha256` (lowercase hex).
    pub hash: String,
    /// Every generated file (path with `/` separators) and its hash.
    pub files: BTreeMap<String, String>,
    /// The user's files: created once, never overwritten (no hash: any
    /// contents are theirs).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub user_owned: BTreeSet<String>,
}

impl Manifest {
    pub fn new(spec: Option<&Path>, language: Language, files: &[GeneratedFile]) -> Manifest {
        Manifest {
            wsgen: env!("CARGO_PKG_VERSION").to_string(),
            spec: spec.map(|p| p.display().to_string()),
            language: language.name().to_string(),
            hash: "sha256".into(),
            files: files
                .iter()
                .filter(|f| !f.user_owned)
                .map(|f| (key(&f.path), sha256(f.contents.as_bytes())))
                .collect(),
            user_owned: files
                .iter()
                .filter(|f| f.user_owned)
                .map(|f| key(&f.path))
                .collect(),
        }
    }

    /// Read `dir`'s manifest: `Ok(None)` when there is none.
    pub fn read(dir: &Path) -> Result<Option<Manifest>, String> {
        let path = dir.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn write(&self, dir: &Path) -> Result<(), RegenError> {
        let path = dir.join(MANIFEST);
        let text = serde_json::to_string_pretty(self).expect("manifest serialises") + "\n";
        create_parent(&path)?;
        std::fs::write(&path, text).map_err(|e| io(&path, e))
    }

    /// Whether `bytes` are what was generated at `path` (untouched since).
    fn untouched(&self, path: &Path, bytes: &[u8]) -> bool {
        self.files.get(&key(path)) == Some(&sha256(bytes))
    }
}

/// Lowercase hex SHA-256.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn key(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Why regeneration did not write.
#[derive(Debug)]
pub enum RegenError {
    /// Writing would lose the user's work (exit 2): `files` are in the way.
    Refused {
        message: String,
        files: Vec<PathBuf>,
    },
    /// The file system failed (exit 3).
    Io(String),
}

impl fmt::Display for RegenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegenError::Refused { message, files } => {
                writeln!(f, "{message}")?;
                for p in files {
                    writeln!(f, "  {}", p.display())?;
                }
                write!(
                    f,
                    "Keep your changes (move them aside; `--check` shows what differs), or pass --force to overwrite them."
                )
            }
            RegenError::Io(e) => f.write_str(e),
        }
    }
}

fn io(path: &Path, e: std::io::Error) -> RegenError {
    RegenError::Io(format!("{}: {e}", path.display()))
}

fn create_parent(path: &Path) -> Result<(), RegenError> {
    match path.parent() {
        Some(parent) => std::fs::create_dir_all(parent).map_err(|e| io(parent, e)),
        None => Ok(()),
    }
}

/// What a (re)generation did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Files created or rewritten with new contents.
    pub written: Vec<PathBuf>,
    /// Generated files already on disk with the same contents.
    pub unchanged: usize,
    /// Files that held someone's changes and were overwritten (`--force`).
    pub overwritten: Vec<PathBuf>,
    /// Untouched files of the previous generation that it no longer produces.
    pub removed: Vec<PathBuf>,
    /// Files not generated, left alone.
    pub extra: Vec<PathBuf>,
    /// User-owned files holding the user's changes, left as they are.
    pub kept: Vec<PathBuf>,
}

/// How far [`write`] may overwrite what is on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Refuse when a generated file changed since it was written.
    KeepEdits,
    /// `--force`: overwrite changed generated files (and list them); the
    /// user's own files are still kept.
    Force,
    /// A folder wsgen owns (its cache, a test's project): everything is
    /// written as generated, the user-owned files too.
    Owned,
}

/// Write `files` into `out` with the manifest, never overwriting a file that
/// changed since it was generated (or a folder wsgen did not generate)
/// unless forced, and never a user-owned file that exists unless `Owned`.
pub fn write(
    out: &Path,
    files: &[GeneratedFile],
    spec: Option<&Path>,
    language: Language,
    mode: Mode,
) -> Result<Written, RegenError> {
    let force = mode != Mode::KeepEdits;
    let previous = Manifest::read(out);
    let non_empty = match std::fs::read_dir(out) {
        Ok(mut entries) => entries.next().is_some(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io(out, e)),
    };
    let mut done = Written::default();
    // Generated paths whose current contents would be lost.
    let mut in_the_way = Vec::new();
    for f in files.iter().filter(|f| !f.user_owned) {
        let Ok(bytes) = std::fs::read(out.join(&f.path)) else {
            continue;
        };
        let ours = match &previous {
            Ok(Some(m)) => m.untouched(&f.path, &bytes),
            _ => false,
        };
        if bytes != f.contents.as_bytes() && !ours {
            in_the_way.push(f.path.clone());
        }
    }
    match &previous {
        Ok(Some(_)) if !in_the_way.is_empty() && !force => {
            return Err(RegenError::Refused {
                message: format!(
                    "refusing to overwrite {} file(s) in {} that changed since wsgen generated them:",
                    in_the_way.len(),
                    out.display()
                ),
                files: in_the_way,
            });
        }
        Ok(None) | Err(_) if non_empty && !force => {
            let why = match &previous {
                Err(e) => format!("its manifest cannot be read ({e})"),
                _ => format!("it has no {MANIFEST}, so wsgen cannot tell your files from its own"),
            };
            return Err(RegenError::Refused {
                message: format!(
                    "{} is not empty and {why}; files that would be overwritten:",
                    out.display()
                ),
                files: in_the_way,
            });
        }
        _ => {}
    }
    done.overwritten = in_the_way;

    let generated: BTreeSet<&Path> = files.iter().map(|f| f.path.as_path()).collect();
    if let Ok(Some(m)) = &previous {
        for old in m.files.keys().map(PathBuf::from) {
            if generated.contains(old.as_path()) {
                continue;
            }
            let path = out.join(&old);
            if std::fs::read(&path).is_ok_and(|b| m.untouched(&old, &b)) {
                std::fs::remove_file(&path).map_err(|e| io(&path, e))?;
                done.removed.push(old);
            }
        }
    }
    for f in files {
        let path = out.join(&f.path);
        if f.user_owned && mode != Mode::Owned && path.exists() {
            match std::fs::read(&path) {
                Ok(b) if b == f.contents.as_bytes() => done.unchanged += 1,
                _ => done.kept.push(f.path.clone()),
            }
            continue;
        }
        if std::fs::read(&path).is_ok_and(|b| b == f.contents.as_bytes()) {
            done.unchanged += 1;
            continue;
        }
        create_parent(&path)?;
        std::fs::write(&path, &f.contents).map_err(|e| io(&path, e))?;
        done.written.push(f.path.clone());
    }
    Manifest::new(spec, language, files).write(out)?;
    done.extra = list(out)
        .into_iter()
        .filter(|p| !generated.contains(p.as_path()))
        .collect();
    Ok(done)
}

/// How a folder differs from what would be generated (`--check`).
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Whether the folder has a readable manifest (without one, edits and
    /// drift cannot be told apart: differing files are `changed`).
    pub manifest: bool,
    /// Generated files absent from the folder.
    pub missing: Vec<PathBuf>,
    /// Files the generator would now write differently, untouched by the user.
    pub drift: Vec<PathBuf>,
    /// Generated files the user changed since generation.
    pub edited: Vec<PathBuf>,
    /// Differing files of a folder without a manifest.
    pub changed: Vec<PathBuf>,
    /// Files on disk the generator does not produce (not an error).
    pub extra: Vec<PathBuf>,
    /// User-owned files that differ from the generator's starting version
    /// (the user's code; not an error).
    pub yours: Vec<PathBuf>,
}

impl Check {
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty()
            && self.drift.is_empty()
            && self.edited.is_empty()
            && self.changed.is_empty()
    }

    pub fn summary(&self) -> String {
        let mut s = String::new();
        let mut section = |label: &str, paths: &[PathBuf], note: &str| {
            for p in paths {
                s.push_str(&format!("  {label:<8} {}{note}\n", p.display()));
            }
        };
        section("missing", &self.missing, "");
        section(
            "drift",
            &self.drift,
            " (the generator now writes it differently; not edited by you)",
        );
        section("edited", &self.edited, " (changed since it was generated)");
        section("changed", &self.changed, "");
        section(
            "yours",
            &self.yours,
            " (your code; regeneration never overwrites it)",
        );
        section("extra", &self.extra, " (not generated; left alone)");
        s
    }
}

/// Compare `files` with the contents of `out`, telling the user's edits from
/// the generator's drift by the manifest.
pub fn check(out: &Path, files: &[GeneratedFile]) -> Check {
    let manifest = Manifest::read(out).ok().flatten();
    let mut c = Check {
        manifest: manifest.is_some(),
        ..Check::default()
    };
    for f in files {
        match std::fs::read(out.join(&f.path)) {
            Err(_) => c.missing.push(f.path.clone()),
            Ok(b) if b == f.contents.as_bytes() => {}
            Ok(_) if f.user_owned => c.yours.push(f.path.clone()),
            Ok(b) => match &manifest {
                Some(m) if m.untouched(&f.path, &b) => c.drift.push(f.path.clone()),
                Some(_) => c.edited.push(f.path.clone()),
                None => c.changed.push(f.path.clone()),
            },
        }
    }
    let generated: BTreeSet<&Path> = files.iter().map(|f| f.path.as_path()).collect();
    c.extra = list(out)
        .into_iter()
        .filter(|p| !generated.contains(p.as_path()))
        .collect();
    c
}

/// Folders never listed: installs, builds, caches and wsgen's own.
const IGNORED_DIRS: &[&str] = &[
    "node_modules",
    "target",
    "__pycache__",
    ".venv",
    ".git",
    ".pytest_cache",
    ".wsgen",
];

/// Every file under `root` (relative, sorted), outside [`IGNORED_DIRS`].
fn list(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if p.is_dir() {
                if !IGNORED_DIRS.contains(&name) && !name.ends_with(".egg-info") {
                    walk(root, &p, out);
                }
            } else if name != ".wsgen-build" {
                out.push(p.strip_prefix(root).expect("under root").to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, contents: &str) -> GeneratedFile {
        GeneratedFile {
            path: path.into(),
            contents: contents.into(),
            user_owned: false,
        }
    }

    fn users(path: &str, contents: &str) -> GeneratedFile {
        GeneratedFile {
            user_owned: true,
            ..file(path, contents)
        }
    }

    #[test]
    fn user_owned_files_are_written_once_and_never_overwritten() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("p");
        let v1 = [file("gen.txt", "g1\n"), users("handler.txt", "h1\n")];
        let w = write(&out, &v1, None, Language::Rust, Mode::KeepEdits).unwrap();
        assert_eq!(w.written, [p("gen.txt"), p("handler.txt")]);
        let m = Manifest::read(&out).unwrap().unwrap();
        assert!(!m.files.contains_key("handler.txt"));
        assert!(m.user_owned.contains("handler.txt"));

        // The user edits it; regeneration (even a changed generator, even
        // --force) keeps it, and --check lists it as theirs, not as an edit.
        std::fs::write(out.join("handler.txt"), "my code\n").unwrap();
        let v2 = [file("gen.txt", "g2\n"), users("handler.txt", "h2\n")];
        let c = check(&out, &v2);
        assert_eq!(c.yours, [p("handler.txt")]);
        assert_eq!(c.drift, [p("gen.txt")]);
        assert!(c.edited.is_empty());
        for mode in [Mode::KeepEdits, Mode::Force] {
            let w = write(&out, &v2, None, Language::Rust, mode).unwrap();
            assert_eq!(w.kept, [p("handler.txt")]);
            assert!(w.overwritten.is_empty());
            assert_eq!(
                std::fs::read_to_string(out.join("handler.txt")).unwrap(),
                "my code\n"
            );
        }
        assert!(check(&out, &v2).is_clean());
        // A folder wsgen owns (its cache, a test's) gets the generator's.
        write(&out, &v2, None, Language::Rust, Mode::Owned).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("handler.txt")).unwrap(),
            "h2\n"
        );
        std::fs::write(out.join("handler.txt"), "my code\n").unwrap();

        // A generation that no longer has it leaves it in place (extra);
        // deleting it brings the generator's version back.
        let w = write(
            &out,
            &[file("gen.txt", "g2\n")],
            None,
            Language::Rust,
            Mode::KeepEdits,
        )
        .unwrap();
        assert!(w.removed.is_empty());
        assert_eq!(w.extra, [p("handler.txt")]);
        std::fs::remove_file(out.join("handler.txt")).unwrap();
        assert_eq!(check(&out, &v2).missing, [p("handler.txt")]);
        write(&out, &v2, None, Language::Rust, Mode::KeepEdits).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("handler.txt")).unwrap(),
            "h2\n"
        );
    }

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    #[test]
    fn sha256_is_the_standard_one() {
        assert_eq!(
            sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn regeneration_keeps_edits_unless_forced() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("p");
        let v1 = [
            file("a.txt", "a1\n"),
            file("sub/b.txt", "b1\n"),
            file("old.txt", "o\n"),
        ];
        let w = write(&out, &v1, None, Language::Go, Mode::KeepEdits).unwrap();
        assert_eq!(w.written.len(), 3);
        let m = Manifest::read(&out).unwrap().unwrap();
        assert_eq!(m.files["sub/b.txt"], sha256(b"b1\n"));
        assert_eq!(m.language, "go");

        // Untouched: regenerating the same is quiet; a new version rewrites
        // untouched files and removes the ones no longer generated.
        let w = write(&out, &v1, None, Language::Go, Mode::KeepEdits).unwrap();
        assert_eq!((w.written.len(), w.unchanged), (0, 3));
        let v2 = [file("a.txt", "a2\n"), file("sub/b.txt", "b2\n")];
        std::fs::write(out.join("mine.txt"), "user\n").unwrap();
        let w = write(&out, &v2, None, Language::Go, Mode::KeepEdits).unwrap();
        assert_eq!(w.written, [p("a.txt"), p("sub/b.txt")]);
        assert_eq!(w.removed, [p("old.txt")]);
        assert_eq!(w.extra, [p("mine.txt")]);
        assert!(!out.join("old.txt").exists());

        // --check separates drift from edits.
        std::fs::write(out.join("a.txt"), "edited\n").unwrap();
        let v3 = [
            file("a.txt", "a3\n"),
            file("sub/b.txt", "b3\n"),
            file("c.txt", "c\n"),
        ];
        let c = check(&out, &v3);
        assert!(c.manifest && !c.is_clean());
        assert_eq!(c.edited, [p("a.txt")]);
        assert_eq!(c.drift, [p("sub/b.txt")]);
        assert_eq!(c.missing, [p("c.txt")]);
        assert_eq!(c.extra, [p("mine.txt")]);

        // The edited file stops regeneration; nothing is written.
        let e = write(&out, &v3, None, Language::Go, Mode::KeepEdits).unwrap_err();
        match &e {
            RegenError::Refused { files, .. } => assert_eq!(files, &[p("a.txt")]),
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("--force"), "{e}");
        assert_eq!(
            std::fs::read_to_string(out.join("sub/b.txt")).unwrap(),
            "b2\n"
        );
        assert!(!out.join("c.txt").exists());

        // --force overwrites it and says so.
        let w = write(&out, &v3, None, Language::Go, Mode::Force).unwrap();
        assert_eq!(w.overwritten, [p("a.txt")]);
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "a3\n");
        assert!(check(&out, &v3).is_clean());
        assert_eq!(
            std::fs::read_to_string(out.join("mine.txt")).unwrap(),
            "user\n"
        );
    }

    #[test]
    fn a_folder_without_a_manifest_is_refused_unless_forced() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("a.txt"), "mine\n").unwrap();
        let files = [file("a.txt", "gen\n")];
        let e = write(tmp.path(), &files, None, Language::Node, Mode::KeepEdits).unwrap_err();
        assert!(matches!(&e, RegenError::Refused { files, .. } if files == &[p("a.txt")]));
        assert!(e.to_string().contains("manifest"), "{e}");
        let c = check(tmp.path(), &files);
        assert!(!c.manifest);
        assert_eq!(c.changed, [p("a.txt")]);
        let w = write(tmp.path(), &files, None, Language::Node, Mode::Force).unwrap();
        assert_eq!(w.overwritten, [p("a.txt")]);
        assert!(tmp.path().join(MANIFEST).exists());
    }
}
