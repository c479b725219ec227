"""Verified backups, the service side: a verification's row in sqlite (running, passed, failed),
running one through the engine's test restore (backup/compare.py), and cleaning up after a crash."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from dumper.backup.agefile import Identity
from dumper.backup.compare import CompareResult, drop_scratch, scratch_name, verify_by_restore
from dumper.backup.dsn import ConnParams, connect
from dumper.backup.restore import RestoreProgress
from dumper.clock import Clock
from dumper.errors import Cancelled, DumperError
from dumper.log import get_logger
from dumper.store import Store

log = get_logger("verification")
RUNNING, PASSED, FAILED = "running", "passed", "failed"


@dataclass(frozen=True)
class Verification:
    backup_id: int
    status: str  # running | passed | failed
    started_at: str
    finished_at: str | None
    notes: str
    scratch_db: str


def get(store: Store, backup_id: int) -> Verification | None:
    """The latest verification of a backup, or None."""
    with store.transaction() as db:
        row = db.execute("SELECT * FROM verifications WHERE backup_id = ?", (backup_id,)).fetchone()
    return None if row is None else Verification(*tuple(row))


def _record(store: Store, v: Verification) -> None:
    with store.transaction() as db:
        db.execute(
            "INSERT OR REPLACE INTO verifications"
            " (backup_id, status, started_at, finished_at, notes, scratch_db)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (v.backup_id, v.status, v.started_at, v.finished_at, v.notes, v.scratch_db),
        )


def run(
    store: Store,
    clock: Clock,
    backup_id: int,
    path: Path,
    params: ConnParams,
    *,
    cancel: threading.Event | None = None,
    on_failed: Callable[[str], None] | None = None,
    test_restore: Callable[..., CompareResult] = verify_by_restore,
    identities: list[Identity] | None = None,
    progress: Callable[[RestoreProgress], None] | None = None,
) -> Verification:
    """Test-restore backup `backup_id` (file `path`) on the server of `params`; record the result.

    The backup row and file are never changed. A failure calls on_failed(notes) (the
    verification_failed event); a cancel is recorded as failed and re-raised.
    """
    scratch = scratch_name(params.database, backup_id)
    started = clock.now().isoformat()
    _record(store, Verification(backup_id, RUNNING, started, None, "", scratch))
    if path.is_dir():  # a backup set: each database's file in turn, its scratch recorded first
        from dumper.serversets import set_test_restore

        def running(name: str) -> None:  # recovery after a crash drops the one it names
            _record(store, Verification(backup_id, RUNNING, started, None, "", name))

        test_restore = set_test_restore(test_restore, backup_id, running)
    try:
        keys: dict[str, Any] = {"identities": identities} if identities else {}  # encrypted
        if progress is not None:
            keys["progress"] = progress
        result = test_restore(path, params, scratch, cancel=cancel, **keys)
        status = PASSED if result.passed else FAILED
        notes = "; ".join(result.notes)
    except Cancelled:
        _record(
            store,
            Verification(backup_id, FAILED, started, clock.now().isoformat(), "cancelled", scratch),
        )
        raise
    except DumperError as exc:
        status, notes = FAILED, str(exc)
    done = Verification(backup_id, status, started, clock.now().isoformat(), notes, scratch)
    _record(store, done)
    if status == FAILED and on_failed is not None:
        on_failed(notes)
    return done


def recover(
    store: Store,
    clock: Clock,
    params_of: Callable[[int], ConnParams | None],
    connect_fn: Callable[..., object] = connect,
) -> list[int]:
    """At start: verifications left running by a crash are failed, their scratch databases dropped.

    params_of(backup_id) gives the server of the backup's target (None: it is gone).
    """
    with store.transaction() as db:
        rows = db.execute("SELECT * FROM verifications WHERE status = ?", (RUNNING,)).fetchall()
    left = [Verification(*tuple(r)) for r in rows]
    for v in left:
        params = params_of(v.backup_id)
        if params is not None:
            try:
                drop_scratch(params, v.scratch_db, connect_fn)
            except DumperError as exc:
                log.warning("cannot drop the scratch database %s: %s", v.scratch_db, exc)
        _record(
            store,
            Verification(
                v.backup_id,
                FAILED,
                v.started_at,
                clock.now().isoformat(),
                "interrupted: dumper stopped during the verification",
                v.scratch_db,
            ),
        )
    return [v.backup_id for v in left]


def fail(store: Store, clock: Clock, backup_id: int, notes: str) -> None:
    """Record a verification that ended before or outside the test restore (cancel, shutdown)."""
    old = get(store, backup_id)
    now = clock.now().isoformat()
    started = old.started_at if old is not None and old.status == RUNNING else now
    scratch = old.scratch_db if old is not None else ""
    _record(store, Verification(backup_id, FAILED, started, now, notes, scratch))


def last_of_target(store: Store, target_id: int) -> Verification | None:
    """The target's most recently started verification that has ended, or None."""
    with store.transaction() as db:
        row = db.execute(
            "SELECT v.* FROM verifications v JOIN backups b ON b.id = v.backup_id"
            " WHERE b.target_id = ? AND v.status != ? ORDER BY v.started_at DESC LIMIT 1",
            (target_id, RUNNING),
        ).fetchone()
    return None if row is None else Verification(*tuple(row))


def metrics_of(store: Store, target_id: int) -> dict[str, bool | float | None]:
    """The /metrics fields of a target's last ended verification."""
    v = last_of_target(store, target_id)
    end = datetime.fromisoformat(v.finished_at).timestamp() if v and v.finished_at else None
    return {
        "last_verification_ok": None if v is None else v.status == PASSED,
        "last_verification_timestamp_seconds": end,
    }
