"""Verify a dump file end to end, then restore it statement by statement into one database.

A producer thread decompresses and splits while the connection executes in file order;
statements travel as raw bytes and are never decoded.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from dumper.backup import dsn
from dumper.backup.fileformat import parse_end, producer_of
from dumper.backup.interrupt import interrupt_on_cancel
from dumper.backup.session import server_error_text
from dumper.backup.sqlsplit import Statement, StatementSplitter
from dumper.errors import BackupCorrupt, Cancelled, RestoreFailed
from dumper.log import get_logger

log = get_logger("restore")

READ_SIZE = 1 << 18  # bytes read from the file at a time
PIECE_SIZE = 1 << 17  # most decompressed bytes produced (and split) at a time
TAIL_KEEP = 1 << 20  # bytes of the end kept to find the completion marker and manifest...
TAIL_MAX = 16 << 20  # ...or more while the last lines are longer, up to this
_VERIFY_CANCELLED = "cancelled while the file was being checked"
PARALLEL_VERIFY_MIN = 16 << 20  # gzip files this big are checked in two halves at once
QUEUE_ITEMS = 8  # pieces of split statements the producer may run ahead
BATCH_BYTES = 1 << 20  # small INSERTs are sent together up to this size...
BATCH_STATEMENT_MAX = 1 << 16  # ...when each is smaller than this
PREVIEW_CHARS = 200
_GZIP_MAGIC = b"\x1f\x8b"
_ER_EMPTY_QUERY = 1065

# A restore goes into the database it names: statements that would leave, create or drop a
# database are refused (mariadb-dump --databases / --all-databases / --add-drop-database).
_FOREIGN_DB = re.compile(
    rb"(?:/\*M?!\d*\s*)?(?:USE\b|(?:CREATE|DROP)\s+(?:DATABASE|SCHEMA)\b)", re.IGNORECASE
)
# Statements that give exactly one result each, so a failure inside a batch can be located.
_BATCHABLE = re.compile(rb"(?:INSERT|REPLACE)\s", re.IGNORECASE)


@dataclass(frozen=True)
class VerifyResult:
    compressed: bool
    size_bytes: int  # file size
    sql_bytes: int  # uncompressed size
    completed_at: str | None  # from the completion marker
    table_rows: dict[str, int]  # from our manifest; {} for mariadb-dump/mysqldump files
    producer: str  # "dumper" | "mariadb-dump" | "mysqldump"


@dataclass
class RestoreProgress:
    bytes_read: int  # of the file as stored (compressed bytes for .gz)
    bytes_total: int
    statements: int


@dataclass(frozen=True)
class RestoreResult:
    statements: int
    sql_bytes: int


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == _GZIP_MAGIC


class _Reader(Protocol):
    def read(self, n: int, /) -> bytes: ...


def _gunzip(f: _Reader, on_read: Callable[[int], None]) -> Iterator[bytes]:
    """Decompress a (multi-member) gzip stream in bounded pieces, checking CRC and length."""
    d = zlib.decompressobj(wbits=31)
    pending = b""
    more_output = False
    while True:
        if d.eof:
            if not pending:
                pending = f.read(READ_SIZE)
                if not pending:
                    return  # ended exactly after a complete member
                on_read(len(pending))
            d = zlib.decompressobj(wbits=31)  # the next member of the same stream
        elif not pending and not more_output:
            pending = f.read(READ_SIZE)
            if not pending:
                raise BackupCorrupt("gzip data is truncated: the file ends inside compressed data")
            on_read(len(pending))
        try:
            out = d.decompress(pending, PIECE_SIZE)
        except zlib.error as exc:
            raise BackupCorrupt(f"gzip data is corrupt: {exc}") from exc
        more_output = len(out) >= PIECE_SIZE
        pending = d.unused_data if d.eof else d.unconsumed_tail
        if out:
            yield out


def _plain(f: _Reader, on_read: Callable[[int], None]) -> Iterator[bytes]:
    while chunk := f.read(PIECE_SIZE):
        on_read(len(chunk))
        yield chunk


def _sql_pieces(f: _Reader, compressed: bool, on_read: Callable[[int], None]) -> Iterator[bytes]:
    return _gunzip(f, on_read) if compressed else _plain(f, on_read)


class _Tally:
    """What verify keeps of the SQL it reads: its size, the first bytes and the last lines."""

    def __init__(self) -> None:
        self.sql_bytes = 0
        self.head = b""
        self.tail: collections.deque[tuple[bytes, int]] = collections.deque()
        self._kept = 0
        self._newlines = 0

    def add(self, piece: bytes) -> None:
        self.sql_bytes += len(piece)
        if len(self.head) < 4096:
            self.head += piece[: 4096 - len(self.head)]
        count = piece.count(b"\n")
        self.tail.append((piece, count))
        self._kept += len(piece)
        self._newlines += count
        # Keep enough of the end to hold its last two whole lines (three newlines).
        while len(self.tail) > 1:
            first, first_count = self.tail[0]
            rest = self._kept - len(first)
            enough = rest >= TAIL_KEEP and self._newlines - first_count >= 3
            if not (enough or rest >= TAIL_MAX):
                break
            self.tail.popleft()
            self._kept -= len(first)
            self._newlines -= first_count

    def tail_bytes(self) -> bytes:
        return b"".join(piece for piece, _ in self.tail)


class _Range:
    """A file read from `start`, ending at `end` as if that were the end of the file."""

    def __init__(self, f: IO[bytes], start: int, end: int) -> None:
        f.seek(start)
        self._f = f
        self._left = end - start

    def read(self, n: int) -> bytes:
        data = self._f.read(min(n, self._left))
        self._left -= len(data)
        return data


def _tally(
    path: Path, compressed: bool, start: int, end: int, cancel: threading.Event | None
) -> _Tally:
    tally = _Tally()
    with path.open("rb") as f:
        for piece in _sql_pieces(_Range(f, start, end), compressed, lambda n: None):
            if cancel is not None and cancel.is_set():
                raise Cancelled(_VERIFY_CANCELLED)
            tally.add(piece)
    return tally


def _member_start_near(path: Path, offset: int) -> int | None:
    """An offset past `offset` where a gzip member seems to start (magic, flags, it inflates).

    Only a guess: both halves are then checked in full, and a wrong guess shows as an error.
    """
    with path.open("rb") as f:
        f.seek(offset)
        window = f.read(4 << 20)
    at = 0
    while (at := window.find(b"\x1f\x8b\x08", at)) >= 0:
        if len(window) - at > 18 and window[at + 3] & 0xE0 == 0:
            try:
                zlib.decompressobj(wbits=31).decompress(window[at : at + (64 << 10)], 4096)
                return offset + at
            except zlib.error:
                pass
        at += 1
    return None


def _tally_in_halves(path: Path, size: int, cancel: threading.Event | None = None) -> _Tally | None:
    """Inflate the two halves of a multi-member gzip file on two threads (zlib frees the GIL).

    Returns None when the file cannot be cut at a member boundary or a half fails: the caller
    then reads it in one pass, which also gives the authoritative error.
    """
    boundary = _member_start_near(path, size // 2)
    if boundary is None:
        return None
    halves: list[_Tally | None] = [None, None]

    def run(index: int, start: int, end: int) -> None:
        with contextlib.suppress(BackupCorrupt, OSError, Cancelled):
            halves[index] = _tally(path, True, start, end, cancel)

    second = threading.Thread(target=run, args=(1, boundary, size), name="verify-half")
    second.start()
    try:
        run(0, 0, boundary)
    finally:
        second.join()
    if cancel is not None and cancel.is_set():
        raise Cancelled(_VERIFY_CANCELLED)
    first, last = halves
    if first is None or last is None:
        return None
    first.sql_bytes += last.sql_bytes
    first.tail.extend(last.tail)
    return first


def verify_file(path: Path, *, cancel: threading.Event | None = None) -> VerifyResult:
    """Read the whole file once: gzip CRC/length to the end, completion marker, manifest.

    Raises BackupCorrupt saying why when the file is truncated, corrupted or incomplete, and
    Cancelled when `cancel` is set meanwhile (a big file takes a while).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        compressed = _is_gzip(path)
        tally = None
        if compressed and size >= PARALLEL_VERIFY_MIN:
            tally = _tally_in_halves(path, size, cancel)
        if tally is None:
            tally = _tally(path, compressed, 0, size, cancel)
    except OSError as exc:
        raise BackupCorrupt(f"cannot read {path}: {exc.strerror or exc}") from exc
    if path.name.endswith(".gz") and not compressed:
        raise BackupCorrupt(f"{path.name} is not gzip data")
    if tally.sql_bytes == 0:
        raise BackupCorrupt("the file is empty: no SQL at all")
    producer = producer_of(tally.head)
    completed_at, table_rows = parse_end(producer, tally.tail_bytes())
    return VerifyResult(
        compressed=compressed,
        size_bytes=size,
        sql_bytes=tally.sql_bytes,
        completed_at=completed_at,
        table_rows=table_rows,
        producer=producer or "mysqldump",
    )


