//! `wsgen test --url ws://... --messages N`: a quick echo smoke test;
//! `--mcp`: the MCP smoke test instead (`wsgen::scenario::mcp_smoke`);
//! `--session`: start a session on a session server, send one input, print
//! its events and its exit (docs/session.md).

use std::time::{Duration, Instant};

use clap::Args;
use hdrhistogram::Histogram;

use super::exit;
use wsgen::wire::{ConnectOptions, Message, WireError, connect};

#[derive(Debug, Args)]
pub struct SmokeArgs {
    /// Echo server to test: ws://HOST:PORT/PATH or wss://HOST:PORT/PATH.
    #[arg(long)]
    pub url: String,
    #[command(flatten)]
    pub client: super::client::ClientArgs,
    /// Messages to send (mixed text/binary, empty to 64 KiB, unicode).
    #[arg(long, default_value_t = 100)]
    pub messages: usize,
    /// Seconds to wait for each echo (with --mcp: for each answer).
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// Test an MCP server instead of an echo server: offer the subprotocol
    /// `mcp`, initialize (protocol 2025-06-18), list the tools, ping; print
    /// the server's name, version and tool count.
    #[arg(long, conflicts_with = "messages")]
    pub mcp: bool,
    /// Test a session server (`type: session`): start a session with one
    /// input, print every event and the worker's exit; exit 0 once the exit
    /// event arrived. When no event comes for --timeout seconds the session
    /// is ended (`end`), and its exit awaited (up to 60 s, or --timeout).
    #[arg(long, conflicts_with_all = ["messages", "mcp"])]
    pub session: bool,
    /// With --session: the input, as JSON (the `input` of `start`, the
    /// worker's first stdin line).
    #[arg(long, default_value = "\"hello\"", requires = "session")]
    pub input: String,
}

/// The i-th message of the mix: deterministic, covering empty, small,
/// unicode, frame-length boundaries and 64 KiB, text and binary.
pub fn message(i: usize) -> Message {
    const SIZES: [usize; 9] = [0, 1, 125, 126, 127, 1000, 65535, 65536, 4096];
    let n = SIZES[i % SIZES.len()];
    match (i / SIZES.len() + i) % 3 {
        0 => Message::Text("*".repeat(n)),
        1 => {
            let unit = "héllo wörld ✓ 😀 ";
            let mut s = String::new();
            while s.len() < n {
                s.push_str(unit);
            }
            let mut cut = n.min(s.len());
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
            Message::Text(s)
        }
        _ => Message::Binary((0..n).map(|j| (j * 31 + i) as u8).collect()),
    }
}

pub fn run(args: SmokeArgs) -> i32 {
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::ENVIRONMENT;
        }
    };
    rt.block_on(smoke(args))
}

async fn smoke(args: SmokeArgs) -> i32 {
    let side = match args.client.resolve(&args.url) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let opts = ConnectOptions {
        read_timeout: Duration::from_secs(args.timeout),
        extra_headers: side.headers,
        tls: side.tls,
        ..Default::default()
    };
    if args.mcp {
        return mcp(&args.url, &opts, Duration::from_secs(args.timeout)).await;
    }
    if args.session {
        let input: serde_json::Value = match serde_json::from_str(&args.input) {
            Ok(v) => v,
            Err(e) => {
                eprintln!(
                    "error: --input is not JSON: {e} (a string needs its quotes: '\"hello\"')"
                );
                return exit::USAGE;
            }
        };
        return session(&args.url, &opts, input, Duration::from_secs(args.timeout)).await;
    }
    let mut c = match open(&args.url, &opts).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds");
    let mut mismatches = 0usize;
    let start = Instant::now();
    for i in 0..args.messages {
        let m = message(i);
        let t = Instant::now();
        let sent = match &m {
            Message::Text(s) => c.send_text(s).await,
            Message::Binary(b) => c.send_binary(b).await,
        };
        let got = match sent {
            Ok(()) => c.recv_message().await,
            Err(e) => Err(e),
        };
        match got {
            Ok(echo) => {
                let _ = hist.record((t.elapsed().as_micros() as u64).max(1));
                if echo != m {
                    mismatches += 1;
                    eprintln!(
                        "message {}: sent {} of {} octets, got {} of {} octets",
                        i + 1,
                        kind(&m),
                        m.as_bytes().len(),
                        kind(&echo),
                        echo.as_bytes().len()
                    );
                }
            }
            Err(e) => {
                eprintln!("message {}: {e}", i + 1);
                if matches!(e, WireError::Closed { .. } | WireError::Protocol { .. }) {
                    eprintln!("the server ended the connection or broke the protocol");
                }
                println!("FAIL after {} of {} messages", i, args.messages);
                return exit::FAILED;
            }
        }
    }
    let close = c.close(Some(1000), "").await;
    let ms = |v: u64| v as f64 / 1000.0;
    println!(
        "{} messages in {:.2} s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        args.messages,
        start.elapsed().as_secs_f64(),
        ms(hist.value_at_quantile(0.5)),
        ms(hist.value_at_quantile(0.99)),
        ms(hist.max())
    );
    if let Err(e) = close {
        eprintln!("closing handshake: {e}");
    }
    if mismatches > 0 {
        println!("FAIL: {mismatches} echo mismatch(es)");
        exit::FAILED
    } else {
        println!("PASS: every echo matched");
        exit::OK
    }
}

fn kind(m: &Message) -> &'static str {
    if m.is_binary() { "binary" } else { "text" }
}

