// The connection engine every client of this package shares: the reconnect
// loop (full-jitter backoff, fatal answers), requests matched by `ref`, the
// bounded event stream and the state stream (docs: clients-v1).

import {
  AUTH_QUERY_PARAM,
  BACKOFF_INITIAL_MS,
  BACKOFF_MAX_MS,
  CONNECT_TIMEOUT_MS,
  FATAL_CLOSE_CODES,
  MAX_MESSAGE_BYTES,
  QUEUE_LIMIT,
  REQUEST_TIMEOUT_MS,
  REQUIRE_SUBPROTOCOL,
  SUBPROTOCOLS,
  type ErrorCode,
  type Json,
  type Ref,
} from './protocol.js';
import { HandshakeError, defaultTransport, openSocket, type Socket } from './transport.js';

/** How to connect, and the reconnect policy. */
export interface ConnectOptions {
  /** Extra HTTP headers of the handshake (Node.js only). */
  headers?: Record<string, string>;
  /** A bearer token: `Authorization: Bearer` on Node.js, the `access_token` query parameter in browsers. */
  token?: string;
  /** A CA certificate for wss:// (Node.js): PEM text or a PEM file's path. */
  ca?: string;
  /** Milliseconds for a connection to open (default 10 s). */
  connectTimeoutMs?: number;
  /** Milliseconds a request waits for its answer (default from the contract). */
  requestTimeoutMs?: number;
  /** Consecutive failed attempts (the first included) before `retries_exhausted`; unset: forever. */
  maxRetries?: number;
  /** The backoff: attempt n waits random(0, min(max, initial * 2^n)) ms. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** The subprotocol offered (default: the spec's first; `null`: none). */
  subprotocol?: string | null;
  /** `node` (the ws package) or `browser` (the global WebSocket); default: this runtime's. */
  transport?: 'node' | 'browser';
  /** Frames the event stream holds before the library stops reading (default 256). */
  queueLimit?: number;
}

/** The connection's state, as the state stream reports it. */
export type State = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** A typed failure: a server error answer or one of the library's own. */
export class ClientError extends Error {
  readonly code: ErrorCode;
  /** The HTTP status of `unauthorized` / `refused`. */
  readonly status: number | undefined;
  /** The close code of `closed`. */
  readonly closeCode: number | undefined;
  /** The server's error frame, for server codes (`replay_gap` carries `oldest`). */
  readonly frame: Record<string, Json> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    extra: { status?: number; closeCode?: number; frame?: Record<string, Json> } = {},
  ) {
    super(message);
    this.name = 'ClientError';
    this.code = code;
    this.status = extra.status;
    this.closeCode = extra.closeCode;
    this.frame = extra.frame;
  }
}

/** A queue read as an async iterator, ending normally or with an error. */
export class EventQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;
  private error: Error | undefined;

  constructor(
    readonly limit: number,
    private readonly onDrained: () => void,
  ) {}

  get length(): number {
    return this.items.length;
  }

  /** Add an item; true when the queue is now full (the caller stops reading). */
  push(item: T): boolean {
    if (this.ended) return false;
    this.items.push(item);
    this.wake();
    return this.items.length >= this.limit;
  }

  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  async next(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        if (this.items.length === Math.floor(this.limit / 2)) this.onDrained();
        return { value: item, done: false };
      }
      if (this.ended) {
        if (this.error) {
          const err = this.error;
          this.error = undefined;
          throw err;
        }
        return { value: undefined, done: true };
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return { next: () => this.next() };
  }
}

/** A state stream: every state change, in order. */
export class StateStream implements AsyncIterable<State> {
  private readonly listeners = new Set<(s: State) => void>();

  constructor(private current: State) {}

  get state(): State {
    return this.current;
  }

  set(state: State): void {
    if (state === this.current) return;
    this.current = state;
    for (const fn of this.listeners) fn(state);
  }

