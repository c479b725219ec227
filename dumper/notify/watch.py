"""Checks each scheduler tick runs, for what no job can report: a target whose scheduled run is
overdue with no success (a run that never happened at all), little free space in BACKUP_DIR, a
stored password that no longer decrypts. Each is reported once, until it changes (the state
lives in SQLite, so a restart does not repeat it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from dumper.clock import Clock
from dumper.folder import BackupFolder
from dumper.log import get_logger
from dumper.notify.events import Event, OnEvent
from dumper.scheduler import missed_slot
from dumper.store import Store
from dumper.targets import PASSWORD_UNREADABLE, TargetService

log = get_logger("notify.watch")

MIB = 1024 * 1024


class Watch:
    """`check()` runs every check once; the scheduler calls it after each tick."""

    def __init__(
        self,
        store: Store,
        targets: TargetService,
        folder: BackupFolder,
        clock: Clock,
        emit: OnEvent,
        *,
        stale_grace: timedelta,
        disk_low_bytes: int,
        running_since: Callable[[int], datetime | None] = lambda target_id: None,
        also: Sequence[Callable[[datetime], object]] = (),
    ) -> None:
        self.store = store
        self.targets = targets
        self.folder = folder
        self.clock = clock
        self.emit = emit
        self.stale_grace = stale_grace
        self.disk_low_bytes = disk_low_bytes
        self.running_since = running_since
        self.also = tuple(also)  # further checks with their own state (the file check's tick)

    def check(self, now: datetime | None = None) -> None:
        now = now or self.clock.now()
        for check in (self._stale, self._disk, self._passwords, *self.also):
            try:
                check(now)
            except Exception:
                # one failing check must not keep the others (or the scheduler) from running
                log.exception("check %s failed", check.__name__)

    def _stale(self, now: datetime) -> None:
        for target in self.store.list_targets():
            good = self.store.last_success(target.id)
            slot = missed_slot(
                target,
                good.started_at if good else None,
                self.running_since(target.id),
                now,
                self.stale_grace,
            )
            key = f"stale:{target.id}"
            if slot is None:
                self._forget(key)
                continue
            stamp = slot.strftime("%Y-%m-%d %H:%M UTC")
            if self._seen(key) == stamp:
                continue
            self._remember(key, stamp)
            last = (
                f"the last successful backup started {good.started_at:%Y-%m-%d %H:%M} UTC"
                if good
                else "there is no successful backup yet"
            )
            self.emit(
                Event(
                    name="target_stale",
                    at=now,
                    target_id=target.id,
                    target_name=target.name,
                    reason=f"the run scheduled for {stamp} has not succeeded; {last}",
                )
            )

    def _disk(self, now: datetime) -> None:
        if self.disk_low_bytes <= 0:
            return
        usage = self.folder.usage()
        key = "disk_low"
        if usage.free_bytes >= self.disk_low_bytes:
            self._forget(key)
            return
        if self._seen(key) is not None:
            return
        self._remember(key, str(usage.free_bytes))
        self.emit(
            Event(
                name="disk_low",
                at=now,
                reason=(
                    f"only {usage.free_bytes / MIB:,.0f} MiB free in {self.folder.path}, below"
                    f" {self.disk_low_bytes / MIB:,.0f} MiB (DISK_LOW_MB)"
                ),
            )
        )

    def _passwords(self, now: datetime) -> None:
        for target in self.store.list_targets():
            key = f"password:{target.id}"
            if self.targets.password_error(target) is None:
                self._forget(key)
                continue
            # reported once per stored password: entering it again re-arms the check
            stamp = target.updated_at.isoformat()
            if self._seen(key) == stamp:
                continue
            self._remember(key, stamp)
            self.emit(
                Event(
                    name="password_undecryptable",
                    at=now,
                    target_id=target.id,
                    target_name=target.name,
                    reason=PASSWORD_UNREADABLE,
                )
            )

    # -- what has been reported -------------------------------------------------------------

    def _seen(self, key: str) -> str | None:
        row = self.store.query_one("SELECT value FROM notify_state WHERE key=?", (key,))
        return str(row[0]) if row is not None else None

    def _remember(self, key: str, value: str) -> None:
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO notify_state (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )

    def _forget(self, key: str) -> None:
        if self._seen(key) is not None:
            with self.store.transaction() as db:
                db.execute("DELETE FROM notify_state WHERE key=?", (key,))
