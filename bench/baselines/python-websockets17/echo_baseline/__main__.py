"""Minimal echo server on websockets (asyncio API), written by hand: the
baseline for the generated Python server. websockets 17.4 (the newest
release, Python >= 3.11), library defaults."""

import asyncio
import http
import os
import signal

from websockets.asyncio.server import serve


async def echo(ws):
    async for message in ws:
        await ws.send(message)


def process_request(connection, request):
    if request.path == "/healthz":
        return connection.respond(http.HTTPStatus.OK, "ok\n")
    return None


async def main():
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8080"))
    max_size = int(os.environ.get("WS_MAX_PAYLOAD", str(1 << 20)))
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    async with serve(echo, host, port, process_request=process_request, max_size=max_size):
        print(f"listening on ws://{host}:{port}", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