/// Opens the WebSocket; on failure says why (with a hint where one helps)
/// and gives the exit code.
async fn open(url: &str, opts: &ConnectOptions) -> Result<wsgen::wire::Connection, i32> {
    connect(url, opts).await.map_err(|e| match e {
        e if e.is_unreachable() => {
            eprintln!("error: {e}; is the server running? (`wsgen run` starts one)");
            exit::ENVIRONMENT
        }
        e @ WireError::Url(_) => {
            eprintln!("error: {e}");
            exit::USAGE
        }
        e @ WireError::Tls(_) => {
            eprintln!(
                "error: {e}\n  hint: --ca FILE trusts a private CA; --insecure skips the check"
            );
            exit::ENVIRONMENT
        }
        e => {
            // The server answered, but not with a WebSocket handshake.
            eprintln!("error: {e}");
            println!("FAIL: the opening handshake");
            exit::FAILED
        }
    })
}

/// `--session`: start, one input, the events, the exit. 0 once the exit
/// event arrived; 1 when the server is not a session server, refuses the
/// start or closes first; 3 when nothing listens; 2 for a bad URL.
async fn session(
    url: &str,
    opts: &ConnectOptions,
    input: serde_json::Value,
    timeout: Duration,
) -> i32 {
    use serde_json::{Value, json};
    let mut c = match open(url, opts).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let start = json!({"type": "start", "input": input}).to_string();
    if let Err(e) = c.send_text(&start).await {
        eprintln!("error: sending start: {e}");
        println!("FAIL: the server ended the connection");
        return exit::FAILED;
    }
    let mut ended = false;
    let mut started = false;
    let began = Instant::now();
    // After `end` the worker gets its grace periods (stdin closed, SIGTERM,
    // SIGKILL) and the server its drain: wait longer for the exit.
    let after_end = timeout.max(Duration::from_secs(60));
    loop {
        let wait = if ended { after_end } else { timeout };
        let msg = match c.recv_message_timeout(wait).await {
            Ok(m) => m,
            Err(WireError::Timeout(_)) if started && !ended => {
                println!("no event for {} s: ending the session", timeout.as_secs());
                ended = true;
                if let Err(e) = c.send_text(r#"{"type":"end"}"#).await {
                    eprintln!("error: sending end: {e}");
                    println!("FAIL: the server ended the connection");
                    return exit::FAILED;
                }
                continue;
            }
            Err(e) => {
                eprintln!("error: {e}");
                println!(
                    "FAIL: {}",
                    if started {
                        "no exit event"
                    } else {
                        "no answer to start: is this a session server?"
                    }
                );
                return exit::FAILED;
            }
        };
        let Message::Text(t) = msg else {
            println!("FAIL: a binary message; a session server sends JSON text");
            return exit::FAILED;
        };
        let v: Value = match serde_json::from_str(&t) {
            Ok(v) => v,
            Err(_) => {
                println!(
                    "FAIL: not JSON: {}",
                    t.chars().take(200).collect::<String>()
                );
                return exit::FAILED;
            }
        };
        let seq = v.get("seq").map(Value::to_string).unwrap_or_default();
        match v.get("type").and_then(Value::as_str) {
            Some("started") if !started => {
                started = true;
                let id = v.get("session").and_then(Value::as_str).unwrap_or("?");
                // The token is the key to the session: not printed.
                println!("session: {id}");
            }
            Some("event") => println!("event {seq}: {}", v.get("data").unwrap_or(&Value::Null)),
            Some("stderr") => println!(
                "stderr {seq}: {}",
                v.get("text").and_then(Value::as_str).unwrap_or("")
            ),
            Some("accepted") => {}
            Some("exit") => {
                let how = match (v.get("code"), v.get("signal")) {
                    (Some(c), _) => format!("code {c}"),
                    (_, Some(s)) => format!("signal {s}"),
                    _ => "?".into(),
                };
                println!("exit {seq}: {how}");
                let _ = c.close(Some(1000), "").await;
                println!(
                    "PASS: the session ran to its exit in {:.2} s",
                    began.elapsed().as_secs_f64()
                );
                return exit::OK;
            }
            Some("error") => {
                println!("FAIL: error {}", v);
                return exit::FAILED;
            }
            _ => {
                println!(
                    "FAIL: unexpected message {}",
                    t.chars().take(200).collect::<String>()
                );
                return exit::FAILED;
            }
        }
    }
}

/// `--mcp`: the MCP smoke test; exit 1 when the peer is not an MCP server
/// or answers an error, 3 when nothing listens, 2 for a bad URL.
async fn mcp(url: &str, opts: &ConnectOptions, timeout: Duration) -> i32 {
    use wsgen::scenario::mcp_smoke::{self, SmokeError};
    match mcp_smoke::run(url, opts, timeout).await {
        Ok(r) => {
            println!("server: {} {}", r.name, r.version);
            println!("protocol: {}", r.protocol_version);
            println!("tools: {}", r.tools);
            println!("PASS: initialize, tools/list and ping answered");
            exit::OK
        }
        Err(SmokeError::Connect(e)) if e.is_unreachable() => {
            eprintln!("error: {e}; is the server running? (`wsgen run` starts one)");
            exit::ENVIRONMENT
        }
        Err(SmokeError::Connect(e @ WireError::Url(_))) => {
            eprintln!("error: {e}");
            exit::USAGE
        }
        Err(SmokeError::Connect(e @ WireError::Tls(_))) => {
            eprintln!(
                "error: {e}\n  hint: --ca FILE trusts a private CA; --insecure skips the check"
            );
            exit::ENVIRONMENT
        }
        Err(SmokeError::Connect(e)) => {
            eprintln!("error: {e}");
            println!("FAIL: the opening handshake");
            exit::FAILED
        }
        Err(SmokeError::Peer(e)) => {
            eprintln!("error: {e}");
            println!("FAIL: not a working MCP server");
            exit::FAILED
        }
    }
}
