#!/usr/bin/env node
// A session worker wrapping an agent SDK's streaming query (docs/session.md).
//
// Each stdin line (an `input` frame's data) is one prompt: a JSON string, or
// an object {"prompt": "...", "options": {...}} whose options go to the SDK.
// Every message the SDK streams becomes one stdout line (one event); the
// worker then writes {"type":"worker","state":"idle"} and waits for the next
// prompt. SIGINT (the client's `interrupt`) calls the running query's
// interrupt(). stdin EOF (the client's `end`) lets the running query finish,
// then exits 0.
//
// The SDK is @anthropic-ai/claude-agent-sdk (`query({prompt, options})`
// returns an async iterable with `interrupt()`); AGENT_SDK_MODULE names
// another module with the same shape (the tests use a stub). It needs its
// credentials (ANTHROPIC_API_KEY) in the worker's environment: list the
// variable in the spec's `session.env`.
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { isAbsolute } from "node:path";

const moduleName = process.env.AGENT_SDK_MODULE || "@anthropic-ai/claude-agent-sdk";
const sdk = await import(isAbsolute(moduleName) ? pathToFileURL(moduleName).href : moduleName);

function emit(obj) {
  // One line per event: JSON.stringify never writes a raw newline.
  process.stdout.write(JSON.stringify(obj) + "\n");
}

let running = null;
process.on("SIGINT", () => {
  if (running && typeof running.interrupt === "function") {
    emit({ type: "worker", state: "interrupting" });
    Promise.resolve(running.interrupt()).catch((e) => emit({ type: "worker", state: "error", error: String(e) }));
  } else {
    emit({ type: "worker", state: "idle" });
  }
});

function prompt(line) {
  let data;
  try {
    data = JSON.parse(line);
  } catch {
    data = line;
  }
  if (typeof data === "string") return { prompt: data, options: {} };
  if (data && typeof data === "object" && typeof data.prompt === "string") {
    return { prompt: data.prompt, options: data.options ?? {} };
  }
  return null;
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  const p = prompt(line);
  if (!p) {
    emit({ type: "worker", state: "error", error: "an input is a prompt string or {prompt, options}" });
    continue;
  }
  try {
    running = sdk.query({ prompt: p.prompt, options: p.options });
    for await (const message of running) emit(message);
  } catch (e) {
    emit({ type: "worker", state: "error", error: String(e?.message ?? e) });
  } finally {
    running = null;
  }
  emit({ type: "worker", state: "idle" });
}
process.exit(0);
