"""mysql://user:pass@host:port/db -> connection parameters, and the one way to connect."""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote, urlsplit

from dumper.backup import tls
from dumper.backup.session import server_error_text, shut_down, watching
from dumper.errors import Cancelled, ConnectionFailed, InvalidInput

DEFAULT_PORT = 3306
POLL_SECONDS = 0.1  # how often a connection attempt looks at its cancel event


@dataclass(frozen=True)
class ConnParams:
    """Where and as whom to connect. `repr` hides the password.

    connect_timeout bounds the TCP connect and the MySQL handshake together; read_timeout is
    how long the server may stay silent after that. A set `cancel` abandons a connection
    attempt at once (connect() raises Cancelled). `tls` says whether and how to encrypt.
    """

    host: str
    port: int
    user: str
    password: str
    database: str
    connect_timeout: float = 15.0
    read_timeout: float | None = 600.0
    write_timeout: float | None = 600.0
    unix_socket: str | None = None
    cancel: threading.Event | None = field(default=None, compare=False)
    tls: tls.TlsSettings = tls.DEFAULT_TLS

    def __repr__(self) -> str:
        return (
            f"ConnParams(host={self.host!r}, port={self.port}, user={self.user!r}, "
            f"password='***', database={self.database!r})"
        )

    def with_database(self, database: str) -> ConnParams:
        return replace(self, database=database)

    def safe_url(self) -> str:
        """The DSN without its password, for logs and messages."""
        return f"mysql://{self.user}@{self.host}:{self.port}/{self.database}"


