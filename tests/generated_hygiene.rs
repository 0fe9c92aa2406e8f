//! Generated projects are ordinary projects: the Rust output passes
//! `cargo fmt --check` with the templates' comments and blank lines intact,
//! the Node.js output `prettier --check .` and the Python output `ruff check`
//! and `ruff format --check` (each with the settings the project ships, at
//! the versions pinned in `src/lang/deps.rs`, installed by these tests into
//! `target/lint-tools/`),
//! every language ships a `.gitignore`, and a Rust project ships a
//! `Cargo.lock` that cargo accepts with `--locked` and that agrees with the
//! pins of `src/lang/deps.rs`.
//!
//! The lock entries live in `templates/rust/Cargo.lock.tera`. After a pin of
//! a Rust dependency changes in `src/lang/deps.rs`, refresh them with
//!
//!     cargo test --test generated_hygiene refresh_cargo_lock -- --ignored
//!
//! (network to crates.io needed): it generates an echo and a chat project,
//! runs `cargo generate-lockfile` in each and writes the template from the
//! two locks. Review the diff and commit it with the pin (and the snapshots).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::lint::{lint, prettier, ruff};
use support::repo;
use wsgen::lang::{Language, deps};

const INSTALL_RUSTFMT: &str = "install rustfmt: `rustup component add rustfmt` \
    (with a Rust toolchain from https://rustup.rs; `cargo fmt` must run)";
const INSTALL_CARGO: &str = "install a Rust toolchain (https://rustup.rs) and put `cargo` on PATH";
const REFRESH: &str = "templates/rust/Cargo.lock.tera is out of date with src/lang/deps.rs: \
    refresh it with `cargo test --test generated_hygiene refresh_cargo_lock -- --ignored` \
    (network needed), review the diff, then accept the snapshots \
    (`INSTA_UPDATE=always cargo test --test snapshots`)";

/// Every spec in `specs/` and the adversarial fixture.
fn all_specs() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(repo().join("specs"))
        .expect("specs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    specs.sort();
    specs.push(repo().join("tests/fixtures/adversarial.yaml"));
    specs
}

fn server(spec: &Path) -> wsgen::ir::Server {
    wsgen::pipeline::load_server(Some(spec), &Default::default())
        .unwrap_or_else(|e| panic!("{}: {e}", spec.display()))
}

fn server_from(yaml: &str) -> wsgen::ir::Server {
    wsgen::pipeline::server_from_str("<test>", yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
}

/// Generate `server` for `lang` into a fresh temp folder.
fn generate(server: &wsgen::ir::Server, lang: Language) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix(&format!("wsgen-hygiene-{}-", lang.name()))
        .tempdir()
        .expect("temp dir");
    wsgen::pipeline::generate_into(server, lang, dir.path())
        .unwrap_or_else(|e| panic!("{} -> {lang}: {e}", server.name));
    dir
}

