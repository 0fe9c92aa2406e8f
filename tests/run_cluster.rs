//! `wsgen run --instances 2` on specs/chat-redis.yaml, as a user runs it: a
//! child process that builds once, starts a private redis-server (no
//! WS_REDIS_URL), boots two instances on consecutive ports and prints them;
//! a client on each port, a message crosses both ways; SIGTERM stops every
//! instance and the Redis (nothing left listening, no redis-server left).
//! Plus the CLI's refusals: `--instances` without `backplane: redis`, a
//! taken port of the range, no Redis at all. A missing redis-server or
//! toolchain fails.

mod support;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use wsgen::lang::Language;
use wsgen::runner::redis::RedisServer;
use wsgen::wire::conn::{self, ConnectOptions, Connection, Message};

/// How long the first build may take (later runs reuse the cache).
const BUILD_TIMEOUT: Duration = Duration::from_secs(900);

/// The language of the cluster under test: Python, whose build is the
/// shortest (no compiler; `WSGEN_RUN_LANGUAGE` picks another). The
/// languages' own backplanes are proven by tests/lang_*.rs and `wsgen
/// verify`; this test is about the command.
fn language() -> Language {
    std::env::var("WSGEN_RUN_LANGUAGE")
        .ok()
        .and_then(|l| Language::parse(&l))
        .unwrap_or(Language::Python)
}

/// `wsgen run`'s cache for these tests: kept in target/ so a rerun does not
/// rebuild.
fn cache_dir() -> PathBuf {
    support::repo().join("target").join("run-cluster-cache")
}

fn wsgen_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsgen"));
    cmd.args(args)
        .current_dir(support::repo())
        .env("WSGEN_CACHE_DIR", cache_dir())
        .env_remove("WS_REDIS_URL")
        .env_remove("WS_REDIS_PREFIX")
        .env_remove("PORT")
        .env_remove("HOST")
        .stdin(Stdio::null());
    cmd
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A first port whose next `n - 1` ports are free too.
fn free_range(n: u16) -> u16 {
    for _ in 0..50 {
        let first = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if first < 60000 && (0..n).all(|i| TcpListener::bind(("0.0.0.0", first + i)).is_ok()) {
            return first;
        }
    }
    panic!("no {n} consecutive free ports");
}

fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(300),
    )
    .is_ok()
}

/// redis-server processes (from /proc) whose command line names `port`.
fn redis_servers_on(port: u16) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains("redis-server") && cmdline.contains(&port.to_string()) {
            found.push(format!(
                "{}: {cmdline}",
                entry.file_name().to_string_lossy()
            ));
        }
    }
    found
}

