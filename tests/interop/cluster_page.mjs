// Two chat pages on two instances of one `backplane: redis` cluster (usually
// of two different languages), in one headless Chromium: both join one room,
// each sees the other arrive, and a message typed in either page appears in
// the other with the same id. Usage:
//
//   node cluster_page.mjs BASE_URL_A BASE_URL_B
//
// Prints one JSON line: {"ok":bool,"checks":[{"name","ok","ms","error"?}]}.
import { chromium } from "playwright-core";

const [baseA, baseB] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const timeout = 10000;
const room = "cluster-" + Date.now().toString(36);
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** A page of `base` in its own browser context, connected. */
async function open(base) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(timeout);
  page.jsErrors = [];
  page.on("pageerror", (e) => page.jsErrors.push(String(e)));
  await page.goto(new URL("/", base).href, { timeout });
  await page.waitForSelector('#status[data-state="connected"]');
  return page;
}

async function join(page, name) {
  await page.fill("#name", name);
  await page.fill("#room", room);
  await page.press("#room", "Enter");
  await page.waitForFunction((r) => document.querySelector(`.tab[data-room="${r}"]`) && document.getElementById("room-title").textContent.startsWith(r), room);
}

async function say(page, text) {
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

/** Waits until a message with `text` is in the log. */
async function waitText(page, text) {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll("#log .msg:not(.system) .text")].some((e) => e.textContent === t), text);
}

const texts = (page) => page.$$eval("#log .msg:not(.system) .text", (els) => els.map((e) => e.textContent));

const checks = [];
async function check(name, body) {
  const started = Date.now();
  try {
    await body();
    checks.push({ name, ok: true, ms: Date.now() - started });
  } catch (e) {
    checks.push({ name, ok: false, ms: Date.now() - started, error: String((e && e.message) || e).split("\n")[0] });
  }
}

let a, b;
try {
  await check("both pages join one room on two instances", async () => {
    a = await open(baseA);
    b = await open(baseB);
    await join(a, "alice");
    await join(b, "bob");
    // alice (instance A) is told bob (instance B) arrived.
    await a.waitForFunction(() => [...document.querySelectorAll("#log .msg.system")].some((e) => e.textContent === "bob joined"));
  });
  if (a && b) {
    await check("a message typed in page A appears in page B", async () => {
      await say(a, "hello from A");
      await waitText(b, "hello from A");
      await waitText(a, "hello from A");
    });
    await check("a message typed in page B appears in page A", async () => {
      await say(b, "hello from B");
      await waitText(a, "hello from B");
      await waitText(b, "hello from B");
    });
    await check("both pages show the room's messages in one order", async () => {
      const [ta, tb] = [await texts(a), await texts(b)];
      assert(JSON.stringify(ta) === JSON.stringify(tb), `A shows ${JSON.stringify(ta)}, B ${JSON.stringify(tb)}`);
      assert(JSON.stringify(ta) === JSON.stringify(["hello from A", "hello from B"]), "messages: " + JSON.stringify(ta));
      for (const p of [a, b]) assert(p.jsErrors.length === 0, "script errors on a page: " + p.jsErrors.join("; "));
    });
  }
} finally {
  await browser.close();
}
const ok = checks.length === 4 && checks.every((c) => c.ok);
console.log(JSON.stringify({ ok, checks }));
process.exitCode = ok ? 0 : 1;
