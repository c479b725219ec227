"""SQLite state of dumper: numbered migrations, and repositories returning typed dataclasses.

One connection guarded by a lock serves every thread (HTTP, scheduler, jobs); WAL mode lets
another process (the CLI) read and write beside the server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
import stat
import threading
import typing
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from dumper.errors import Conflict, NotFound
from dumper.migrations import MIGRATIONS
from dumper.restore_rows import RestoreRows, restore_from_row
from dumper.schedule_rows import ScheduleRows
from dumper.set_rows import SetRows

LATEST_VERSION = MIGRATIONS[-1][0]
# the database file and the files sqlite keeps beside it; all hold the stored targets
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


class Status(StrEnum):
    """Where a backup or restore stands; the one list of statuses (API, UI types, metrics)."""

    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"  # stopped by the user: not a failure, the target stays green


class Trigger(StrEnum):
    """What started a backup."""

    MANUAL = "manual"
    SCHEDULED = "scheduled"
    UPLOAD = "upload"  # a file uploaded or found in BACKUP_DIR, adopted (dumper.uploads)


RUNNING, SUCCESS, FAILED, CANCELLED = tuple(Status)  # in the order Status declares them


ScheduleKind = Literal["daily", "hourly", "weekly"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
TlsMode = Literal["disabled", "preferred", "required", "verify-ca", "verify-identity"]


@dataclass(frozen=True)
class TargetFields:
    """The editable fields of a target (validated by dumper.targets)."""

    name: str
    host: str
    port: int
    dbname: str
    user: str
    comment: str = ""
    schedule_time: str | None = None
    retention_days: int = 0
    auto_compress: bool = True
    notify: bool = True  # False: this target's events reach no notification channel
    ping_url: str | None = None  # dead-man's switch: called on start, success (plain) and /fail
    # retention beyond days (dumper.rotation), 0 = off each
    keep_last: int = 0
    keep_daily: int = 0
    keep_weekly: int = 0
    keep_monthly: int = 0
    keep_yearly: int = 0
    # the schedule's kind (dumper.scheduler): daily at schedule_time, every N hours from a
    # minute, or weekly on weekdays ("mon".."sun") at schedule_time
    schedule_kind: ScheduleKind = "daily"
    schedule_every_hours: int = 6
    schedule_minute: int = 0
    schedule_weekdays: tuple[Weekday, ...] = ()
    verify_after_backup: bool = False  # a test restore right after each successful backup

    # TLS (dumper.backup.tls): the mode and PEM texts; the client key is kept apart, encrypted
    tls: TlsMode = "preferred"
    tls_ca: str = ""
    tls_cert: str = ""
    # fail a backup when the user may not see every object, instead of a warning
    strict: bool = False
    # encrypted backups (dumper.encryption): "off", "recipient" (age1...) or "passphrase",
    # the passphrase kept apart, encrypted
    encryption: str = "off"
    age_recipient: str = ""
    # connections reading table data at once (dumper.backup.parallel), 1-4
    parallel_connections: int = 1
    exclude: str = ""  # dbname "*" (a whole server): databases left out, "a, test_*"


@dataclass(frozen=True)
class Target:
    id: int
    name: str
    host: str
    port: int
    dbname: str
    user: str
    password_enc: bytes | None
    comment: str
    schedule_time: str | None
    retention_days: int
    auto_compress: bool
    created_at: datetime
    updated_at: datetime
    notify: bool = True
    ping_url: str | None = None
    keep_last: int = 0
    keep_daily: int = 0
    keep_weekly: int = 0
    keep_monthly: int = 0
    keep_yearly: int = 0
    schedule_kind: ScheduleKind = "daily"
    schedule_every_hours: int = 6
    schedule_minute: int = 0
    schedule_weekdays: tuple[Weekday, ...] = ()
    verify_after_backup: bool = False
    tls: TlsMode = "preferred"
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key_enc: bytes | None = None
    strict: bool = False
    encryption: str = "off"
    age_recipient: str = ""
    age_passphrase_enc: bytes | None = None
    parallel_connections: int = 1
    exclude: str = ""

    def __repr__(self) -> str:
        return f"Target(id={self.id}, name={self.name!r}, host={self.host!r})"


@dataclass(frozen=True)
class Backup:
    id: int
    target_id: int
    started_at: datetime
    finished_at: datetime | None
    size_bytes: int | None
    status: Status
    file_path: str | None  # a name inside BACKUP_DIR (absolute paths from old rows work too)
    notes: str
    sha256: str | None
    tables: int | None
    rows: int | None
    trigger: Trigger
    duration_seconds: float | None
    error_code: str | None = None  # a failure's kind (DumperError.code), e.g. connection_failed
    warnings: tuple[str, ...] = ()  # a success that may lack something (objects not visible)


@dataclass(frozen=True)
class Restore:
    id: int
    backup_id: int
    target_id: int
    started_at: datetime
    finished_at: datetime | None
    status: Status
    statements: int | None
    duration_seconds: float | None
    notes: str
    database: str | None = None  # restored into this database of the target (None: its own)
    clean: bool = False
    selected_tables: tuple[str, ...] | None = None  # None: all of the backup
    tables: int | None = None  # base tables restored
    rows: int | None = None


def to_db_time(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    # rows written by the seed may be naive; they were UTC
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _opt_time(text: str | None) -> datetime | None:
    return from_db_time(text) if text else None


def _make_private(path: Path) -> None:
    """Create the database file 0600 before sqlite does; tighten files an older version left."""
    # sqlite creates -wal, -shm and -journal with the database file's mode, so this one decides
    os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))
    for suffix in SQLITE_SUFFIXES:
        file = path.with_name(path.name + suffix)
        try:
            st = file.stat()
        except FileNotFoundError:
            continue
        if stat.S_IMODE(st.st_mode) != 0o600 and st.st_uid == os.geteuid():
            file.chmod(0o600)


class Store(RestoreRows, ScheduleRows, SetRows):
    """The repositories over one SQLite file; every method is thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        _make_private(path)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=10.0
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self.migrate()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _all(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    def _one(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(sql, args).fetchone()
            return row

    def schema_version(self) -> int:
        row = self._one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        return int(row[0]) if row else 0

    def migrate(self, upto: int = LATEST_VERSION) -> list[int]:
        """Apply the missing migrations up to `upto`, each in its own transaction."""
        applied: list[int] = []
        with self._lock:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            current = self.schema_version()
            for version, script in MIGRATIONS:
                if version <= current or version > upto:
                    continue
                now = to_db_time(datetime.now(UTC))
                # executescript commits first; BEGIN..COMMIT makes the migration atomic
                try:
                    self._db.executescript(
                        f"BEGIN IMMEDIATE;\n{script}\n"
                        f"INSERT INTO schema_migrations VALUES ({version}, '{now}');\nCOMMIT;"
                    )
                except sqlite3.Error:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
                applied.append(version)
        return applied

    # -- for the repositories of other modules (tokens, notifications) ----------------------

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on an error)."""
        return self._tx()

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self._all(sql, args)

    def query_one(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None:
        return self._one(sql, args)

    def ping(self) -> bool:
        """True when the database answers a query."""
        try:
            return self._one("SELECT 1") is not None
        except sqlite3.Error:
            return False

    # -- targets ----------------------------------------------------------------------------

    def list_targets(self) -> list[Target]:
        return [_target(r) for r in self._all("SELECT * FROM targets ORDER BY name, id")]

    def get_target(self, target_id: int) -> Target | None:
        row = self._one("SELECT * FROM targets WHERE id = ?", (target_id,))
        return _target(row) if row else None

    def get_target_by_name(self, name: str) -> Target | None:
        row = self._one("SELECT * FROM targets WHERE name = ?", (name,))
        return _target(row) if row else None

    def require_target(self, target_id: int) -> Target:
        target = self.get_target(target_id)
        if target is None:
            raise NotFound(f"target {target_id} not found")
        return target

    def insert_target(
        self,
        fields: TargetFields,
        password_enc: bytes | None,
        now: datetime,
        *,
        tls_key_enc: bytes | None = None,
        age_passphrase_enc: bytes | None = None,
    ) -> Target:
        """Insert a target; Conflict when the name is taken."""
        stamp = to_db_time(now)
        secrets = ("password_enc", "tls_key_enc", "age_passphrase_enc")
        columns = (*secrets, *_EDITABLE, "created_at", "updated_at")
        values = (password_enc, tls_key_enc, age_passphrase_enc, *_field_values(fields))
        try:
            with self._tx() as db:
                cur = db.execute(
                    f"INSERT INTO targets ({', '.join(columns)})"
                    f" VALUES ({', '.join('?' for _ in columns)})",
                    (*values, stamp, stamp),
                )
                new_id = int(cur.lastrowid or 0)
        except sqlite3.IntegrityError as exc:
            raise _name_conflict(fields.name, exc) from None
        return self.require_target(new_id)

    def update_target(
        self,
        target_id: int,
        fields: TargetFields,
        now: datetime,
        *,
        password_enc: bytes | None = None,
        keep_password: bool = True,
        tls_key_enc: bytes | None = None,
        keep_tls_key: bool = True,
        age_passphrase_enc: bytes | None = None,
        keep_age_passphrase: bool = True,
    ) -> Target:
        """Replace the editable fields; the stored password and TLS key stay unless
        keep_password / keep_tls_key is False."""
        sets = ", ".join(f"{name}=?" for name in (*_EDITABLE, "updated_at"))
        args: list[Any] = [*_field_values(fields), to_db_time(now)]
        if not keep_password:
            sets += ", password_enc=?"
            args.append(password_enc)
        if not keep_tls_key:
            sets += ", tls_key_enc=?"
            args.append(tls_key_enc)
        if not keep_age_passphrase:
            sets += ", age_passphrase_enc=?"
            args.append(age_passphrase_enc)
        try:
            with self._tx() as db:
                cur = db.execute(f"UPDATE targets SET {sets} WHERE id=?", (*args, target_id))
                if cur.rowcount == 0:
                    raise NotFound(f"target {target_id} not found")
        except sqlite3.IntegrityError as exc:
            raise _name_conflict(fields.name, exc) from None
        return self.require_target(target_id)

    def delete_target(self, target_id: int) -> None:
        """Delete the target with its backup, restore and schedule rows (files are the caller's)."""
        with self._tx() as db:
            db.execute("DELETE FROM schedule_state WHERE target_id=?", (target_id,))
            db.execute("DELETE FROM restores WHERE target_id=?", (target_id,))
            db.execute("DELETE FROM backups WHERE target_id=?", (target_id,))
            if db.execute("DELETE FROM targets WHERE id=?", (target_id,)).rowcount == 0:
                raise NotFound(f"target {target_id} not found")

    # -- backups ----------------------------------------------------------------------------

    def insert_backup(
        self, target_id: int, started_at: datetime, file_path: str, trigger: str
    ) -> Backup:
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO backups (target_id, started_at, status, file_path, notes,"
                " triggered_by) VALUES (?,?,?,?,'',?)",
                (target_id, to_db_time(started_at), RUNNING, file_path, trigger),
            )
            new_id = int(cur.lastrowid or 0)
        backup = self.get_backup(new_id)
        assert backup is not None
        return backup

    def finish_backup(
        self,
        backup_id: int,
        *,
        status: str,
        finished_at: datetime,
        duration_seconds: float | None,
        notes: str = "",
        size_bytes: int | None = None,
        sha256: str | None = None,
        tables: int | None = None,
        rows: int | None = None,
        error_code: str | None = None,
    ) -> bool:
        """Record the end of a running backup; False when it was no longer running."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE backups SET status=?, finished_at=?, duration_seconds=?, notes=?,"
                " size_bytes=?, sha256=?, tables_count=?, rows_count=?, error_code=?"
                " WHERE id=? AND status=?",
                (
                    status,
                    to_db_time(finished_at),
                    duration_seconds,
                    notes,
                    size_bytes,
                    sha256,
                    tables,
                    rows,
                    error_code,
                    backup_id,
                    RUNNING,
                ),
            )
            return cur.rowcount == 1

    def set_backup_warnings(self, backup_id: int, warnings: Sequence[str]) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE backups SET warnings=? WHERE id=?", (json.dumps(list(warnings)), backup_id)
            )

    def append_backup_notes(self, backup_id: int, text: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE backups SET notes = CASE WHEN notes = '' THEN ? ELSE notes || char(10) || ?"
                " END WHERE id=?",
                (text, text, backup_id),
            )

    def get_backup(self, backup_id: int) -> Backup | None:
        row = self._one("SELECT * FROM backups WHERE id=?", (backup_id,))
        return _backup(row) if row else None

    def list_backups(self, target_id: int) -> list[Backup]:
        """A target's backups, newest first."""
        rows = self._all(
            "SELECT * FROM backups WHERE target_id=? ORDER BY started_at DESC, id DESC",
            (target_id,),
        )
        return [_backup(r) for r in rows]

    def last_backup(self, target_id: int) -> Backup | None:
        """The newest backup that is not cancelled (a cancel does not change a target's state)."""
        row = self._one(
            "SELECT * FROM backups WHERE target_id=? AND status != ?"
            " ORDER BY started_at DESC, id DESC LIMIT 1",
            (target_id, CANCELLED),
        )
        return _backup(row) if row else None

    def last_success(self, target_id: int) -> Backup | None:
        row = self._one(
            "SELECT * FROM backups WHERE target_id=? AND status=?"
            " ORDER BY started_at DESC, id DESC LIMIT 1",
            (target_id, SUCCESS),
        )
        return _backup(row) if row else None

    def delete_backup(self, backup_id: int) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM backups WHERE id=?", (backup_id,))

    def backups_with_status(self, status: str) -> list[Backup]:
        rows = self._all("SELECT * FROM backups WHERE status=? ORDER BY id", (status,))
        return [_backup(r) for r in rows]

    def known_file_paths(self) -> set[str]:
        rows = self._all("SELECT file_path FROM backups WHERE file_path IS NOT NULL")
        return {str(r[0]) for r in rows}

    def backup_counts(self) -> dict[str, int]:
        rows = self._all("SELECT status, COUNT(*) FROM backups GROUP BY status")
        return {str(r[0]): int(r[1]) for r in rows}

    def fail_running(self, notes: str, finished_at: datetime) -> tuple[list[Backup], list[Restore]]:
        """Mark every running backup and restore failed; return the rows as they were."""
        with self._tx() as db:
            backups = [
                _backup(r) for r in db.execute("SELECT * FROM backups WHERE status=?", (RUNNING,))
            ]
            restores = [
                restore_from_row(r)
                for r in db.execute("SELECT * FROM restores WHERE status=?", (RUNNING,))
            ]
            stamp = to_db_time(finished_at)
            db.execute(
                "UPDATE backups SET status=?, finished_at=?, notes=?, error_code='interrupted'"
                " WHERE status=?",
                (FAILED, stamp, notes, RUNNING),
            )
            db.execute(
                "UPDATE restores SET status=?, finished_at=?, notes=? WHERE status=?",
                (FAILED, stamp, notes, RUNNING),
            )
        return backups, restores


# The editable columns are the fields of TargetFields, in its order: a new field is a column of
# the same name (added by a migration) and nothing else here changes.
_EDITABLE: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(TargetFields))
_EDITABLE_TYPES: dict[str, Any] = typing.get_type_hints(TargetFields)


def _field_values(f: TargetFields) -> tuple[Any, ...]:
    return tuple(_to_column(getattr(f, name)) for name in _EDITABLE)


def _to_column(value: Any) -> Any:
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, tuple):  # a list of words (weekdays): one comma-separated text
        return ",".join(value)
    return value


