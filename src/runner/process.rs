//! A generated server running as a child process: started in its own process
//! group, logs captured to a file, readiness via `GET /healthz`, graceful stop
//! with SIGTERM, and always killed on drop, on panic and on Ctrl-C.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Process groups of every server started by this process, for Ctrl-C cleanup.
static LIVE: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Kill every server this process started (used by the Ctrl-C handler).
pub fn kill_all() {
    if let Ok(live) = LIVE.lock() {
        for pgid in live.iter() {
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
}

/// Records a process group for the Ctrl-C cleanup (`kill_all`).
pub(crate) fn register_group(pgid: i32) {
    if let Ok(mut live) = LIVE.lock() {
        live.push(pgid);
    }
}

/// Forgets a process group that has ended.
pub(crate) fn forget_group(pgid: i32) {
    if let Ok(mut live) = LIVE.lock() {
        live.retain(|p| *p != pgid);
    }
}

/// Install a SIGINT/SIGTERM handler that kills our servers, then exits 130.
pub fn kill_on_interrupt() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    use tokio::signal::unix::{SignalKind, signal};
                    let (Ok(mut int), Ok(mut term)) = (
                        signal(SignalKind::interrupt()),
                        signal(SignalKind::terminate()),
                    ) else {
                        return;
                    };
                    tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
                    kill_all();
                    eprintln!("\ninterrupted: stopped all servers");
                    std::process::exit(130);
                });
            }
        });
    });
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// How to start a server.
#[derive(Debug, Clone)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
}

/// A running server. Dropping it kills the whole process group.
pub struct ServerProcess {
    child: Option<Child>,
    pub port: u16,
    pub log_path: PathBuf,
    pgid: i32,
    /// Started with `WS_TLS_CERT`: it speaks only HTTPS/wss, so readiness
    /// is checked over TLS (any certificate: scenarios check trust).
    pub tls: bool,
}

impl ServerProcess {
    /// Start `launch` with `HOST=127.0.0.1`, `PORT=port`, logs to `log_path`.
    pub fn start(launch: &Launch, port: u16, log_path: &Path) -> Result<ServerProcess, String> {
        use std::os::unix::process::CommandExt;
        let log = std::fs::File::create(log_path)
            .map_err(|e| format!("creating {}: {e}", log_path.display()))?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&launch.program);
        cmd.args(&launch.args)
            .current_dir(&launch.dir)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .process_group(0);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", launch.program.display()))?;
        let pgid = child.id() as i32;
        LIVE.lock().map_err(|e| e.to_string())?.push(pgid);
        Ok(ServerProcess {
            child: Some(child),
            port,
            log_path: log_path.to_path_buf(),
            pgid,
            tls: launch
                .env
                .iter()
                .any(|(k, v)| k == "WS_TLS_CERT" && !v.is_empty()),
        })
    }

    /// The server's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The server's log so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Wait until `GET /healthz` answers 200, the process exits, or `timeout`.
    pub fn wait_ready(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait() {
                return Err(format!(
                    "the server exited during start-up ({status})\n{}",
                    self.logs()
                ));
            }
            let tls = self.tls.then(|| {
                crate::wire::tls::client_config(&crate::wire::Trust::Insecure)
                    .expect("a TLS client configuration")
            });
            match http_get_with(self.addr(), "/healthz", Duration::from_secs(2), tls, &[]) {
                Ok(r) if r.status == 200 => return Ok(()),
                // Something answered, but not in TLS: a server that ignores
                // WS_TLS_CERT will not start speaking it later.
                Err(e) if self.tls && e.kind() == std::io::ErrorKind::InvalidData => {
                    return Err(format!(
                        "started with WS_TLS_CERT, the server does not speak TLS on port {} ({e})\n{}",
                        self.port,
                        self.logs()
                    ));
                }
                _ => {}
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the server did not answer GET /healthz on port {} within {:?}\n{}",
                    self.port,
                    timeout,
                    self.logs()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The exit status, if the process has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.as_mut()?.try_wait().ok().flatten()
    }

    /// Send a signal to the server process (not the group: the server's own
    /// shutdown path is what we test).
    pub fn signal(&self, sig: i32) {
        if let Some(child) = &self.child {
            unsafe {
                libc::kill(child.id() as i32, sig);
            }
        }
    }

    /// SIGTERM, then wait up to `timeout` for exit (SIGKILL after that).
    pub fn stop(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait() {
                self.forget();
                return Ok(status);
            }
            if Instant::now() > deadline {
                self.kill();
                return Err(format!(
                    "the server did not exit within {timeout:?} of SIGTERM"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait for the process to exit by itself (after a forwarded signal).
    pub fn wait(&mut self) -> Option<ExitStatus> {
        let status = self.child.as_mut()?.wait().ok();
        self.forget();
        status
    }

    fn kill(&mut self) {
        unsafe {
            libc::kill(-self.pgid, libc::SIGKILL);
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
        self.forget();
    }

    fn forget(&mut self) {
        // The group may still hold helpers (npm, shells): end them too.
        unsafe {
            libc::kill(-self.pgid, libc::SIGKILL);
        }
        if let Ok(mut live) = LIVE.lock() {
            live.retain(|p| *p != self.pgid);
        }
        self.child = None;
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.kill();
        }
    }
}

/// An HTTP response: status, headers (as sent), body (de-chunked).
#[derive(Debug, Clone)]
pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpReply {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A minimal HTTP/1.1 GET with `Connection: close`.
pub fn http_get(addr: SocketAddr, path: &str, timeout: Duration) -> std::io::Result<HttpReply> {
    http_get_with(addr, path, timeout, None, &[])
}

/// [`http_get`] over TLS when `tls` is given (HTTPS), with extra headers.
pub fn http_get_with(
    addr: SocketAddr,
    path: &str,
    timeout: Duration,
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    headers: &[(String, String)],
) -> std::io::Result<HttpReply> {
    let s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut buf = Vec::new();
    match tls {
        None => {
            let mut s = s;
            s.write_all(req.as_bytes())?;
            s.read_to_end(&mut buf)?;
        }
        Some(config) => {
            let name = rustls::pki_types::ServerName::from(addr.ip());
            let conn =
                rustls::ClientConnection::new(config, name).map_err(std::io::Error::other)?;
            let mut s = rustls::StreamOwned::new(conn, s);
            s.write_all(req.as_bytes())?;
            s.flush()?;
            // A server may close without close_notify after its response.
            match s.read_to_end(&mut buf) {
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !buf.is_empty() => {}
                r => {
                    r?;
                }
            }
        }
    }
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| {
            let preview: String = text.chars().take(120).collect();
            std::io::Error::other(format!("not an HTTP response: {preview:?}"))
        })?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut reply = HttpReply {
        status,
        headers,
        body: String::new(),
    };
    reply.body = if reply
        .header("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok(reply)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}
