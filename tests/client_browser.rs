//! The generated TypeScript client in a browser: its compiled ES modules
//! (`dist/src/*.js`, loaded by the page as they are, no bundler) in
//! Debian's headless Chromium, on the browser's own `WebSocket`, follow a
//! chat room through the fault proxy (src/clients/proxy.rs) that cuts the
//! connection every few hundred ms, while a producer (our own client,
//! straight to the server) sends N messages. The page reports what its
//! event stream delivered in the `tail` format, and that must be messages
//! 1..N exactly once, in order, with no gap, through at least 3 cuts.
//!
//! The page and the client's modules are served by this test on 127.0.0.1
//! (another port than the server's: the server is started with
//! `WS_ALLOWED_ORIGINS` naming the page's origin). The page posts its
//! result (and its errors) back to the same little server. A missing
//! Chromium, Node.js or Go toolchain fails the test.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use wsgen::clients::matrix::{self, Fixture, Matrix, Settings};
use wsgen::clients::proxy::FaultProxy;
use wsgen::clients::tail;
use wsgen::lang::Language;
use wsgen::runner;

/// Messages the producer sends.
const N: u64 = 1000;

/// The page: imports the client, follows the room, posts `tail`-format lines.
fn page(ws_url: &str) -> String {
    format!(
        r#"<!doctype html>
<html><head><meta charset="utf-8"><title>client in the browser</title></head>
<body><pre id="out"></pre>
<script type="module">
import {{ connect }} from "/client/index.js";
const lines = [];
const post = (path, body) => fetch(path, {{ method: "POST", body }});
const states = [];
try {{
  const client = await connect({url}, {{ user: {reader}, backoffInitialMs: 20, backoffMaxMs: 200 }});
  client.states.subscribe((s) => states.push(s));
  await client.join({room});
  for await (const e of client) {{
    if (e.type === "message" && e.room === {room}) {{
      lines.push(`${{e.id}} ${{e.user}} ${{JSON.stringify(e.text)}}`);
      if (e.id >= {n}) break;
    }} else if (e.type === "gap") {{
      lines.push(`gap ${{e.room}} ${{e.from}} ${{e.to}}`);
    }}
  }}
  client.close();
  await post("/states", states.join(" "));
  await post("/result", lines.join("\n") + "\n");
}} catch (err) {{
  lines.push(`error ${{err && err.code ? err.code : "internal"}} ${{String(err && err.message || err)}}`);
  await post("/states", states.join(" "));
  await post("/result", lines.join("\n") + "\n");
}}
</script></body></html>
"#,
        url = serde_json::to_string(ws_url).unwrap(),
        reader = serde_json::to_string(matrix::READER).unwrap(),
        room = serde_json::to_string(matrix::ROOM).unwrap(),
        n = N,
    )
}

/// What the page posted.
enum Posted {
    Result(String),
    States(String),
    /// A request for a file that is not there (a missing module shows here).
    Missing(String),
}

/// A tiny HTTP server: `/` the page, `/client/*` the client's compiled
/// modules, POST `/result` and `/states` reported on the channel.
fn serve(listener: TcpListener, page: String, modules: PathBuf, tx: mpsc::Sender<Posted>) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (page, modules, tx) = (page.clone(), modules.clone(), tx.clone());
            std::thread::spawn(move || {
                let _ = answer(stream, &page, &modules, &tx);
            });
        }
    });
}

fn answer(
    mut stream: TcpStream,
    page: &str,
    modules: &Path,
    tx: &mpsc::Sender<Posted>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        if h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut parts = request.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let reply = |stream: &mut TcpStream, status: &str, ty: &str, body: &[u8]| {
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {ty}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)
    };
    if method == "POST" {
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        let text = String::from_utf8_lossy(&body).into_owned();
        let _ = tx.send(match path {
            "/result" => Posted::Result(text),
            _ => Posted::States(text),
        });
        return reply(&mut stream, "204 No Content", "text/plain", b"");
    }
    if path == "/" {
        return reply(
            &mut stream,
            "200 OK",
            "text/html; charset=utf-8",
            page.as_bytes(),
        );
    }
    if let Some(rest) = path.strip_prefix("/client/")
        && !rest.contains("..")
        && let Ok(js) = std::fs::read(modules.join(rest))
    {
        return reply(&mut stream, "200 OK", "text/javascript; charset=utf-8", &js);
    }
    let _ = tx.send(Posted::Missing(path.to_string()));
    reply(&mut stream, "404 Not Found", "text/plain", b"not found")
}

