//! A cluster of server instances on one Redis (`backplane: redis`,
//! docs/cluster.md), for the cluster suites and for spreading ordinary
//! suites' clients: instance `i` runs member `i % members` (one language, or
//! a mix), all with the same `WS_REDIS_URL`, a `WS_REDIS_PREFIX` of their
//! own cluster and a short `WS_BACKPLANE_HEARTBEAT`. Steps kill and start
//! instances (same port), restart them all, and stop and start Redis.
//! Every process is stopped when the cluster is dropped.

use crate::runner::redis::RedisServer;
use crate::runner::{Launch, START_TIMEOUT, ServerProcess, free_port};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The heartbeat verify gives cluster instances (ms): a kill -9 is reaped
/// within 4 heartbeats, under a second.
pub const TEST_HEARTBEAT_MS: u64 = 200;

/// How long SIGTERM may take on a cluster instance.
const STOP_LIMIT: Duration = Duration::from_secs(15);

/// One kind of instance: a prepared project (a language's build).
#[derive(Debug, Clone)]
pub struct Member {
    /// The language (for logs and reports).
    pub label: String,
    pub launch: Launch,
}

/// A Redis shared by the clusters of one run.
pub type SharedRedis = Arc<Mutex<RedisServer>>;

struct Instance {
    label: String,
    /// The member's launch with the instance's whole environment.
    launch: Launch,
    port: u16,
    proc: Option<ServerProcess>,
    /// Log files of every start, oldest first.
    logs: Vec<PathBuf>,
}

/// A running cluster.
pub struct Cluster {
    instances: Mutex<Vec<Instance>>,
    redis: SharedRedis,
    /// `WS_REDIS_PREFIX` of the instances (unless an instance sets its own).
    pub prefix: String,
    pub heartbeat_ms: u64,
    redis_url: String,
    log_dir: PathBuf,
    name: String,
}

impl Cluster {
    /// Boot `n` instances (instance `i` runs `members[i % len]`) with
    /// `env` (placeholders expanded, `${cluster.prefix}` included) and, per
    /// instance, `instance_env` on top; waits until each answers `/healthz`.
    pub fn boot(
        prefix: String,
        members: &[Member],
        n: usize,
        env: &[(String, String)],
        instance_env: &[(usize, Vec<(String, String)>)],
        redis: SharedRedis,
        log_dir: &std::path::Path,
        name: &str,
    ) -> Result<Cluster, String> {
        if members.is_empty() || n == 0 {
            return Err("a cluster needs at least one member and one instance".into());
        }
        let redis_url = lock(&redis).url();
        let heartbeat_ms = env
            .iter()
            .find(|(k, _)| k == "WS_BACKPLANE_HEARTBEAT")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(TEST_HEARTBEAT_MS);
        let mut cluster = Cluster {
            instances: Mutex::new(Vec::new()),
            redis,
            prefix,
            heartbeat_ms,
            redis_url,
            log_dir: log_dir.to_path_buf(),
            name: name.to_string(),
        };
        let mut instances = Vec::new();
        for i in 0..n {
            let member = &members[i % members.len()];
            let mut all = vec![
                ("WS_REDIS_URL".to_string(), cluster.redis_url.clone()),
                ("WS_REDIS_PREFIX".to_string(), cluster.prefix.clone()),
                (
                    "WS_BACKPLANE_HEARTBEAT".to_string(),
                    TEST_HEARTBEAT_MS.to_string(),
                ),
            ];
            let own = instance_env
                .iter()
                .filter(|(k, _)| *k == i)
                .flat_map(|(_, e)| e.iter());
            for (k, v) in env.iter().chain(own) {
                all.retain(|(e, _)| e != k);
                all.push((k.clone(), cluster.expand(v)));
            }
            let mut launch = member.launch.clone();
            launch.env.retain(|(k, _)| !all.iter().any(|(a, _)| a == k));
            launch.env.extend(all);
            instances.push(Instance {
                label: member.label.clone(),
                launch,
                port: 0,
                proc: None,
                logs: Vec::new(),
            });
        }
        // Start them all, then wait for each: start-up costs overlap.
        for (i, inst) in instances.iter_mut().enumerate() {
            inst.port = free_port().map_err(|e| format!("no free port: {e}"))?;
            cluster.spawn(i, inst)?;
        }
        for i in 0..n {
            let mut attempt = 0;
            loop {
                let inst = &mut instances[i];
                let r = inst.proc.as_mut().expect("spawned").wait_ready(START_TIMEOUT);
                match r {
                    Ok(()) => break,
                    Err(e) if attempt < 2 && e.contains("in use") => {
                        // The free port was taken meanwhile: another one.
                        attempt += 1;
                        inst.proc = None;
                        inst.port = free_port().map_err(|e| format!("no free port: {e}"))?;
                        cluster.spawn(i, inst)?;
                    }
                    Err(e) => {
                        *cluster.instances.get_mut().expect("not shared yet") = instances;
                        return Err(format!("instance {i} ({}): {e}", cluster.label_of(i)));
                    }
                }
            }
        }
        *cluster.instances.get_mut().expect("not shared yet") = instances;
        Ok(cluster)
    }