/// Kills the `wsgen run` child on every path out of the test.
struct Run(Child);
impl Drop for Run {
    fn drop(&mut self) {
        unsafe {
            libc::kill(self.0.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn next_json(c: &mut Connection, what: &str) -> serde_json::Value {
    match c.recv_message_timeout(Duration::from_secs(10)).await {
        Ok(Message::Text(t)) => {
            serde_json::from_str(&t).unwrap_or_else(|e| panic!("{what}: {e}: {t}"))
        }
        other => panic!("{what}: expected a text frame, got {other:?}"),
    }
}

/// The next frame of `type` (presence events before it are skipped).
async fn next_of(c: &mut Connection, kind: &str, what: &str) -> serde_json::Value {
    loop {
        let v = next_json(c, what).await;
        if v["type"] == kind {
            return v;
        }
        assert_eq!(v["type"], "presence", "{what}: unexpected frame {v}");
    }
}

/// Starts `wsgen run` with `args` (and `env`) and reads its stderr up to
/// the `stop:` line (every instance answers /healthz with 200).
/// One at a time: two runs of one spec and language share a cached project,
/// which the runner does not lock while it installs and builds.
fn start_run(args: &[&str], env: &[(&str, &str)]) -> (Run, mpsc::Receiver<String>, Vec<String>) {
    static BUILDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    let mut child = wsgen_cmd(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wsgen run");
    let stderr = child.stderr.take().unwrap();
    let run = Run(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut out = Vec::new();
    loop {
        match rx.recv_timeout(BUILD_TIMEOUT.saturating_sub(started.elapsed())) {
            Ok(line) => {
                let done = line.starts_with("stop:");
                out.push(line);
                if done {
                    return (run, rx, out);
                }
            }
            Err(_) => panic!("no ready lines from wsgen run:\n{}", out.join("\n")),
        }
    }
}

/// `wsgen run` of specs/chat-redis.yaml in `lang` from port `first`, with
/// `extra` arguments: [`start_run`].
fn start_chat_redis(
    lang: Language,
    first: u16,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Run, mpsc::Receiver<String>, Vec<String>) {
    let port = first.to_string();
    let mut args = vec![
        "run",
        "--spec",
        "specs/chat-redis.yaml",
        "--language",
        lang.name(),
        "--port",
        &port,
    ];
    args.extend_from_slice(extra);
    start_run(&args, env)
}

/// The URLs of the `ready:` lines, in order.
fn ready_urls(out: &[String]) -> Vec<&str> {
    out.iter()
        .filter_map(|l| l.strip_prefix("ready: "))
        .collect()
}

/// SIGTERM (as Ctrl-C) to wsgen: its exit status and the rest of its output.
fn stop_run(mut run: Run, rx: mpsc::Receiver<String>) -> (std::process::ExitStatus, String) {
    unsafe {
        libc::kill(run.0.id() as i32, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = run.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "wsgen run still running 30 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    // Up to the end of its output (the reader ends at EOF).
    let rest: Vec<String> =
        std::iter::from_fn(|| rx.recv_timeout(Duration::from_secs(5)).ok()).collect();
    (status, rest.join("\n"))
}

#[test]
fn two_instances_one_chat_then_everything_stops() {
    support::require_tool("redis-server", "apt-get install redis-server");
    let lang = language();
    support::require_toolchain(lang);
    let first = free_range(2);
    let (run, rx, out) = start_chat_redis(lang, first, &["--instances", "2"], &[]);
    let all = out.join("\n");
    let host = wsgen::contract::CONTRACT.connect_host;
    let urls = ready_urls(&out);
    assert_eq!(
        urls,
        [
            format!("ws://{host}:{first}/"),
            format!("ws://{host}:{}/", first + 1)
        ],
        "{all}"
    );
    for port in [first, first + 1] {
        assert!(
            all.contains(&format!("page:  http://{host}:{port}/")),
            "{all}"
        );
    }
    let redis_line = out
        .iter()
        .find(|l| l.starts_with("redis: "))
        .unwrap_or_else(|| panic!("{all}"));
    assert!(
        redis_line.contains("private redis-server for this run: temporary"),
        "{all}"
    );
    assert!(redis_line.contains("key prefix chat-redis"), "{all}");
    let redis_port: u16 = redis_line
        .strip_prefix("redis: redis://127.0.0.1:")
        .and_then(|r| r.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no Redis port in {redis_line}"));
    assert!(wsgen::runner::redis::ping(SocketAddr::from((
        [127, 0, 0, 1],
        redis_port
    ))));

    // A client on each instance, one room: messages cross both ways with
    // the same id on both sides.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let opts = ConnectOptions::default();
        let url = |p: u16| format!("ws://127.0.0.1:{p}/");
        let mut a = conn::connect(&url(first), &opts)
            .await
            .expect("connect to instance 1");
        let mut b = conn::connect(&url(first + 1), &opts)
            .await
            .expect("connect to instance 2");
        let room = format!("r{:08x}", rand::random::<u32>());
        let join = |user: &str| {
            serde_json::json!({"type": "join", "room": room, "user": user}).to_string()
        };
        a.send_text(&join("alice")).await.unwrap();
        let joined = next_of(&mut a, "joined", "alice joins").await;
        assert_eq!(joined["members"], serde_json::json!(["alice"]), "{joined}");
        b.send_text(&join("bob")).await.unwrap();
        let joined = next_of(&mut b, "joined", "bob joins").await;
        assert_eq!(
            joined["members"],
            serde_json::json!(["alice", "bob"]),
            "{joined}"
        );
        let presence = next_json(&mut a, "alice sees bob join").await;
        assert_eq!(
            presence,
            serde_json::json!({"type": "presence", "room": room, "user": "bob", "event": "join"})
        );
        let mut pair = [a, b];
        for (from, user, text) in [(0, "alice", "hello from 1"), (1, "bob", "hello from 2")] {
            let [x, y] = &mut pair;
            let (from, to) = if from == 0 { (x, y) } else { (y, x) };
            let say = serde_json::json!({"type": "message", "room": room, "text": text});
            from.send_text(&say.to_string()).await.unwrap();
            let mine = next_of(from, "message", "the sender's copy").await;
            let theirs = next_of(to, "message", "the other instance's copy").await;
            assert_eq!(
                mine, theirs,
                "one message, the same frame on both instances"
            );
            assert_eq!(
                (mine["user"].as_str(), mine["text"].as_str()),
                (Some(user), Some(text))
            );
        }
    });

    // SIGTERM (as Ctrl-C): every instance and the private Redis stop.
    let (status, rest) = stop_run(run, rx);
    assert!(status.success(), "{status}\n{all}\n{rest}");
    assert!(rest.contains("stopped the private redis-server"), "{rest}");
    for port in [first, first + 1, redis_port] {
        assert!(
            !listening(port),
            "port {port} still listening after wsgen run stopped\n{rest}"
        );
    }
    assert_eq!(
        redis_servers_on(redis_port),
        Vec::<String>::new(),
        "redis-server left running"
    );
}

/// With WS_REDIS_URL the instances use that Redis (under WS_REDIS_PREFIX),
/// wsgen starts none, and stopping the run leaves it running. A `backplane:
/// redis` spec without --instances runs one instance this way.
#[test]
fn a_given_redis_is_used_and_left_running() {
    let lang = language();
    support::require_toolchain(lang);
    let redis = RedisServer::start().expect("a redis-server for the test");
    let prefix = format!("wsgen-{:08x}", rand::random::<u32>());
    let port = free_range(1);
    let (run, rx, out) = start_chat_redis(
        lang,
        port,
        &[],
        &[("WS_REDIS_URL", &redis.url()), ("WS_REDIS_PREFIX", &prefix)],
    );
    let all = out.join("\n");
    let host = wsgen::contract::CONTRACT.connect_host;
    let urls = ready_urls(&out);
    assert_eq!(urls, [format!("ws://{host}:{port}/")], "{all}");
    assert!(
        all.contains(&format!(
            "redis: {} (WS_REDIS_URL), key prefix {prefix}",
            redis.url()
        )),
        "{all}"
    );
    assert!(!all.contains("private redis-server"), "{all}");
    // The instance registered itself in that Redis, under that prefix.
    let instances = redis_command(redis.addr(), &format!("SCARD {prefix}:instances"));
    assert_eq!(instances, ":1\r\n", "{all}");
    let (status, rest) = stop_run(run, rx);
    assert!(status.success(), "{status}\n{all}\n{rest}");
    assert!(!listening(port), "{rest}");
    assert!(
        wsgen::runner::redis::ping(redis.addr()),
        "the given Redis was stopped\n{rest}"
    );
}

/// One command to a Redis, its raw RESP answer.
fn redis_command(addr: SocketAddr, command: &str) -> String {
    use std::io::{Read, Write};
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(format!("{command}\r\n").as_bytes()).unwrap();
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn instances_need_a_redis_backplane() {
    for spec in ["specs/chat.yaml", "specs/echo.yaml"] {
        let o = wsgen_cmd(&[
            "run",
            "--spec",
            spec,
            "--language",
            "node",
            "--instances",
            "2",
        ])
        .output()
        .unwrap();
        assert_eq!(o.status.code(), Some(2), "{spec}: {}", text(&o));
        assert!(
            text(&o).contains("--instances needs a chat spec with `backplane: redis`")
                && text(&o).contains("Add `backplane: redis` to the spec"),
            "{spec}: {}",
            text(&o)
        );
    }
}

#[test]
fn no_redis_anywhere_says_how_to_get_one() {
    // PATH without redis-server (the toolchain is never reached).
    let empty = tempfile::tempdir().unwrap();
    let o = wsgen_cmd(&[
        "run",
        "--spec",
        "specs/chat-redis.yaml",
        "--language",
        "node",
        "--instances",
        "2",
    ])
    .env("PATH", empty.path())
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("apt-get install redis-server") && text(&o).contains("set WS_REDIS_URL"),
        "{}",
        text(&o)
    );
    // A WS_REDIS_URL where nothing listens.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = wsgen_cmd(&[
        "run",
        "--spec",
        "specs/chat-redis.yaml",
        "--language",
        "node",
    ])
    .env("WS_REDIS_URL", format!("redis://:pw@127.0.0.1:{port}/0"))
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("nothing answers at 127.0.0.1:{port}"))
            && text(&o).contains("redis://:***@")
            && !text(&o).contains(":pw@"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_taken_port_of_the_range_is_named() {
    support::require_tool("redis-server", "apt-get install redis-server");
    let first = free_range(3);
    let taken = TcpListener::bind(("0.0.0.0", first + 2)).unwrap();
    let o = wsgen_cmd(&[
        "run",
        "--spec",
        "specs/chat-redis.yaml",
        "--language",
        "node",
        "--instances",
        "3",
        "--port",
        &first.to_string(),
    ])
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("port {} is already in use", first + 2)),
        "{}",
        text(&o)
    );
    drop(taken);
}
