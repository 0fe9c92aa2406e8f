//! node: the generated project is an ESM package on Node.js >= 20 built on
//! `ws` 8.x.
//!
//! Each capability below was checked on the wire against a third-party client
//! (Python `websockets` with explicit permessage-deflate offers):
//! - `ws` answers `server_no_context_takeover` / `client_no_context_takeover`
//!   and the window bits from its `perMessageDeflate` options and compresses
//!   with them (every window the spec allows, 8..15); an offer the spec cannot
//!   satisfy (a smaller `client_max_window_bits`, or none at all when the spec
//!   limits it) is declined, so the connection goes on uncompressed.
//! - `threshold`: `ws` applies its own threshold only without context
//!   takeover, so the generated `Connection#send` sets the per-message
//!   `compress` flag itself (RSV1 only at or above the threshold).

use super::{
    BuildPlan, Capability, Cmd, LangNames, Language, LanguageDriver, Profile, Step, Support, Tool,
    deps, every_feature,
};
use crate::emit::GeneratedFile;
use crate::ir::Server;
use crate::runner::{BuildOptions, Launch};
use crate::single::{Header, SingleFile};
use std::path::Path;

pub struct Node;

/// The entry point: `package.json`'s `main` and `start` script.
const MAIN: &str = "src/main.js";
/// A client library's `tail` example, once built (docs/protocol/clients-v1.md).
const CLIENT_TAIL: &str = "dist/examples/tail.js";

const CAPABILITIES: [(Capability, Support); 12] =
    every_feature(Support::Values(8, 15), Support::Values(8, 15));

const TOOLCHAIN: &[Tool] = &[
    Tool {
        program: "node",
        version_arg: "--version",
        min_version: Some((20, 0)),
        install: "install Node.js >= 20 (apt-get install nodejs npm, or your platform's installer)",
    },
    Tool {
        program: "npm",
        version_arg: "--version",
        min_version: None,
        install: "npm comes with Node.js (apt-get install npm)",
    },
];

const PROFILE: Profile = Profile {
    language: Language::Node,
    name: "node",
    aliases: &["nodejs", "node.js", "js", "javascript"],
    library: "ws (npm)",
    capabilities: &CAPABILITIES,
    toolchain: TOOLCHAIN,
    idle_memory_target: 8.5 * 1024.0,
    extension: "js",
    single_file_refusal: None,
};

impl LanguageDriver for Node {
    fn profile(&self) -> &'static Profile {
        &PROFILE
    }

    /// `package`: the npm package name (`package.json`), the spec's slug,
    /// which is already a valid npm name (lowercase `[a-z0-9-]`, starts with
    /// a letter).
    fn names(&self, server: &Server) -> LangNames {
        LangNames {
            package: Some(server.slug.clone()),
            ..LangNames::default()
        }
    }

    fn build_plan(&self, dir: &Path, _names: &LangNames, _opts: &BuildOptions) -> BuildPlan {
        BuildPlan {
            steps: vec![Step::Run {
                cmd: Cmd::new(
                    "npm",
                    &["install", "--no-audit", "--no-fund", "--loglevel=error"],
                ),
                skip_if_built: Some(dir.join("node_modules")),
            }],
            launch: Launch {
                program: "node".into(),
                args: vec![MAIN.into()],
                dir: dir.to_path_buf(),
                env: vec![],
            },
        }
    }

    fn next_step(&self, dir: &Path, _names: &LangNames) -> String {
        format!("cd {} && npm install && npm start", dir.display())
    }

    fn client_names(&self, server: &Server) -> LangNames {
        LangNames {
            package: Some(format!("{}-client", server.slug)),
            ..LangNames::default()
        }
    }

    fn client_build_plan(&self, dir: &Path, _names: &LangNames, _opts: &BuildOptions) -> BuildPlan {
        BuildPlan {
            steps: vec![
                Step::Run {
                    cmd: Cmd::new(
                        "npm",
                        &["install", "--no-audit", "--no-fund", "--loglevel=error"],
                    ),
                    skip_if_built: Some(dir.join("node_modules")),
                },
                Step::Run {
                    cmd: Cmd::new("npm", &["run", "--silent", "build"]),
                    skip_if_built: Some(dir.join(CLIENT_TAIL)),
                },
            ],
            launch: Launch {
                program: "node".into(),
                args: vec![CLIENT_TAIL.into()],
                dir: dir.to_path_buf(),
                env: vec![],
            },
        }
    }

    fn client_next_step(&self, dir: &Path) -> String {
        format!(
            "cd {} && npm install && npm run build && node {CLIENT_TAIL} --help",
            dir.display()
        )
    }

    fn single_file(&self) -> Option<&'static dyn SingleFile> {
        Some(&NodeFile)
    }
}

/// The single-file form: one CommonJS file (`crate::single::node`) run with
/// `node FILE` next to `npm install ws@VERSION jose@VERSION prom-client@VERSION`.
struct NodeFile;

/// The npm packages the single file requires: (package, key in the pin table).
/// jose is ESM only: the CommonJS file loads it with require(esm), which
/// Node.js has without a flag from 20.19 on.
const SINGLE_FILE_PACKAGES: [(&str, &str); 3] =
    [("ws", "ws"), ("jose", "jose"), ("prom-client", "prom_client")];

impl NodeFile {
    /// `ws@VERSION jose@VERSION prom-client@VERSION`, the pinned libraries.
    fn packages() -> Vec<String> {
        SINGLE_FILE_PACKAGES
            .iter()
            .map(|(name, key)| format!("{name}@{}", deps::version(Language::Node, key)))
            .collect()
    }
}

impl SingleFile for NodeFile {
    fn extensions(&self) -> &'static [&'static str] {
        &["js", "mjs", "cjs"]
    }

    fn default_file_name(&self, server: &Server) -> String {
        format!("{}-server.js", server.slug)
    }

    fn run_command(&self, file: &str) -> String {
        format!("npm install {} && node {file}", Self::packages().join(" "))
    }

    fn bundle(
        &self,
        files: &[GeneratedFile],
        header: &Header,
        _names: &LangNames,
    ) -> Result<String, String> {
        crate::single::node::bundle(files, header)
    }

    fn build_plan(
        &self,
        dir: &Path,
        file: &str,
        _names: &LangNames,
        _opts: &BuildOptions,
    ) -> BuildPlan {
        let packages = Self::packages();
        let mut args = vec!["install", "--no-audit", "--no-fund", "--loglevel=error"];
        args.extend(packages.iter().map(String::as_str));
        BuildPlan {
            steps: vec![Step::Run {
                cmd: Cmd::new("npm", &args),
                skip_if_built: None,
            }],
            launch: Launch {
                program: "node".into(),
                args: vec![file.into()],
                dir: dir.to_path_buf(),
                env: vec![],
            },
        }
    }
}
