#!/usr/bin/env python3
"""A controllable session worker for the session suites (docs/protocol/session-v1.md).

Standard library only. It reads stdin line by line (each line is the JSON
`data` of one `input` frame) and writes one JSON line per event on stdout.
An input that is a JSON object with a string `do` is a command (below);
any other input is echoed as `{"echo": <the value>}`.

Commands (`{"do": VERB, ...}`):
- `emit` [count, size, pace (ms between events, 0: as fast as the pipe
  takes them), progress (a file path), exit (an exit code: exit when done)]:
  write `count` events `{"n": K, "pad": "xxx..."}` (K from 1, pad of `size`
  characters); with `progress`, after each event the number written so far
  is stored in that file (one fixed-width write at offset 0), so a suite can watch the
  worker's own progress while the server pauses it. Finally
  `{"emitted": count}`.
- `print` [lines]: write each string as one raw stdout line (not JSON...);
- `stderr` [lines]: the same on stderr;
- `exit` [code, before (raw lines written first)]: exit with `code`;
- `signal` [signal]: kill itself with that signal;
- `pid`: `{"pid": P, "pgid": G}`;
- `env`: `{"env": {...}, "cwd": "..."}`;
- `spawn`: start a grandchild (`sleep 3600`) in its process group:
  `{"grandchild": PID}`;
- `orphan` [code, delay (ms), line]: start a grandchild that ignores
  SIGTERM, writes `line` (a JSON text) on the inherited stdout `delay` ms
  later and then sleeps; report `{"grandchild": PID}`, then exit with
  `code` at once. The server must wait for that line (the pipe stays open)
  before it appends the exit event, and must stop the grandchild.
- `ignoreTerm`: SIGTERM does nothing from now on: `{"ignoring": "SIGTERM"}`;
- `rawNext`: the next line is not parsed but reported as written:
  `{"armed": "rawNext"}`, then `{"line": "<the line without \\n>"}`;
- `stubborn`: ignore SIGTERM and keep running after stdin closes:
  `{"ignoring": "SIGTERM and EOF"}`.

SIGINT writes `{"interrupted": true}` and the worker goes on. On stdin EOF
it exits 0 (unless stubborn). Options: `--ignore-sigterm`,
`--ignore-stdin-eof`, `--banner JSON` (one line written at start).
"""
import json
import os
import signal
import sys
import time

out = sys.stdout.buffer
state = {"ignore_eof": False}


def write_line(raw: bytes) -> None:
    # SIGINT is held while a line is written: its handler writes a line too,
    # and must not run inside this write (Python would raise "reentrant call").
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        out.write(raw + b"\n")
        out.flush()
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def send(obj) -> None:
    write_line(json.dumps(obj, separators=(",", ":")).encode())


def on_sigint(_sig, _frame) -> None:
    send({"interrupted": True})


def progress(fd: int, n: int) -> None:
    # One small write at offset 0, fixed width: a reader sees a whole number.
    os.pwrite(fd, b"%20d\n" % n, 0)


def emit(p) -> None:
    count = int(p.get("count", 1))
    pad = "x" * int(p.get("size", 0))
    pace = float(p.get("pace", 0)) / 1000.0
    path = p.get("progress")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644) if path else None
    if fd is not None:
        progress(fd, 0)
    for k in range(1, count + 1):
        send({"n": k, "pad": pad})
        if fd is not None:
            progress(fd, k)
        if pace:
            time.sleep(pace)
    if fd is not None:
        os.close(fd)
    send({"emitted": count})
    if "exit" in p:
        os._exit(int(p["exit"]))


def orphan(p) -> None:
    delay = float(p.get("delay", 300)) / 1000.0
    line = json.dumps(p.get("line", '{"last":true}'))
    script = (
        "import sys,time\n"
        f"time.sleep({delay})\n"
        f"sys.stdout.write({line} + chr(10))\n"
        "sys.stdout.flush()\n"
        "time.sleep(3600)\n"
    )
    import subprocess

    # SIGTERM ignored from before the exec (kept across it): the server may
    # signal the group as soon as this worker exits.
    g = subprocess.Popen(
        [sys.executable, "-c", script],
        preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN),
    )
    send({"grandchild": g.pid})
    os._exit(int(p.get("code", 0)))


def command(p) -> None:
    verb = p["do"]
    if verb == "emit":
        emit(p)
    elif verb == "print":
        for s in p.get("lines", []):
            write_line(s.encode())
    elif verb == "stderr":
        for s in p.get("lines", []):
            sys.stderr.write(s + "\n")
        sys.stderr.flush()
    elif verb == "exit":
        for s in p.get("before", []):
            write_line(s.encode())
        os._exit(int(p.get("code", 0)))
    elif verb == "signal":
        os.kill(os.getpid(), int(p.get("signal", 9)))
        time.sleep(5)
    elif verb == "pid":
        send({"pid": os.getpid(), "pgid": os.getpgid(0)})
    elif verb == "env":
        send({"env": dict(os.environ), "cwd": os.getcwd()})
    elif verb == "spawn":
        import subprocess

        g = subprocess.Popen(["sleep", "3600"])
        send({"grandchild": g.pid})
    elif verb == "orphan":
        orphan(p)
    elif verb == "ignoreTerm":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        send({"ignoring": "SIGTERM"})
    elif verb == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        state["ignore_eof"] = True
        send({"ignoring": "SIGTERM and EOF"})
    elif verb == "rawNext":
        state["raw_next"] = True
        send({"armed": "rawNext"})
    else:
        send({"unknown": verb})


def main() -> None:
    args = sys.argv[1:]
    signal.signal(signal.SIGINT, on_sigint)
    if "--ignore-sigterm" in args:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    state["ignore_eof"] = "--ignore-stdin-eof" in args
    if "--banner" in args:
        write_line(args[args.index("--banner") + 1].encode())
    while True:
        raw = sys.stdin.buffer.readline()
        if not raw:
            break
        if state.pop("raw_next", False):
            send({"line": raw.rstrip(b"\n").decode("utf-8", "replace")})
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            send({"unreadable": raw.decode("utf-8", "replace")})
            continue
        if isinstance(value, dict) and isinstance(value.get("do"), str):
            command(value)
        else:
            send({"echo": value})
    if state["ignore_eof"]:
        while True:
            signal.pause()
    sys.exit(0)


if __name__ == "__main__":
    main()
