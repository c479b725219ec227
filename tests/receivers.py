"""Receivers on the loopback address for notification tests: an HTTP server that records what
it is sent and answers as told, and a local SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # keys lower-case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """Records requests; answers with `answers` in turn (then 200), e.g. [(500, b"down")]."""

    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    answers: list[tuple[int, bytes]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self.arrived:
            ok = self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
        assert ok, f"{len(self.received)} of {count} requests arrived: {self.received}"
        return list(self.received)

    def quiet_for(self, seconds: float) -> int:
        """How many requests arrived after waiting `seconds` (to show nothing more came)."""
        time.sleep(seconds)
        return len(self.received)


def _handler(receiver_box: list[HttpReceiver]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            receiver = receiver_box[0]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with receiver.arrived:
                receiver.received.append(
                    Received(
                        self.command,
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
                status, answer = receiver.answers.pop(0) if receiver.answers else (200, b"ok")
                receiver.arrived.notify_all()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST = do_PUT = do_HEAD = _record  # noqa: N815 (http.server's names)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def start_http_receiver() -> Iterator[HttpReceiver]:
    box: list[HttpReceiver] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(box))
    server.daemon_threads = True
    receiver = HttpReceiver(server)
    box.append(receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: Message
    login: tuple[str, str] | None


class SmtpReceiver:
    """aiosmtpd on 127.0.0.1; records each message and the AUTH login that sent it."""

    def __init__(self, port: int, *, user: str | None = None, password: str | None = None) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.mails: list[Mail] = []
        self.arrived = threading.Condition()
        self.port = port
        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                login = getattr(session, "auth_data", None)
                with receiver.arrived:
                    receiver.mails.append(
                        Mail(
                            envelope.mail_from,
                            list(envelope.rcpt_tos),
                            message_from_bytes(envelope.content),
                            (login.login.decode(), login.password.decode())
                            if isinstance(login, LoginPassword)
                            else None,
                        )
                    )
                    receiver.arrived.notify_all()
                return "250 OK"

        def authenticator(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> Any:
            ok = isinstance(data, LoginPassword) and (
                data.login.decode(),
                data.password.decode(),
            ) == (user, password)
            return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

        kwargs: dict[str, Any] = {}
        if user is not None:
            kwargs = {"authenticator": authenticator, "auth_require_tls": False}
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port, **kwargs)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Mail]:
        with self.arrived:
            ok = self.arrived.wait_for(lambda: len(self.mails) >= count, timeout)
        assert ok, f"{len(self.mails)} of {count} mails arrived"
        return list(self.mails)


class SilentServer:
    """Accepts connections on the loopback and never answers (a receiver that hangs)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.conns: list[socket.socket] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(conn)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        for conn in self.conns:
            conn.close()
        self.sock.close()
