//! A fault-injecting TCP proxy: listens on 127.0.0.1 (a free port) and
//! relays every connection to a target address, while a test (or `wsgen
//! verify --client`) breaks things on purpose:
//!
//! - [`FaultProxy::cut_all`]: every open connection is cut now;
//! - [`FaultProxy::random_cuts`]: each connection accepted from then on is
//!   cut after a delay drawn uniformly from `[a, b]` ms;
//! - [`FaultProxy::refuse`] / [`FaultProxy::refuse_for`]: new connections
//!   are refused. The proxy keeps listening, ACCEPTS each connection and
//!   resets it at once (SO_LINGER 0): the client sees its connection reset
//!   before any byte of the handshake, as from a server that is down, and
//!   the proxy records every attempt with its time ([`FaultProxy::attempts`]),
//!   so a test can check a client's backoff. (Not listening at all would
//!   give `ECONNREFUSED`, but then nobody could count the attempts.)
//! - [`FaultProxy::slow`]: each chunk relayed (either way) waits a fixed
//!   delay, and/or the relay is held to a bandwidth;
//! - [`FaultProxy::set_target`]: connections accepted from then on go to
//!   another address (a chat cluster's other instance).
//!
//! A cut closes both sockets with a reset (SO_LINGER 0): neither side gets a
//! WebSocket close frame or a clean FIN, as when a network path dies.
//!
//! The proxy runs on a runtime of its own (one worker thread), so its
//! handle is plain and synchronous: usable from `#[test]` functions, from
//! threads, and from async code alike. Dropping the handle stops it and
//! cuts whatever is still open.

use rand::Rng;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One connection attempt seen by the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// When it was accepted.
    pub at: Instant,
    /// Refused (reset at once) rather than relayed.
    pub refused: bool,
}

/// Slowing of the relay (both directions, each connection).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Slow {
    /// Wait before each chunk read is written on.
    pub per_chunk: Duration,
    /// At most this many bytes per second (0: unlimited).
    pub bytes_per_sec: u64,
}

#[derive(Debug, Default)]
struct Control {
    target: Option<SocketAddr>,
    /// Cut each newly accepted connection after uniform [a, b] ms.
    random_cut: Option<(u64, u64)>,
    /// Refuse new connections: until this instant (`None` inside: for ever).
    refuse: Option<Option<Instant>>,
    slow: Slow,
}

struct Shared {
    control: Mutex<Control>,
    /// The cut signal of every open connection, by id.
    open: Mutex<HashMap<u64, Arc<Notify>>>,
    attempts: Mutex<Vec<Attempt>>,
    next_id: AtomicU64,
    accepted: AtomicU64,
    cuts: AtomicU64,
    /// Bytes relayed, client -> target and target -> client.
    up: AtomicU64,
    down: AtomicU64,
    /// Connections whose target could not be reached.
    target_failures: AtomicU64,
}

/// A running fault proxy. Dropping it stops it.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
    stop: Arc<Notify>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("accepted", &self.accepted())
            .field("cuts", &self.cuts())
            .finish()
    }
}