def parse_dsn(url: str, *, env_password: str | None = None, server: bool = False) -> ConnParams:
    """Parse `mysql://USER[:PASSWORD]@HOST[:PORT]/DB`; parts are percent-decoded.

    A password missing from the URL is taken from `env_password` (the CLI passes MYSQL_PWD).
    `server`: the database may be left out (`mysql://u@h:3306/`, database "": the whole server).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"invalid DSN: {exc}", fields={"dsn": str(exc)}) from exc
    if parts.scheme not in ("mysql", "mariadb"):
        raise InvalidInput("DSN must start with mysql://", fields={"dsn": "scheme must be mysql"})
    if not parts.hostname:
        raise InvalidInput("DSN has no host", fields={"dsn": "host missing"})
    database = unquote(parts.path.lstrip("/"))
    if (not database and not server) or "/" in parts.path.lstrip("/"):
        raise InvalidInput("DSN must name exactly one database", fields={"dsn": "database missing"})
    # urlsplit lower-cases hostname; keep the netloc's own spelling for sockets/hosts alike
    host = unquote(parts.netloc.rsplit("@", 1)[-1])
    if host.startswith("["):
        host = host[1 : host.index("]")]
    elif ":" in host:
        host = host.rsplit(":", 1)[0]
    password = unquote(parts.password) if parts.password is not None else (env_password or "")
    return ConnParams(
        host=host,
        port=port or DEFAULT_PORT,
        user=unquote(parts.username or ""),
        password=password,
        database=database,
    )


def password_in_dsn(url: str) -> bool:
    """Whether the URL carries a password (which `ps` shows when it is a command argument)."""
    try:
        return urlsplit(url).password is not None
    except ValueError:
        return False


def connect(params: ConnParams, **extra: Any) -> Any:
    """Open a PyMySQL connection to `params.database` (utf8mb4, autocommit off).

    `extra` goes to pymysql.connect (e.g. conv={} and use_unicode=False for raw bytes).
    Raises ConnectionFailed with the server's message when the server cannot be reached or
    does not finish the handshake within the connect timeout; Cancelled when params.cancel
    is set meanwhile.
    """
    import pymysql

    connect_timeout = float(extra.pop("connect_timeout", params.connect_timeout))
    read_timeout = extra.pop("read_timeout", params.read_timeout)
    kwargs: dict[str, Any] = {
        "host": params.host,
        "port": params.port,
        "user": params.user,
        "password": params.password,
        "database": params.database or None,
        "charset": "utf8mb4",
        "connect_timeout": connect_timeout,
        # PyMySQL reads the handshake with read_timeout: bound it by the connect timeout
        "read_timeout": connect_timeout,
        "write_timeout": params.write_timeout,
        "autocommit": False,
        "local_infile": False,
        "defer_connect": True,
    }
    if params.unix_socket:
        kwargs["unix_socket"] = params.unix_socket
    kwargs.update(tls.connect_kwargs(params.tls))
    kwargs.update(extra)
    conn = pymysql.connect(**kwargs)  # defer_connect: nothing on the network yet
    tls.enforce(conn, params.tls)
    cancel = params.cancel
    deadline = time.monotonic() + connect_timeout
    watch = _Watch(cancel, deadline)
    if params.unix_socket:
        conn._secure = True  # as PyMySQL marks its own unix sockets: no TLS needed for auth
    try:
        sock = _open_socket(params, watch)
        # PyMySQL swaps in a TLS socket mid-handshake: the guard shuts down whichever is current
        with watch.guard(lambda: conn._sock or sock):
            conn.connect(sock)
        if watch.fired:  # the deadline or a cancel came as the handshake ended: still no
            conn.close()
            raise pymysql.err.OperationalError(2013, "connection attempt ended")
    except (pymysql.MySQLError, Cancelled) as exc:
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"cancelled while connecting to {params.safe_url()}") from exc
        if watch.expired or time.monotonic() >= deadline:
            raise ConnectionFailed(
                f"cannot connect to {params.safe_url()}: the server accepted the connection "
                f"but did not answer the MySQL handshake within {connect_timeout:g} s "
                "(is this a MySQL port?)"
            ) from exc
        code = exc.args[0] if isinstance(exc, pymysql.MySQLError) and exc.args else None
        reason = tls.failure_text(exc) or server_error_text(exc) + tls.plain_hint(params.tls, code)
        raise ConnectionFailed(f"cannot connect to {params.safe_url()}: {reason}") from exc
    except ssl.SSLError as exc:
        raise ConnectionFailed(
            f"cannot connect to {params.safe_url()}: {tls.failure_text(exc)}"
        ) from exc
    except OSError as exc:
        raise ConnectionFailed(
            f"cannot connect to {params.safe_url()}: (2003) Can't connect to MySQL server on "
            f"{params.host!r} ({exc.strerror or exc})"
        ) from exc
    except UnicodeError:
        # socket's IDNA step refuses some host names (a label over 63 characters, odd characters)
        raise ConnectionFailed(
            f"cannot connect to {params.safe_url()}: invalid host name"
        ) from None
    # the handshake is done: from now on the server may think for as long as read_timeout
    # (PyMySQL applies _read_timeout to the socket before its next read; there is no setter)
    conn._read_timeout = read_timeout
    return conn


class _Watch:
    """The deadline and cancel event of one connection attempt."""

    def __init__(self, cancel: threading.Event | None, deadline: float) -> None:
        self.cancel = cancel
        self.deadline = deadline
        self.expired = False
        self.fired = False  # guard() shut the socket down

    def left(self) -> float:
        """Seconds left; raises Cancelled or TimeoutError when the attempt must end."""
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("cancelled while connecting")
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.expired = True
            raise TimeoutError(errno.ETIMEDOUT, "timed out")
        return left

    @contextlib.contextmanager
    def guard(self, current: Callable[[], socket.socket | None]) -> Iterator[None]:
        """While the block runs, the deadline or a cancel shuts the `current()` socket down,
        which ends any read PyMySQL is blocked in."""

        def run(done: threading.Event) -> None:
            while not done.is_set():
                try:
                    step = self.left()
                except (Cancelled, TimeoutError):
                    self.fired = True
                    shut_down(current())
                    return
                done.wait(min(step, POLL_SECONDS) if self.cancel is not None else step)

        with watching(run, "dumper-connect"):
            yield


def _open_socket(params: ConnParams, watch: _Watch) -> socket.socket:
    """A connected socket to the server, within the deadline; Cancelled on a cancel."""
    if params.unix_socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(watch.left())
            sock.connect(params.unix_socket)
        except BaseException:
            sock.close()
            raise
        return sock
    error: OSError | None = None
    for family, kind, proto, _, addr in socket.getaddrinfo(
        params.host, params.port, type=socket.SOCK_STREAM
    ):
        sock = socket.socket(family, kind, proto)
        try:
            _connect_polling(sock, addr, watch)
        except OSError as exc:
            sock.close()
            if watch.expired:
                raise
            error = exc
            continue
        except BaseException:
            sock.close()
            raise
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        return sock
    raise error or OSError(errno.EHOSTUNREACH, "no address")


def _connect_polling(sock: socket.socket, addr: Any, watch: _Watch) -> None:
    # a blocking connect() cannot be interrupted from another thread; poll instead
    sock.setblocking(False)
    code = sock.connect_ex(addr)
    if code not in (0, errno.EINPROGRESS):
        raise OSError(code, os.strerror(code))
    with selectors.DefaultSelector() as sel:
        sel.register(sock, selectors.EVENT_WRITE)
        while code == errno.EINPROGRESS and not sel.select(min(watch.left(), POLL_SECONDS)):
            pass
    code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if code:
        raise OSError(code, os.strerror(code))
    sock.setblocking(True)
