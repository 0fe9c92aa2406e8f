//! go: the generated server is built on github.com/coder/websocket.
//!
//! coder/websocket negotiates only the context-takeover parameters itself;
//! the templates do the rest of RFC 7692 (deflate.go), so a client window
//! limit works too. A server window smaller than 15 bits cannot:
//! compress/flate always compresses with a 32 KiB window (golang/go#3155),
//! so `serverMaxWindowBits` below 15 is refused at generation.

use super::{
    BuildPlan, Capability, Cmd, LangNames, Language, LanguageDriver, Profile, Step, Support, Tool,
    deps, every_feature,
};
use crate::emit::GeneratedFile;
use crate::ir::Server;
use crate::runner::{BuildOptions, Launch};
use crate::single::{Header, SingleFile};
use std::path::Path;

pub struct Go;

const CAPABILITIES: [(Capability, Support); 12] =
    every_feature(Support::Values(15, 15), Support::Values(8, 15));

const TOOLCHAIN: &[Tool] = &[Tool {
    program: "go",
    version_arg: "version",
    min_version: Some((1, 23)),
    install: "install Go >= 1.23 (apt-get install golang-go from a recent release, or the official tarball)",
}];

const PROFILE: Profile = Profile {
    language: Language::Go,
    name: "go",
    aliases: &["golang"],
    library: "github.com/coder/websocket",
    capabilities: &CAPABILITIES,
    toolchain: TOOLCHAIN,
    idle_memory_target: 10.0 * 1024.0,
    extension: "go",
    single_file_refusal: None,
};

impl LanguageDriver for Go {
    fn profile(&self) -> &'static Profile {
        &PROFILE
    }

    fn names(&self, server: &Server) -> LangNames {
        LangNames {
            // A dotted first element keeps the module path clear of the
            // standard library's (a server named "net" or "log" would clash).
            module_path: Some(
                server
                    .go_module
                    .clone()
                    .unwrap_or_else(|| format!("example.com/{}", server.slug)),
            ),
            binary: Some(server.slug.clone()),
            ..LangNames::default()
        }
    }

    fn client_names(&self, server: &Server) -> LangNames {
        let server_module = self.names(server).module_path.unwrap_or_default();
        LangNames {
            module_path: Some(format!("{server_module}-client")),
            binary: Some("tail".into()),
            ..LangNames::default()
        }
    }

    fn client_build_plan(&self, dir: &Path, _names: &LangNames, _opts: &BuildOptions) -> BuildPlan {
        go_build(dir, "./examples/tail", dir.join("bin").join("tail"))
    }

    fn client_next_step(&self, dir: &Path) -> String {
        format!("cd {} && go build ./... && go run ./examples/tail --help", dir.display())
    }

    fn build_plan(&self, dir: &Path, _names: &LangNames, _opts: &BuildOptions) -> BuildPlan {
        go_build(dir, ".", dir.join(".wsgen").join("server"))
    }

    fn next_step(&self, dir: &Path, _names: &LangNames) -> String {
        format!("cd {} && go run .", dir.display())
    }

    fn single_file(&self) -> Option<&'static dyn SingleFile> {
        Some(&GoFile)
    }
}

/// The single-file form: the files of `package main` in one
/// (`crate::single::go`), in a module made by `go mod init`.
struct GoFile;

/// Build the Go package `package` of the module in `dir` into `bin` (with
/// the module's go.sum as shipped: `-mod=readonly`), and launch it.
fn go_build(dir: &Path, package: &str, bin: std::path::PathBuf) -> BuildPlan {
    BuildPlan {
        steps: vec![Step::Run {
            cmd: Cmd::new("go", &["build", "-o", &bin.to_string_lossy(), package])
                .env("GOFLAGS", "-mod=readonly"),
            skip_if_built: Some(bin.clone()),
        }],
        launch: Launch {
            program: bin,
            args: vec![],
            dir: dir.to_path_buf(),
            env: vec![],
        },
    }
}

/// The module name the single file's `go mod init` uses.
const SINGLE_FILE_MODULE: &str = "echo";

/// The packages the server imports from the pinned modules (the project's
/// go.mod requires them too), with the key of their module's pin. `go get`
/// of a package, not of its module's root, records what the package needs.
const SINGLE_FILE_LIBRARIES: &[(&str, &str)] = &[
    ("github.com/coder/websocket", "coder_websocket"),
    ("github.com/golang-jwt/jwt/v5", "golang_jwt"),
    ("github.com/prometheus/client_golang/prometheus", "client_golang"),
    (
        "github.com/prometheus/client_golang/prometheus/promhttp",
        "client_golang",
    ),
    ("golang.org/x/time/rate", "x_time"),
];

impl GoFile {
    /// `package@VERSION` of each library package.
    fn libraries() -> Vec<String> {
        SINGLE_FILE_LIBRARIES
            .iter()
            .map(|(module, key)| format!("{module}@{}", deps::version(Language::Go, key)))
            .collect()
    }
}

impl SingleFile for GoFile {
    fn extensions(&self) -> &'static [&'static str] {
        &["go"]
    }

    fn default_file_name(&self, _server: &Server) -> String {
        "main.go".into()
    }

    fn run_command(&self, file: &str) -> String {
        format!(
            "go mod init {SINGLE_FILE_MODULE} && go get {} && go run {file}",
            Self::libraries().join(" ")
        )
    }

    fn bundle(
        &self,
        files: &[GeneratedFile],
        header: &Header,
        _names: &LangNames,
    ) -> Result<String, String> {
        crate::single::go::bundle(files, header)
    }

    fn build_plan(
        &self,
        dir: &Path,
        file: &str,
        _names: &LangNames,
        _opts: &BuildOptions,
    ) -> BuildPlan {
        let bin = dir.join(".wsgen").join("server");
        let get_args: Vec<String> = std::iter::once("get".to_string())
            .chain(Self::libraries())
            .collect();
        BuildPlan {
            steps: vec![
                Step::Init {
                    cmd: Cmd::new("go", &["mod", "init", SINGLE_FILE_MODULE]),
                    creates: dir.join("go.mod"),
                },
                Step::Run {
                    cmd: Cmd::new("go", &get_args.iter().map(String::as_str).collect::<Vec<_>>()),
                    skip_if_built: None,
                },
                Step::Run {
                    cmd: Cmd::new("go", &["build", "-o", &bin.to_string_lossy(), file]),
                    skip_if_built: None,
                },
            ],
            launch: Launch {
                program: bin,
                args: vec![],
                dir: dir.to_path_buf(),
                env: vec![],
            },
        }
    }
}
