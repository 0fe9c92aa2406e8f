#!/usr/bin/env python3
"""bench/clients.sh, Python: the loops on the GENERATED client libraries
(chat_client and session_client, generated from specs/chat.yaml and
specs/session.yaml and pip-installed by path into the bench's venv).

    lib.py chat URL COUNT WINDOW      join a room, then COUNT messages, WINDOW in flight,
                                      each awaited as its own copy (the request matched by ref)
    lib.py session URL COUNT          start a session whose worker emits COUNT events, read them all
    lib.py resume URL CONTROL CUTS    events paced 1 ms apart through proxy.py; CUTS cuts,
                                      each timed from the cut to the first event delivered after it

Prints one JSON line: {"ok": true, ...} (perSecond, p50/p99 in ms, median).
"""
import asyncio
import json
import sys
import time
import uuid

import chat_client
import session_client
from session_client.frames import EventEvent, ExitEvent

TEXT = "m" * 64
now = time.perf_counter


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


async def chat(url: str, count: int, window: int) -> dict:
    client = await chat_client.connect(url, user="b" + uuid.uuid4().hex[:8])
    room = "r" + uuid.uuid4().hex[:8]

    async def drain() -> None:  # the event stream has every message too: keep it read
        async for _ in client:
            pass

    drainer = asyncio.create_task(drain())
    await client.join(room)
    lat: list[float] = []

    async def worker(n: int, keep: bool) -> None:
        for _ in range(n):
            t = now()
            await client.message(room, TEXT)
            if keep:
                lat.append((now() - t) * 1000)

    await asyncio.gather(*(worker(max(1, 500 // window), False) for _ in range(window)))  # warm-up
    per = count // window
    t0 = now()
    await asyncio.gather(*(worker(per, True) for _ in range(window)))
    secs = now() - t0
    await client.close()
    drainer.cancel()
    return {"ok": True, "perSecond": per * window / secs, "p50": pct(lat, 0.5), "p99": pct(lat, 0.99)}


async def session(url: str, count: int) -> dict:
    client = await session_client.connect(url)
    t0 = 0.0  # from the first event (the worker's start-up excluded) to the exit
    await client.start(input={"do": "emit", "count": count, "size": 64, "exit": 0})
    events, last = 0, 0
    async for ev in client:
        if isinstance(ev, EventEvent):
            if ev.seq != last + 1:
                raise SystemExit(json.dumps({"ok": False, "error": f"seq {ev.seq} after {last}"}))
            last = ev.seq
            events += 1
            if events == 1:
                t0 = now()
        elif isinstance(ev, ExitEvent):
            break
    secs = now() - t0
    await client.close()
    return {"ok": True, "perSecond": (events - 1) / secs, "events": events}


async def resume(url: str, control: int, cuts: int) -> dict:
    marks = {"lost": False}

    def on_state(state: object) -> None:
        if str(getattr(state, "value", state)) != "open":
            marks["lost"] = True

    client = await session_client.connect(url, on_state=on_state)
    cr, cw = await asyncio.open_connection("127.0.0.1", control)
    await client.start(input={"do": "emit", "count": 300 + cuts * 400, "pace": 1, "exit": 0})
    # The worker exits after its last event: the stream ends with its exit.
    last, times, t_cut = 0, [], None
    async for ev in client:
        if not isinstance(ev, EventEvent):
            break
        if ev.seq != last + 1:
            raise SystemExit(json.dumps({"ok": False, "error": f"seq {ev.seq} after {last}"}))
        last = ev.seq
        if t_cut is not None and marks["lost"]:
            times.append((now() - t_cut) * 1000)
            t_cut = None
        elif t_cut is None and len(times) < cuts and last >= 300 + 400 * len(times):
            marks["lost"] = False
            t_cut = now()
            cw.write(b"cut\n")
            await cw.drain()
            await cr.readline()
    await client.close()
    cw.close()
    if len(times) < cuts:
        return {"ok": False, "error": f"{len(times)} of {cuts} cuts resumed (last seq {last})"}
    return {"ok": True, "median": pct(times, 0.5), "cuts": [round(t, 1) for t in times]}


def main() -> None:
    mode, url, *rest = sys.argv[1:]
    if mode == "chat":
        out = asyncio.run(chat(url, int(rest[0]), int(rest[1])))
    elif mode == "session":
        out = asyncio.run(session(url, int(rest[0])))
    elif mode == "resume":
        out = asyncio.run(resume(url, int(rest[0]), int(rest[1])))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
