"""wss check with the Python `websockets` client: an `ssl` context that
trusts the test CA, and the credential in `additional_headers`. The echo
path: text and binary echo back; the chat path: join as the identity and
see the own message. Then the same handshake with a wrong credential must
get HTTP 401 with `WWW-Authenticate`. Prints one JSON line."""

import json
import ssl
import sys

from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect


def main() -> int:
    url, cafile, token, kind = sys.argv[1:5]
    ctx = ssl.create_default_context(cafile=cafile)
    headers = {"Authorization": f"Bearer {token}"}
    with connect(url, ssl=ctx, additional_headers=headers, open_timeout=10) as ws:
        if kind == "echo":
            for msg in ["over tls", bytes(range(256))]:
                ws.send(msg)
                if ws.recv(timeout=10) != msg:
                    print(json.dumps({"ok": False, "error": "echo mismatch over wss"}))
                    return 1
        else:
            ws.send(json.dumps({"type": "join", "room": "tls"}))
            joined = json.loads(ws.recv(timeout=10))
            if joined.get("type") != "joined":
                print(json.dumps({"ok": False, "error": f"join without user: {joined}"}))
                return 1
            ws.send(json.dumps({"type": "message", "room": "tls", "text": "hello over wss"}))
            while True:
                msg = json.loads(ws.recv(timeout=10))
                if msg.get("type") == "message":
                    break
            if msg.get("text") != "hello over wss" or msg.get("user") != joined.get("user"):
                print(json.dumps({"ok": False, "error": f"unexpected message {msg}"}))
                return 1
        tls_version = ws.socket.version() if hasattr(ws.socket, "version") else None
    try:
        with connect(url, ssl=ctx, additional_headers={"Authorization": "Bearer wrong"}, open_timeout=10):
            print(json.dumps({"ok": False, "error": "a wrong credential was accepted"}))
            return 1
    except InvalidStatus as e:
        status = e.response.status_code
        challenge = e.response.headers.get("WWW-Authenticate", "")
    if status != 401 or not challenge.startswith("Bearer"):
        print(json.dumps({"ok": False, "error": f"wrong credential: {status} {challenge!r}"}))
        return 1
    print(json.dumps({"ok": True, "tls": tls_version, "challenge": challenge}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
