//! The command line: generation, --check drift, --force, --templates,
//! --format json, settings as flags, init, schema, languages, exit codes.

#[path = "fixtures/conformance/servers.rs"]
mod servers;

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

/// The Go module path comes from the spec name, `goModule`, or `--module`.
#[test]
fn go_module_path_from_the_name_or_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("s.yaml");
    std::fs::write(&spec, "name: Team Chat\ntype: chat\n").unwrap();
    let go_mod = |dir: &Path| std::fs::read_to_string(dir.join("go.mod")).unwrap();
    // Generate the spec for Go into `out`, with `extra` flags.
    let generate = |out: &Path, extra: &[&str]| {
        let mut args = vec!["--spec", spec.to_str().unwrap(), "--language", "go"];
        args.extend(extra);
        args.extend(["--out", out.to_str().unwrap()]);
        wsgen(&args, tmp.path())
    };
    let a = tmp.path().join("a");
    let o = generate(&a, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        go_mod(&a).starts_with("module example.com/team-chat\n"),
        "{}",
        go_mod(&a)
    );
    let b = tmp.path().join("b");
    let o = generate(&b, &["--module", "github.com/acme/team-chat"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        go_mod(&b).starts_with("module github.com/acme/team-chat\n"),
        "{}",
        go_mod(&b)
    );
    // Not a module path: refused against the flag, nothing written.
    let c = tmp.path().join("c");
    let o = generate(&c, &["--module", "My Chat"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("\"My Chat\" is not a Go module path"),
        "{}",
        text(&o)
    );
    assert!(!c.exists());
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
        "template go/README.md.tera:{}:{column}: unknown field server.chat.send_queue_lmit (server.chat has: backplane, history, history_limit, max_message_length, max_rooms_per_connection, presence, rooms, send_queue_limit)",
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

// ---- The `websocket` skill's command lines (issue 16), verbatim where they
// ---- can be; durations shortened.

/// `generate-server --language nodejs --port 8080 --compression permessage-deflate`:
/// no --out, so the folder `./echo-node`; a second run finds it up to date,
/// and after an edit refuses to overwrite it (exit 2, naming `--force`).
#[test]
fn skill_generate_server_defaults_its_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "generate-server",
        "--language",
        "nodejs",
        "--port",
        "8080",
        "--compression",
        "permessage-deflate",
    ];
    let o = wsgen(&args, tmp.path());
    assert!(o.status.success(), "{}", text(&o));
    let dir = tmp.path().join("echo-node");
    assert!(dir.join("package.json").exists(), "{}", text(&o));
    let spec = std::fs::read_to_string(dir.join("src/spec.js")).unwrap();
    assert!(spec.contains("enabled: true"), "{spec}");
    let o = wsgen(&args, tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("up to date"), "{}", text(&o));
    std::fs::write(dir.join("src/spec.js"), format!("{spec}// mine\n")).unwrap();
    let o = wsgen(&args, tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--force"), "{}", text(&o));
}

/// `generate-server --type echo --output echo-server.js`: one file, node
/// inferred from the extension, its header names the install and run command.
#[test]
fn skill_generate_server_single_file() {
    let tmp = tempfile::tempdir().unwrap();
    let o = wsgen(
        &[
            "generate-server",
            "--type",
            "echo",
            "--output",
            "echo-server.js",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let js = std::fs::read_to_string(tmp.path().join("echo-server.js")).unwrap();
    assert!(
        js.contains("npm install ws@8.23.0 jose@6.2.19 prom-client@15.1.3 && node echo-server.js"),
        "{js}"
    );
    assert!(js.contains("require('ws')"), "{js}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    // Again: the file exists.
    let o = wsgen(
        &[
            "generate-server",
            "--type",
            "echo",
            "--output",
            "echo-server.js",
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    for (lang, file, command) in [
        (
            "python",
            "echo_server.py",
            "python3 -m venv .venv && .venv/bin/pip install websockets==16.1.1 PyJWT==2.15.1 cryptography==51.0.1 prometheus_client==0.26.0 && .venv/bin/python echo_server.py",
        ),
        (
            "go",
            "main.go",
            "go mod init echo && go get github.com/coder/websocket@v1.8.15 github.com/golang-jwt/jwt/v5@v5.3.1 github.com/prometheus/client_golang/prometheus@v1.23.2 github.com/prometheus/client_golang/prometheus/promhttp@v1.23.2 golang.org/x/time/rate@v0.12.0 && go run main.go",
        ),
    ] {
        let o = wsgen(
            &[
                "generate-server",
                "--type",
                "echo",
                "--language",
                lang,
                "--output",
                file,
            ],
            tmp.path(),
        );
        assert!(o.status.success(), "{}", text(&o));
        let body = std::fs::read_to_string(tmp.path().join(file)).unwrap();
        assert!(body.contains(command), "{lang}: {body}");
    }
}

/// A trailing `/` keeps a name with an extension a folder.
#[test]
fn a_trailing_slash_is_a_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let o = wsgen(
        &[
            "generate-server",
            "--type",
            "echo",
            "-l",
            "go",
            "--output",
            "srv.go/",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(tmp.path().join("srv.go/go.mod").exists(), "{}", text(&o));
}

/// What has no single-file form is refused with exit 2 and what to do instead.
#[test]
fn single_files_that_cannot_be_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, expect) in [
        (
            &["generate-server", "--type", "chat", "--output", "chat.js"][..],
            "help: pass a folder instead",
        ),
        (
            &[
                "generate-server",
                "--type",
                "echo",
                "--language",
                "rust",
                "--output",
                "main.rs",
            ][..],
            "Cargo project",
        ),
        (
            &[
                "generate-server",
                "--type",
                "echo",
                "--language",
                "go",
                "--output",
                "echo.js",
            ][..],
            "a .js file is node, but --language is go",
        ),
        (
            &[
                "generate-server",
                "--type",
                "echo",
                "--language",
                "all",
                "--output",
                "echo.js",
            ][..],
            "one language",
        ),
    ] {
        let o = wsgen(args, tmp.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(expect), "{args:?}: {}", text(&o));
    }
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

/// `generate-server --type chat --features "rooms,presence,history" --output chat-server/`.
#[test]
fn skill_generate_server_chat_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let o = wsgen(
        &[
            "generate-server",
            "--type",
            "chat",
            "--features",
            "rooms,presence,history",
            "--output",
            "chat-server/",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("no --language given; generating Node.js"),
        "{}",
        text(&o)
    );
    assert!(tmp.path().join("chat-server/package.json").exists());
    assert!(tmp.path().join("chat-server/src/chat/rooms.js").exists());
}

/// `generate-server --task task.json`, the skill's JSON task; `--format json`
/// names what was written.
#[test]
fn skill_task_file() {
    let tmp = tempfile::tempdir().unwrap();
    let task = tmp.path().join("task.json");
    std::fs::write(
        &task,
        r#"{"operation":"generate-server","config":{"language":"nodejs","port":8080,"subprotocols":["graphql-ws","wamp.2.json"],"compression":true,"maxPayload":104857600}}"#,
    )
    .unwrap();
    let o = wsgen(
        &[
            "generate-server",
            "--task",
            "task.json",
            "--output",
            "out",
            "--format",
            "json",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["results"][0]["language"], "node");
    assert_eq!(doc["results"][0]["out"], "out");
    assert!(
        doc["results"][0]["files"].as_array().unwrap().len() > 5,
        "{doc}"
    );
    assert_eq!(doc["settings"]["subprotocols"][1], "wamp.2.json");
    assert_eq!(doc["settings"]["compression"]["enabled"], true);
    assert!(tmp.path().join("out/package.json").exists());

    // As a single file.
    let o = wsgen(
        &[
            "generate-server",
            "--task",
            "task.json",
            "--output",
            "s.js",
            "--format",
            "json",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(doc["results"][0]["single_file"], true);
    assert_eq!(doc["results"][0]["files"][0], "s.js");

    // Unknown keys and bad values: located, exit 2.
    for (body, expect) in [
        (
            "{\"operation\": \"generate-server\",\n \"config\": {\"language\": \"nodejs\",\n  \"prot\": 8080}}",
            ("bad.json:3:3", "did you mean `port`?"),
        ),
        (
            "{\"operation\": \"generate-server\",\n \"config\": {\"port\": 70000}}",
            ("bad.json:2:21", "`port` must be between 1 and 65535"),
        ),
        (
            "{\"operation\": \"generate-server\",\n \"config\": {\"language\": \"cobol\"}}",
            ("bad.json:2:25", "unknown language `cobol`"),
        ),
        (
            "{\"operation\": \"deploy\", \"config\": {}}",
            ("bad.json:1:15", "unknown operation `deploy`"),
        ),
    ] {
        std::fs::write(tmp.path().join("bad.json"), body).unwrap();
        let o = wsgen(
            &["generate-server", "--task", "bad.json", "--output", "bad"],
            tmp.path(),
        );
        assert_eq!(o.status.code(), Some(2), "{body}: {}", text(&o));
        assert!(text(&o).contains(expect.0), "{body}: {}", text(&o));
        assert!(text(&o).contains(expect.1), "{body}: {}", text(&o));
    }
}

/// The aliases are shown in the help.
#[test]
fn aliases_are_listed_in_help() {
    let tmp = tempfile::tempdir().unwrap();
    let o = wsgen(&["--help"], tmp.path());
    let help = text(&o);
    for alias in ["generate-server", "autobahn-test", "benchmark"] {
        assert!(help.contains(alias), "{alias}: {help}");
    }
    let o = wsgen(&["generate-server", "--help"], tmp.path());
    assert!(text(&o).contains("--output"), "{}", text(&o));
}

/// `test --url ws://... --messages 100`, `autobahn-test --url ...` and
/// `benchmark --url ... --connections ... --messages-per-second 100 --duration 1s`
/// against an in-process echo server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skill_test_autobahn_and_benchmark_commands() {
    let server = servers::spawn(servers::Flaws::default()).await;
    let url = server.url.clone();
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path().to_path_buf();
    let run = move |args: Vec<String>| {
        let cwd = cwd.clone();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            wsgen(&args, &cwd)
        })
    };
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let o = run(s(&["test", "--url", &url, "--messages", "100"]))
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "test: {}", text(&o));
    let o = run(s(&["autobahn-test", "--url", &url, "--cases", "1.*"]))
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "autobahn-test: {}", text(&o));
    let o = run(s(&[
        "benchmark",
        "--url",
        &url,
        "--connections",
        "50",
        "--messages-per-second",
        "100",
        "--duration",
        "1s",
    ]))
    .await
    .unwrap();
    assert_eq!(o.status.code(), Some(0), "benchmark: {}", text(&o));
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
fn the_echo_handler_is_the_users_and_survives_regeneration() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("p");
    assert!(generate_go(&out, &[]).status.success());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join(".wsgen/manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["user_owned"],
        serde_json::json!(["echo.go"]),
        "{manifest}"
    );
    assert!(manifest["files"].get("echo.go").is_none(), "{manifest}");
    let handler = out.join("echo.go");
    let mine = std::fs::read_to_string(&handler).unwrap() + "\n// my handling\n";
    std::fs::write(&handler, &mine).unwrap();

    // Regeneration with a changed setting (and with --force) keeps it and
    // says so; the generated files are rewritten.
    for extra in [&[][..], &["--force"][..]] {
        let o = generate_go(&out, &[&["--port", "9001"], extra].concat());
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let t = String::from_utf8_lossy(&o.stderr);
        assert!(t.contains("kept") && t.contains("echo.go"), "{t}");
        assert_eq!(std::fs::read_to_string(&handler).unwrap(), mine);
    }
    // --check: clean, with the handler listed as the user's.
    let o = generate_go(&out, &["--check", "--port", "9001"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("yours    echo.go"), "{}", text(&o));
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

/// `wsgen test --mcp` against a generated Node.js mcp server whose child is
/// the minimal stdio MCP server fixture: the server's name, version and
/// tool count (two pages); the same child answering `initialize` with an
/// error, and an echo server, fail with exit 1 and say why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mcp_against_a_generated_server() {
    use wsgen::lang::Language;
    use wsgen::runner::{self, BuildOptions};
    if let Err(e) = runner::toolchain::check(Language::Node) {
        panic!("{e}");
    }
    let server = wsgen::pipeline::load_server(
        Some(&Path::new(REPO).join("specs/mcp.yaml")),
        &Default::default(),
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("mcp-node");
    wsgen::pipeline::generate_into(&server, Language::Node, &project).unwrap();
    let opts = BuildOptions {
        cargo_target_dir: Path::new(REPO).join("target/generated"),
        // The build cache of the other test binaries (tests/support).
        build_cache: Some(Path::new(REPO).join("target/wsgen-builds")),
        ..BuildOptions::default()
    };
    let launch = runner::prepare_project(&server, Language::Node, &project, &opts)
        .unwrap_or_else(|e| panic!("building the node mcp server: {e}"));
    let child = format!("{REPO}/tests/fixtures/scenario/mcp_server.py");
    let run = |args: &[&str]| {
        let cmd: Vec<String> = ["python3", child.as_str()]
            .iter()
            .chain(args)
            .map(|s| s.to_string())
            .collect();
        let (launch, cwd) = (launch.clone(), tmp.path().to_path_buf());
        tokio::task::spawn_blocking(move || {
            let env = [(
                "WS_MCP_COMMAND".to_string(),
                serde_json::to_string(&cmd).unwrap(),
            )];
            let mut proc =
                runner::boot(&launch, &env, &cwd, "mcp").expect("booting the node mcp server");
            let url = format!("ws://{}/", proc.addr());
            let o = wsgen(&["test", "--url", &url, "--mcp", "--timeout", "20"], &cwd);
            let _ = proc.stop(std::time::Duration::from_secs(15));
            (o, proc.logs())
        })
    };
    let (o, logs) = run(&[]).await.unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{logs}");
    assert!(out.contains("server: fixture-mcp 1.2.3"), "{out}");
    assert!(out.contains("protocol: 2025-06-18"), "{out}");
    assert!(out.contains("tools: 2"), "{out}");

    let (o, logs) = run(&["--error"]).await.unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{logs}");
    assert!(
        out.contains("answered initialize with an error: -32601 Method not found"),
        "{out}"
    );

    let echo = servers::spawn(servers::Flaws::default()).await;
    let url = echo.url.clone();
    let cwd3 = tmp.path().to_path_buf();
    let o = tokio::task::spawn_blocking(move || wsgen(&["test", "--url", &url, "--mcp"], &cwd3))
        .await
        .unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("did not select the subprotocol `mcp`") && out.contains("FAIL"),
        "{out}"
    );
}

/// `wsgen test --session` against a generated Node.js session server: the
/// job runner (examples/workers/jobs.py) streams its events and exits by
/// itself; the suites' worker echoes the default input and is ended after
/// --timeout without events; an echo server fails; bad --input is a usage error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_session_against_a_generated_server() {
    use wsgen::lang::Language;
    use wsgen::runner::{self, BuildOptions};
    let tmp = tempfile::tempdir().unwrap();
    let o = wsgen(
        &[
            "test",
            "--url",
            "ws://127.0.0.1:9/",
            "--session",
            "--input",
            "{nope",
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--input is not JSON"), "{}", text(&o));
    if let Err(e) = runner::toolchain::check(Language::Node) {
        panic!("{e}");
    }
    let server = wsgen::pipeline::load_server(
        Some(&Path::new(REPO).join("specs/session.yaml")),
        &Default::default(),
    )
    .unwrap();
    let project = tmp.path().join("session-node");
    wsgen::pipeline::generate_into(&server, Language::Node, &project).unwrap();
    let opts = BuildOptions {
        cargo_target_dir: Path::new(REPO).join("target/generated"),
        ..BuildOptions::default()
    };
    let launch = runner::prepare_project(&server, Language::Node, &project, &opts)
        .unwrap_or_else(|e| panic!("building the node session server: {e}"));
    let run = |worker: &str, args: Vec<String>| {
        let cmd = serde_json::json!(["python3", format!("{REPO}/{worker}")]).to_string();
        let (launch, cwd) = (launch.clone(), tmp.path().to_path_buf());
        tokio::task::spawn_blocking(move || {
            let env = [("WS_SESSION_COMMAND".to_string(), cmd)];
            let mut proc = runner::boot(&launch, &env, &cwd, "session")
                .expect("booting the node session server");
            let url = format!("ws://{}/", proc.addr());
            let mut all = vec!["test", "--url", &url, "--session"];
            all.extend(args.iter().map(String::as_str));
            let o = wsgen(&all, &cwd);
            let _ = proc.stop(std::time::Duration::from_secs(15));
            (o, proc.logs())
        })
    };
    let job = r#"{"job":"t","steps":2,"stepMs":50}"#.to_string();
    let (o, logs) = run("examples/workers/jobs.py", vec!["--input".into(), job])
        .await
        .unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{logs}");
    assert!(out.contains("session: "), "{out}");
    assert!(
        out.contains(r#"event 1: {"job":"t","state":"started","steps":2}"#),
        "{out}"
    );
    assert!(out.contains(r#""state":"done""#), "{out}");
    assert!(
        out.contains("exit 5: code 0") && out.contains("PASS"),
        "{out}"
    );
    assert!(!out.contains("token"), "the token is never printed: {out}");

    let worker = "generated-tests/session/worker.py";
    let (o, logs) = run(worker, vec!["--timeout".into(), "2".into()])
        .await
        .unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{logs}");
    assert!(out.contains(r#"event 1: {"echo":"hello"}"#), "{out}");
    assert!(
        out.contains("ending the session") && out.contains("exit 2: code 0"),
        "{out}"
    );

    let echo = servers::spawn(servers::Flaws::default()).await;
    let url = echo.url.clone();
    let cwd3 = tmp.path().to_path_buf();
    let o =
        tokio::task::spawn_blocking(move || wsgen(&["test", "--url", &url, "--session"], &cwd3))
            .await
            .unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL"), "{out}");
}

/// `--client`: the client library into a folder (default
/// `./<name>-client-<language>`), regenerated as up to date, `--check`
/// clean; an mcp spec and a single-file output are refused with exit 2.
#[test]
fn client_libraries_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = format!("{REPO}/specs/chat.yaml");
    let o = wsgen(
        &["--spec", &spec, "--language", "python", "--client"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let dir = tmp.path().join("chat-client-python");
    assert!(
        dir.join("pyproject.toml").exists() && dir.join("examples/tail.py").exists(),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("examples/tail.py"),
        "the next step: {}",
        text(&o)
    );
    let again = [
        "--spec",
        &spec,
        "--language",
        "python",
        "--client",
        "--out",
        dir.to_str().unwrap(),
    ];
    let o = wsgen(&again, tmp.path());
    assert!(text(&o).contains("is up to date"), "{}", text(&o));
    let check: Vec<&str> = again.iter().copied().chain(["--check"]).collect();
    let o = wsgen(&check, tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let mcp = format!("{REPO}/specs/mcp.yaml");
    let o = wsgen(
        &["--spec", &mcp, "--language", "go", "--client", "--out", "x"],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("no generated client for `type: mcp`"),
        "{}",
        text(&o)
    );

    let echo = format!("{REPO}/specs/echo.yaml");
    let o = wsgen(
        &["--spec", &echo, "--client", "--out", "echo-client.js"],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("--client writes a package folder"),
        "{}",
        text(&o)
    );
}
