//! TLS for `wss://` (rustls through tokio-rustls, no OpenSSL), and the
//! client-side options every command shares: the trust root (`--ca FILE`,
//! `--insecure`) and the extra request headers (`--header`, `--origin`,
//! `--token`).
//!
//! [`Stream`] is what the codec reads and writes: a plain TCP stream or a TLS
//! stream over one, so every part of the client (handshake, frames,
//! conformance, scenarios) works the same over both.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The client's transport: plain TCP (`ws://`) or TLS over TCP (`wss://`).
#[derive(Debug)]
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Stream {
    /// The TCP stream underneath.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(t) => t.get_ref().0,
        }
    }

    /// The server's certificate chain (leaf first), for a TLS stream.
    pub fn peer_certificates(&self) -> Option<Vec<Vec<u8>>> {
        match self {
            Stream::Plain(_) => None,
            Stream::Tls(t) => t
                .get_ref()
                .1
                .peer_certificates()
                .map(|c| c.iter().map(|d| d.as_ref().to_vec()).collect()),
        }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The *ring* provider: no C toolchain beyond `cc` (aws-lc-rs needs cmake).
/// rustls deprecates it for lacking post-quantum key exchange, which a test
/// client does not need.
#[allow(deprecated)]
pub fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Whom a `wss://` client trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Trust {
    /// The public web PKI (Mozilla's roots).
    #[default]
    WebPki,
    /// Only the certificates in this PEM file (`--ca FILE`).
    Ca(PathBuf),
    /// Anything (`--insecure`): the connection is encrypted, not authenticated.
    Insecure,
}

/// A rustls client configuration for `trust`. Errors name the file and why.
pub fn client_config(trust: &Trust) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS set-up: {e}"))?;
    let mut cfg = match trust {
        Trust::WebPki => {
            let roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::Ca(path) => builder
            .with_root_certificates(ca_roots(path)?)
            .with_no_client_auth(),
        Trust::Insecure => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnything))
            .with_no_client_auth(),
    };
    no_resumption(&mut cfg);
    Ok(Arc::new(cfg))
}

/// Every connection does a full handshake: a resumed session shows no
/// certificate (rustls reports the first session's), and a tester wants the
/// server's current one, checked, each time.
pub fn no_resumption(cfg: &mut ClientConfig) {
    cfg.resumption = rustls::client::Resumption::disabled();
}

/// The certificates of a PEM file as trust roots.
pub fn ca_roots(path: &Path) -> Result<RootCertStore, String> {
    let what = || format!("--ca {}", path.display());
    let text = std::fs::read(path).map_err(|e| format!("{}: cannot read it: {e}", what()))?;
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(&text) {
        let c = c.map_err(|e| format!("{}: not a PEM certificate file: {e}", what()))?;
        roots
            .add(c)
            .map_err(|e| format!("{}: bad certificate: {e}", what()))?;
    }
    if roots.is_empty() {
        return Err(format!(
            "{}: no certificate in it (expected PEM `-----BEGIN CERTIFICATE-----` blocks)",
            what()
        ));
    }
    Ok(roots)
}

/// TLS handshake over `tcp` for `host`.
pub async fn wrap(tcp: TcpStream, host: &str, config: Arc<ClientConfig>) -> Result<Stream, String> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| format!("{host:?} is not a valid TLS server name: {e}"))?;
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS handshake with {host}: {e}"))?;
    Ok(Stream::Tls(Box::new(tls)))
}

/// `--insecure`: every certificate is accepted (signatures still checked,
/// so the session is encrypted with whoever answered).
#[derive(Debug)]
struct AcceptAnything;

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// What a client adds to its handshake beyond the WebSocket headers, from
/// the command line: `--header 'K: V'` (repeatable), `--origin URL`,
/// `--token T` (`Authorization: Bearer T`), and whom it trusts for `wss://`.
#[derive(Debug, Clone, Default)]
pub struct ClientSide {
    pub headers: Vec<(String, String)>,
    pub trust: Trust,
}

