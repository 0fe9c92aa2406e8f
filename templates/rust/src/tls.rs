//! TLS (wss and https) with rustls through tokio-rustls, ring provider.
//!
//! The certificate and key (`WS_TLS_CERT`, `WS_TLS_KEY`) are read at start-up
//! and again on SIGHUP: the pair in use sits behind a lock that every new
//! TLS handshake reads ([`Certificate`] is rustls' certificate resolver), so
//! new connections get the new pair and open ones keep theirs. A bad new pair
//! leaves the old one in place.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::crypto::{CryptoProvider, ring};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::{ServerConfig, version};

/// The certificate and key files, and the pair last read from them.
pub struct Certificate {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("cert", &self.cert)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl ResolvesServerCert for Certificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self.current.read().unwrap_or_else(|p| p.into_inner()),
        ))
    }
}

impl Certificate {
    /// Reads the pair; the error names the variable and what is wrong.
    pub fn load(cert: &Path, key: &Path) -> Result<Arc<Certificate>, String> {
        let pair = read_pair(cert, key)?;
        Ok(Arc::new(Certificate {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            current: RwLock::new(Arc::new(pair)),
        }))
    }

    /// Reads the files again (SIGHUP); on failure the pair in use stays.
    pub fn reload(&self) -> Result<(), String> {
        let pair = read_pair(&self.cert, &self.key)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(pair);
        Ok(())
    }

    /// The acceptor of every TLS connection: TLS 1.2 and 1.3, this pair.
    pub fn acceptor(self: &Arc<Certificate>) -> Result<TlsAcceptor, String> {
        let mut config = ServerConfig::builder_with_provider(Arc::new(provider()))
            .with_protocol_versions(&[&version::TLS13, &version::TLS12])
            .map_err(|err| err.to_string())?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// A certificate chain and its private key, checked to belong together.
fn read_pair(cert: &Path, key: &Path) -> Result<CertifiedKey, String> {
    let invalid = |var: &str, path: &Path, what: String| {
        format!(
            "invalid {var}={:?}: expected {what}",
            path.to_string_lossy()
        )
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|err| {
            invalid(
                "WS_TLS_CERT",
                cert,
                format!("a PEM certificate chain ({err})"),
            )
        })?;
    if chain.is_empty() {
        return Err(invalid(
            "WS_TLS_CERT",
            cert,
            "a PEM certificate chain (no certificate found)".to_string(),
        ));
    }
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|err| invalid("WS_TLS_KEY", key, format!("a PEM private key ({err})")))?;
    CertifiedKey::from_der(chain, private, &provider()).map_err(|err| {
        invalid(
            "WS_TLS_KEY",
            key,
            format!("the private key of WS_TLS_CERT's certificate ({err})"),
        )
    })
}

/// rustls' ring provider. rustls 0.23.48 deprecates it for want of
/// post-quantum key exchange (its aws-lc-rs provider has it), but aws-lc-rs
/// needs a C toolchain and cmake to build; ring builds everywhere.
#[allow(deprecated)]
fn provider() -> CryptoProvider {
    ring::default_provider()
}
