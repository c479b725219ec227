"""The scheduler: one thread that starts each target's backups at its slots (UTC): daily at
HH:MM, every N hours from a start minute (00:MM, N:MM, ... within each day), or weekly on chosen
weekdays at HH:MM.

Each tick reads the targets afresh (edits apply without a restart), runs the slots that fell
since the previous tick, and on the first tick catches up a slot missed while the service was
down (today's for daily and hourly schedules, the last week's for weekly ones). A slot is
recorded in the store before it runs, so it never runs twice, even across restarts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol, get_args

from dumper.clock import Clock
from dumper.errors import Conflict
from dumper.log import get_logger
from dumper.store import ScheduleKind, Store, Target, Weekday

log = get_logger("scheduler")

SLOT_FORMAT = "%Y-%m-%dT%H:%M"
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)
SCHEDULE_KINDS: tuple[str, ...] = get_args(ScheduleKind)


class BackupStarter(Protocol):
    def start_backup(self, target: Target, *, trigger: str = "manual") -> object: ...


@dataclass(frozen=True)
class Schedule:
    """When a target runs: `kind` daily (hour:minute), hourly (every `every_hours` hours from
    00:minute each day) or weekly (hour:minute on `weekdays`, Monday = 0)."""

    kind: str
    hour: int
    minute: int
    every_hours: int = 24
    weekdays: tuple[int, ...] = ()

    def day_slots(self, day: date) -> list[datetime]:
        """The slots on one UTC day, in order."""
        if self.kind == "hourly":
            hours: range | tuple[int, ...] = range(0, 24, self.every_hours)
        elif self.kind == "weekly" and day.weekday() not in self.weekdays:
            hours = ()
        else:
            hours = (self.hour,)
        return [datetime.combine(day, time(h, self.minute), tzinfo=UTC) for h in hours]

    def catch_up_from(self, now: datetime) -> datetime:
        """How far back the first tick looks for a missed slot."""
        if self.kind == "weekly":
            return now - timedelta(days=7)
        return datetime.combine(now.date(), time(0), tzinfo=UTC) - timedelta(microseconds=1)


def schedule_of(target: Target) -> Schedule | None:
    """The target's schedule; None when it has none (daily without a time, weekly without days)."""
    if target.schedule_kind == "hourly":
        return Schedule(
            "hourly", 0, target.schedule_minute, every_hours=target.schedule_every_hours
        )
    if not target.schedule_time:
        return None
    hour, minute = (int(part) for part in target.schedule_time.split(":"))
    if target.schedule_kind == "weekly":
        days = tuple(sorted(WEEKDAYS.index(d) for d in target.schedule_weekdays if d in WEEKDAYS))
        return Schedule("weekly", hour, minute, weekdays=days) if days else None
    return Schedule("daily", hour, minute)


def last_slot(schedule: Schedule | None, until: datetime) -> datetime | None:
    """The latest slot at or before `until`."""
    if schedule is None:
        return None
    until = until.astimezone(UTC)
    for back in range(8):  # a week and a day covers every kind
        slots = [s for s in schedule.day_slots(until.date() - timedelta(days=back)) if s <= until]
        if slots:
            return slots[-1]
    return None


def next_run_at(schedule: Schedule | None, now: datetime) -> datetime | None:
    """The first slot after `now` (None without a schedule)."""
    if schedule is None:
        return None
    now = now.astimezone(UTC)
    for ahead in range(9):
        slots = [s for s in schedule.day_slots(now.date() + timedelta(days=ahead)) if s > now]
        if slots:
            return slots[0]
    return None


def missed_slot(
    target: Target,
    last_success_started: datetime | None,
    running_since: datetime | None,
    now: datetime,
    grace: timedelta,
) -> datetime | None:
    """The slot whose backup is missing (stale target), None when the target is up to date.

    A slot counts once `grace` has passed since it, and only if it lies after the target's last
    edit (a schedule just changed owes nothing yet). A successful backup or a job that started
    at or after the slot covers it; a run that never happened at all shows here.
    """
    slot = last_slot(schedule_of(target), now - grace)
    if slot is None or slot <= target.updated_at:
        return None
    for covered in (last_success_started, running_since):
        if covered is not None and covered >= slot:
            return None
    return slot


class Scheduler:
    """`Scheduler(clock, store, runner).run(stop)`; `tick()` does one round (tests call it)."""

    def __init__(
        self,
        clock: Clock,
        store: Store,
        runner: BackupStarter,
        *,
        after_tick: Callable[[], None] | None = None,
    ) -> None:
        self.clock = clock
        self.store = store
        self.runner = runner
        self.after_tick = after_tick  # the checks that notify (stale targets, disk, passwords)
        self.last_tick_at: datetime | None = None
        self._lock = threading.Lock()
        # slots refused with Conflict (a manual job was running): retried until the next slot
        self._pending: dict[int, datetime] = {}
        self._running = False

    @property
    def running(self) -> bool:
        return self._running

    def run(self, stop: threading.Event) -> None:
        """Tick at the start of every minute until `stop` is set."""
        self._running = True
        log.info("scheduler started")
        try:
            while not stop.is_set():
                try:
                    self.tick()
                except Exception:
                    # one bad round must not end scheduling for every target
                    log.exception("scheduler tick failed")
                if self.after_tick is not None:
                    try:
                        self.after_tick()
                    except Exception:
                        log.exception("the checks after a scheduler tick failed")
                now = self.clock.now()
                # wake half a second into the next minute so that minute's slots are due
                wait = 60.5 - now.second - now.microsecond / 1_000_000
                if self.clock.sleep(wait, stop):
                    break
        finally:
            self._running = False
            log.info("scheduler stopped")

    def tick(self) -> list[int]:
        """Start every backup due since the previous tick; return the target ids started."""
        with self._lock:
            now = self.clock.now()
            previous = self.last_tick_at
            started: list[int] = []
            targets = {t.id: t for t in self.store.list_targets()}
            for target in targets.values():
                schedule = schedule_of(target)
                if schedule is None:
                    continue
                # first tick: catch up on a slot that passed while the service was down
                since = previous if previous is not None else schedule.catch_up_from(now)
                slot = self._due_slot(target, schedule, since, now)
                if slot is not None and self.store.claim_slot(
                    target.id, slot.strftime(SLOT_FORMAT)
                ):
                    log.info("scheduled backup of target %s for %s UTC", target.name, slot)
                    self._pending[target.id] = slot
            for target_id, slot in sorted(self._pending.items(), key=lambda kv: (kv[1], kv[0])):
                pending = targets.get(target_id)
                following = next_run_at(schedule_of(pending), slot) if pending else None
                if pending is None or following is None or now >= following:
                    # deleted, or its next slot is due: that one takes over
                    if pending is not None:
                        log.warning("scheduled backup of %s for %s was not run", pending.name, slot)
                    del self._pending[target_id]
                    continue
                try:
                    self.runner.start_backup(pending, trigger="scheduled")
                except Conflict:
                    log.info("target %s is busy; its scheduled backup waits", pending.name)
                    continue
                except Exception:
                    log.exception("scheduled backup of target %s could not start", pending.name)
                    del self._pending[target_id]
                    continue
                del self._pending[target_id]
                started.append(target_id)
            self.last_tick_at = now
            return started

    @staticmethod
    def _due_slot(
        target: Target, schedule: Schedule, since: datetime, now: datetime
    ) -> datetime | None:
        """The latest slot of `target` in (since, now], not before the target existed."""
        slot = last_slot(schedule, now)
        earliest = max(since, target.created_at - timedelta(microseconds=1))
        return slot if slot is not None and slot > earliest else None
