//! `cargo_lock`: the filter section of `templates/rust/Cargo.lock.tera`.
//!
//! The template holds the lock entries of the dependencies (as `cargo
//! generate-lockfile` wrote them for a generated echo and chat project) and
//! the generated package's own entry, in any order. Cargo keeps a lock's
//! packages sorted by name and version, and writes a dependency as
//! `"name version"` when two locked packages share its name, so that
//! `cargo build --locked` accepts the file only in that form. This filter puts
//! the entries in Cargo's order and, when the project is named like one of
//! its dependencies (a server called `tokio`), names the dependency with its
//! version, whatever the project's name.
//!
//! Refreshing the entries after a pin in `src/lang/deps.rs` changes:
//! `cargo test --test generated_hygiene refresh_cargo_lock -- --ignored`
//! (needs network; see tests/generated_hygiene.rs).

use std::cmp::Ordering;
use tera::{Kwargs, State};

pub struct CargoLock;

impl tera::Filter<&str, String> for CargoLock {
    fn call(&self, value: &str, _: Kwargs, _: &State) -> String {
        order(value)
    }

    fn is_safe(&self) -> bool {
        true
    }
}

/// One `[[package]]` entry.
#[derive(Debug)]
struct Package {
    name: String,
    version: String,
    source: Option<String>,
    lines: Vec<String>,
}

impl Package {
    fn parse(lines: &[&str]) -> Package {
        let field = |key: &str| {
            lines.iter().find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|v| v.trim_start().strip_prefix('='))
                    .map(|v| v.trim().trim_matches('"').to_string())
            })
        };
        Package {
            name: field("name").unwrap_or_default(),
            version: field("version").unwrap_or_default(),
            source: field("source"),
            lines: lines.iter().map(|l| l.to_string()).collect(),
        }
    }
}

/// A lock file with its packages in Cargo's order and unambiguous
/// dependency names.
pub fn order(lock: &str) -> String {
    let lines: Vec<&str> = lock.lines().map(str::trim_end).collect();
    let mut starts = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| **l == "[[package]]")
        .map(|(i, _)| i)
        .collect::<Vec<_>>();
    let header = trim_blank(&lines[..starts.first().copied().unwrap_or(lines.len())]);
    starts.push(lines.len());
    let mut packages: Vec<Package> = starts
        .windows(2)
        .map(|w| Package::parse(trim_blank(&lines[w[0] + 1..w[1]])))
        .collect();
    packages.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then_with(|| compare_versions(&a.version, &b.version))
            .then_with(|| a.source.cmp(&b.source))
    });
    disambiguate(&mut packages);
    let mut out = String::new();
    for l in header {
        out.push_str(l);
        out.push('\n');
    }
    for p in &packages {
        out.push_str("\n[[package]]\n");
        for l in &p.lines {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

/// A dependency line ` "name",` of a name that two packages share (the
/// project and a registry crate) becomes ` "name version",`, and
/// ` "name version (source)",` when the versions are equal too.
fn disambiguate(packages: &mut [Package]) {
    let shared: Vec<(String, String)> = packages
        .iter()
        .filter(|p| p.source.is_some())
        .filter(|p| packages.iter().filter(|q| q.name == p.name).count() == 2)
        .filter(|p| {
            packages
                .iter()
                .any(|q| q.name == p.name && q.source.is_none())
        })
        .map(|p| {
            let reference = if packages
                .iter()
                .any(|q| q.name == p.name && q.source.is_none() && q.version == p.version)
            {
                format!(
                    "{} {} ({})",
                    p.name,
                    p.version,
                    p.source.as_deref().unwrap_or("")
                )
            } else {
                format!("{} {}", p.name, p.version)
            };
            (format!(" \"{}\",", p.name), format!(" \"{reference}\","))
        })
        .collect();
    for p in packages.iter_mut() {
        for l in p.lines.iter_mut() {
            if let Some((_, with_version)) = shared.iter().find(|(plain, _)| l == plain) {
                *l = with_version.clone();
            }
        }
    }
}

fn trim_blank<'a, 'b>(mut lines: &'a [&'b str]) -> &'a [&'b str] {
    while lines.first().is_some_and(|l| l.is_empty()) {
        lines = &lines[1..];
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines = &lines[..lines.len() - 1];
    }
    lines
}

