//! `wsgen run` for a chat spec with `backplane: redis`: N instances of one
//! build on consecutive ports, sharing one Redis (`WS_REDIS_URL`, else a
//! private `redis-server` started for the run in a temporary folder), their
//! logs prefixed with their port, and every one of them stopped (then the
//! private Redis, which they need to retire) on Ctrl-C or SIGTERM.

use super::exit;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wsgen::ir::Server;
use wsgen::runner::redis::{REDIS_INSTALL, REDIS_SERVER, RedisServer};
use wsgen::runner::{self, Launch};

/// How long instances may take to exit after SIGTERM before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// Where the instances find Redis, decided before the build.
pub enum RedisPlan {
    /// `WS_REDIS_URL` as the user set it (the instances read it themselves).
    Given(String),
    /// No `WS_REDIS_URL`: a private `redis-server` is started for the run.
    Private,
}

/// The error for `--instances` on a spec whose chat lives in one process.
pub fn needs_backplane(server: &Server) -> String {
    let what = match server.chat {
        Some(_) => "its chat keeps rooms and history in one process (`backplane: memory`)",
        None => "it is not a chat server",
    };
    format!(
        "error: --instances needs a chat spec with `backplane: redis`, and {} is not one: {what}, so \
         clients on different instances would never see each other. Add `backplane: redis` to the spec \
         (see specs/chat-redis.yaml and docs/cluster.md), or run one instance without --instances.",
        server.name.escape_debug()
    )
}

/// Decide where Redis comes from, failing clearly when there is none:
/// `WS_REDIS_URL` must answer on its host and port; without it
/// `redis-server` must be installed.
pub fn plan_redis() -> Result<RedisPlan, String> {
    if let Some(url) = std::env::var("WS_REDIS_URL").ok().filter(|u| !u.is_empty()) {
        let addr = redis_addr(&url).ok_or_else(|| {
            format!(
                "error: WS_REDIS_URL={} is not a redis:// or rediss:// URL with a host",
                redacted(&url)
            )
        })?;
        let reachable = addr
            .to_socket_addrs()
            .ok()
            .into_iter()
            .flatten()
            .any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok());
        if !reachable {
            return Err(format!(
                "error: nothing answers at {addr} (WS_REDIS_URL={}): start that Redis, or unset \
                 WS_REDIS_URL to let wsgen start a private redis-server for the run",
                redacted(&url)
            ));
        }
        return Ok(RedisPlan::Given(url));
    }
    if !on_path(REDIS_SERVER) {
        return Err(format!(
            "error: a `backplane: redis` cluster needs Redis: WS_REDIS_URL is not set and `{REDIS_SERVER}` \
             is not installed. Either {REDIS_INSTALL} (wsgen then starts a private one for the run), or \
             set WS_REDIS_URL=redis://HOST:PORT/0 to use a Redis you run."
        ));
    }
    Ok(RedisPlan::Private)
}

/// `host:port` of a redis:// or rediss:// URL (port 6379 by default).
fn redis_addr(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("redis://")
        .or_else(|| url.strip_prefix("rediss://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let hostport = authority.rsplit('@').next()?;
    if hostport.is_empty() {
        return None;
    }
    let has_port = match hostport.rfind(']') {
        Some(end) => hostport[end..].contains(':'),
        None => hostport.contains(':'),
    };
    Some(if has_port {
        hostport.to_string()
    } else {
        format!("{hostport}:6379")
    })
}

/// The URL with its password replaced by `***`, for output.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or("");
            let masked = if rest[..at].contains(':') {
                format!("{user}:***")
            } else {
                "***".to_string()
            };
            format!("{scheme}://{masked}{}", &rest[at..])
        }
        None => url.to_string(),
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            let p = dir.join(program);
            p.is_file()
                && std::fs::metadata(&p).is_ok_and(|m| {
                    std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
                })
        })
    })
}

