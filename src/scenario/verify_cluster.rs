//! `wsgen verify` for a spec with `backplane: redis` (docs/cluster.md): a
//! private Redis for the run; per language, the ordinary suites on a
//! cluster of two instances with the clients spread over both, and the
//! cluster suites (`cluster: true`), each scenario on a fresh cluster of
//! its own (its own key prefix: rooms never leak between scenarios); with
//! several languages, one more cluster mixing them runs the cluster suites.

use super::cluster::{self, Cluster, SharedRedis};
use super::engine::{self, Target};
use super::model::{Action, Body, Scenario, Suite};
use super::verify::{self, LanguageReport, Security, SuiteResult, VerifyOptions};
use crate::ir::{Backplane, Server};
use crate::lang::Language;
use crate::runner::ServerProcess;
use crate::runner::redis::RedisServer;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Instances of the cluster the ordinary suites run on.
pub const SPREAD_INSTANCES: usize = 2;

pub fn is_cluster_spec(server: &Server) -> bool {
    server
        .chat
        .as_ref()
        .is_some_and(|c| c.backplane == Backplane::Redis)
}

/// The run's private Redis; a missing `redis-server` says how to install it.
pub fn private_redis() -> Result<SharedRedis, String> {
    RedisServer::start()
        .map(|r| Arc::new(Mutex::new(r)))
        .map_err(|e| format!("a spec with `backplane: redis` is verified on a private Redis: {e}"))
}

/// The cluster an ordinary suite's scenarios run on (clients spread over
/// its instances): instance 0's process (for the handshake suite and the
/// shutdown check) and the cluster.
pub fn boot_spread(
    c: &verify::Cluster,
    env: &[(String, String)],
    log_dir: &Path,
    name: &str,
) -> Result<(ServerProcess, Option<Arc<Cluster>>), String> {
    let cl = Cluster::boot(
        Cluster::new_prefix(),
        &c.members,
        SPREAD_INSTANCES,
        env,
        &[],
        c.redis.clone(),
        log_dir,
        name,
    )?;
    let first = cl.take(0).ok_or("instance 0 of the cluster is not running")?;
    Ok((first, Some(Arc::new(cl))))
}

/// Whether a scenario stops or starts processes (it cannot share a cluster).
pub fn changes_processes(sc: &Scenario) -> bool {
    let Body::Session { steps, .. } = &sc.body else {
        return false;
    };
    steps.iter().any(|s| {
        matches!(
            s.action,
            Action::KillInstance(_)
                | Action::StartInstance(_)
                | Action::RestartInstances
                | Action::StopRedis
                | Action::StartRedis
        )
    })
}

/// Every applicable scenario of the cluster suites, each on a fresh
/// cluster; the outcome goes to `results[idx]`. The cluster is stopped
/// with SIGTERM after the scenario: every instance must exit 0.
#[allow(clippy::too_many_arguments)]
pub fn run_cluster_suites(
    rt: &tokio::runtime::Runtime,
    server: &Server,
    c: &verify::Cluster,
    suites: &[(usize, &Suite)],
    sec: &Security,
    log_dir: &Path,
    opts: &VerifyOptions,
    label: &str,
    results: &mut [SuiteResult],
    logs: &mut BTreeMap<String, String>,
) {
    let mut n = 0;
    for (idx, suite) in suites {
        for sc in suite.scenarios.iter().filter(|sc| sc.applies(server)) {
            n += 1;
            let instance = format!("cluster{n}");
            if opts.progress {
                eprintln!("wsgen: [{label}] {} / {}", suite.name, sc.name);
            }
            let (r, log) = cluster_scenario(rt, server, c, sc, sec, log_dir, &instance);
            if let Some(l) = log {
                logs.insert(instance.clone(), l);
            }
            results[*idx].push_case(&sc.name, r, Some(&sc.at), Some(&instance));
        }
    }
}

