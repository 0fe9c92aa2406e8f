//! Calibration: the suite passes a correct server and flags exactly the
//! cases each deliberately broken server should fail.

#[path = "fixtures/conformance/servers.rs"]
mod servers;

use std::collections::BTreeSet;

use servers::{Flaws, spawn};
use wsgen::conformance::{Scale, Suite, SuiteOptions, Verdict, glob};

async fn run(flaws: Flaws, patterns: &[&str]) -> wsgen::conformance::SuiteReport {
    let server = spawn(flaws).await;
    let include: Vec<String> = patterns.iter().map(|s| s.to_string()).collect();
    let suite = Suite::new(Scale::Quick).select(&include, &[]).unwrap();
    let opts = SuiteOptions {
        jobs: 32,
        ..Default::default()
    };
    let report = suite.run(&server.url, &opts, |_| {}).await.unwrap();
    drop(server);
    report
}

fn fails(r: &wsgen::conformance::SuiteReport) -> BTreeSet<String> {
    r.ids(Verdict::Fail).into_iter().collect()
}

/// Ids of the suite matching any pattern.
fn ids(patterns: &[&str]) -> BTreeSet<String> {
    Suite::new(Scale::Quick)
        .cases
        .iter()
        .filter(|c| patterns.iter().any(|p| glob(p, &c.id)))
        .map(|c| c.id.clone())
        .collect()
}

/// 6.x cases whose payload is invalid UTF-8, decided by std (an oracle
/// independent of the suite's own labels): 6.3.*, 6.4.* and the invalid
/// sequences of 6.5 ... 6.23.
fn invalid_utf8_ids() -> BTreeSet<String> {
    let mut out = ids(&["6.3.*", "6.4.*"]);
    for (i, (_, seqs)) in wsgen::conformance::utf8_cases::sequences()
        .iter()
        .enumerate()
    {
        for (j, (_, payload)) in seqs.iter().enumerate() {
            if std::str::from_utf8(payload).is_err() {
                out.insert(format!("6.{}.{}", i + 5, j + 1));
            }
        }
    }
    out
}

fn valid_utf8_6x_ids() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, (_, seqs)) in wsgen::conformance::utf8_cases::sequences()
        .iter()
        .enumerate()
    {
        for (j, (_, payload)) in seqs.iter().enumerate() {
            if std::str::from_utf8(payload).is_ok() {
                out.insert(format!("6.{}.{}", i + 5, j + 1));
            }
        }
    }
    out
}

fn show(r: &wsgen::conformance::SuiteReport) -> String {
    r.text()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_server_passes_everything() {
    let r = run(Flaws::default(), &["*"]).await;
    assert_eq!(r.count(Verdict::Fail), 0, "{}", show(&r));
    assert_eq!(r.count(Verdict::NonStrict), 0, "{}", show(&r));
    // INFO: 7.1.6 and 7.13.x (undefined by the spec), and the offers that
    // need a compression window of 8 bits, which the reference declines.
    let info: BTreeSet<String> = r.ids(Verdict::Info).into_iter().collect();
    assert_eq!(
        info,
        ids(&["7.1.6", "7.13.*", "13.3.*", "13.5.*"]),
        "{}",
        show(&r)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepts_invalid_utf8() {
    let r = run(
        Flaws {
            accept_invalid_utf8: true,
            ..Default::default()
        },
        &["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"],
    )
    .await;
    assert_eq!(fails(&r), invalid_utf8_ids(), "{}", show(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echoes_with_the_wrong_opcode() {
    let r = run(
        Flaws {
            wrong_opcode_echo: true,
            ..Default::default()
        },
        &["*"],
    )
    .await;
    let mut want = ids(&[
        "1.*", "3.2", "3.3", "3.4", "4.1.3", "4.1.4", "4.1.5", "4.2.3", "4.2.4", "4.2.5", "5.3",
        "5.4", "5.5", "5.6", "5.7", "5.8", "5.15", "5.19", "5.20", "6.1.*", "6.2.*", "7.1.1",
        "9.*", "10.1.1", "12.*", "13.1.*", "13.2.*", "13.4.*", "13.6.*", "13.7.*",
    ]);
    want.extend(valid_utf8_6x_ids());
    assert_eq!(fails(&r), want, "{}", show(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignores_rsv_bits() {
    let r = run(
        Flaws {
            ignore_rsv: true,
            ..Default::default()
        },
        &["1.*", "2.*", "3.*", "4.*", "5.*", "7.*"],
    )
    .await;
    // 3.7 (close frame with RSV = 7) is not flagged: this server answers it
    // with an empty close frame, and Autobahn's rule accepts a failing
    // server's close without a code ("1002 or empty").
    assert_eq!(
        fails(&r),
        ids(&["3.1", "3.2", "3.3", "3.4", "3.5", "3.6"]),
        "{}",
        show(&r)
    );
}

/// `ws`'s default `maxFragments` (16,384 frames per message) fails Autobahn's
/// 9.3.1 and 9.4.1 (4 MiB in 64-octet fragments: 65,536 frames). The default
/// run keeps Autobahn's sizes in category 9, so it finds that too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fragment_count_limit_fails_the_default_suite() {
    let r = run(
        Flaws {
            max_fragments: Some(16_384),
            ..Default::default()
        },
        &["9.3.*", "9.4.*"],
    )
    .await;
    assert_eq!(fails(&r), ids(&["9.3.1", "9.4.1"]), "{}", show(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_answers_ping() {
    let r = run(
        Flaws {
            never_pong: true,
            ..Default::default()
        },
        &["1.*", "2.*", "3.*", "4.*", "5.*", "7.*", "10.*"],
    )
    .await;
    assert_eq!(
        fails(&r),
        ids(&[
            "2.1", "2.2", "2.3", "2.4", "2.6", "2.9", "2.10", "2.11", "5.6", "5.7", "5.8", "5.19",
            "5.20"
        ]),
        "{}",
        show(&r)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_accept_key() {
    let r = run(
        Flaws {
            wrong_accept: true,
            ..Default::default()
        },
        &["h.*", "1.*", "2.1", "12.1.1", "13.1.1"],
    )
    .await;
    let want = ids(&[
        "h.1", "h.15", "h.16", "h.19", "h.20", "h.21", "h.22", "h.23", "h.24", "h.25", "h.26",
        "h.27", "h.28", "h.29", "h.30", "h.31", "h.32", "h.33", "h.34", "1.*", "2.1", "12.1.1",
        "13.1.1",
    ]);
    assert_eq!(fails(&r), want, "{}", show(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fails_connections_with_an_invalid_close_code() {
    let r = run(
        Flaws {
            invalid_close_code: true,
            ..Default::default()
        },
        &["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"],
    )
    .await;
    // Every case in which the server has to fail the connection.
    let mut want = ids(&[
        "2.5", "3.*", "4.*", "5.1", "5.2", "5.9", "5.10", "5.11", "5.12", "5.13", "5.14", "5.15",
        "5.16", "5.17", "5.18", "7.3.2", "7.3.6", "7.5.1", "7.9.*",
    ]);
    want.extend(invalid_utf8_ids());
    assert_eq!(fails(&r), want, "{}", show(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declining_deflate_is_unimplemented_not_fail() {
    let r = run(
        Flaws {
            no_deflate: true,
            ..Default::default()
        },
        &["12.1.*", "13.*", "h.27"],
    )
    .await;
    assert_eq!(r.count(Verdict::Fail), 0, "{}", show(&r));
    assert_eq!(r.count(Verdict::Info), r.cases.len(), "{}", show(&r));
}
