// Two headless Chromium pages chat through a generated chat server's own
// page (GET /): each picks a name, joins the same room, sees the other in
// the member list, and receives the other's message. Prints one JSON line.
import { chromium } from "playwright-core";

const [base] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const timeout = 15000;
try {
  const ctxA = await browser.newContext();
  const ctxB = await browser.newContext();
  const alice = await ctxA.newPage();
  const bob = await ctxB.newPage();
  const room = "browser-" + Date.now();
  for (const [page, name] of [[alice, "alice"], [bob, "bob"]]) {
    await page.goto(base, { timeout });
    await page.waitForFunction(() => !document.getElementById("join").disabled, null, { timeout });
    await page.fill("#name", name);
    if (await page.isVisible("#room")) await page.fill("#room", room);
    await page.click("#join");
    await page.waitForFunction(() => !document.getElementById("text").disabled, null, { timeout });
  }
  // Presence: alice sees bob join.
  await alice.waitForFunction(
    () => [...document.querySelectorAll("#members li")].map((li) => li.textContent).join(",") === "alice,bob",
    null, { timeout });
  // A message from alice reaches bob, and one from bob reaches alice.
  await alice.fill("#text", "hello from alice 🎉");
  await alice.click("#send");
  await bob.waitForFunction(
    () => [...document.querySelectorAll("#messages .msg.live .text")].some((e) => e.textContent === "hello from alice 🎉"),
    null, { timeout });
  await bob.fill("#text", "hi alice");
  await bob.click("#send");
  await alice.waitForFunction(
    () => [...document.querySelectorAll("#messages .msg.live .text")].some((e) => e.textContent === "hi alice"),
    null, { timeout });
  // bob leaves: alice sees the member list shrink.
  await bob.click("#leave");
  await alice.waitForFunction(
    () => [...document.querySelectorAll("#members li")].map((li) => li.textContent).join(",") === "alice",
    null, { timeout });
  const messages = await alice.$$eval("#messages .msg", (els) => els.map((e) => e.textContent));
  console.log(JSON.stringify({ ok: true, messages }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e && e.message || e) }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
