//! A private `redis-server` for chat clusters (`backplane: redis`): started
//! on a free port of 127.0.0.1 with its own temporary folder and an
//! append-only file (so a restart keeps ids and history), stopped with
//! SIGTERM (Redis flushes its file) and always killed on drop, on panic and
//! on Ctrl-C. `wsgen run --instances`, `wsgen verify` and the tests use it.

use super::process::{forget_group, register_group};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What to run, and how to get it when it is missing.
pub const REDIS_SERVER: &str = "redis-server";
pub const REDIS_INSTALL: &str = "install it with `apt-get install redis-server` (Debian, Ubuntu) or `brew install redis` (macOS)";

/// How long Redis may take to answer PING after it is started.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running private Redis. Dropping it kills it and removes its folder.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
    /// The folder was made here (removed on drop), not given by the caller.
    owned_dir: bool,
}

impl RedisServer {
    /// Starts `redis-server` on a free port with a new temporary folder.
    pub fn start() -> Result<RedisServer, String> {
        let dir = std::env::temp_dir().join(format!(
            "wsgen-redis-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let port = super::free_port().map_err(|e| format!("no free port for Redis: {e}"))?;
        let mut redis = RedisServer {
            child: None,
            port,
            dir,
            owned_dir: true,
        };
        redis.spawn()?;
        Ok(redis)
    }

    /// `redis://127.0.0.1:<port>/0`, for `WS_REDIS_URL`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The folder holding its append-only file and log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether it is running (started and not stopped).
    pub fn running(&self) -> bool {
        self.child.is_some()
    }

    /// Stops it with SIGTERM (it writes its append-only file out) and waits
    /// for the exit; SIGKILL after 10 s.
    pub fn stop(&mut self) -> Result<(), String> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let pid = child.id() as i32;
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let result = loop {
            if let Ok(Some(_)) = child.try_wait() {
                break Ok(());
            }
            if Instant::now() > deadline {
                break Err("redis-server did not exit within 10 s of SIGTERM".to_string());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = child.wait();
        forget_group(pid);
        result
    }

    /// Starts it again after `stop`, on the same port with the same folder
    /// (so the same data).
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop()?;
        self.spawn()
    }

    /// The server's log so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
    }

    fn spawn(&mut self) -> Result<(), String> {
        use std::os::unix::process::CommandExt;
        let dir = self.dir.to_string_lossy().into_owned();
        let child = Command::new(REDIS_SERVER)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--dir", &dir, "--logfile", "redis.log"])
            .args(["--save", "", "--appendonly", "yes", "--daemonize", "no"])
            .args(["--protected-mode", "yes"])
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    format!("`{REDIS_SERVER}` is not installed or not on PATH: {REDIS_INSTALL}")
                }
                _ => format!("cannot start {REDIS_SERVER}: {e}"),
            })?;
        register_group(child.id() as i32);
        self.child = Some(child);
        self.wait_ready()
    }

    /// Waits until PING answers PONG, or the process exits, or the timeout.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if ping(self.addr()) {
                return Ok(());
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                let mut stderr = String::new();
                if let Some(mut err) = self.child.take().and_then(|mut c| c.stderr.take()) {
                    let _ = err.read_to_string(&mut stderr);
                }
                return Err(format!(
                    "redis-server exited ({status}) before answering PING: {}{}",
                    stderr.trim(),
                    self.logs().trim()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "redis-server on port {} did not answer PING within {START_TIMEOUT:?}",
                    self.port
                ));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = child.id() as i32;
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
            let _ = child.wait();
            forget_group(pid);
        }
        if self.owned_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Whether a Redis at `addr` answers PING with PONG.
pub fn ping(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The private Redis starts, keeps its data over a restart (append-only
    /// file), and is gone after drop.
    #[test]
    fn starts_restarts_and_stops() {
        let mut redis = RedisServer::start().expect("redis-server (the tests need it)");
        let addr = redis.addr();
        let cmd = |c: &str| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(c.as_bytes()).unwrap();
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf).unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        };
        assert_eq!(cmd("SET k v\r\n"), "+OK\r\n");
        redis.restart().unwrap();
        assert_eq!(cmd("GET k\r\n"), "$1\r\nv\r\n");
        let dir = redis.dir().to_path_buf();
        drop(redis);
        assert!(!ping(addr));
        assert!(!dir.exists());
    }
}
