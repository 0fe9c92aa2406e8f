// The chat page a generated chat server serves at GET /, driven in headless
// Chromium against the real server: one check per behaviour the page
// promises (docs/chat.md, "The browser page"). Usage:
//
//   node chat_page.mjs BASE_URL '{"maxMessageLength":4096,"historyLimit":50,"rooms":true,"presence":true,"history":true,"auth":"none"}'
//
// Prints one JSON line: {"ok":bool,"checks":[{"name","ok","ms","error"?}]}.
// With SCREENSHOTS=DIR it also writes DIR/chat-page-desktop.png (1280 px)
// and DIR/chat-page-phone.png (390 px).
import { chromium } from "playwright-core";
import readline from "node:readline";

const [base, configJson] = process.argv.slice(2);
const config = JSON.parse(configJson || "{}");
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const timeout = 10000;
const run = Date.now().toString(36);
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    // Over https: trust the test server's key, and nothing else.
    ...(config.spki ? ["--ignore-certificate-errors-spki-list=" + config.spki] : [])],
});

// With RESTARTABLE=1 the test that started this script restarts the server
// on the same port when asked: {"restart":true} on stdout, "restarted" back
// on stdin.
const stdinLines = process.env.RESTARTABLE === "1" ? readline.createInterface({ input: process.stdin }) : null;
const lineQueue = [];
let lineWaiter = null;
stdinLines?.on("line", (l) => { if (lineWaiter) { const w = lineWaiter; lineWaiter = null; w(l); } else lineQueue.push(l); });
async function restartServer() {
  console.log(JSON.stringify({ restart: true }));
  const l = lineQueue.length ? lineQueue.shift() : await new Promise((ok) => { lineWaiter = ok; });
  assert(l === "restarted", "the server did not restart: " + l);
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** A fresh browser context (its own connection) with the page loaded; with
 *  auth on, `path` carries the token (`/?access_token=...`) or the page waits
 *  for one. `page.sockets` lists the WebSocket URLs the page opened. */
async function open(viewport = { width: 1280, height: 800 }, path = "/", state = "connected") {
  const ctx = await browser.newContext({ viewport });
  const page = await ctx.newPage();
  page.setDefaultTimeout(timeout);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.sockets = [];
  page.on("websocket", (ws) => page.sockets.push(ws.url()));
  await page.goto(new URL(path, base).href, { timeout });
  await page.waitForSelector(`#status[data-state="${state}"]`);
  page.jsErrors = errors;
  return page;
}

/** Join `room` as `name` through the form, pressing Enter in the room field. */
async function join(page, name, room) {
  if (name !== null && !(await page.$eval("#name", (e) => e.readOnly))) await page.fill("#name", name);
  if (config.rooms) await page.fill("#room", room);
  await page.press(config.rooms ? "#room" : "#name", "Enter");
  const shown = config.rooms ? room : "main";
  await page.waitForFunction((r) => document.querySelector(`.tab[data-room="${r}"]`) && document.getElementById("room-title").textContent.startsWith(r), shown);
}

async function say(page, text) {
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

const texts = (page, sel = "#log .msg:not(.system) .text") => page.$$eval(sel, (els) => els.map((e) => e.textContent));

async function waitText(page, text) {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll("#log .msg .text")].some((e) => e.textContent === t), text);
}

// Rooms outlive their members: each run uses its own (plain names for the screenshots).
const room = (name) => (!config.rooms ? "main" : process.env.SCREENSHOTS ? name : `${name}-${run}`);
const checks = [];
async function check(name, body) {
  const started = Date.now();
  const pages = [];
  const track = async (...args) => { const p = await open(...args); pages.push(p); return p; };
  try {
    await body(track);
    for (const p of pages) assert(p.jsErrors.length === 0, "script errors on the page: " + p.jsErrors.join("; "));
    checks.push({ name, ok: true, ms: Date.now() - started });
  } catch (e) {
    checks.push({ name, ok: false, ms: Date.now() - started, error: String((e && e.message) || e).split("\n")[0] });
  } finally {
    for (const p of pages) await p.context().close();
  }
}

