"""The events dumper reports, and the text every channel kind builds its message from.

A leaf module: jobs, the scheduler's checks and the queue all import it; it imports nothing of
theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

# The events a channel may choose, in the order the UI lists them.
EVENT_NAMES: tuple[str, ...] = (
    "backup_failed",
    "backup_succeeded",
    "restore_finished",
    "restore_failed",
    "target_stale",
    "disk_low",
    "password_undecryptable",
    "verification_failed",
    "file_corrupt",
    "file_missing",
)
# What a new channel gets unless it says otherwise: every event but routine success.
DEFAULT_EVENTS: tuple[str, ...] = tuple(n for n in EVENT_NAMES if n != "backup_succeeded")
# Not for channels: only the dead-man's switch pings on them.
BACKUP_STARTED = "backup_started"
BACKUP_CANCELLED = "backup_cancelled"
VERIFICATION_FAILED = "verification_failed"  # a test restore did not match the manifest
TEST = "test"  # POST /api/notification-channels/:id/test
# Events that mean something is wrong (higher priority, red).
PROBLEMS = frozenset(EVENT_NAMES) - {"backup_succeeded", "restore_finished"}

_WHAT = {
    "backup_failed": "Backup of {target} failed",
    "backup_succeeded": "Backup of {target} succeeded",
    "restore_finished": "Restore into {target} finished",
    "restore_failed": "Restore into {target} failed",
    "target_stale": "No recent backup of {target}",
    "disk_low": "Little free space in the backup folder",
    "password_undecryptable": "The stored password of {target} cannot be decrypted",
    "verification_failed": "Verification of a backup of {target} failed",
    "file_corrupt": "A backup file of {target} is corrupt",
    "file_missing": "A backup file of {target} is missing",
    TEST: "Test message from dumper",
    BACKUP_STARTED: "Backup of {target} started",
    BACKUP_CANCELLED: "Backup of {target} cancelled",
}


@dataclass(frozen=True)
class RunInfo:
    """The backup or restore an event is about, as the webhook body carries it."""

    id: int
    status: str
    notes: str


@dataclass(frozen=True)
class Event:
    name: str
    at: datetime
    target_id: int | None = None
    target_name: str | None = None
    reason: str = ""  # why, in a sentence (a failure's error, the overdue slot, free space)
    backup: RunInfo | None = None
    restore: RunInfo | None = None

    @property
    def problem(self) -> bool:
        return self.name in PROBLEMS

    def title(self) -> str:
        """One line: what happened to which target."""
        template = _WHAT.get(self.name, self.name)
        return "dumper: " + template.format(target=self.target_name or "?")

    def when(self) -> str:
        return self.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    def text(self, url: str | None) -> str:
        """A few lines naming the target, what happened, when, the reason and the link."""
        lines = [f"{self.title().removeprefix('dumper: ')} at {self.when()}."]
        if self.target_name is not None:
            lines.append(f"Target: {self.target_name}")
        run = self.restore or self.backup
        if run is not None:
            kind = "Restore" if self.restore is not None else "Backup"
            lines.append(f"{kind} {run.id}: {run.status}")
        if self.reason:
            lines.append(f"Reason: {self.reason}")
        if url:
            lines.append(url)
        return "\n".join(lines)

    def link(self, public_url: str | None) -> str | None:
        """Where in the UI to look (PUBLIC_URL); None without PUBLIC_URL."""
        if not public_url:
            return None
        base = public_url.rstrip("/")
        if self.name == "password_undecryptable" and self.target_id is not None:
            return f"{base}/targets/{self.target_id}/edit"
        if self.target_id is None:
            return f"{base}/settings" if self.name == "disk_low" else f"{base}/"
        path = f"{base}/targets/{self.target_id}/backups"
        backup_id = self.backup.id if self.backup is not None else None
        return f"{path}?backup={backup_id}" if backup_id is not None else path


OnEvent = Callable[[Event], None]


class JobLike(Protocol):
    """What an event needs of a dumper.jobs.Job."""

    @property
    def kind(self) -> str: ...
    @property
    def id(self) -> int: ...
    @property
    def target_id(self) -> int: ...
    @property
    def target_name(self) -> str: ...
    @property
    def backup_id(self) -> int | None: ...


def job_event(job: JobLike, name: str, status: str, notes: str, at: datetime) -> Event:
    """The event of a backup or restore job (a restore also names the backup it restored)."""
    run = RunInfo(job.id, status, notes)
    backup = run if job.kind == "backup" else RunInfo(job.backup_id or 0, "success", "")
    restore = run if job.kind == "restore" else None
    return Event(name, at, job.target_id, job.target_name, notes, backup=backup, restore=restore)
