"""Backup files over time: every successful backup's file re-hashed against its recorded sha256,
one file at a time and throttled, every FILE_CHECK_INTERVAL_HOURS or by hand. Each backup gets
a state (ok, corrupt, missing); a newly found problem is one file_corrupt or file_missing event.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast

from dumper.clock import Clock
from dumper.errors import Conflict
from dumper.folder import BackupFolder
from dumper.log import get_logger
from dumper.notify.events import Event, OnEvent, RunInfo
from dumper.store import SUCCESS, Store, from_db_time, to_db_time

log = get_logger("filecheck")

OK, CORRUPT, MISSING = "ok", "corrupt", "missing"
FileState = Literal["ok", "corrupt", "missing"]
_EVENT = {CORRUPT: "file_corrupt", MISSING: "file_missing"}
CHUNK = 1 << 20  # bytes read at a time: memory stays flat whatever the file's size
# pause after each chunk this many times as long as reading and hashing it took: the check
# takes at most half a core and leaves the disk to the jobs in between
DUTY_PAUSE = 1.0
# deleting a backup removes its file just before its row: a row still there after this long
# has really lost its file
MISSING_CONFIRM_SECONDS = 1.0
NICE = 19  # the check's own thread: the lowest CPU (and, derived, disk) priority


@dataclass(frozen=True)
class FileStateView:
    state: FileState
    checked_at: datetime
    notes: str  # what differed, or why the file could not be read


@dataclass(frozen=True)
class FileCheckView:
    interval_hours: int  # FILE_CHECK_INTERVAL_HOURS; 0: only by hand
    running: bool
    last_started_at: datetime | None
    last_finished_at: datetime | None
    next_run_at: datetime | None  # null when the periodic check is off
    checked: int  # files the last finished run hashed
    corrupt: int  # backups whose file is flagged corrupt now
    missing: int  # backups whose file is flagged missing now


@dataclass(frozen=True)
class _Candidate:
    id: int
    target_id: int
    target_name: str
    file_path: str
    sha256: str


class _Stopped(Exception):
    """The service stops: the file being hashed is left unjudged."""


def state_view(store: Store, backup_id: int) -> FileStateView | None:
    """A backup's file state from the last check that reached it, or None."""
    row = store.query_one(
        "SELECT state, checked_at, notes FROM backup_files WHERE backup_id=?", (backup_id,)
    )
    if row is None:
        return None
    return FileStateView(cast(FileState, row[0]), from_db_time(row[1]), row[2])


