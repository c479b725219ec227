"""The daily scheduler: one thread that starts each target's backup at its HH:MM (UTC).

Each tick reads the targets afresh (edits apply without a restart), runs the slots that fell
since the previous tick, and on the first tick catches up today's missed slots. A slot is
recorded in the store before it runs, so it never runs twice, even across restarts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from dumper.clock import Clock
from dumper.errors import Conflict
from dumper.log import get_logger
from dumper.store import Store, Target

log = get_logger("scheduler")

SLOT_FORMAT = "%Y-%m-%dT%H:%M"


class BackupStarter(Protocol):
    def start_backup(self, target: Target, *, trigger: str = "manual") -> object: ...


def slot_at(day: date, schedule_time: str) -> datetime:
    hour, minute = (int(part) for part in schedule_time.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def next_run_at(schedule_time: str | None, now: datetime) -> datetime | None:
    """When a target with this schedule runs next: today's slot if still ahead, else tomorrow's."""
    if not schedule_time:
        return None
    now = now.astimezone(UTC)
    today = slot_at(now.date(), schedule_time)
    return today if today > now else slot_at(now.date() + timedelta(days=1), schedule_time)


def last_slot(schedule_time: str | None, until: datetime) -> datetime | None:
    """The latest slot at or before `until`."""
    if not schedule_time:
        return None
    until = until.astimezone(UTC)
    today = slot_at(until.date(), schedule_time)
    return today if today <= until else slot_at(until.date() - timedelta(days=1), schedule_time)


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
    slot = last_slot(target.schedule_time, now - grace)
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
            # first tick: catch up on today's slots that passed while the service was down
            since = (
                previous
                if previous is not None
                else datetime.combine(now.date(), time(0), tzinfo=UTC) - timedelta(microseconds=1)
            )
            started: list[int] = []
            targets = {t.id: t for t in self.store.list_targets()}
            for target in targets.values():
                slot = self._due_slot(target, since, now)
                if slot is not None and self.store.claim_slot(
                    target.id, slot.strftime(SLOT_FORMAT)
                ):
                    log.info("scheduled backup of target %s for %s UTC", target.name, slot)
                    self._pending[target.id] = slot
            for target_id, slot in sorted(self._pending.items(), key=lambda kv: (kv[1], kv[0])):
                pending = targets.get(target_id)
                if pending is None or now >= slot + timedelta(days=1):
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
    def _due_slot(target: Target, since: datetime, now: datetime) -> datetime | None:
        """The latest slot of `target` in (since, now], not before the target existed."""
        if not target.schedule_time:
            return None
        day = now.date()
        earliest = max(since, target.created_at - timedelta(microseconds=1))
        # walk back over the days the window spans (a suspended host may skip several)
        for _ in range(3):
            slot = slot_at(day, target.schedule_time)
            if slot <= earliest:
                return None
            if slot <= now:
                return slot
            day -= timedelta(days=1)
        return None