def _preview(sql: bytes) -> str:
    text = " ".join(sql[: PREVIEW_CHARS * 4].decode("utf-8", "replace").split())
    cut = len(sql) > PREVIEW_CHARS * 4 or len(text) > PREVIEW_CHARS
    return text[:PREVIEW_CHARS] + ("..." if cut else "")


@dataclass
class _Piece:
    statements: list[Statement]
    bytes_read: int


class _Producer(threading.Thread):
    """Reads, decompresses and splits the file, handing lists of statements to a queue."""

    def __init__(self, path: Path, compressed: bool) -> None:
        super().__init__(name="restore-producer", daemon=True)
        self.path = path
        self.compressed = compressed
        self.queue: queue.Queue[_Piece | BaseException | None] = queue.Queue(QUEUE_ITEMS)
        self.stop = threading.Event()
        self._read = 0

    def _count(self, n: int) -> None:
        self._read += n

    def _put(self, item: _Piece | BaseException | None) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run(self) -> None:
        try:
            splitter = StatementSplitter()
            with self.path.open("rb") as f:
                for piece in _sql_pieces(f, self.compressed, self._count):
                    statements = splitter.feed(piece)
                    if statements and not self._put(_Piece(statements, self._read)):
                        return
            self._put(_Piece(splitter.finish(), self._read))
            self._put(None)
        except BaseException as exc:  # handed to the executing thread, which raises it
            self._put(exc)