const authOn = config.auth && config.auth !== "none";
const tokens = config.tokens || {};       // user name -> token the server accepts
const tokenPath = (user) => "/?" + new URLSearchParams({ lang: "en", access_token: tokens[user] });

if (authOn) {
  // A token in the page's URL: used for the WebSocket (?access_token=), then
  // removed from the address bar; join without a name uses the identity.
  await check("auth: token from the page URL, join as the identity", async (open) => {
    const [user] = Object.keys(tokens);
    const page = await open(undefined, tokenPath(user));
    const search = await page.evaluate(() => location.search);
    assert(!search.includes("access_token") && search.includes("lang=en"), "the token is still in the address bar: " + search);
    assert(page.sockets.length === 1 && page.sockets[0].includes("access_token=" + encodeURIComponent(tokens[user])), "WebSocket URL without the token: " + page.sockets);
    if (config.spki) {
      assert(await page.evaluate(() => location.protocol) === "https:", "the page is not on https");
      assert(page.sockets[0].startsWith("wss://"), "the WebSocket is not on wss: " + page.sockets[0]);
    }
    assert(await page.inputValue("#name") === "", "the name field is not empty");
    if (config.rooms) await page.fill("#room", room("auth"));
    await page.press("#room", "Enter");
    await page.waitForFunction((u) => document.getElementById("name").value === u, user);
    assert((await page.textContent("#room-title")).includes("you are " + user), "not joined as the token's identity");
  });

  // A name other than the token's identity is refused, visibly.
  await check("auth: another name is forbidden", async (open) => {
    const [, user] = Object.keys(tokens);
    const page = await open(undefined, tokenPath(user));
    await page.fill("#name", "mallory");
    if (config.rooms) await page.fill("#room", room("auth"));
    await page.press("#name", "Enter");
    await page.waitForFunction(() => document.getElementById("join-error").textContent !== "");
    assert(/forbidden/.test(await page.textContent("#join-error")), "no forbidden message: " + await page.textContent("#join-error"));
    assert((await page.$$(".tab")).length === 0, "joined under another name");
  });

  // No token: the page says so and does not hammer the server; a token
  // typed into the field then connects.
  await check("auth: no token, then one typed in", async (open) => {
    const [user] = Object.keys(tokens);
    const page = await open(undefined, "/", "needs-token");
    assert(/needs a token/.test(await page.textContent("#auth-error")), "no 'needs a token' message");
    assert(await page.isVisible("#auth-error"), "the message is not visible");
    await page.waitForTimeout(1000);
    assert(page.sockets.length === 0, "connected without a token: " + page.sockets.length);
    await page.fill("#token", tokens[user]);
    if (config.rooms) await page.fill("#room", room("auth"));
    await page.press("#token", "Enter");
    await page.waitForFunction((u) => document.getElementById("name").value === u, user);
    assert(await page.textContent("#auth-error") === "", "the message stayed");
  });

  // Over the rate limit: the server answers rate_limited without a ref
  // (it does not parse the frame); the refused text still comes back into
  // the box, with the reason under it.
  if (config.rateLimit) {
    await check("rate limit: the refused message stays in the box", async (open) => {
      const [user] = Object.keys(tokens);
      const page = await open(undefined, tokenPath(user));
      if (config.rooms) await page.fill("#room", room("burst"));
      await page.press("#room", "Enter");
      await page.waitForFunction((u) => document.getElementById("name").value === u, user);
      await page.evaluate((n) => {
        const form = document.getElementById("send-form");
        for (let i = 1; i <= n; i++) {
          document.getElementById("text").value = "burst " + i;
          form.requestSubmit();
        }
      }, config.rateLimit.burst + 5);
      await page.waitForFunction(() => document.getElementById("send-error").textContent.includes("rate_limited"));
      const kept = await page.inputValue("#text");
      assert(/^burst \d+$/.test(kept), "the refused message is not in the box: " + JSON.stringify(kept));
      const shown = await texts(page);
      assert(!shown.includes(kept), "the text in the box was in fact sent: " + kept);
    });
  }

  // A refused token: the failed handshake is explained at once (a fetch of
  // the WebSocket path with the token in an Authorization header gets the
  // handshake's 401, also when that path is the page's own, "/") and the
  // page stops retrying.
  await check("auth: a refused token is explained, not retried", async (open) => {
    const page = await open(undefined, "/?access_token=not-a-token", "failed");
    assert(/token was refused/.test(await page.textContent("#auth-error")), "no 'token was refused' message: " + await page.textContent("#auth-error"));
    assert(await page.textContent("#status") === "token refused", "status: " + await page.textContent("#status"));
    const attempts = page.sockets.length;
    assert(attempts === 1, "attempts before giving up: " + attempts);
    await page.waitForTimeout(2000);
    assert(page.sockets.length === attempts, "retried a refused token: " + page.sockets.length + " attempts");
    assert(!(await page.evaluate(() => location.search)).includes("not-a-token"), "the token is still in the address bar");
  });
}

