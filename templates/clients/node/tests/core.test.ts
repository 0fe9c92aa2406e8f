// The engine every client shares: backoff bounds, fatal vs retried
// handshakes and closes, requests matched by `ref`, timeouts, lost
// connections, the bounded event stream.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClientError, Core, backoffDelay, type ConnectOptions, type State } from '../src/core.js';
import { BACKOFF_INITIAL_MS, BACKOFF_MAX_MS, type Json } from '../src/protocol.js';
import { deadUrl, fakeServer, onFrames, send } from './support.js';

const FAST: ConnectOptions = { backoffInitialMs: 20, backoffMaxMs: 80 };

/** A Core whose frames are JSON, delivered as they come. */
function core(url: string, options: ConnectOptions = {}): Core<Record<string, Json>> {
  const c = new Core<Record<string, Json>>(url, { ...FAST, ...options });
  c.protocol = {
    json: true,
    resume: async () => {},
    receive: (frame, answered) => {
      if (!answered && typeof frame === 'object' && !(frame instanceof Uint8Array)) c.deliver(frame);
    },
    lost: () => {},
  };
  return c;
}

async function failure(p: Promise<unknown>): Promise<ClientError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ClientError, `not a ClientError: ${String(err)}`);
    return err;
  }
  assert.fail('expected a ClientError');
}

test('full-jitter backoff: attempt n waits within [0, min(max, initial * 2^n)]', () => {
  for (let n = 0; n < 20; n++) {
    const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** n);
    assert.equal(
      backoffDelay(n, BACKOFF_INITIAL_MS, BACKOFF_MAX_MS, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(n, BACKOFF_INITIAL_MS, BACKOFF_MAX_MS, () => 0.999999),
      cap * 0.999999,
    );
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(n, BACKOFF_INITIAL_MS, BACKOFF_MAX_MS);
      assert.ok(d >= 0 && d <= cap, `attempt ${n}: ${d} outside [0, ${cap}]`);
    }
  }
  assert.equal(
    backoffDelay(1000, 100, 10000, () => 1),
    10000,
  );
});

test('maxRetries consecutive failures end with retries_exhausted, within the backoff bounds', async () => {
  const url = await deadUrl();
  const c = core(url, { maxRetries: 4, backoffInitialMs: 40, backoffMaxMs: 100 });
  const states: State[] = [];
  c.states.subscribe((s) => states.push(s));
  const t0 = performance.now();
  const err = await failure(c.start());
  const took = performance.now() - t0;
  assert.equal(err.code, 'retries_exhausted');
  // Waits before attempts 0..3: at most 40 + 80 + 100 + 100 ms (plus connect time).
  assert.ok(took < 320 + 400, `took ${took} ms`);
  assert.equal(c.state, 'closed');
  assert.equal(states.at(-1), 'closed');
});

test('HTTP 401 and 403 are unauthorized, other 4xx refused: no retry', async () => {
  for (const [status, code] of [
    [401, 'unauthorized'],
    [403, 'unauthorized'],
    [404, 'refused'],
    [400, 'refused'],
  ] as const) {
    const fake = await fakeServer({ refuse: () => ({ status }) });
    const err = await failure(core(fake.url).start());
    assert.equal(err.code, code, `HTTP ${status}`);
    assert.equal(err.status, status);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(fake.attempts, 1, `HTTP ${status} retried`);
    await fake.close();
  }
});

test('429 and 5xx are retried, honouring Retry-After', async () => {
  const fake = await fakeServer({
    refuse: (n) => (n === 0 ? { status: 503, headers: { 'Retry-After': '1' } } : n === 1 ? { status: 429 } : undefined),
  });
  const c = core(fake.url);
  await c.start();
  assert.equal(fake.attempts, 3);
  const wait = fake.times[1]! - fake.times[0]!;
  assert.ok(wait >= 990, `Retry-After: 1 honoured (waited ${wait} ms)`);
  assert.equal(c.state, 'open');
  c.close();
  await fake.close();
});

