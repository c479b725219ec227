"""A dump over several connections (a target's parallel_connections > 1).

All connections share one snapshot: a global read lock is held only for the instant in which each
of them starts its consistent-snapshot transaction (as mydumper does), then released. Table data
is cut into units (ranges of an integer key of about UNIT_BYTES; other tables whole) that worker
connections fill while the dump's own thread writes them into the one file in order, so the file
is the same as a one-connection dump's apart from where INSERTs are cut. Memory stays bounded:
a unit holds at most BUFFER_BYTES before its worker waits, and workers run at most `window`
units ahead of the writer.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from dumper.backup.catalog import Table
from dumper.backup.dsn import ConnParams
from dumper.backup.gzipio import Sink
from dumper.backup.interrupt import interrupt_on_cancel
from dumper.backup.rows import TableData, has_data, int_key, key_bounds
from dumper.backup.session import Session, close_quietly, open_dump_connection, server_error_text
from dumper.errors import Cancelled, DumperError
from dumper.log import get_logger

log = get_logger("dump")

LOCK_WAIT_SECONDS = 5  # how long the global read lock may wait for running statements
UNIT_BYTES = 1 << 20  # estimated SQL of one unit of an integer-keyed table
MAX_UNITS_PER_TABLE = 4096
BUFFER_BYTES = 2 << 20  # what one unit may hold before its worker waits for the writer
WAIT_SECONDS = 0.2
ACCESS_DENIED = frozenset(
    {1044, 1045, 1227}
)  # the writer's poll of the job's cancel while it waits for a unit


def start_snapshot(
    params: ConnParams,
    main: Session,
    workers: int,
    concat_max: int,
    connect: Callable[..., Any],
) -> tuple[list[Any], str, str | None]:
    """Open `workers` connections and start every snapshot under a brief global read lock.

    Returns (worker connections, the snapshot note, why the dump fell back to one connection or
    None). Without the lock (no RELOAD privilege, or statements that keep it waiting longer than
    LOCK_WAIT_SECONDS) the dump goes on with the main connection alone.
    """
    import pymysql

    conns: list[Any] = []
    try:
        for _ in range(workers):
            conns.append(open_dump_connection(params, connect))
    except DumperError as exc:
        for conn in conns:
            close_quietly(conn)
        return [], main.start_snapshot(concat_max), _fallback(f"a connection failed: {exc}")
    row = main.one("SELECT @@SESSION.lock_wait_timeout")
    assert row is not None
    previous = int(row[0])
    try:
        main.query(f"SET SESSION lock_wait_timeout = {LOCK_WAIT_SECONDS}")
        main.query("FLUSH TABLES WITH READ LOCK")
    except pymysql.MySQLError as exc:
        for conn in conns:
            close_quietly(conn)
        main.query(f"SET SESSION lock_wait_timeout = {previous}")
        if exc.args and exc.args[0] in ACCESS_DENIED:
            reason = (
                f"the brief global read lock needs the RELOAD privilege: {server_error_text(exc)}"
            )
        else:
            reason = f"no global read lock within {LOCK_WAIT_SECONDS} s: {server_error_text(exc)}"
        return [], main.start_snapshot(concat_max), _fallback(reason)
    try:
        note = main.start_snapshot(concat_max)
        for conn in conns:
            Session(conn, main.sink, None).start_snapshot(concat_max)
    except BaseException:
        for conn in conns:
            close_quietly(conn)
        raise
    finally:
        # a global read lock is not a table lock: releasing it keeps the transactions open
        main.query("UNLOCK TABLES")
        main.query(f"SET SESSION lock_wait_timeout = {previous}")
    log.info("parallel dump: %d connections share one snapshot", workers)
    return conns, note, None


def _fallback(reason: str) -> str:
    note = f"dumped over one connection instead of several: {reason}"
    log.info("%s", note)  # the caller shows it with the dump's other warnings
    return note


@dataclass(eq=False)
class _Unit:
    """One worker's share of a table: what it wrote, waiting for the writer (a sink)."""

    table: Table
    bounds: tuple[int, int] | None
    cond: threading.Condition
    abort: threading.Event
    items: deque[tuple[bool, bytes]] = field(default_factory=deque)  # (written?, bytes)
    size: int = 0
    rows: int = 0
    done: bool = False
    bytes_written: int = 0  # a sink's attribute; progress is the writer's

    def write(self, data: bytes) -> None:
        self._put(True, data)

    def digest(self, data: bytes) -> None:
        self._put(False, data)

    def _put(self, written: bool, data: bytes) -> None:
        with self.cond:
            while self.size >= BUFFER_BYTES and not self.abort.is_set():
                self.cond.wait()
            if self.abort.is_set():
                raise Cancelled("dump cancelled")
            self.items.append((written, data))
            if written:
                self.size += len(data)
            self.cond.notify_all()


