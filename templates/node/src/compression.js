// permessage-deflate (RFC 7692): the spec's parameters as `ws` options, and
// the offer filter that declines compression instead of failing a handshake.

/**
 * The `perMessageDeflate` option of `ws`, or `false` to turn it off. Window
 * bits of 15 (the RFC's default) are left unset, so the server accepts what
 * the client asks for. `ws` applies `threshold` only without context
 * takeover, so `Connection#send` applies it to every message as well.
 *
 * @param {typeof import('./spec.js').COMPRESSION | null} compression
 */
export function deflateOptions(compression) {
  if (!compression) return false;
  const options = { threshold: compression.threshold };
  if (compression.serverNoContextTakeover) options.serverNoContextTakeover = true;
  if (compression.clientNoContextTakeover) options.clientNoContextTakeover = true;
  if (compression.serverMaxWindowBits !== 15) options.serverMaxWindowBits = compression.serverMaxWindowBits;
  if (compression.clientMaxWindowBits !== 15) options.clientMaxWindowBits = compression.clientMaxWindowBits;
  return options;
}

/**
 * `ws` refuses the whole handshake (HTTP 400) when none of the client's
 * permessage-deflate offers fits its options, where RFC 7692 lets the server
 * decline the extension and go on uncompressed. This removes from the
 * upgrade request's `Sec-WebSocket-Extensions` the offers `compression`
 * cannot accept, so `ws` never sees them:
 * - an offer of `server_max_window_bits` below the server's window;
 * - when the client's window is limited, an offer without
 *   `client_max_window_bits`, or with a smaller value.
 * Malformed offers are kept: `ws` rejects those handshakes itself.
 *
 * @param {import('node:http').IncomingMessage} req
 * @param {typeof import('./spec.js').COMPRESSION} compression
 */
export function dropUnacceptableOffers(req, compression) {
  const offers = acceptableOffers(req.headers['sec-websocket-extensions'], compression);
  if (offers === undefined) delete req.headers['sec-websocket-extensions'];
  else req.headers['sec-websocket-extensions'] = offers;
}

/**
 * The `Sec-WebSocket-Extensions` value without the permessage-deflate offers
 * `compression` cannot accept; `undefined` when nothing is left.
 *
 * @param {string | undefined} header
 * @param {typeof import('./spec.js').COMPRESSION} compression
 * @returns {string | undefined}
 */
export function acceptableOffers(header, compression) {
  if (header === undefined) return undefined;
  const kept = header
    .split(',')
    .map((offer) => offer.trim())
    .filter((offer) => offer !== '' && (!isDeflateOffer(offer) || fits(offer, compression)));
  return kept.length > 0 ? kept.join(', ') : undefined;
}

function isDeflateOffer(offer) {
  return offer.split(';')[0].trim().toLowerCase() === 'permessage-deflate';
}

function fits(offer, compression) {
  const params = offerParams(offer);
  const serverBits = params.get('server_max_window_bits');
  if (compression.serverMaxWindowBits !== 15 && Number(serverBits) < compression.serverMaxWindowBits) {
    return false;
  }
  if (compression.clientMaxWindowBits !== 15) {
    const clientBits = params.get('client_max_window_bits');
    if (clientBits === undefined) return false;
    if (clientBits !== true && Number(clientBits) < compression.clientMaxWindowBits) return false;
  }
  return true;
}

/** `permessage-deflate; a; b=10` -> Map { a => true, b => '10' } */
function offerParams(offer) {
  const params = new Map();
  for (const param of offer.split(';').slice(1)) {
    const [name, value] = param.split('=').map((part) => part.trim());
    params.set(name.toLowerCase(), value === undefined ? true : value.replace(/^"(.*)"$/, '$1'));
  }
  return params;
}
