//! Two chat pages (templates/common/chat-page.html.tera) in headless
//! Chromium on two instances of DIFFERENT languages of one chat cluster
//! (specs/chat-redis.yaml, one private redis-server): both join one room, a
//! message typed in either page appears in the other, in one order
//! (tests/interop/cluster_page.mjs). A missing Chromium, Node.js, toolchain
//! or redis-server fails.

mod support;

use std::process::{Command, Stdio};
use std::time::Instant;
use support::browser::{chromium, interop_dir, npm_clients};
use wsgen::lang::Language;
use wsgen::runner::{self, redis::RedisServer};

const SPEC: &str = "specs/chat-redis.yaml";

fn pages_on_two_languages(first: Language, second: Language) {
    npm_clients();
    let chromium = chromium();
    support::require_tool("redis-server", "apt-get install redis-server");
    let server = support::load(SPEC);
    let logs = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut launches = Vec::new();
    let mut dirs = Vec::new();
    for lang in [first, second] {
        support::require_toolchain(lang);
        let dir = support::generate(SPEC, lang);
        let launch = runner::prepare_project(&server, lang, dir.path(), &support::build_options())
            .unwrap_or_else(|e| panic!("{SPEC} {lang}: {e}"));
        launches.push((lang, launch));
        dirs.push(dir);
    }
    let built = started.elapsed();
    // Dropped (so stopped) on every path out, panics included: the
    // instances first, then Redis.
    let redis = RedisServer::start().expect("a private redis-server");
    let env = vec![
        ("WS_REDIS_URL".to_string(), redis.url()),
        (
            "WS_REDIS_PREFIX".to_string(),
            format!("wsgen-{:08x}", rand::random::<u32>()),
        ),
    ];
    let instances: Vec<_> = launches
        .iter()
        .map(|(lang, launch)| {
            runner::boot(launch, &env, logs.path(), &format!("{lang}-cluster"))
                .unwrap_or_else(|e| panic!("{SPEC} {lang}: {e}\nredis log:\n{}", redis.logs()))
        })
        .collect();
    let urls: Vec<String> = instances
        .iter()
        .map(|p| format!("http://127.0.0.1:{}/", p.port))
        .collect();
    let script_log = logs.path().join("script.log");
    let out = Command::new("node")
        .args(["cluster_page.mjs", &urls[0], &urls[1]])
        .current_dir(interop_dir())
        .env("CHROMIUM", &chromium)
        .stdin(Stdio::null())
        .stderr(std::fs::File::create(&script_log).expect("script log"))
        .output()
        .expect("run node (Node.js >= 20)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let server_logs = || {
        launches
            .iter()
            .zip(&instances)
            .map(|((lang, _), p)| format!("{lang} server log:\n{}", p.logs()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let result: serde_json::Value = stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| {
            panic!(
                "cluster_page.mjs printed no result ({}):\n{stdout}\n{}\n{}",
                out.status,
                std::fs::read_to_string(&script_log).unwrap_or_default(),
                server_logs()
            )
        });
    let checks = result["checks"].as_array().cloned().unwrap_or_default();
    eprintln!(
        "{first} + {second} cluster: built in {:.1} s, {} page checks in {:.1} s",
        built.as_secs_f64(),
        checks.len(),
        (started.elapsed() - built).as_secs_f64()
    );
    for c in &checks {
        let ok = c["ok"] == true;
        eprintln!(
            "  {} {} ({} ms){}",
            if ok { "ok" } else { "FAILED" },
            c["name"],
            c["ms"],
            if ok {
                String::new()
            } else {
                format!(": {}", c["error"])
            }
        );
    }
    assert!(
        out.status.success() && result["ok"] == true && checks.len() == 4,
        "{first} + {second}: the pages did not chat across the cluster:\n{stdout}\n{}\n{}",
        std::fs::read_to_string(&script_log).unwrap_or_default(),
        server_logs()
    );
    drop(instances);
    drop(redis);
}

#[test]
fn node_and_go_pages_chat_across_a_cluster() {
    pages_on_two_languages(Language::Node, Language::Go);
}
