//! The Python output, end to end: for each spec, generate the project,
//! `py_compile` every file, install the pinned dependencies into a virtual
//! environment (cached under target/ and keyed by the pins, so the machine's
//! site-packages stay untouched and repeated runs are fast), and run the
//! project's own pytest suite, which boots the real server and talks to it
//! over a socket. The adversarial spec is also booted here and its /healthz
//! name compared with the IR's.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use wsgen::lang::{Language, deps};

const PYTHON: &str = "python3";
const INSTALL_PYTHON: &str = "install Python 3.10 or newer with venv and pip \
    (Debian/Ubuntu: apt-get install python3 python3-venv python3-pip)";
/// Variables the generated server reads; the suites set their own.
const SERVER_ENV: [&str; 5] = [
    "HOST",
    "PORT",
    "WS_MAX_PAYLOAD",
    "WS_PING_INTERVAL",
    "WS_COMPRESSION",
];

#[test]
fn echo() {
    check_spec("specs/echo.yaml");
}

#[test]
fn subprotocols() {
    check_spec("specs/subprotocols.yaml");
}

#[test]
fn compression() {
    check_spec("specs/compression.yaml");
}

#[test]
fn chat() {
    check_spec("specs/chat.yaml");
}

#[test]
fn chat_minimal() {
    check_spec("specs/chat-minimal.yaml");
}

#[test]
fn adversarial_values_round_trip() {
    let project = check_spec("tests/fixtures/adversarial.yaml");
    let server = load("tests/fixtures/adversarial.yaml");
    let mut running = RunningServer::start(project.path(), &module(&server));
    let body = running.get("/healthz");
    let health: serde_json::Value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("/healthz is not JSON ({e}): {body}"));
    assert_eq!(
        health["name"].as_str(),
        Some(server.name.as_str()),
        "/healthz: {body}"
    );
    assert_eq!(health["status"], "ok");
    assert_eq!(
        running.stop(),
        Some(0),
        "exit status after SIGTERM; stderr:\n{}",
        running.logs()
    );
}

