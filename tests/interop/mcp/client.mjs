// The official MCP TypeScript SDK client (`Client` over its
// `WebSocketClientTransport`) against a wsgen MCP bridge. tests/mcp_sdk.rs
// runs it once per scenario and reads its last stdout line: a JSON object
// with `ok` and what it saw. Any failure prints `{"ok":false,"error":...}`.
//
//   node client.mjs everything URL [--hold]   server-everything: every feature
//   node client.mjs isolation URL [--hold]    two concurrent sessions
//   node client.mjs time URL [--hold]         mcp-server-time
//
// With --hold, once the work is done and the sessions are still open, it
// prints {"event":"holding"} and waits for a line (or EOF) on stdin before
// closing, so the test can look at the server's processes mid-session.
import WebSocket from 'ws';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js';
import {
  CreateMessageRequestSchema,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

// Node 20 has no global WebSocket (22 has); the transport uses the global one.
globalThis.WebSocket ??= WebSocket;

const [mode, url, ...flags] = process.argv.slice(2);
const hold = flags.includes('--hold');

let step = 'start'; // named in the error when something fails
function at(name) {
  step = name;
}

function check(cond, what) {
  if (!cond) throw new Error(what);
}

/** A connected SDK client; `closed` resolves when its socket has closed. */
async function connect(name, capabilities = {}) {
  const client = new Client({ name, version: '1.0.0' }, { capabilities });
  const transport = new WebSocketClientTransport(new URL(url));
  const closed = new Promise((resolve) => {
    client.onclose = resolve;
  });
  await client.connect(transport);
  return { client, closed };
}

async function close(session) {
  await session.client.close();
  await session.closed;
}

async function holdOpen() {
  if (!hold) return;
  console.log(JSON.stringify({ event: 'holding' }));
  const lines = createInterface({ input: process.stdin });
  await new Promise((resolve) => {
    lines.once('line', resolve);
    lines.once('close', resolve);
  });
  lines.close();
}

function text(result) {
  return result.content
    .filter((c) => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
}

async function everything() {
  const marker = `sampled-by-the-client-${process.pid}`;
  at('initialize');
  const session = await connect('wsgen-sdk-test', { sampling: {} });
  const { client } = session;
  let sampled = null;
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    sampled = request.params.messages[0].content.text;
    return { model: 'wsgen-test-model', role: 'assistant', content: { type: 'text', text: marker } };
  });
  const out = { server: client.getServerVersion() };
  check(out.server?.name, 'initialize: no serverInfo.name');

  at('tools/list');
  const tools = (await client.listTools()).tools.map((t) => t.name);
  out.tools = tools;
  for (const t of ['echo', 'trigger-long-running-operation', 'trigger-sampling-request', 'get-env']) {
    check(tools.includes(t), `tools/list has no ${t}: ${tools}`);
  }

  at('tools/call echo');
  const echoed = text(await client.callTool({ name: 'echo', arguments: { message: 'héllo "wsgen" \\n' } }));
  check(echoed.includes('héllo "wsgen" \\n'), `echo answered ${JSON.stringify(echoed)}`);
  out.echo = echoed;

  at('tools/call trigger-long-running-operation');
  const progress = [];
  const long = await client.callTool(
    { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 3 } },
    undefined,
    { onprogress: (p) => progress.push(p.progress) },
  );
  check(text(long).includes('completed'), `long-running operation: ${text(long)}`);
  // The SDK hands notifications to their handler a microtask later than it
  // settles a response, so the last step's notification, written just before
  // the result, may arrive after the call has settled and is then not
  // counted: the first steps, a third of a second apart, must all be there.
  check(progress.length >= 2 && progress.every((p, i) => p === i + 1), `progress notifications: ${progress}`);
  out.progress = progress;

  at('resources/list, resources/read');
  const resources = (await client.listResources()).resources;
  check(resources.length > 0, 'resources/list is empty');
  const read = await client.readResource({ uri: resources[0].uri });
  check(read.contents.length > 0 && read.contents[0].uri === resources[0].uri, `resources/read: ${JSON.stringify(read)}`);
  out.resource = resources[0].uri;

  at('prompts/list, prompts/get');
  const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
  check(prompts.includes('args-prompt'), `prompts/list has no args-prompt: ${prompts}`);
  const prompt = await client.getPrompt({ name: 'args-prompt', arguments: { city: 'Zürich' } });
  check(prompt.messages[0].content.text.includes('Zürich'), `prompts/get: ${JSON.stringify(prompt)}`);
  out.prompts = prompts;

  at('ping');
  check(JSON.stringify(await client.ping()) === '{}', 'ping');

  // A server-to-client request: the tool asks the client to sample, the
  // handler above answers, and the tool's result quotes the answer.
  at('tools/call trigger-sampling-request (sampling/createMessage to the client)');
  const sampling = text(
    await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'say hi', maxTokens: 5 } }),
  );
  check(sampled?.includes('say hi'), `the sampling request did not reach the client: ${sampled}`);
  check(sampling.includes(marker), `the tool did not see the client's answer: ${sampling}`);
  out.sampling = true;

  // What the child was given: the test compares it with the spec's `env`.
  at('tools/call get-env');
  out.envKeys = Object.keys(JSON.parse(text(await client.callTool({ name: 'get-env', arguments: {} })))).sort();

  at('close');
  await holdOpen();
  await close(session);
  return out;
}

