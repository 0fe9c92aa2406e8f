#!/usr/bin/env python3
"""bench/clients.sh, Python: the same loops as lib.py written directly on
`websockets` (the library the generated client uses, same version, same
connect arguments): raw JSON frames, answers matched by ref.

    raw.py chat URL COUNT WINDOW
    raw.py session URL COUNT          (acks every 64 events, as the library does)

Prints one JSON line like lib.py.
"""
import asyncio
import json
import sys
import time
import uuid

from websockets.asyncio.client import connect

TEXT = "m" * 64
MAX = 2**24
now = time.perf_counter


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


async def chat(url: str, count: int, window: int) -> dict:
    ws = await connect(url, max_size=MAX, proxy=None)
    user, room = "b" + uuid.uuid4().hex[:8], "r" + uuid.uuid4().hex[:8]
    await ws.send(json.dumps({"type": "join", "room": room, "user": user, "ref": 0}))
    while json.loads(await ws.recv()).get("ref") != 0:
        pass
    ref = 0
    lat: list[float] = []

    async def run(n: int, keep: bool) -> None:
        # WINDOW requests in flight: a new one is sent as each answer comes in.
        nonlocal ref
        sent: dict[int, float] = {}
        done = 0
        for _ in range(min(window, n)):
            ref += 1
            sent[ref] = now()
            await ws.send(json.dumps({"type": "message", "room": room, "text": TEXT, "ref": ref}))
        issued = len(sent)
        while done < n:
            frame = json.loads(await ws.recv())
            r = frame.get("ref")
            if r is None or r not in sent:
                continue
            if frame.get("type") != "message":
                raise SystemExit(json.dumps({"ok": False, "error": f"answer {frame}"}))
            t = sent.pop(r)
            if keep:
                lat.append((now() - t) * 1000)
            done += 1
            if issued < n:
                ref += 1
                issued += 1
                sent[ref] = now()
                await ws.send(json.dumps({"type": "message", "room": room, "text": TEXT, "ref": ref}))

    await run(max(window, 500 // window * window), False)  # warm-up
    per = count // window * window
    t0 = now()
    await run(per, True)
    secs = now() - t0
    await ws.close()
    return {"ok": True, "perSecond": per / secs, "p50": pct(lat, 0.5), "p99": pct(lat, 0.99)}


async def session(url: str, count: int) -> dict:
    ws = await connect(url, max_size=MAX, proxy=None)
    t0 = 0.0  # from the first event (the worker's start-up excluded) to the exit
    await ws.send(json.dumps({"type": "start", "input": {"do": "emit", "count": count, "size": 64, "exit": 0}, "ref": 1}))
    events, last = 0, 0
    while True:
        frame = json.loads(await ws.recv())
        kind = frame.get("type")
        if kind == "event":
            if frame["seq"] != last + 1:
                raise SystemExit(json.dumps({"ok": False, "error": f"seq {frame['seq']} after {last}"}))
            last = frame["seq"]
            events += 1
            if events == 1:
                t0 = now()
            if last % 64 == 0:
                await ws.send(json.dumps({"type": "ack", "seq": last}))
        elif kind == "exit":
            break
        elif kind == "error":
            raise SystemExit(json.dumps({"ok": False, "error": f"{frame}"}))
    secs = now() - t0
    await ws.close()
    return {"ok": True, "perSecond": (events - 1) / secs, "events": events}


def main() -> None:
    mode, url, *rest = sys.argv[1:]
    if mode == "chat":
        out = asyncio.run(chat(url, int(rest[0]), int(rest[1])))
    elif mode == "session":
        out = asyncio.run(session(url, int(rest[0])))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