/// Generate, compile, install, run the project's own tests; returns the project.
fn check_spec(spec: &str) -> tempfile::TempDir {
    let python = venv_python();
    let project = support::generate(spec, Language::Python);
    py_compile(project.path());
    let started = Instant::now();
    let mut pytest = Command::new(python);
    pytest
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .current_dir(project.path());
    for var in SERVER_ENV {
        pytest.env_remove(var);
    }
    let out = pytest
        .output()
        .unwrap_or_else(|e| panic!("cannot run pytest: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{spec}: the generated project's pytest failed ({}):\n{text}",
        out.status
    );
    eprintln!(
        "{spec}: pytest {} in {:.1}s",
        text.lines().last().unwrap_or("").trim(),
        started.elapsed().as_secs_f64()
    );
    project
}

fn py_compile(project: &Path) {
    let mut files = Vec::new();
    collect_py(project, &mut files);
    assert!(
        !files.is_empty(),
        "no .py files generated in {}",
        project.display()
    );
    let mut args = vec!["-m".to_string(), "py_compile".to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    support::run(project, PYTHON, &args, &[("PYTHONDONTWRITEBYTECODE", "1")]);
}

fn collect_py(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read generated project") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            collect_py(&path, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

/// The interpreter of a virtual environment holding exactly the pinned
/// dependencies, created once per set of pins and Python version.
fn venv_python() -> &'static Path {
    static PYTHON_BIN: OnceLock<PathBuf> = OnceLock::new();
    static CREATING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = CREATING.lock().unwrap_or_else(|e| e.into_inner());
    PYTHON_BIN.get_or_init(create_venv)
}

fn create_venv() -> PathBuf {
    support::require_tool(PYTHON, INSTALL_PYTHON);
    let version = python_version();
    let pins: Vec<String> = ["websockets", "pytest"]
        .iter()
        .map(|name| {
            let version = deps::for_language(Language::Python)[*name]
                .as_str()
                .unwrap_or_else(|| panic!("no pinned version of {name} in src/lang/deps.rs"))
                .to_string();
            format!("{name}=={version}")
        })
        .collect();
    let key = format!("py{version}-{}", pins.join("-").replace("==", "-"));
    let dir = support::repo()
        .join("target")
        .join("python-venvs")
        .join(key);
    let python = dir.join("bin").join("python");
    if dir.join("ready").exists() {
        return python;
    }
    // Build next to the final place, then rename: a run that dies half-way
    // leaves no broken cache, and concurrent runs cannot see a partial venv.
    let building = dir.with_extension(format!("building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    std::fs::create_dir_all(building.parent().unwrap()).expect("create target/python-venvs");
    let started = Instant::now();
    let venv = Command::new(PYTHON)
        .args(["-m", "venv"])
        .arg(&building)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{PYTHON} -m venv`: {e}; {INSTALL_PYTHON}"));
    assert!(
        venv.status.success(),
        "`{PYTHON} -m venv` failed: {}{}; {INSTALL_PYTHON}",
        String::from_utf8_lossy(&venv.stdout),
        String::from_utf8_lossy(&venv.stderr)
    );
    let mut install = vec![
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "-q",
    ];
    install.extend(pins.iter().map(String::as_str));
    support::run(
        &building,
        building.join("bin/python").to_str().unwrap(),
        &install,
        &[],
    );
    std::fs::write(building.join("ready"), pins.join("\n")).expect("mark venv ready");
    if std::fs::rename(&building, &dir).is_err() {
        // Another run finished first; use its venv.
        let _ = std::fs::remove_dir_all(&building);
        assert!(
            dir.join("ready").exists(),
            "could not create {}",
            dir.display()
        );
    }
    eprintln!(
        "python venv with {} ready in {:.1}s",
        pins.join(" "),
        started.elapsed().as_secs_f64()
    );
    python
}

/// `3.11`; fails unless it is 3.10 or newer.
fn python_version() -> String {
    let out = support::run(
        Path::new("."),
        PYTHON,
        &["-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        &[],
    );
    let version = out.trim().to_string();
    let minor: u32 = version
        .strip_prefix("3.")
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("unexpected `{PYTHON}` version {version:?}"));
    assert!(
        minor >= 10,
        "`{PYTHON}` is Python {version}; the generated project needs 3.10+: {INSTALL_PYTHON}"
    );
    version
}

fn load(spec: &str) -> wsgen::ir::Server {
    wsgen::pipeline::load_server(Some(&support::repo().join(spec)), &Default::default())
        .unwrap_or_else(|e| panic!("{spec}: {e}"))
}

fn module(server: &wsgen::ir::Server) -> String {
    Language::Python.context(server)["module"]
        .as_str()
        .expect("python context has a module")
        .to_string()
}

/// The generated server as a child process on a free port; killed on drop.
struct RunningServer {
    child: Child,
    port: u16,
    logs: std::sync::Arc<Mutex<String>>,
}

impl RunningServer {
    fn start(project: &Path, module: &str) -> RunningServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = Command::new(venv_python());
        command
            .args(["-m", module])
            .current_dir(project)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for var in &SERVER_ENV[2..] {
            command.env_remove(var);
        }
        let mut child = command.spawn().expect("start the generated server");
        let logs = std::sync::Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut logs = sink.lock().unwrap();
                logs.push_str(&line);
                logs.push('\n');
            }
        });
        let mut server = RunningServer { child, port, logs };
        let deadline = Instant::now() + Duration::from_secs(15);
        while !server.logs().contains("listening on ") {
            if Instant::now() > deadline || server.child.try_wait().unwrap().is_some() {
                panic!("the server did not start; stderr:\n{}", server.logs());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// A plain HTTP/1.1 GET; returns the body of a 200 response.
    fn get(&self, path: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("read the response");
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        assert!(head.starts_with("HTTP/1.1 200 "), "GET {path}:\n{response}");
        assert!(
            head.contains("Content-Type: application/json"),
            "GET {path}:\n{head}"
        );
        body.to_string()
    }

    /// SIGTERM, then the exit code (None if it had to be killed).
    fn stop(&mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