fn cluster_scenario(
    rt: &tokio::runtime::Runtime,
    server: &Server,
    c: &verify::Cluster,
    sc: &Scenario,
    sec: &Security,
    log_dir: &Path,
    name: &str,
) -> (Result<(), String>, Option<String>) {
    let shape = sc.cluster.clone().unwrap_or(super::model::ClusterShape {
        instances: super::model::ClusterShape::DEFAULT_INSTANCES,
        instance_env: Vec::new(),
    });
    let prefix = Cluster::new_prefix();
    let own = |v: &str| v.replace("${cluster.prefix}", &prefix);
    let env: Vec<(String, String)> = sc.env.iter().map(|(k, v)| (k.clone(), own(v))).collect();
    let booted = sec.env(&env).and_then(|env| {
        let mut per = Vec::new();
        for (i, e) in &shape.instance_env {
            let mut x = Vec::new();
            for (k, v) in e {
                x.push((k.clone(), sec.expand(&own(v))?));
            }
            per.push((*i, x));
        }
        Cluster::boot(
            prefix.clone(),
            &c.members,
            shape.instances,
            &env,
            &per,
            c.redis.clone(),
            log_dir,
            name,
        )
        .map(|cl| (cl, env))
    });
    let (cl, env) = match booted {
        Ok(x) => x,
        Err(e) => {
            return (
                Err(format!("the cluster did not start: {e}")),
                Some(redis_log(c)),
            );
        }
    };
    let cl = Arc::new(cl);
    let target = Target {
        tls: sec.serves_tls(&env),
        material: sec.material.as_ref(),
        log: cl.log_path(0),
        pid: cl.pid(0),
        dir: std::fs::canonicalize(&c.members[0].launch.dir).ok(),
        cluster: Some(cl.clone()),
        spread: false,
        ..Target::new(
            cl.addr(0).unwrap_or_else(|_| ([127, 0, 0, 1], 0).into()),
            server,
        )
    };
    let started = Instant::now();
    let r = rt.block_on(engine::run_session(sc, &target));
    drop(target);
    // Redis back (a failed outage scenario), then every instance stops cleanly.
    let r = r.and_then(|()| {
        let mut redis = cluster::lock(&c.redis);
        if redis.running() {
            Ok(())
        } else {
            redis
                .restart()
                .and(Err("the scenario left Redis stopped".to_string()))
        }
    });
    let stopped = cl
        .stop_all()
        .map_err(|e| format!("after the scenario, SIGTERM: {e}"));
    let r = r.and(stopped);
    let log = r.is_err().then(|| {
        format!(
            "{}--- redis ---\n{}(the scenario ran {:.1}s)\n",
            cl.logs(),
            redis_log(c),
            started.elapsed().as_secs_f64()
        )
    });
    (r, log)
}

fn redis_log(c: &verify::Cluster) -> String {
    let text = cluster::lock(&c.redis).logs();
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(20)..];
    let mut out = tail.join("\n");
    out.push('\n');
    out
}

/// One cluster mixing every language that built (instance `i` runs
/// language `i % n`), running the cluster suites.
pub fn verify_mixed(
    server: &Server,
    langs: &[Language],
    members: &[cluster::Member],
    suites: &[Suite],
    opts: &VerifyOptions,
    dir: &Path,
    redis: &SharedRedis,
) -> LanguageReport {
    let start = Instant::now();
    let name: Vec<String> = langs.iter().map(|l| l.to_string()).collect();
    let name = name.join("+");
    let mut setup = SuiteResult::new("setup");
    let built: Vec<&str> = members.iter().map(|m| m.label.as_str()).collect();
    let missing: Vec<String> = langs
        .iter()
        .map(|l| l.to_string())
        .filter(|l| !built.contains(&l.as_str()))
        .collect();
    let logs_dir = dir.join("logs");
    let ready = if !missing.is_empty() {
        Err(format!(
            "did not build (see its own row): {}",
            missing.join(", ")
        ))
    } else {
        std::fs::create_dir_all(&logs_dir).map_err(|e| format!("{}: {e}", logs_dir.display()))
    };
    setup.push_case(
        format!("one cluster of {}", built.join(", ")),
        ready.clone(),
        None,
        None,
    );
    let (mut out, logs) = match ready {
        Ok(()) => {
            let c = verify::Cluster {
                members: members.to_vec(),
                redis: redis.clone(),
                ordinary: false,
            };
            verify::verify_target_on(
                server,
                &members[0].launch,
                suites,
                &logs_dir,
                opts,
                &name,
                Some(&c),
            )
        }
        Err(_) => (Vec::new(), BTreeMap::new()),
    };
    out.insert(0, setup);
    LanguageReport {
        language: name,
        suites: out,
        logs,
        dir: opts.keep.then(|| dir.display().to_string()),
        wall_secs: start.elapsed().as_secs_f64(),
    }
}
