package main

import (
	"crypto/tls"
	"log/slog"
	"sync/atomic"
)

// TLS (WS_TLS_CERT and WS_TLS_KEY): the same port serves only HTTPS and
// wss. SIGHUP re-reads both files; new connections get the new pair, open
// ones keep theirs, and a pair that does not load leaves the old one.

// certStore holds the certificate new TLS connections are served with.
type certStore struct {
	certFile, keyFile string
	current           atomic.Pointer[tls.Certificate]
}

func newCertStore(certFile, keyFile string, cert *tls.Certificate) *certStore {
	s := &certStore{certFile: certFile, keyFile: keyFile}
	s.current.Store(cert)
	return s
}

// tlsConfig serves the stored certificate, TLS 1.2 and 1.3, HTTP/1.1.
func (s *certStore) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.current.Load(), nil
		},
	}
}

// reload re-reads the files, and logs the outcome.
func (s *certStore) reload() {
	cert, err := tls.LoadX509KeyPair(s.certFile, s.keyFile)
	if err != nil {
		logError("tls reload failed: " + err.Error())
		return
	}
	s.current.Store(&cert)
	logEvent(slog.LevelInfo, "reload", "tls: reloaded certificate")
}
