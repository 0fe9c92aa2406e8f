#!/usr/bin/env python3
"""The benchmark worker of bench/session.sh (docs/BENCHMARKS.md, "Sessions").

Standard library only. As a session worker it reads stdin line by line; an
input `{"emit": N, "size": S, "pace": MS}` writes N lines
`{"n": K, "t": MICROS, "pad": "xx..."}` (K from 1, `t` the wall clock in
microseconds when the line is written, `pad` of S characters, MS
milliseconds between lines, 0: as fast as the pipe takes them), each flushed
on its own. Any other input is ignored. It exits on stdin EOF.

    worker.py --file PATH --emit N --size S

writes the same N lines, the same way (one write and flush per line), to
PATH instead and prints `{"perSecond": ..., "seconds": ...}`: the worker's
own rate, next to which the server's is measured.
"""
import json
import sys
import time


def emit(out, count: int, size: int, pace: float) -> None:
    pad = "x" * size
    now = time.time_ns
    for k in range(1, count + 1):
        line = '{"n":%d,"t":%d,"pad":"%s"}\n' % (k, now() // 1000, pad)
        out.write(line.encode())
        out.flush()
        if pace:
            time.sleep(pace)


def main() -> None:
    args = sys.argv[1:]
    if "--file" in args:
        opt = lambda name, default: args[args.index(name) + 1] if name in args else default
        count, size = int(opt("--emit", "100000")), int(opt("--size", "64"))
        with open(opt("--file", ""), "wb") as f:
            t0 = time.perf_counter()
            emit(f, count, size, 0)
            seconds = time.perf_counter() - t0
        print(json.dumps({"ok": True, "perSecond": count / seconds, "seconds": seconds}))
        return
    out = sys.stdout.buffer
    for raw in sys.stdin.buffer:
        try:
            p = json.loads(raw)
        except ValueError:
            continue
        if isinstance(p, dict) and "emit" in p:
            emit(out, int(p["emit"]), int(p.get("size", 0)), float(p.get("pace", 0)) / 1000.0)


if __name__ == "__main__":
    main()
