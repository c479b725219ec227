"""JobRunner: backups and restores in a bounded pool of worker threads, one job per target.

Rows are written before a job starts and finished by the worker, so the store always says what
happened; `recover()` at start fails what a dead process left running.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from dumper import serversets, verification
from dumper.backup.dsn import ConnParams
from dumper.backup.probe import count_base_tables
from dumper.clock import Clock
from dumper.engine import Engine
from dumper.errors import (
    Cancelled,
    Conflict,
    DecryptionError,
    InvalidInput,
    NotFound,
)
from dumper.folder import BackupFolder, UnknownFile
from dumper.log import get_logger
from dumper.notify.events import OnEvent, job_event
from dumper.store import FAILED, SUCCESS, Backup, Restore, Store, Target
from dumper.targets import PASSWORD_UNREADABLE, SERVER_DBNAME, TargetService
from dumper.work import USER_CANCEL, Work, ended

if TYPE_CHECKING:
    from dumper.backup.agefile import Identity, Recipient
    from dumper.backup.dump import DumpProgress
    from dumper.backup.restore import RestoreOptions, RestoreProgress
    from dumper.restores import Destination

log = get_logger("jobs")

JobKind = Literal["backup", "restore", "verify"]  # a verify job's id is its backup's
DatabaseKey = tuple[str, int, str]  # (host lower-cased, port, database): one job at a time
INTERRUPTED = "interrupted by a restart"
SHUTDOWN = "stopped: the service shut down before the job finished"
INTERRUPTED_CODE = "interrupted"  # error_code of a job a restart or shutdown cut off
SHUTDOWN_GRACE = 5.0  # seconds cancelled jobs get to end before shutdown records them failed


@dataclass
class Job:
    """A queued or running job; `progress` is the engine's latest report (a copy)."""

    kind: JobKind
    id: int
    target_id: int
    target_name: str
    started_at: datetime
    file_name: str | None = None  # backups: the file being written
    backup_id: int | None = None  # restores: the backup being restored
    progress: DumpProgress | RestoreProgress | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    cancel_reason: str = "cancelled"
    done: threading.Event = field(default_factory=threading.Event)
    database: DatabaseKey | None = None  # the database the job reads or writes
    params: ConnParams | None = None  # where to connect, decrypted once when the job was started
    path: Path | None = None  # restores: the file to restore
    options: RestoreOptions | None = None  # restores: tables, clean, definer...
    # encrypted backups: what a backup is encrypted to; what opens the file for a restore or a
    # verification (given for that one job, kept in memory only)
    encrypt_to: list[Recipient] = field(default_factory=list, repr=False)
    identities: list[Identity] | None = field(default=None, repr=False)
    # queued -> running -> (finished), or queued -> dropped (cancelled or shut down before a
    # worker took it); cut_off: shutdown gave up waiting, so the worker may record no success
    state: Literal["queued", "running", "dropped"] = "queued"
    cut_off: bool = False

    def report(self, progress: DumpProgress | RestoreProgress) -> None:
        # the engine may reuse one object: keep a snapshot readers can't see half-updated
        self.progress = dataclasses.replace(progress)


@dataclass(frozen=True)
class Recovery:
    """What `recover()` found after a restart."""

    failed_backups: list[int]
    failed_restores: list[int]
    removed_parts: list[str]


def database_key(target: Target) -> DatabaseKey:
    """What two targets share when they name the same database on the same server."""
    return (target.host.lower(), target.port, target.dbname)


