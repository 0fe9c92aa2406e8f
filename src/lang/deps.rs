//! The one table of pinned dependency versions of generated projects.
//! Templates read them as `deps.<key>`; bump a version here and every
//! output and snapshot follows.

use super::Language;

/// (language, key used in templates, pinned version)
pub const DEPS: &[(Language, &str, &str)] = &[
    // Node.js
    (Language::Node, "ws", "8.23.0"),
    // JWT verification (auth type jwt): zero dependencies, refuses `none`
    // and any key of the other family than the algorithm by itself. ESM only;
    // the single-file form loads it with require(esm) (Node >= 20.19).
    (Language::Node, "jose", "6.2.19"),
    // GET /metrics: the Prometheus text format.
    (Language::Node, "prom_client", "15.1.3"),
    // The chat backplane (`backplane: redis`, docs/cluster.md): node-redis,
    // the newest 5.x (Node >= 18.19).
    (Language::Node, "redis", "5.12.4"),
    // The generated project's tests make their TLS certificate with it (a
    // dev dependency).
    (Language::Node, "selfsigned", "5.5.0"),
    // The formatter the generated project is checked with (its README's
    // `prettier --check`, tests/generated_hygiene.rs); not a dependency.
    (Language::Node, "prettier", "3.10.2"),
    // The generated client library (`--client`, docs/protocol/clients-v1.md):
    // TypeScript compiled with tsc (5.9, the last JavaScript-implemented
    // major before the native 7.x), and the type packages its strict check
    // needs (Node 20's types, as the package's `engines`). Dev dependencies;
    // its one runtime dependency is `ws` above.
    (Language::Node, "client_typescript", "5.9.3"),
    (Language::Node, "client_types_node", "20.19.43"),
    (Language::Node, "client_types_ws", "8.18.2"),
    // Python
    // websockets 17 needs Python >= 3.11; 16.1.1 is the newest for >= 3.10.
    (Language::Python, "websockets", "16.1.1"),
    // JWT verification (auth: jwt); `cryptography` gives it RS/PS/ES/EdDSA
    // and lets the project's tests make a self-signed TLS certificate.
    (Language::Python, "pyjwt", "2.15.1"),
    (Language::Python, "cryptography", "51.0.1"),
    // GET /metrics (docs/protocol/server-security.md, "Metrics").
    (Language::Python, "prometheus_client", "0.26.0"),
    // The chat Redis backplane (backplane: redis; docs/cluster.md), through
    // its asyncio API: 8.2 needs Python >= 3.11; 8.1.0 is the newest for
    // >= 3.10 (it pulls async-timeout below Python 3.11.3).
    (Language::Python, "redis", "8.1.0"),
    (Language::Python, "pytest", "9.2.0"),
    (Language::Python, "setuptools", "84.2.1"),
    // The linter and formatter the generated project is checked with (its
    // README's `ruff check`/`ruff format --check`, tests/generated_hygiene.rs).
    (Language::Python, "ruff", "0.17.6"),
    // The type checker the client library (`--client`) is checked with
    // (`mypy --strict`, its README and tests/client_python.rs); not a dependency.
    (Language::Python, "client_mypy", "2.4.1"),
    // Go
    // The `go` line of go.mod. coder/websocket >= 1.8.14 needs Go 1.23; 1.8.13
    // (the last for Go 1.22) splits every message into several frames once
    // permessage-deflate is on and runs one more goroutine per connection.
    // 1.23.0, not 1.23: client_golang and x/time say `go 1.23.0`, and a
    // go.mod below its requirements' is "not tidy" to -mod=readonly builds.
    (Language::Go, "go", "1.23.0"),
    (Language::Go, "coder_websocket", "v1.8.15"),
    // Security (docs/protocol/server-security.md): the newest releases that
    // still build with Go 1.23 (client_golang 1.24 and x/time 0.13 need newer).
    (Language::Go, "golang_jwt", "v5.3.1"),
    (Language::Go, "client_golang", "v1.23.2"),
    // The text-format parser the project's own tests read /metrics with; the
    // version client_golang requires.
    (Language::Go, "prometheus_common", "v0.66.1"),
    // The token bucket of the per-connection rate limit.
    (Language::Go, "x_time", "v0.12.0"),
    // The chat backplane's Redis client (docs/cluster.md): 9.18.0 is the
    // newest whose go.mod builds with Go 1.23 (9.19 and later need Go 1.24).
    (Language::Go, "go_redis", "v9.18.0"),
    // Rust
    (Language::Rust, "tokio", "1.54.1"),
    (Language::Rust, "yawc", "0.5.0"),
    (Language::Rust, "futures", "0.3.34"),
    (Language::Rust, "bytes", "1.12.2"),
    (Language::Rust, "httparse", "1.10.1"),
    (Language::Rust, "sha1", "0.10.7"),
    (Language::Rust, "base64", "0.22.1"),
    (Language::Rust, "serde_json", "1.0.154"),
    // kill(2) of an MCP child's process group (type mcp only).
    (Language::Rust, "libc", "0.2.191"),
    // TLS (wss): rustls through tokio-rustls, ring provider (no OpenSSL, no
    // aws-lc C build); rustls itself is used through tokio_rustls::rustls.
    (Language::Rust, "tokio_rustls", "0.26.6"),
    // JWT auth (the rust_crypto backend: pure Rust, no C build).
    (Language::Rust, "jsonwebtoken", "12.0.0"),
    // Token auth: constant-time comparison.
    (Language::Rust, "subtle", "2.6.1"),
    // GET /metrics (the Prometheus text format).
    (Language::Rust, "prometheus", "0.14.0"),
    // RFC 3339 timestamps of JSON log lines.
    (Language::Rust, "humantime", "2.4.0"),
    // Tests only: the self-signed certificate of the TLS tests.
    (Language::Rust, "rcgen", "0.14.10"),
    // The chat Redis backplane (backplane: redis only): the newest release
    // (1.x needs Rust 1.88); TLS through tokio-rustls with ring, no OpenSSL.
    (Language::Rust, "redis", "1.8.2"),
    // The system's CAs next to WS_REDIS_CA_FILE's (redis trusts only the
    // roots it is given); the version the redis crate locks.
    (Language::Rust, "rustls_native_certs", "0.8.5"),
    // The client library (`--client`, templates/clients/rust); it reuses the
    // server's tokio, futures and serde_json pins. The WebSocket client:
    // tokio-tungstenite gives the handshake's HTTP status and headers (401
    // vs 429 with Retry-After), which yawc's client does not.
    (Language::Rust, "client_tokio_tungstenite", "0.30.0"),
    // Its TLS: rustls with the ring provider (no OpenSSL, no aws-lc C build),
    // the Mozilla roots, and a custom CA from a PEM file.
    (Language::Rust, "client_rustls", "0.23.48"),
    (Language::Rust, "client_webpki_roots", "1.0.10"),
    // The frames' serde derives.
    (Language::Rust, "client_serde", "1.0.229"),
    // Full-jitter backoff: a random wait.
    (Language::Rust, "client_fastrand", "2.5.0"),
];

/// The pinned versions of one language, as a map for the template context.
pub fn for_language(lang: Language) -> serde_json::Map<String, serde_json::Value> {
    DEPS.iter()
        .filter(|(l, _, _)| *l == lang)
        .map(|(_, k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect()
}

/// The pinned version of `key` for `lang`; panics when the table lacks it
/// (a driver asking for a pin that is not in the table is a bug).
pub fn version(lang: Language, key: &str) -> &'static str {
    DEPS.iter()
        .find(|(l, k, _)| *l == lang && *k == key)
        .map(|(_, _, v)| *v)
        .unwrap_or_else(|| panic!("no pinned version of {key} for {lang} in src/lang/deps.rs"))
}
