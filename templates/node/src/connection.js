// A WebSocket connection as handlers see it: its id, negotiated subprotocol,
// and `send`/`close`, plus the heartbeat that drops unresponsive peers.

import { WebSocket } from 'ws';

/**
 * Backpressure: once this many bytes wait to be sent, stop reading from the
 * peer until they are written out, so a client that sends without reading
 * cannot make the server buffer without bound.
 */
const HIGH_WATER_MARK = 4 * 1024 * 1024;

export class Connection {
  /** @type {WebSocket} */
  #ws;
  #compressionThreshold;
  #heartbeat = null;
  #closed;

  /**
   * @param {WebSocket} ws an open WebSocket
   * @param {{ id: number, remoteAddress: string, compressionThreshold: number }} options
   */
  constructor(ws, { id, remoteAddress, compressionThreshold }) {
    this.#ws = ws;
    this.id = id;
    this.remoteAddress = remoteAddress;
    this.#compressionThreshold = compressionThreshold;
    this.#closed = new Promise((resolve) => ws.once('close', resolve));
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
   *
   * @param {string | Buffer} data
   * @param {{ binary?: boolean }} [options]
   */
  send(data, { binary = typeof data !== 'string' } = {}) {
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    const ws = this.#ws;
    ws.send(data, { binary, compress: size >= this.#compressionThreshold }, () => {
      if (ws.isPaused && ws.bufferedAmount < HIGH_WATER_MARK) ws.resume();
    });
    if (ws.bufferedAmount >= HIGH_WATER_MARK) ws.pause();
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