/// The ports of `count` instances from `first`, or why not.
pub fn ports(first: u16, count: u16) -> Result<Vec<u16>, String> {
    let last = first as u32 + count as u32 - 1;
    if last > u16::MAX as u32 {
        return Err(format!(
            "error: {count} instances from port {first} would go past port 65535: pick a lower --port"
        ));
    }
    Ok((first..=last as u16).collect())
}

/// One running instance.
struct Instance {
    port: u16,
    child: Child,
    status: Option<std::process::ExitStatus>,
}

/// Boot the instances of a prepared build, announce them once every one
/// answers `/healthz` with 200, and wait until they are stopped. Returns the
/// exit code.
pub fn run(server: &Server, launch: &Launch, ports: &[u16], plan: RedisPlan) -> i32 {
    let stopping = Arc::new(AtomicBool::new(false));
    let pids = Arc::new(Mutex::new(Vec::new()));
    super::run::forward_signals(pids.clone(), stopping.clone());
    let (mut redis, url) = match plan {
        RedisPlan::Given(url) => (None, url),
        RedisPlan::Private => match RedisServer::start() {
            Ok(r) => {
                let url = r.url();
                eprintln!(
                    "wsgen: started a private redis-server for this run at {url} (temporary: its folder {} is deleted when the run stops)",
                    r.dir().display()
                );
                (Some(r), url)
            }
            Err(e) => {
                eprintln!("error: {e}; or set WS_REDIS_URL to use a Redis you run");
                return exit::ENVIRONMENT;
            }
        },
    };
    let mut instances = Vec::new();
    for &port in ports {
        if stopping.load(Ordering::Relaxed) {
            break;
        }
        match spawn(launch, port, &url) {
            Ok(child) => {
                pids.lock().unwrap().push(child.id() as i32);
                instances.push(Instance {
                    port,
                    child,
                    status: None,
                });
            }
            Err(e) => {
                eprintln!("error: {e}");
                stop_all(&mut instances);
                return exit::ENVIRONMENT;
            }
        }
    }
    let code = supervise(server, &mut instances, &url, redis.is_some(), &stopping);
    if let Some(r) = redis.as_mut()
        && let Err(e) = r.stop()
    {
        eprintln!("wsgen: {e}");
    }
    if redis.is_some() {
        eprintln!("wsgen: stopped the private redis-server");
    }
    code
}