class FileCheck:
    """`tick()` starts a due check (the scheduler calls it), `start()` one by hand; never two."""

    def __init__(
        self,
        store: Store,
        folder: BackupFolder,
        clock: Clock,
        emit: OnEvent,
        *,
        interval_hours: int,
        chunk: int = CHUNK,
        pause: float = DUTY_PAUSE,
        missing_confirm: float = MISSING_CONFIRM_SECONDS,
    ) -> None:
        self.store = store
        self.folder = folder
        self.clock = clock
        self.emit = emit
        self.interval_hours = interval_hours
        self.chunk = chunk
        self.pause = pause
        self.missing_confirm = missing_confirm
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- starting ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        with self._lock:
            return self._thread is not None and self._thread.is_alive()

    def next_run_at(self) -> datetime | None:
        """When the periodic check is due: its interval after the last start (or after the
        service first saw this setting), None when it is off."""
        if self.interval_hours <= 0:
            return None
        row = self._row()
        if row is None:
            return None  # the first tick records the anchor
        base = row["last_started_at"] or row["first_seen_at"]
        return from_db_time(base) + timedelta(hours=self.interval_hours)

    def tick(self, now: datetime | None = None) -> bool:
        """Start the periodic check when it is due; True when it started."""
        if self.interval_hours <= 0:
            return False
        now = now or self.clock.now()
        if self._row() is None:
            # persisted, so a service restarted more often than the interval still gets there
            with self.store.transaction() as db:
                db.execute(
                    "INSERT OR IGNORE INTO file_check (id, first_seen_at) VALUES (1, ?)",
                    (to_db_time(now),),
                )
        due = self.next_run_at()
        if due is None or now < due or self.running:
            return False
        try:
            self.start()
        except Conflict:
            return False
        return True

    def start(self) -> FileCheckView:
        """Start a check in the background now; Conflict while one runs."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                raise Conflict("a file check is already running")
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run_logged, name="dumper-file-check", daemon=True
            )
            self._record_start()
            self._thread.start()
        return self.view()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a running check to end (tests, the CLI); True when none runs."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.running

    # -- the check --------------------------------------------------------------------------

    def _run_logged(self) -> None:
        _lower_own_priority()
        try:
            self._run()
        except Exception:
            log.exception("the file check failed")

    def _run(self) -> int:
        checked = 0
        for candidate in self._candidates():
            if self._stop.is_set():
                break
            try:
                verdict = self._judge(candidate)
            except _Stopped:
                break
            if verdict is not None and self._record(candidate, *verdict):
                checked += 1
        if self._stop.is_set():
            log.info("file check stopped after %d file(s)", checked)
            return checked  # last_finished_at stays empty: this run did not finish
        with self.store.transaction() as db:
            db.execute(
                "UPDATE file_check SET last_finished_at=?, checked=? WHERE id=1",
                (to_db_time(self.clock.now()), checked),
            )
        log.info("file check: %d file(s) checked", checked)
        return checked

    def _candidates(self) -> list[_Candidate]:
        # read once at the start: a backup that finishes meanwhile is checked next time, and a
        # running one (its .part) never
        rows = self.store.query(
            "SELECT b.id, b.target_id, COALESCE(t.name, ''), b.file_path, b.sha256"
            " FROM backups b LEFT JOIN targets t ON t.id = b.target_id"
            " WHERE b.status=? AND b.file_path IS NOT NULL AND b.sha256 IS NOT NULL ORDER BY b.id",
            (SUCCESS,),
        )
        return [_Candidate(int(r[0]), int(r[1]), r[2], r[3], r[4]) for r in rows]

    def _judge(self, c: _Candidate) -> tuple[str, str] | None:
        """(state, notes) of one backup's file; None when it cannot be judged (row gone)."""
        path = self.folder.file(c.file_path)
        if path is None:
            return None
        if path.is_dir():  # a backup set: each of its files against the set's manifest
            from dumper.serversets import check_files

            try:
                return check_files(path, self._hash) or (OK, "")
            except OSError as exc:
                return CORRUPT, f"{path.name} cannot be read: {exc.strerror or exc}"
        try:
            digest = self._hash(path)
        except FileNotFoundError:
            if self._stop.wait(self.missing_confirm):
                raise _Stopped from None
            if self.store.get_backup(c.id) is None:
                return None
            return MISSING, f"{path.name} is no longer in {self.folder.path}"
        except OSError as exc:
            return CORRUPT, f"{path.name} cannot be read: {exc.strerror or exc}"
        if digest == c.sha256:
            return OK, ""
        return CORRUPT, (
            f"{path.name} has sha256 {digest[:16]}..., the backup recorded {c.sha256[:16]}...:"
            " the file changed after it was written"
        )

    def _hash(self, path: os.PathLike[str]) -> str:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            _advise(f.fileno(), "POSIX_FADV_SEQUENTIAL")
            while True:
                began = time.monotonic()
                block = f.read(self.chunk)
                if not block:
                    break
                h.update(block)
                busy = time.monotonic() - began
                # real time, not the clock: this paces the disk and the CPU
                if self._stop.wait(busy * self.pause):
                    raise _Stopped
            # a weekly read of every file should not push the jobs' data out of the page cache
            _advise(f.fileno(), "POSIX_FADV_DONTNEED")
        return h.hexdigest()

    def _record(self, c: _Candidate, state: str, notes: str) -> bool:
        """Store the state; one event when a problem is new. False when the row is gone."""
        before = state_view(self.store, c.id)
        now = self.clock.now()
        with self.store.transaction() as db:
            cur = db.execute(
                "INSERT INTO backup_files (backup_id, state, checked_at, notes)"
                " SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM backups WHERE id=?)"
                " ON CONFLICT(backup_id) DO UPDATE SET state=excluded.state,"
                " checked_at=excluded.checked_at, notes=excluded.notes",
                (c.id, state, to_db_time(now), notes, c.id),
            )
        if cur.rowcount == 0:
            return False
        if state != OK and (before is None or before.state != state):
            log.warning("backup %d of %s: %s", c.id, c.target_name, notes)
            self.emit(
                Event(
                    name=_EVENT[state],
                    at=now,
                    target_id=c.target_id,
                    target_name=c.target_name,
                    reason=notes,
                    backup=RunInfo(c.id, SUCCESS, notes),
                )
            )
        elif state == OK and before is not None and before.state != OK:
            log.info("backup %d of %s: its file is whole again", c.id, c.target_name)
        return True

    # -- state ------------------------------------------------------------------------------

    def view(self) -> FileCheckView:
        row = self._row()
        counts = self.counts()

        def stamp(key: str) -> datetime | None:
            return from_db_time(row[key]) if row is not None and row[key] else None

        return FileCheckView(
            interval_hours=self.interval_hours,
            running=self.running,
            last_started_at=stamp("last_started_at"),
            last_finished_at=stamp("last_finished_at"),
            next_run_at=self.next_run_at(),
            checked=int(row["checked"]) if row is not None else 0,
            corrupt=counts[CORRUPT],
            missing=counts[MISSING],
        )

    def counts(self) -> dict[str, int]:
        """Successful backups per file state now (a deleted backup drops out with its row)."""
        rows = self.store.query(
            "SELECT f.state, COUNT(*) FROM backup_files f JOIN backups b ON b.id = f.backup_id"
            " WHERE b.status=? GROUP BY f.state",
            (SUCCESS,),
        )
        found = {str(r[0]): int(r[1]) for r in rows}
        return {s: found.get(s, 0) for s in (OK, CORRUPT, MISSING)}

    def metrics(self) -> dict[str, int]:
        """The /metrics gauges."""
        counts = self.counts()
        return {
            "backup_files_corrupt": counts[CORRUPT],
            "backup_files_missing": counts[MISSING],
        }

    def _row(self) -> sqlite3.Row | None:
        return self.store.query_one("SELECT * FROM file_check WHERE id=1")

    def _record_start(self) -> None:
        now = to_db_time(self.clock.now())
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO file_check (id, first_seen_at, last_started_at) VALUES (1, ?, ?)"
                " ON CONFLICT(id) DO UPDATE SET last_started_at=excluded.last_started_at,"
                " last_finished_at=NULL",
                (now, now),
            )


def _lower_own_priority() -> None:
    """Nice 19 for the calling thread only: on Linux the nice value is per thread (os.nice would
    slow the whole service), and the CFQ and BFQ disk schedulers derive a thread's I/O priority
    from it. Elsewhere, or when refused, the pauses between chunks still keep the check light."""
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)


def _advise(fd: int, advice: str) -> None:
    if hasattr(os, "posix_fadvise") and hasattr(os, advice):
        with contextlib.suppress(OSError):
            os.posix_fadvise(fd, 0, 0, getattr(os, advice))
