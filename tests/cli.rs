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

    // A second plain run refuses the non-empty folder and loses nothing.
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
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("--force"), "{}", text(&o));

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
        t.contains("changed  go.mod") && t.contains("extra    mine.txt"),
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

/// A misspelt field inside a condition would render as false; the engine's
/// contract check refuses it, naming the template, line and column.
#[test]
fn a_misspelt_template_field_fails_generation_with_its_location() {
    let tmp = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(format!("{REPO}/templates/go/README.md.tera")).unwrap();
    let (index, line) = original
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("server.chat.send_queue_limit"))
        .expect("the Go README reads send_queue_limit");
    let read = "{{ server.chat.send_queue_limit }}";
    let column = line.find(read).unwrap() + "{% if ".len() + 1;
    let planted = original.replacen(
        read,
        &format!("{{% if server.chat.send_queue_lmit %}}{read}{{% endif %}}"),
        1,
    );
    let tpl = tmp.path().join("tpl/go");
    std::fs::create_dir_all(&tpl).unwrap();
    std::fs::write(tpl.join("README.md.tera"), planted).unwrap();
    let o = wsgen(
        &[
            "--spec",
            &format!("{REPO}/specs/chat.yaml"),
            "-l",
            "go",
            "-o",
            tmp.path().join("o").to_str().unwrap(),
            "--templates",
            tmp.path().join("tpl").to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let expected = format!(
        "template go/README.md.tera:{}:{column}: unknown field server.chat.send_queue_lmit (server.chat has: history, history_limit, max_message_length, max_rooms_per_connection, presence, rooms, send_queue_limit)",
        index + 1
    );
    assert!(text(&o).contains(&expected), "{}", text(&o));
    assert!(!tmp.path().join("o").exists(), "nothing is written");

    // The same holds for a shared partial, through an alias.
    std::fs::remove_file(tpl.join("README.md.tera")).unwrap();
    let common = tmp.path().join("tpl/common");
    std::fs::create_dir_all(&common).unwrap();
    std::fs::write(
        common.join("chat-page.html.tera"),
        "{% set chat = server.chat %}\n{% if chat.presense %}x{% endif %}\n",
    )
    .unwrap();
    let o = wsgen(
        &[
            "--spec",
            &format!("{REPO}/specs/chat.yaml"),
            "-l",
            "node",
            "-o",
            tmp.path().join("o").to_str().unwrap(),
            "--templates",
            tmp.path().join("tpl").to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains(
            "template common/chat-page.html.tera:2:7: unknown field chat.presense (chat is server.chat;"
        ),
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
