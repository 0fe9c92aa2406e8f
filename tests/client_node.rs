//! The Node.js client library (`--client`, docs/protocol/clients-v1.md), end
//! to end: for specs/echo.yaml, chat.yaml and session.yaml, generate the
//! client, check it with the pinned Prettier and `tsc --noEmit` (strict),
//! run its own tests (`npm test`: a scripted in-test server), build its
//! `tail` example through the driver's `client_build_plan`, and prove it over
//! a real socket against the real generated Node.js server of the same spec:
//! a session started, followed to its exit, attached again after seq 250;
//! chat messages sent by another connection; over wss with a test CA
//! (`--ca`; without it the certificate is untrusted: retried, then
//! `retries_exhausted`), `error unauthorized` (exit 3, one handshake)
//! against a server with token auth, and the right token streaming.

mod support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use support::lint::{lint, prettier};
use wsgen::lang::{Language, deps};
use wsgen::runner::{self, BuildOptions, Launch, ServerProcess};

const INSTALL_NODE: &str = "install Node.js 20 or newer with npm \
    (Debian/Ubuntu: apt-get install nodejs npm, or https://nodejs.org)";

#[test]
fn echo_client() {
    let client = Client::build("specs/echo.yaml");
    let mut server = Server::boot("specs/echo.yaml", &[]);
    let out = client.tail(&[&server.url(), "--send", "héllo \"1\"", "--send", "two"]);
    out.expect(0, &server.process.logs());
    assert_eq!(out.stdout, "\"héllo \\\"1\\\"\"\n\"two\"\n", "{out:?}");
    server.stop();
}

#[test]
fn chat_client() {
    let client = Client::build("specs/chat.yaml");
    let mut server = Server::boot("specs/chat.yaml", &[]);
    let url = server.url();
    // Another connection (the library itself) sends 3 messages before the
    // tail joins (they come in its `joined` history) and 3 after (live).
    client.send_chat(&url, "bob", "r", &["one", "two \"2\"", "three"]);
    let tail = client.spawn_tail(&[&url, "--room", "r", "--user", "u", "--until-id", "6"]);
    std::thread::sleep(Duration::from_millis(800));
    client.send_chat(&url, "bob", "r", &["four", "five", "six\n"]);
    let out = tail.finish();
    out.expect(0, &server.process.logs());
    assert_eq!(
        out.stdout,
        "1 bob \"one\"\n2 bob \"two \\\"2\\\"\"\n3 bob \"three\"\n\
         4 bob \"four\"\n5 bob \"five\"\n6 bob \"six\\n\"\n",
        "{out:?}"
    );
    server.stop();
}

