//! rust: the generated server is tokio + yawc. The HTTP side (routing,
//! `/healthz`, the upgrade handshake, subprotocols and the permessage-deflate
//! offer) is parsed by hand with httparse in the templates, so no HTTP server
//! runs per connection and an idle connection costs a few KB; yawc then runs
//! the WebSocket protocol on the raw `TcpStream`.
//!
//! What it honours on the wire was checked with a real client offer (Python
//! `websockets` `ClientPerMessageDeflateFactory`). yawc compresses through
//! flate2 on zlib-rs, so every RFC 7692 parameter is honoured; the offer
//! itself is negotiated by the template (`deflate.rs`). One limit of zlib: a
//! raw deflate stream cannot use an 8-bit window, so a spec's
//! `serverMaxWindowBits: 8` is refused at generation (9..15), and a client
//! asking the server for 8 gets no extension.

use super::{
    BuildPlan, Capability, Cmd, LangNames, Language, LanguageDriver, Profile, Step, Support, Tool,
    every_feature,
};
use crate::emit::EmitError;
use crate::emit::filters::json_str;
use crate::ir::Server;
use crate::runner::{BuildOptions, Launch};
use std::path::Path;

pub struct Rust;

const CAPABILITIES: [(Capability, Support); 12] =
    every_feature(Support::Values(9, 15), Support::Values(8, 15));

const TOOLCHAIN: &[Tool] = &[Tool {
    program: "cargo",
    version_arg: "--version",
    min_version: Some((1, 85)),
    install: "install Rust >= 1.85 with rustup (curl https://sh.rustup.rs | sh)",
}];

/// Names cargo refuses as a package name (keywords and the built-in crates).
const RESERVED: &str = "abstract alloc as async await become box break const continue core crate \
    do dyn else enum extern false final fn for gen if impl in let loop macro match mod move mut \
    override priv proc-macro proc_macro pub ref return self static std struct super test trait \
    true try type typeof unsafe unsized use virtual where while yield";

/// The package (and binary) name: the slug, unless cargo reserves it.
pub fn package_name(slug: &str) -> String {
    if RESERVED.split_whitespace().any(|reserved| reserved == slug) {
        format!("{slug}-server")
    } else {
        slug.to_string()
    }
}

const PROFILE: Profile = Profile {
    language: Language::Rust,
    name: "rust",
    aliases: &["rs"],
    library: "tokio + yawc (permessage-deflate through zlib-rs)",
    capabilities: &CAPABILITIES,
    toolchain: TOOLCHAIN,
    idle_memory_target: 6.0 * 1024.0,
    extension: "rs",
    single_file_refusal: Some(
        "a Rust server needs a Cargo project (Cargo.toml, dependencies); \
         there is no single-file Rust form",
    ),
};

impl LanguageDriver for Rust {
    fn profile(&self) -> &'static Profile {
        &PROFILE
    }

    fn names(&self, server: &Server) -> LangNames {
        let package = package_name(&server.slug);
        let kind = server.kind.name();
        LangNames {
            module: Some(package.replace('-', "_")),
            package: Some(package),
            healthz_body: Some(format!(
                "{{\"status\":\"ok\",\"name\":{},\"type\":\"{kind}\"}}",
                json_str(&server.name)
            )),
            ..LangNames::default()
        }
    }

    /// cargo's own freshness check is cheap and exact, so the build always
    /// runs; the binary (named after the package) is copied out of the shared
    /// target folder, which the next project with the same name overwrites.
    fn build_plan(&self, dir: &Path, names: &LangNames, opts: &BuildOptions) -> BuildPlan {
        let package = names.package.clone().unwrap_or_default();
        let own = dir.join(".wsgen").join(&package);
        cargo_build(dir, opts, &[], Path::new(&package), own)
    }

    fn next_step(&self, dir: &Path, _names: &LangNames) -> String {
        format!("cd {} && cargo run --release", dir.display())
    }

    fn client_names(&self, server: &Server) -> LangNames {
        let package = format!("{}-client", server.slug);
        LangNames {
            module: Some(package.replace('-', "_")),
            package: Some(package),
            ..LangNames::default()
        }
    }

    /// The `tail` example is built in the shared target folder, where every
    /// client's example has that name, so it is copied out at once.
    fn client_build_plan(&self, dir: &Path, names: &LangNames, opts: &BuildOptions) -> BuildPlan {
        let package = names.package.clone().unwrap_or_default();
        let own = dir.join("bin").join(format!("{package}-tail"));
        cargo_build(dir, opts, &["--examples"], Path::new("examples/tail"), own)
    }

    fn client_next_step(&self, dir: &Path) -> String {
        format!(
            "cd {} && cargo build --release --examples && cargo run --release --example tail -- --help",
            dir.display()
        )
    }

    /// Rust is parsed with syn (invalid Rust fails generation) and kept as
    /// rendered: the templates are laid out as rustfmt would.
    fn normalize(&self, path: &Path, contents: String) -> Result<String, EmitError> {
        if path.extension().is_some_and(|e| e == "rs") {
            crate::emit::normalize::rust(path, contents)
        } else {
            Ok(contents)
        }
    }
}

/// `cargo build ARGS` in `dir` with the shared target folder, then the
/// binary `built` (relative to the profile's folder there) copied to `own`
/// at once (the next project with the same name overwrites it) and launched.
fn cargo_build(
    dir: &Path,
    opts: &BuildOptions,
    args: &[&str],
    built: &Path,
    own: std::path::PathBuf,
) -> BuildPlan {
    let mut build = Cmd::new("cargo", &["build", "--quiet"])
        .env("CARGO_TARGET_DIR", &opts.cargo_target_dir.to_string_lossy());
    build.args.extend(args.iter().map(|a| a.to_string()));
    if opts.release {
        build.args.push("--release".into());
    }
    let profile = if opts.release { "release" } else { "debug" };
    BuildPlan {
        steps: vec![
            Step::Run {
                cmd: build,
                skip_if_built: None,
            },
            Step::Copy {
                from: opts.cargo_target_dir.join(profile).join(built),
                to: own.clone(),
            },
        ],
        launch: Launch {
            program: own,
            args: vec![],
            dir: dir.to_path_buf(),
            env: vec![],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_get_a_suffix() {
        assert_eq!(package_name("echo"), "echo");
        assert_eq!(package_name("test"), "test-server");
        assert_eq!(package_name("self"), "self-server");
    }

    #[test]
    fn the_binary_is_named_after_the_package() {
        let names = LangNames {
            package: Some("test-server".into()),
            ..LangNames::default()
        };
        let opts = BuildOptions {
            release: true,
            cargo_target_dir: "/t".into(),
            ..BuildOptions::default()
        };
        let plan = Rust.build_plan(Path::new("/p"), &names, &opts);
        assert_eq!(
            plan.steps[1],
            Step::Copy {
                from: "/t/release/test-server".into(),
                to: "/p/.wsgen/test-server".into()
            }
        );
        assert_eq!(plan.launch.program, Path::new("/p/.wsgen/test-server"));
    }
}