  /** Call `fn` on each change; returns the function that stops it. */
  subscribe(fn: (s: State) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  [Symbol.asyncIterator](): AsyncIterator<State, undefined> {
    const queue = new EventQueue<State>(Number.MAX_SAFE_INTEGER, () => {});
    const stop = this.subscribe((s) => {
      queue.push(s);
      if (s === 'closed') {
        queue.end();
        stop();
      }
    });
    if (this.current === 'closed') queue.end();
    return queue[Symbol.asyncIterator]();
  }
}

/** Wait `ms`, or less when `signal` is aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });
}

/** The full-jitter wait before attempt `n` (0 first). */
export function backoffDelay(n: number, initialMs: number, maxMs: number, random = Math.random): number {
  const cap = Math.min(maxMs, initialMs * 2 ** Math.min(n, 52));
  return random() * cap;
}

interface Pending {
  resolve(frame: Record<string, Json>): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** What a client of one protocol adds to the engine. */
export interface Protocol {
  /** Frames are JSON objects (chat, session); false: raw messages (echo). */
  readonly json: boolean;
  /** After each open, before the state is `open`: rejoin, attach, ... */
  resume(connection: number): Promise<void>;
  /** Each message received (a JSON frame already matched to its request). */
  receive(frame: Record<string, Json> | string | Uint8Array, answered: boolean): void;
  /** The connection was lost (or closed); called before reconnecting. */
  lost(): void;
}

/** The engine: one logical connection over as many WebSockets as it takes. */
export class Core<E> {
  readonly states = new StateStream('connecting');
  readonly events: EventQueue<E>;
  private readonly opts: Required<Omit<ConnectOptions, 'maxRetries' | 'ca' | 'token' | 'subprotocol'>> &
    Pick<ConnectOptions, 'maxRetries' | 'ca' | 'token'> & { subprotocol: string | undefined };
  private socket: Socket | undefined;
  private ready = false;
  private paused = false;
  private nextRef = 1;
  private readonly pending = new Map<Ref, Pending>();
  private readonly stop = new AbortController();
  private failure: ClientError | undefined;
  private firstOpen: { resolve(): void; reject(e: Error): void } | undefined;
  private dropSocket: ((code: number, reason: string) => void) | undefined;
  private connections = 0;
  protocol!: Protocol;

  constructor(
    readonly url: string,
    options: ConnectOptions,
  ) {
    const defaultSub = SUBPROTOCOLS.length > 0 ? SUBPROTOCOLS[0] : undefined;
    const sub = options.subprotocol === null ? undefined : (options.subprotocol ?? defaultSub);
    if (sub === undefined && REQUIRE_SUBPROTOCOL) {
      throw new Error(`this server requires a subprotocol (${SUBPROTOCOLS.join(', ')})`);
    }
    this.opts = {
      headers: options.headers ?? {},
      token: options.token,
      ca: options.ca,
      connectTimeoutMs: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      requestTimeoutMs: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
      maxRetries: options.maxRetries,
      backoffInitialMs: options.backoffInitialMs ?? BACKOFF_INITIAL_MS,
      backoffMaxMs: options.backoffMaxMs ?? BACKOFF_MAX_MS,
      subprotocol: sub,
      transport: options.transport ?? defaultTransport(),
      queueLimit: options.queueLimit ?? QUEUE_LIMIT,
    };
    this.events = new EventQueue<E>(this.opts.queueLimit, () => this.resumeReading());
  }

  /** Start the reconnect loop; resolves once the first connection is open (and resumed). */
  start(): Promise<void> {
    const opened = new Promise<void>((resolve, reject) => (this.firstOpen = { resolve, reject }));
    void this.run();
    return opened;
  }

  get state(): State {
    return this.states.state;
  }

  /** The wait before attempt `n`, for a protocol's own retries (chat's `name_taken`). */
  backoff(n: number): Promise<void> {
    return sleep(backoffDelay(n, this.opts.backoffInitialMs, this.opts.backoffMaxMs), this.stop.signal);
  }

