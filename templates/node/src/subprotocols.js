// Subprotocol negotiation (RFC 6455 section 4.2.2): the server picks the
// first protocol in the client's offer that it speaks.

import { SUBPROTOCOLS } from './spec.js';

const spoken = new Set(SUBPROTOCOLS);

/**
 * The protocols a handshake offers, in the client's order.
 *
 * @param {import('node:http').IncomingMessage} req
 * @returns {string[]}
 */
export function offeredProtocols(req) {
  const header = req.headers['sec-websocket-protocol'] ?? '';
  return header
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

/**
 * The first offered protocol this server speaks, or `null` when there is no
 * overlap.
 *
 * @param {Iterable<string>} offered the client's offer, in its order
 * @returns {string | null}
 */
export function selectProtocol(offered) {
  for (const name of offered) {
    if (spoken.has(name)) return name;
  }
  return null;
}
