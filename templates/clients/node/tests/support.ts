// A small in-test WebSocket server (the `ws` package) whose every answer a
// test scripts: HTTP refusals, closes, frames in any order.

import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface Fake {
  url: string;
  /** Handshakes seen (refused ones included). */
  attempts: number;
  /** When each handshake arrived (ms, performance.now()). */
  times: number[];
  close(): Promise<void>;
}

export interface Script {
  /** Refuse handshake number `n` (0 first) with this status and headers, or accept it (undefined). */
  refuse?(n: number, req: IncomingMessage): { status: number; headers?: Record<string, string> } | undefined;
  /** An accepted connection number `n` (0 first, counting accepted ones). */
  connection?(ws: WebSocket, n: number): void;
}

export async function fakeServer(script: Script): Promise<Fake> {
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true });
  const fake: Fake = {
    url: '',
    attempts: 0,
    times: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
  let accepted = 0;
  http.on('upgrade', (req, socket, head) => {
    const n = fake.attempts++;
    fake.times.push(performance.now());
    const refusal = script.refuse?.(n, req);
    if (refusal) {
      const headers = Object.entries(refusal.headers ?? {})
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.end(`HTTP/1.1 ${refusal.status} Refused\r\n${headers}Content-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => script.connection?.(ws, accepted++));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  fake.url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`;
  return fake;
}

/** Answer each JSON frame of `ws` with `reply(frame)` (nothing when it returns undefined). */
export function onFrames(ws: WebSocket, reply: (frame: Record<string, unknown>) => void): void {
  ws.on('message', (data) => reply(JSON.parse(String(data)) as Record<string, unknown>));
}

export function send(ws: WebSocket, frame: Record<string, unknown>): void {
  ws.send(JSON.stringify(frame));
}

/** Take `n` items from an async iterable. */
export async function take<T>(source: AsyncIterable<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  if (n === 0) return out;
  for await (const item of source) {
    out.push(item);
    if (out.length >= n) break;
  }
  return out;
}

/** A free port with nothing listening on it. */
export async function deadUrl(): Promise<string> {
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  await new Promise<void>((resolve) => http.close(() => resolve()));
  return `ws://127.0.0.1:${port}/`;
}
