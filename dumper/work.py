"""What a job does once a worker thread takes it: the backup (dump, check, record, rotate) and
the restore (run, record), each recording its own outcome and telling on_event.

JobRunner (jobs.py) decides which job may start and when; this module only does the work.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dumper import serversets, verification
from dumper.backup.agefile import Identity, Passphrase, Recipient
from dumper.backup.agestream import check_structure
from dumper.backup.dsn import ConnParams
from dumper.backup.dump import DumpOptions
from dumper.backup.serverset import SetResult
from dumper.clock import Clock
from dumper.engine import Engine
from dumper.errors import BackupCorrupt, Cancelled, DumperError, DumpFailed
from dumper.folder import BackupFolder
from dumper.log import get_logger
from dumper.notify.events import BACKUP_CANCELLED, BACKUP_STARTED, VERIFICATION_FAILED
from dumper.restores import outcome
from dumper.rotation import rotate
from dumper.store import CANCELLED, FAILED, SUCCESS, Status, Store, Target

if TYPE_CHECKING:
    from dumper.backup.dump import DumpResult
    from dumper.backup.restore import RestoreResult
    from dumper.jobs import Job

log = get_logger("jobs")

USER_CANCEL = "cancelled by the user"
Emit = Callable[["Job", str, str, str], None]


def _readers(encrypt_to: list[Recipient]) -> list[Identity] | None:
    """What of a backup's own recipients also opens it: a passphrase (the service keeps it);
    None for a recipient's public key, or no encryption."""
    found: list[Identity] = [r for r in encrypt_to if isinstance(r, Passphrase)]
    return found or None


def ended(job: Job) -> Status:
    """How a stopped job ends: cancelled when the user asked, failed when shutdown cut it off."""
    return CANCELLED if job.cancel_reason == USER_CANCEL else FAILED


def _statements_run(exc: Cancelled, job: Job) -> int:
    """Statements a cancelled restore executed: the engine's count, else the last report."""
    # the engine's count is exact; progress reports lag by a chunk
    if exc.statements is not None:
        return exc.statements
    return int(getattr(job.progress, "statements", 0) or 0)