/// Headless Chromium showing `url`, in its own process group with a
/// throwaway profile; killed (the group) on drop.
struct Browser {
    child: std::process::Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn open(url: &str) -> Browser {
        use std::os::unix::process::CommandExt;
        let chromium = support::browser::chromium();
        let profile = tempfile::tempdir().expect("a profile folder");
        let child = Command::new(&chromium)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                // A background tab must not be throttled: it is the only one.
                "--disable-background-timer-throttling",
                "--disable-renderer-backgrounding",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {chromium}: {e}"));
        Browser {
            child,
            _profile: profile,
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

#[test]
fn typescript_client_resumes_a_chat_in_chromium_through_cuts() {
    support::browser::chromium();
    support::require_toolchain(Language::Node);
    support::require_toolchain(Language::Go);
    let m = Matrix::new(Settings {
        build: support::build_options(),
        ..Settings::default()
    })
    .expect("a work folder");
    let client = m
        .client(Fixture::Chat, Language::Node)
        .unwrap_or_else(|e| panic!("{e}"));
    let modules = client.dir.join("dist").join("src");
    assert!(
        modules.join("index.js").is_file(),
        "the built TypeScript client has no {}",
        modules.join("index.js").display()
    );
    let server_launch = m
        .server(Fixture::Chat, Language::Go)
        .unwrap_or_else(|e| panic!("{e}"));

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let logs = tempfile::tempdir().unwrap();
    let server = runner::boot(
        &server_launch,
        &[("WS_ALLOWED_ORIGINS".to_string(), origin.clone())],
        logs.path(),
        "server",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let proxy = FaultProxy::start(server.addr()).unwrap();
    proxy.random_cuts(Some(m.settings.cut_ms));

    let (tx, rx) = mpsc::channel();
    serve(listener, page(&proxy.ws_url("/")), modules, tx);
    let started = Instant::now();
    let _browser = Browser::open(&format!("{origin}/"));
    let producer = matrix::spawn_producer(
        format!("ws://{}/", server.addr()),
        N,
        Duration::from_millis(2),
    );

    let deadline = started + Duration::from_secs(120);
    let (mut result, mut states, mut missing) = (None, String::new(), Vec::new());
    while result.is_none() && Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(Posted::Result(r)) => result = Some(r),
            Ok(Posted::States(s)) => states = s,
            Ok(Posted::Missing(p)) => missing.push(p),
            Err(_) => {}
        }
    }
    let produced = producer
        .join()
        .unwrap_or_else(|_| Err("the producer panicked".into()));
    let context = || {
        format!(
            "proxy: {}; states: {states}; 404s: {missing:?}\nserver log:\n{}",
            proxy.summary(),
            server.logs()
        )
    };
    let result = result.unwrap_or_else(|| {
        panic!(
            "the page posted no result within 120 s (producer: {produced:?})\n{}",
            context()
        )
    });
    produced.unwrap_or_else(|e| panic!("the producer: {e}\n{}", context()));
    if let Err(e) = tail::check_chat(&result, N, matrix::PRODUCER, matrix::message_text) {
        let lines: Vec<&str> = result.lines().collect();
        panic!(
            "the page's stream: {e}\nlast lines:\n{}\n{}",
            lines[lines.len().saturating_sub(5)..].join("\n"),
            context()
        );
    }
    let cuts = proxy.cuts();
    assert!(
        cuts >= m.settings.min_cuts,
        "only {cuts} cut(s): the run proved nothing\n{}",
        context()
    );
    eprintln!(
        "Chromium: {N} messages once each, in order, through {cuts} cuts ({} connections) in {:.1} s; states: {states}",
        proxy.accepted(),
        started.elapsed().as_secs_f64()
    );
}
