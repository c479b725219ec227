"""The socket side: a ThreadingHTTPServer whose one handler class parses, dispatches and writes.

Also builds the dispatcher from a Config and an App, and serves until a stop event is set.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from dumper.config import Config
from dumper.errors import ConfigError
from dumper.http.auth import BasicAuth
from dumper.http.dispatch import Dispatcher
from dumper.http.handlers import AppFacade, build_router
from dumper.http.router import BadRequest, Request, Response, error_response
from dumper.http.static import StaticFiles
from dumper.log import get_logger

log = get_logger("http")
CHUNK = 256 * 1024


def build_dispatcher(app: AppFacade, config: Config) -> Dispatcher:
    """The dispatcher for `app` with auth, static UI and CORS as `config` says."""
    auth = None
    if config.admin_user is not None and config.admin_pass is not None:
        auth = BasicAuth(config.admin_user, config.admin_pass)
    return Dispatcher(
        build_router(app, max_body=config.max_body_bytes),
        auth=auth,
        static=StaticFiles(config.web_dir),
        cors_origins=(config.cors_origin,) if config.cors_origin else (),
    )


class DumperHTTPServer(ThreadingHTTPServer):
    """One thread per connection; threads are daemons so a stuck client cannot block exit."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher, max_body: int) -> None:
        self.dispatcher = dispatcher
        self.max_body = max_body
        super().__init__(address, _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # A client that stops sending or reading must not hold a thread forever.
    timeout = 120
    server_version = "dumper"

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

    def _handle(self) -> None:
        started = time.monotonic()
        response, request = self._dispatch()
        sent = 0
        try:
            sent = self._write(response, send_body=self.command != "HEAD")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            log.info(
                "client %s went away during %s %s",
                self.client_address[0],
                self.command,
                request.path,
            )
        finally:
            response.close()
        # Path only: never the query, headers or body, which could carry secrets. Successful
        # reads (UI polling, health checks) go to DEBUG so the log shows what changed things.
        quiet = self.command in ("GET", "HEAD") and response.status < 400
        log.log(
            logging.DEBUG if quiet else logging.INFO,
            '%s "%s %s" %d %d %.1fms',
            self.client_address[0],
            self.command,
            request.path,
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
        try:
            request.content_length, request.body = self._read_body()
        except BadRequest as exc:
            self.close_connection = True
            return error_response(exc), request
        response = self.server.dispatcher(request)
        return response, request

    def _read_body(self) -> tuple[int, bytes]:
        if self.headers.get("Transfer-Encoding"):
            raise BadRequest("chunked request bodies are not supported; send Content-Length")
        raw = self.headers.get("Content-Length")
        if raw is None:
            return 0, b""
        try:
            length = int(raw)
        except ValueError:
            raise BadRequest("invalid Content-Length") from None
        if length < 0:
            raise BadRequest("invalid Content-Length")
        if length > self.server.max_body:
            # Not read: the dispatcher answers 413 and the connection closes after it.
            self.close_connection = True
            return length, b""
        return length, self.rfile.read(length)

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


def make_server(dispatcher: Dispatcher, host: str, port: int, max_body: int) -> DumperHTTPServer:
    """Bind (port 0 picks a free one) without serving yet."""
    return DumperHTTPServer((host, port), dispatcher, max_body)


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


def install_signal_handlers(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set `stop` (main thread only, as Python requires)."""

    def handler(signum: int, frame: object) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


# docker stop waits 10 s before SIGKILL; App.stop adds up to 5 s of grace after cancelling, so
# this leaves time to record cut-off jobs as failed before the kill.
STOP_TIMEOUT = 4.0


def run(config: Config, *, stop: threading.Event | None = None) -> int:
    """`dumper serve`: build and start the App, serve until SIGTERM/SIGINT (or `stop`), stop."""
    from dumper.app import App

    stop = stop if stop is not None else threading.Event()
    if threading.current_thread() is threading.main_thread():
        install_signal_handlers(stop)
    app = App.build(config)
    try:
        # Bind before starting jobs, so a busy port fails fast with nothing running.
        server = make_server(
            build_dispatcher(app, config), config.app_host, config.app_port, config.max_body_bytes
        )
    except OSError as exc:
        app.stop(timeout=0)
        where = f"{config.app_host}:{config.app_port}"
        raise ConfigError(
            f"cannot listen on {where}: {exc.strerror or exc} (check APP_HOST and APP_PORT)",
            fields={"APP_PORT": str(exc.strerror or exc)},
        ) from None
    app.start()
    host, port = server.server_address[:2]
    try:
        serve_until(
            server,
            stop,
            on_ready=lambda: log.info("dumper serving on http://%s:%s", host, port),
        )
    finally:
        log.info("stopped accepting; giving running jobs up to %.0f s", STOP_TIMEOUT)
        app.stop(timeout=STOP_TIMEOUT)
        log.info("dumper stopped")
    return 0
