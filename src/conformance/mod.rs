//! The server conformance suite: Autobahn-numbered cases for categories 1-7,
//! 9, 10, 12 and 13, plus an opening-handshake suite (`h.*`), run
//! concurrently against any `ws://` server.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use wsgen::conformance::{Suite, SuiteOptions, Scale};
//! let suite = Suite::new(Scale::Quick)
//!     .select(&["1.*".into()], &[])
//!     .map_err(anyhow::Error::msg)?;
//! let report = suite.run("ws://127.0.0.1:9001/", &SuiteOptions::default(), |_| {}).await?;
//! assert_eq!(report.count(wsgen::conformance::Verdict::Fail), 0);
//! # Ok(()) }
//! ```

pub mod case;
pub mod catalog;
pub mod corpus;
pub mod hs_cases;
pub mod perf;
pub mod report;
pub mod runner;
pub mod utf8_cases;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use case::{Case, Verdict};
pub use perf::Scale;
pub use report::SuiteReport;
pub use runner::CaseResult;

use crate::wire::WsUrl;

/// A set of cases to run.
#[derive(Debug, Clone)]
pub struct Suite {
    pub cases: Vec<Case>,
}

/// How to run a suite.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// Cases running at once, each on its own connection.
    pub jobs: usize,
    pub connect_timeout: Duration,
    /// Subprotocols every connection offers (for servers that require
    /// one); handshake cases that make their own offer keep it.
    pub protocols: Vec<String>,
    /// Headers every request carries (`--header`, `--origin`, `--token`),
    /// unless a handshake case sends that header itself.
    pub headers: Vec<(String, String)>,
    /// TLS client configuration for `wss://` URLs.
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl Default for SuiteOptions {
    fn default() -> Self {
        SuiteOptions {
            jobs: default_jobs(),
            connect_timeout: Duration::from_secs(5),
            protocols: Vec::new(),
            headers: Vec::new(),
            tls: None,
        }
    }
}

/// Default concurrency. Most cases spend their time waiting on timers, so
/// this is well above the core count (see docs/conformance.md).
pub fn default_jobs() -> usize {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    (cores * 8).clamp(8, 64)
}

impl Suite {
    /// Every case: `h.*` first, then Autobahn's categories in order.
    pub fn new(scale: Scale) -> Self {
        let mut cases = hs_cases::cases();
        cases.extend(catalog::cases());
        cases.extend(perf::cases(scale));
        cases.sort_by_key(|a| id_key(&a.id));
        Suite { cases }
    }

    /// Keeps cases matching any of `include` (all if empty) and none of
    /// `exclude`. Patterns: `1.*`, `6.4.*`, `7.1.1`, `h.*`, `*`. A pattern
    /// that matches no case is an error.
    pub fn select(mut self, include: &[String], exclude: &[String]) -> Result<Self, String> {
        for p in include.iter().chain(exclude) {
            if !self.cases.iter().any(|c| glob(p, &c.id)) {
                return Err(format!(
                    "pattern {p:?} matches no case (ids look like 1.1.1, 6.4.*, 13.7.18, h.3)"
                ));
            }
        }
        self.cases.retain(|c| {
            (include.is_empty() || include.iter().any(|p| glob(p, &c.id)))
                && !exclude.iter().any(|p| glob(p, &c.id))
        });
        Ok(self)
    }

