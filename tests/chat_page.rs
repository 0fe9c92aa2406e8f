//! The chat page (templates/common/chat-page.html.tera, served at `GET /` by
//! every chat server) in headless Chromium, against the real generated
//! server of each language: visible validation messages, the draft kept
//! when the server refuses it, automatic re-join after a reconnect with a
//! visible connection state, several rooms with unread counts, "load older
//! messages" through history paging, the layout at 390 px, keyboard use and
//! labels. One server per spec and language, shared by every check
//! (tests/interop/chat_page.mjs runs them all in one browser and prints one
//! result per check). A missing Chromium, Node.js or toolchain fails.
//!
//! `WSGEN_PAGE_SCREENSHOTS=DIR` also writes the desktop and phone screenshots
//! shown in docs/chat.md (from the Go server of specs/chat.yaml).

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;
use std::time::Instant;
use support::browser::{chromium, interop_dir, npm_clients};
use wsgen::lang::Language;
use wsgen::runner::{self, ServerProcess};

/// Tokens the auth checks use (`WS_AUTH_TOKENS` of the secure-chat server).
const TOKENS: [(&str, &str); 2] = [("alice", "tok-alice-7f3a"), ("bob", "tok-bob-91c2")];

fn check_page(lang: Language) {
    check_specs(lang, &["specs/chat.yaml", "specs/chat-minimal.yaml"], false);
}

/// The base64 SHA-256 of a DER certificate's SubjectPublicKeyInfo: what
/// Chromium's `--ignore-certificate-errors-spki-list` trusts (the test's
/// own certificate, not any certificate).
fn spki_sha256(cert_der: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    /// The (tag, whole TLV, contents) of the DER element at the start of `b`.
    fn tlv(b: &[u8]) -> (u8, &[u8], &[u8]) {
        let (tag, first) = (b[0], b[1] as usize);
        let (len, head) = if first < 0x80 {
            (first, 2)
        } else {
            let n = first & 0x7f;
            let len = b[2..2 + n].iter().fold(0usize, |a, &x| a << 8 | x as usize);
            (len, 2 + n)
        };
        (tag, &b[..head + len], &b[head..head + len])
    }
    let (_, _, cert) = tlv(cert_der);
    let (_, _, mut tbs) = tlv(cert);
    // version [0] (optional), serial, signature, issuer, validity, subject, SPKI
    let mut skipped = 0;
    loop {
        let (tag, whole, _) = tlv(tbs);
        if tag != 0xa0 {
            skipped += 1;
        }
        if skipped == 6 {
            let digest = sha2::Sha256::digest(whole);
            return base64::engine::general_purpose::STANDARD.encode(digest);
        }
        tbs = &tbs[whole.len()..];
    }
}