test('close codes 1002/1003/1007/1009/4000-4999 are fatal, 1001/1006/1008/1011 reconnect', async () => {
  for (const code of [1002, 1003, 1007, 1009, 4000, 4321, 4999]) {
    const fake = await fakeServer({ connection: (ws) => ws.close(code, 'bye') });
    const c = core(fake.url);
    await c.start();
    const err = await failure(c.events.next());
    assert.equal(err.code, 'closed', `close ${code}`);
    assert.equal(err.closeCode, code);
    assert.equal(c.state, 'closed');
    await fake.close();
  }
  for (const code of [1001, 1008, 1011, 'drop'] as const) {
    const fake = await fakeServer({
      connection: (ws, n) => {
        if (n > 0) return send(ws, { type: 'hello', n });
        if (code === 'drop') ws.terminate();
        else ws.close(code, 'again');
      },
    });
    const c = core(fake.url);
    const states: State[] = [];
    c.states.subscribe((s) => states.push(s));
    await c.start();
    const { value } = await c.events.next();
    assert.deepEqual(value, { type: 'hello', n: 1 }, `after ${code}`);
    // The frame may overtake the state change it came with.
    while ((c.state as State) !== 'open') await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(states, ['open', 'reconnecting', 'open']);
    c.close();
    await fake.close();
  }
});

test('requests are matched by ref, in any order; errors, timeouts, lost connections are typed', async () => {
  const fake = await fakeServer({
    connection: (ws) => {
      const held: Record<string, unknown>[] = [];
      onFrames(ws, (f) => {
        if (f['type'] === 'slow') held.push(f);
        else if (f['type'] === 'fast') {
          send(ws, { type: 'done', ref: f['ref'], what: 'fast' });
          for (const h of held.splice(0)) send(ws, { type: 'done', ref: h['ref'], what: 'slow' });
        } else if (f['type'] === 'bad') send(ws, { type: 'error', code: 'bad_request', message: 'no', ref: f['ref'] });
        else if (f['type'] === 'drop') ws.terminate();
        // 'never' gets no answer.
      });
    },
  });
  const c = core(fake.url, { requestTimeoutMs: 300 });
  await c.start();
  const slow = c.request({ type: 'slow' });
  const fast = c.request({ type: 'fast' });
  assert.equal((await fast)['what'], 'fast');
  assert.equal((await slow)['what'], 'slow');
  const bad = await failure(c.request({ type: 'bad' }));
  assert.equal(bad.code, 'bad_request');
  assert.equal(bad.message, 'no');
  const t0 = performance.now();
  assert.equal((await failure(c.request({ type: 'never' }))).code, 'timeout');
  assert.ok(performance.now() - t0 >= 290);
  const pending = c.request({ type: 'never' });
  c.request({ type: 'drop' }).catch(() => {});
  assert.equal((await failure(pending)).code, 'connection_lost');
  c.close();
  await fake.close();
});

test('a slow reader stops the socket: at most queueLimit frames wait, none is lost', async () => {
  const total = 2000;
  const fake = await fakeServer({
    connection: (ws) => {
      for (let i = 1; i <= total; i++) send(ws, { type: 'n', i, pad: 'x'.repeat(1000) });
    },
  });
  const c = core(fake.url, { queueLimit: 16 });
  await c.start();
  await new Promise((r) => setTimeout(r, 300));
  // Reading stops once the queue is full; what is already in flight is one TCP read more.
  const waiting = c.events.length;
  assert.ok(waiting < total / 2, `${waiting} frames queued: the socket was not paused`);
  for (let i = 1; i <= total; i++) {
    const { value } = await c.events.next();
    assert.equal(value?.['i'], i);
  }
  c.close();
  await fake.close();
});

test('close() ends the stream without an error and stops reconnecting', async () => {
  const fake = await fakeServer({});
  const c = core(fake.url);
  await c.start();
  c.close();
  assert.deepEqual(await c.events.next(), { value: undefined, done: true });
  assert.equal(c.state, 'closed');
  assert.equal((await failure(c.request({ type: 'x' }))).code, 'connection_lost');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(fake.attempts, 1);
  await fake.close();
});

test('the library loads in a browser without a bundler: no static import of ws or a Node.js module', async () => {
  const { readdir, readFile } = await import('node:fs/promises');
  const dir = new URL('../src/', import.meta.url);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.js'));
  assert.ok(files.includes('index.js') && files.includes('transport.js'), `${files}`);
  for (const file of files) {
    const text = await readFile(new URL(file, dir), 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/gm)) {
      assert.ok(m[1]!.startsWith('./'), `${file} imports ${m[1]} statically`);
    }
  }
});
