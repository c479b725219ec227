"""Restore a dump file statement by statement into one database, once verify.py passed it.

A producer thread decompresses and splits while the connection executes in file order;
statements travel as raw bytes and are never decoded.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dumper.backup import dsn
from dumper.backup.agefile import Identity
from dumper.backup.agestream import open_plain
from dumper.backup.clean import drop_others, may_set_definer
from dumper.backup.foreign import open_pieces
from dumper.backup.interrupt import interrupt_on_cancel
from dumper.backup.scope import Scope
from dumper.backup.session import close_quietly, open_restore_connection, server_error_text
from dumper.backup.sqlsplit import Statement, StatementSplitter
from dumper.backup.verify import VerifyResult, verify_file
from dumper.errors import BackupCorrupt, Cancelled, InvalidInput, RestoreFailed
from dumper.log import get_logger

log = get_logger("restore")

QUEUE_ITEMS = 8  # pieces of split statements the producer may run ahead
BATCH_BYTES = 1 << 20  # small INSERTs are sent together up to this size...
BATCH_STATEMENT_MAX = 1 << 16  # ...when each is smaller than this
PREVIEW_CHARS = 200
_ER_EMPTY_QUERY = 1065

# Statements that give exactly one result each, so a failure inside a batch can be located.
_BATCHABLE = re.compile(rb"(?:INSERT|REPLACE)\s", re.IGNORECASE)


@dataclass
class RestoreProgress:
    bytes_read: int  # of the file as stored (compressed bytes for .gz)
    bytes_total: int
    statements: int


@dataclass(frozen=True)
class RestoreOptions:
    """What a restore takes of the file and how; the default restores all of it as it is."""

    tables: frozenset[str] | None = None  # only these tables (structure, data, triggers)
    clean: bool = False  # drop what the destination has and the file does not
    definer: str | None = None  # "keep" | "current_user"; None: keep when allowed
    accept_unmarked: bool = False  # a plain file with no end line and no checksums
    source_database: str | None = None  # the one to take from a --databases file of several
    parallel_connections: int = 1  # > 1: table data over that many connections (restore_parallel)


@dataclass(frozen=True)
class RestoreResult:
    statements: int
    sql_bytes: int
    rows: int = 0  # rows the INSERT/REPLACE statements added
    tables: tuple[str, ...] = ()  # base tables the file created
    notes: tuple[str, ...] = field(default_factory=tuple)


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

    def __init__(
        self, path: Path, info: VerifyResult, identities: Sequence[Identity] | None
    ) -> None:
        super().__init__(name="restore-producer", daemon=True)
        self.path = path
        self.info = info
        self.identities = identities
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
            with open_plain(self.path, self.identities) as f:
                strip_cr = self.info.producer != "dumper"  # as the mariadb client does
                pieces = open_pieces(f, self.info.container, self._count, strip_cr=strip_cr)  # type: ignore[arg-type]
                for piece in pieces:
                    statements = splitter.feed(piece)
                    if statements and not self._put(_Piece(statements, self._read)):
                        return
            self._put(_Piece(splitter.finish(), self._read))
            self._put(None)
        except BaseException as exc:  # handed to the executing thread, which raises it
            self._put(exc)


class _Executor:
    """Runs statements in order on one connection; batches small INSERTs."""

    def __init__(self, conn: Any, scope: Scope, max_packet: int) -> None:
        self.conn = conn
        self.scope = scope
        self.rows = 0
        self.batch_limit = min(BATCH_BYTES, max_packet // 2)
        self.batch: list[tuple[int, Statement]] = []
        self.batch_size = 0
        self.executed = 0  # statements that completed
        self.numbered = 0  # statements handed to execute()

    def execute(self, stmt: Statement) -> None:
        scoped = self.scoped(stmt)
        if scoped is not None:
            self.add(self.numbered, scoped)

    def scoped(self, stmt: Statement) -> Statement | None:
        """Numbers `stmt` and applies the scope: the statement to run, or None to skip it."""
        self.numbered += 1
        scoped = self.scope.statement(stmt.sql)
        if scoped is None:
            return None
        return stmt if scoped is stmt.sql else stmt._replace(sql=scoped)

    def add(self, number: int, stmt: Statement) -> None:
        """Runs statement `number` of the file, or holds it in the batch."""
        sql = stmt.sql
        size = len(sql)
        if size < BATCH_STATEMENT_MAX and stmt.delimiter == b";" and _BATCHABLE.match(sql):
            if self.batch_size + size + 2 > self.batch_limit:
                self.flush()
            self.batch.append((number, stmt))
            self.batch_size += size + 2
            return
        self.flush()
        self._run([(number, stmt)], sql)

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
        counts = bool(_BATCHABLE.match(batch[0][1].sql))
        try:
            self.conn.query(sql)
            done = 1
            self.rows += self.conn._result.affected_rows if counts else 0
            while self.conn._result is not None and self.conn._result.has_next:
                self.conn.next_result()  # drain every result so the connection stays in sync
                done += 1
                self.rows += self.conn._result.affected_rows
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
    options: RestoreOptions | None = None,
    identities: Sequence[Identity] | None = None,
) -> RestoreResult:
    """Verify `path`, then execute it in order in `params.database`.

    A bad file raises BackupCorrupt before any statement runs. Raises RestoreFailed naming the
    failing statement, ConnectionFailed, Cancelled. Statements executed before a failure or a
    cancel stay committed, as with the mysql client.
    """
    path = Path(path)
    opts = options or RestoreOptions()
    try:
        info = verify_file(path, cancel=cancel, identities=identities)
    except Cancelled as exc:
        raise Cancelled(
            f"restore cancelled after 0 statements, {exc.message}", statements=0
        ) from exc
    notes = _check_whole(info, opts)
    if opts.tables is not None and info.table_rows:  # our manifest lists every table
        unknown = sorted(set(opts.tables) - set(info.table_rows))
        if unknown:
            message = "tables not in the backup: " + ", ".join(unknown)
            raise InvalidInput(message, fields={"tables": message})
    if opts.definer not in (None, "keep", "current_user"):
        raise InvalidInput("definer must be keep or current_user", fields={"definer": "invalid"})
    scope = Scope(info.databases, opts.source_database, opts.tables)
    conn = open_restore_connection(params, connect)
    started = time.monotonic()
    producer = _Producer(path, info, identities)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT @@max_allowed_packet")
            max_packet = int(cur.fetchone()[0])
        scope.definer_rewrite = opts.definer == "current_user" or (
            opts.definer is None and not may_set_definer(conn)
        )
        executor = _Executor(conn, scope, max_packet)
        producer.start()
        with interrupt_on_cancel(params, conn, cancel, connect=connect):
            try:
                if opts.parallel_connections > 1 and info.producer == "dumper":
                    # only our own files: another tool's statements may rely on the order across
                    # tables (LOCK TABLES ... UNLOCK TABLES, a SET that one table's data needs)
                    from dumper.backup.restore_parallel import ParallelRestore  # imports this

                    ParallelRestore(params, connect, executor, opts.parallel_connections).run(
                        producer, info.size_bytes, progress, cancel
                    )
                else:
                    _run_all(producer, executor, info.size_bytes, progress, cancel)
            except RestoreFailed as exc:
                if cancel is not None and cancel.is_set():  # interrupted by the cancel's KILL
                    raise _cancelled(executor) from exc
                raise
        if opts.clean and opts.tables is None:
            dropped = drop_others(conn, scope.created)
            if dropped:
                notes.append(f"clean: dropped what the backup does not hold: {', '.join(dropped)}")
        if progress is not None:
            progress(RestoreProgress(info.size_bytes, info.size_bytes, executor.executed))
    finally:
        producer.stop.set()
        if producer.is_alive():
            producer.join(5)
        close_quietly(conn)
    log.info(
        "restored %s into %s: %d statements in %.1f s",
        path.name,
        params.safe_url(),
        executor.executed,
        time.monotonic() - started,
    )
    if scope.rewritten:
        notes.append(
            f"DEFINER rewritten to CURRENT_USER in {scope.rewritten} views, routines, triggers "
            "or events" + ("" if opts.definer else " (the user lacks SUPER and SET USER)")
        )
    made = scope.created
    tables = tuple(sorted(n for k, n in made if k == "table" and ("view", n) not in made))
    return RestoreResult(
        statements=executor.executed,
        sql_bytes=info.sql_bytes,
        rows=executor.rows,
        tables=tables,
        notes=tuple(notes),
    )


def _check_whole(info: VerifyResult, opts: RestoreOptions) -> list[str]:
    """BackupCorrupt for a file nothing proves whole unless acknowledged; notes to keep."""
    if info.whole_by != "unmarked":
        return []
    if not opts.accept_unmarked:
        raise BackupCorrupt(
            f"nothing proves this {info.producer} file complete (no end line, no checksums): "
            "it ends on a complete statement; restore it only if you know it is whole "
            "(accept_unmarked)"
        )
    return ["restored without proof of completeness (accepted: no end line, no checksums)"]


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
    return Cancelled(
        f"restore cancelled after {executor.executed} statements",
        statements=executor.executed,
    )
