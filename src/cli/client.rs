//! The client-side flags `conformance`, `test` and `bench` share: extra
//! request headers (`--header`, `--origin`, `--token`) and, for `wss://`
//! URLs, whom to trust (`--ca FILE`, `--insecure`).

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use wsgen::wire::ClientSide;

#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// Add a request header to every handshake, 'Name: value' (repeatable).
    #[arg(long = "header", short = 'H', value_name = "'NAME: VALUE'")]
    pub headers: Vec<String>,
    /// Send this Origin header (e.g. https://app.example.com).
    #[arg(long, value_name = "URL")]
    pub origin: Option<String>,
    /// Send `Authorization: Bearer TOKEN` (a token or a JWT).
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// For wss:// URLs: trust only the certificates in this PEM file.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub ca: Option<PathBuf>,
    /// For wss:// URLs: accept any server certificate (encrypted, not authenticated).
    #[arg(long)]
    pub insecure: bool,
}

/// What the flags resolve to for one URL.
pub struct Resolved {
    pub headers: Vec<(String, String)>,
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl ClientArgs {
    /// Checks the flags against `url`; the error is a usage error (exit 2).
    pub fn resolve(&self, url: &str) -> Result<Resolved, String> {
        let side = ClientSide::from_flags(
            &self.headers,
            self.origin.as_deref(),
            self.token.as_deref(),
            self.ca.as_deref(),
            self.insecure,
        )?;
        Ok(Resolved {
            tls: side.tls_for(url)?,
            headers: side.headers,
        })
    }
}