/// Start one instance on `port` in its own process group (Ctrl-C reaches
/// it once, from wsgen), its output prefixed with `[PORT]`.
fn spawn(launch: &Launch, port: u16, redis_url: &str) -> Result<Child, String> {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new(&launch.program)
        .args(&launch.args)
        .current_dir(&launch.dir)
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .env("PORT", port.to_string())
        .env("WS_REDIS_URL", redis_url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", launch.program.display()))?;
    let out = child.stdout.take().expect("piped stdout");
    let err = child.stderr.take().expect("piped stderr");
    std::thread::spawn(move || prefix_lines(out, port, false));
    std::thread::spawn(move || prefix_lines(err, port, true));
    Ok(child)
}

fn prefix_lines(from: impl std::io::Read, port: u16, to_stderr: bool) {
    for line in BufReader::new(from).split(b'\n').map_while(Result::ok) {
        let mut text = format!("[{port}] ").into_bytes();
        text.extend_from_slice(&line);
        text.push(b'\n');
        let _ = if to_stderr {
            std::io::stderr().lock().write_all(&text)
        } else {
            std::io::stdout().lock().write_all(&text)
        };
    }
}

/// Wait for readiness, then for the end: a signal (forwarded to every
/// instance by `forward_signals`) or one instance exiting, which stops the
/// others. SIGKILL after `STOP_TIMEOUT`.
fn supervise(
    server: &Server,
    instances: &mut [Instance],
    redis_url: &str,
    private: bool,
    stopping: &AtomicBool,
) -> i32 {
    let started = Instant::now();
    let mut ready = vec![false; instances.len()];
    let mut announced = false;
    let mut warned = false;
    let mut stop_deadline: Option<Instant> = None;
    let mut first_failure: Option<(u16, std::process::ExitStatus)> = None;
    loop {
        for inst in instances.iter_mut().filter(|i| i.status.is_none()) {
            if let Ok(Some(status)) = inst.child.try_wait() {
                inst.status = Some(status);
                if !stopping.load(Ordering::Relaxed) && first_failure.is_none() {
                    first_failure = Some((inst.port, status));
                }
            }
        }
        if instances.iter().all(|i| i.status.is_some()) {
            break;
        }
        if let Some((port, status)) = first_failure
            && !stopping.swap(true, Ordering::Relaxed)
        {
            eprintln!("wsgen: the instance on port {port} exited ({status}): stopping the others");
            signal_all(instances, libc::SIGTERM);
        }
        if stopping.load(Ordering::Relaxed) {
            let deadline = *stop_deadline.get_or_insert_with(|| Instant::now() + STOP_TIMEOUT);
            if Instant::now() > deadline {
                eprintln!(
                    "wsgen: instances still running {} s after SIGTERM: killing them",
                    STOP_TIMEOUT.as_secs()
                );
                signal_all(instances, libc::SIGKILL);
            }
        } else if !announced {
            for (i, inst) in instances.iter().enumerate() {
                if !ready[i] {
                    let addr = SocketAddr::from(([127, 0, 0, 1], inst.port));
                    ready[i] = runner::http_get(addr, "/healthz", Duration::from_millis(500))
                        .is_ok_and(|r| r.status == 200);
                }
            }
            if ready.iter().all(|r| *r) {
                let ports: Vec<u16> = instances.iter().map(|i| i.port).collect();
                eprint!("{}", ready_lines(&ports, server, redis_url, private));
                announced = true;
            } else if !warned && started.elapsed() > runner::START_TIMEOUT {
                let waiting: Vec<String> = instances
                    .iter()
                    .zip(&ready)
                    .filter(|(_, r)| !**r)
                    .map(|(i, _)| i.port.to_string())
                    .collect();
                eprintln!(
                    "wsgen: no 200 from GET /healthz on port {} after {} s (503 means degraded: Redis at {} does not answer)",
                    waiting.join(", "),
                    runner::START_TIMEOUT.as_secs(),
                    redacted(redis_url)
                );
                warned = true;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    match first_failure {
        Some((port, status)) if !announced => {
            eprintln!(
                "error: the instance on port {port} exited during start-up ({status}); its log above says why \
                 (if the port is taken, pick another first port with --port)"
            );
            exit::ENVIRONMENT
        }
        Some((_, status)) => status.code().filter(|c| *c != 0).unwrap_or(exit::FAILED),
        None => instances
            .iter()
            .filter_map(|i| i.status.and_then(|s| s.code()))
            .find(|c| *c != 0)
            .unwrap_or(exit::OK),
    }
}

fn signal_all(instances: &[Instance], sig: i32) {
    for inst in instances.iter().filter(|i| i.status.is_none()) {
        unsafe {
            libc::kill(-(inst.child.id() as i32), sig);
        }
    }
}

/// Kill what was started before a failure to start the rest.
fn stop_all(instances: &mut [Instance]) {
    signal_all(instances, libc::SIGKILL);
    for inst in instances {
        let _ = inst.child.wait();
    }
}

/// Every instance's WebSocket URL and page, where Redis is, how to stop.
fn ready_lines(ports: &[u16], server: &Server, redis_url: &str, private: bool) -> String {
    let host = wsgen::contract::CONTRACT.connect_host;
    let mut s = String::new();
    for port in ports {
        s.push_str(&format!("ready: ws://{host}:{port}{}\n", server.path));
    }
    for port in ports {
        s.push_str(&format!("page:  http://{host}:{port}/\n"));
    }
    let prefix = std::env::var("WS_REDIS_PREFIX").unwrap_or_else(|_| server.name.clone());
    let whose = if private {
        "a private redis-server for this run: temporary, stopped and deleted with it"
    } else {
        "WS_REDIS_URL"
    };
    s.push_str(&format!(
        "redis: {} ({whose}), key prefix {prefix}\n",
        redacted(redis_url)
    ));
    if ports.len() > 1 {
        s.push_str(&format!(
            "try:   open two pages (http://{host}:{}/ and http://{host}:{}/), join one room: a message in one appears in the other\n",
            ports[0], ports[1]
        ));
    }
    s.push_str("stop:  Ctrl-C (stops every instance");
    s.push_str(if private {
        ", then the private Redis)\n"
    } else {
        ")\n"
    });
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> Server {
        wsgen::pipeline::server_from_str(
            "c.yaml",
            "name: team\ntype: chat\nbackplane: redis\npath: /chat\n",
        )
        .unwrap()
    }

    #[test]
    fn ready_lines_list_every_instance_and_its_page() {
        let t = ready_lines(&[9001, 9002], &cluster(), "redis://127.0.0.1:7000/0", true);
        assert!(
            t.starts_with("ready: ws://localhost:9001/chat\nready: ws://localhost:9002/chat\n"),
            "{t}"
        );
        assert!(
            t.contains("page:  http://localhost:9001/\npage:  http://localhost:9002/\n"),
            "{t}"
        );
        assert!(
            t.contains(
                "redis: redis://127.0.0.1:7000/0 (a private redis-server for this run: temporary"
            ),
            "{t}"
        );
        assert!(t.contains("then the private Redis"), "{t}");
        let t = ready_lines(&[9001], &cluster(), "redis://u:secret@h:1/0", false);
        assert!(
            t.contains("redis: redis://u:***@h:1/0 (WS_REDIS_URL)"),
            "{t}"
        );
        assert!(!t.contains("secret") && !t.contains("try:"), "{t}");
    }

    #[test]
    fn consecutive_ports_stay_in_range() {
        assert_eq!(ports(9001, 3).unwrap(), vec![9001, 9002, 9003]);
        assert_eq!(ports(65535, 1).unwrap(), vec![65535]);
        let e = ports(65534, 3).unwrap_err();
        assert!(e.contains("past port 65535") && e.contains("--port"), "{e}");
    }

    #[test]
    fn redis_urls_give_an_address_and_hide_passwords() {
        assert_eq!(
            redis_addr("redis://127.0.0.1:6380/0").unwrap(),
            "127.0.0.1:6380"
        );
        assert_eq!(
            redis_addr("rediss://u:p@cache.example:7000").unwrap(),
            "cache.example:7000"
        );
        assert_eq!(redis_addr("redis://localhost").unwrap(), "localhost:6379");
        assert_eq!(redis_addr("redis://[::1]/2").unwrap(), "[::1]:6379");
        assert_eq!(redis_addr("redis://[::1]:7/2").unwrap(), "[::1]:7");
        assert!(redis_addr("http://x/").is_none() && redis_addr("redis:///0").is_none());
        assert_eq!(redacted("redis://:pw@h:1/0"), "redis://:***@h:1/0");
        assert_eq!(redacted("rediss://user:pw@h/0"), "rediss://user:***@h/0");
        assert_eq!(redacted("redis://h:1/0"), "redis://h:1/0");
    }

    #[test]
    fn instances_without_a_backplane_say_what_to_add() {
        let memory = wsgen::pipeline::server_from_str("m.yaml", "type: chat\n").unwrap();
        let e = needs_backplane(&memory);
        assert!(
            e.contains("backplane: redis") && e.contains("backplane: memory"),
            "{e}"
        );
        let echo = wsgen::pipeline::server_from_str("e.yaml", "path: /\n").unwrap();
        assert!(needs_backplane(&echo).contains("not a chat server"));
    }
}