  get stopped(): boolean {
    return this.stop.signal.aborted;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    let retryAfterMs = 0;
    while (!this.stopped) {
      await sleep(
        Math.max(retryAfterMs, backoffDelay(attempt, this.opts.backoffInitialMs, this.opts.backoffMaxMs)),
        this.stop.signal,
      );
      retryAfterMs = 0;
      // A browser cannot pause its socket: a full queue closed it; wait until the app catches up.
      while (this.events.length >= this.opts.queueLimit && !this.stopped) await sleep(20, this.stop.signal);
      if (this.stopped) break;
      let closed: Promise<[number, string]>;
      try {
        ({ closed } = await this.open());
      } catch (err) {
        if (this.stopped) break;
        const fatal = this.classifyHandshake(err);
        if (fatal) return this.fail(fatal);
        if (err instanceof HandshakeError) retryAfterMs = err.retryAfterMs;
        attempt += 1;
        if (this.exhausted(attempt, err)) return;
        continue;
      }
      const connection = this.connections++;
      try {
        await this.protocol.resume(connection);
      } catch (err) {
        if (err instanceof ClientError && err.code !== 'connection_lost' && err.code !== 'timeout') {
          return this.fail(err);
        }
        this.socket?.close(1000, 'resume failed');
        const [code] = await closed;
        if (this.stopped) break;
        if (this.isFatalClose(code)) return this.fail(this.closedError(code, ''));
        attempt += 1;
        if (this.exhausted(attempt, err)) return;
        continue;
      }
      if (this.stopped) break;
      attempt = 0;
      this.ready = true;
      this.states.set('open');
      this.firstOpen?.resolve();
      this.firstOpen = undefined;
      const [code, reason] = await closed;
      if (this.stopped) break;
      if (this.isFatalClose(code)) return this.fail(this.closedError(code, reason));
      this.states.set('reconnecting');
    }
  }

  private exhausted(attempt: number, err: unknown): boolean {
    const max = this.opts.maxRetries;
    if (max === undefined || attempt < Math.max(1, max)) {
      if (this.state !== 'connecting') this.states.set('reconnecting');
      return false;
    }
    const why = err instanceof Error ? err.message : String(err);
    this.fail(new ClientError('retries_exhausted', `${attempt} attempts failed; the last: ${why}`));
    return true;
  }

  private isFatalClose(code: number): boolean {
    return FATAL_CLOSE_CODES.includes(code) || (code >= 4000 && code <= 4999);
  }

  private closedError(code: number, reason: string): ClientError {
    return new ClientError('closed', `closed by the server with ${code}${reason ? ` (${reason})` : ''}`, {
      closeCode: code,
    });
  }

  private classifyHandshake(err: unknown): ClientError | undefined {
    if (!(err instanceof HandshakeError) || err.status === undefined) return undefined;
    const status = err.status;
    if (status === 401 || status === 403) return new ClientError('unauthorized', err.message, { status });
    if (status >= 400 && status < 500 && status !== 429) return new ClientError('refused', err.message, { status });
    return undefined;
  }

  /** Open one WebSocket; resolves with a promise of its close. */
  private async open(): Promise<{ closed: Promise<[number, string]> }> {
    let closed!: (v: [number, string]) => void;
    const whenClosed = new Promise<[number, string]>((resolve) => (closed = resolve));
    let live = true;
    const drop = (code: number, reason: string) => {
      if (!live) return;
      live = false;
      this.socket = undefined;
      this.ready = false;
      this.paused = false;
      this.dropSocket = undefined;
      this.failPending(() => new ClientError('connection_lost', `the connection closed (${code})`));
      this.protocol.lost();
      closed([code, reason]);
    };
    const socket = await openSocket(
      this.url,
      {
        headers: this.opts.headers,
        token: this.opts.token,
        ca: this.opts.ca,
        subprotocol: this.opts.subprotocol,
        maxPayload: MAX_MESSAGE_BYTES,
        connectTimeoutMs: this.opts.connectTimeoutMs,
        transport: this.opts.transport,
        authQueryParam: AUTH_QUERY_PARAM,
      },
      {
        message: (data) => {
          if (live) this.receive(data);
        },
        close: drop,
      },
    );
    if (this.stopped) {
      socket.close(1000, 'closed by the client');
      throw new ClientError('closed_by_client', 'closed by the client');
    }
    this.socket = socket;
    this.dropSocket = drop;
    return { closed: whenClosed };
  }