#[test]
fn session_client() {
    let client = Client::build("specs/session.yaml");
    let command = support::tail::worker_command();
    let mut server = Server::boot("specs/session.yaml", &[("WS_SESSION_COMMAND", &command)]);
    let url = server.url();

    let out = client.tail(&[
        &url,
        "--start",
        "--input",
        r#"{"do":"emit","count":500,"exit":0}"#,
    ]);
    out.expect(0, &server.process.logs());
    let lines: Vec<&str> = out.stdout.lines().collect();
    let head: Vec<&str> = lines[0].split(' ').collect();
    assert_eq!(head.len(), 3, "{}", lines[0]);
    assert_eq!(head[0], "session");
    let (id, token) = (head[1], head[2]);
    assert!(id.len() == 32 && token.len() == 64, "{}", lines[0]);
    let mut want: Vec<String> = (1..=500)
        .map(|n| format!("{n} {{\"n\":{n},\"pad\":\"\"}}"))
        .collect();
    want.push("501 {\"emitted\":500}".into());
    want.push("exit 502 code 0".into());
    assert_eq!(lines[1..], want, "session --start output");

    let out = client.tail(&[
        &url,
        "--attach",
        id,
        "--session-token",
        token,
        "--after",
        "250",
    ]);
    out.expect(0, &server.process.logs());
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines, want[250..], "session --attach --after 250 output");

    // A wrong token for the session: the server's typed error.
    let out = client.tail(&[&url, "--attach", id, "--session-token", "0", "--after", "0"]);
    out.expect(3, &server.process.logs());
    assert!(out.stdout.starts_with("error unknown_session "), "{out:?}");
    server.stop();

    // Token auth over wss with a test CA: without `--ca` the certificate is
    // not trusted (retried, then given up); a wrong bearer token is
    // `unauthorized` at once (no retry, although --max-retries is unset),
    // the right one works.
    let tls = tempfile::tempdir().expect("temp dir");
    let material =
        wsgen::scenario::material::Material::generate(tls.path()).expect("test certificates");
    let pem = |name: &str| material.dir.join(name).display().to_string();
    let (cert, key, ca) = (pem("cert.pem"), pem("key.pem"), pem("ca.pem"));
    let mut secure = Server::boot(
        "tests/fixtures/secure-session.yaml",
        &[
            ("WS_AUTH_TOKENS", "alice:s3cret"),
            ("WS_SESSION_COMMAND", &command),
            ("WS_TLS_CERT", &cert),
            ("WS_TLS_KEY", &key),
        ],
    );
    let url = format!("wss://{}/jobs", secure.process.addr());
    let out = client.tail(&[
        &url,
        "--token",
        "s3cret",
        "--start",
        "--max-retries",
        "2",
        "--backoff-initial",
        "10",
    ]);
    out.expect(3, &secure.process.logs());
    assert!(
        out.stdout.starts_with("error retries_exhausted "),
        "an untrusted certificate: {out:?}"
    );
    let started = Instant::now();
    let out = client.tail(&[&url, "--ca", &ca, "--token", "wrong", "--start"]);
    out.expect(3, &secure.process.logs());
    assert!(
        out.stdout.starts_with("error unauthorized ") && out.stdout.lines().count() == 1,
        "{out:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10), "{out:?}");
    std::thread::sleep(Duration::from_millis(500));
    let rejected = secure
        .process
        .logs()
        .lines()
        .filter(|l| l.contains("rejected ") && l.contains("reason=auth"))
        .count();
    assert_eq!(
        rejected,
        1,
        "one handshake, no retry:\n{}",
        secure.process.logs()
    );
    let out = client.tail(&[
        &url,
        "--ca",
        &ca,
        "--token",
        "s3cret",
        "--start",
        "--input",
        r#"{"do":"emit","count":3,"exit":7}"#,
    ]);
    out.expect(0, &secure.process.logs());
    let lines: Vec<&str> = out.stdout.lines().skip(1).collect();
    assert_eq!(
        lines,
        [
            "1 {\"n\":1,\"pad\":\"\"}",
            "2 {\"n\":2,\"pad\":\"\"}",
            "3 {\"n\":3,\"pad\":\"\"}",
            "4 {\"emitted\":3}",
            "exit 5 code 7"
        ],
        "{out:?}"
    );
    secure.stop();
}

/// A generated client library, checked, tested and built.
struct Client {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    launch: Launch,
}