impl FaultProxy {
    /// Starts a proxy on 127.0.0.1, a free port, relaying to `target`.
    pub fn start(target: SocketAddr) -> std::io::Result<FaultProxy> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("wsgen-fault-proxy")
            .enable_all()
            .build()?;
        // Bound without `block_on`, so a proxy can be started from inside
        // another runtime (an async test) too.
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let listener = {
            let _inside = runtime.enter();
            TcpListener::from_std(std_listener)?
        };
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            control: Mutex::new(Control {
                target: Some(target),
                ..Control::default()
            }),
            open: Mutex::new(HashMap::new()),
            attempts: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            cuts: AtomicU64::new(0),
            up: AtomicU64::new(0),
            down: AtomicU64::new(0),
            target_failures: AtomicU64::new(0),
        });
        let stop = Arc::new(Notify::new());
        runtime.spawn(accept_loop(listener, shared.clone(), stop.clone()));
        Ok(FaultProxy {
            addr,
            shared,
            runtime: Some(runtime),
            stop,
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:PORT` + `path` (path starting with `/`).
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    /// Connections accepted from now on go to `target`.
    pub fn set_target(&self, target: SocketAddr) {
        self.control().target = Some(target);
    }

    /// Cuts every open connection now; returns how many.
    pub fn cut_all(&self) -> usize {
        let open = self.shared.open.lock().expect("proxy state");
        for signal in open.values() {
            // notify_one keeps a permit when the relay is not waiting yet.
            signal.notify_one();
        }
        open.len()
    }

    /// Each connection accepted from now on is cut after a delay drawn
    /// uniformly from `[min_ms, max_ms]`; `None` turns it off (connections
    /// already scheduled keep their cut).
    pub fn random_cuts(&self, range: Option<(u64, u64)>) {
        self.control().random_cut = range.map(|(a, b)| (a.min(b), a.max(b)));
    }

    /// Refuse new connections (accept, record, reset) until [`Self::accept`].
    pub fn refuse(&self) {
        self.control().refuse = Some(None);
    }

    /// Refuse new connections for `d` from now.
    pub fn refuse_for(&self, d: Duration) {
        self.control().refuse = Some(Some(Instant::now() + d));
    }

    /// Relay new connections again.
    pub fn accept(&self) {
        self.control().refuse = None;
    }

    /// Slow the relay of every connection (open ones included, from their
    /// next chunk); `Slow::default()` turns it off.
    pub fn slow(&self, slow: Slow) {
        self.control().slow = slow;
    }

    /// Connections accepted (refused ones included).
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Connections cut (by [`Self::cut_all`] or a random cut) while open.
    pub fn cuts(&self) -> u64 {
        self.shared.cuts.load(Ordering::SeqCst)
    }

    /// Every connection attempt so far, oldest first.
    pub fn attempts(&self) -> Vec<Attempt> {
        self.shared.attempts.lock().expect("proxy state").clone()
    }

    /// Connections open right now.
    pub fn open_connections(&self) -> usize {
        self.shared.open.lock().expect("proxy state").len()
    }

    /// Connections whose target did not accept.
    pub fn target_failures(&self) -> u64 {
        self.shared.target_failures.load(Ordering::SeqCst)
    }

    /// Bytes relayed (client to target, target to client).
    pub fn bytes(&self) -> (u64, u64) {
        (
            self.shared.up.load(Ordering::SeqCst),
            self.shared.down.load(Ordering::SeqCst),
        )
    }

    /// A one-line account: `accepted 12, cuts 9, refused 0`.
    pub fn summary(&self) -> String {
        let refused = self.attempts().iter().filter(|a| a.refused).count();
        format!(
            "accepted {}, cuts {}, refused {refused}",
            self.accepted(),
            self.cuts()
        )
    }

    fn control(&self) -> std::sync::MutexGuard<'_, Control> {
        self.shared.control.lock().expect("proxy state")
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.notify_one();
        self.cut_all();
        if let Some(rt) = self.runtime.take() {
            // Never blocks: safe to drop from inside another runtime.
            rt.shutdown_background();
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stop: Arc<Notify>) {
    loop {
        let (client, _) = tokio::select! {
            _ = stop.notified() => return,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(_) => {
                    // Out of descriptors and the like: try again shortly.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let now = Instant::now();
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        let (target, cut_after, refused) = {
            let mut c = shared.control.lock().expect("proxy state");
            let refused = match c.refuse {
                Some(None) => true,
                Some(Some(until)) if now < until => true,
                Some(Some(_)) => {
                    c.refuse = None;
                    false
                }
                None => false,
            };
            let cut_after = c
                .random_cut
                .map(|(a, b)| Duration::from_millis(rand::rng().random_range(a..=b)));
            (c.target, cut_after, refused)
        };
        shared
            .attempts
            .lock()
            .expect("proxy state")
            .push(Attempt { at: now, refused });
        if refused {
            reset(client);
            continue;
        }
        let Some(target) = target else {
            reset(client);
            continue;
        };
        let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
        let signal = Arc::new(Notify::new());
        shared
            .open
            .lock()
            .expect("proxy state")
            .insert(id, signal.clone());
        let shared = shared.clone();
        tokio::spawn(async move {
            relay(client, target, cut_after, signal, &shared).await;
            shared.open.lock().expect("proxy state").remove(&id);
        });
    }
}

/// Close with a reset (no FIN): SO_LINGER 0, then drop.
fn reset(s: TcpStream) {
    // Deprecated because a NON-zero linger blocks the dropping thread; a
    // zero one never does.
    #[allow(deprecated)]
    let _ = s.set_linger(Some(Duration::ZERO));
    drop(s);
}

async fn relay(
    client: TcpStream,
    target: SocketAddr,
    cut_after: Option<Duration>,
    cut: Arc<Notify>,
    shared: &Shared,
) {
    let deadline = cut_after.map(|d| tokio::time::Instant::now() + d);
    let upstream = tokio::select! {
        r = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(target)) => match r {
            Ok(Ok(s)) => s,
            _ => {
                shared.target_failures.fetch_add(1, Ordering::SeqCst);
                reset(client);
                return;
            }
        },
        _ = cut.notified() => {
            shared.cuts.fetch_add(1, Ordering::SeqCst);
            reset(client);
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut ur, mut uw) = upstream.into_split();
    let pump = async {
        // Each direction ends on EOF or error; the connection ends when
        // both have (a half-close is passed on).
        let up = copy(&mut cr, &mut uw, shared, &shared.up);
        let down = copy(&mut ur, &mut cw, shared, &shared.down);
        tokio::join!(up, down);
    };
    let sleep = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    let was_cut = tokio::select! {
        _ = pump => false,
        _ = cut.notified() => true,
        _ = sleep => true,
    };
    let (client, upstream) = (
        cr.reunite(cw).expect("halves of one stream"),
        ur.reunite(uw).expect("halves of one stream"),
    );
    if was_cut {
        shared.cuts.fetch_add(1, Ordering::SeqCst);
        reset(client);
        reset(upstream);
    }
}

async fn copy(
    from: &mut tokio::net::tcp::OwnedReadHalf,
    to: &mut tokio::net::tcp::OwnedWriteHalf,
    shared: &Shared,
    counter: &AtomicU64,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let slow = shared.control.lock().expect("proxy state").slow;
        if !slow.per_chunk.is_zero() {
            tokio::time::sleep(slow.per_chunk).await;
        }
        if slow.bytes_per_sec > 0 {
            tokio::time::sleep(Duration::from_secs_f64(
                n as f64 / slow.bytes_per_sec as f64,
            ))
            .await;
        }
        // Counted before the write: whoever receives the bytes sees them counted.
        counter.fetch_add(n as u64, Ordering::SeqCst);
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// An echo server on a free port (threads, std): echoes until EOF.
    fn echo_server() -> SocketAddr {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { return };
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    loop {
                        match s.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => {
                                if s.write_all(&buf[..n]).is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
        addr
    }

    fn connect(p: &FaultProxy) -> std::net::TcpStream {
        let s = std::net::TcpStream::connect(p.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }

    fn round_trip(s: &mut std::net::TcpStream, text: &[u8]) -> std::io::Result<Vec<u8>> {
        s.write_all(text)?;
        let mut got = vec![0u8; text.len()];
        s.read_exact(&mut got)?;
        Ok(got)
    }

    /// Read until the connection ends; Ok(()) only on an end (EOF or reset).
    fn ended(s: &mut std::net::TcpStream) -> bool {
        let mut buf = [0u8; 64];
        loop {
            match s.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return false;
                }
                Err(_) => return true,
            }
        }
    }

    #[test]
    fn relays_both_ways_and_counts() {
        let p = FaultProxy::start(echo_server()).unwrap();
        let mut a = connect(&p);
        assert_eq!(round_trip(&mut a, b"hello").unwrap(), b"hello");
        let big = vec![7u8; 200_000];
        assert_eq!(round_trip(&mut a, &big).unwrap(), big);
        assert_eq!(p.accepted(), 1);
        assert_eq!(p.cuts(), 0);
        let (up, down) = p.bytes();
        assert_eq!((up, down), (200_005, 200_005));
        assert_eq!(p.open_connections(), 1);
        drop(a);
        let t = Instant::now();
        while p.open_connections() > 0 && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(p.open_connections(), 0, "a closed connection is forgotten");
    }

    #[test]
    fn cut_all_ends_every_open_connection_and_new_ones_still_work() {
        let p = FaultProxy::start(echo_server()).unwrap();
        let mut a = connect(&p);
        let mut b = connect(&p);
        round_trip(&mut a, b"a").unwrap();
        round_trip(&mut b, b"b").unwrap();
        assert_eq!(p.cut_all(), 2);
        assert!(ended(&mut a) && ended(&mut b));
        assert_eq!(p.cuts(), 2);
        let mut c = connect(&p);
        assert_eq!(round_trip(&mut c, b"c").unwrap(), b"c");
        assert_eq!(p.accepted(), 3);
    }

    #[test]
    fn random_cuts_fall_in_their_window() {
        let p = FaultProxy::start(echo_server()).unwrap();
        p.random_cuts(Some((150, 250)));
        let mut lifetimes = Vec::new();
        for _ in 0..4 {
            let mut s = connect(&p);
            let t = Instant::now();
            round_trip(&mut s, b"x").unwrap();
            assert!(ended(&mut s), "the connection was not cut");
            lifetimes.push(t.elapsed());
        }
        for l in &lifetimes {
            assert!(
                *l >= Duration::from_millis(140) && *l < Duration::from_millis(900),
                "{lifetimes:?}"
            );
        }
        assert_eq!(p.cuts(), 4);
        p.random_cuts(None);
        let mut s = connect(&p);
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(round_trip(&mut s, b"still here").unwrap(), b"still here");
    }

    #[test]
    fn refusing_resets_at_once_and_records_each_attempt() {
        let p = FaultProxy::start(echo_server()).unwrap();
        p.refuse();
        for _ in 0..3 {
            let mut s = connect(&p);
            // Nothing is relayed: the reset comes before any answer.
            let _ = s.write_all(b"hello");
            assert!(ended(&mut s));
        }
        let attempts = p.attempts();
        assert_eq!(attempts.len(), 3);
        assert!(attempts.iter().all(|a| a.refused));
        assert!(attempts.windows(2).all(|w| w[0].at <= w[1].at));
        assert_eq!(p.bytes(), (0, 0));
        p.accept();
        let mut s = connect(&p);
        assert_eq!(round_trip(&mut s, b"ok").unwrap(), b"ok");
        assert!(!p.attempts()[3].refused);

        p.refuse_for(Duration::from_millis(200));
        let mut s = connect(&p);
        let _ = s.write_all(b"x");
        assert!(ended(&mut s));
        std::thread::sleep(Duration::from_millis(250));
        let mut s = connect(&p);
        assert_eq!(round_trip(&mut s, b"back").unwrap(), b"back");
    }

    #[test]
    fn slow_mode_delays_each_chunk() {
        let p = FaultProxy::start(echo_server()).unwrap();
        let mut s = connect(&p);
        let t = Instant::now();
        round_trip(&mut s, b"fast").unwrap();
        let fast = t.elapsed();
        p.slow(Slow {
            per_chunk: Duration::from_millis(100),
            bytes_per_sec: 0,
        });
        let t = Instant::now();
        round_trip(&mut s, b"slow").unwrap();
        // One chunk each way.
        assert!(
            t.elapsed() >= Duration::from_millis(200),
            "{:?}",
            t.elapsed()
        );
        assert!(fast < Duration::from_millis(100), "{fast:?}");
        p.slow(Slow {
            per_chunk: Duration::ZERO,
            bytes_per_sec: 20_000,
        });
        let t = Instant::now();
        round_trip(&mut s, &[1u8; 4000]).unwrap();
        // 4000 bytes at 20 kB/s each way: >= 0.4 s.
        assert!(
            t.elapsed() >= Duration::from_millis(380),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn a_new_target_takes_the_next_connections() {
        let p = FaultProxy::start(echo_server()).unwrap();
        let mut a = connect(&p);
        round_trip(&mut a, b"1").unwrap();
        // A target that answers with a fixed greeting.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let other = l.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let mut s = s;
                let _ = s.write_all(b"other");
            }
        });
        p.set_target(other);
        // The open connection still goes to the first target.
        assert_eq!(round_trip(&mut a, b"2").unwrap(), b"2");
        let mut b = connect(&p);
        let mut got = [0u8; 5];
        b.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"other");
    }

    #[test]
    fn a_dead_target_is_a_reset_and_counted() {
        let dead = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let p = FaultProxy::start(dead).unwrap();
        let mut s = connect(&p);
        assert!(ended(&mut s));
        let t = Instant::now();
        while p.target_failures() == 0 && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(p.target_failures(), 1);
    }
}