  private receive(data: string | Uint8Array): void {
    if (!this.protocol.json) {
      this.protocol.receive(data, false);
      return;
    }
    let frame: unknown;
    try {
      frame = typeof data === 'string' ? JSON.parse(data) : undefined;
    } catch {
      frame = undefined;
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return;
    const obj = frame as Record<string, Json>;
    let answered = false;
    const ref = obj['ref'];
    if (typeof ref === 'number' || typeof ref === 'string') {
      const p = this.pending.get(ref);
      if (p) {
        this.pending.delete(ref);
        clearTimeout(p.timer);
        answered = true;
        if (obj['type'] === 'error') p.reject(serverError(obj));
        else p.resolve(obj);
      }
    }
    this.protocol.receive(obj, answered);
  }

  /** Deliver an event to the application; stops reading when the queue is full. */
  deliver(event: E): void {
    if (this.events.push(event) && !this.paused && this.socket) {
      this.paused = true;
      if (!this.socket.pause()) {
        // This transport cannot stop reading: close now, resume once drained.
        this.socket.close(1000, 'reader behind');
        this.dropSocket?.(1006, 'reader behind');
      }
    }
  }

  private resumeReading(): void {
    if (this.paused && this.socket) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** Whether application requests may be sent now. */
  get isOpen(): boolean {
    return this.ready && this.socket !== undefined;
  }

  /** Send a frame with no answer (fails with `connection_lost` when not connected). */
  send(frame: Record<string, Json> | string | Uint8Array, duringResume = false): void {
    const socket = this.socket;
    if (this.failure) throw this.failure;
    if (!socket || (!this.ready && !duringResume)) {
      throw new ClientError('connection_lost', 'not connected');
    }
    socket.send(typeof frame === 'string' || frame instanceof Uint8Array ? frame : JSON.stringify(frame));
  }

  /** Send a request and wait for the frame carrying its `ref`. */
  request(
    frame: Record<string, Json>,
    options: { timeoutMs?: number; duringResume?: boolean } = {},
  ): Promise<Record<string, Json>> {
    const ref = this.nextRef++;
    const timeoutMs = options.timeoutMs ?? this.opts.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      try {
        this.send({ ...frame, ref }, options.duringResume);
      } catch (err) {
        reject(err);
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(new ClientError('timeout', `no answer to ${String(frame['type'])} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(ref, { resolve, reject, timer });
    });
  }

  private failPending(error: () => ClientError): void {
    for (const [ref, p] of this.pending) {
      this.pending.delete(ref);
      clearTimeout(p.timer);
      p.reject(error());
    }
  }

  /** End everything with a typed error (no reconnect). */
  fail(error: ClientError): void {
    if (this.failure || this.stopped) return;
    this.failure = error;
    this.stop.abort();
    this.failPending(() => error);
    this.socket?.close(1000, 'closed by the client');
    this.events.end(error);
    this.firstOpen?.reject(error);
    this.firstOpen = undefined;
    this.states.set('closed');
  }

  /** The application's close: no reconnect, the event stream simply ends. */
  close(): void {
    if (this.stopped) return;
    this.stop.abort();
    this.failPending(() => new ClientError('closed_by_client', 'closed by the client'));
    this.socket?.close(1000, 'closed by the client');
    this.events.end();
    this.firstOpen?.reject(new ClientError('closed_by_client', 'closed by the client'));
    this.firstOpen = undefined;
    this.states.set('closed');
  }

  /** The typed error that ended the client, if one did. */
  get error(): ClientError | undefined {
    return this.failure;
  }
}

/** A server `error` frame as a [[ClientError]]. */
export function serverError(frame: Record<string, Json>): ClientError {
  const code = String(frame['code'] ?? 'unknown') as ErrorCode;
  return new ClientError(code, String(frame['message'] ?? code), { frame });
}
