"""A small scripted WebSocket server for the client's own tests.

Each test gives it a handler (one coroutine per connection) and, if it
likes, handshake answers to give first (an HTTP status, with headers): the
server counts the attempts and keeps every frame it received, so the tests
can check what the client did as well as what it delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

Handler = Callable[["Conn"], Awaitable[None]]


@dataclass
class Refusal:
    """A handshake answered with an HTTP status instead of an upgrade."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)


class Conn:
    """One accepted connection: read frames as dicts, send dicts."""

    def __init__(self, ws: ServerConnection, server: FakeServer, index: int) -> None:
        self.ws = ws
        self.server = server
        self.index = index

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        message = await asyncio.wait_for(self.ws.recv(), timeout)
        frame = json.loads(message)
        assert isinstance(frame, dict)
        return frame

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.ws.close(code, reason)

    async def drop(self) -> None:
        """Go away without a close handshake (as a lost network does)."""
        transport = self.ws.transport
        transport.abort()


class FakeServer:
    def __init__(
        self, handler: Handler, refusals: list[Refusal] | None = None, tls: bool = False
    ) -> None:
        self.handler = handler
        self.tls = tls
        self.refusals = list(refusals or [])
        #: Monotonic times of every handshake attempt.
        self.attempts: list[float] = []
        #: Request headers of every handshake attempt.
        self.request_headers: list[Headers] = []
        self.connections = 0
        self.port = 0

    @property
    def url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/"

    def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        self.attempts.append(time.monotonic())
        self.request_headers.append(request.headers)
        if self.refusals:
            refusal = self.refusals.pop(0)
            response = ws.respond(refusal.status, f"refused with {refusal.status}\n")
            for name, value in refusal.headers.items():
                response.headers[name] = value
            return response
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections += 1
        with contextlib.suppress(Exception):
            # A test's handler may end with the connection.
            await self.handler(Conn(ws, self, self.connections))


@asynccontextmanager
async def fake_server(
    handler: Handler,
    refusals: list[Refusal] | None = None,
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[FakeServer]:
    """Serve on 127.0.0.1 (a free port) for the duration of the block (wss with `tls`)."""
    state = FakeServer(handler, refusals, tls is not None)
    async with serve(
        state._handle, "127.0.0.1", 0, process_request=state._process_request, ssl=tls
    ) as server:
        state.port = next(iter(server.sockets)).getsockname()[1]
        yield state


async def idle(conn: Conn) -> None:
    """A handler that answers nothing and waits for the client to go."""
    await conn.ws.wait_closed()
