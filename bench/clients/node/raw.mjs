// bench/clients.sh, Node: the same loops as lib.mjs written directly on
// `ws` (the library the generated client uses, the same version and
// defaults): raw JSON frames, answers matched by ref.
//
//   node raw.mjs chat URL COUNT WINDOW
//   node raw.mjs session URL COUNT       (acks every 64 events, as the library does)
//
// Prints one JSON line like lib.mjs.
import WebSocket from 'ws';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';

const [mode, url, a, b] = process.argv.slice(2);
const now = () => performance.now();
const TEXT = 'm'.repeat(64);
const pct = (xs, q) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const fail = (msg) => {
  console.log(JSON.stringify({ ok: false, error: String(msg) }));
  process.exit(1);
};
const name = (p) => p + randomBytes(4).toString('hex');

function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { maxPayload: 1 << 24 });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function chat(count, window) {
  const ws = await open();
  const user = name('b');
  const room = name('r');
  let onFrame = null;
  ws.on('message', (raw) => onFrame(JSON.parse(raw)));
  await new Promise((res) => {
    onFrame = (f) => f.ref === 0 && res();
    ws.send(JSON.stringify({ type: 'join', room, user, ref: 0 }));
  });
  let ref = 0;
  const lat = [];
  // WINDOW requests in flight: a new one is sent as each answer comes in.
  const run = (n, keep) =>
    new Promise((resolve) => {
      const sent = new Map();
      let issued = 0;
      let done = 0;
      const issue = () => {
        ref++;
        issued++;
        sent.set(ref, now());
        ws.send(JSON.stringify({ type: 'message', room, text: TEXT, ref }));
      };
      onFrame = (f) => {
        const t = f.ref === undefined ? undefined : sent.get(f.ref);
        if (t === undefined) return;
        if (f.type !== 'message') fail(`answer ${JSON.stringify(f)}`);
        sent.delete(f.ref);
        if (keep) lat.push(now() - t);
        if (++done === n) resolve();
        else if (issued < n) issue();
      };
      while (issued < Math.min(window, n)) issue();
    });
  await run(Math.max(window, Math.floor(500 / window) * window), false); // warm-up
  const n = Math.floor(count / window) * window;
  const t0 = now();
  await run(n, true);
  const secs = (now() - t0) / 1000;
  ws.close();
  return { ok: true, perSecond: n / secs, p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
}

async function session(count) {
  const ws = await open();
  let t0 = 0; // from the first event (the worker's start-up excluded) to the exit
  let events = 0;
  let last = 0;
  await new Promise((resolve) => {
    ws.on('message', (raw) => {
      const f = JSON.parse(raw);
      if (f.type === 'event') {
        if (f.seq !== last + 1) fail(`seq ${f.seq} after ${last}`);
        last = f.seq;
        if (++events === 1) t0 = now();
        if (last % 64 === 0) ws.send(JSON.stringify({ type: 'ack', seq: last }));
      } else if (f.type === 'exit') resolve();
      else if (f.type === 'error') fail(JSON.stringify(f));
    });
    ws.send(JSON.stringify({ type: 'start', input: { do: 'emit', count, size: 64, exit: 0 }, ref: 1 }));
  });
  const secs = (now() - t0) / 1000;
  ws.close();
  return { ok: true, perSecond: (events - 1) / secs, events };
}

const run = { chat: () => chat(+a, +b), session: () => session(+a) }[mode];
if (!run) {
  console.error('usage: node raw.mjs chat URL COUNT WINDOW | session URL COUNT');
  process.exit(2);
}
run().then(
  (out) => {
    console.log(JSON.stringify(out));
    process.exit(0);
  },
  (err) => fail(err?.stack ?? err),
);
