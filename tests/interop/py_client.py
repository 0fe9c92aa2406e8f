"""Echo check with the Python `websockets` client (offers permessage-deflate
by default). Prints one JSON line: negotiated subprotocol and extensions."""

import json
import sys

from websockets.sync.client import connect


def main() -> int:
    url = sys.argv[1]
    subprotocols = sys.argv[2:] or None
    samples = ["hello", "héllo wörld 🚀", "x" * 65536, ""]
    binary = [bytes(range(256)), b"", bytes(70000)]
    with connect(url, subprotocols=subprotocols, open_timeout=10, max_size=None) as ws:
        for text in samples:
            ws.send(text)
            got = ws.recv(timeout=10)
            if got != text:
                print(json.dumps({"ok": False, "error": f"text echo mismatch: sent {len(text)} chars, got {got!r:.80}"}))
                return 1
        for data in binary:
            ws.send(data)
            got = ws.recv(timeout=10)
            if got != data:
                print(json.dumps({"ok": False, "error": f"binary echo mismatch: sent {len(data)} bytes, got {type(got).__name__} of {len(got)}"}))
                return 1
        extensions = ws.response.headers.get("Sec-WebSocket-Extensions")
        print(json.dumps({"ok": True, "subprotocol": ws.subprotocol, "extensions": extensions}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