class _Executor:
    """Runs statements in order on one connection; batches small INSERTs."""

    def __init__(self, conn: Any, database: str, max_packet: int) -> None:
        self.conn = conn
        self.database = database
        self.batch_limit = min(BATCH_BYTES, max_packet // 2)
        self.batch: list[tuple[int, Statement]] = []
        self.batch_size = 0
        self.executed = 0  # statements that completed
        self.numbered = 0  # statements handed to execute()

    def execute(self, stmt: Statement) -> None:
        self.numbered += 1
        sql = stmt.sql
        if _FOREIGN_DB.match(sql, 0, 200):
            self.flush()
            raise RestoreFailed(
                f"statement {self.numbered} (line {stmt.line}): {_preview(sql)}: refused: "
                f"dumper restores into the database you name ({self.database}) and never "
                "switches, creates or drops databases; make the dump without --databases, "
                "--all-databases or --add-drop-database"
            )
        size = len(sql)
        if size < BATCH_STATEMENT_MAX and stmt.delimiter == b";" and _BATCHABLE.match(sql):
            if self.batch_size + size + 2 > self.batch_limit:
                self.flush()
            self.batch.append((self.numbered, stmt))
            self.batch_size += size + 2
            return
        self.flush()
        self._run([(self.numbered, stmt)], sql)

    def flush(self) -> None:
        if not self.batch:
            return
        batch = self.batch
        self.batch = []
        self.batch_size = 0
        # "\n;" and not ";": a statement may end in a -- comment that would swallow the ";"
        sql = batch[0][1].sql if len(batch) == 1 else b"\n;".join(s.sql for _, s in batch)
        self._run(batch, sql)

    def _run(self, batch: list[tuple[int, Statement]], sql: bytes) -> None:
        import pymysql

        done = 0
        try:
            self.conn.query(sql)
            done = 1
            while self.conn._result is not None and self.conn._result.has_next:
                self.conn.next_result()  # drain every result so the connection stays in sync
                done += 1
        except pymysql.MySQLError as exc:
            number, stmt = batch[min(done, len(batch) - 1)]
            if (
                len(batch) == 1
                and getattr(exc, "args", (0,))[0] == _ER_EMPTY_QUERY
                and stmt.sql.startswith(b"/*")
            ):
                done = 1  # a version-gated comment this server skips entirely
            else:
                self.executed += min(done, len(batch))
                raise RestoreFailed(
                    f"statement {number} (line {stmt.line}): {_preview(stmt.sql)}: "
                    f"{server_error_text(exc)}"
                ) from exc
        self.executed += len(batch)


def restore_file(
    path: Path,
    params: dsn.ConnParams,
    *,
    progress: Callable[[RestoreProgress], None] | None = None,
    cancel: threading.Event | None = None,
    connect: Callable[..., Any] = dsn.connect,
) -> RestoreResult:
    """Verify `path`, then execute it in order in `params.database`.

    A bad file raises BackupCorrupt before any statement runs. Raises RestoreFailed naming the
    failing statement, ConnectionFailed, Cancelled. Statements executed before a failure or a
    cancel stay committed, as with the mysql client.
    """
    from pymysql.constants import CLIENT

    path = Path(path)
    try:
        info = verify_file(path, cancel=cancel)
    except Cancelled as exc:
        raise Cancelled(f"restore cancelled after 0 statements, {exc.message}") from exc
    # autocommit as with the mysql client: each statement that succeeded stays, and a failure
    # never rolls back earlier rows (InnoDB's bulk-insert mode would roll back a whole table).
    conn = connect(params, client_flag=CLIENT.MULTI_STATEMENTS, autocommit=True)
    started = time.monotonic()
    producer = _Producer(path, info.compressed)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT @@max_allowed_packet")
            max_packet = int(cur.fetchone()[0])
        executor = _Executor(conn, params.database, max_packet)
        producer.start()
        with interrupt_on_cancel(params, conn, cancel, connect=connect):
            try:
                _run_all(producer, executor, info.size_bytes, progress, cancel)
            except RestoreFailed as exc:
                if cancel is not None and cancel.is_set():  # interrupted by the cancel's KILL
                    raise _cancelled(executor) from exc
                raise
        if progress is not None:
            progress(RestoreProgress(info.size_bytes, info.size_bytes, executor.executed))
    finally:
        producer.stop.set()
        if producer.is_alive():
            producer.join(5)
        _close_quietly(conn)
    log.info(
        "restored %s into %s: %d statements in %.1f s",
        path.name,
        params.safe_url(),
        executor.executed,
        time.monotonic() - started,
    )
    return RestoreResult(statements=executor.executed, sql_bytes=info.sql_bytes)


def _run_all(
    producer: _Producer,
    executor: _Executor,
    size: int,
    progress: Callable[[RestoreProgress], None] | None,
    cancel: threading.Event | None,
) -> None:
    while True:
        item = producer.queue.get()
        if item is None:
            break
        if isinstance(item, BaseException):
            executor.flush()
            raise item
        for stmt in item.statements:
            if cancel is not None and cancel.is_set():
                executor.flush()
                raise _cancelled(executor)
            executor.execute(stmt)
        if progress is not None:
            progress(RestoreProgress(item.bytes_read, size, executor.executed))
    executor.flush()


def _cancelled(executor: _Executor) -> Cancelled:
    return Cancelled(f"restore cancelled after {executor.executed} statements")


def _close_quietly(conn: Any) -> None:
    with contextlib.suppress(Exception):  # closing a dead connection is not worth an error
        conn.close()
