#!/usr/bin/env python3
"""A job runner worker for a wsgen session server (docs/session.md).

Its first stdin line is the job (the `input` of the client's `start`):

    {"job": "backup", "steps": 5, "stepMs": 400}     or simply    "backup"

It streams one JSON event per line on stdout while it works, then exits:

    {"job":"backup","state":"started","steps":5}
    {"job":"backup","state":"running","step":1,"of":5,"percent":20}
    ...
    {"job":"backup","state":"done","elapsedMs":2003}

Each later stdin line (an `input` frame) is answered with a `note` event;
SIGINT (the client's `interrupt`) cancels the job: a `cancelled` event and
exit code 130. Standard library only.
"""
import json
import signal
import sys
import threading
import time

cancelled = threading.Event()


def emit(obj) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def read_notes(job: str) -> None:
    for line in sys.stdin:
        try:
            note = json.loads(line)
        except ValueError:
            note = line.rstrip("\n")
        emit({"job": job, "state": "note", "note": note})


def main() -> int:
    signal.signal(signal.SIGINT, lambda *_: cancelled.set())
    first = sys.stdin.readline()
    if not first:
        return 0
    try:
        spec = json.loads(first)
    except ValueError:
        spec = first.strip()
    if not isinstance(spec, dict):
        spec = {"job": str(spec)}
    job = str(spec.get("job", "job"))
    steps = max(1, int(spec.get("steps", 5)))
    step_ms = max(0, int(spec.get("stepMs", 500)))
    threading.Thread(target=read_notes, args=(job,), daemon=True).start()
    began = time.monotonic()
    emit({"job": job, "state": "started", "steps": steps})
    for k in range(1, steps + 1):
        if cancelled.wait(step_ms / 1000.0):
            emit({"job": job, "state": "cancelled", "step": k - 1, "of": steps})
            return 130
        emit({"job": job, "state": "running", "step": k, "of": steps, "percent": k * 100 // steps})
        print(f"{job}: step {k}/{steps}", file=sys.stderr, flush=True)
    emit({"job": job, "state": "done", "elapsedMs": int((time.monotonic() - began) * 1000)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
