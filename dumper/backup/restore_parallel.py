"""A restore of dumper's own file over several connections (RestoreOptions.parallel_connections).

One producer still reads and splits the file, and the calling thread routes its statements in
file order, after the scope (restore.py) decided what runs:
- a table's statements (DROP/CREATE/ALTER TABLE, LOCK TABLES, INSERT...) go to the worker
  connection the table was given at its first statement (the least loaded then), so they keep
  their order. The plain INSERTs of a table whose CREATE TABLE has a PRIMARY KEY may go to any
  worker once that CREATE TABLE ran (rows land where their key says, whatever order they come
  in, as myloader loads a table's chunks); the table's next other statement waits for them all;
- a SET (the header's session settings, system_versioning_insert_history...) runs on every
  connection, in order with that connection's statements;
- anything else (views, routines, triggers, events, PREPARE...) is a barrier: every worker
  finishes what it was given, then the main connection runs it.
Memory stays flat: a worker's queue holds at most QUEUE_BYTES. The first failure anywhere stops
all workers and is raised as it is (its statement number and line are the file's).
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dumper.backup.dsn import ConnParams
from dumper.backup.interrupt import interrupt_on_cancel
from dumper.backup.restore import RestoreProgress, _Executor, _Producer
from dumper.backup.scope import classify
from dumper.backup.session import close_quietly, open_restore_connection, shut_down
from dumper.backup.sqlsplit import Statement
from dumper.errors import Cancelled
from dumper.log import get_logger

log = get_logger("restore")

QUEUE_BYTES = 1 << 20  # statements one worker may have waiting (RSS: 64 MB in bench.py)
JOIN_SECONDS = 3.0  # a stopped worker's statement may take this long before its socket is shut
WAIT_SECONDS = 0.1  # polls of the cancel while the router waits for a worker

_SET = re.compile(rb"(?i)\s*(?:/\*M?!\d*\s*)?SET\s")
_PLAIN_INSERT = re.compile(rb"(?i)\s*INSERT\s+INTO\s")
# SHOW CREATE TABLE writes a primary key on a line of its own; a comment or a default that says
# "primary key" must not make a keyless table's rows load out of order
_PRIMARY = re.compile(rb"(?im)^\s*PRIMARY\s+KEY\s*\(")


@dataclass
class _Item:
    number: int  # the statement's number in the file; a sync's own number
    stmt: Statement | None  # None: a sync (flush the batch, then say so)
    counted: bool = True  # False: a SET the main connection counts

    @property
    def size(self) -> int:
        return len(self.stmt.sql) if self.stmt is not None else 0


class _Cancel(Exception):
    """The router saw the cancel; ParallelRestore.run raises Cancelled once all stopped."""


class _Worker(threading.Thread):
    def __init__(self, index: int, conn: Any, executor: _Executor, owner: ParallelRestore) -> None:
        super().__init__(name=f"restore-worker-{index}", daemon=True)
        self.conn = conn
        self.executor = executor
        self.owner = owner
        self.items: deque[_Item] = deque()
        self.size = 0  # bytes in items
        self.synced = 0  # the number of the last sync done

    def run(self) -> None:
        cond = self.owner.cond
        try:
            while True:
                with cond:
                    while not self.items and not self.owner.stopped:
                        cond.wait()
                    if self.owner.stopped:
                        return
                    item = self.items.popleft()
                    self.size -= item.size
                    cond.notify_all()
                if item.stmt is None:
                    self.executor.flush()
                    with cond:
                        self.synced = item.number
                        cond.notify_all()
                elif item.counted:
                    self.executor.add(item.number, item.stmt)
                else:
                    self.executor.flush()
                    executed = self.executor.executed
                    try:
                        self.executor.add(item.number, item.stmt)
                    finally:
                        self.executor.executed = executed
        except BaseException as exc:  # the router raises it
            with cond:
                if self.owner.error is None:
                    self.owner.error = exc
                self.owner.stopped = True
                cond.notify_all()


class ParallelRestore:
    """Worker connections beside the restore's main one (`main`, which runs the barriers)."""

    def __init__(
        self, params: ConnParams, connect: Callable[..., Any], main: _Executor, count: int
    ) -> None:
        self.params = params
        self.connect = connect
        self.main = main
        self.count = count
        self.cond = threading.Condition()
        self.stopped = False
        self.error: BaseException | None = None
        self.cancel: threading.Event | None = None
        self.workers: list[_Worker] = []
        self.home: dict[str, _Worker] = {}  # table -> the worker of its statements
        self.keyed: set[str] = set()  # tables created with a PRIMARY KEY
        self.ready: set[str] = set()  # keyed tables whose statements so far ran
        self.spread: set[str] = set()  # tables with INSERTs given to other workers than home
        self.syncs = 0

    def run(
        self,
        producer: _Producer,
        size: int,
        progress: Callable[[RestoreProgress], None] | None,
        cancel: threading.Event | None,
    ) -> None:
        """Executes what `producer` splits; the workers' counts end up in `main`'s."""
        self.cancel = cancel
        try:
            with contextlib.ExitStack() as stack:
                stack.callback(self._close)
                for i in range(self.count):
                    conn = open_restore_connection(self.params, self.connect)
                    stack.callback(close_quietly, conn)
                    executor = _Executor(conn, self.main.scope, self.main.batch_limit * 2)
                    self.workers.append(_Worker(i, conn, executor, self))
                for worker in self.workers:
                    stack.enter_context(
                        interrupt_on_cancel(self.params, worker.conn, cancel, connect=self.connect)
                    )
                stack.callback(self._stop)  # before the interrupts and connections end
                for worker in self.workers:
                    worker.start()
                log.info("parallel restore: %d connections load the data", self.count)
                self._route_all(producer, size, progress)
        except _Cancel:
            done = self.main.executed
            raise Cancelled(f"restore cancelled after {done} statements", statements=done) from None

    def _route_all(
        self,
        producer: _Producer,
        size: int,
        progress: Callable[[RestoreProgress], None] | None,
    ) -> None:
        while True:
            item = producer.queue.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                self._finish()
                raise item
            for stmt in item.statements:
                self._check()
                scoped = self.main.scoped(stmt)
                if scoped is not None:
                    self._route(self.main.numbered, scoped)
            if progress is not None:
                progress(RestoreProgress(item.bytes_read, size, self._executed()))
        self._finish()

    def _route(self, number: int, stmt: Statement) -> None:
        kind = classify(stmt.sql)
        if kind.kind == "table" and kind.name is not None:
            self._route_table(kind.name, kind.verb, number, stmt)
        elif kind.kind == "other" and _SET.match(stmt.sql):
            for worker in self.workers:
                self._put(worker, _Item(number, stmt, counted=False))
            self.main.add(number, stmt)
        else:
            self._sync(self.workers)
            self.main.add(number, stmt)

    def _route_table(self, name: str, verb: str, number: int, stmt: Statement) -> None:
        home = self.home.get(name)
        if home is None:
            home = self.home[name] = min(self.workers, key=lambda w: w.size)
        if name in self.keyed and _PLAIN_INSERT.match(stmt.sql):
            if name not in self.ready:  # its CREATE TABLE (and all before) ran
                self._sync([home])
                self.ready.add(name)
            worker = min(self.workers, key=lambda w: w.size)
            if worker is not home:
                self.spread.add(name)
            self._put(worker, _Item(number, stmt))
            return
        if name in self.spread:  # its INSERTs on other workers come first
            self._sync(self.workers)
            self.spread.discard(name)
        self.ready.discard(name)
        if verb == "create":
            if _PRIMARY.search(stmt.sql):
                self.keyed.add(name)
            else:
                self.keyed.discard(name)
        elif verb == "drop":
            self.keyed.discard(name)
        self._put(home, _Item(number, stmt))

    def _put(self, worker: _Worker, item: _Item) -> None:
        with self.cond:
            while True:
                self._check()
                if worker.size < QUEUE_BYTES:
                    break
                self.cond.wait(WAIT_SECONDS)
            worker.items.append(item)
            worker.size += item.size
            self.cond.notify_all()

    def _sync(self, workers: list[_Worker]) -> None:
        """Waits until `workers` executed everything given to them."""
        self.syncs += 1
        for worker in workers:
            self._put(worker, _Item(self.syncs, None))
        with self.cond:
            while any(w.synced < self.syncs for w in workers):
                self._check()
                self.cond.wait(WAIT_SECONDS)

    def _finish(self) -> None:
        self._sync(self.workers)
        self.main.flush()

    def _check(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise _Cancel
        if self.error is not None:
            raise self.error

    def _executed(self) -> int:
        return self.main.executed + sum(w.executor.executed for w in self.workers)

    def _stop(self) -> None:
        """Ends every worker thread: a statement still running after JOIN_SECONDS has its
        connection shut down."""
        with self.cond:
            self.stopped = True
            self.cond.notify_all()
        for worker in self.workers:
            if worker.is_alive():
                worker.join(JOIN_SECONDS)
            if worker.is_alive():
                shut_down(getattr(worker.conn, "_sock", None))
                worker.join(JOIN_SECONDS)

    def _close(self) -> None:
        """The workers' counts into the main executor's (after the connections closed)."""
        for worker in self.workers:
            self.main.executed += worker.executor.executed
            self.main.rows += worker.executor.rows
        self.workers = []
