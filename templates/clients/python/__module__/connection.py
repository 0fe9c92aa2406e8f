"""The connection loop every client of this package shares.

It connects with full-jitter backoff (the first attempt included), sorts
failures into fatal ones (typed errors that end everything) and retried ones,
matches requests to their answers by `ref`, runs the client's resume step on
every new connection before it counts as open, and hands every other frame to
the client, which delivers events through a bounded queue: when the
application does not read them, the client stops reading the socket.
"""

from __future__ import annotations

import asyncio
import enum
import json
import random
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
)
from websockets.typing import Subprotocol

from .errors import ClientError, ErrorCode
from .spec import (
    BACKOFF_INITIAL_MS,
    BACKOFF_MAX_MS,
    CONNECT_TIMEOUT_MS,
    DEFAULT_SUBPROTOCOL,
    EVENT_QUEUE_SIZE,
    FATAL_CLOSE_CODES,
    MAX_MESSAGE_BYTES,
    REQUEST_TIMEOUT_MS,
)

E = TypeVar("E")


class State(str, enum.Enum):
    """The connection's state, as `on_state` and `states()` report it."""

    CONNECTING = "connecting"
    OPEN = "open"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


@dataclass(kw_only=True)
class Options:
    """How to connect and reconnect (every field has the contract's default)."""

    #: Extra HTTP headers of the opening handshake.
    headers: Mapping[str, str] = field(default_factory=dict)
    #: A bearer token, sent as `Authorization: Bearer TOKEN`.
    token: str | None = None
    #: A PEM file of the CA(s) that sign a `wss://` server's certificate.
    ca: str | None = None
    connect_timeout_ms: int = CONNECT_TIMEOUT_MS
    request_timeout_ms: int = REQUEST_TIMEOUT_MS
    #: Consecutive failed attempts (the first included) before giving up with
    #: `retries_exhausted`; None: never give up.
    max_retries: int | None = None
    backoff_initial_ms: int = BACKOFF_INITIAL_MS
    backoff_max_ms: int = BACKOFF_MAX_MS
    #: The subprotocol offered (None: none).
    subprotocol: str | None = DEFAULT_SUBPROTOCOL
    #: Events held for the application before the client stops reading.
    queue_size: int = EVENT_QUEUE_SIZE
    #: Called on every state change.
    on_state: Callable[[State], None] | None = None


def backoff_delay_ms(
    attempt: int,
    initial_ms: float,
    max_ms: float,
    rand: Callable[[], float] = random.random,
) -> float:
    """Full jitter: attempt n (from 0) waits random(0, min(max, initial * 2**n)) ms."""
    cap = min(float(max_ms), float(initial_ms) * 2.0 ** min(attempt, 64))
    return rand() * cap


def retry_after_seconds(value: str | None) -> float:
    """A `Retry-After` header in seconds (0 when absent or not a number of seconds)."""
    if value is None:
        return 0.0
    try:
        seconds = float(value.strip())
    except ValueError:
        return 0.0
    return seconds if seconds > 0 else 0.0


def is_fatal_close(code: int) -> bool:
    """Close codes after which reconnecting cannot help."""
    return code in FATAL_CLOSE_CODES or 4000 <= code <= 4999


class _Retry(Exception):
    """A failed attempt that is retried (after `retry_after` s at least)."""

    def __init__(self, detail: str, retry_after: float = 0.0) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