async function isolation() {
  at('initialize two sessions');
  const a = await connect('session-a');
  const b = await connect('session-b');
  const logged = { a: 0, b: 0 };
  a.client.setNotificationHandler(LoggingMessageNotificationSchema, () => logged.a++);
  b.client.setNotificationHandler(LoggingMessageNotificationSchema, () => logged.b++);

  at('a resource created in session A');
  // Session state: a resource created in A exists in A only.
  const name = `only-in-a-${process.pid}.txt.gz`;
  const data = `data:text/plain;base64,${Buffer.from('isolated').toString('base64')}`;
  await a.client.callTool({ name: 'gzip-file-as-resource', arguments: { name, data } });
  const [inA, inB] = await Promise.all(
    [a, b].map(async (s) => (await s.client.listResources()).resources.some((r) => r.name === name)),
  );
  check(inA, `session A does not list the resource it created`);
  check(!inB, `session B lists the resource session A created`);

  at('logging notifications of session A');
  // Notifications: A turns on simulated logging (one message at once); B gets none.
  await a.client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
  for (let i = 0; i < 50 && logged.a === 0; i++) await new Promise((r) => setTimeout(r, 100));
  await Promise.all([a.client.ping(), b.client.ping()]);
  check(logged.a > 0, 'session A got no logging notification');
  check(logged.b === 0, `session B got ${logged.b} of session A's logging notifications`);

  at('concurrent echo');
  // Both work at once, interleaved.
  const echoes = await Promise.all(
    [a, b, a, b].map((s, i) => s.client.callTool({ name: 'echo', arguments: { message: `m${i}` } })),
  );
  echoes.forEach((r, i) => check(text(r).includes(`m${i}`), `concurrent echo ${i}: ${text(r)}`));

  at('close');
  await holdOpen();
  await Promise.all([close(a), close(b)]);
  return { resourceOnlyInA: true, logged };
}

async function time() {
  at('initialize');
  const session = await connect('wsgen-sdk-time');
  const { client } = session;
  const out = { server: client.getServerVersion() };
  at('tools/list');
  const tools = (await client.listTools()).tools.map((t) => t.name);
  check(tools.includes('get_current_time'), `tools/list has no get_current_time: ${tools}`);
  at('tools/call get_current_time');
  const result = await client.callTool({ name: 'get_current_time', arguments: { timezone: 'UTC' } });
  check(!result.isError, `get_current_time failed: ${text(result)}`);
  const answer = JSON.parse(text(result));
  const when = Date.parse(answer.datetime);
  check(answer.timezone === 'UTC' && Math.abs(when - Date.now()) < 5 * 60 * 1000, `get_current_time: ${text(result)}`);
  out.tools = tools;
  out.time = answer.datetime;
  at('close');
  await holdOpen();
  await close(session);
  return out;
}

const modes = { everything, isolation, time };
try {
  check(modes[mode] && url, 'usage: node client.mjs everything|isolation|time URL [--hold]');
  const result = await modes[mode]();
  console.log(JSON.stringify({ ok: true, ...result }));
  process.exit(0);
} catch (e) {
  console.log(JSON.stringify({ ok: false, step, error: String(e?.stack ?? e) }));
  process.exit(1);
}