class ParallelData:
    """The table data of a dump, filled by worker connections and written in order."""

    def __init__(
        self,
        params: ConnParams,
        conns: list[Any],
        data: TableData,
        cancel: threading.Event | None,
        report: Callable[[], None],
    ) -> None:
        self.params = params
        self.conns = conns
        self.data = data  # the writer's: counts, digests, the sink
        self.cancel = cancel
        self.report = report
        self.cond = threading.Condition()
        self.abort = threading.Event()  # ends every worker: a failure, a cancel, the end
        self.units: list[_Unit] = []
        self.by_table: dict[str, list[_Unit]] = {}
        self.head = 0  # the unit the writer is at
        self.next = 0  # the next unit a worker takes
        self.window = len(conns) + 2
        self.error: BaseException | None = None
        self.threads: list[threading.Thread] = []

    def plan(self, session: Session, tables: list[Table]) -> None:
        """Cut the tables into units, in file order (key bounds read in the snapshot)."""
        for table in tables:
            units: list[_Unit] = []
            if has_data(table):
                for bounds in _ranges(session, table):
                    units.append(_Unit(table, bounds, self.cond, self.abort))
            self.by_table[table.name] = units
            self.units.extend(units)

    def start(self) -> None:
        for n, conn in enumerate(self.conns):
            thread = threading.Thread(
                target=self._work, args=(conn,), name=f"dumper-parallel-{n}", daemon=True
            )
            thread.start()
            self.threads.append(thread)

    def dump(self, table: Table) -> None:
        """Write the rows of `table` from its units, in order, as TableData.dump would."""
        data = self.data
        data.begin(table)
        if data.preamble(table):
            for unit in self.by_table[table.name]:
                self._drain(unit)
                data.count(table, unit.rows)
                with self.cond:
                    self.head += 1
                    self.cond.notify_all()
        data.end(table)

    def close(self) -> None:
        """Stop the workers (if still running) and end their connections' transactions."""
        self.abort.set()
        with self.cond:
            self.cond.notify_all()
        for thread in self.threads:
            thread.join()
        for conn in self.conns:
            close_quietly(conn)

    def _drain(self, unit: _Unit) -> None:
        write, digest = self.data.sink.write, self.data.digest
        while True:
            with self.cond:
                while not unit.items and not unit.done and self.error is None:
                    if self.cancel is not None and self.cancel.is_set():
                        raise Cancelled("dump cancelled")
                    self.cond.wait(WAIT_SECONDS)
                if self.error is not None:
                    raise self.error
                items, unit.items, unit.size, done = unit.items, deque(), 0, unit.done
                self.cond.notify_all()
            for written, chunk in items:
                if written:
                    write(chunk)
                else:
                    digest(chunk)
            self.report()
            if done:
                return

    def _take(self) -> _Unit | None:
        with self.cond:
            while self.next < len(self.units) and self.next >= self.head + self.window:
                if self.abort.is_set():
                    return None
                self.cond.wait()
            if self.abort.is_set() or self.next >= len(self.units):
                return None
            unit = self.units[self.next]
            self.next += 1
            return unit

    def _work(self, conn: Any) -> None:
        try:
            with interrupt_on_cancel(self.params, conn, self.abort):
                while (unit := self._take()) is not None:
                    session = Session(conn, cast(Sink, unit), self.abort)
                    rows = TableData(
                        session,
                        *self.data.wanted,
                        lambda: None,
                        digest_to=unit.digest,
                    )
                    rows.fit_packet(self.data.max_packet)
                    with session.guard(f"dumping table {unit.table.name}"):
                        rows.body(unit.table, unit.bounds)
                    with self.cond:
                        unit.rows, unit.done = rows.rows, True
                        self.cond.notify_all()
        except BaseException as exc:
            with self.cond:
                # the first failure counts; the others' Cancelled is only its echo
                if self.error is None and not (isinstance(exc, Cancelled) and self.abort.is_set()):
                    self.error = exc
                self.abort.set()
                self.cond.notify_all()


def _ranges(session: Session, table: Table) -> list[tuple[int, int] | None]:
    """The units of a table: integer-key ranges of about UNIT_BYTES, or the whole table."""
    key = int_key(table)
    if key is None:
        return [None]
    bounds = key_bounds(session.one, table, key)
    if bounds is None:
        return []
    lo, hi = bounds
    span = hi - lo + 1
    width = max(1, UNIT_BYTES // (2 * table.avg_row_length + 32))  # hex doubles binary data
    width = max(width, math.ceil(span / MAX_UNITS_PER_TABLE))
    return [(start, min(hi, start + width - 1)) for start in range(lo, hi + 1, width)]