/// Semver order of the numeric parts (`0.9.0` < `0.10.0`), then the text.
fn compare_versions(a: &str, b: &str) -> Ordering {
    let numbers = |v: &str| -> Vec<u64> {
        v.split(['-', '+'])
            .next()
            .unwrap_or("")
            .split('.')
            .map(|n| n.parse().unwrap_or(0))
            .collect()
    };
    numbers(a).cmp(&numbers(b)).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTRY: &str = "registry+https://github.com/rust-lang/crates.io-index";

    /// A registry package (`root`: false) or the project's own entry.
    fn entry(root: bool, name: &str, version: &str, deps: &[&str]) -> String {
        let mut s = format!("[[package]]\nname = \"{name}\"\nversion = \"{version}\"\n");
        if !root {
            s.push_str(&format!("source = \"{REGISTRY}\"\nchecksum = \"00\"\n"));
        }
        if !deps.is_empty() {
            s.push_str("dependencies = [\n");
            for d in deps {
                s.push_str(&format!(" \"{d}\",\n"));
            }
            s.push_str("]\n");
        }
        s
    }

    /// A lock with the entries in the given order and untidy blank lines.
    fn lock(entries: &[String]) -> String {
        format!("# header\nversion = 4\n\n\n{}\n\n", entries.join("\n\n"))
    }

    fn names(lock: &str) -> Vec<&str> {
        lock.lines()
            .filter_map(|l| l.strip_prefix("name = \""))
            .map(|l| l.trim_end_matches('"'))
            .collect()
    }

    #[test]
    fn the_project_entry_takes_its_sorted_place() {
        for (project, expected) in [
            ("aaa", ["aaa", "bytes", "tokio"]),
            ("my-server", ["bytes", "my-server", "tokio"]),
            ("zzz", ["bytes", "tokio", "zzz"]),
        ] {
            let out = order(&lock(&[
                entry(true, project, "0.1.0", &["tokio"]),
                entry(false, "tokio", "1.0.0", &["bytes"]),
                entry(false, "bytes", "1.0.0", &[]),
            ]));
            assert_eq!(names(&out), expected, "{out}");
            assert!(
                out.starts_with("# header\nversion = 4\n\n[[package]]\nname = "),
                "{out}"
            );
            assert!(out.ends_with("]\n") || out.ends_with("\"\n"), "{out}");
            assert!(!out.contains("\n\n\n"), "{out}");
            assert!(out.contains(" \"tokio\",\n") && out.contains(" \"bytes\",\n"));
        }
    }

    #[test]
    fn versions_sort_as_numbers() {
        let out = order(&lock(&[
            entry(false, "windows-sys", "0.10.0", &[]),
            entry(false, "windows-sys", "0.9.0", &[]),
        ]));
        let v: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("version = \""))
            .collect();
        assert_eq!(v, ["version = \"0.9.0\"", "version = \"0.10.0\""]);
    }

    #[test]
    fn a_project_named_like_a_dependency_names_the_dependency_with_its_version() {
        let out = order(&lock(&[
            entry(true, "tokio", "0.1.0", &["bytes", "tokio"]),
            entry(false, "tokio", "1.2.3", &["bytes"]),
            entry(false, "bytes", "1.0.0", &[]),
        ]));
        assert_eq!(names(&out), ["bytes", "tokio", "tokio"]);
        assert!(out.contains(" \"tokio 1.2.3\",\n"), "{out}");
        assert!(!out.contains(" \"tokio\",\n"), "{out}");
        assert!(out.contains(" \"bytes\",\n"), "{out}");
        assert!(
            out.find("version = \"0.1.0\"") < out.find("version = \"1.2.3\""),
            "{out}"
        );
    }
}
