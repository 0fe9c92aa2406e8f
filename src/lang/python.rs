//! python: the generated project is built on `websockets` (asyncio API).
//!
//! Every capability below is checked over the wire by the generated project's
//! own tests and by `tests/lang_python.rs`:
//! - subprotocols: our `select_subprotocol` picks in the client's order;
//! - permessage-deflate: `ServerPerMessageDeflateFactory` honours both
//!   `*_no_context_takeover` flags and both `*_max_window_bits` (a client
//!   offer without `client_max_window_bits` is declined when the spec limits
//!   the client's window, as RFC 7692 section 7.1.2.2 requires). zlib
//!   cannot compress raw deflate with an 8-bit window: an offer asking for
//!   `server_max_window_bits=8` is declined (the next offer is tried), and a
//!   spec with `serverMaxWindowBits: 8` is refused at generation (9..15);
//! - threshold: not in websockets; the template adds a small
//!   `PerMessageDeflate` subclass that sends messages under the threshold
//!   uncompressed (RSV1 clear), which RFC 7692 allows per message;
//! - chat: chat-v1 (docs/protocol/chat-v1.md) as docs/chat-implementation.md
//!   spells it out; strict JSON adds what `json.loads` lacks (it accepts
//!   NaN/Infinity and unpaired surrogate escapes), and the chat page is
//!   rendered into the package (`static/index.html`) and served at `GET /`.

use super::{
    BuildPlan, Capability, Cmd, LangNames, Language, LanguageDriver, Profile, STAGING, Step,
    Support, Tool, deps, every_feature,
};
use crate::emit::GeneratedFile;
use crate::ir::Server;
use crate::runner::{BuildOptions, Launch};
use crate::single::{Header, SingleFile};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;

pub struct Python;

const CAPABILITIES: [(Capability, Support); 12] =
    every_feature(Support::Values(9, 15), Support::Values(8, 15));

const TOOLCHAIN: &[Tool] = &[Tool {
    program: "python3",
    version_arg: "--version",
    min_version: Some((3, 10)),
    install: "install Python >= 3.10 with venv and pip (apt-get install python3 python3-venv python3-pip)",
}];

/// The requirements the server runs with (pyproject's `dependencies`).
pub fn requirements() -> Vec<String> {
    REQUIREMENTS
        .iter()
        .map(|(name, key)| format!("{name}=={}", deps::version(Language::Python, key)))
        .collect()
}

/// (PyPI name, key in src/lang/deps.rs) of what the server imports.
const REQUIREMENTS: &[(&str, &str)] = &[
    ("websockets", "websockets"),
    ("PyJWT", "pyjwt"),
    ("cryptography", "cryptography"),
    ("prometheus_client", "prometheus_client"),
];

/// What the runner's virtual environment has besides: the chat backplane's
/// client (only `backplane: redis` imports it; one environment serves all).
fn runner_requirements() -> Vec<String> {
    let mut deps = requirements();
    deps.push(format!("redis=={}", deps::version(Language::Python, "redis")));
    deps
}

const PROFILE: Profile = Profile {
    language: Language::Python,
    name: "python",
    aliases: &["py", "python3"],
    library: "websockets (PyPI, asyncio API)",
    capabilities: &CAPABILITIES,
    toolchain: TOOLCHAIN,
    idle_memory_target: 15.0 * 1024.0,
    extension: "py",
    single_file_refusal: None,
};