def _editable(r: sqlite3.Row) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _EDITABLE:
        raw, kind = r[name], _EDITABLE_TYPES[name]
        if kind is bool:
            values[name] = bool(raw)
        elif typing.get_origin(kind) is tuple:
            values[name] = tuple(raw.split(",")) if raw else ()
        else:
            values[name] = raw
    return values


def _name_conflict(name: str, exc: sqlite3.IntegrityError) -> Exception:
    if "targets.name" in str(exc):
        return Conflict(f"a target named {name!r} already exists", fields={"name": "already taken"})
    return exc


def _opt_bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _target(r: sqlite3.Row) -> Target:
    enc = r["password_enc"]
    return Target(
        id=int(r["id"]),
        password_enc=bytes(enc) if enc is not None else None,
        tls_key_enc=bytes(r["tls_key_enc"]) if r["tls_key_enc"] is not None else None,
        age_passphrase_enc=_opt_bytes(r["age_passphrase_enc"]),
        created_at=from_db_time(r["created_at"]),
        updated_at=from_db_time(r["updated_at"]),
        **_editable(r),
    )


def _backup(r: sqlite3.Row) -> Backup:
    return Backup(
        id=int(r["id"]),
        target_id=int(r["target_id"]),
        started_at=from_db_time(r["started_at"]),
        finished_at=_opt_time(r["finished_at"]),
        size_bytes=r["size_bytes"],
        status=Status(r["status"]),
        file_path=r["file_path"],
        notes=r["notes"] or "",
        sha256=r["sha256"],
        tables=r["tables_count"],
        rows=r["rows_count"],
        trigger=Trigger(r["triggered_by"]),
        duration_seconds=r["duration_seconds"],
        error_code=r["error_code"],
        warnings=tuple(json.loads(r["warnings"] or "[]")),
    )