class Work:
    """The work of one job, with what it needs; `engine` is called lazily (tests inject one)."""

    def __init__(
        self,
        store: Store,
        folder: BackupFolder,
        clock: Clock,
        engine: Callable[[], Engine],
        count_tables: Callable[[ConnParams], int],
        emit: Emit,
    ) -> None:
        self.store = store
        self.folder = folder
        self.clock = clock
        self._engine = engine
        self._count_tables = count_tables
        self._emit_fn = emit

    @property
    def engine(self) -> Engine:
        return self._engine()

    def _emit(self, job: Job, name: str, status: str, notes: str = "") -> None:
        self._emit_fn(job, name, status, notes)

    def backup(self, job: Job) -> None:
        """Dump, check the file, record the row, rotate; never raises for a job's failure."""
        assert job.file_name is not None
        path = self.folder.path / job.file_name
        began = time.monotonic()
        result: DumpResult | SetResult | None = None
        notes = ""
        code: str | None = None
        log.info("backup %d of target %s started", job.id, job.target_name)
        self._emit(job, BACKUP_STARTED, "running")
        try:
            if job.cancel.is_set():
                raise Cancelled(job.cancel_reason)
            assert job.params is not None
            # the cancel also ends a connection attempt (a port that never answers)
            params = dataclasses.replace(job.params, cancel=job.cancel)
            self.folder.ensure()
            # the name was chosen at queue time; an edit since must not make a .gz of plain SQL
            compress = path.name.endswith((".gz", ".gz.age"))
            target = self.store.get_target(job.target_id)
            if target is not None and serversets.is_server(target):  # a set: one folder
                result = self._dump_set(params, path, target, job)
            else:
                # gzip -> age -> NAME.part: no plaintext byte reaches the disk
                encrypted = {"encrypt_to": job.encrypt_to} if job.encrypt_to else {}
                result = self.engine.dump(
                    params,
                    path,
                    compress=compress,
                    progress=job.report,
                    cancel=job.cancel,
                    mode=self.folder.file_mode,
                    strict=bool(target and target.strict),
                    options=DumpOptions(parallel_connections=target.parallel_connections)
                    if target
                    else None,
                    **encrypted,
                )
                self._check_dump(params, path, result, job)
            if job.cancel.is_set():
                # asked to stop while the file was being checked: a cancel keeps no file
                raise Cancelled(job.cancel_reason)
            if job.cut_off:  # shutdown has recorded the job failed: keep no file either
                raise Cancelled(job.cancel_reason)
        except Cancelled as exc:
            notes, code = job.cancel_reason, exc.code
        except DumperError as exc:
            notes, code = exc.message, exc.code
        except Exception as exc:
            log.exception("backup %d of target %s: unexpected error", job.id, job.target_name)
            notes, code = f"internal error: {type(exc).__name__}: {exc}", "internal"
        duration = round(time.monotonic() - began, 3)
        if notes:
            # nothing that looks like a backup may stay behind a failed job
            self.folder.remove(job.file_name)
            status = ended(job) if code == Cancelled.code else FAILED
            self.store.finish_backup(
                job.id,
                status=status,
                finished_at=self.clock.now(),
                duration_seconds=duration,
                notes=notes,
                error_code=code,
            )
            log.warning("backup %d of target %s failed: %s", job.id, job.target_name, notes)
            self._emit(
                job, BACKUP_CANCELLED if status == CANCELLED else "backup_failed", status, notes
            )
            return
        assert result is not None  # no notes: the dump returned
        size = path.stat().st_size
        if isinstance(result, SetResult):  # its databases are there once it shows success
            size = result.size_bytes
            self.store.set_backup_databases(job.id, serversets.rows(result))
        self.store.finish_backup(
            job.id,
            status=SUCCESS,
            finished_at=self.clock.now(),
            duration_seconds=duration,
            size_bytes=size,
            sha256=result.sha256,
            tables=result.tables,
            rows=result.rows,
        )
        if result.warnings:  # objects the user may not see, a table's history not kept
            self.store.set_backup_warnings(job.id, result.warnings)
            self.store.append_backup_notes(job.id, "; ".join(result.warnings))
        self._emit(job, "backup_succeeded", SUCCESS)
        log.info(
            "backup %d of target %s succeeded: %s, %d bytes, %d tables, %d rows, %.1f s",
            job.id,
            job.target_name,
            job.file_name,
            size,
            result.tables,
            result.rows,
            duration,
        )
        self._rotate_after(job)
        target = self.store.get_target(job.target_id)
        if target is not None and target.verify_after_backup and path.exists():
            # the same job goes on as the backup's verification: nothing runs in between
            job.kind, job.backup_id, job.path = "verify", job.id, path
            job.identities = _readers(job.encrypt_to)
            self.verify(job)

    def verify(self, job: Job) -> None:
        """Test-restore the job's backup into a scratch database and record how it compared;
        the backup's row and file are never changed."""
        assert job.backup_id is not None and job.params is not None and job.path is not None
        if job.cancel.is_set() or job.cut_off:
            verification.fail(self.store, self.clock, job.backup_id, job.cancel_reason)
            return
        log.info("verification of backup %d of target %s started", job.id, job.target_name)
        try:
            done = verification.run(
                self.store,
                self.clock,
                job.backup_id,
                job.path,
                dataclasses.replace(job.params, cancel=job.cancel),
                cancel=job.cancel,
                on_failed=lambda notes: self._emit(job, VERIFICATION_FAILED, FAILED, notes),
                test_restore=self.engine.test_restore,
                identities=job.identities,
                progress=job.report,
            )
        except Cancelled:
            log.warning("verification of backup %d: %s", job.id, job.cancel_reason)
            return
        log.info("verification of backup %d %s: %s", job.id, done.status, done.notes)

    def _dump_set(self, params: ConnParams, path: Path, target: Target, job: Job) -> SetResult:
        """A whole server: every database into the set's folder `path`, each file verified."""
        result = serversets.dump(
            params,
            path,
            target,
            progress=job.report,
            cancel=job.cancel,
            mode=self.folder.file_mode,
            dir_mode=self.folder.dir_mode,
            encrypt_to=job.encrypt_to,
            dump_fn=self.engine.dump,
        )
        serversets.check(path, job.cancel, _readers(job.encrypt_to), bool(job.encrypt_to))
        return result

    def _check_dump(self, params: ConnParams, path: Path, result: DumpResult, job: Job) -> None:
        """Fail a dump that claims success but looks wrong."""
        cancel = job.cancel
        if result.tables == 0:
            try:
                expected = self._count_tables(params)
            except DumperError as exc:
                raise DumpFailed(f"the dump has no tables and the check failed: {exc}") from exc
            if expected > 0:
                raise DumpFailed(f"the dump has no tables but the database has {expected}")
        readers = _readers(job.encrypt_to)
        try:
            if job.encrypt_to and readers is None:
                # encrypted to a recipient: the service cannot read it, only check its structure
                check_structure(path)
                return
            verified = self.engine.verify(
                path, cancel=cancel, **({"identities": readers} if readers else {})
            )
        except BackupCorrupt as exc:
            raise DumpFailed(f"the written file failed verification: {exc.message}") from exc
        manifest = getattr(verified, "table_rows", None)
        if manifest and manifest != result.table_rows:
            raise DumpFailed("the file's manifest does not match what was dumped")

    def _rotate_after(self, job: Job) -> None:
        target = self.store.get_target(job.target_id)
        if target is None:
            return
        try:
            deleted = rotate(target, self.store, self.clock, self.folder)
        except Exception:
            log.exception("rotation of target %s failed", target.name)
            self.store.append_backup_notes(job.id, "rotation failed (see the log)")
            return
        if deleted:
            self.store.append_backup_notes(job.id, "rotation deleted: " + ", ".join(deleted))

    def restore(self, job: Job) -> None:
        """Restore into the job's destination and record the row."""
        assert job.backup_id is not None
        began = time.monotonic()
        notes = ""
        statements: int | None = None
        result: RestoreResult | None = None
        if job.cancel.is_set():
            self.finish_cancelled_restore(job, None, began)
            return
        log.info("restore %d into target %s started", job.id, job.target_name)
        try:
            assert job.params is not None and job.path is not None
            params = dataclasses.replace(job.params, cancel=job.cancel)
            result = self.engine.restore(
                job.path,
                params,
                progress=job.report,
                cancel=job.cancel,
                options=job.options,
                **({"identities": job.identities} if job.identities else {}),
            )
            statements = int(result.statements)
        except Cancelled as exc:
            self.finish_cancelled_restore(job, _statements_run(exc, job), began)
            return
        except DumperError as exc:
            notes = exc.message
        except Exception as exc:
            log.exception("restore %d: unexpected error", job.id)
            notes = f"internal error: {type(exc).__name__}: {exc}"
        progress = job.progress
        if statements is None and progress is not None:
            statements = getattr(progress, "statements", None)
        self.store.finish_restore(
            job.id,
            status=FAILED if notes else SUCCESS,
            finished_at=self.clock.now(),
            duration_seconds=round(time.monotonic() - began, 3),
            statements=statements,
            **outcome(result, notes),
        )
        if notes:
            log.warning("restore %d into target %s failed: %s", job.id, job.target_name, notes)
            self._emit(job, "restore_failed", FAILED, notes)
        else:
            log.info("restore %d into target %s succeeded", job.id, job.target_name)
            self._emit(job, "restore_finished", SUCCESS)

    def finish_cancelled_restore(self, job: Job, statements: int | None, began: float) -> None:
        """Record a cancelled restore (statements None: it never started), saying plainly what
        state the database is left in."""
        reason = job.cancel_reason
        if statements is None:
            notes = f"{reason} before the restore started: the database was not changed"
        elif statements == 0:
            notes = f"{reason} before the first statement: the database was not changed"
        else:
            notes = (
                f"{reason} after {statements} statements: the database is partially restored"
                " (those statements stay applied); restore a complete backup to make it"
                " consistent again"
            )
        self.store.finish_restore(
            job.id,
            status=ended(job),
            finished_at=self.clock.now(),
            duration_seconds=round(time.monotonic() - began, 3),
            statements=statements or 0,
            notes=notes,
        )
        log.warning("restore %d into target %s: %s", job.id, job.target_name, notes)
