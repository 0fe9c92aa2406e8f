// One WebSocket connection, on Node.js (the `ws` package, loaded only there)
// or in a browser (the global WebSocket). Nothing here imports a Node.js
// module statically, so the compiled library loads in a browser as an ES
// module without a bundler.

/** Why a connection attempt failed before the WebSocket opened. */
export class HandshakeError extends Error {
  /** The HTTP status of a refused upgrade (Node.js only; browsers do not tell). */
  readonly status: number | undefined;
  /** The `Retry-After` of that answer, in milliseconds. */
  readonly retryAfterMs: number;

  constructor(message: string, status?: number, retryAfterMs = 0) {
    super(message);
    this.name = 'HandshakeError';
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

export interface SocketOptions {
  headers: Record<string, string>;
  token: string | undefined;
  /** A PEM certificate (the text, or a file path) trusted for wss:// on Node.js. */
  ca: string | undefined;
  subprotocol: string | undefined;
  maxPayload: number;
  connectTimeoutMs: number;
  transport: 'node' | 'browser';
  authQueryParam: string;
}

export interface SocketEvents {
  message(data: string | Uint8Array): void;
  close(code: number, reason: string): void;
}

/** An open connection. */
export interface Socket {
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  /** Stop reading from the network (false: this transport cannot). */
  pause(): boolean;
  resume(): void;
}

/** The transport this runtime has: `ws` on Node.js, else the global WebSocket. */
export function defaultTransport(): 'node' | 'browser' {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return proc?.versions?.node ? 'node' : 'browser';
}

/** Open a connection; rejects with a [[HandshakeError]] when it does not open. */
export function openSocket(url: string, opts: SocketOptions, on: SocketEvents): Promise<Socket> {
  return opts.transport === 'node' ? openNode(url, opts, on) : openBrowser(url, opts, on);
}

/** Seconds or an HTTP date, in milliseconds from now (0 when absent or invalid). */
export function parseRetryAfter(value: string | undefined): number {
  if (!value) return 0;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? 0 : Math.max(0, date - Date.now());
}

async function readCa(ca: string): Promise<string> {
  if (ca.includes('-----BEGIN')) return ca;
  const fs = await import('node:fs/promises');
  return fs.readFile(ca, 'utf8');
}

async function openNode(url: string, opts: SocketOptions, on: SocketEvents): Promise<Socket> {
  const { WebSocket } = await import('ws');
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers['Authorization'] = `Bearer ${opts.token}`;
  const ca = opts.ca === undefined ? undefined : await readCa(opts.ca);
  const protocols = opts.subprotocol === undefined ? [] : [opts.subprotocol];
  return new Promise<Socket>((resolve, reject) => {
    let opened = false;
    let failed = false;
    const fail = (err: HandshakeError) => {
      if (opened || failed) return;
      failed = true;
      clearTimeout(timer);
      reject(err);
    };
    const ws = new WebSocket(url, protocols, {
      headers,
      ...(ca === undefined ? {} : { ca }),
      maxPayload: opts.maxPayload,
      handshakeTimeout: opts.connectTimeoutMs,
    });
    // The handshake timeout of `ws` covers the HTTP answer; this one the whole opening.
    const timer = setTimeout(() => {
      fail(new HandshakeError(`no open within ${opts.connectTimeoutMs} ms`));
      ws.terminate();
    }, opts.connectTimeoutMs);
    ws.on('unexpected-response', (req, res) => {
      const status = res.statusCode ?? 0;
      const retryAfter = res.headers['retry-after'];
      fail(
        new HandshakeError(
          `HTTP ${status} ${res.statusMessage ?? ''}`.trim(),
          status,
          parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter),
        ),
      );
      res.resume();
      req.destroy();
    });
    ws.on('error', (err) => fail(new HandshakeError(err.message)));
    ws.on('open', () => {
      if (failed) {
        ws.terminate();
        return;
      }
      opened = true;
      clearTimeout(timer);
      resolve({
        send: (data) => ws.send(data),
        close: (code, reason) => ws.close(code, reason),
        pause: () => {
          ws.pause();
          return true;
        },
        resume: () => ws.resume(),
      });
    });
    ws.on('message', (data, isBinary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      on.message(isBinary ? new Uint8Array(bytes) : bytes.toString('utf8'));
    });
    ws.on('close', (code, reason) => {
      if (opened) on.close(code, reason.toString('utf8'));
      else fail(new HandshakeError(`closed before opening (${code})`));
    });
  });
}

/** The part of the browser's WebSocket the library uses. */
interface BrowserWebSocket {
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: (() => void) | null;
  onerror: (() => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

type BrowserWebSocketClass = new (url: string, protocols?: string[]) => BrowserWebSocket;

async function openBrowser(url: string, opts: SocketOptions, on: SocketEvents): Promise<Socket> {
  const Ctor = (globalThis as { WebSocket?: BrowserWebSocketClass }).WebSocket;
  if (Ctor === undefined) throw new HandshakeError('this runtime has no global WebSocket');
  const target = new URL(url);
  // Browsers cannot set headers on a WebSocket: the token goes in the query (RFC 6750).
  if (opts.token !== undefined) target.searchParams.set(opts.authQueryParam, opts.token);
  const protocols = opts.subprotocol === undefined ? [] : [opts.subprotocol];
  return new Promise<Socket>((resolve, reject) => {
    let opened = false;
    let failed = false;
    let closed = false;
    const ws = new Ctor(target.toString(), protocols);
    ws.binaryType = 'arraybuffer';
    const fail = (err: HandshakeError) => {
      if (opened || failed) return;
      failed = true;
      clearTimeout(timer);
      reject(err);
    };
    const timer = setTimeout(() => {
      fail(new HandshakeError(`no open within ${opts.connectTimeoutMs} ms`));
      ws.close();
    }, opts.connectTimeoutMs);
    ws.onerror = () => fail(new HandshakeError('the connection failed'));
    ws.onopen = () => {
      if (failed) {
        ws.close();
        return;
      }
      opened = true;
      clearTimeout(timer);
      resolve({
        send: (data) => ws.send(data),
        close: (code, reason) => ws.close(code, reason),
        pause: () => false,
        resume: () => {},
      });
    };
    ws.onmessage = (ev) => {
      const data = ev.data;
      if (typeof data === 'string') {
        on.message(data);
        return;
      }
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(0);
      // A browser cannot refuse a message (nor send 1009): the size limit is
      // checked here, and reported as the 1009 close it stands for.
      if (bytes.byteLength > opts.maxPayload) {
        if (closed) return;
        closed = true;
        ws.close(1000, 'message too big');
        on.close(1009, 'message too big');
      } else if (!closed) on.message(bytes);
    };
    ws.onclose = (ev) => {
      if (closed) return;
      closed = true;
      if (opened) on.close(ev.code, ev.reason);
      else fail(new HandshakeError(`closed before opening (${ev.code})`));
    };
  });
}
