// Test helpers: boot the real server (src/main.js) in a child process on a
// free port of 127.0.0.1, and small promise wrappers around a `ws` client.
// With auth on, the server gets test credentials and every client presents
// one (as `alice` unless told otherwise).

import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import {
  AUTH,
  JWT_ALGORITHMS,
  JWT_AUDIENCE,
  JWT_HMAC,
  JWT_ISSUER,
  PATH,
  REQUIRE_SUBPROTOCOL,
  SUBPROTOCOLS,
} from '../src/spec.js';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const START_TIMEOUT_MS = 10_000;

/** What `connect` and `handshake` offer by default: a subprotocol only when one is required. */
const DEFAULT_PROTOCOLS = REQUIRE_SUBPROTOCOL ? [SUBPROTOCOLS[0]] : [];

/** Servers still running, ended when the test process exits whatever happens. */
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
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

/** A folder for the files tests write (keys, certificates), removed with the OS's temp dir. */
export const scratch = mkdtempSync(join(tmpdir(), 'wsgen-test-'));

/** The users tests connect as. */
export const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'u'];

/** token auth: each user's token. */
const TOKENS = new Map(USERS.map((user) => [user, `tok-${user}-${randomBytes(8).toString('hex')}`]));

/** jwt: the algorithm tests sign with, and its key pair (the secret for HS*). */
export const JWT_ALGORITHM = JWT_ALGORITHMS[0];
export const jwtKeys = AUTH === 'jwt' ? makeJwtKeys() : null;

function makeJwtKeys() {
  if (JWT_HMAC) {
    const secret = randomBytes(32).toString('hex');
    const key = new TextEncoder().encode(secret);
    return { signing: key, env: { WS_JWT_SECRET: secret } };
  }
  const family = JWT_ALGORITHM.slice(0, 2);
  const pair =
    family === 'RS' || family === 'PS'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : family === 'ES'
        ? generateKeyPairSync('ec', { namedCurve: { ES256: 'P-256', ES384: 'P-384' }[JWT_ALGORITHM] })
        : generateKeyPairSync('ed25519');
  const file = join(scratch, 'jwt-public.pem');
  writeFileSync(file, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  return { signing: pair.privateKey, env: { WS_JWT_PUBLIC_KEY_FILE: file } };
}

/**
 * A JWT for `claims` (sub, exp in seconds from now, ...) signed with the
 * test key, with the spec's issuer and audience unless `claims` sets them.
 */
export async function mintJwt({ sub, exp = 3600, nbf, iss = JWT_ISSUER, aud = JWT_AUDIENCE, key, alg } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(sub === undefined ? {} : { sub }).setProtectedHeader({ alg: alg ?? JWT_ALGORITHM });
  jwt.setIssuedAt(now).setExpirationTime(now + exp);
  if (nbf !== undefined) jwt.setNotBefore(now + nbf);
  if (iss) jwt.setIssuer(iss);
  if (aud) jwt.setAudience(aud);
  return jwt.sign(key ?? jwtKeys.signing);
}

/** A valid credential of `user` (null without auth). */
export async function credential(user = 'alice') {
  if (AUTH === 'token') return TOKENS.get(user);
  if (AUTH === 'jwt') return mintJwt({ sub: user });
  return null;
}

/** The server's credentials for the test users. */
const AUTH_ENV =
  AUTH === 'token'
    ? { WS_AUTH_TOKENS: [...TOKENS].map(([user, token]) => `${user}:${token}`).join(',') }
    : AUTH === 'jwt'
      ? jwtKeys.env
      : {};

/**
 * The environment for a child server: ours without WS_* settings, the test
 * credentials, no rate or per-address limit and text logs (the tests of
 * those set them), plus `env`.
 */
function serverEnv(env) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WS_')));
  const defaults = { WS_RATE_LIMIT: 'off', WS_MAX_CONNECTIONS_PER_IP: '0', WS_LOG_FORMAT: 'text', ...AUTH_ENV };
  const merged = { ...base, HOST: '127.0.0.1', ...defaults, ...env };
  // `undefined` in `env` unsets a variable.
  return Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined));
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

  const tls = env.WS_TLS_CERT !== undefined;
  const server = {
    port,
    child,
    wsUrl: `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}${PATH}`,
    httpUrl: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
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
  while (!/^listening on |"event":"listening"/m.test(stderr)) {
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
 * when the handshake fails. With auth on it presents `options.user`'s
 * credential (alice's by default) unless `options.headers` has an
 * Authorization header.
 */
export async function connect(url, protocols = DEFAULT_PROTOCOLS, { user = 'alice', ...options } = {}) {
  // A header set to undefined is left out.
  const all = { ...(await authHeader(user)), ...options.headers };
  const headers = Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { ...options, headers });
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

/** `{ Authorization: 'Bearer ...' }` for `user`, or nothing without auth. */
export async function authHeader(user = 'alice') {
  const value = await credential(user);
  return value === null ? {} : { Authorization: `Bearer ${value}` };
}

/**
 * Sends a bare opening handshake with extra `headers` (a header set to
 * undefined is left out; alice's credential, and a subprotocol when one is
 * required, are sent unless `headers` sets them) and resolves with the response: `{ status, headers, body }`
 * (the socket is closed right away). For checks a client library would
 * refuse to make. `options` go to http(s).request (e.g. `ca`).
 */
export async function handshake(url, headers = {}, options = {}) {
  const all = {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    ...(DEFAULT_PROTOCOLS.length > 0 ? { 'Sec-WebSocket-Protocol': DEFAULT_PROTOCOLS.join(', ') } : {}),
    ...(await authHeader()),
    ...headers,
  };
  const client = url.startsWith('wss') || url.startsWith('https') ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(url.replace(/^ws/, 'http'), {
      ...options,
      headers: Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined)),
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
