// The TLS certificate and key (WS_TLS_CERT, WS_TLS_KEY), read at start-up
// and again on SIGHUP.

import { readFileSync } from 'node:fs';
import tls from 'node:tls';

/**
 * Reads a PEM certificate chain and its private key; throws when either
 * file cannot be read or they do not make a usable pair.
 *
 * @param {string} certFile
 * @param {string} keyFile
 * @returns {{ cert: Buffer, key: Buffer }}
 */
export function readTlsPair(certFile, keyFile) {
  const pair = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
  // Parses both and checks that the key belongs to the certificate.
  tls.createSecureContext(pair);
  return pair;
}
