// The MCP bridge bench client (bench/mcp.sh): raw JSON-RPC 2.0 over `ws`,
// so that the client's own cost stays small next to the bridge's.
//
//   node bench.mjs calls URL SECONDS CONNECTIONS   tools/call echo round trips, closed loop
//   node bench.mjs sessions URL COUNT               connect + initialize + close, one after another
//   node bench.mjs hold URL COUNT                   COUNT initialized sessions held open until stdin closes
//
// Each prints one JSON line. Every answer is checked (its id, and for echo
// its text); a wrong one aborts the run.
import WebSocket from 'ws';
import { createInterface } from 'node:readline';

const [mode, url, a, b] = process.argv.slice(2);

/** One MCP session: `request(method, params)` resolves with the result. */
function session() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'mcp', { perMessageDeflate: false });
    const pending = new Map();
    let next = 1;
    ws.on('error', reject);
    ws.on('message', (data) => {
      const msg = JSON.parse(data);
      if (msg.id === undefined || msg.method) return; // notifications, requests to the client
      const p = pending.get(msg.id);
      if (!p) return reject(new Error(`answer to an unknown id: ${data}`));
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${p.method}: ${JSON.stringify(msg.error)}`));
      else p.resolve(msg.result);
    });
    const request = (method, params) =>
      new Promise((res, rej) => {
        const id = next++;
        pending.set(id, { resolve: res, reject: rej, method });
        ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      });
    const closed = new Promise((res) => ws.on('close', res));
    ws.on('open', async () => {
      try {
        const init = await request('initialize', {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'wsgen-mcp-bench', version: '1.0.0' },
        });
        if (!init.serverInfo) throw new Error(`initialize: ${JSON.stringify(init)}`);
        ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
        resolve({
          request,
          close: () => {
            ws.close();
            return closed;
          },
        });
      } catch (e) {
        reject(e);
      }
    });
  });
}

function percentile(sorted, q) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null;
}

const ms = (ns) => Number(ns) / 1e6;

async function calls(seconds, connections) {
  const sessions = await Promise.all(Array.from({ length: connections }, session));
  const latencies = [];
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  await Promise.all(
    sessions.map(async (s, c) => {
      for (let i = 0; process.hrtime.bigint() < end; i++) {
        const message = `c${c}-m${i}`;
        const t0 = process.hrtime.bigint();
        const r = await s.request('tools/call', { name: 'echo', arguments: { message } });
        latencies.push(ms(process.hrtime.bigint() - t0));
        if (!r.content?.[0]?.text?.includes(message)) throw new Error(`echo answered ${JSON.stringify(r)}`);
      }
    }),
  );
  const elapsed = ms(process.hrtime.bigint() - start) / 1000;
  await Promise.all(sessions.map((s) => s.close()));
  latencies.sort((x, y) => x - y);
  return {
    calls: latencies.length,
    seconds: elapsed,
    perSecond: latencies.length / elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies[latencies.length - 1],
  };
}

async function sessions(count) {
  const times = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    const s = await session();
    times.push(ms(process.hrtime.bigint() - t0));
    await s.close();
  }
  const elapsed = ms(process.hrtime.bigint() - start) / 1000;
  times.sort((x, y) => x - y);
  return { sessions: count, perSecond: count / elapsed, p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

async function hold(count) {
  const open = [];
  for (let i = 0; i < count; i++) open.push(await session());
  console.log(JSON.stringify({ event: 'holding', sessions: open.length }));
  await new Promise((resolve) => createInterface({ input: process.stdin }).on('close', resolve));
  await Promise.all(open.map((s) => s.close()));
  return { held: count };
}

try {
  let result;
  if (mode === 'calls') result = await calls(Number(a), Number(b ?? 1));
  else if (mode === 'sessions') result = await sessions(Number(a));
  else if (mode === 'hold') result = await hold(Number(a));
  else throw new Error('usage: node bench.mjs calls URL SECONDS CONNECTIONS | sessions URL COUNT | hold URL COUNT');
  console.log(JSON.stringify({ ok: true, ...result }));
  process.exit(0);
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e?.stack ?? e) }));
  process.exit(1);
}
