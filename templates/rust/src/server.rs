//! The listener: accept connections, route each request, and shut down
//! gracefully (stop accepting, close every WebSocket with 1001, wait up to
//! [`SHUTDOWN_GRACE`]).
//!
//! Each TCP connection is one task and nothing more: no HTTP server state,
//! no per-connection channels or helper tasks.

use crate::config::Config;
use crate::connection;
use crate::handshake;
use crate::http::{self, ReadError, Response};
use crate::shutdown::Signals;
use crate::spec;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time;
use yawc::{CompressionLevel, DeflatePool, Options};

/// How long open connections get to finish their closing handshake on shutdown.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long a client has to send its request head.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Initial size of a WebSocket's read and write buffers. They grow for larger
/// frames and shrink back afterwards, so an idle connection stays small.
const BUFFER_CAPACITY: usize = 1024;

/// What every connection task shares.
pub struct Server {
    /// The configuration the server runs with.
    pub config: Config,
    /// yawc's options for every WebSocket.
    pub options: Options,
    next_id: AtomicU64,
    open: AtomicUsize,
    stopping: watch::Receiver<bool>,
}

impl Server {
    fn new(config: Config, stopping: watch::Receiver<bool>) -> Server {
        let max_payload = usize::try_from(config.max_payload).unwrap_or(usize::MAX);
        let options = Options::default()
            .with_max_payload_read(max_payload.saturating_add(1))
            .with_read_buffer_capacity(BUFFER_CAPACITY)
            .with_write_buffer_capacity(BUFFER_CAPACITY)
            .with_compression_level(CompressionLevel::fast())
            .with_compression_threshold(compression_threshold())
            .with_deflate_pool(DeflatePool::new(4));
        Server {
            config,
            options,
            next_id: AtomicU64::new(1),
            open: AtomicUsize::new(0),
            stopping,
        }
    }

    /// Registers a new WebSocket: its id, and a guard that counts it as open.
    pub fn open_connection(&self) -> (u64, OpenGuard<'_>) {
        self.open.fetch_add(1, Ordering::Relaxed);
        (self.next_id.fetch_add(1, Ordering::Relaxed), OpenGuard(&self.open))
    }

    /// A receiver that changes when the server starts shutting down.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.clone()
    }
}

/// The size from which messages are compressed: the spec's threshold, but at
/// least 1 byte. An empty message is always sent uncompressed (RFC 7692 leaves
/// that to the sender): yawc 0.5 spins forever compressing an empty message
/// after an earlier one when the context is kept (zlib answers a second sync
/// flush without input with no output at all).
fn compression_threshold() -> usize {
    usize::try_from(spec::DEFLATE.threshold)
        .unwrap_or(usize::MAX)
        .max(1)
}

/// Counts a WebSocket as open until dropped.
pub struct OpenGuard<'a>(&'a AtomicUsize);

impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves until SIGTERM or SIGINT, then shuts down gracefully.
pub async fn run(listener: TcpListener, config: Config, mut signals: Signals) {
    let (stop, stopping) = watch::channel(false);
    let server = Arc::new(Server::new(config, stopping));
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            () = signals.recv() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    tasks.spawn(handle(stream, peer, Arc::clone(&server)));
                }
                Err(err) => {
                    eprintln!("accept failed: {err}");
                    time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drop(listener);
    eprintln!(
        "shutting down: closing {} connections",
        server.open.load(Ordering::Relaxed)
    );
    stop.send_replace(true);
    let all_done = async { while tasks.join_next().await.is_some() {} };
    let _ = time::timeout(SHUTDOWN_GRACE, all_done).await;
}

/// One TCP connection: read the request, then answer it or run the WebSocket.
async fn handle(mut stream: TcpStream, peer: SocketAddr, server: Arc<Server>) {
    let _ = stream.set_nodelay(true);
    let request = match time::timeout(REQUEST_TIMEOUT, http::read_request(&mut stream)).await {
        Ok(Ok(request)) => request,
        Ok(Err(ReadError::Malformed)) => {
            return Response::text("400 Bad Request", "malformed HTTP request\n").send(&mut stream).await;
        }
        Ok(Err(ReadError::TooLarge)) => {
            return Response::text("431 Request Header Fields Too Large", "request head too large\n")
                .send(&mut stream)
                .await;
        }
        Ok(Err(ReadError::Closed)) | Err(_) => return,
    };
    if request.is_upgrade() && request.path == spec::PATH {
        match handshake::accept(&request, server.config.compression) {
            Ok(accepted) => {
                drop(request);
                connection::serve(stream, peer, accepted, &server).await;
            }
            Err(rejected) => rejected.response().send(&mut stream).await,
        }
    } else if !request.is_upgrade() && request.path == "/healthz" && request.method == "GET" {
        Response::health().send(&mut stream).await;
    } else {
        Response::not_found().send(&mut stream).await;
    }
}
