"""The views: dataclasses whose fields are exactly the JSON fields of docs/API.md, and the
builders that make them from store rows and running jobs.

The OpenAPI schemas are generated from these classes (dumper/http/openapi.py), and the UI's
TypeScript types from the OpenAPI document (`make types`), so the shape is written once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, cast

from dumper import verification
from dumper.backup.dump import DumpProgress
from dumper.backup.inspect import inspect_file
from dumper.backup.probe import ProbeResult
from dumper.backup.restore import RestoreProgress
from dumper.filecheck import FileCheckView, FileStateView
from dumper.folder import DiskUsage, UnknownFile
from dumper.jobs import Job, JobKind
from dumper.store import (
    Restore,
    ScheduleKind,
    Status,
    Store,
    Target,
    TlsMode,
    Trigger,
    Weekday,
)

# The engine's probe result is the API's connection report, field for field.
ConnectionReport = ProbeResult


@dataclass(frozen=True)
class HealthView:
    status: Literal["ok"]


@dataclass(frozen=True)
class ReadinessView:
    status: Literal["ready", "not ready"]
    reasons: list[str]  # empty when ready


@dataclass(frozen=True)
class JobRef:
    kind: JobKind
    id: int


@dataclass(frozen=True)
class TargetView:
    id: int
    name: str
    host: str
    port: int
    dbname: str
    user: str
    comment: str
    schedule_time: str | None
    retention_days: int
    auto_compress: bool
    notify: bool
    ping_url: str | None
    keep_last: int
    keep_daily: int
    keep_weekly: int
    keep_monthly: int
    keep_yearly: int
    schedule_kind: ScheduleKind
    schedule_every_hours: int
    schedule_minute: int
    schedule_weekdays: list[Weekday]
    verify_after_backup: bool
    strict: bool  # missing visibility grants fail a backup instead of a warning
    parallel_connections: int  # connections reading table data at once (1-4)
    exclude: str  # dbname * (every database): the databases left out, "a, test_*"
    created_at: datetime
    updated_at: datetime
    has_password: bool
    password_error: str | None
    tls: TlsMode
    tls_ca: str
    tls_cert: str
    has_tls_key: bool  # the key itself is never returned
    # encrypted backups: "off" | "recipient" | "passphrase"; the passphrase is never returned
    encryption: Literal["off", "recipient", "passphrase"]
    age_recipient: str
    has_age_passphrase: bool
    next_run_at: datetime | None
    last_backup_status: Status | None
    last_backup_at: datetime | None
    last_backup_size_bytes: int | None
    last_backup_warnings: int  # a success with warnings: how many (0 otherwise)
    last_success_at: datetime | None
    last_success_size_bytes: int | None
    stale: bool  # a scheduled run is overdue (STALE_GRACE_MINUTES) with no success since
    running_job: JobRef | None
    last_verification: LastVerificationView | None  # the target's last ended verification


@dataclass(frozen=True)
class BackupProgressView:
    bytes_written: int
    rows: int
    table: str | None
    tables_done: int
    tables_total: int


@dataclass(frozen=True)
class RestoreProgressView:
    bytes_read: int
    bytes_total: int
    statements: int


@dataclass(frozen=True)
class LastVerificationView:
    backup_id: int
    passed: bool
    finished_at: datetime | None


def last_verification_view(store: Store, target_id: int) -> LastVerificationView | None:
    """The target's last ended verification, for its card."""
    v = verification.last_of_target(store, target_id)
    if v is None:
        return None
    end = datetime.fromisoformat(v.finished_at) if v.finished_at else None
    return LastVerificationView(v.backup_id, v.status == verification.PASSED, end)


@dataclass(frozen=True)
class VerificationView:
    status: Literal["running", "passed", "failed"]
    started_at: datetime
    finished_at: datetime | None
    notes: str  # a failure names the first difference; a pass says what was compared


def verification_view(store: Store, backup_id: int) -> VerificationView | None:
    """The latest verification of a backup as the API shows it."""
    v = verification.get(store, backup_id)
    if v is None:
        return None
    end = datetime.fromisoformat(v.finished_at) if v.finished_at else None
    status = cast(Literal["running", "passed", "failed"], v.status)
    return VerificationView(status, datetime.fromisoformat(v.started_at), end, v.notes)


@dataclass(frozen=True)
class ArchiveDownload:
    """A download made while it is sent (a backup set as one tar): name, exact length, bytes."""

    name: str
    length: int
    chunks: Iterator[bytes]


@dataclass(frozen=True)
class BackupDatabaseView:
    name: str
    file_name: str  # GET /api/backups/:id/download?database=NAME sends it
    size_bytes: int
    tables: int
    rows: int


@dataclass(frozen=True)
class BackupView:
    id: int
    target_id: int
    target_name: str
    status: Status
    trigger: Trigger
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    file_name: str | None
    file_exists: bool
    size_bytes: int | None
    sha256: str | None
    tables: int | None
    rows: int | None
    notes: str
    warnings: list[str]  # a success that may lack something names it here (and in notes)
    error_code: str | None  # why it failed: connection_failed, decryption_failed, dump_failed...
    progress: BackupProgressView | None
    verification: VerificationView | None  # the latest test restore of this backup, if any
    file_check: FileStateView | None  # the last file check's verdict on its file, if any
    encrypted: bool  # an age file (.age): verify and restore need its identity or passphrase
    # a backup set (target dbname *): its databases, each a file of the set; null: one database
    databases: list[BackupDatabaseView] | None


