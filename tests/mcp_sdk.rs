//! The MCP bridge (`type: mcp`) against the official MCP TypeScript SDK
//! client and real MCP servers, in every language. Per language:
//!
//! - specs/mcp.yaml with its own `npx` command (npx -> sh -> node): one SDK
//!   session doing initialize, tools/list, tools/call (echo; a long-running
//!   operation with progress notifications; a tool that makes a
//!   sampling/createMessage request the client answers), resources,
//!   prompts and ping; the wrapper chain is seen alive in the child's process
//!   group mid-session and nothing of it is left after the session closes;
//! - the same server started directly (`WS_MCP_COMMAND`), to check that the
//!   child's environment holds only the spec's `env` names, and two
//!   concurrent sessions that cannot see each other's state or notifications;
//! - SIGTERM to the server with a session open: exit 0 and no process left;
//! - specs/mcp-time.yaml with `mcp-server-time` (PyPI) from a venv on PATH.
//!
//! After every session the server's descendants and the child's process
//! group are read from /proc: nothing may be left (no orphans, no zombies);
//! `process_checks_see_groups_and_orphans` shows that reader catching them.
//! The child's environment in step 1 is checked with a `WS_*` variable set
//! on the server (the grace), which must not reach it.
//! A missing node, npm or python3 fails the test.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};
use support::mcp::{self, SdkClient};
use wsgen::lang::Language;
use wsgen::runner::{self, Launch, ServerProcess};

/// A short grace, so a child that ignores stdin EOF is stopped quickly.
const GRACE_MS: u64 = 2000;

#[test]
fn node_bridge_with_the_sdk() {
    bridge_with_the_sdk(Language::Node);
}

#[test]
fn python_bridge_with_the_sdk() {
    bridge_with_the_sdk(Language::Python);
}

#[test]
fn go_bridge_with_the_sdk() {
    bridge_with_the_sdk(Language::Go);
}

#[test]
fn rust_bridge_with_the_sdk() {
    bridge_with_the_sdk(Language::Rust);
}

fn bridge_with_the_sdk(lang: Language) {
    support::require_toolchain(lang);
    mcp::sdk_client();
    let everything = mcp::everything_entry();
    let time_bin = mcp::time_bin();

    let project = support::generate("specs/mcp.yaml", lang);
    let launch = prepare("specs/mcp.yaml", lang, project.path());
    let spec = support::load("specs/mcp.yaml");
    let spec_env = spec.mcp.as_ref().expect("type mcp").env.clone();

    // 1. The spec's own command: npx -> sh -> node.
    let mut server = Booted::start(
        &launch,
        &spec.path,
        &[],
        project.path(),
        &format!("{lang}-npx"),
    );
    let client = server.session("everything", 1);
    let chain = mcp::group(client.pids[0]);
    assert!(
        chain.len() >= 3
            && chain.iter().any(|p| p.cmdline.starts_with("sh "))
            && chain
                .iter()
                .any(|p| p.cmdline.contains("server-everything")),
        "{lang}: the npx -> sh -> node chain is not in the child's group {}: {chain:#?}",
        client.pids[0]
    );
    let result = client.finish(&server);
    let leaked: Vec<&serde_json::Value> = result["envKeys"]
        .as_array()
        .expect("envKeys")
        .iter()
        .filter(|k| k.as_str().is_some_and(|k| k.starts_with("WS_")))
        .collect();
    assert!(
        leaked.is_empty(),
        "{lang}: the child got the server's {leaked:?}"
    );
    server.stop();

    // 2. The same server without npx (WS_MCP_COMMAND): its environment, isolation.
    let direct = serde_json::json!(["node", everything, "stdio"]).to_string();
    let mut server = Booted::start(
        &launch,
        &spec.path,
        &[("WS_MCP_COMMAND", &direct)],
        project.path(),
        &format!("{lang}-direct"),
    );
    let result = server.session("everything", 1).finish(&server);
    let keys: Vec<&str> = result["envKeys"]
        .as_array()
        .expect("envKeys")
        .iter()
        .filter_map(|k| k.as_str())
        .collect();
    assert!(
        keys.iter().all(|k| spec_env.iter().any(|e| e == k)) && keys.contains(&"PATH"),
        "{lang}: the child's environment is {keys:?}, the spec passes {spec_env:?}"
    );
    assert_eq!(result["progress"][0], 1, "{lang}: {result}");
    assert_eq!(result["sampling"], true, "{lang}: {result}");

    let pair = server.session("isolation", 2);
    assert_ne!(
        pair.pids[0], pair.pids[1],
        "{lang}: two sessions, one child"
    );
    pair.finish(&server);

    // 3. SIGTERM with a session open: every child is reaped before the exit.
    // (`stop` checks the exit code, then the server's descendants and every
    // child group it ever had, this session's included.)
    let open = server.session("everything", 1);
    server.stop();
    drop(open);

    // 4. mcp-time, an independent server from PyPI, from a venv on PATH.
    let project = support::generate("specs/mcp-time.yaml", lang);
    let launch = prepare("specs/mcp-time.yaml", lang, project.path());
    let time_spec = support::load("specs/mcp-time.yaml");
    let path = mcp::path_with(&time_bin);
    let mut server = Booted::start(
        &launch,
        &time_spec.path,
        &[("PATH", &path)],
        project.path(),
        &format!("{lang}-time"),
    );
    let result = server.session("time", 1).finish(&server);
    assert!(result["time"].as_str().is_some(), "{lang}: {result}");
    server.stop();
}

