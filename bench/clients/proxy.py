#!/usr/bin/env python3
"""The cutting TCP proxy of bench/clients.sh (docs/BENCHMARKS.md, "Client libraries").

Standard library only.

    proxy.py LISTEN_PORT TARGET_PORT CONTROL_PORT

forwards every connection on 127.0.0.1:LISTEN_PORT to 127.0.0.1:TARGET_PORT,
bytes untouched. On the control port each line `cut` aborts every connection
open at that moment, both sides (the client sees its TCP connection end
without a WebSocket close frame: a 1006 for its library, the server a lost
client), and answers `cut N` (N connections cut) once done. New connections
are accepted as before, so the client's reconnect goes through the proxy.
It prints `ready` on stdout once both ports listen and runs until killed.
"""
import asyncio
import sys


class Proxy:
    def __init__(self, target: int) -> None:
        self.target = target
        self.pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()

    async def pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()

    async def serve(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        try:
            s_reader, s_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            c_writer.transport.abort()
            return
        pair = (c_writer, s_writer)
        self.pairs.add(pair)
        try:
            await asyncio.gather(self.pipe(c_reader, s_writer), self.pipe(s_reader, c_writer))
        finally:
            self.pairs.discard(pair)

    async def control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            if line.strip() == b"cut":
                pairs = list(self.pairs)
                for c, s in pairs:
                    c.transport.abort()
                    s.transport.abort()
                writer.write(b"cut %d\n" % len(pairs))
                await writer.drain()
        writer.close()


async def main() -> None:
    listen, target, control = (int(a) for a in sys.argv[1:4])
    proxy = Proxy(target)
    a = await asyncio.start_server(proxy.serve, "127.0.0.1", listen)
    b = await asyncio.start_server(proxy.control, "127.0.0.1", control)
    print("ready", flush=True)
    async with a, b:
        await asyncio.gather(a.serve_forever(), b.serve_forever())


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
