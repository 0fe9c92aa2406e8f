// The session bench client (bench/session.sh, docs/BENCHMARKS.md "Sessions"):
// raw session-v1 frames over `ws`, driving bench/session/worker.py.
//
//   node bench.mjs rate URL COUNT CLIENTS SIZE      events/s from one worker to CLIENTS attached connections
//   node bench.mjs latency URL COUNT CLIENTS PACE   p50/p99 of (receipt - the worker's stamp), paced events
//   node bench.mjs replay URL COUNT SIZE            a second connection attaches with after 0 to COUNT retained events
//   node bench.mjs idle URL COUNT                   COUNT idle sessions (one connection each) until stdin closes
//   node bench.mjs retain URL COUNT SIZE            one session; on stdin "go" COUNT events retained (never acked)
//
// rate/latency/replay print one JSON line; idle/retain print "holding" (and
// retain first "ready") when the server may be measured, then end their
// sessions (waiting for each `exit` event) once stdin closes. Every event is
// checked: seq from 1 without gap or duplicate, data.n == seq.
import WebSocket from 'ws';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';

const [mode, url, a, b, c] = process.argv.slice(2);
const nowMicros = () => (performance.timeOrigin + performance.now()) * 1000;

/** One connection. `onEvent(seq, data)` gets each event in order (checked). */
function connect() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const conn = { ws, last: 0, waiters: [], onEvent: null, exited: null };
    ws.on('error', reject);
    ws.on('close', (code) => {
      if (conn.exited === null) fail(new Error(`connection closed ${code} before the exit event`));
    });
    ws.on('message', (raw) => {
      const m = JSON.parse(raw);
      if (m.type === 'event') {
        if (m.seq !== conn.last + 1) fail(new Error(`seq ${m.seq} after ${conn.last}`));
        if (m.data.n !== m.seq) fail(new Error(`event ${m.seq} carries n=${m.data.n}`));
        conn.last = m.seq;
        if (conn.onEvent) conn.onEvent(m.seq, m.data);
      } else if (m.type === 'exit') {
        conn.exited = m;
      } else if (m.type === 'error') {
        fail(new Error(`error frame: ${raw}`));
      }
      const w = conn.waiters.filter((x) => x.pred(m));
      conn.waiters = conn.waiters.filter((x) => !x.pred(m));
      for (const x of w) x.resolve(m);
    });
    conn.send = (o) => ws.send(JSON.stringify(o));
    conn.wait = (pred) => new Promise((res) => conn.waiters.push({ pred, resolve: res }));
    conn.request = (o, type) => {
      const p = conn.wait((m) => m.type === type);
      conn.send(o);
      return p;
    };
    ws.on('open', () => resolve(conn));
  });
}

function fail(e) {
  console.log(JSON.stringify({ ok: false, error: String(e.message ?? e) }));
  process.exit(1);
}

/** Ends the session (worker stopped and reaped: the exit event) and closes.
 * Everything is acknowledged first: under `whenFull: pause` with the limit
 * reached the server does not read the worker's stdout, so it would not see
 * its EOF and append the exit event before an ack frees room. */
async function finish(owner, others = []) {
  const exited = owner.exited ? Promise.resolve() : owner.wait((m) => m.type === 'exit');
  if (owner.last > 0) owner.send({ type: 'ack', seq: owner.last });
  owner.send({ type: 'end' });
  await exited;
  for (const x of [owner, ...others]) {
    x.exited ??= true;
    x.ws.close();
  }
}

function percentile(sorted, q) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null;
}

/** A session with `clients` connections attached (the first started it). */
async function session(clients) {
  const owner = await connect();
  const st = await owner.request({ type: 'start' }, 'started');
  const others = [];
  for (let i = 1; i < clients; i++) {
    const x = await connect();
    await x.request({ type: 'attach', session: st.session, token: st.token, after: 0 }, 'attached');
    others.push(x);
  }
  return { owner, others, all: [owner, ...others], st };
}

/** Runs `count` events through every attached connection; the owner acks the
 * lowest seq all of them have, every 1,000 events, so `whenFull: pause`
 * never drops what a slower connection has not read yet. */
async function stream(s, input, count, perEvent) {
  let acked = 0;
  const done = s.all.map(
    (x) =>
      new Promise((res) => {
        x.onEvent = (seq, data) => {
          perEvent?.(data);
          if (seq % 1000 === 0) {
            const low = Math.min(...s.all.map((y) => y.last));
            if (low > acked) {
              acked = low;
              s.owner.send({ type: 'ack', seq: low });
            }
          }
          if (seq === count) res();
        };
      }),
  );
  const t0 = performance.now();
  s.owner.send({ type: 'input', data: input });
  await Promise.all(done);
  return (performance.now() - t0) / 1000;
}

async function rate(count, clients, size) {
  const s = await session(clients);
  const seconds = await stream(s, { emit: count, size }, count);
  await finish(s.owner, s.others);
  return { ok: true, perSecond: count / seconds, seconds, clients };
}

async function latency(count, clients, pace) {
  const s = await session(clients);
  const lat = [];
  await stream(s, { emit: count, size: 64, pace }, count, (d) => lat.push((nowMicros() - d.t) / 1000));
  await finish(s.owner, s.others);
  lat.sort((x, y) => x - y);
  return { ok: true, p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), samples: lat.length };
}

async function replay(count, size) {
  const s = await session(1);
  let all;
  const got = new Promise((res) => (all = res));
  s.owner.onEvent = (seq) => seq === count && all();
  s.owner.send({ type: 'input', data: { emit: count, size } });
  await got; // COUNT events retained (no ack), the worker idle
  const t0 = performance.now();
  const x = await connect();
  const t1 = performance.now();
  const last = new Promise((res) => (x.onEvent = (seq) => seq === count && res()));
  const at = await x.request({ type: 'attach', session: s.st.session, token: s.st.token, after: 0 }, 'attached');
  if (at.last !== count) fail(new Error(`attached with last ${at.last}, not ${count}`));
  await last;
  const t2 = performance.now();
  await finish(s.owner, [x]);
  return { ok: true, ms: t2 - t1, withConnectMs: t2 - t0, perSecond: count / ((t2 - t1) / 1000) };
}

const stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function idle(count) {
  const sessions = [];
  for (let i = 0; i < count; i++) sessions.push(await session(1));
  console.log('holding');
  while (!(await stdinLines.next()).done);
  await Promise.all(sessions.map((s) => finish(s.owner)));
}

async function retain(count, size) {
  const s = await session(1);
  console.log('ready');
  await stdinLines.next();
  let all;
  const got = new Promise((res) => (all = res));
  s.owner.onEvent = (seq) => seq === count && all();
  s.owner.send({ type: 'input', data: { emit: count, size } });
  await got;
  console.log('holding');
  while (!(await stdinLines.next()).done);
  await finish(s.owner);
}

const n = Number(a);
const run = {
  rate: () => rate(n, Number(b), Number(c)),
  latency: () => latency(n, Number(b), Number(c)),
  replay: () => replay(n, Number(b)),
  idle: () => idle(n),
  retain: () => retain(n, Number(b)),
}[mode];
if (!run) fail(new Error(`unknown mode ${mode}`));
run()
  .then((r) => {
    if (r) console.log(JSON.stringify(r));
    process.exit(0);
  })
  .catch(fail);