impl Client {
    /// Generate the client of `spec`; Prettier, `tsc --noEmit`, `npm test`;
    /// then the driver's build plan (dependencies linked, so only `npm run build`).
    fn build(spec: &str) -> Client {
        let server = support::load(spec);
        let tmp = tempfile::Builder::new()
            .prefix("wsgen-client-node-")
            .tempdir()
            .expect("temp dir");
        let dir = tmp.path().to_path_buf();
        wsgen::pipeline::generate_client_into(&server, Language::Node, &dir)
            .unwrap_or_else(|e| panic!("{spec}: generating the node client: {e}"));
        std::os::unix::fs::symlink(client_dependencies(), dir.join("node_modules"))
            .expect("linking node_modules");

        let started = Instant::now();
        let (ok, text) = lint(&dir, &prettier(), &["--check", "."]);
        assert!(ok, "{spec}: the client fails `prettier --check .`:\n{text}");
        support::check(
            spec,
            &dir,
            "npm",
            &["run", "--silent", "check"],
            &[],
            INSTALL_NODE,
        );
        let text = support::check(spec, &dir, "npm", &["test", "--silent"], &[], INSTALL_NODE);
        let summary: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("# pass") || l.starts_with("# fail"))
            .collect();
        assert!(
            summary
                .iter()
                .any(|l| l.starts_with("# pass") && l != &"# pass 0"),
            "{spec}: npm test ran no test:\n{text}"
        );
        eprintln!(
            "{spec}: client prettier + tsc + npm test ({}) in {:.1}s",
            summary.join(", "),
            started.elapsed().as_secs_f64()
        );
        let opts = BuildOptions {
            build_cache: None,
            ..support::build_options()
        };
        let launch = runner::prepare_client_project(&server, Language::Node, &dir, &opts)
            .unwrap_or_else(|e| panic!("{spec}: building the node client: {e}"));
        Client {
            _dir: tmp,
            dir,
            launch,
        }
    }

    fn spawn_tail(&self, args: &[&str]) -> support::tail::Running {
        support::tail::spawn(&self.launch, args)
    }

    fn tail(&self, args: &[&str]) -> support::tail::Tail {
        support::tail::run(&self.launch, args)
    }

    /// Send `texts` to `room` as `user` with the library itself.
    fn send_chat(&self, url: &str, user: &str, room: &str, texts: &[&str]) {
        let script = format!(
            "import {{ connect }} from './dist/src/index.js';\n\
             const c = await connect({url}, {{ user: {user} }});\n\
             await c.join({room});\n\
             for (const t of {texts}) await c.message({room}, t);\n\
             c.close();\n",
            url = serde_json::to_string(url).unwrap(),
            user = serde_json::to_string(user).unwrap(),
            room = serde_json::to_string(room).unwrap(),
            texts = serde_json::to_string(texts).unwrap(),
        );
        support::run(
            &self.dir,
            "node",
            &["--input-type=module", "-e", &script],
            &[],
        );
    }
}

/// A generated Node.js server, built through the runner, on a free port.
struct Server {
    _project: tempfile::TempDir,
    process: ServerProcess,
}

impl Server {
    fn boot(spec: &str, env: &[(&str, &str)]) -> Server {
        let (project, process) = support::serve(spec, Language::Node, env);
        Server {
            _project: project,
            process,
        }
    }

    fn url(&self) -> String {
        format!("ws://{}/", self.process.addr())
    }

    fn stop(&mut self) {
        let _ = self.process.stop(Duration::from_secs(10));
    }
}

/// The client's pinned npm dependencies (`ws`, TypeScript, the type
/// packages), installed from the registry once per set of pins into
/// target/node-client-deps/<key>/node_modules.
fn client_dependencies() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        support::require_toolchain(Language::Node);
        let pins: Vec<String> = [
            "ws",
            "client_typescript",
            "client_types_node",
            "client_types_ws",
        ]
        .iter()
        .map(|k| format!("{k}-{}", deps::version(Language::Node, k)))
        .collect();
        let dir = support::repo()
            .join("target")
            .join("node-client-deps")
            .join(pins.join("_"));
        let node_modules = dir.join("node_modules");
        let stamp = dir.join(".installed");
        if stamp.exists() && node_modules.is_dir() {
            return node_modules;
        }
        let server = support::load("specs/echo.yaml");
        let files = wsgen::pipeline::generate_client(&server, Language::Node)
            .expect("generating the echo client");
        let package = files
            .iter()
            .find(|f| f.path == Path::new("package.json"))
            .expect("the client has a package.json");
        std::fs::create_dir_all(&dir).expect("creating the npm cache folder");
        std::fs::write(dir.join("package.json"), &package.contents).expect("package.json");
        support::run(
            &dir,
            "npm",
            &["install", "--no-audit", "--no-fund", "--loglevel=error"],
            &[],
        );
        std::fs::write(&stamp, pins.join("\n")).expect("writing the stamp");
        node_modules
    })
}
