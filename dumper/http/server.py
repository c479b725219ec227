"""The socket side: a ThreadingHTTPServer whose one handler class parses, dispatches and writes.

Also builds the dispatcher from a Config and an App, and serves until a stop event is set.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from dumper.config import Config
from dumper.http.auth import BasicAuth
from dumper.http.dispatch import Dispatcher, printable
from dumper.http.handlers import AppFacade, build_router
from dumper.http.router import (
    BadRequest,
    PayloadTooLarge,
    Request,
    Response,
    Route,
    error_body,
    error_response,
    to_jsonable,
)
from dumper.http.static import StaticFiles
from dumper.log import get_logger

log = get_logger("http")
CHUNK = 256 * 1024


def build_dispatcher(app: AppFacade, config: Config) -> Dispatcher:
    """The dispatcher for `app` with auth, static UI, CORS and the host checks `config` says."""
    auth = None
    if config.admin_user is not None and config.admin_pass is not None:
        auth = BasicAuth(config.admin_user, config.admin_pass, tokens=app.tokens.authenticate)
    return Dispatcher(
        build_router(app, max_body=config.max_body_bytes, upload_max=config.upload_max_bytes),
        auth=auth,
        static=StaticFiles(config.web_dir),
        cors_origins=(config.cors_origin,) if config.cors_origin else (),
        allowed_hosts=config.allowed_hosts,
        trusted_proxies=config.trusted_proxies,
    )


# What a connection is doing, and which of it has a deadline (HTTP_TIMEOUT each).
WAITING = "waiting"  # for the request line and headers (also an idle keep-alive connection)
BODY = "body"  # reading an admitted request's body
DRAIN = "drain"  # discarding a body the service did not read, before closing
BUSY = "busy"  # running the handler and writing the response: no deadline
_DEADLINED = (WAITING, BODY, DRAIN)
# The phases in which a connection may be closed to make room: nobody has been served yet, or
# the answer is already out.
_EVICTABLE = (WAITING, DRAIN)
# A body a route does not take, or one sent with an error answer, is read and thrown away up to
# this much so the client sees the answer instead of a reset; beyond it the connection closes.
DRAIN_LIMIT = 64 * 1024
_DIGITS = re.compile(r"[0-9]{1,18}")
# An upload is read in pieces of this size, each within HTTP_TIMEOUT: a minimum rate (64 KiB per
# HTTP_TIMEOUT) instead of one deadline, so a big file over a slow link works and a stall is cut.
UPLOAD_PIECE = 64 * 1024


class _UploadStream:
    """An upload route's body, read as the handler asks: never past Content-Length, each piece
    within the deadline; a body that ends early raises BadRequest and closes the connection."""

    def __init__(self, handler: _RequestHandler, length: int) -> None:
        self._handler = handler
        self.remaining = length

    def read(self, size: int = -1, /) -> bytes:
        want = self.remaining if size < 0 else min(size, self.remaining)
        want = min(want, UPLOAD_PIECE)
        if want <= 0:
            return b""
        h = self._handler
        h.server.set_phase(h.connection, BODY)
        try:
            data = h.rfile.read(want)
        except OSError:
            data = b""
        finally:
            h.server.set_phase(h.connection, BUSY)
        self.remaining -= len(data)
        if len(data) < want:
            h.close_connection = True
            raise BadRequest(
                "the upload ended early: the client went away or sent less than 64 KiB within "
                "HTTP_TIMEOUT"
            )
        return data


@dataclass
class _Connection:
    sock: socket.socket
    phase: str
    since: float
    closed: bool = False

    def close_now(self) -> None:
        """Unblock the thread serving it: its next read sees the end of the stream."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)


