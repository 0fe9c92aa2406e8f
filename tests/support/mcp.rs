//! What the MCP bridge tests share: the official MCP TypeScript SDK client
//! (tests/interop/mcp, from its lockfile), the real MCP servers they bridge
//! (server-everything from npm and mcp-server-time from PyPI, installed once
//! per run under target/mcp-servers at the versions the specs name), the
//! client script run with a hold in the middle of its session, and the
//! server's process tree read from /proc. A missing tool fails the test.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const INSTALL_NODE: &str = "install Node.js >= 20 with npm (apt-get install nodejs npm)";
const INSTALL_PYTHON: &str =
    "install Python >= 3.10 with venv and pip (apt-get install python3-venv)";

/// tests/interop/mcp: the SDK client script and its `node_modules`.
pub fn clients_dir() -> PathBuf {
    super::repo().join("tests").join("interop").join("mcp")
}

/// Where the bridged servers are installed, once per checkout.
fn servers_dir() -> PathBuf {
    super::repo().join("target").join("mcp-servers")
}

/// Install the SDK client once (`@modelcontextprotocol/sdk`, `ws`), from the lockfile.
pub fn sdk_client() -> PathBuf {
    static DONE: OnceLock<PathBuf> = OnceLock::new();
    DONE.get_or_init(|| {
        super::require_tool("node", INSTALL_NODE);
        super::require_tool("npm", INSTALL_NODE);
        let dir = clients_dir();
        let sdk = dir.join("node_modules/@modelcontextprotocol/sdk/package.json");
        if !sdk.is_file() || !dir.join("node_modules/ws").is_dir() {
            super::run(
                &dir,
                "npm",
                &["ci", "--no-audit", "--no-fund", "--loglevel=error"],
                &[],
            );
        }
        dir
    })
    .clone()
}

/// The npm package and version specs/mcp.yaml runs through npx
/// (`@modelcontextprotocol/server-everything@VERSION`).
pub fn everything_package() -> String {
    let server = super::load("specs/mcp.yaml");
    let command = &server
        .mcp
        .as_ref()
        .expect("specs/mcp.yaml is type mcp")
        .command;
    command
        .iter()
        .find(|a| a.starts_with("@modelcontextprotocol/server-everything@"))
        .unwrap_or_else(|| panic!("specs/mcp.yaml: no pinned server-everything in {command:?}"))
        .clone()
}

/// server-everything installed once at the version of specs/mcp.yaml, for a
/// direct `WS_MCP_COMMAND` (`node <dist/index.js> stdio`) that skips npx's
/// start-up; returns the path of `dist/index.js`.
pub fn everything_entry() -> PathBuf {
    static DONE: OnceLock<PathBuf> = OnceLock::new();
    DONE.get_or_init(|| {
        let package = everything_package();
        let version = package.rsplit_once('@').expect("a pinned version").1;
        let dir = servers_dir().join(format!("server-everything-{version}"));
        let entry = dir.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
        if !entry.is_file() {
            std::fs::create_dir_all(&dir).expect("creating target/mcp-servers");
            std::fs::write(dir.join("package.json"), "{\"private\": true}\n")
                .expect("package.json");
            super::run(
                &dir,
                "npm",
                &[
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    &package,
                ],
                &[],
            );
        }
        assert!(entry.is_file(), "{package} has no {}", entry.display());
        entry
    })
    .clone()
}

/// The `mcp-server-time==VERSION` that specs/mcp-time.yaml tells its users to install.
pub fn time_requirement() -> String {
    let text = std::fs::read_to_string(super::repo().join("specs/mcp-time.yaml"))
        .expect("reading specs/mcp-time.yaml");
    let at = text
        .find("mcp-server-time==")
        .expect("specs/mcp-time.yaml names no mcp-server-time==VERSION");
    text[at..]
        .split_whitespace()
        .next()
        .expect("a requirement")
        .to_string()
}

/// mcp-server-time installed once into a venv under target/mcp-servers;
/// returns the venv's `bin` (to put first on the server's PATH). The venv is
/// built in its final place (its scripts name their interpreter by path, so
/// it cannot be moved); a `ready` mark is written last, and a folder without
/// it (a run that died half-way) is rebuilt.
pub fn time_bin() -> PathBuf {
    static DONE: OnceLock<PathBuf> = OnceLock::new();
    DONE.get_or_init(|| {
        super::require_tool("python3", INSTALL_PYTHON);
        let requirement = time_requirement();
        let venv = servers_dir().join(requirement.replace("==", "-"));
        let bin = venv.join("bin");
        if !venv.join("ready").is_file() {
            let _ = std::fs::remove_dir_all(&venv);
            std::fs::create_dir_all(servers_dir()).expect("creating target/mcp-servers");
            let venv_arg = venv.to_string_lossy().into_owned();
            super::run(&servers_dir(), "python3", &["-m", "venv", &venv_arg], &[]);
            let pip = bin.join("pip").to_string_lossy().into_owned();
            super::run(
                &servers_dir(),
                &pip,
                &[
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    &requirement,
                ],
                &[],
            );
        }
        assert!(
            bin.join("mcp-server-time").is_file(),
            "{requirement} installed no mcp-server-time in {}",
            bin.display()
        );
        std::fs::write(venv.join("ready"), &requirement).expect("marking the venv ready");
        bin
    })
    .clone()
}