/// Run `program args` in `dir`; returns (success, stdout + stderr).
fn run(dir: &Path, program: &str, args: &[&str], install: &str) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{program}` ({e}): {install}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The shared target folder of generated Rust projects (nothing is built here).
fn target_dir() -> PathBuf {
    std::env::var_os("WSGEN_CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target").join("generated"))
}

fn require_rustfmt() {
    let ok = Command::new("cargo")
        .args(["fmt", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "`cargo fmt` is not available: {INSTALL_RUSTFMT}");
}

fn cargo_fmt_check(dir: &Path, what: &str) {
    let (ok, out) = run(dir, "cargo", &["fmt", "--check"], INSTALL_RUSTFMT);
    assert!(
        ok,
        "{what}: the generated Rust is not as rustfmt lays it out; fix the layout of \
         templates/rust/ (or src/emit/rust_layout.rs for spec values) so that \
         `cargo fmt --check` passes:\n{out}"
    );
}

#[test]
fn rust_output_passes_cargo_fmt_check() {
    require_rustfmt();
    for spec in all_specs() {
        let project = generate(&server(&spec), Language::Rust);
        cargo_fmt_check(project.path(), &spec.display().to_string());
    }
}

/// Spec values of every length around the limits of rustfmt's layout: the
/// `const` items of `spec.rs` and the tests (written by `rust_item`).
#[test]
fn spec_values_are_laid_out_as_rustfmt_does() {
    require_rustfmt();
    let names = [
        "a".repeat(30),
        "a".repeat(45),
        "a".repeat(60),
        "a".repeat(70),
        "日本語".repeat(8),
        "x".repeat(200),
    ];
    let lists: [Vec<String>; 6] = [
        vec![],
        vec!["a".into()],
        (0..30).map(|i| format!("p{i}")).collect(),
        vec!["p".repeat(40), "q".repeat(12)],
        vec!["p".repeat(60)],
        vec!["p".repeat(97)],
    ];
    for (i, name) in names.iter().enumerate() {
        let protocols = &lists[i % lists.len()];
        let yaml = format!(
            "name: {}\ntype: echo\npath: {}\nsubprotocols: {}\n",
            serde_json::to_string(name).unwrap(),
            serde_json::to_string(&format!("/{}", "p".repeat(i * 20))).unwrap(),
            serde_json::to_string(protocols).unwrap(),
        );
        let project = generate(&server_from(&yaml), Language::Rust);
        cargo_fmt_check(project.path(), &yaml);
    }
}

/// Every line comment of a template reaches the output of some spec, and a
/// verbatim template is written byte for byte (blank lines included).
#[test]
fn template_comments_and_blank_lines_survive() {
    let mut outputs = String::new();
    for spec in all_specs() {
        for file in wsgen::pipeline::generate(&server(&spec), Language::Rust).unwrap() {
            outputs.push_str(&file.contents);
            let template = repo().join("templates/rust").join(&file.path);
            if template.is_file() && template.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&template).unwrap();
                assert_eq!(
                    file.contents,
                    text,
                    "{} is not copied as is",
                    file.path.display()
                );
            }
            if file.path.extension().is_some_and(|e| e == "rs") && file.contents.len() > 2000 {
                assert!(
                    file.contents.contains("\n\n"),
                    "{}: no blank line",
                    file.path.display()
                );
            }
        }
    }
    let mut comments = 0;
    for template in files_under(&repo().join("templates/rust")) {
        if !template.to_string_lossy().contains(".rs") {
            continue;
        }
        let text = std::fs::read_to_string(&template).unwrap();
        for line in text.lines() {
            let t = line.trim_start();
            if t.starts_with("// ") && !t.contains("{{") && !t.contains("{%") {
                comments += 1;
                assert!(
                    outputs.contains(line),
                    "{}: the comment {line:?} is lost in generation",
                    template.display()
                );
            }
        }
    }
    assert!(comments >= 10, "only {comments} line comments found");
    let rooms = wsgen::pipeline::generate(&server(&repo().join("specs/chat.yaml")), Language::Rust)
        .unwrap()
        .into_iter()
        .find(|f| f.path.ends_with("src/chat/rooms.rs"))
        .expect("chat/rooms.rs");
    assert!(
        rooms
            .contents
            .contains("// Not a member yet (joining again is idempotent)."),
        "{}",
        rooms.contents
    );
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn every_project_has_a_gitignore() {
    let echo = server(&repo().join("specs/echo.yaml"));
    let expected: [(Language, &[&str]); 4] = [
        (Language::Node, &["node_modules/"]),
        (
            Language::Python,
            &["__pycache__/", "*.egg-info/", ".venv/", ".pytest_cache/"],
        ),
        (Language::Go, &["/echo"]),
        (Language::Rust, &["/target"]),
    ];
    for (lang, entries) in expected {
        let files = wsgen::pipeline::generate(&echo, lang).unwrap();
        let ignore = files
            .iter()
            .find(|f| f.path == Path::new(".gitignore"))
            .unwrap_or_else(|| panic!("{lang}: no .gitignore"));
        let lines: Vec<&str> = ignore.contents.lines().collect();
        for entry in entries {
            assert!(
                lines.contains(entry),
                "{lang} .gitignore lacks {entry}:\n{}",
                ignore.contents
            );
        }
        // Nothing wsgen generates is ignored.
        for f in &files {
            let top = f
                .path
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy();
            assert!(
                !lines.contains(&format!("/{top}").as_str()) && !lines.contains(&top.as_ref()),
                "{lang}: .gitignore hides the generated {}",
                f.path.display()
            );
        }
    }
}

/// `name` -> `version` of the registry packages of a lock file.
fn locked_versions(lock: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            entry.lines().find_map(|l| {
                l.strip_prefix(key).map(|v| {
                    v.trim_start_matches([' ', '='])
                        .trim_matches('"')
                        .to_string()
                })
            })
        };
        if field("source").is_some() {
            out.entry(field("name = ").unwrap_or_default())
                .or_default()
                .push(field("version = ").unwrap_or_default());
        }
    }
    out
}

/// The lock pins each direct dependency at the version of `src/lang/deps.rs`
/// (and Cargo.toml pins it with `=`).
#[test]
fn cargo_lock_agrees_with_the_pins() {
    for spec in ["specs/echo.yaml", "specs/chat.yaml"] {
        let server = server(&repo().join(spec));
        let files = wsgen::pipeline::generate(&server, Language::Rust).unwrap();
        let get = |name: &str| {
            files
                .iter()
                .find(|f| f.path == Path::new(name))
                .unwrap_or_else(|| panic!("{spec}: no {name}"))
                .contents
                .clone()
        };
        let (lock, manifest) = (get("Cargo.lock"), get("Cargo.toml"));
        let locked = locked_versions(&lock);
        for (key, version) in deps::for_language(Language::Rust) {
            let version = version.as_str().unwrap();
            // A template key cannot hold `-`: `tokio_rustls` pins `tokio-rustls`.
            let crate_name = if locked.contains_key(&key) {
                key.clone()
            } else {
                key.replace('_', "-")
            };
            let pinned = format!("\"={version}\"");
            if !manifest.contains(&pinned) {
                continue; // not a dependency of this kind of server
            }
            // A dependency may need another semver-incompatible version of a
            // pinned crate (yawc: base64 0.22, jsonwebtoken: base64 0.23); the
            // pinned one must be locked.
            assert!(
                locked
                    .get(&crate_name)
                    .is_some_and(|versions| versions.iter().any(|v| v == version)),
                "{spec}: {crate_name} is pinned at ={version} but locked at {:?}. {REFRESH}",
                locked.get(&crate_name)
            );
        }
        assert!(
            lock.contains(&format!(
                "name = \"{}\"\nversion = \"0.1.0\"\n",
                server.slug
            )),
            "{spec}: the lock has no entry for the project:\n{lock}"
        );
    }
}

/// cargo accepts the shipped lock as it is (`--locked` refuses any change)
/// for projects of every type, whatever their name sorts next to.
#[test]
fn cargo_metadata_accepts_the_lock() {
    let cases = [
        ("specs/echo.yaml", None),
        ("specs/chat.yaml", None),
        ("specs/chat-minimal.yaml", None),
        ("specs/mcp.yaml", None),
        ("", Some("name: aaa first\ntype: echo\n")),
        ("", Some("name: zzz last\ntype: chat\n")),
        ("", Some("name: mio\ntype: echo\n")),
    ];
    for (spec, yaml) in cases {
        let server = match yaml {
            Some(yaml) => server_from(yaml),
            None => server(&repo().join(spec)),
        };
        let project = generate(&server, Language::Rust);
        let (ok, out) = run(
            project.path(),
            "cargo",
            &["metadata", "--locked", "--format-version", "1"],
            INSTALL_CARGO,
        );
        let lock = std::fs::read_to_string(project.path().join("Cargo.lock")).unwrap();
        assert!(
            lock.ends_with("\"\n") || lock.ends_with("]\n"),
            "{}: Cargo.lock does not end as cargo writes it",
            server.name
        );
        assert!(
            ok,
            "{}: `cargo metadata --locked` refuses the generated Cargo.lock. {REFRESH}\n{}\n--- Cargo.lock:\n{lock}",
            server.name,
            out.lines().rev().take(40).collect::<Vec<_>>().join("\n")
        );
    }
}

/// Rewrites `templates/rust/Cargo.lock.tera` from fresh `cargo
/// generate-lockfile` runs of a generated project of every server type:
/// entries all the locks share are written as they are, the others under the
/// `server.kind`s that have them.
#[test]
#[ignore = "rewrites templates/rust/Cargo.lock.tera (network needed); run after changing a Rust pin"]
fn refresh_cargo_lock() {
    let mut locks = Vec::new();
    for (kind, spec) in LOCK_SPECS {
        let server = server(&repo().join(spec));
        let project = generate(&server, Language::Rust);
        let _ = std::fs::remove_file(project.path().join("Cargo.lock"));
        let (ok, out) = run(
            project.path(),
            "cargo",
            &["generate-lockfile"],
            INSTALL_CARGO,
        );
        assert!(ok, "cargo generate-lockfile for {spec}:\n{out}");
        let lock = std::fs::read_to_string(project.path().join("Cargo.lock")).unwrap();
        locks.push((*kind, server.slug.clone(), lock));
    }
    let split = |slug: &str, lock: &str| -> (String, Vec<String>, Vec<String>) {
        let mut parts = lock.split("\n[[package]]\n");
        let header = parts.next().unwrap().trim_end().to_string();
        let mut root = Vec::new();
        let mut entries = Vec::new();
        for p in parts {
            let p = p.trim_end().to_string();
            if p.starts_with(&format!("name = \"{slug}\"\n")) {
                root = p.lines().map(str::to_string).collect();
            } else {
                entries.push(p);
            }
        }
        (header, root, entries)
    };
    let parts: Vec<_> = locks
        .iter()
        .map(|(kind, slug, lock)| (*kind, split(slug, lock)))
        .collect();
    let all: Vec<&str> = LOCK_SPECS.iter().map(|(k, _)| *k).collect();
    // Each lock's condition; a chat-redis project (Rust 1.88, the redis
    // crate's) may lock other versions than a chat one (Rust 1.85), so the
    // two chat locks have exclusive conditions, and one `server.kind` when
    // both have an entry. Tera's `and` binds tighter than `or`.
    let condition = |kinds: &[&str]| -> String {
        let both = kinds.contains(&"chat") && kinds.contains(&"chat-redis");
        kinds
            .iter()
            .filter(|k| !(both && **k == "chat-redis"))
            .map(|k| match *k {
                "chat" if both => "server.kind == \"chat\"".to_string(),
                "chat" => {
                    "server.kind == \"chat\" and server.chat.backplane == \"memory\"".to_string()
                }
                "chat-redis" => {
                    "server.kind == \"chat\" and server.chat.backplane == \"redis\"".to_string()
                }
                k => format!("server.kind == \"{k}\""),
            })
            .collect::<Vec<_>>()
            .join(" or ")
    };

    let mut t = String::from(
        "{#- Cargo.lock of a generated project: what `cargo generate-lockfile` resolved for the\n    \
         pins of src/lang/deps.rs, for a project of every server type, and the project's own entry;\n    \
         the cargo_lock filter (src/emit/cargo_lock.rs) puts the entries in Cargo's order.\n    \
         Written by `cargo test --test generated_hygiene refresh_cargo_lock -- --ignored`:\n    \
         do not edit by hand. -#}\n{% filter cargo_lock -%}\n",
    );
    t.push_str(&parts[0].1.0);
    t.push_str("\n\n[[package]]\nname = \"{{ lang.package }}\"\n");
    // The project's entry: every version's lines in one order, each line
    // under the kinds whose lock has it.
    let mut merged: Vec<(String, Vec<&str>)> = Vec::new();
    for (kind, (_, root, _)) in &parts {
        merged = merge_lines(merged, &root[1..], kind);
    }
    for (line, kinds) in &merged {
        if kinds.len() == all.len() {
            t.push_str(&format!("{line}\n"));
        } else {
            t.push_str(&format!(
                "{{%- if {} %}}\n{line}\n{{%- endif %}}\n",
                condition(kinds)
            ));
        }
    }
    // The other entries, grouped by the kinds whose lock has them.
    let mut groups: Vec<(Vec<&str>, Vec<&String>)> = Vec::new();
    for (_, (_, _, entries)) in &parts {
        for e in entries {
            let kinds: Vec<&str> = parts
                .iter()
                .filter(|(_, (_, _, es))| es.contains(e))
                .map(|(k, _)| *k)
                .collect();
            match groups.iter_mut().find(|(k, _)| *k == kinds) {
                Some((_, es)) if es.contains(&e) => {}
                Some((_, es)) => es.push(e),
                None => groups.push((kinds, vec![e])),
            }
        }
    }
    groups.sort_by_key(|(kinds, _)| std::cmp::Reverse(kinds.len()));
    for (kinds, entries) in groups {
        let conditional = kinds.len() != all.len();
        if conditional {
            t.push_str(&format!("{{% if {} %}}\n", condition(&kinds)));
        }
        for e in entries {
            t.push_str(&format!("\n[[package]]\n{e}\n"));
        }
        if conditional {
            t.push_str("{% endif %}\n");
        }
    }
    // No newline after the section: the lock ends with its last entry.
    t.push_str("{%- endfilter %}");
    std::fs::write(repo().join("templates/rust/Cargo.lock.tera"), t).unwrap();
}

