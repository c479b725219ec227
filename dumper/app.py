"""The App facade: wires store, crypto, targets, jobs and scheduler, and returns the views
(dataclasses whose fields are exactly the JSON fields of docs/API.md) that HTTP and CLI use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from dumper import __version__, encryption, filecheck, restores, serversets, verification
from dumper.backup.dsn import connect
from dumper.clock import Clock, SystemClock
from dumper.config import Config
from dumper.crypto import Cipher
from dumper.engine import Engine
from dumper.errors import (
    Conflict,
    InvalidInput,
    NotFound,
)
from dumper.filecheck import FileCheck
from dumper.folder import BackupFolder
from dumper.jobs import JobKind, JobRunner
from dumper.log import get_logger
from dumper.notify.queue import Notifier
from dumper.notify.service import ChannelService
from dumper.notify.watch import Watch
from dumper.rotation import RetentionPreview, Rules, preview
from dumper.scheduler import Scheduler, missed_slot, next_run_at, schedule_of
from dumper.store import CANCELLED, FAILED, RUNNING, SUCCESS, Backup, Restore, Store, Target
from dumper.targets import (
    CONNECTION_FIELDS,
    TargetService,
    retention_rules,
    validate_target,
)
from dumper.tokens import TokenService
from dumper.uploads import Uploads
from dumper.views import (
    BackupContentsView,
    BackupProgressView,
    BackupView,
    ConfigView,
    ConnectionReport,
    JobRef,
    JobsSummary,
    JobView,
    MetricsView,
    RestoreView,
    SchedulerView,
    SettingsView,
    TargetMetrics,
    TargetView,
    contents_view,
    encryption_of,
    last_verification_view,
    progress_view,
    restore_view,
    verification_view,
)

log = get_logger("app")
_Run = TypeVar("_Run", BackupView, RestoreView)


# -- the facade -----------------------------------------------------------------------------


class App:
    """Everything the HTTP layer and the CLI may do; see docs/ARCHITECTURE.md."""

    def __init__(
        self,
        config: Config,
        store: Store,
        targets: TargetService,
        runner: JobRunner,
        scheduler: Scheduler,
        clock: Clock,
        *,
        channels: ChannelService,
        notifier: Notifier,
        watch: Watch,
        file_check: FileCheck,
        connect_fn: Callable[..., Any] = connect,
    ) -> None:
        self.config = config
        self.channels = channels  # notification channels and the delivery log
        self.notifier = notifier  # the delivery queue (started by start())
        self.watch = watch  # stale targets, disk space, passwords: after every scheduler tick
        self.file_check = file_check  # backup files re-hashed over time (and by hand)
        self.store = store
        self.targets = targets
        self.runner = runner
        self.folder = runner.folder
        self.scheduler = scheduler
        self.clock = clock
        self.tokens = TokenService(store, clock)
        self.keys = encryption.Keys(self.targets, self.folder)
        self.uploads = Uploads(store, self.folder, clock, runner.unknown_files)
        self._connect = connect_fn
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def build(
        cls, config: Config, *, clock: Clock | None = None, engine: Engine | None = None
    ) -> App:
        """Open the store (migrating it) and wire the parts; nothing runs until start()."""
        clock = clock or SystemClock()
        store = Store(config.sqlite_path)
        cipher = Cipher(config.enc_key)
        targets = TargetService(
            store,
            cipher,
            clock,
            connect_timeout=config.db_connect_timeout,
            read_timeout=config.db_read_timeout,
        )
        folder = BackupFolder(
            config.backup_dir, file_mode=config.file_mode, dir_mode=config.dir_mode
        )
        channels = ChannelService(
            store, cipher, clock, public_url=config.public_url, timeout=config.notify_timeout
        )
        notifier = Notifier(
            store,
            channels,
            clock,
            retries=config.notify_retries,
            backoff=config.notify_backoff_seconds,
            timeout=config.notify_timeout,
            public_url=config.public_url,
        )
        runner = JobRunner(
            store,
            targets,
            clock,
            folder,
            config.max_parallel_jobs,
            engine=engine,
            on_event=notifier.emit,
        )
        file_check = FileCheck(
            store, folder, clock, notifier.emit, interval_hours=config.file_check_interval_hours
        )
        watch = Watch(
            store,
            targets,
            folder,
            clock,
            notifier.emit,
            stale_grace=timedelta(minutes=config.stale_grace_minutes),
            disk_low_bytes=config.disk_low_mb * 1024 * 1024,
            running_since=runner.running_since,
            also=(file_check.tick,),
        )
        scheduler = Scheduler(clock, store, runner, after_tick=watch.check)
        return cls(
            config,
            store,
            targets,
            runner,
            scheduler,
            clock,
            channels=channels,
            notifier=notifier,
            watch=watch,
            file_check=file_check,
        )

    def start(self) -> None:
        """Crash recovery, then the scheduler thread. Call once, in the serving process."""
        self.folder.ensure()
        self.notifier.start()
        recovery = self.runner.recover()
        self.uploads.recover()
        if recovery.failed_backups or recovery.failed_restores:
            log.warning(
                "after a restart: %d backup(s) and %d restore(s) marked failed",
                len(recovery.failed_backups),
                len(recovery.failed_restores),
            )
        unknown = self.runner.unknown_files()
        if unknown:
            log.info(
                "%d file(s) in %s belong to no backup (left alone): %s",
                len(unknown),
                self.config.backup_dir,
                ", ".join(f.name for f in unknown[:10]),
            )
        if self.config.open_access:
            log.warning(
                "authentication is off and the service listens on %s: anyone who can reach it"
                " can read and overwrite your databases; set ADMIN_USER and ADMIN_PASS",
                self.config.app_host,
            )
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.scheduler.run, args=(self._stop,), name="dumper-scheduler", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        """Stop the scheduler, give jobs `timeout` seconds, fail the cut-off ones, close."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.file_check.stop()
        self.runner.shutdown(timeout)
        # what the last jobs reported gets a moment to go out; the rest is logged as dropped
        self.notifier.idle(min(2.0, timeout))
        self.notifier.stop()
        self.store.close()

    # -- targets ----------------------------------------------------------------------------

    def list_targets(self) -> list[TargetView]:
        return [self._target_view(t) for t in self.store.list_targets()]

    def get_target(self, target_id: int) -> TargetView:
        return self._target_view(self.store.require_target(target_id))

    def target_by_name(self, name: str) -> TargetView:
        target = self.store.get_target_by_name(name)
        if target is None:
            raise NotFound(f"no target named {name!r}")
        return self._target_view(target)

    def create_target(self, data: Mapping[str, Any]) -> TargetView:
        target = self.targets.create(data)
        log.info("target %s created (id %d)", target.name, target.id)
        return self._target_view(target)

    def update_target(self, target_id: int, data: Mapping[str, Any]) -> TargetView:
        target = self.targets.update(target_id, data)
        log.info("target %s updated (id %d)", target.name, target.id)
        return self._target_view(target)

    def delete_target(
        self, target_id: int, *, with_backups: bool, keep_files: bool = False
    ) -> None:
        """Delete a target; Conflict while a job runs or if it has backups and neither option.

        with_backups deletes the backup rows and files; keep_files deletes the rows and leaves
        the files in BACKUP_DIR (unknown files from then on); keep_files wins when both are given.
        """
        target = self.store.require_target(target_id)
        with self.runner.idle_target(target_id, target.name):
            backups = self.store.list_backups(target_id)
            if backups and not (with_backups or keep_files):
                raise Conflict(
                    f"target {target.name!r} has {len(backups)} backup(s); "
                    "delete them too (with_backups=true), keep their files (keep_files=true) "
                    "or keep the target"
                )
            if not keep_files:
                for backup in backups:
                    self.folder.remove(backup.file_path)
            self.store.delete_target(target_id)
        kept = " (files kept)" if keep_files and backups else ""
        log.info("target %s deleted with %d backup(s)%s", target.name, len(backups), kept)

    def retention_preview(self, target_id: int, query: Mapping[str, str]) -> RetentionPreview:
        """What rotation would keep and delete now, with unsaved rule values from `query`."""
        rules = Rules.named(retention_rules(self.store.require_target(target_id), query))
        return preview(self.store.list_backups(target_id), rules, self.clock.now())

    def test_connection(
        self, data: Mapping[str, Any] | None = None, *, target_id: int | None = None
    ) -> ConnectionReport:
        """Try the connection: server version, database exists, the user can read it."""
        if target_id is not None:  # for `*` the databases a backup would take
            target = self.store.require_target(target_id)
            return serversets.probe_target(self.targets.conn_params(target), target, self._connect)
        given = validate_target(data or {}, required=CONNECTION_FIELDS)
        params = given.conn_params(self.config.db_connect_timeout)
        return serversets.probe_target(params, given.fields, self._connect)

    # -- backups and restores ---------------------------------------------------------------

    def start_backup(self, target_id: int, *, trigger: str = "manual") -> BackupView:
        """Start a backup now; Conflict while a job runs, DecryptionError for a lost password."""
        if trigger not in ("manual", "scheduled"):
            raise InvalidInput("trigger must be manual or scheduled", fields={"trigger": "invalid"})
        target = self.store.require_target(target_id)
        return self._backup_view(self.runner.start_backup(target, trigger=trigger), target)

    def wait_backup(self, backup_id: int, timeout: float | None = None) -> BackupView:
        """Wait for a backup started here to finish (the CLI's `backup`)."""
        self.runner.wait("backup", backup_id, timeout)
        return self.get_backup(backup_id)

    def list_backups(self, target_id: int) -> list[BackupView]:
        target = self.store.require_target(target_id)
        return [self._backup_view(b, target) for b in self.store.list_backups(target_id)]

    def get_backup(self, backup_id: int) -> BackupView:
        return self._backup_view(self._require_backup(backup_id))

    def backup_file(self, backup_id: int) -> Path:
        """The backup's file (a set's folder); NotFound when the row or the file is gone."""
        backup = self._require_backup(backup_id)
        path = self.folder.file(backup.file_path)
        if backup.status != SUCCESS or path is None or not self.folder.has_file(backup.file_path):
            raise NotFound(f"backup {backup_id} has no file")
        return path

    def backup_download(self, backup_id: int, database: str | None = None) -> Any:
        """The file to send, or a set as one tar made while it is sent (`database`: its file)."""
        return serversets.download(self.backup_file(backup_id), database)

    def delete_backup(self, backup_id: int) -> None:
        """Delete a backup's file and row; Conflict while it runs or is being restored."""
        backup = self._require_backup(backup_id)
        if backup.status == RUNNING:
            raise Conflict(f"backup {backup_id} is still running")
        job = self.runner.job_for_target(backup.target_id)
        if job is not None and job.kind == "restore" and job.backup_id == backup_id:
            raise Conflict(f"backup {backup_id} is being restored")
        self.folder.remove(backup.file_path)
        self.store.delete_backup(backup_id)
        log.info("backup %d deleted (%s)", backup_id, backup.file_path)

    def start_restore(self, backup_id: int, /, **request: Any) -> RestoreView:
        """Restore a backup (request: restores.RESTORE_FIELDS) once confirmed by name."""
        backup = self._require_backup(backup_id)
        dest = restores.plan_restore(self.store, backup, request)
        dest = replace(dest, identities=self.keys.for_backup(backup, dest.identities))
        restores.create_missing(dest, self.targets)
        return self._restore_view(self.runner.start_restore(backup, dest.target, dest))

    def verify_backup(self, backup_id: int, /, **request: Any) -> BackupView:
        """Start a test restore of a successful backup: a job of its target (an encrypted one
        needs `identity` or `passphrase` in the request, or the target's own passphrase)."""
        backup = self._require_backup(backup_id)
        target = self.store.require_target(backup.target_id)
        keys = self.keys.for_request(backup, request)
        return self._backup_view(self.runner.start_verify(backup, target, keys), target)

    def list_restores(self, target_id: int) -> list[RestoreView]:
        self.store.require_target(target_id)  # into it, or of its backups; newest first
        return [self._restore_view(r) for r in self.store.list_restores(target_id)]

    def backup_contents(self, backup_id: int) -> BackupContentsView:
        return contents_view(backup_id, serversets.one_file(self.backup_file(backup_id)))

    def get_restore(self, restore_id: int) -> RestoreView:
        restore = self.store.get_restore(restore_id)
        if restore is None:
            raise NotFound(f"restore {restore_id} not found")
        return self._restore_view(restore)

    def wait_restore(self, restore_id: int, timeout: float | None = None) -> RestoreView:
        self.runner.wait("restore", restore_id, timeout)
        return self.get_restore(restore_id)

    def list_jobs(self) -> list[JobView]:
        """Running and queued jobs with their progress, oldest first."""
        return [
            JobView(j.kind, j.id, j.target_id, j.target_name, j.started_at, progress_view(j))
            for j in self.runner.jobs()
        ]

    def cancel_backup(self, backup_id: int) -> BackupView:
        """Stop a running or queued backup (it ends cancelled, with no file) or its verification
        (no scratch database stays); NotFound, or Conflict when nothing of it runs."""
        if self.runner.cancel("verify", backup_id):
            return self.get_backup(backup_id)
        return self._cancel("backup", backup_id, self.get_backup)

    def cancel_restore(self, restore_id: int) -> RestoreView:
        """Ask a running or queued restore to stop between two statements; NotFound, or
        Conflict when it has already finished."""
        return self._cancel("restore", restore_id, self.get_restore)

    def _cancel(self, kind: JobKind, job_id: int, get: Callable[[int], _Run]) -> _Run:
        if get(job_id).status == RUNNING and self.runner.cancel(kind, job_id):
            return get(job_id)
        # read again: it may have finished meanwhile
        status = get(job_id).status
        if status == RUNNING:  # a row of another process (`dumper backup` on the same state)
            raise Conflict(
                f"{kind} {job_id} is not run by this service: it cannot be cancelled here"
            )
        raise Conflict(f"{kind} {job_id} already ended ({status}): nothing to cancel")

    # -- system -----------------------------------------------------------------------------

    def settings(self) -> SettingsView:
        c = self.config
        return SettingsView(
            version=__version__,
            config=ConfigView(
                app_port=c.app_port,
                sqlite_path=str(c.sqlite_path),
                backup_dir=str(c.backup_dir),
                web_dir=str(c.web_dir),
                max_parallel_jobs=c.max_parallel_jobs,
                log_level=c.log_level,
                enc_key_source=c.enc_key_source,
            ),
            auth_enabled=c.auth_enabled,
            open_access=c.open_access,
            disk=self.folder.usage(),
            scheduler=SchedulerView(self._scheduler_alive(), self.scheduler.last_tick_at),
            jobs=JobsSummary(self.runner.running_count, c.max_parallel_jobs),
            unknown_files=self.runner.unknown_files(),
            file_check=self.file_check.view(),
        )

    def readiness(self) -> list[str]:
        """Reasons the service is not ready; [] when it is."""
        reasons: list[str] = []
        if not self.store.ping():
            reasons.append("the SQLite database does not answer")
        if not self.folder.writable():
            reasons.append(f"BACKUP_DIR {self.config.backup_dir} is not writable")
        if not self._scheduler_alive():
            reasons.append("the scheduler is not running")
        return reasons

    def metrics(self) -> MetricsView:
        counts = self.store.backup_counts()
        jobs = self.runner.jobs()
        per_target: list[TargetMetrics] = []
        for target in self.store.list_targets():
            backups = self.store.list_backups(target.id)
            last = next((b for b in backups if b.status not in (RUNNING, CANCELLED)), None)
            good = next((b for b in backups if b.status == SUCCESS), None)
            per_target.append(
                TargetMetrics(
                    target=target.name,
                    last_backup_ok=None if last is None else last.status == SUCCESS,
                    last_success_timestamp_seconds=(
                        _stamp(good.finished_at or good.started_at) if good else None
                    ),
                    last_backup_size_bytes=good.size_bytes if good else None,
                    last_backup_duration_seconds=good.duration_seconds if good else None,
                    job_running=any(j.target_id == target.id for j in jobs),
                    backups=len(backups),
                    backups_bytes=sum(b.size_bytes or 0 for b in backups if b.status == SUCCESS),
                    backups_failed=sum(1 for b in backups if b.status == FAILED),
                    **verification.metrics_of(self.store, target.id),  # type: ignore[arg-type]
                )
            )
        disk = self.folder.usage()
        running = self.runner.running_count
        tick = self.scheduler.last_tick_at
        files = self.file_check.counts()
        return MetricsView(
            targets_configured=len(per_target),
            jobs_running=running,
            jobs_queued=max(0, len(jobs) - running),
            jobs_max_parallel=self.config.max_parallel_jobs,
            backups_success=counts.get(SUCCESS, 0),
            backups_failed=counts.get(FAILED, 0),
            backups_cancelled=counts.get(CANCELLED, 0),
            backups_bytes=disk.backups_bytes,
            disk_free_bytes=disk.free_bytes,
            scheduler_running=self._scheduler_alive(),
            scheduler_last_tick_timestamp_seconds=_stamp(tick) if tick else None,
            notifications_sent_total=self.notifier.sent_total,
            notifications_failed_total=self.notifier.failed_total,
            notifications_queued=self.notifier.queued,
            backup_files_corrupt=files[filecheck.CORRUPT],
            backup_files_missing=files[filecheck.MISSING],
            targets=per_target,
        )

    # -- helpers ----------------------------------------------------------------------------

    def _scheduler_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _require_backup(self, backup_id: int) -> Backup:
        backup = self.store.get_backup(backup_id)
        if backup is None:
            raise NotFound(f"backup {backup_id} not found")
        return backup

    def _target_view(self, t: Target) -> TargetView:
        last = self.store.last_backup(t.id)
        good = (
            last if last is not None and last.status == SUCCESS else self.store.last_success(t.id)
        )
        job = self.runner.job_for_target(t.id)
        now = self.clock.now()
        overdue = missed_slot(
            t,
            good.started_at if good else None,
            job.started_at if job else None,
            now,
            timedelta(minutes=self.config.stale_grace_minutes),
        )
        return TargetView(
            id=t.id,
            name=t.name,
            host=t.host,
            port=t.port,
            dbname=t.dbname,
            user=t.user,
            comment=t.comment,
            schedule_time=t.schedule_time,
            retention_days=t.retention_days,
            auto_compress=t.auto_compress,
            notify=t.notify,
            ping_url=t.ping_url,
            keep_last=t.keep_last,
            keep_daily=t.keep_daily,
            keep_weekly=t.keep_weekly,
            keep_monthly=t.keep_monthly,
            keep_yearly=t.keep_yearly,
            schedule_kind=t.schedule_kind,
            schedule_every_hours=t.schedule_every_hours,
            schedule_minute=t.schedule_minute,
            schedule_weekdays=list(t.schedule_weekdays),
            verify_after_backup=t.verify_after_backup,
            strict=t.strict,
            parallel_connections=t.parallel_connections,
            exclude=t.exclude,
            created_at=t.created_at,
            updated_at=t.updated_at,
            has_password=t.password_enc is not None,
            password_error=self.targets.password_error(t),
            tls=t.tls,
            tls_ca=t.tls_ca,
            tls_cert=t.tls_cert,
            has_tls_key=t.tls_key_enc is not None,
            **encryption_of(t),
            next_run_at=next_run_at(schedule_of(t), now),
            last_backup_status=last.status if last else None,
            last_backup_at=(last.finished_at or last.started_at) if last else None,
            last_backup_size_bytes=last.size_bytes if last else None,
            last_backup_warnings=len(last.warnings) if last else 0,
            last_success_at=(good.finished_at or good.started_at) if good else None,
            last_success_size_bytes=good.size_bytes if good else None,
            stale=overdue is not None,
            running_job=JobRef(job.kind, job.id) if job else None,
            last_verification=last_verification_view(self.store, t.id),
        )

    def _backup_view(self, b: Backup, target: Target | None = None) -> BackupView:
        if target is None:
            target = self.store.get_target(b.target_id)
        progress: BackupProgressView | None = None
        size = b.size_bytes
        if b.status == RUNNING:
            job = self.runner.find("backup", b.id)
            view = progress_view(job) if job else BackupProgressView(0, 0, None, 0, 0)
            progress = view if isinstance(view, BackupProgressView) else None
            size = progress.bytes_written if progress else 0
        path = self.folder.file(b.file_path)
        return BackupView(
            id=b.id,
            target_id=b.target_id,
            target_name=target.name if target else "",
            status=b.status,
            trigger=b.trigger,
            started_at=b.started_at,
            finished_at=b.finished_at,
            duration_seconds=b.duration_seconds,
            # a failed or cancelled row keeps no file: naming one would suggest there is
            file_name=path.name
            if path and (b.status in (RUNNING, SUCCESS) or path.is_file())
            else None,
            file_exists=b.status != RUNNING and self.folder.has_file(b.file_path),
            size_bytes=size,
            sha256=b.sha256,
            tables=b.tables,
            rows=b.rows,
            notes=b.notes,
            warnings=list(b.warnings),
            error_code=b.error_code,
            progress=progress,
            verification=verification_view(self.store, b.id),
            file_check=filecheck.state_view(self.store, b.id),
            encrypted=encryption.stored_encrypted(path),
            databases=serversets.databases_view(self.store, b.id),
        )

    def _restore_view(self, r: Restore) -> RestoreView:
        return restore_view(r, self.runner.find("restore", r.id) if r.status == RUNNING else None)


def _stamp(when: datetime) -> float:
    return when.timestamp()