    /// Runs the cases; `progress` is called after each case completes.
    pub async fn run(
        &self,
        url: &str,
        opts: &SuiteOptions,
        progress: impl Fn(&CaseResult) + Send + Sync + 'static,
    ) -> Result<SuiteReport, crate::wire::WireError> {
        let parsed = WsUrl::parse(url)?;
        // Fail early with a clear message when nothing listens there.
        // (and, for wss://, with the TLS error when the certificate is not trusted).
        crate::wire::open(&parsed, opts.connect_timeout, opts.tls.as_ref()).await?;
        let ro = Arc::new(runner::RunOptions {
            url: parsed,
            url_str: url.to_string(),
            connect_timeout: opts.connect_timeout,
            protocols: opts.protocols.clone(),
            headers: opts.headers.clone(),
            tls: opts.tls.clone(),
        });
        let sem = Arc::new(tokio::sync::Semaphore::new(opts.jobs.max(1)));
        let progress = Arc::new(progress);
        let start = Instant::now();
        let mut handles = Vec::with_capacity(self.cases.len());
        // Long cases first so they overlap with the many short ones.
        let mut order: Vec<usize> = (0..self.cases.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(weight(&self.cases[i])));
        for i in order {
            let case = self.cases[i].clone();
            let ro = ro.clone();
            let sem = sem.clone();
            let progress = progress.clone();
            handles.push((
                i,
                tokio::spawn(async move {
                    let _permit = sem.acquire_owned().await.expect("semaphore open");
                    let r = runner::run_case(&case, &ro).await;
                    progress(&r);
                    r
                }),
            ));
        }
        let mut results: Vec<(usize, CaseResult)> = Vec::with_capacity(handles.len());
        for (i, h) in handles {
            let r = match h.await {
                Ok(r) => r,
                Err(e) => {
                    let c = &self.cases[i];
                    let mut r = runner::CaseResult {
                        id: c.id.clone(),
                        description: c.description.clone(),
                        expectation: c.expectation.clone(),
                        verdict: Verdict::Fail,
                        behavior: "FAILED".into(),
                        behavior_close: "FAILED".into(),
                        reason: format!("internal error: {e}"),
                        expected: vec![],
                        observed: vec![],
                        close: Default::default(),
                        duration_ms: 0.0,
                        wirelog: vec![],
                        stats: None,
                    };
                    r.reason = format!("internal error running the case: {e}");
                    r
                }
            };
            results.push((i, r));
        }
        results.sort_by_key(|(i, _)| *i);
        Ok(SuiteReport::new(
            url,
            results.into_iter().map(|(_, r)| r).collect(),
            start.elapsed(),
            opts.jobs,
        ))
    }
}

/// Rough cost of a case, to start the slow ones first.
fn weight(c: &Case) -> u64 {
    match &c.body {
        case::Body::Load(l) => {
            (l.size * l.count) as u64 / 1024 + l.size.checked_div(l.chop).unwrap_or(0) as u64 + 10
        }
        case::Body::Script(s) => {
            s.actions
                .iter()
                .map(|a| {
                    if let case::Action::Wait { ms, .. } = a {
                        *ms
                    } else {
                        0
                    }
                })
                .sum::<u64>()
                / 10
        }
        case::Body::Handshake(_) => 0,
    }
}

/// Sort key: `h` first, then numeric components.
pub fn id_key(id: &str) -> Vec<u32> {
    id.split('.')
        .map(|p| {
            if p == "h" {
                0
            } else {
                p.parse::<u32>().map(|n| n + 1).unwrap_or(u32::MAX)
            }
        })
        .collect()
}

/// `*` matches any run of characters; a pattern without `*` must match
/// exactly, or be a prefix ending at a dot boundary (`6.4` = `6.4.*`).
pub fn glob(pattern: &str, id: &str) -> bool {
    fn m(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => m(&p[1..], s) || (!s.is_empty() && m(p, &s[1..])),
            (Some(a), Some(b)) if a == b => m(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let pattern = pattern.trim();
    m(pattern.as_bytes(), id.as_bytes())
        || (!pattern.contains('*') && id.starts_with(&format!("{pattern}.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_counts() {
        let s = Suite::new(Scale::Quick);
        let count = |p: &str| s.cases.iter().filter(|c| glob(p, &c.id)).count();
        assert_eq!(count("1.*"), 16);
        assert_eq!(count("2.*"), 11);
        assert_eq!(count("3.*"), 7);
        assert_eq!(count("4.*"), 10);
        assert_eq!(count("5.*"), 20);
        assert_eq!(count("6.*"), 145);
        assert_eq!(count("7.*"), 37);
        assert_eq!(count("9.*"), 54);
        assert_eq!(count("10.*"), 1);
        assert_eq!(count("12.*"), 90);
        assert_eq!(count("13.*"), 126);
        let mut ids: Vec<&str> = s.cases.iter().map(|c| c.id.as_str()).collect();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate ids");
    }

    #[test]
    fn globbing() {
        assert!(glob("1.*", "1.1.1"));
        assert!(!glob("1.*", "10.1.1"));
        assert!(glob("6.4.*", "6.4.2"));
        assert!(glob("6.4", "6.4.2"));
        assert!(!glob("6.4", "6.40.1"));
        assert!(glob("*", "h.1"));
        assert!(glob("7.1.1", "7.1.1"));
    }
}