/// Install and build the generated project through the runner.
fn prepare(spec: &str, lang: Language, dir: &Path) -> Launch {
    let server = support::load(spec);
    runner::prepare_project(&server, lang, dir, &support::build_options())
        .unwrap_or_else(|e| panic!("{spec}: building the {lang} project: {e}"))
}

/// A bridge server on a free port, with the test's grace; stopped on drop.
struct Booted {
    process: ServerProcess,
    pid: u32,
    url: String,
    label: String,
    /// Every child (= process group) its sessions started.
    groups: Vec<u32>,
}

/// A client holding its sessions open, and their children's pids.
struct Held {
    client: SdkClient,
    pids: Vec<u32>,
}

impl Booted {
    fn start(launch: &Launch, path: &str, env: &[(&str, &str)], dir: &Path, label: &str) -> Booted {
        let mut env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.push(("WS_MCP_SHUTDOWN_GRACE".into(), GRACE_MS.to_string()));
        let process = runner::boot(launch, &env, dir, label)
            .unwrap_or_else(|e| panic!("{label}: booting: {e}"));
        let pid = process.pid().expect("a running server");
        Booted {
            url: format!("ws://127.0.0.1:{}{path}", process.port),
            pid,
            process,
            label: label.to_string(),
            groups: Vec::new(),
        }
    }

    /// Run the client's `mode` up to its hold; `sessions` new children must
    /// be logged, be the server's children and be alive.
    fn session(&mut self, mode: &str, sessions: usize) -> Held {
        let before = mcp::session_pids(&self.process.logs()).len();
        let client = SdkClient::hold(mode, &self.url);
        let deadline = Instant::now() + Duration::from_secs(5);
        let pids = loop {
            let all = mcp::session_pids(&self.process.logs());
            if all.len() >= before + sessions || Instant::now() > deadline {
                break all[before..].to_vec();
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(
            pids.len(),
            sessions,
            "{}: {mode}: `session pid=` log lines of the new sessions: {pids:?}\n{}",
            self.label,
            self.process.logs()
        );
        self.groups.extend(&pids);
        let all = mcp::processes();
        for pid in &pids {
            let p = all.iter().find(|p| p.pid == *pid);
            assert!(
                p.is_some_and(|p| p.ppid == self.pid && p.pgid == *pid && p.state != 'Z'),
                "{}: {mode}: child {pid} is not a live child of the server {} leading its own group: {p:?}",
                self.label,
                self.pid
            );
        }
        Held { client, pids }
    }

    fn stop(&mut self) {
        let grace = Duration::from_millis(GRACE_MS);
        let status = self
            .process
            .stop(grace * 2 + Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", self.label, self.process.logs()));
        assert_eq!(
            status.code(),
            Some(0),
            "{}: exit after SIGTERM\n{}",
            self.label,
            self.process.logs()
        );
        let label = format!("{}: after the server's exit", self.label);
        mcp::assert_none_left(
            self.pid,
            &self.groups,
            Duration::from_millis(500),
            &label,
            || self.process.logs(),
        );
    }
}

impl Drop for Booted {
    /// On a failure: the server is killed with its own group by
    /// ServerProcess; the children run in groups of their own, end them too.
    fn drop(&mut self) {
        if self.process.try_wait().is_none() {
            let _ = self
                .process
                .stop(Duration::from_millis(GRACE_MS * 2 + 1000));
        }
        for pgid in &self.groups {
            unsafe {
                libc::kill(-(*pgid as i32), libc::SIGKILL);
            }
        }
    }
}

impl Held {
    /// Let the client close; then nothing of its children may be left
    /// within two graces (stdin EOF, SIGTERM, SIGKILL) and a margin.
    fn finish(self, server: &Booted) -> serde_json::Value {
        let result = self.client.finish();
        eprintln!("{}: sessions {:?}: {result}", server.label, self.pids);
        let wait = Duration::from_millis(GRACE_MS * 2) + Duration::from_secs(3);
        mcp::assert_none_left(server.pid, &self.pids, wait, &server.label, || {
            server.process.logs()
        });
        result
    }
}

/// The /proc reader the checks above rely on sees what they must catch: a
/// child's process group, and a grandchild whose parent exited (re-parented
/// away from us, still in the group); and it reports none once they are gone.
#[test]
fn process_checks_see_groups_and_orphans() {
    use std::os::unix::process::CommandExt;
    let mut leader = std::process::Command::new("sh")
        .args(["-c", "(sleep 30 &) ; exec sleep 30"])
        .process_group(0)
        .spawn()
        .expect("sh");
    let pgid = leader.id();
    let me = std::process::id();
    let deadline = Instant::now() + Duration::from_secs(5);
    let orphan = loop {
        let left = mcp::leftovers(pgid, &[pgid]);
        let orphan = left
            .iter()
            .find(|p| p.pgid == pgid && p.ppid != pgid && p.ppid != me);
        if let Some(o) = orphan {
            break o.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no re-parented member of group {pgid}: {left:#?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(orphan.cmdline.contains("sleep 30"), "{orphan:?}");
    assert!(
        mcp::leftovers(me, &[]).iter().any(|p| p.pid == pgid),
        "the leader is not seen as our descendant"
    );
    unsafe {
        libc::kill(-(pgid as i32), libc::SIGKILL);
    }
    let _ = leader.wait();
    // (Rooted at the reaped leader, not at us: the other tests' servers are
    // our descendants too.)
    mcp::assert_none_left(
        pgid,
        &[pgid],
        Duration::from_secs(5),
        "after SIGKILL",
        String::new,
    );
}