def _compact(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


class Core(Generic[E]):
    """The connection loop; the clients of this package subclass it.

    Subclasses override `_resume` (run on every new connection before it is
    open), `_on_frame` (every frame that is not only an answer), `_on_reply`
    (an answer, in the reader, before the request sees it) and `_lost_code`
    (the error of a request whose connection dropped).
    """

    def __init__(self, url: str, options: Options) -> None:
        self._url = url
        self._options = options
        self._events: asyncio.Queue[E] = asyncio.Queue(maxsize=max(1, options.queue_size))
        self._states: asyncio.Queue[State] = asyncio.Queue(maxsize=64)
        self._state = State.CONNECTING
        self._pending: dict[int, tuple[dict[str, Any], asyncio.Future[dict[str, Any]]]] = {}
        self._next_ref = 0
        self._ws: ClientConnection | None = None
        self._is_open = False
        self._wake = asyncio.Event()
        self._ended = asyncio.Event()
        self._error: ClientError | None = None
        self._closing = False
        self._opened_once: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._runner: asyncio.Task[None] | None = None

    # -- public ---------------------------------------------------------------

    @property
    def state(self) -> State:
        """The current state."""
        return self._state

    @property
    def error(self) -> ClientError | None:
        """The typed error the client ended with, if any."""
        return self._error

    def __aiter__(self) -> Core[E]:
        return self

    async def __anext__(self) -> E:
        """The next event; at the end StopAsyncIteration, or the typed error."""
        while True:
            if not self._events.empty():
                return self._events.get_nowait()
            if self._ended.is_set():
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            getter = asyncio.ensure_future(self._events.get())
            ender = asyncio.ensure_future(self._ended.wait())
            try:
                await asyncio.wait({getter, ender}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                ender.cancel()
                if not getter.done():
                    getter.cancel()
            if getter.done() and not getter.cancelled():
                return getter.result()

    async def next_state(self) -> State:
        """The next state change (64 are kept for a reader that lags)."""
        return await self._states.get()

    async def close(self) -> None:
        """Close the connection and stop reconnecting; the event stream ends."""
        if self._ended.is_set():
            return
        self._closing = True
        runner = self._runner
        if runner is not None and not runner.done():
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
        ws = self._ws
        self._ws = None
        if ws is not None:
            await ws.close()
        self._end(None)

    async def __aenter__(self) -> Core[E]:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # -- for subclasses --------------------------------------------------------

    def _start(self) -> None:
        self._states.put_nowait(State.CONNECTING)
        if self._options.on_state is not None:
            self._options.on_state(State.CONNECTING)
        self._runner = asyncio.get_running_loop().create_task(self._run())

    async def _wait_first_open(self) -> None:
        """Until the first connection is open; raises the typed error if it never is."""
        try:
            await asyncio.shield(self._opened_once)
        except asyncio.CancelledError:
            await self.close()
            raise

    def _connected(self) -> None:
        """A new connection, before anything is read from it or `_resume` runs."""

    async def _resume(self) -> None:
        """Run on every new connection before it counts as open."""

    async def _on_frame(self, frame: dict[str, Any], reply_to: dict[str, Any] | None) -> None:
        """Every frame, in the reader's order; `reply_to` is the request it answers
        (the request returns only after this)."""

    async def _on_text(self, text: str) -> None:
        """A text message (default: a JSON frame, matched by `ref`)."""
        try:
            frame = json.loads(text)
        except ValueError:
            return
        if not isinstance(frame, dict):
            return
        ref = frame.get("ref")
        request: dict[str, Any] | None = None
        future: asyncio.Future[dict[str, Any]] | None = None
        if isinstance(ref, int) and not isinstance(ref, bool) and ref in self._pending:
            request, future = self._pending.pop(ref)
        try:
            await self._on_frame(frame, request)
        finally:
            if future is not None and not future.done():
                future.set_result(frame)

    async def _on_binary(self, data: bytes) -> None:
        """A binary message (ignored unless the client overrides it)."""

    def _lost_code(self, request: dict[str, Any]) -> ErrorCode:
        """The error of a request whose connection dropped before its answer."""
        return ErrorCode.CONNECTION_LOST

    async def _deliver(self, event: E) -> None:
        """Hand an event to the application (waits while the queue is full)."""
        await self._events.put(event)

    def _finish(self) -> None:
        """End normally once the current frame is handled (session exit)."""
        self._closing = True

    async def _request(
        self, frame: dict[str, Any], *, resuming: bool = False, reply: bool = True
    ) -> dict[str, Any]:
        """Send `frame` with a fresh `ref` and return its answer.

        Waits for the connection to be open first (unless `resuming`: then it
        uses the connection being resumed). Raises the server's error as a
        ClientError, `timeout`, `connection_lost`, or the client's end.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._options.request_timeout_ms / 1000
        ws = self._ws if resuming else await self._wait_open(deadline)
        if ws is None:
            raise ClientError(self._lost_code(frame), "not connected")
        if not reply:
            await self._send(ws, frame, frame)
            return {}
        self._next_ref += 1
        ref = self._next_ref
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._pending[ref] = (frame, future)
        try:
            await self._send(ws, {**frame, "ref": ref}, frame)
            try:
                answer = await asyncio.wait_for(
                    asyncio.shield(future), max(0.0, deadline - loop.time())
                )
            except asyncio.TimeoutError:
                raise ClientError(
                    ErrorCode.TIMEOUT,
                    f"no answer to {frame.get('type')} within "
                    f"{self._options.request_timeout_ms} ms",
                ) from None
        finally:
            self._pending.pop(ref, None)
        if answer.get("type") == "error":
            raise ClientError.from_frame(answer)
        return answer

    async def _send(
        self, ws: ClientConnection, frame: dict[str, Any], request: dict[str, Any]
    ) -> None:
        try:
            await ws.send(_compact(frame))
        except ConnectionClosed:
            raise ClientError(self._lost_code(request), "the connection closed") from None

    async def _send_now(self, frame: dict[str, Any]) -> bool:
        """Send a frame that has no answer on the current connection (open or
        resuming); False when there is none."""
        ws = self._ws
        if ws is None:
            return False
        try:
            await ws.send(_compact(frame))
        except ConnectionClosed:
            return False
        return True

    async def _wait_open(self, deadline: float) -> ClientConnection:
        loop = asyncio.get_running_loop()
        while True:
            if self._ended.is_set():
                raise self._end_error()
            if self._is_open and self._ws is not None:
                return self._ws
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ClientError(ErrorCode.TIMEOUT, "the connection did not open in time")
            wake = self._wake
            try:
                await asyncio.wait_for(wake.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    def _end_error(self) -> ClientError:
        if self._error is not None:
            return self._error
        return ClientError(ErrorCode.CLOSED_BY_CLIENT, "the client was closed")

    # -- the loop --------------------------------------------------------------

    def _set_state(self, state: State) -> None:
        if state == self._state:
            return
        self._state = state
        if self._states.full():
            self._states.get_nowait()
        self._states.put_nowait(state)
        self._poke()
        if self._options.on_state is not None:
            self._options.on_state(state)

    def _poke(self) -> None:
        wake, self._wake = self._wake, asyncio.Event()
        wake.set()

    def _end(self, error: ClientError | None) -> None:
        if self._ended.is_set():
            return
        self._error = error
        self._is_open = False
        pending, self._pending = self._pending, {}
        ended = self._end_error()
        for _, future in pending.values():
            if not future.done():
                future.set_exception(ended)
        if not self._opened_once.done():
            self._opened_once.set_exception(ended)
        self._ended.set()
        self._set_state(State.CLOSED)

    async def _run(self) -> None:
        options = self._options
        attempt = 0
        failures = 0
        retry_after = 0.0
        try:
            while not self._closing:
                delay = backoff_delay_ms(
                    attempt, options.backoff_initial_ms, options.backoff_max_ms
                )
                await asyncio.sleep(max(delay / 1000, retry_after))
                retry_after = 0.0
                attempt += 1
                try:
                    ws = await self._dial()
                    opened = await self._serve(ws)
                except _Retry as retry:
                    opened = False
                    retry_after = retry.retry_after
                    detail = retry.detail
                else:
                    detail = "the connection closed before it was resumed"
                if self._closing:
                    break
                if opened:
                    attempt = 0
                    failures = 0
                    self._set_state(State.RECONNECTING)
                    continue
                failures += 1
                if options.max_retries is not None and failures >= options.max_retries:
                    raise ClientError(
                        ErrorCode.RETRIES_EXHAUSTED,
                        f"{failures} consecutive attempts failed; the last: {detail}",
                    )
        except ClientError as error:
            self._end(error)
            return
        self._end(None)

    async def _dial(self) -> ClientConnection:
        options = self._options
        headers = dict(options.headers)
        if options.token is not None:
            headers["Authorization"] = f"Bearer {options.token}"
        context: ssl.SSLContext | None = None
        if self._url.startswith("wss:"):
            context = ssl.create_default_context(cafile=options.ca)
        subprotocols = [Subprotocol(options.subprotocol)] if options.subprotocol else None
        try:
            return await ws_connect(
                self._url,
                additional_headers=headers,
                subprotocols=subprotocols,
                ssl=context,
                open_timeout=options.connect_timeout_ms / 1000,
                max_size=MAX_MESSAGE_BYTES,
                proxy=None,
            )
        except InvalidStatus as failure:
            status = failure.response.status_code
            if status in (401, 403):
                raise ClientError(ErrorCode.UNAUTHORIZED, f"HTTP {status}", status=status) from None
            if status == 429 or status >= 500:
                wait = retry_after_seconds(failure.response.headers.get("Retry-After"))
                raise _Retry(f"HTTP {status}", wait) from None
            raise ClientError(ErrorCode.REFUSED, f"HTTP {status}", status=status) from None
        except InvalidURI as failure:
            raise ClientError(ErrorCode.REFUSED, str(failure)) from None
        except (OSError, asyncio.TimeoutError, InvalidHandshake, EOFError) as failure:
            raise _Retry(f"{type(failure).__name__}: {failure}") from None

    async def _serve(self, ws: ClientConnection) -> bool:
        """Resume on `ws`, then read it until it closes; True if it was open."""
        self._ws = ws
        opened = False
        self._connected()
        reader = asyncio.ensure_future(self._read(ws))
        resume = asyncio.ensure_future(self._resume())
        try:
            await asyncio.wait({reader, resume}, return_when=asyncio.FIRST_COMPLETED)
            if resume.done():
                failure = resume.exception()
                if failure is None:
                    opened = True
                    self._is_open = True
                    if not self._opened_once.done():
                        self._opened_once.set_result(None)
                    self._set_state(State.OPEN)
                elif isinstance(failure, ClientError) and failure.code in _FATAL_RESUME:
                    raise failure
                else:
                    await ws.close()
            await reader
        finally:
            self._is_open = False
            self._ws = None
            if not reader.done():
                reader.cancel()
            pending, self._pending = self._pending, {}
            for request, future in pending.values():
                if future.done():
                    continue
                if self._closing and not self._ended.is_set():
                    future.set_exception(self._end_error())
                else:
                    lost = ClientError(self._lost_code(request), "the connection dropped")
                    future.set_exception(lost)
            if not resume.done():
                resume.cancel()
            await asyncio.gather(resume, return_exceptions=True)
            self._poke()
            if self._closing or self._ended.is_set():
                await ws.close()
        code = _close_code(ws)
        if not self._closing and code is not None and is_fatal_close(code):
            raise ClientError(
                ErrorCode.CLOSED,
                f"close code {code}{_reason(ws)}",
                close_code=code,
            )
        return opened

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for message in ws:
                if isinstance(message, str):
                    await self._on_text(message)
                else:
                    await self._on_binary(message)
                if self._closing:
                    return
        except ConnectionClosed:
            pass


#: Errors of the resume step that end the client (the others are retried).
_FATAL_RESUME = frozenset(
    code
    for code in ErrorCode
    if code.value
    in (
        "unauthorized",
        "refused",
        "closed",
        "replay_gap",
        "unknown_session",
        "forbidden",
        "user_mismatch",
    )
)


def _close_code(ws: ClientConnection) -> int | None:
    """The close code that ended `ws`: the server's, or ours when we closed for a protocol error."""
    protocol = ws.protocol
    if protocol.close_rcvd is not None:
        return protocol.close_rcvd.code
    if protocol.close_sent is not None and protocol.close_sent.code in FATAL_CLOSE_CODES:
        return protocol.close_sent.code
    return None


def _reason(ws: ClientConnection) -> str:
    frame = ws.protocol.close_rcvd or ws.protocol.close_sent
    return f" ({frame.reason})" if frame is not None and frame.reason else ""