/// A project of each server type, for the lock: every crate a Rust project
/// can depend on is in one of them.
const LOCK_SPECS: &[(&str, &str)] = &[
    ("echo", "specs/echo.yaml"),
    ("chat", "specs/chat.yaml"),
    ("chat-redis", "specs/chat-redis.yaml"),
    ("mcp", "specs/mcp.yaml"),
];

/// `merged` (lines with the kinds that have them) and `kind`'s version of the
/// entry, in one order: shared lines once, the others where they stand.
fn merge_lines<'a>(
    merged: Vec<(String, Vec<&'a str>)>,
    lines: &[String],
    kind: &'a str,
) -> Vec<(String, Vec<&'a str>)> {
    let mut out = Vec::new();
    let mut rest = merged.into_iter().peekable();
    let mut i = 0;
    while i < lines.len() || rest.peek().is_some() {
        match rest.peek() {
            Some((line, _)) if i < lines.len() && *line == lines[i] => {
                let (line, mut kinds) = rest.next().unwrap();
                kinds.push(kind);
                out.push((line, kinds));
                i += 1;
            }
            Some((line, _)) if i >= lines.len() || lines[i..].contains(line) => {
                // Not in `kind`'s version here; it comes later in it, or never.
                if lines[i..].contains(line) {
                    out.push((lines[i].clone(), vec![kind]));
                    i += 1;
                } else {
                    out.push(rest.next().unwrap());
                }
            }
            Some(_) => out.push(rest.next().unwrap()),
            None => {
                out.push((lines[i].clone(), vec![kind]));
                i += 1;
            }
        }
    }
    out
}