    /// A fresh `WS_REDIS_PREFIX` (clusters on one Redis never share keys).
    pub fn new_prefix() -> String {
        format!("wsgen-{:016x}", rand::random::<u64>())
    }

    /// `${cluster.prefix}` in an environment value.
    fn expand(&self, v: &str) -> String {
        v.replace("${cluster.prefix}", &self.prefix)
    }

    fn spawn(&self, i: usize, inst: &mut Instance) -> Result<(), String> {
        let log = self.log_dir.join(format!(
            "{}-i{i}-{}-{}.log",
            self.name,
            inst.label,
            inst.logs.len()
        ));
        inst.proc = Some(ServerProcess::start(&inst.launch, inst.port, &log)?);
        inst.logs.push(log);
        Ok(())
    }

    fn label_of(&self, i: usize) -> String {
        self.instances
            .try_lock()
            .ok()
            .and_then(|v| v.get(i).map(|x| x.label.clone()))
            .unwrap_or_default()
    }

    /// `${cluster.*}` values.
    pub fn values(&self) -> Vec<(String, String)> {
        vec![
            ("cluster.prefix".into(), self.prefix.clone()),
            ("cluster.heartbeat".into(), self.heartbeat_ms.to_string()),
            ("cluster.instances".into(), self.len().to_string()),
            ("cluster.redisUrl".into(), self.redis_url.clone()),
        ]
    }