class DumperHTTPServer(ThreadingHTTPServer):
    """One thread per connection, at most `max_connections` at once, each phase with a deadline.

    Threads are daemons so a stuck client cannot block exit. At the limit, the oldest connection
    still waiting for its headers (or draining an unread body) is closed to make room, so a crowd
    of stalled clients cannot keep out the health probe or the admin.
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(
        self,
        address: tuple[str, int],
        dispatcher: Dispatcher,
        max_body: int,
        *,
        max_connections: int = 32,
        timeout: float = 15.0,
    ) -> None:
        self.dispatcher = dispatcher
        self.max_body = max_body
        self.max_connections = max_connections
        self.phase_timeout = timeout
        self._connections: dict[int, _Connection] = {}
        self._cond = threading.Condition()
        self._closing = threading.Event()
        super().__init__(address, _RequestHandler)
        self._reaper = threading.Thread(target=self._reap, name="http-reaper", daemon=True)
        self._reaper.start()

    # -- the connection limit -----------------------------------------------------------------

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._cond:
            while len(self._connections) >= self.max_connections and not self._closing.is_set():
                self._evict_one()
                self._cond.wait(0.2)
            if self._closing.is_set():
                self.shutdown_request(request)
                return
            self._connections[id(request)] = _Connection(request, WAITING, time.monotonic())
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._cond:
                self._connections.pop(id(request), None)
                self._cond.notify_all()

    def _evict_one(self) -> None:
        candidates = [
            c for c in self._connections.values() if c.phase in _EVICTABLE and not c.closed
        ]
        if candidates:
            min(candidates, key=lambda c: c.since).close_now()

    def set_phase(self, sock: Any, phase: str) -> None:
        """The serving thread says what its connection does now; the deadline starts afresh."""
        with self._cond:
            conn = self._connections.get(id(sock))
            if conn is not None:
                conn.phase, conn.since = phase, time.monotonic()

    def _reap(self) -> None:
        while not self._closing.wait(0.25):
            now = time.monotonic()
            with self._cond:
                for conn in self._connections.values():
                    if conn.phase in _DEADLINED and now - conn.since > self.phase_timeout:
                        conn.close_now()

    def open_connections(self) -> int:
        with self._cond:
            return len(self._connections)

    def shutdown(self) -> None:
        # First release an accept loop that waits for a free slot, or shutdown() would wait on it.
        self._closing.set()
        with self._cond:
            self._cond.notify_all()
        super().shutdown()

    def server_close(self) -> None:
        self._closing.set()
        super().server_close()


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # A client that stops reading a response must not hold a thread forever; the deadlines for
    # sending a request are the server's (HTTP_TIMEOUT), enforced by its reaper.
    timeout = 120
    server_version = "dumper"
    _declared_length = 0
    _body_read = False
    _upload: _UploadStream | None = None

    def version_string(self) -> str:
        return self.server_version  # no Python version for a client to fingerprint

    server: DumperHTTPServer

    def do_GET(self) -> None:
        self._handle()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET  # noqa: N815

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, PROPFIND...) gets our JSON 405/404, not the stdlib's HTML 501.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def handle_one_request(self) -> None:
        self.server.set_phase(self.connection, WAITING)
        super().handle_one_request()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's own refusals (bad request line, headers too long) as our JSON errors."""
        self.close_connection = True
        body = json.dumps(
            to_jsonable(
                error_body("bad_request" if code < 500 else "internal", message or "bad request")
            )
        ).encode()
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass

    def _handle(self) -> None:
        started = time.monotonic()
        self.server.set_phase(self.connection, BUSY)
        self._body_read = False
        self._upload = None
        response, request = self._dispatch()
        if self._upload is not None:
            # what the handler left of an upload is drained or closes the connection, as usual
            self._declared_length = self._upload.remaining
            self._body_read = self._upload.remaining == 0
        sent = 0
        if not self._body_read and self._declared_length > DRAIN_LIMIT:
            self.close_connection = True
        try:
            sent = self._write(response, send_body=self.command != "HEAD")
            if not self._body_read and self._declared_length:
                self._drain()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            log.info(
                "client %s went away during %s %s",
                request.client,
                printable(self.command),
                printable(request.path),
            )
        finally:
            response.close()
        # Path only: never the query, headers or body, which could carry secrets. Successful
        # reads (UI polling, health checks) go to DEBUG so the log shows what changed things.
        quiet = self.command in ("GET", "HEAD") and response.status < 400
        log.log(
            logging.DEBUG if quiet else logging.INFO,
            '%s "%s %s" %d %d %.1fms',
            request.client,
            printable(self.command),
            printable(request.path),
            response.status,
            sent,
            (time.monotonic() - started) * 1000,
        )

    def _dispatch(self) -> tuple[Response, Request]:
        split = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=unquote(split.path) or "/",
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k: v for k, v in self.headers.items()},
            client=str(self.client_address[0]),
        )
        self._declared_length = 0
        try:
            # The framing of the next request depends on it: checked before anything else.
            self._declared_length = self._content_length()
        except BadRequest as exc:
            self.close_connection = True
            return error_response(exc), request
        request.content_length = self._declared_length

        def read_body(route: Route) -> None:
            if route.stream_limit is not None:
                self._upload = request.stream = _UploadStream(self, self._declared_length)
                return
            request.body = self._read_body(self._declared_length)
            self._body_read = True

        return self.server.dispatcher(request, read_body), request

    def _content_length(self) -> int:
        """The declared body length: one value of digits only, or none."""
        if self.headers.get("Transfer-Encoding"):
            raise BadRequest("chunked request bodies are not supported; send Content-Length")
        values = {v.strip() for v in self.headers.get_all("Content-Length") or []}
        if not values:
            return 0
        if len(values) > 1:
            raise BadRequest("conflicting Content-Length headers")
        raw = values.pop()
        if not _DIGITS.fullmatch(raw):
            raise BadRequest("invalid Content-Length")
        return int(raw)

    def _read_body(self, length: int) -> bytes:
        if length > self.server.max_body:
            # Not read: the connection closes after the 413.
            self.close_connection = True
            raise PayloadTooLarge(f"request body is larger than {self.server.max_body} bytes")
        self.server.set_phase(self.connection, BODY)
        try:
            data = self.rfile.read(length)
        finally:
            self.server.set_phase(self.connection, BUSY)
        if len(data) < length:
            self.close_connection = True
            raise BadRequest("the request body ended early (or took longer than HTTP_TIMEOUT)")
        return data

    def _drain(self) -> None:
        """Discard a body nobody read, up to DRAIN_LIMIT, so the next request parses cleanly;
        a larger one closes the connection (memory stays flat either way)."""
        length = self._declared_length
        if self.close_connection or length > DRAIN_LIMIT:
            self.close_connection = True
            return
        self.server.set_phase(self.connection, DRAIN)
        left = length
        while left > 0:
            chunk = self.rfile.read(min(left, 16 * 1024))
            if not chunk:
                self.close_connection = True
                return
            left -= len(chunk)

    def _write(self, response: Response, *, send_body: bool) -> int:
        self.send_response(response.status)
        chunked = response.content_length() is None and send_body
        if chunked:
            response.headers["Transfer-Encoding"] = "chunked"
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not send_body:
            return 0
        body = response.body
        if isinstance(body, bytes | bytearray):
            self.wfile.write(body)
            return len(body)
        if hasattr(body, "read"):
            return self._copy_file(body, response.length)
        return self._write_iter(body, chunked=chunked)

    def _copy_file(self, handle: Any, length: int | None) -> int:
        """Copy in CHUNK pieces, never the whole file into memory; stop at `length` bytes."""
        sent = 0
        while length is None or sent < length:
            want = CHUNK if length is None else min(CHUNK, length - sent)
            data = handle.read(want)
            if not data:
                break
            self.wfile.write(data)
            sent += len(data)
        return sent

    def _write_iter(self, chunks: Iterable[bytes], *, chunked: bool) -> int:
        sent = 0
        for data in chunks:
            if not data:
                continue
            if chunked:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            else:
                self.wfile.write(data)
            sent += len(data)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        return sent

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib's stderr lines; _handle logs each request once, without secrets."""

    def log_error(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)


def make_server(
    dispatcher: Dispatcher,
    host: str,
    port: int,
    max_body: int,
    *,
    max_connections: int = 32,
    timeout: float = 15.0,
) -> DumperHTTPServer:
    """Bind (port 0 picks a free one) without serving yet."""
    return DumperHTTPServer(
        (host, port), dispatcher, max_body, max_connections=max_connections, timeout=timeout
    )


def serve_until(
    server: DumperHTTPServer,
    stop: threading.Event,
    *,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve until `stop` is set, then stop accepting and close the listening socket."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="http", daemon=True
    )
    thread.start()
    if on_ready is not None:
        on_ready()
    try:
        while not stop.wait(0.5):
            if not thread.is_alive():
                raise RuntimeError("the HTTP server thread died")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