// ---- Prettier (Node.js) and Ruff (Python) ---------------------------------

/// What Prettier would change in a project: `diff -ru` of the project
/// against a copy Prettier rewrote.
fn prettier_diff(server: &wsgen::ir::Server) -> String {
    let original = generate(server, Language::Node);
    let rewritten = generate(server, Language::Node);
    let _ = lint(rewritten.path(), &prettier(), &["--write", "."]);
    let out = Command::new("diff")
        .arg("-ru")
        .arg(original.path())
        .arg(rewritten.path())
        .output();
    match out {
        Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
        Err(e) => format!("(no diff: {e})"),
    }
}

#[test]
fn node_output_passes_prettier_check() {
    let prettier = prettier();
    let mut failures = Vec::new();
    for spec in all_specs() {
        let server = server(&spec);
        let project = generate(&server, Language::Node);
        for shipped in [".prettierrc.json", ".prettierignore"] {
            assert!(
                project.path().join(shipped).is_file(),
                "{}: the project ships no {shipped}",
                spec.display()
            );
        }
        let (ok, out) = lint(project.path(), &prettier, &["--check", "."]);
        if !ok {
            failures.push(format!(
                "{}: `prettier --check .` fails:\n{out}\nwhat Prettier would change:\n{}",
                spec.display(),
                prettier_diff(&server)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "the generated Node.js code is not as Prettier {} lays it out with the project's \
         .prettierrc.json; fix the layout of templates/node/ (or src/emit/js_layout.rs for \
         spec values):\n{}",
        deps::version(Language::Node, "prettier"),
        failures.join("\n")
    );
}

#[test]
fn python_output_passes_ruff_check_and_format() {
    let ruff = ruff();
    let mut failures = Vec::new();
    for spec in all_specs() {
        let project = generate(&server(&spec), Language::Python);
        let pyproject = std::fs::read_to_string(project.path().join("pyproject.toml")).unwrap();
        assert!(
            pyproject.contains("[tool.ruff]"),
            "{}: pyproject.toml has no [tool.ruff]",
            spec.display()
        );
        let (ok, out) = lint(
            project.path(),
            &ruff,
            &["check", "--no-cache", "--output-format", "full", "."],
        );
        if !ok {
            failures.push(format!("{}: `ruff check .` fails:\n{out}", spec.display()));
        }
        let (ok, out) = lint(
            project.path(),
            &ruff,
            &["format", "--no-cache", "--diff", "."],
        );
        if !ok {
            failures.push(format!(
                "{}: `ruff format --check .` fails; what it would change:\n{out}",
                spec.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "the generated Python code does not pass Ruff {} with the project's [tool.ruff]; \
         fix templates/python/:\n{}",
        deps::version(Language::Python, "ruff"),
        failures.join("\n")
    );
}

/// Spec values of every length around Prettier's `printWidth` and with
/// either quote: the declarations of `src/spec.js` and the entries of the
/// echo handler (written by `js_item`).
#[test]
fn spec_values_are_laid_out_as_prettier_does() {
    let prettier = prettier();
    let names = [
        "a".repeat(99),
        "a".repeat(97),
        "a".repeat(98),
        "it's \"quoted\" twice ''".to_string(),
        "日本語".repeat(17),
        "x".repeat(200),
    ];
    let lists: [Vec<String>; 6] = [
        vec![],
        vec!["a'b".into(), "c".into()],
        (0..30).map(|i| format!("p{i}")).collect(),
        vec!["p".repeat(40), "q'".repeat(12)],
        vec!["p".repeat(88)],
        vec!["p".repeat(113)],
    ];
    let mut failures = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let protocols = &lists[i % lists.len()];
        let yaml = format!(
            "name: {}\ntype: echo\npath: {}\nsubprotocols: {}\n",
            serde_json::to_string(name).unwrap(),
            serde_json::to_string(&format!("/{}", "p".repeat(i * 20))).unwrap(),
            serde_json::to_string(protocols).unwrap(),
        );
        let server = server_from(&yaml);
        let project = generate(&server, Language::Node);
        let (ok, out) = lint(project.path(), &prettier, &["--check", "src"]);
        if !ok {
            failures.push(format!("{yaml}{out}\n{}", prettier_diff(&server)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Spec values of every length around Ruff's `line-length` and with either
/// quote: the constants of `config.py` and the tests (`py_str`, `py_item`).
#[test]
fn spec_values_are_laid_out_as_ruff_does() {
    let ruff = ruff();
    let names = [
        "say \"hi\"".to_string(),
        "it's \"quoted\" twice ''".to_string(),
        "a".repeat(120),
        "日本語".repeat(17),
    ];
    let lists: [Vec<String>; 4] = [
        vec!["a'b".into()],
        (0..30).map(|i| format!("p{i}")).collect(),
        vec!["p".repeat(40), "q'".repeat(12)],
        vec!["p".repeat(99)],
    ];
    let mut failures = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let yaml = format!(
            "name: {}\ntype: echo\npath: {}\nsubprotocols: {}\n",
            serde_json::to_string(name).unwrap(),
            serde_json::to_string(&format!("/{}", "p".repeat(i * 30))).unwrap(),
            serde_json::to_string(&lists[i]).unwrap(),
        );
        let project = generate(&server_from(&yaml), Language::Python);
        for args in [
            &["check", "--no-cache", "."][..],
            &["format", "--no-cache", "--diff", "."][..],
        ] {
            let (ok, out) = lint(project.path(), &ruff, args);
            if !ok {
                failures.push(format!("{yaml}`ruff {}`:\n{out}", args.join(" ")));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
