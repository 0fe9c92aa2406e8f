//! The command line: generation, --check drift, --force, --templates,
//! --format json, settings as flags, init, schema, languages, exit codes.

use std::path::Path;
use std::process::{Command, Output};

fn wsgen(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wsgen"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run wsgen")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const REPO: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn generate_check_and_force() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("echo-go");
    let spec = format!("{REPO}/specs/echo.yaml");
    let o = wsgen(
        &[
            "--spec",
            &spec,
            "--language",
            "golang",
            "--out",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.join("go.mod").exists(), "go.mod missing: {}", text(&o));

    // A second plain run with the same spec rewrites nothing and says so.
    let o = wsgen(
        &[
            "--spec",
            &spec,
            "--language",
            "go",
            "--out",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("is up to date"), "{}", text(&o));

    // --check: clean, then drift after an edit, exit 1 with a summary.
    let o = wsgen(
        &[
            "--spec",
            &spec,
            "-l",
            "go",
            "-o",
            out.to_str().unwrap(),
            "--check",
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::fs::write(out.join("go.mod"), "module edited\n").unwrap();
    std::fs::write(out.join("mine.txt"), "user file\n").unwrap();
    let o = wsgen(
        &[
            "--spec",
            &spec,
            "-l",
            "go",
            "-o",
            out.to_str().unwrap(),
            "--check",
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("edited   go.mod") && t.contains("extra    mine.txt"),
        "{t}"
    );

    // --force rewrites generated files and leaves the user's own alone.
    let o = wsgen(
        &[
            "--spec",
            &spec,
            "-l",
            "go",
            "-o",
            out.to_str().unwrap(),
            "--force",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        std::fs::read_to_string(out.join("go.mod"))
            .unwrap()
            .starts_with("module ")
    );
    assert_ne!(
        std::fs::read_to_string(out.join("go.mod")).unwrap(),
        "module edited\n"
    );
    assert!(out.join("mine.txt").exists());
}

#[test]
fn all_languages_json_result_and_flags_override_the_spec() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("all");
    let spec = format!("{REPO}/specs/echo.yaml");
    let o = wsgen(
        &[
            "--spec",
            &spec,
            "--language",
            "all",
            "--out",
            out.to_str().unwrap(),
            "--format",
            "json",
            "--port",
            "9123",
            "--max-payload",
            "4096",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(doc["settings"]["port"], 9123);
    assert_eq!(doc["settings"]["max_payload"], 4096);
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for r in results {
        let lang = r["language"].as_str().unwrap();
        assert!(out.join(lang).is_dir(), "no {lang} subfolder");
        assert!(!r["files"].as_array().unwrap().is_empty());
    }
}

#[test]
fn settings_as_flags_without_a_spec() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("n");
    let o = wsgen(
        &[
            "--name",
            "flags-only",
            "--language",
            "nodejs",
            "--out",
            out.to_str().unwrap(),
            "--format",
            "json",
            "--path",
            "/ws",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["settings"]["name"], "flags-only");
    assert_eq!(doc["settings"]["path"], "/ws");
    // A bad flag value is reported against the flag.
    let o = wsgen(
        &[
            "--port",
            "0",
            "--language",
            "go",
            "--out",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("command-line flag for `port`"),
        "{}",
        text(&o)
    );
}

#[test]
fn template_overrides_replace_files_one_by_one() {
    let tmp = tempfile::tempdir().unwrap();
    let tpl = tmp.path().join("tpl/go");
    std::fs::create_dir_all(&tpl).unwrap();
    std::fs::write(
        tpl.join("EXTRA.md.tera"),
        "# {{ server.name | md_text }} on port {{ server.port }}\n",
    )
    .unwrap();
    let out = tmp.path().join("o");
    let spec = format!("{REPO}/specs/echo.yaml");
    let o = wsgen(
        &[
            "--spec",
            &spec,
            "-l",
            "go",
            "-o",
            out.to_str().unwrap(),
            "--templates",
            tmp.path().join("tpl").to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(out.join("EXTRA.md")).unwrap(),
        "# echo on port 8080\n"
    );
    assert!(
        out.join("go.mod").exists(),
        "embedded templates still apply"
    );

    // An unfiltered spec string is refused by the engine's guard.
    std::fs::write(tpl.join("EXTRA.md.tera"), "{{ server.name }}\n").unwrap();
    let o = wsgen(
        &[
            "--name",
            "a\"b",
            "-l",
            "go",
            "-o",
            tmp.path().join("o2").to_str().unwrap(),
            "--templates",
            tmp.path().join("tpl").to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("without an escaping filter"),
        "{}",
        text(&o)
    );
}

#[test]
fn init_schema_languages_and_errors() {
    let tmp = tempfile::tempdir().unwrap();
    for kind in ["echo", "chat"] {
        let o = wsgen(&["init", "--type", kind], tmp.path());
        assert!(o.status.success());
        // The starter spec is itself a valid spec.
        let path = tmp.path().join(format!("{kind}.yaml"));
        std::fs::write(&path, &o.stdout).unwrap();
        wsgen::pipeline::load_server(Some(&path), &Default::default()).unwrap();
    }
    let o = wsgen(&["schema"], tmp.path());
    let schema: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(schema["properties"]["port"]["maximum"], 65535);
    let o = wsgen(&["languages"], tmp.path());
    let t = text(&o);
    for l in ["node", "python", "go", "rust", "compression.threshold"] {
        assert!(t.contains(l), "{t}");
    }
    let o = wsgen(
        &["--spec", "missing.yaml", "-l", "go", "-o", "x"],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("missing.yaml: cannot read spec"));
    let o = wsgen(&["--spec", "x.yaml", "-l", "cobol", "-o", "x"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("unknown language `cobol`"));
}

/// `wsgen` with extra environment variables.
fn wsgen_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wsgen"))
        .args(args)
        .current_dir(cwd)
        .envs(env.iter().copied())
        .output()
        .expect("run wsgen")
}

fn generate_go(out: &Path, extra: &[&str]) -> Output {
    let spec = format!("{REPO}/specs/echo.yaml");
    let mut args = vec!["--spec", &spec, "-l", "go", "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    wsgen(&args, out.parent().unwrap())
}

/// A port nothing listens on (bound, then released).
fn unused_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---- The README's exit-code table, one test per row ----

#[test]
fn exit_0_success() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("p");
    let o = generate_go(&out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = generate_go(&out, &["--check"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for args in [
        &["schema"][..],
        &["languages"],
        &["init"],
        &["completions", "zsh"],
    ] {
        let o = wsgen(args, tmp.path());
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o));
    }
}

#[test]
fn exit_1_a_check_failed() {
    // Drift under --check.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("p");
    assert!(generate_go(&out, &[]).status.success());
    let o = generate_go(&out, &["--check", "--port", "9001"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    // A FAIL case: `wsgen test` against a server that is not a WebSocket
    // server (it answers the handshake with 404).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let o = wsgen(
        &["test", "--url", &format!("ws://127.0.0.1:{port}/")],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("FAIL"), "{}", text(&o));
}

#[test]
fn exit_2_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = format!("{REPO}/specs/echo.yaml");
    // Bad arguments.
    let o = wsgen(&["--spec", &spec, "-l", "go", "--bogus"], tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = wsgen(&["run", "--language", "go", "--port", "abc"], tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // A bad spec.
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(&bad, "port: \"abc\"\n").unwrap();
    let o = wsgen(
        &["--spec", bad.to_str().unwrap(), "-l", "go", "-o", "x"],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // A non-empty output folder that wsgen did not generate.
    let out = tmp.path().join("taken");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("go.mod"), "module mine\n").unwrap();
    let o = generate_go(&out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("manifest"), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(out.join("go.mod")).unwrap(),
        "module mine\n"
    );
    // A generated file edited since.
    let out = tmp.path().join("p");
    assert!(generate_go(&out, &[]).status.success());
    std::fs::write(out.join("main.go"), "// mine\n").unwrap();
    let o = generate_go(&out, &["--port", "9001"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn exit_3_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = format!("{REPO}/specs/echo.yaml");
    let cache = tmp.path().join("cache");
    let cache = cache.to_str().unwrap();
    let empty = tmp.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();

    // A missing toolchain: nothing on PATH.
    let port = unused_port().to_string();
    let o = wsgen_env(
        &["run", "--spec", &spec, "--language", "go", "--port", &port],
        tmp.path(),
        &[
            ("PATH", empty.to_str().unwrap()),
            ("WSGEN_CACHE_DIR", cache),
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("needs `go`"), "{}", text(&o));

    // A port in use: refused before building, with a hint to use --port.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let o = wsgen_env(
        &["run", "--spec", &spec, "--language", "go", "--port", &port],
        tmp.path(),
        &[("WSGEN_CACHE_DIR", cache)],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("port {port} is already in use")) && text(&o).contains("--port"),
        "{}",
        text(&o)
    );
    drop(taken);

    // An unreachable URL.
    let url = format!("ws://127.0.0.1:{}/", unused_port());
    for cmd in ["test", "conformance"] {
        let o = wsgen(&[cmd, "--url", &url], tmp.path());
        assert_eq!(o.status.code(), Some(3), "{cmd}: {}", text(&o));
        assert!(text(&o).contains("cannot connect"), "{cmd}: {}", text(&o));
    }
    // A bad URL is bad input, not the environment.
    let o = wsgen(&["test", "--url", "http://x/"], tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

// ---- Regeneration never loses work ----

#[test]
fn regeneration_refuses_edited_files_and_force_lists_them() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("p");
    let o = generate_go(&out, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join(".wsgen/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["language"], "go");
    assert_eq!(manifest["hash"], "sha256");
    assert_eq!(manifest["files"]["go.mod"].as_str().unwrap().len(), 64);

    // Untouched regeneration succeeds silently.
    let o = generate_go(&out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(o.stderr.is_empty(), "{}", text(&o));

    // An edited file is refused, listed, and kept.
    std::fs::write(out.join("main.go"), "// my changes\n").unwrap();
    std::fs::write(out.join("notes.txt"), "mine\n").unwrap();
    let o = generate_go(&out, &["--port", "9001"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("main.go") && t.contains("--force"), "{t}");
    assert!(!t.contains("go.mod"), "only the edited file is listed: {t}");
    assert_eq!(
        std::fs::read_to_string(out.join("main.go")).unwrap(),
        "// my changes\n"
    );

    // --force overwrites it and says so; the user's own file stays.
    let o = generate_go(&out, &["--port", "9001", "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = String::from_utf8_lossy(&o.stderr);
    assert!(t.contains("overwrote") && t.contains("main.go"), "{t}");
    assert_ne!(
        std::fs::read_to_string(out.join("main.go")).unwrap(),
        "// my changes\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine\n"
    );
}

#[test]
fn check_separates_user_edits_from_generator_drift() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("p");
    assert!(generate_go(&out, &[]).status.success());
    std::fs::write(out.join("go.mod"), "module edited\n").unwrap();
    std::fs::write(out.join("mine.txt"), "user file\n").unwrap();
    // Another port: the generator now writes some files differently.
    let o = generate_go(&out, &["--check", "--port", "9001", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let check = &doc["results"][0];
    assert_eq!(check["edited"], serde_json::json!(["go.mod"]), "{check}");
    let drift = check["drift"].as_array().unwrap();
    assert!(!drift.is_empty(), "{check}");
    assert!(!drift.contains(&"go.mod".into()), "{check}");
    assert_eq!(check["extra"], serde_json::json!(["mine.txt"]), "{check}");
    let o = generate_go(&out, &["--check", "--port", "9001"]);
    let t = text(&o);
    assert!(
        t.contains("edited   go.mod") && t.contains("drift    "),
        "{t}"
    );
}

// ---- Papercuts ----

#[test]
fn bare_wsgen_shows_help() {
    let tmp = tempfile::tempdir().unwrap();
    let o = wsgen(&[], tmp.path());
    let t = text(&o);
    assert!(t.contains("Usage:") && t.contains("Commands:"), "{t}");
    assert!(!t.contains("--language is required"), "{t}");
}

#[test]
fn a_closed_pipe_ends_output_quietly() {
    use std::process::Stdio;
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        &["schema"][..],
        &["completions", "bash"],
        &["init"],
        &["languages"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wsgen"))
            .args(args)
            .current_dir(tmp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader goes away at once, like `| head -0`
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o));
        assert!(!text(&o).contains("panicked"), "{args:?}: {}", text(&o));
    }
}

#[test]
fn completions_for_each_shell() {
    let tmp = tempfile::tempdir().unwrap();
    let o = wsgen(&["completions", "bash"], tmp.path());
    assert!(o.status.success(), "{}", text(&o));
    let script = String::from_utf8_lossy(&o.stdout);
    for sub in [
        "generate",
        "run",
        "verify",
        "conformance",
        "bench",
        "schema",
    ] {
        assert!(script.contains(sub), "bash completion lacks {sub}");
    }
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let o = wsgen(&["completions", shell], tmp.path());
        assert!(o.status.success() && !o.stdout.is_empty(), "{shell}");
    }
    let o = wsgen(&["completions", "tcsh"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn language_typos_and_init_help() {
    let tmp = tempfile::tempdir().unwrap();
    let o = wsgen(&["-l", "golan", "-o", "x"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("did you mean `go`?"), "{}", text(&o));
    let o = wsgen(&["init", "--help"], tmp.path());
    assert!(
        text(&o).contains("Print a commented starter spec"),
        "{}",
        text(&o)
    );
}
