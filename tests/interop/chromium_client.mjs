// Echo check from headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser download). Chromium offers
// `permessage-deflate; client_max_window_bits`. Prints one JSON line.
import { chromium } from "playwright-core";

const [url, ...protocols] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  // A page of the server's own origin (its health check): the generated
  // servers accept same-origin browsers by default, and a blank page's
  // `Origin: null` is refused (403), as it should be.
  const origin = new URL(url);
  origin.protocol = origin.protocol === "wss:" ? "https:" : "http:";
  await page.goto(new URL("/healthz", origin).href);
  const result = await page.evaluate(async ({ url, protocols }) => {
    const ws = new WebSocket(url, protocols.length ? protocols : undefined);
    ws.binaryType = "arraybuffer";
    const next = () => new Promise((resolve, reject) => {
      ws.onmessage = (e) => resolve(e.data);
      ws.onclose = (e) => reject(new Error("closed " + e.code));
      setTimeout(() => reject(new Error("timeout")), 10000);
    });
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error("connect failed")); });
    for (const text of ["hello", "héllo wörld 🚀", "y".repeat(100000)]) {
      ws.send(text);
      const got = await next();
      if (got !== text) return { ok: false, error: "text echo mismatch for " + text.length + " chars" };
    }
    const bytes = new Uint8Array(4096).map((_, i) => (i * 7) & 255);
    ws.send(bytes);
    const got = new Uint8Array(await next());
    if (got.length !== bytes.length || got.some((b, i) => b !== bytes[i])) return { ok: false, error: "binary echo mismatch" };
    const out = { ok: true, subprotocol: ws.protocol, extensions: ws.extensions };
    ws.close(1000);
    return out;
  }, { url, protocols });
  console.log(JSON.stringify(result));
  process.exitCode = result.ok ? 0 : 1;
} finally {
  await browser.close();
}