@dataclass(frozen=True)
class RestoreView:
    id: int
    backup_id: int
    target_id: int
    status: Status
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    statements: int | None
    notes: str
    progress: RestoreProgressView | None
    database: str | None  # restored into this database of the target (null: its own)
    clean: bool  # tables not in the backup were dropped
    selected_tables: list[str] | None  # null: all of the backup
    tables: int | None  # base tables restored
    rows: int | None  # rows restored


@dataclass(frozen=True)
class JobView:
    kind: JobKind
    id: int
    target_id: int
    target_name: str
    started_at: datetime
    progress: BackupProgressView | RestoreProgressView


@dataclass(frozen=True)
class ConfigView:
    app_port: int
    sqlite_path: str
    backup_dir: str
    web_dir: str
    max_parallel_jobs: int
    log_level: str
    enc_key_source: str


@dataclass(frozen=True)
class SchedulerView:
    running: bool
    last_tick_at: datetime | None


@dataclass(frozen=True)
class JobsSummary:
    running: int
    max_parallel: int


@dataclass(frozen=True)
class SettingsView:
    version: str
    config: ConfigView
    auth_enabled: bool
    open_access: bool  # no auth and bound beyond loopback: anyone who reaches it may use it
    disk: DiskUsage
    scheduler: SchedulerView
    jobs: JobsSummary
    unknown_files: list[UnknownFile]
    file_check: FileCheckView  # backup files re-hashed against their sha256


@dataclass(frozen=True)
class TargetMetrics:
    target: str
    last_backup_ok: bool | None
    last_success_timestamp_seconds: float | None
    last_backup_size_bytes: int | None
    last_backup_duration_seconds: float | None
    job_running: bool
    backups: int  # rows kept for the target, any status
    backups_bytes: int  # bytes of its finished backup files
    backups_failed: int  # failed rows still recorded: a gauge, rotation prunes old ones
    last_verification_ok: bool | None  # the last ended verification passed
    last_verification_timestamp_seconds: float | None  # when it ended


@dataclass(frozen=True)
class MetricsView:
    """Gauges for /metrics: top-level numbers, plus one series per target."""

    targets_configured: int
    jobs_running: int
    jobs_queued: int
    jobs_max_parallel: int
    backups_success: int
    backups_failed: int
    backups_cancelled: int
    backups_bytes: int
    disk_free_bytes: int
    scheduler_running: bool
    scheduler_last_tick_timestamp_seconds: float | None
    notifications_sent_total: int  # delivered (since the process started)
    notifications_failed_total: int  # given up after NOTIFY_RETRIES
    notifications_queued: int
    backup_files_corrupt: int  # successful backups whose file no longer has its sha256
    backup_files_missing: int  # successful backups whose file is gone
    targets: list[TargetMetrics]


def progress_view(job: Job) -> BackupProgressView | RestoreProgressView:
    """The live progress of a running or queued job (zeros before the first report)."""
    p = job.progress
    if job.kind == "backup":
        if not isinstance(p, DumpProgress):
            return BackupProgressView(0, 0, None, 0, 0)
        return BackupProgressView(p.bytes_written, p.rows, p.table, p.tables_done, p.tables_total)
    if not isinstance(p, RestoreProgress):
        return RestoreProgressView(0, 0, 0)
    return RestoreProgressView(p.bytes_read, p.bytes_total, p.statements)


def encryption_of(t: Target) -> dict[str, Any]:
    """A target's encryption fields of TargetView (never the passphrase)."""
    return {
        "encryption": t.encryption,
        "age_recipient": t.age_recipient,
        "has_age_passphrase": t.age_passphrase_enc is not None,
    }


def restore_view(r: Restore, job: Job | None) -> RestoreView:
    """A restore's row with the live progress of its job while it runs."""
    progress: RestoreProgressView | None = None
    if r.status == "running":
        view = progress_view(job) if job else RestoreProgressView(0, 0, 0)
        progress = view if isinstance(view, RestoreProgressView) else None
    return RestoreView(
        id=r.id,
        backup_id=r.backup_id,
        target_id=r.target_id,
        status=r.status,
        started_at=r.started_at,
        finished_at=r.finished_at,
        duration_seconds=r.duration_seconds,
        statements=r.statements,
        notes=r.notes,
        progress=progress,
        database=r.database,
        clean=r.clean,
        selected_tables=list(r.selected_tables) if r.selected_tables is not None else None,
        tables=r.tables,
        rows=r.rows,
    )


@dataclass(frozen=True)
class TableContentsView:
    name: str
    rows: int  # rows the file's INSERTs hold


@dataclass(frozen=True)
class BackupContentsView:
    backup_id: int
    producer: str
    complete: bool
    why: str  # what proves the file whole, or why it is not
    databases: list[str]  # of a file that holds several (--databases); [] otherwise
    tables: list[TableContentsView]
    views: list[str]
    routines: list[str]
    triggers: list[str]
    events: list[str]


def contents_view(backup_id: int, path: Path) -> BackupContentsView:
    """What the file of a backup holds, read without a server (backup/inspect.py)."""
    i = inspect_file(path)
    tables = [TableContentsView(name, rows) for name, rows in sorted(i.tables.items())]
    return BackupContentsView(
        backup_id, i.producer, i.complete, i.why, list(i.databases), tables,
        i.views, i.routines, i.triggers, i.events,
    )  # fmt: skip