class JobRunner:
    """Starts backups and restores; at most `max_parallel` run, the rest wait in order."""

    def __init__(
        self,
        store: Store,
        targets: TargetService,
        clock: Clock,
        folder: BackupFolder,
        max_parallel: int,
        *,
        engine: Engine | None = None,
        count_tables: Callable[[ConnParams], int] = count_base_tables,
        on_event: OnEvent | None = None,
    ) -> None:
        self.store = store
        self._on_event = on_event  # notifications: must return at once (it only queues)
        self.targets = targets
        self.clock = clock
        self.folder = folder
        self.max_parallel = max_parallel
        self._engine = engine
        self._work = Work(store, folder, clock, lambda: self.engine, count_tables, self._emit)
        self._lock = threading.Lock()
        self._by_target: dict[int, Job] = {}
        self._by_database: dict[DatabaseKey, Job] = {}
        self._running = 0  # jobs past the queue, inside a worker
        self._closing = False
        self._pool = ThreadPoolExecutor(max_workers=max_parallel, thread_name_prefix="dumper-job")

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = Engine.default()
        return self._engine

    # -- starting ---------------------------------------------------------------------------

    def start_backup(self, target: Target, *, trigger: str = "manual") -> Backup:
        """Queue a backup of the target; Conflict while another job runs on it or its database.

        A manual backup with an unreadable stored password raises DecryptionError; a scheduled
        one is recorded as failed, so the admin sees why it did not run.
        """
        try:
            params: ConnParams | None = self._params(target)
            encrypt_to = self.targets.age_recipients(target)
        except DecryptionError:
            if trigger == "manual":
                raise
            params, encrypt_to = None, []
        with self._lock:
            self._check_free(target.id, target.name, database_key(target))
            now = self.clock.now()
            taken = {j.file_name for j in self._by_target.values() if j.file_name}
            taken |= self.store.known_file_paths()
            file_name = self.folder.new_name(
                target.name,
                now,
                compress=target.auto_compress,
                taken=taken,
                encrypted=target.encryption != "off",
                folder=serversets.is_server(target),
            )
            row = self.store.insert_backup(target.id, now, file_name, trigger)
            if params is None:
                return self._record_unreadable_password(row, target)
            job = Job("backup", row.id, target.id, target.name, now, file_name=file_name)
            job.params, job.encrypt_to = params, encrypt_to
            self._hold(job, database_key(target))
            self._pool.submit(self._guarded, job, self._work.backup)
        log.info("backup %d of target %s queued (%s): %s", row.id, target.name, trigger, file_name)
        return row

    def start_restore(
        self, backup: Backup, target: Target, dest: Destination | None = None
    ) -> Restore:
        """Queue a restore of a successful backup into `target` (dest: its database, options).

        InvalidInput for a backup that did not succeed, NotFound when its file is gone,
        DecryptionError for an unreadable password, Conflict while a job runs on it.
        """
        path = self._file_of(backup, "restored")
        params, key = self._params(target), database_key(target)
        if dest is not None:  # the lock holds on the database written, not the target's own
            params, key = params.with_database(dest.database), (*key[:2], dest.database)
            path = path / dest.member if dest.member else path  # a set: one database's file
        with self._lock:
            self._check_free(target.id, target.name, key)
            now = self.clock.now()
            row = self.store.insert_restore(backup.id, target.id, now, **(dest.row if dest else {}))
            job = Job("restore", row.id, target.id, target.name, now, backup_id=backup.id)
            job.params, job.path, job.options = params, path, dest.options if dest else None
            job.identities = dest.identities if dest else None
            self._hold(job, key)
            self._pool.submit(self._guarded, job, self._work.restore)
        log.info("restore %d of backup %d into target %s queued", row.id, backup.id, target.name)
        return row

    def start_verify(
        self, backup: Backup, target: Target, identities: list[Identity] | None = None
    ) -> Backup:
        """Queue a test restore of a successful backup on its target's server (a job of the
        target); InvalidInput, NotFound, DecryptionError, Conflict as for a restore."""
        path = self._file_of(backup, "verified")
        params, key = self._params(target), database_key(target)
        with self._lock:
            self._check_free(target.id, target.name, key)
            job = Job("verify", backup.id, target.id, target.name, self.clock.now())
            job.params, job.path, job.backup_id = params, path, backup.id
            job.identities = identities
            self._hold(job, key)
            self._pool.submit(self._guarded, job, self._work.verify)
        log.info("verification of backup %d of target %s queued", backup.id, target.name)
        return backup

    def _file_of(self, backup: Backup, what: str) -> Path:
        if backup.status != SUCCESS:
            raise InvalidInput(
                f"backup {backup.id} is {backup.status}; only a successful backup can be {what}",
                fields={"backup": f"status is {backup.status}"},
            )
        path = self.folder.file(backup.file_path)
        if path is None or not self.folder.has_file(backup.file_path):  # a set: its folder
            raise NotFound(f"the file of backup {backup.id} is gone")
        return path

    def _params(self, target: Target) -> ConnParams:
        return self.targets.conn_params(target)

    def _record_unreadable_password(self, row: Backup, target: Target) -> Backup:
        # under self._lock; no job: there is nothing it could connect with
        self.store.finish_backup(
            row.id,
            status=FAILED,
            finished_at=self.clock.now(),
            duration_seconds=0.0,
            notes=PASSWORD_UNREADABLE,
            error_code=DecryptionError.code,
        )
        log.warning("backup %d of target %s failed: %s", row.id, target.name, PASSWORD_UNREADABLE)
        job = Job("backup", row.id, target.id, target.name, row.started_at)
        self._emit(job, "backup_failed", FAILED, PASSWORD_UNREADABLE)
        return self.store.get_backup(row.id) or row

    def _emit(self, job: Job, name: str, status: str, notes: str = "") -> None:
        """Tell on_event how a job went (it only queues: a receiver never holds up a job)."""
        if self._on_event is not None:
            self._on_event(job_event(job, name, status, notes, self.clock.now()))

    @contextlib.contextmanager
    def idle_target(self, target_id: int, name: str) -> Iterator[None]:
        """Hold off new jobs while the caller changes the target; Conflict if one runs."""
        with self._lock:
            self._check_free(target_id, name)
            yield

    def _check_free(self, target_id: int, name: str, database: DatabaseKey | None = None) -> None:
        if self._closing:
            raise Conflict("the service is shutting down")
        busy = self._by_target.get(target_id)
        if busy is not None:
            raise Conflict(f"a {busy.kind} of target {name!r} is already running (id {busy.id})")
        busy = self._busy_on(database) if database is not None else None
        if busy is not None and database is not None:
            host, port, dbname = database
            raise Conflict(
                f"database {dbname!r} on {host}:{port} is busy: {busy.kind} {busy.id} of target "
                f"{busy.target_name!r} is running on it"
            )

    def _busy_on(self, database: DatabaseKey) -> Job | None:
        """The job on this database; a whole server's (`*`) overlaps every database of it."""
        found = self._by_database.get(database)
        if found is None:
            host, port, dbname = database
            found = next(
                (
                    job
                    for (h, p, d), job in self._by_database.items()
                    if (h, p) == (host, port) and SERVER_DBNAME in (d, dbname)
                ),
                None,
            )
        return found

    def _hold(self, job: Job, database: DatabaseKey) -> None:
        # under self._lock
        job.database = database
        self._by_target[job.target_id] = job
        self._by_database[database] = job

    def _release(self, job: Job) -> None:
        # under self._lock
        if self._by_target.get(job.target_id) is job:
            del self._by_target[job.target_id]
        if job.database is not None and self._by_database.get(job.database) is job:
            del self._by_database[job.database]

    # -- reading ----------------------------------------------------------------------------

    def jobs(self) -> list[Job]:
        with self._lock:
            return sorted(self._by_target.values(), key=lambda j: (j.started_at, j.id))

    def job_for_target(self, target_id: int) -> Job | None:
        with self._lock:
            return self._by_target.get(target_id)

    def running_since(self, target_id: int) -> datetime | None:
        """When the target's current job started (None: none runs)."""
        job = self.job_for_target(target_id)
        return job.started_at if job is not None else None

    def find(self, kind: JobKind, job_id: int) -> Job | None:
        with self._lock:
            return next(
                (j for j in self._by_target.values() if j.kind == kind and j.id == job_id), None
            )

    @property
    def running_count(self) -> int:
        """Jobs inside a worker now (queued ones not counted)."""
        with self._lock:
            return self._running

    def wait(self, kind: JobKind, job_id: int, timeout: float | None = None) -> bool:
        """Wait for a job to finish; True when it is not running any more."""
        job = self.find(kind, job_id)
        return True if job is None else job.done.wait(timeout)

    def cancel(self, kind: JobKind, job_id: int) -> bool:
        """Ask a job to stop; False when no such job runs."""
        with self._lock:
            job = next(
                (j for j in self._by_target.values() if j.kind == kind and j.id == job_id), None
            )
            if job is None:
                return False
            job.cancel_reason = USER_CANCEL
            job.cancel.set()
            dropped = job.state == "queued"
            if dropped:  # no worker has it: end it here instead of when a slot frees
                job.state = "dropped"
                self._release(job)
        log.info("%s %d of target %s: cancel requested", kind, job_id, job.target_name)
        if dropped:
            self._finish_dropped(job)
        return True

    def _finish_dropped(self, job: Job) -> None:
        """Record a job that ended before a worker took it."""
        if job.kind == "restore":
            self._work.finish_cancelled_restore(job, None, time.monotonic())
        elif job.kind == "verify":
            notes = f"{job.cancel_reason} before it began"
            verification.fail(self.store, self.clock, job.id, notes)
        else:
            self.store.finish_backup(
                job.id,
                status=ended(job),
                finished_at=self.clock.now(),
                duration_seconds=0.0,
                notes=job.cancel_reason,
                error_code=Cancelled.code,
            )
            log.warning("backup %d of target %s: %s", job.id, job.target_name, job.cancel_reason)
        job.done.set()

    # -- workers ----------------------------------------------------------------------------

    def _guarded(self, job: Job, work: Callable[[Job], None]) -> None:
        with self._lock:
            if job.state == "dropped":  # cancelled while queued: already recorded
                return
            job.state = "running"
            self._running += 1
        try:
            work(job)
        except Exception:
            # the worker records its own failures; this is the last line against a lost row
            log.exception("%s %d crashed", job.kind, job.id)
            self._fail_row(job, "internal error (see the log)", "internal")
        finally:
            with self._lock:
                self._running -= 1
                self._release(job)
            job.done.set()

    def _fail_row(self, job: Job, notes: str, code: str) -> None:
        now = self.clock.now()
        if job.kind == "verify":  # the backup itself has succeeded and stays so
            verification.fail(self.store, self.clock, job.id, notes)
        elif job.kind == "backup":
            self.store.finish_backup(
                job.id,
                status=FAILED,
                finished_at=now,
                duration_seconds=None,
                notes=notes,
                error_code=code,
            )
        else:
            self.store.finish_restore(
                job.id,
                status=FAILED,
                finished_at=now,
                duration_seconds=None,
                statements=None,
                notes=notes,
            )

    # -- start and stop ---------------------------------------------------------------------

    def recover(self) -> Recovery:
        """At start: fail rows a dead process left running and remove their .part files."""
        backups, restores = self.store.fail_running(INTERRUPTED, self.clock.now())
        removed = [n for n in (self.folder.remove_part(b.file_path) for b in backups) if n]
        for backup in backups:
            log.warning("backup %d was interrupted by a restart; marked failed", backup.id)
        for restore in restores:
            log.warning(
                "restore %d was interrupted by a restart; the database may be partly restored",
                restore.id,
            )
        if removed:
            log.info("removed partial files: %s", ", ".join(removed))
        verification.recover(self.store, self.clock, self._verify_params)
        return Recovery([b.id for b in backups], [r.id for r in restores], removed)

    def _verify_params(self, backup_id: int) -> ConnParams | None:
        """The server a verification of the backup ran on (None: target or password gone)."""
        backup = self.store.get_backup(backup_id)
        target = self.store.get_target(backup.target_id) if backup else None
        try:
            return self._params(target) if target else None
        except DecryptionError:
            return None

    def unknown_files(self) -> list[UnknownFile]:
        """Files in BACKUP_DIR that no backup row knows and no job writes (never deleted)."""
        with self._lock:
            writing = [j.file_name for j in self._by_target.values() if j.file_name]
        return self.folder.unknown_files(
            self.store.known_file_paths(), writing, self.clock.now().tzinfo or UTC
        )

    def shutdown(self, timeout: float = 30) -> None:
        """Refuse new jobs, give running ones `timeout` seconds, then cancel and fail the rest."""
        with self._lock:
            self._closing = True
        deadline = time.monotonic() + timeout
        for job in self.jobs():
            job.done.wait(max(0.0, deadline - time.monotonic()))
        with self._lock:
            left = [j for j in self._by_target.values() if not j.done.is_set()]
            for job in left:
                job.cancel_reason = SHUTDOWN
                job.cancel.set()
                if job.state == "queued":
                    job.state = "dropped"
        self._pool.shutdown(wait=False, cancel_futures=True)
        grace = time.monotonic() + SHUTDOWN_GRACE
        for job in left:
            if job.state != "dropped":
                job.done.wait(max(0.0, grace - time.monotonic()))
        for job in left:
            if job.done.is_set():
                continue
            # queued jobs never ran, and a stuck one may still be inside the engine
            job.cut_off = True
            self._fail_row(job, SHUTDOWN, INTERRUPTED_CODE)
            if job.file_name:  # a half-written file must not outlive the process
                self.folder.remove_part(job.file_name)
            with self._lock:
                self._release(job)
            job.done.set()
