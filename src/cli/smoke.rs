//! `wsgen test --url ws://... --messages N`: a quick echo smoke test;
//! `--mcp`: the MCP smoke test instead (`wsgen::scenario::mcp_smoke`).

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
    let mut c = match connect(&args.url, &opts).await {
        Ok(c) => c,
        Err(e) if e.is_unreachable() => {
            eprintln!("error: {e}; is the server running? (`wsgen run` starts one)");
            return exit::ENVIRONMENT;
        }
        Err(e @ WireError::Url(_)) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
        Err(e @ WireError::Tls(_)) => {
            eprintln!(
                "error: {e}\n  hint: --ca FILE trusts a private CA; --insecure skips the check"
            );
            return exit::ENVIRONMENT;
        }
        Err(e) => {
            // The server answered, but not with a WebSocket handshake.
            eprintln!("error: {e}");
            println!("FAIL: the opening handshake");
            return exit::FAILED;
        }
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
