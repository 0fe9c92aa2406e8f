// Minimal echo server on ws, written by hand: the baseline for the generated
// Node server. Same library, same defaults, nothing else.
import http from "node:http";
import { WebSocketServer } from "ws";

const host = process.env.HOST || "127.0.0.1";
const port = Number(process.env.PORT || 8080);
const maxPayload = Number(process.env.WS_MAX_PAYLOAD || 1 << 20);

const server = http.createServer((req, res) => {
  res.writeHead(req.url === "/healthz" ? 200 : 404, { "content-type": "text/plain" });
  res.end(req.url === "/healthz" ? "ok\n" : "not found\n");
});
const wss = new WebSocketServer({ noServer: true, maxPayload });
server.on("upgrade", (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
});
server.listen(port, host, () => console.error(`listening on ws://${host}:${port}`));
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    for (const ws of wss.clients) ws.close(1001, "going away");
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
