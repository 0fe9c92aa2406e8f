// Test helpers: boot the real server (src/main.js) in a child process on a
// free port of 127.0.0.1, and small promise wrappers around a `ws` client.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { PATH, REQUIRE_SUBPROTOCOL, SUBPROTOCOLS } from '../src/spec.js';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const START_TIMEOUT_MS = 10_000;

/** What `connect` offers by default: a subprotocol only when one is required. */
const DEFAULT_PROTOCOLS = REQUIRE_SUBPROTOCOL ? [SUBPROTOCOLS[0]] : [];

/** Servers still running, ended when the test process exits whatever happens. */
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort() {
  const probe = net.createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  await once(probe, 'close');
  return port;
}

/** The environment for a child server: ours without WS_* settings, plus `env`. */
function serverEnv(env) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WS_')));
  return { ...base, HOST: '127.0.0.1', ...env };
}

/**
 * Runs src/main.js with `env` until it exits (for start-up errors).
 *
 * @returns {Promise<{ code: number | null, stderr: string }>}
 */
export async function runServer(env) {
  const child = spawn(process.execPath, [MAIN], {
    env: serverEnv(env),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const [code] = await once(child, 'exit');
  return { code, stderr };
}

/**
 * Starts the server with extra `env` and resolves once it listens.
 * Always `await server.stop()` (an `after` hook) to end it.
 */
export async function startServer(env = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: serverEnv({ PORT: String(port), ...env }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  running.add(child);
  const exited = once(child, 'exit').finally(() => running.delete(child));

  const server = {
    port,
    wsUrl: `ws://127.0.0.1:${port}${PATH}`,
    httpUrl: `http://127.0.0.1:${port}`,
    logs: () => stderr,
    /** Resolves once the log matches `pattern`; fails after a few seconds. */
    async waitForLog(pattern, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(stderr)) {
        if (Date.now() > deadline) throw new Error(`no log line matching ${pattern} in:\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    /** Sends SIGTERM and resolves with the exit code. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!stderr.includes('listening on ')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return server;
}

/**
 * Opens a client offering `protocols`; rejects with the HTTP status and body
 * when the handshake fails.
 */
export function connect(url, protocols = DEFAULT_PROTOCOLS, options = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        const err = new Error(`handshake refused: ${res.statusCode}`);
        Object.assign(err, { status: res.statusCode, body });
        reject(err);
      });
    });
  });
}

/** The next message on `ws`: `{ data: Buffer, isBinary: boolean }`. */
export function nextMessage(ws) {
  return new Promise((resolve, reject) => {
    const onMessage = (data, isBinary) => {
      ws.off('close', onClose);
      resolve({ data, isBinary });
    };
    const onClose = (code) => {
      ws.off('message', onMessage);
      reject(new Error(`closed with ${code} before a message`));
    };
    ws.once('message', onMessage);
    ws.once('close', onClose);
  });
}

/** Resolves with `{ code, reason }` once `ws` is closed. */
export function closed(ws) {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve({ code: 1006, reason: '' });
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

/**
 * Sends a bare opening handshake with extra `headers` and resolves with the
 * response: `{ status, headers, body }` (the socket is closed right away).
 * For checks a client library would refuse to make.
 */
export function handshake(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url.replace(/^ws/, 'http'), {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode, headers: res.headers, body: '' });
    });
    req.on('response', async (res) => {
      let body = '';
      for await (const chunk of res.setEncoding('utf8')) body += chunk;
      resolve({ status: res.statusCode, headers: res.headers, body });
    });
    req.on('error', reject);
    req.end();
  });
}