impl LanguageDriver for Python {
    fn profile(&self) -> &'static Profile {
        &PROFILE
    }

    /// `package` is the distribution name (pyproject), `module` the import
    /// name. Both end in `server` so that no spec name can shadow the
    /// standard library, `websockets` or a keyword (`name: json` would
    /// otherwise break imports).
    fn names(&self, server: &Server) -> LangNames {
        let module = module_name(&server.slug);
        LangNames {
            package: Some(module.replace('_', "-")),
            module: Some(module),
            ..LangNames::default()
        }
    }

    fn client_names(&self, server: &Server) -> LangNames {
        let module = format!("{}_client", server.slug.replace('-', "_"));
        LangNames {
            package: Some(module.replace('_', "-")),
            module: Some(module),
            ..LangNames::default()
        }
    }

    /// The package is installed into its own virtual environment (`.venv`
    /// in its folder, as its README says), and `tail` runs with that Python.
    fn client_build_plan(&self, dir: &Path, _names: &LangNames, _opts: &BuildOptions) -> BuildPlan {
        let venv = dir.join(".venv");
        let python = venv.join("bin").join("python");
        let python_arg = python.to_string_lossy();
        BuildPlan {
            steps: vec![
                Step::Run {
                    cmd: Cmd::new("python3", &["-m", "venv", &venv.to_string_lossy()]),
                    skip_if_built: Some(python.clone()),
                },
                Step::Run {
                    cmd: Cmd::new(
                        python_arg.as_ref(),
                        &["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "."],
                    ),
                    skip_if_built: None,
                },
            ],
            launch: Launch {
                program: python.clone(),
                args: vec!["examples/tail.py".into()],
                dir: dir.to_path_buf(),
                env: vec![],
            },
        }
    }

    fn client_next_step(&self, dir: &Path) -> String {
        format!(
            "cd {} && python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/python examples/tail.py --help",
            dir.display()
        )
    }

    /// One virtual environment per dependency set, shared by every project
    /// that pins the same versions; the project itself runs from its folder
    /// (`python -m <module>`), so nothing is built per project.
    /// A project whose pyproject pins another websockets (a benchmark
    /// baseline on a newer release) gets an environment with that pin.
    fn build_plan(&self, dir: &Path, names: &LangNames, opts: &BuildOptions) -> BuildPlan {
        let mut deps = runner_requirements();
        if let Some(pin) = websockets_pin(dir) {
            for d in deps.iter_mut() {
                if d.starts_with("websockets==") {
                    *d = pin.clone();
                }
            }
        }
        let mut h = DefaultHasher::new();
        deps.hash(&mut h);
        let venv = opts
            .cache_dir
            .join("python")
            .join(format!("venv-{:016x}", h.finish()));
        let mut pip = Cmd::new(
            format!("{STAGING}/bin/python"),
            &[
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ],
        );
        pip.args.extend(deps);
        BuildPlan {
            steps: vec![Step::CreateOnce {
                dir: venv.clone(),
                cmds: vec![Cmd::new("python3", &["-m", "venv", STAGING]), pip],
            }],
            launch: Launch {
                program: venv.join("bin").join("python"),
                args: vec!["-m".into(), names.module.clone().unwrap_or_default()],
                dir: dir.to_path_buf(),
                env: vec![],
            },
        }
    }

    fn next_step(&self, dir: &Path, names: &LangNames) -> String {
        format!(
            "cd {} && python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/python -m {}",
            dir.display(),
            names.module.as_deref().unwrap_or_default()
        )
    }

    fn single_file(&self) -> Option<&'static dyn SingleFile> {
        Some(&PythonFile)
    }
}

/// The single-file form: the package's modules in one script
/// (`crate::single::python`), run with the Python of a virtual environment
/// holding the pinned requirements (a system-wide `pip install` is refused by
/// Debian's Python, PEP 668).
struct PythonFile;

impl SingleFile for PythonFile {
    fn extensions(&self) -> &'static [&'static str] {
        &["py"]
    }

    fn default_file_name(&self, server: &Server) -> String {
        format!("{}_server.py", server.slug.replace('-', "_"))
    }

    fn run_command(&self, file: &str) -> String {
        format!(
            "python3 -m venv .venv && .venv/bin/pip install {} && .venv/bin/python {file}",
            requirements().join(" ")
        )
    }

    fn bundle(
        &self,
        files: &[GeneratedFile],
        header: &Header,
        names: &LangNames,
    ) -> Result<String, String> {
        crate::single::python::bundle(files, header, names)
    }

    /// The project form's plan creates (once) the cached venv holding the
    /// pinned websockets; the single file starts with its python.
    fn build_plan(
        &self,
        dir: &Path,
        file: &str,
        names: &LangNames,
        opts: &BuildOptions,
    ) -> BuildPlan {
        let mut plan = Python.build_plan(dir, names, opts);
        plan.launch.args = vec![file.into()];
        plan
    }
}

/// The `websockets==X` requirement of `dir/pyproject.toml`, if it has one.
fn websockets_pin(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("pyproject.toml")).ok()?;
    let start = text.find("\"websockets==")? + 1;
    let end = start + text[start..].find('"')?;
    Some(text[start..end].to_string())
}

fn module_name(slug: &str) -> String {
    let base = slug.replace('-', "_");
    if base == "server" || base.ends_with("_server") {
        base
    } else {
        format!("{base}_server")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_never_shadow_other_modules() {
        assert_eq!(module_name("echo"), "echo_server");
        assert_eq!(module_name("my-echo-server"), "my_echo_server");
        assert_eq!(module_name("websockets"), "websockets_server");
        assert_eq!(module_name("import"), "import_server");
    }

    #[test]
    fn the_venv_holds_the_pinned_websockets() {
        let names = LangNames {
            module: Some("echo_server".into()),
            ..LangNames::default()
        };
        let plan = Python.build_plan(Path::new("/p"), &names, &BuildOptions::default());
        let Step::CreateOnce { cmds, .. } = &plan.steps[0] else {
            panic!("{plan:?}")
        };
        let pin = format!(
            "websockets=={}",
            deps::version(Language::Python, "websockets")
        );
        assert!(cmds[1].args.contains(&pin), "{cmds:?}");
        assert_eq!(plan.launch.args, ["-m", "echo_server"]);
    }
}