/// PATH with `dir` first.
pub fn path_with(dir: &Path) -> String {
    let rest = std::env::var("PATH").unwrap_or_default();
    format!("{}:{rest}", dir.display())
}

/// One process as /proc shows it.
#[derive(Debug, Clone)]
pub struct Proc {
    pub pid: u32,
    pub ppid: u32,
    pub pgid: u32,
    pub state: char,
    pub cmdline: String,
}

/// Every process of the machine.
pub fn processes() -> Vec<Proc> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        panic!("/proc is not readable: the process checks need Linux");
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        // Gone between the listing and the read: not a process any more.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp ...`: comm may hold spaces and parentheses.
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        if fields.len() < 3 {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline"))
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .replace('\0', " ")
                    .trim()
                    .to_string()
            })
            .unwrap_or_default();
        let comm = &stat[stat.find('(').map_or(0, |i| i + 1)..close];
        out.push(Proc {
            pid,
            ppid: fields[1].parse().unwrap_or(0),
            pgid: fields[2].parse().unwrap_or(0),
            state: fields[0].chars().next().unwrap_or('?'),
            cmdline: if cmdline.is_empty() {
                format!("[{comm}]")
            } else {
                cmdline
            },
        });
    }
    out
}

/// The descendants of `root` (zombies included), and every process in one of
/// `groups` (a grandchild whose parent died is re-parented away from the
/// server but keeps its process group).
pub fn leftovers(root: u32, groups: &[u32]) -> Vec<Proc> {
    let all = processes();
    let mut children: HashMap<u32, Vec<&Proc>> = HashMap::new();
    for p in &all {
        children.entry(p.ppid).or_default().push(p);
    }
    let mut found: Vec<Proc> = Vec::new();
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        for c in children.get(&pid).into_iter().flatten() {
            found.push((*c).clone());
            stack.push(c.pid);
        }
    }
    for p in &all {
        if groups.contains(&p.pgid) && !found.iter().any(|f| f.pid == p.pid) {
            found.push(p.clone());
        }
    }
    found
}

/// The live members of process group `pgid`.
pub fn group(pgid: u32) -> Vec<Proc> {
    processes()
        .into_iter()
        .filter(|p| p.pgid == pgid && p.state != 'Z')
        .collect()
}

/// Wait until `root` has no descendants and `groups` no members; panic with
/// what is left (and `logs`) after `timeout`.
pub fn assert_none_left(
    root: u32,
    groups: &[u32],
    timeout: Duration,
    what: &str,
    logs: impl Fn() -> String,
) {
    let deadline = Instant::now() + timeout;
    loop {
        let left = leftovers(root, groups);
        if left.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            let list: Vec<String> = left
                .iter()
                .map(|p| {
                    format!(
                        "  pid {} ppid {} pgid {} {} {}",
                        p.pid, p.ppid, p.pgid, p.state, p.cmdline
                    )
                })
                .collect();
            panic!(
                "{what}: {} process(es) of server {root} / groups {groups:?} left after {timeout:?}:\n{}\nserver log:\n{}",
                left.len(),
                list.join("\n"),
                logs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The child pids of the `conn N open ... session pid=P` log lines, in order.
pub fn session_pids(logs: &str) -> Vec<u32> {
    logs.lines()
        .filter_map(|l| l.split(" session pid=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

/// `tests/interop/mcp/client.mjs MODE URL --hold` while it runs: it does its
/// work, then holds its sessions open until [`SdkClient::finish`].
pub struct SdkClient {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    seen: String,
    label: String,
}

impl SdkClient {
    /// Start the client and wait until its sessions are open and done
    /// (`{"event":"holding"}`); panics with its output if it fails first.
    pub fn hold(mode: &str, url: &str) -> SdkClient {
        let dir = sdk_client();
        let mut child = Command::new("node")
            .args(["client.mjs", mode, url, "--hold"])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run node ({e}): {INSTALL_NODE}"));
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut client = SdkClient {
            child,
            stdin,
            stdout,
            seen: String::new(),
            label: format!("client.mjs {mode} {url}"),
        };
        match client.next_json() {
            Some(v) if v["event"] == "holding" => client,
            other => {
                let _ = client.child.wait();
                panic!(
                    "{}: did not reach its hold: {other:?}\n{}",
                    client.label, client.seen
                )
            }
        }
    }

    fn next_json(&mut self) -> Option<serde_json::Value> {
        loop {
            let mut line = String::new();
            if self.stdout.read_line(&mut line).ok()? == 0 {
                return None;
            }
            self.seen.push_str(&line);
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line.trim()) {
                return Some(v);
            }
        }
    }

    /// Let the client close its sessions; returns its result (`ok` checked).
    pub fn finish(mut self) -> serde_json::Value {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"go\n");
        }
        let result = self.next_json();
        let status = self.child.wait().expect("waiting for the client");
        match result {
            Some(v) if v["ok"] == true && status.success() => v,
            other => panic!("{} ({status}): {other:?}\n{}", self.label, self.seen),
        }
    }
}

impl Drop for SdkClient {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
