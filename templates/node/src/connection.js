// A WebSocket connection as handlers see it: its id, negotiated subprotocol,
// and `send`/`close`, plus the heartbeat that drops unresponsive peers.
//
// The server holds thousands of these, mostly idle, and calls `send` for
// every message: a connection keeps a handful of fields and creates its
// promises and sets only when something asks for them, and a message sent
// without a callback allocates nothing here.

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

/** The most a frame's header adds to a message in `ws.bufferedAmount`. */
const FRAME_HEADER_MAX_BYTES = 14;

/**
 * The options of `ws.send`, by `binary * 2 + compress`: `ws` only reads
 * them, so every message shares one of these four.
 */
const SEND_OPTIONS = [
  Object.freeze({ binary: false, compress: false }),
  Object.freeze({ binary: false, compress: true }),
  Object.freeze({ binary: true, compress: false }),
  Object.freeze({ binary: true, compress: true }),
];

export class Connection {
  /** @type {WebSocket} */
  #ws;
  /** @type {import('node:net').Socket} */
  #socket;
  #compressionThreshold;
  /** Whether the peer answered the last ping (see `heartbeat`). */
  #answered = true;
  /** @type {Promise<void> | null} `ended`, once asked for. */
  #ended = null;
  /** @type {Set<string> | null} Why reading is paused; it resumes once this is empty. */
  #pausedBy = null;

  /**
   * @param {WebSocket} ws an open WebSocket
   * @param {import('node:net').Socket} socket the socket under `ws`
   * @param {{ id: number, remoteAddress: string, compressionThreshold: number, identity: string | null }} options
   */
  constructor(ws, socket, { id, remoteAddress, compressionThreshold, identity }) {
    this.#ws = ws;
    this.#socket = socket;
    this.id = id;
    this.remoteAddress = remoteAddress;
    /** Who authenticated (the token's name or the JWT's `sub`); null without auth. */
    this.identity = identity;
    this.#compressionThreshold = compressionThreshold;
  }

  /**
   * Resolves once the connection is over: the closing handshake is done or
   * the connection is closed, whichever comes first. `ws` ends its side of
   * the socket once close frames have gone both ways, but reports 'close'
   * only when the peer has closed its side too, which a peer may put off for
   * a while.
   *
   * @type {Promise<void>}
   */
  get ended() {
    this.#ended ??= new Promise((resolve) => {
      const ws = this.#ws;
      const socket = this.#socket;
      if (ws.readyState === WebSocket.CLOSED || socket.writableFinished) {
        resolve();
        return;
      }
      const done = () => {
        ws.off('close', done);
        socket.off('finish', done);
        resolve();
      };
      ws.on('close', done);
      socket.on('finish', done);
    });
    return this.#ended;
  }

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
  send(data, options = undefined, callback = undefined) {
    const text = typeof data === 'string';
    const binary = options?.binary ?? !text;
    const size = text ? Buffer.byteLength(data) : data.length;
    const ws = this.#ws;
    metrics.ws_messages_sent_total.inc();
    metrics.ws_bytes_sent_total.inc(size);
    const sendOptions = SEND_OPTIONS[(binary ? 2 : 0) + (size >= this.#compressionThreshold ? 1 : 0)];
    // Far from the high-water mark (the queue grows by at most this message
    // and its header): no callback, so `ws` hands none to the socket.
    if (
      callback === undefined &&
      ws.bufferedAmount + size + FRAME_HEADER_MAX_BYTES < HIGH_WATER_MARK &&
      this.#pausedBy?.has(BUFFERED) !== true
    ) {
      ws.send(data, sendOptions);
      return;
    }
    // Near or over it: this message's callback resumes reading once the
    // queue has drained below it (messages are written in order, so the
    // last one sent while paused is the last to report).
    ws.send(data, sendOptions, (err) => {
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
    (this.#pausedBy ??= new Set()).add(reason);
    this.#ws.pause();
  }

  /** @param {string} reason as given to `pauseReading` */
  resumeReading(reason) {
    if (this.#pausedBy?.delete(reason) && this.#pausedBy.size === 0) this.#ws.resume();
  }

  /**
   * Starts the closing handshake; resolves once the connection is closed.
   *
   * @param {number} code
   * @param {string} [reason]
   * @returns {Promise<void>}
   */
  close(code, reason) {
    const ws = this.#ws;
    ws.close(code, reason);
    if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => ws.once('close', () => resolve()));
  }

  /** Drops the connection without a closing handshake. */
  terminate() {
    this.#ws.terminate();
  }

  /** The peer answered a ping. */
  pong() {
    this.#answered = true;
  }

  /**
   * One beat of the heartbeat, which the server runs for every connection
   * every ping interval: false when the peer has not answered the previous
   * ping (the server then drops it), else the peer is pinged and true.
   *
   * @returns {boolean}
   */
  heartbeat() {
    if (!this.#answered) return false;
    this.#answered = false;
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.ping();
    return true;
  }
}
