// One line per event on stderr. WS_LOG_FORMAT=text (the default) writes the
// words every wsgen server uses:
//
//   listening on ws://HOST:PORT/PATH   (HOST localhost when bound to every address; wss:// with TLS)
//   page: http://HOST:PORT/            (a chat server, right after)
//   conn 1 open 127.0.0.1:53124 subprotocol=graphql-ws compression=on user=alice   (user= with auth)
//   conn 1 close code=1000
//   conn 1 dropped: no pong within ping interval
//   conn 1 error: <message>          (a handler threw; the client gets 1011)
//   rejected 127.0.0.1:53124 status=403 reason=origin   (no status= for reason=handshake_timeout)
//   tls: reloaded certificate
//   error: tls reload failed: <reason>
//   shutting down: closing 3 connections
//   stopped
//
// WS_LOG_FORMAT=json writes one object per line instead: `ts` (RFC 3339, UTC,
// milliseconds), `level`, `event`, then the event's fields. No credential
// ever reaches a log line: callers pass peers, names and codes only.

/** @type {'text' | 'json'} */
let format = 'text';

/** @param {'text' | 'json'} value */
export function setLogFormat(value) {
  format = value;
}

/**
 * Writes one event: `text` in the text format (a line, or several), or
 * `{ts, level, event, ...fields}` in JSON. Line breaks inside a line become
 * spaces.
 *
 * @param {'info' | 'warn' | 'error'} level
 * @param {string} event
 * @param {Record<string, unknown>} fields
 * @param {string | string[]} text
 */
export function logEvent(level, event, fields, text) {
  if (format === 'json') {
    process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level, event, ...fields })}\n`);
  } else {
    const lines = Array.isArray(text) ? text : [text];
    process.stderr.write(lines.map((line) => `${String(line).replace(/[\r\n]+/g, ' ')}\n`).join(''));
  }
}