// Every input and button has a name a screen reader can say, and the
// status line says whether the page is connected.
// Without auth: the page connects on load.
if (!authOn) {
  await check("labels and visible connection state", async (open) => {
    const page = await open();
    const unnamed = await page.$$eval("input, button", (els) => els
      .filter((e) => !e.closest("[hidden]"))
      .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.textContent.trim())
      .map((e) => e.id || e.outerHTML));
    assert(unnamed.length === 0, "controls without a label: " + unnamed.join(", "));
    assert(await page.textContent("#status") === "connected", "status does not say connected");
  });

  // A name with a space (or any other refused character) shows why, next to
  // the field, and nothing is sent; correcting it clears the message.
  await check("visible validation messages", async (open) => {
    const page = await open();
    await page.fill("#name", "alice smith");
    if (config.rooms) await page.fill("#room", room("valid"));
    await page.press("#name", "Enter");
    await page.waitForFunction(() => document.getElementById("name-error").textContent !== "");
    const msg = await page.textContent("#name-error");
    assert(/space/i.test(msg), `name error does not mention the space: ${msg}`);
    assert(await page.isVisible("#name-error"), "name error not visible");
    assert(await page.getAttribute("#name", "aria-invalid") === "true", "name not marked invalid");
    assert(await page.evaluate(() => document.activeElement.id) === "name", "focus not on the name");
    assert((await page.$$(".tab")).length === 0, "a room was joined with an invalid name");
    await page.fill("#name", "bob!");
    await page.press("#name", "Enter");
    await page.waitForFunction(() => document.getElementById("name-error").textContent.includes("!"));
    if (config.rooms) {
      await page.fill("#name", "carol");
      await page.fill("#room", "no/slash");
      await page.press("#room", "Enter");
      await page.waitForFunction(() => document.getElementById("room-error").textContent !== "");
      assert(await page.textContent("#name-error") === "", "name error not cleared after the fix");
    }
    await join(page, "carol", room("valid"));
    assert(await page.textContent("#name-error") === "", "name error still shown");
  });

  // Two pages: Enter joins and sends, focus goes to the message box after a
  // join, presence shows both, messages cross, leaving shrinks the list.
  await check("keyboard chat between two pages", async (open) => {
    const r = room("chat");
    const alice = await open();
    const bob = await open();
    // Focus order: name, room, join, then (after joining) the message box.
    await alice.focus("#name");
    const order = [];
    for (let i = 0; i < (config.rooms ? 2 : 1); i++) {
      await alice.keyboard.press("Tab");
      order.push(await alice.evaluate(() => document.activeElement.id));
    }
    assert(order.join(",") === (config.rooms ? "room,join" : "join"), "tab order from the name: " + order);
    await join(alice, "alice", r);
    assert(await alice.evaluate(() => document.activeElement.id) === "text", "focus not in the message box after joining");
    await join(bob, "bob", r);
    if (config.presence) {
      await alice.waitForFunction(() => [...document.querySelectorAll("#members li")].map((li) => li.textContent).join(",") === "alice,bob");
    }
    await say(alice, "hello from alice 🎉");
    await waitText(bob, "hello from alice 🎉");
    assert(await alice.inputValue("#text") === "", "the box is not cleared after a sent message");
    await say(bob, "hi alice");
    await waitText(alice, "hi alice");
    if (config.presence) {
      await bob.click("#leave");
      await alice.waitForFunction(() => [...document.querySelectorAll("#members li")].map((li) => li.textContent).join(",") === "alice");
    }
  });

  // A message the server refuses (over maxMessageLength) stays in the box,
  // with the reason next to it; a shorter one then goes through.
  await check("draft kept when the server refuses it", async (open) => {
    const page = await open();
    await join(page, "dora", room("draft"));
    const long = "x".repeat(config.maxMessageLength + 1);
    await say(page, long);
    await page.waitForFunction(() => document.getElementById("send-error").textContent !== "");
    const err = await page.textContent("#send-error");
    assert(/too_long/.test(err) && /at most/.test(err), "send error does not say too long: " + err);
    assert(await page.inputValue("#text") === long, "the refused draft is not in the box");
    assert(await page.isVisible("#send-error"), "send error not visible");
    const near = await page.evaluate(() => {
      const a = document.getElementById("send-error").getBoundingClientRect();
      const b = document.getElementById("text").getBoundingClientRect();
      return Math.abs(a.top - b.bottom) < 60;
    });
    assert(near, "the error is not next to the message box");
    await page.fill("#text", "short enough");
    assert(await page.textContent("#send-error") === "", "error not cleared on edit");
    await page.press("#text", "Enter");
    await waitText(page, "short enough");
  });

  // Several rooms at once: a tab per room; a message in a room not shown
  // counts as unread on its tab until the tab is opened.
  if (config.rooms) {
    await check("several rooms with unread counts", async (open) => {
      const one = room("one");
      const two = room("two");
      const erin = await open();
      const fred = await open();
      await join(erin, "erin", one);
      await join(erin, null, two);
      assert((await erin.$$(".tab")).length === 2, "not two tabs");
      await join(fred, "fred", one);
      await say(fred, "first");
      await say(fred, "second");
      await erin.waitForFunction((r) => document.querySelector(`.tab[data-room="${r}"] .unread`).textContent === "2", one);
      assert(await erin.getAttribute(`.tab[data-room="${two}"]`, "aria-selected") === "true", "the shown tab changed");
      assert(/^\(2\)/.test(await erin.title()), "the title does not count unread messages");
      await erin.click(`.tab[data-room="${one}"]`);
      await waitText(erin, "second");
      assert(await erin.textContent(`.tab[data-room="${one}"] .unread`) === "", "unread not cleared");
      // The arrow keys move between tabs.
      await erin.focus(`.tab[data-room="${one}"]`);
      await erin.keyboard.press("ArrowRight");
      assert(await erin.getAttribute(`.tab[data-room="${two}"]`, "aria-selected") === "true", "ArrowRight did not select the next tab");
      assert(await erin.evaluate(() => document.activeElement.dataset.room), "focus left the tabs");
      await erin.keyboard.press("ArrowLeft");
      assert(await erin.getAttribute(`.tab[data-room="${one}"]`, "aria-selected") === "true", "ArrowLeft did not go back");
      // Leaving a room closes its tab and shows another.
      await erin.click("#leave");
      await erin.waitForFunction(() => document.querySelectorAll(".tab").length === 1);
      assert((await erin.textContent("#room-title")).startsWith(two), "the other room is not shown");
    });
  }

  // A room with more messages than one page: the page shows the newest page
  // and "Load older messages" fetches the rest through history paging.
  if (config.history) {
    await check("load older messages through history paging", async (open) => {
      const r = room("paging");
      const total = Math.min(config.historyLimit, 25);
      const pageSize = Math.min(20, config.historyLimit);
      const seeder = await open();
      // The seeder talks chat-v1 directly: quicker than typing 25 messages.
      await seeder.evaluate(async ({ r, total }) => {
        const ws = new WebSocket(location.origin.replace(/^http/, "ws") + PATH);
        await new Promise((ok, err) => { ws.onopen = ok; ws.onerror = err; });
        const done = new Promise((ok) => { ws.onmessage = (e) => { if (JSON.parse(e.data).ref === "last") ok(); }; });
        ws.send(JSON.stringify({ type: "join", room: r, user: "seeder" }));
        for (let i = 1; i <= total; i++) ws.send(JSON.stringify({ type: "message", room: r, text: "m" + i, ref: i === total ? "last" : i }));
        await done;
        ws.close();
      }, { r, total });
      const gina = await open();
      await join(gina, "gina", r);
      await gina.waitForFunction((n) => document.querySelectorAll("#log .msg.history").length === n, Math.min(pageSize, total));
      let got = await texts(gina);
      assert(got[got.length - 1] === "m" + total, "newest message not shown: " + got.slice(-1));
      if (total > pageSize) {
        assert(await gina.isVisible("#older"), "no 'Load older messages' button");
        await gina.click("#older");
        await gina.waitForFunction((n) => document.querySelectorAll("#log .msg.history").length === n, total);
        got = await texts(gina);
        const want = Array.from({ length: total }, (_, i) => "m" + (i + 1));
        assert(got.join(",") === want.join(","), "messages after loading older: " + got.join(","));
      }
      assert(!(await gina.isVisible("#older")), "the button is still offered at the first message");
      assert(/beginning/.test(await gina.textContent("#older-note")), "no note at the beginning of the room");
    });
  }

  // The server closes the connection (here: a binary frame, which chat-v1
  // answers with close 1003): the status says so, the page reconnects by
  // itself and is back in every room it was in.
  await check("reconnect with automatic re-join of every room", async (open) => {
    const a = room("re-a");
    const b = room("re-b");
    const hana = await open();
    const ivan = await open();
    await join(hana, "hana", a);
    if (config.rooms) await join(hana, null, b);
    await join(ivan, "ivan", a);
    const states = hana.evaluate(() => new Promise((resolve) => {
      const seen = [];
      const s = document.getElementById("status");
      new MutationObserver(() => {
        seen.push(s.dataset.state);
        if (s.dataset.state === "connected") resolve(seen);
      }).observe(s, { attributes: true, childList: true, subtree: true });
    }));
    await hana.evaluate(() => socket.send(new Uint8Array([1, 2, 3])));
    const seen = await states;
    assert(seen.includes("reconnecting"), "the status never showed the lost connection: " + seen.join(","));
    if (config.presence) {
      // ivan sees hana leave and come back without anyone pressing Join.
      await ivan.waitForFunction(() => [...document.querySelectorAll("#log .msg.system")].some((e) => e.textContent === "hana left"));
      await ivan.waitForFunction(() => [...document.querySelectorAll("#members li")].map((li) => li.textContent).join(",") === "hana,ivan");
    }
    await hana.waitForFunction(() => [...document.querySelectorAll("#log .msg.system")].some((e) => e.textContent.startsWith("rejoined")));
    await say(ivan, "after the reconnect");
    if (config.rooms) {
      await hana.waitForFunction((r) => document.querySelector(`.tab[data-room="${r}"] .unread`).textContent === "1", a);
      await hana.click(`.tab[data-room="${a}"]`);
    }
    await waitText(hana, "after the reconnect");
    if (config.rooms) {
      // The second room was re-joined too: hana can send there.
      await hana.click(`.tab[data-room="${b}"]`);
      await say(hana, "still in b");
      await waitText(hana, "still in b");
    }
  });

  // The server goes away and comes back (a restart on the same port): the page
  // retries with backoff while it is down, says so, re-joins every room, and
  // notices that the restarted server lost the room's messages.
  if (stdinLines) {
    await check("server restart: backoff, re-join, lost history noticed", async (open) => {
      const a = room("restart-a");
      const b = room("restart-b");
      const kim = await open();
      await join(kim, "kim", a);
      if (config.rooms) await join(kim, null, b);
      if (config.rooms) await kim.click(`.tab[data-room="${a}"]`);
      await say(kim, "before the restart");
      await waitText(kim, "before the restart");
      const texts = kim.evaluate(() => new Promise((resolve) => {
        const seen = [];
        const s = document.getElementById("status");
        new MutationObserver(() => {
          seen.push(s.dataset.state + ": " + s.textContent);
          if (s.dataset.state === "connected") resolve(seen);
        }).observe(s, { attributes: true, childList: true, subtree: true });
      }));
      await restartServer();
      const seen = await texts;
      assert(seen.some((t) => t.startsWith("reconnecting: ") && /unreachable|lost/.test(t)), "the status never said the server was away: " + seen.join(" | "));
      await kim.waitForFunction((r) => [...document.querySelectorAll("#log .msg.system")].some((e) => e.textContent === "rejoined " + r), a);
      if (config.history) {
        assert(await kim.$$eval("#log .msg.system", (els) => els.some((e) => /restarted/.test(e.textContent))), "the lost history is not noticed");
      }
      // The restarted server numbers from 1 again: new messages still show.
      await say(kim, "after the restart");
      await waitText(kim, "after the restart");
      const lee = await open();
      await join(lee, "lee", a);
      if (config.presence) {
        await lee.waitForFunction(() => [...document.querySelectorAll("#members li")].map((li) => li.textContent).join(",") === "kim,lee");
      }
      if (config.rooms) {
        await kim.click(`.tab[data-room="${b}"]`);
        await say(kim, "b is back too");
        await waitText(kim, "b is back too");
      }
    });
  }

  // At 390 px wide the messages get (nearly) the whole width, nothing scrolls
  // sideways, and the message box and Send button are on screen.
  await check("layout at 390 px", async (open) => {
    const page = await open({ width: 390, height: 844 });
    await join(page, "jade", room("phone"));
    await say(page, "a long line ".repeat(20));
    await waitText(page, "a long line ".repeat(20));
    const m = await page.evaluate(() => {
      const r = (id) => document.getElementById(id).getBoundingClientRect();
      return {
        scrollWidth: document.documentElement.scrollWidth,
        messages: r("messages").width,
        text: r("text"), send: r("send"),
      };
    });
    assert(m.scrollWidth <= 390, "the page scrolls sideways: " + m.scrollWidth);
    assert(m.messages >= 370, "the messages get only " + m.messages + " px");
    for (const k of ["text", "send"]) {
      assert(m[k].left >= 0 && m[k].right <= 390 && m[k].bottom <= 844 && m[k].width > 30, `#${k} off screen: ${JSON.stringify(m[k])}`);
    }
  });

}

