// A WebSocket connection as handlers see it: its id, negotiated subprotocol,
// and `send`/`close`, plus the heartbeat that drops unresponsive peers.

import { WebSocket } from 'ws';
import { metrics } from './metrics.js';

/**
 * Backpressure: once this many bytes wait to be sent, stop reading from the
 * peer until they are written out, so a client that sends without reading
 * cannot make the server buffer without bound.
 */
const HIGH_WATER_MARK = 4 * 1024 * 1024;

/** The `pauseReading` reason of the backpressure above. */
const BUFFERED = 'send buffer full';

export class Connection {
  /** @type {WebSocket} */
  #ws;
  #compressionThreshold;
  #heartbeat = null;
  #closed;
  /** Why reading is paused; it resumes once this is empty. */
  #pausedBy = new Set();

  /**
   * @param {WebSocket} ws an open WebSocket
   * @param {import('node:net').Socket} socket the socket under `ws`
   * @param {{ id: number, remoteAddress: string, compressionThreshold: number, identity: string | null }} options
   */
  constructor(ws, socket, { id, remoteAddress, compressionThreshold, identity }) {
    this.#ws = ws;
    this.id = id;
    this.remoteAddress = remoteAddress;
    /** Who authenticated (the token's name or the JWT's `sub`); null without auth. */
    this.identity = identity;
    this.#compressionThreshold = compressionThreshold;
    this.#closed = new Promise((resolve) => ws.once('close', resolve));
    // `ws` ends its side of the socket once close frames have gone both
    // ways, but reports 'close' only when the peer has closed its side too,
    // which a peer may put off for a while.
    const finished = new Promise((resolve) => socket.once('finish', resolve));
    this.ended = Promise.race([this.#closed, finished]).then(() => undefined);
  }

  /**
   * Resolves once the connection is over: the closing handshake is done or
   * the connection is closed, whichever comes first.
   *
   * @type {Promise<void>}
   */
  ended;

  /** The negotiated subprotocol, or `null` when none was agreed. */
  get protocol() {
    return this.#ws.protocol || null;
  }

  /** Whether permessage-deflate was negotiated on this connection. */
  get compressed() {
    return this.#ws.extensions.includes('permessage-deflate');
  }

  /**
   * Sends one message: a string or `{ binary: false }` as text, bytes with
   * `{ binary: true }` as binary. Messages smaller than the compression
   * threshold go out uncompressed. Reading pauses while too much is queued.
   * `callback` runs once the message is written out (or has failed to be).
   *
   * @param {string | Buffer} data
   * @param {{ binary?: boolean }} [options]
   * @param {(err?: Error) => void} [callback]
   */
  send(data, { binary = typeof data !== 'string' } = {}, callback = undefined) {
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    const ws = this.#ws;
    metrics.ws_messages_sent_total.inc();
    metrics.ws_bytes_sent_total.inc(size);
    ws.send(data, { binary, compress: size >= this.#compressionThreshold }, (err) => {
      if (ws.bufferedAmount < HIGH_WATER_MARK) this.resumeReading(BUFFERED);
      callback?.(err);
    });
    if (ws.bufferedAmount >= HIGH_WATER_MARK) this.pauseReading(BUFFERED);
  }

  /**
   * Stops reading from the peer until `resumeReading` has been called for
   * every `reason` that paused it.
   *
   * @param {string} reason
   */
  pauseReading(reason) {
    this.#pausedBy.add(reason);
    this.#ws.pause();
  }

  /** @param {string} reason as given to `pauseReading` */
  resumeReading(reason) {
    if (this.#pausedBy.delete(reason) && this.#pausedBy.size === 0) this.#ws.resume();
  }

  /**
   * Starts the closing handshake; resolves once the connection is closed.
   *
   * @param {number} code
   * @param {string} [reason]
   * @returns {Promise<void>}
   */
  close(code, reason) {
    this.#ws.close(code, reason);
    return this.#closed.then(() => undefined);
  }

  /** Drops the connection without a closing handshake. */
  terminate() {
    this.#ws.terminate();
  }

  /**
   * Pings the peer every `intervalMs`. A peer that has not answered the
   * previous ping when the next one is due is dropped, after `onDrop`.
   *
   * @param {number} intervalMs
   * @param {() => void} onDrop
   */
  startHeartbeat(intervalMs, onDrop) {
    let answered = true;
    this.#ws.on('pong', () => {
      answered = true;
    });
    this.#heartbeat = setInterval(() => {
      if (!answered) {
        clearInterval(this.#heartbeat);
        onDrop();
        this.terminate();
        return;
      }
      answered = false;
      if (this.#ws.readyState === WebSocket.OPEN) this.#ws.ping();
    }, intervalMs);
    this.#ws.once('close', () => clearInterval(this.#heartbeat));
  }
}
