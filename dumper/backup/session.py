"""What a dump or restore does with its connection: opening it, guarded queries, the sink, cancel,
and the one way a server error becomes text."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from dumper.backup.gzipio import Sink
from dumper.errors import Cancelled, ConnectionFailed, DumperError, DumpFailed
from dumper.log import get_logger

if TYPE_CHECKING:
    from dumper.backup.dsn import ConnParams

log = get_logger("dump")

# Client error codes and server codes that mean the connection is gone, not the query wrong.
CONNECTION_ERRNOS = frozenset({1053, 1927, 2002, 2003, 2006, 2013, 2014, 2055})


def server_error_text(exc: BaseException) -> str:
    """A driver error as the mysql client shows it: "(errno) message"."""
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) >= 2:
        return f"({args[0]}) {args[1]}"
    return str(exc) or type(exc).__name__


def text(value: bytes | None) -> str:
    """A value the server sent as bytes (dump connections decode nothing), as str."""
    return "" if value is None else value.decode("utf-8", "surrogateescape")


def shut_down(sock: socket.socket | None) -> None:
    """End any read or write blocked on `sock` in another thread; the socket may be gone."""
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def watching(
    watch: Callable[[threading.Event], None], name: str, join_timeout: float | None = None
) -> Iterator[None]:
    """Run `watch(done)` in a daemon thread while the block runs; `done` is set when it ends."""
    done = threading.Event()
    watcher = threading.Thread(target=watch, args=(done,), name=name, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join(join_timeout)


def close_quietly(conn: Any) -> None:
    with contextlib.suppress(Exception):  # closing a dead connection is not worth an error
        conn.close()


def open_dump_connection(params: ConnParams, connect: Callable[..., Any]) -> Any:
    """A connection whose values arrive as the server's bytes: no decoders at all."""
    import pymysql.converters

    conv = {k: v for k, v in pymysql.converters.conversions.items() if not isinstance(k, int)}
    return connect(params, use_unicode=False, conv=conv)


def open_restore_connection(params: ConnParams, connect: Callable[..., Any]) -> Any:
    """Autocommit, as with the mysql client: each statement that succeeded stays, and a failure
    never rolls back earlier rows (InnoDB's bulk-insert mode would roll back a whole table);
    several statements per round trip."""
    from pymysql.constants import CLIENT

    return connect(params, client_flag=CLIENT.MULTI_STATEMENTS, autocommit=True)


class Session:
    """One dump connection and where its output goes: queries, writes, cancel checks."""

    def __init__(self, conn: Any, sink: Sink, cancel: threading.Event | None) -> None:
        self.conn = conn
        self.sink = sink
        self.cancel = cancel

    @contextlib.contextmanager
    def guard(self, what: str) -> Iterator[None]:
        """Turn driver errors into DumpFailed/ConnectionFailed that say what was being done."""
        import pymysql

        try:
            yield
        except DumperError:
            raise
        except pymysql.MySQLError as exc:
            if self.cancel is not None and self.cancel.is_set():
                raise Cancelled("dump cancelled") from exc  # interrupted by the cancel's KILL
            errno = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
            msg = server_error_text(exc)
            if errno in CONNECTION_ERRNOS or isinstance(exc, pymysql.err.InterfaceError):
                raise ConnectionFailed(
                    f"lost connection to the server while {what}: {msg}"
                ) from exc
            raise DumpFailed(f"dump failed while {what}: {msg}") from exc
        except (ConnectionError, TimeoutError, EOFError) as exc:
            raise ConnectionFailed(f"lost connection to the server while {what}: {exc}") from exc
        except OSError as exc:
            raise DumpFailed(f"cannot write the dump while {what}: {exc}") from exc

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())

    def one(self, sql: str) -> tuple[Any, ...] | None:
        rows = self.query(sql)
        return rows[0] if rows else None

    def write(self, text: str | bytes) -> None:
        self.sink.write(text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text)

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("dump cancelled")

    def unbuffered_cursor(self) -> Any:
        import pymysql

        return self.conn.cursor(pymysql.cursors.SSCursor)

    @contextlib.contextmanager
    def unbuffered(self, cur: Any) -> Iterator[None]:
        """Close an unbuffered cursor after use; on an error, drop the connection instead.

        Closing reads the rest of the result first, which after a cancel or a lost connection
        would take long or fail again; PyMySQL's result (whose __del__ would do the same) is
        told that it is over.
        """
        try:
            yield
        except BaseException:
            result = getattr(cur, "_result", None)
            if result is not None:
                result.unbuffered_active = False
            close_quietly(self.conn)
            raise
        cur.close()

    def start_snapshot(self, group_concat_max_len: int) -> str:
        """Session settings for the dump, then its transaction: "yes" for a consistent snapshot,
        else "no (<the server's reason>)"."""
        import pymysql

        with self.conn.cursor() as cur:
            cur.execute("SET SESSION sql_mode = ''")
            cur.execute("SET SESSION time_zone = '+00:00'")
            cur.execute(f"SET SESSION group_concat_max_len = {group_concat_max_len}")
            # a slow consumer (gzip, disk) must not make the server drop us mid-result
            cur.execute("SET SESSION net_write_timeout = 3600")
            cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        try:
            with self.conn.cursor() as cur:
                cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            return "yes"
        except pymysql.err.OperationalError as exc:
            if exc.args and exc.args[0] in CONNECTION_ERRNOS:
                raise
            with self.conn.cursor() as cur:
                cur.execute("START TRANSACTION")
            note = f"no ({exc.args[-1] if exc.args else exc})"
            log.warning("consistent snapshot unavailable, dumping without: %s", note)
            return note