impl ClientSide {
    /// Checks the raw flag values; errors are usage errors (exit 2).
    pub fn from_flags(
        headers: &[String],
        origin: Option<&str>,
        token: Option<&str>,
        ca: Option<&Path>,
        insecure: bool,
    ) -> Result<Self, String> {
        let mut out = ClientSide::default();
        for h in headers {
            out.headers.push(parse_header(h)?);
        }
        if let Some(o) = origin {
            if o.is_empty() || o.contains(['\r', '\n']) {
                return Err(format!(
                    "--origin {o:?}: expected an origin such as https://app.example.com"
                ));
            }
            out.headers.push(("Origin".into(), o.to_string()));
        }
        if let Some(t) = token {
            if t.is_empty() || t.contains(['\r', '\n', ' ']) {
                return Err("--token: expected a non-empty token without spaces".into());
            }
            out.headers
                .push(("Authorization".into(), format!("Bearer {t}")));
        }
        out.trust = match (ca, insecure) {
            (Some(_), true) => return Err("--ca and --insecure exclude each other".into()),
            (Some(p), false) => {
                ca_roots(p)?;
                Trust::Ca(p.to_path_buf())
            }
            (None, true) => Trust::Insecure,
            (None, false) => Trust::WebPki,
        };
        Ok(out)
    }

    /// A TLS configuration when `url` is `wss://`; trust flags on a `ws://`
    /// URL are a usage error (they would be silently meaningless).
    pub fn tls_for(&self, url: &str) -> Result<Option<Arc<ClientConfig>>, String> {
        if url.starts_with("wss://") {
            client_config(&self.trust).map(Some)
        } else if self.trust != Trust::WebPki {
            Err(format!(
                "--ca and --insecure apply to wss:// URLs; {url} is not one"
            ))
        } else {
            Ok(None)
        }
    }
}

/// `Name: value`.
pub fn parse_header(h: &str) -> Result<(String, String), String> {
    let (k, v) = h
        .split_once(':')
        .ok_or_else(|| format!("--header {h:?}: expected 'Name: value'"))?;
    let k = k.trim();
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if k.is_empty() || !k.chars().all(token) {
        return Err(format!(
            "--header {h:?}: {k:?} is not a header name (letters, digits and !#$%&'*+-.^_`|~)"
        ));
    }
    if v.contains(['\r', '\n']) {
        return Err(format!("--header {h:?}: a value cannot hold a line break"));
    }
    Ok((k.to_string(), v.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_checked() {
        let c = ClientSide::from_flags(
            &["X-A: 1".into(), "X-B:two words ".into()],
            Some("https://app.example.com"),
            Some("s3cret"),
            None,
            false,
        )
        .unwrap();
        assert_eq!(
            c.headers,
            [
                ("X-A".to_string(), "1".to_string()),
                ("X-B".into(), "two words".into()),
                ("Origin".into(), "https://app.example.com".into()),
                ("Authorization".into(), "Bearer s3cret".into()),
            ]
        );
        assert!(
            parse_header("nocolon")
                .unwrap_err()
                .contains("'Name: value'")
        );
        assert!(parse_header("bad name: x").is_err());
        assert!(ClientSide::from_flags(&[], None, Some(""), None, false).is_err());
        let e = ClientSide::from_flags(&[], None, None, Some(Path::new("/nonexistent.pem")), false)
            .unwrap_err();
        assert!(e.contains("--ca /nonexistent.pem: cannot read it"), "{e}");
        let ins = ClientSide::from_flags(&[], None, None, None, true).unwrap();
        assert!(ins.tls_for("wss://x/").unwrap().is_some());
        assert!(
            ins.tls_for("ws://x/")
                .unwrap_err()
                .contains("apply to wss://")
        );
        assert!(ClientSide::default().tls_for("ws://x/").unwrap().is_none());
    }
}
