#!/usr/bin/env python3
"""A stdio JSON-RPC child for the MCP bridge suites (docs/protocol/mcp-bridge-v1.md).

Standard library only. Every stdin line is answered on stdout; what it does
depends on the line:

- a JSON-RPC request whose method is `chaos/<verb>` runs the verb (below) and,
  unless the verb ends the process, answers `{"jsonrpc":"2.0","id":<id>,"result":{"ok":true}}`;
- anything else is mirrored: `{"jsonrpc":"2.0","method":"mirror","params":{"line":<the raw line>}}`
  (the line exactly as received, without its `\\n`), so a suite can check
  what reached the child byte for byte.

Verbs (`params` in brackets):
- `chaos/print` [lines: list of str]: write each string as one stdout line, as is
  (non-JSON text, blank lines, `\\r` endings...);
- `chaos/stderr` [lines]: the same on stderr;
- `chaos/exit` [code: int, before: list of str, unfinished: str]: write `before` lines, then
  `unfinished` without its newline, flush, exit with `code`;
- `chaos/signal` [signal: int]: kill itself with the signal;
- `chaos/flood` [lines: int, size: int]: write `lines` JSON notifications of about `size` bytes each,
  as fast as the pipe takes them;
- `chaos/long` [size: int]: write one JSON line of `size` bytes, then a small
  `{"jsonrpc":"2.0","method":"after-long"}` line;
- `chaos/env`: answer with the environment it got (`result.env`) and its cwd (`result.cwd`);
- `chaos/pid`: answer with its pid and process group (`result.pid`, `result.pgid`);
- `chaos/spawn`: start a grandchild (`sleep 3600`) in the same process group; answer its pid.

Options: `--ignore-sigterm` (SIGTERM does nothing: the bridge must SIGKILL),
`--ignore-stdin-eof` (keep running after stdin closes), `--banner TEXT`
(print TEXT on stdout at start, before any input).
"""
import json
import os
import signal
import subprocess
import sys

out = sys.stdout.buffer


def write_line(raw: bytes) -> None:
    out.write(raw + b"\n")
    out.flush()


def send(obj) -> None:
    write_line(json.dumps(obj, separators=(",", ":")).encode())


def answer(msg, result) -> None:
    send({"jsonrpc": "2.0", "id": msg.get("id"), "result": result})


def main() -> None:
    args = sys.argv[1:]
    if "--ignore-sigterm" in args:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if "--banner" in args:
        write_line(args[args.index("--banner") + 1].encode())
    ignore_eof = "--ignore-stdin-eof" in args
    grandchildren = []
    for raw in sys.stdin.buffer:
        line = raw[:-1] if raw.endswith(b"\n") else raw
        try:
            msg = json.loads(line)
        except ValueError:
            msg = None
        method = msg.get("method", "") if isinstance(msg, dict) else ""
        if not (isinstance(method, str) and method.startswith("chaos/")):
            send({"jsonrpc": "2.0", "method": "mirror", "params": {"line": line.decode("utf-8", "replace")}})
            continue
        p = msg.get("params") or {}
        verb = method[len("chaos/"):]
        if verb == "print":
            for s in p.get("lines", []):
                write_line(s.encode())
        elif verb == "stderr":
            for s in p.get("lines", []):
                sys.stderr.write(s + "\n")
            sys.stderr.flush()
        elif verb == "exit":
            for s in p.get("before", []):
                write_line(s.encode())
            out.write(p.get("unfinished", "").encode())
            out.flush()
            os._exit(int(p.get("code", 0)))
        elif verb == "signal":
            os.kill(os.getpid(), int(p.get("signal", 9)))
        elif verb == "flood":
            size = int(p.get("size", 1024))
            for i in range(int(p.get("lines", 1000))):
                send({"jsonrpc": "2.0", "method": "flood", "params": {"i": i, "pad": "x" * size}})
        elif verb == "long":
            pad = "y" * max(0, int(p.get("size", 1 << 20)) - 60)
            write_line(json.dumps({"jsonrpc": "2.0", "method": "long", "params": {"pad": pad}}).encode())
            send({"jsonrpc": "2.0", "method": "after-long"})
        elif verb == "env":
            answer(msg, {"env": dict(os.environ), "cwd": os.getcwd()})
            continue
        elif verb == "pid":
            answer(msg, {"pid": os.getpid(), "pgid": os.getpgid(0)})
            continue
        elif verb == "spawn":
            g = subprocess.Popen(["sleep", "3600"])
            grandchildren.append(g)
            answer(msg, {"pid": g.pid})
            continue
        answer(msg, {"ok": True})
    if ignore_eof:
        signal.pause()


if __name__ == "__main__":
    main()