    pub fn len(&self) -> usize {
        lock(&self.instances).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Instance `i`'s address (the same over restarts).
    pub fn addr(&self, i: usize) -> Result<SocketAddr, String> {
        let v = lock(&self.instances);
        let inst = v.get(i).ok_or_else(|| {
            format!(
                "instance {i} does not exist (this cluster has {})",
                v.len()
            )
        })?;
        Ok(SocketAddr::from(([127, 0, 0, 1], inst.port)))
    }

    /// Instance `i`'s process id while it runs.
    pub fn pid(&self, i: usize) -> Option<u32> {
        lock(&self.instances).get(i)?.proc.as_ref()?.pid()
    }

    /// Instance `i`'s current log file.
    pub fn log_path(&self, i: usize) -> Option<PathBuf> {
        lock(&self.instances).get(i)?.logs.last().cloned()
    }

    /// What instance `i` runs (its language).
    pub fn label(&self, i: usize) -> String {
        lock(&self.instances)
            .get(i)
            .map(|x| x.label.clone())
            .unwrap_or_default()
    }

    /// SIGKILL instance `i` (no shutdown path: its clients see TCP end, its
    /// memberships stay in Redis until another instance reaps them).
    pub fn kill(&self, i: usize) -> Result<(), String> {
        let mut v = lock(&self.instances);
        let inst = v.get_mut(i).ok_or(format!("no instance {i}"))?;
        let mut proc = inst
            .proc
            .take()
            .ok_or(format!("instance {i} is not running"))?;
        proc.signal(libc::SIGKILL);
        proc.wait();
        Ok(())
    }

    /// Start instance `i` again on its port and wait until it is ready.
    pub fn start(&self, i: usize) -> Result<(), String> {
        let mut v = lock(&self.instances);
        let inst = v.get_mut(i).ok_or(format!("no instance {i}"))?;
        if inst.proc.is_some() {
            return Err(format!("instance {i} is already running"));
        }
        self.spawn(i, inst)?;
        inst.proc
            .as_mut()
            .expect("spawned")
            .wait_ready(START_TIMEOUT)
            .map_err(|e| format!("instance {i} ({}) did not start again: {e}", inst.label))
    }

    /// SIGTERM every running instance, wait for them to exit (0), start
    /// every instance again.
    pub fn restart_all(&self) -> Result<(), String> {
        self.stop_all()?;
        let n = self.len();
        {
            let mut v = lock(&self.instances);
            for (i, inst) in v.iter_mut().enumerate() {
                self.spawn(i, inst)?;
            }
        }
        for i in 0..n {
            let mut v = lock(&self.instances);
            let inst = &mut v[i];
            inst.proc
                .as_mut()
                .expect("spawned")
                .wait_ready(START_TIMEOUT)
                .map_err(|e| format!("instance {i} ({}) did not start again: {e}", inst.label))?;
        }
        Ok(())
    }

    /// SIGTERM every running instance (all at once) and wait for each to
    /// exit; an exit other than 0 is an error.
    pub fn stop_all(&self) -> Result<(), String> {
        let mut v = lock(&self.instances);
        for inst in v.iter() {
            if let Some(p) = &inst.proc {
                p.signal(libc::SIGTERM);
            }
        }
        let mut errors = Vec::new();
        for (i, inst) in v.iter_mut().enumerate() {
            if let Some(mut p) = inst.proc.take() {
                match p.stop(STOP_LIMIT) {
                    Ok(s) if s.success() => {}
                    Ok(s) => errors.push(format!("instance {i} ({}) exited with {s}", inst.label)),
                    Err(e) => errors.push(format!("instance {i} ({}): {e}", inst.label)),
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    /// Take instance `i`'s process out of the cluster (verify's shutdown
    /// check on it); the cluster no longer stops it.
    pub fn take(&self, i: usize) -> Option<ServerProcess> {
        lock(&self.instances).get_mut(i)?.proc.take()
    }

    /// Stop Redis (SIGTERM: it writes its append-only file out).
    pub fn stop_redis(&self) -> Result<(), String> {
        lock(&self.redis).stop()
    }

    /// Start Redis again on its port with its data.
    pub fn start_redis(&self) -> Result<(), String> {
        let mut r = lock(&self.redis);
        if r.running() {
            return Err("Redis is already running".into());
        }
        r.restart()
    }

    /// Every instance's log, each under a heading naming it.
    pub fn logs(&self) -> String {
        let v = lock(&self.instances);
        let mut out = String::new();
        for (i, inst) in v.iter().enumerate() {
            for (n, p) in inst.logs.iter().enumerate() {
                let text = std::fs::read_to_string(p).unwrap_or_default();
                out.push_str(&format!(
                    "--- instance {i} ({}, port {}{}) ---\n{text}",
                    inst.label,
                    inst.port,
                    if n > 0 {
                        format!(", start {}", n + 1)
                    } else {
                        String::new()
                    }
                ));
                if !text.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
        out
    }
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("name", &self.name)
            .field("prefix", &self.prefix)
            .field("instances", &self.len())
            .finish()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Redis must be up for a clean shutdown (each instance leaves its
        // rooms, then retires); a scenario that failed with Redis stopped
        // leaves it stopped.
        {
            let mut r = lock(&self.redis);
            if !r.running() {
                let _ = r.restart();
            }
        }
        let _ = self.stop_all();
    }
}

/// A poisoned lock (a panic elsewhere) still gives the data: the processes
/// must be stopped anyway.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
