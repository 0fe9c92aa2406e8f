// bench/clients.sh, Node: the loops on the GENERATED client libraries
// (chat-client and session-client, generated from specs/chat.yaml and
// specs/session.yaml into gen/, installed by path).
//
//   node lib.mjs chat URL COUNT WINDOW     join a room, then COUNT messages, WINDOW in flight,
//                                          each awaited as its own copy (the request matched by ref)
//   node lib.mjs session URL COUNT         start a session whose worker emits COUNT events, read them all
//   node lib.mjs resume URL CONTROL CUTS   events paced 1 ms apart through proxy.py; CUTS cuts,
//                                          each timed from the cut to the first event delivered after it
//
// Prints one JSON line: {"ok": true, ...}.
import { connect as chatConnect } from 'chat-client';
import { connect as sessionConnect } from 'session-client';
import { connect as tcp } from 'node:net';
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

async function chat(count, window) {
  const client = await chatConnect(url, { user: name('b') });
  // The event stream has every message too: keep it read.
  (async () => {
    for await (const _ of client);
  })().catch(() => {});
  const room = name('r');
  await client.join(room);
  const lat = [];
  const run = (per, keep) =>
    Promise.all(
      Array.from({ length: window }, async () => {
        for (let i = 0; i < per; i++) {
          const t = now();
          await client.message(room, TEXT);
          if (keep) lat.push(now() - t);
        }
      }),
    );
  await run(Math.max(1, Math.floor(500 / window)), false); // warm-up
  const per = Math.floor(count / window);
  const t0 = now();
  await run(per, true);
  const secs = (now() - t0) / 1000;
  client.close();
  return { ok: true, perSecond: (per * window) / secs, p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
}

async function session(count) {
  const client = await sessionConnect(url);
  let t0 = 0; // from the first event (the worker's start-up excluded) to the exit
  await client.start({ do: 'emit', count, size: 64, exit: 0 });
  let events = 0;
  let last = 0;
  for await (const ev of client) {
    if (ev.type === 'event') {
      if (ev.seq !== last + 1) fail(`seq ${ev.seq} after ${last}`);
      last = ev.seq;
      if (++events === 1) t0 = now();
    } else if (ev.type === 'exit') break;
  }
  const secs = (now() - t0) / 1000;
  client.close();
  return { ok: true, perSecond: (events - 1) / secs, events };
}

async function resume(control, cuts) {
  const client = await sessionConnect(url);
  let lost = false;
  client.states.subscribe((s) => {
    if (s !== 'open') lost = true;
  });
  const ctl = tcp(control, '127.0.0.1');
  await new Promise((res, rej) => ctl.once('connect', res).once('error', rej));
  let answered = null;
  ctl.on('data', () => answered?.());
  await client.start({ do: 'emit', count: 300 + cuts * 400, pace: 1, exit: 0 });
  let last = 0;
  const times = [];
  let cut = null;
  // The worker exits after its last event: the stream ends with its exit.
  for await (const ev of client) {
    if (ev.type !== 'event') break;
    if (ev.seq !== last + 1) fail(`seq ${ev.seq} after ${last}`);
    last = ev.seq;
    if (cut !== null) {
      if (lost) {
        times.push(now() - cut);
        cut = null;
      }
    } else if (times.length < cuts && last >= 300 + 400 * times.length) {
      lost = false;
      cut = now();
      const done = new Promise((res) => (answered = res));
      ctl.write('cut\n');
      await done;
    }
  }
  client.close();
  ctl.destroy();
  if (times.length < cuts) fail(`${times.length} of ${cuts} cuts resumed (last seq ${last})`);
  return { ok: true, median: pct(times, 0.5), cuts: times };
}

const run = { chat: () => chat(+a, +b), session: () => session(+a), resume: () => resume(+a, +b) }[mode];
if (!run) {
  console.error('usage: node lib.mjs chat URL COUNT WINDOW | session URL COUNT | resume URL CONTROL CUTS');
  process.exit(2);
}
run().then(
  (out) => {
    console.log(JSON.stringify(out));
    process.exit(0);
  },
  (err) => fail(err?.stack ?? err),
);
