// One line per event on stderr, in the words every wsgen server uses:
//
//   listening on ws://HOST:PORT/PATH   (HOST localhost when bound to every address)
//   page: http://HOST:PORT/            (a chat server, right after)
//   conn 1 open 127.0.0.1:53124 subprotocol=graphql-ws compression=on
//   conn 1 close code=1000
//   conn 1 dropped: no pong within ping interval
//   conn 1 error: <message>          (a handler threw; the client gets 1011)
//   shutting down: closing 3 connections
//   stopped

/** Writes one log line to stderr (line breaks inside `message` become spaces). */
export function log(message) {
  process.stderr.write(`${String(message).replace(/[\r\n]+/g, ' ')}\n`);
}
