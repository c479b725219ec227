"""Retention: after a successful backup, delete what no rule of the target keeps.

Rules (0 = off): `retention_days` keeps everything younger; `keep_last` the newest N; `keep_daily`,
`keep_weekly`, `keep_monthly`, `keep_yearly` the newest backup of each of the last D days, W ISO
weeks, M months, Y years that have one (restic and borg count them the same way). A backup kept by
any rule stays; with every rule off everything stays. Never the newest successful backup, never a
running one, never after a failed backup; failed and cancelled rows go by age.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dumper.clock import Clock
from dumper.folder import BackupFolder, remove_path
from dumper.log import get_logger
from dumper.store import CANCELLED, RUNNING, SUCCESS, Backup, Store, Target

log = get_logger("rotation")

# Failed and cancelled rows when only keep_* rules are set (retention_days 0): kept this long.
FAILED_ROWS_DAYS = 30
_BUCKETS: tuple[tuple[str, Callable[[datetime], Hashable]], ...] = (
    ("daily", lambda t: t.date()),
    ("weekly", lambda t: t.isocalendar()[:2]),
    ("monthly", lambda t: (t.year, t.month)),
    ("yearly", lambda t: t.year),
)


@dataclass(frozen=True)
class Rules:
    days: int = 0
    last: int = 0
    daily: int = 0
    weekly: int = 0
    monthly: int = 0
    yearly: int = 0

    @classmethod
    def of(cls, target: Target) -> Rules:
        return cls.named({n: getattr(target, n) for n in ("retention_days", *KEEP_FIELDS)})

    @classmethod
    def named(cls, values: Mapping[str, int]) -> Rules:
        """From the target fields' names: retention_days, keep_last, ..., keep_yearly."""
        return cls(
            days=values.get("retention_days", 0),
            **{name.removeprefix("keep_"): values.get(name, 0) for name in KEEP_FIELDS},
        )

    @property
    def active(self) -> bool:
        return any((self.days, self.last, self.daily, self.weekly, self.monthly, self.yearly))


KEEP_FIELDS = ("keep_last", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly")


@dataclass(frozen=True)
class Kept:
    backup: Backup
    rules: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    keep: list[Kept]  # newest first
    delete: list[Backup]  # newest first


def plan(backups: Sequence[Backup], rules: Rules, now: datetime) -> Decision:
    """What `rules` keep of `backups` (newest first) at `now`, and why; nothing is deleted."""
    why: dict[int, list[str]] = {b.id: [] for b in backups}
    if not rules.active:
        return Decision([Kept(b, ["all"]) for b in backups], [])
    finished = [b for b in backups if b.status not in (RUNNING, CANCELLED)]
    if not finished or finished[0].status != SUCCESS:
        # the latest attempt failed: keep everything until a good backup exists again
        return Decision([Kept(b, ["after_failure"]) for b in backups], [])
    good = [b for b in backups if b.status == SUCCESS]
    why[good[0].id].append("newest")
    cutoff = now - timedelta(days=rules.days)
    failed_cutoff = now - timedelta(days=rules.days or FAILED_ROWS_DAYS)
    for b in backups:
        if b.status == RUNNING:
            why[b.id].append("running")
        elif b.status != SUCCESS and b.started_at >= failed_cutoff:
            why[b.id].append("recent")
        elif b.status == SUCCESS and rules.days and b.started_at >= cutoff:
            why[b.id].append("days")
    for b in good[: rules.last]:
        why[b.id].append("last")
    for name, bucket in _BUCKETS:
        count = getattr(rules, name)
        seen: set[Hashable] = set()
        for b in good:  # newest first: the first of a bucket is its newest
            if len(seen) >= count:
                break
            key = bucket(b.started_at)
            if key not in seen:
                seen.add(key)
                why[b.id].append(name)
    keep = [Kept(b, why[b.id]) for b in backups if why[b.id]]
    return Decision(keep, [b for b in backups if not why[b.id]])


@dataclass(frozen=True)
class RetentionKept:
    id: int
    started_at: datetime
    rules: list[str]  # why it stays: newest, running, days, last, daily, weekly, monthly, ...


@dataclass(frozen=True)
class RetentionDeleted:
    id: int
    started_at: datetime


@dataclass(frozen=True)
class RetentionPreview:
    keep: list[RetentionKept]  # newest first
    delete: list[RetentionDeleted]  # newest first; what the next rotation would delete


def preview(backups: Sequence[Backup], rules: Rules, now: datetime) -> RetentionPreview:
    """The plan as GET /api/targets/:id/retention-preview answers it."""
    decision = plan(backups, rules, now)
    return RetentionPreview(
        keep=[RetentionKept(k.backup.id, k.backup.started_at, k.rules) for k in decision.keep],
        delete=[RetentionDeleted(b.id, b.started_at) for b in decision.delete],
    )


def rotate(target: Target, store: Store, clock: Clock, folder: BackupFolder) -> list[str]:
    """Delete what the target's rules do not keep (file and row); return what went, by name."""
    rules = Rules.of(target)
    if not rules.active:
        return []
    decision = plan(store.list_backups(target.id), rules, clock.now())
    deleted: list[str] = []
    for backup in decision.delete:
        path = folder.file(backup.file_path)
        label = path.name if path is not None else f"backup {backup.id}"
        if path is not None:
            try:
                remove_path(path, missing_ok=False)  # a file, or a backup set's folder
            except FileNotFoundError:
                log.info("rotation: %s of target %s was already gone", label, target.name)
            except OSError as exc:
                # keep the row so the file stays visible and the next rotation retries
                log.warning("rotation: cannot delete %s: %s", path, exc)
                continue
        store.delete_backup(backup.id)
        deleted.append(f"{label} ({backup.status})" if backup.status != SUCCESS else label)
    if deleted:
        log.info("rotation of target %s deleted: %s", target.name, ", ".join(deleted))
    return deleted
