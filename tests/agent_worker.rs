//! The plumbing of examples/workers/agent/worker.mjs, with a STUB SDK
//! (tests/fixtures/agent/stub-agent-sdk.mjs, not a real agent: no
//! credentials here): a prompt line -> one stdout line per SDK message, then
//! `idle`; SIGINT -> the query's interrupt(); stdin EOF -> exit 0.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

#[test]
fn agent_worker_streams_messages_and_interrupts_through_the_sdk() {
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("skipped: node is not installed");
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let mut child = Command::new("node")
        .arg(format!("{root}/examples/workers/agent/worker.mjs"))
        .env(
            "AGENT_SDK_MODULE",
            format!("{root}/tests/fixtures/agent/stub-agent-sdk.mjs"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut next = || {
        let mut l = String::new();
        out.read_line(&mut l).unwrap();
        serde_json::from_str::<serde_json::Value>(&l).unwrap_or_else(|e| panic!("{l:?}: {e}"))
    };
    writeln!(stdin, r#"{{"prompt":"hello"}}"#).unwrap();
    assert_eq!(next()["subtype"], "init");
    assert_eq!(next()["text"], "hello (1/5)");
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let mut seen = Vec::new();
    loop {
        let m = next();
        seen.push(m.clone());
        if m["type"] == "worker" && m["state"] == "idle" {
            break;
        }
    }
    assert!(
        seen.iter().any(|m| m["subtype"] == "interrupted"),
        "the SDK's interrupt() ran: {seen:?}"
    );
    writeln!(stdin, "\"again\"").unwrap();
    let mut texts = Vec::new();
    loop {
        let m = next();
        if m["type"] == "assistant" {
            texts.push(m["text"].as_str().unwrap().to_string());
        }
        if m["type"] == "worker" && m["state"] == "idle" {
            break;
        }
    }
    assert_eq!(texts.len(), 5, "{texts:?}");
    drop(stdin);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}
