"""Retention: after a successful backup, delete the target's backups older than retention_days.

Never the newest successful backup, never a running one, never after a failed backup.
"""

from __future__ import annotations

from datetime import timedelta

from dumper.clock import Clock
from dumper.folder import BackupFolder
from dumper.log import get_logger
from dumper.store import CANCELLED, RUNNING, SUCCESS, Store, Target

log = get_logger("rotation")


def rotate(target: Target, store: Store, clock: Clock, folder: BackupFolder) -> list[str]:
    """Delete expired backups (file and row) of `target`; return what was deleted, by name."""
    if target.retention_days <= 0:
        return []
    backups = store.list_backups(target.id)  # newest first
    # a cancel is no verdict on the database: look past it to the last real attempt
    finished = [b for b in backups if b.status not in (RUNNING, CANCELLED)]
    if not finished or finished[0].status != SUCCESS:
        # the latest attempt failed: keep everything until a good backup exists again
        return []
    newest_good = finished[0].id
    cutoff = clock.now() - timedelta(days=target.retention_days)
    deleted: list[str] = []
    for backup in backups:
        if backup.id == newest_good or backup.status == RUNNING or backup.started_at >= cutoff:
            continue
        path = folder.file(backup.file_path)
        label = path.name if path is not None else f"backup {backup.id}"
        if path is not None:
            try:
                path.unlink()
            except FileNotFoundError:
                log.info("rotation: %s of target %s was already gone", label, target.name)
            except OSError as exc:
                # keep the row so the file stays visible and the next rotation retries
                log.warning("rotation: cannot delete %s: %s", path, exc)
                continue
        store.delete_backup(backup.id)
        deleted.append(f"{label} ({backup.status})" if backup.status != SUCCESS else label)
    if deleted:
        log.info(
            "rotation of target %s (keep %d days) deleted: %s",
            target.name,
            target.retention_days,
            ", ".join(deleted),
        )
    return deleted