fn check_specs(lang: Language, specs: &[&str], tls: bool) {
    npm_clients();
    let chromium = chromium();
    support::require_toolchain(lang);
    let logs = tempfile::tempdir().unwrap();
    for &spec in specs {
        let started = Instant::now();
        let server = support::load(spec);
        let chat = server.chat.as_ref().expect("a chat spec");
        let dir = support::generate(spec, lang);
        let launch = runner::prepare_project(&server, lang, dir.path(), &support::build_options())
            .unwrap_or_else(|e| panic!("{spec} {lang}: {e}"));
        let built = started.elapsed();
        // Dropped (and so stopped) on every path out of this block, panics included.
        let auth = serde_json::to_value(server.security.auth.kind).unwrap();
        let mut env: Vec<(String, String)> = if auth == "none" {
            vec![]
        } else {
            let pairs: Vec<String> = TOKENS.iter().map(|(u, t)| format!("{u}:{t}")).collect();
            vec![("WS_AUTH_TOKENS".into(), pairs.join(","))]
        };
        // Over TLS: a test CA and server certificate, the page at https://.
        let material = tls.then(|| {
            wsgen::scenario::material::Material::generate(&logs.path().join("tls"))
                .expect("test certificates")
        });
        if let Some(m) = &material {
            for (var, file) in [("WS_TLS_CERT", "cert.pem"), ("WS_TLS_KEY", "key.pem")] {
                env.push((var.into(), m.dir.join(file).display().to_string()));
            }
        }
        let mut proc = runner::boot(
            &launch,
            &env,
            logs.path(),
            &format!("{lang}-{}", server.slug),
        )
        .unwrap_or_else(|e| panic!("{spec} {lang}: {e}"));
        let port = proc.port;
        let scheme = if tls { "https" } else { "http" };
        let url = format!("{scheme}://127.0.0.1:{}/", proc.port);
        let config = serde_json::json!({
            "maxMessageLength": chat.max_message_length,
            "historyLimit": chat.history_limit,
            "rooms": chat.rooms,
            "presence": chat.presence,
            "history": chat.history,
            "auth": auth,
            "path": server.path,
            "rateLimit": server.security.rate_limit,
            "spki": material.as_ref().map(|m| spki_sha256(&m.first_der)),
            "tokens": TOKENS.iter().map(|(u, t)| (u.to_string(), serde_json::json!(t))).collect::<serde_json::Map<_, _>>(),
        });
        let script_log = logs
            .path()
            .join(format!("{lang}-{}-script.log", server.slug));
        let mut cmd = Command::new("node");
        cmd.args(["chat_page.mjs", &url, &config.to_string()])
            .current_dir(interop_dir())
            .env("CHROMIUM", &chromium)
            .env("RESTARTABLE", "1")
            .env_remove("SCREENSHOTS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // A file, not a pipe: nobody reads stderr while the checks run.
            .stderr(std::fs::File::create(&script_log).expect("script log"));
        if let Some(shots) = std::env::var_os("WSGEN_PAGE_SCREENSHOTS")
            && lang == Language::Go
            && spec == "specs/chat.yaml"
        {
            cmd.env("SCREENSHOTS", shots);
        }
        let mut child = cmd.spawn().expect("run node (Node.js >= 20)");
        let mut to_script = child.stdin.take().unwrap();
        let mut stdout = String::new();
        // The restart check asks for the server to go away and come back on
        // the same port: stop it, start it again, say so.
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.expect("read the script's output");
            if line == r#"{"restart":true}"# {
                let mut restarted = launch.clone();
                restarted.env.extend(env.iter().cloned());
                drop(proc);
                std::thread::sleep(Duration::from_millis(700));
                let log = logs
                    .path()
                    .join(format!("{lang}-{}-restarted.log", server.slug));
                proc = ServerProcess::start(&restarted, port, &log)
                    .unwrap_or_else(|e| panic!("{spec} {lang}: restart: {e}"));
                let answer = match proc.wait_ready(Duration::from_secs(20)) {
                    Ok(()) => "restarted".to_string(),
                    Err(e) => format!("failed: {}", e.replace('\n', " ")),
                };
                writeln!(to_script, "{answer}").expect("answer the script");
            } else {
                stdout.push_str(&line);
                stdout.push('\n');
            }
        }
        drop(to_script);
        let out = child.wait_with_output().expect("wait for node");
        let result: serde_json::Value = stdout
            .lines()
            .last()
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or_else(|| {
                panic!(
                    "{lang} {spec}: chat_page.mjs printed no result ({}):\n{stdout}\n{}\nserver log:\n{}",
                    out.status,
                    std::fs::read_to_string(&script_log).unwrap_or_default(),
                    proc.logs()
                )
            });
        let checks = result["checks"].as_array().cloned().unwrap_or_default();
        let failed: Vec<String> = checks
            .iter()
            .filter(|c| c["ok"] != true)
            .map(|c| format!("  FAILED {}: {}", c["name"], c["error"]))
            .collect();
        eprintln!(
            "{lang} {spec}: built in {:.1} s, {} page checks in {:.1} s",
            built.as_secs_f64(),
            checks.len(),
            (started.elapsed() - built).as_secs_f64()
        );
        for c in &checks {
            eprintln!(
                "  {} {} ({} ms)",
                if c["ok"] == true { "ok" } else { "FAILED" },
                c["name"],
                c["ms"]
            );
        }
        assert!(
            out.status.success() && result["ok"] == true && failed.is_empty() && checks.len() >= 4,
            "{lang} {spec}: the chat page failed in Chromium:\n{}\n{}\nserver log:\n{}",
            failed.join("\n"),
            std::fs::read_to_string(&script_log).unwrap_or_default(),
            proc.logs()
        );
        drop(proc);
    }
}

#[test]
fn node_chat_page() {
    check_page(Language::Node);
}

#[test]
fn python_chat_page() {
    check_page(Language::Python);
}

#[test]
fn go_chat_page() {
    check_page(Language::Go);
}

#[test]
fn rust_chat_page() {
    check_page(Language::Rust);
}

// With token auth (specs/secure-chat.yaml), over TLS: the page loaded at
// https:// with the test's certificate (Chromium trusts exactly its key) and
// its WebSocket over wss; the token from the page's URL (then removed from
// the address bar) or from the token field, join without a name as the
// identity, `forbidden` for another name, a clear message and no retries
// when the token is missing or refused (issue 13 items 2 and 5).
/// The WebSocket at `/` (the page's own path) and at `/chat`.
const AUTH_SPECS: &[&str] = &[
    "specs/secure-chat.yaml",
    "tests/fixtures/chat-page-auth.yaml",
];

#[test]
fn node_chat_page_auth_over_tls() {
    check_specs(Language::Node, AUTH_SPECS, true);
}

#[test]
fn python_chat_page_auth_over_tls() {
    check_specs(Language::Python, AUTH_SPECS, true);
}

#[test]
fn go_chat_page_auth_over_tls() {
    check_specs(Language::Go, AUTH_SPECS, true);
}

#[test]
fn rust_chat_page_auth_over_tls() {
    check_specs(Language::Rust, AUTH_SPECS, true);
}