if (process.env.SCREENSHOTS && !authOn) {
  await check("screenshots", async (open) => {
    const lobby = room("lobby");
    const dev = room("dev");
    const ana = await open({ width: 1280, height: 720 });
    const ben = await open({ width: 390, height: 780 });
    const chloe = await open({ width: 1280, height: 720 });
    if (config.rooms) await join(ana, "ana", dev);
    await join(ana, "ana", lobby);
    await join(ben, "ben", lobby);
    await join(chloe, "chloe", lobby);
    await say(chloe, "Morning! The new build is up.");
    await say(ben, "Thanks, trying it on my phone now.");
    await say(chloe, "The page keeps your draft when the server refuses a message.");
    await waitText(ana, "The page keeps your draft when the server refuses a message.");
    await waitText(ben, "The page keeps your draft when the server refuses a message.");
    if (config.rooms) {
      await join(chloe, null, dev);
      await say(chloe, "CI is green on all four languages.");
      await ana.waitForFunction((r) => document.querySelector(`.tab[data-room="${r}"] .unread`).textContent === "1", dev);
    }
    await ben.fill("#text", "y".repeat(config.maxMessageLength + 1));
    await ben.press("#text", "Enter");
    await ben.waitForFunction(() => document.getElementById("send-error").textContent !== "");
    await ana.focus("#text");
    await ana.screenshot({ path: process.env.SCREENSHOTS + "/chat-page-desktop.png" });
    await ben.screenshot({ path: process.env.SCREENSHOTS + "/chat-page-phone.png" });
  });
}

await browser.close();
stdinLines?.close();
const ok = checks.every((c) => c.ok);
console.log(JSON.stringify({ ok, checks }));
process.exitCode = ok ? 0 : 1;
