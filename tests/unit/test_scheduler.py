"""The scheduler with a fake clock: exact times, day change, catch-up, no double run, edits."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dumper.clock import FakeClock
from dumper.errors import Conflict
from dumper.scheduler import Schedule, Scheduler, next_run_at
from dumper.store import Store, Target, TargetFields

DAY = datetime(2026, 11, 26, tzinfo=UTC)


def at(hh: int, mm: int, ss: int = 0, day: int = 0) -> datetime:
    return DAY + timedelta(days=day, hours=hh, minutes=mm, seconds=ss)


class RecordingRunner:
    """Stands in for the JobRunner (tested against MariaDB in tests/integration/test_jobs.py)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[tuple[int, str, datetime]] = []
        self.busy: set[int] = set()

    def start_backup(self, target: Target, *, trigger: str = "manual") -> None:
        if target.id in self.busy:
            raise Conflict("busy")
        self.calls.append((target.id, trigger, self.clock.now()))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "app.db")
    yield s
    s.close()


def add(store: Store, name: str, schedule: str | None, created: datetime = DAY) -> int:
    fields = TargetFields(
        name=name, host="h", port=3306, dbname="d", user="u", schedule_time=schedule
    )
    return store.insert_target(fields, None, created).id


def make(store: Store, start: datetime) -> tuple[Scheduler, FakeClock, RecordingRunner]:
    clock = FakeClock(start)
    runner = RecordingRunner(clock)
    return Scheduler(clock, store, runner), clock, runner


def test_runs_exactly_at_the_minute_and_not_before(store: Store) -> None:
    t = add(store, "a", "03:00")
    sched, clock, runner = make(store, at(2, 58, 30))
    sched.tick()
    clock.set(at(2, 59, 0))
    sched.tick()
    clock.set(at(2, 59, 59))
    sched.tick()
    assert runner.calls == []
    clock.set(at(3, 0, 0))
    assert sched.tick() == [t]
    assert runner.calls == [(t, "scheduled", at(3, 0))]


def test_no_double_run_within_the_minute_or_after_restart(store: Store) -> None:
    t = add(store, "a", "03:00")
    sched, clock, runner = make(store, at(2, 59, 30))
    sched.tick()
    clock.set(at(3, 0, 0))
    sched.tick()
    clock.set(at(3, 0, 40))
    sched.tick()
    clock.set(at(3, 5))
    sched.tick()
    assert [c[0] for c in runner.calls] == [t]
    # a restart later the same day: the slot is recorded, so no catch-up run
    again, _, runner2 = make(store, at(3, 10))
    again.tick()
    assert runner2.calls == []


def test_day_change_runs_again_next_day(store: Store) -> None:
    t = add(store, "a", "00:00")
    sched, clock, runner = make(store, at(23, 59, 0, day=-1))
    sched.tick()
    clock.set(at(0, 0, 0, day=0))
    sched.tick()
    clock.set(at(23, 59, 0, day=0))
    sched.tick()
    clock.set(at(0, 0, 0, day=1))
    sched.tick()
    assert [c[2] for c in runner.calls] == [at(0, 0), at(0, 0, day=1)]
    assert all(c[0] == t for c in runner.calls)


def test_catch_up_once_at_start_for_todays_missed_slot(store: Store) -> None:
    t = add(store, "a", "03:00", created=DAY - timedelta(days=10))
    later = add(store, "later", "18:00", created=DAY - timedelta(days=10))
    sched, clock, runner = make(store, at(9, 30))
    assert sched.tick() == [t]
    clock.set(at(9, 31))
    assert sched.tick() == []
    assert [c[0] for c in runner.calls] == [t]
    clock.set(at(18, 0))
    assert sched.tick() == [later]


def test_no_catch_up_of_yesterdays_slot(store: Store) -> None:
    add(store, "a", "23:00", created=DAY - timedelta(days=10))
    sched, _, runner = make(store, at(1, 0))
    sched.tick()
    assert runner.calls == []


def test_no_catch_up_for_a_target_created_after_its_slot(store: Store) -> None:
    add(store, "new", "03:00", created=at(8, 0))
    sched, _, runner = make(store, at(9, 0))
    sched.tick()
    assert runner.calls == []


def test_edits_take_effect_without_restart(store: Store) -> None:
    t = add(store, "a", "03:00")
    sched, clock, runner = make(store, at(9, 0))
    sched.tick()  # catch-up of 03:00
    runner.calls.clear()
    fields = TargetFields(
        name="a", host="h", port=3306, dbname="d", user="u", schedule_time="10:15"
    )
    store.update_target(t, fields, clock.now())
    clock.set(at(10, 14, 59))
    sched.tick()
    clock.set(at(10, 15, 0))
    sched.tick()
    assert [c[2] for c in runner.calls] == [at(10, 15)]
    # schedule removed: nothing runs any more
    store.update_target(
        t, TargetFields(name="a", host="h", port=3306, dbname="d", user="u"), at(11, 0)
    )
    clock.set(at(10, 15, day=1))
    sched.tick()
    assert len(runner.calls) == 1


def test_a_target_created_while_running_is_picked_up(store: Store) -> None:
    sched, clock, _ = make(store, at(9, 0))
    sched.tick()
    t = add(store, "new", "09:05", created=at(9, 1))
    clock.set(at(9, 5, 0))
    assert sched.tick() == [t]


def test_a_deleted_target_does_not_run(store: Store) -> None:
    t = add(store, "a", "09:05")
    sched, clock, runner = make(store, at(9, 0))
    sched.tick()
    store.delete_target(t)
    clock.set(at(9, 5))
    sched.tick()
    assert runner.calls == []


def test_many_targets_at_the_same_minute_all_start(store: Store) -> None:
    ids = [add(store, f"t{i}", "04:00") for i in range(12)]
    sched, clock, runner = make(store, at(3, 59, 30))
    sched.tick()
    clock.set(at(4, 0))
    assert sorted(sched.tick()) == sorted(ids)
    assert sorted(c[0] for c in runner.calls) == sorted(ids)


def test_busy_target_is_retried_until_it_can_start_but_only_once(store: Store) -> None:
    t = add(store, "a", "04:00")
    sched, clock, runner = make(store, at(3, 59))
    sched.tick()
    runner.busy.add(t)
    clock.set(at(4, 0))
    assert sched.tick() == []
    clock.set(at(4, 1))
    assert sched.tick() == []
    runner.busy.clear()
    clock.set(at(4, 2))
    assert sched.tick() == [t]
    clock.set(at(4, 3))
    assert sched.tick() == []
    assert len(runner.calls) == 1


def test_run_wakes_each_minute_and_stops_on_the_event(store: Store) -> None:
    t = add(store, "a", "03:02")
    clock = FakeClock(at(3, 0, 10))
    stop = threading.Event()

    class StopAfterRun(RecordingRunner):
        def start_backup(self, target: Target, *, trigger: str = "manual") -> None:
            super().start_backup(target, trigger=trigger)
            stop.set()

    runner = StopAfterRun(clock)
    sched = Scheduler(clock, store, runner)
    thread = threading.Thread(target=sched.run, args=(stop,))
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    assert sched.running is False
    assert runner.calls == [(t, "scheduled", at(3, 2, 0) + timedelta(seconds=0.5))]
    # first wait lands half a second into the next minute
    assert clock.sleeps[0] == pytest.approx(50.5)


def test_next_run_at() -> None:
    assert next_run_at(None, at(1, 0)) is None
    assert next_run_at(Schedule("daily", 3, 0), at(1, 0)) == at(3, 0)
    assert next_run_at(Schedule("daily", 3, 0), at(3, 0)) == at(3, 0, day=1)
    assert next_run_at(Schedule("daily", 3, 0), at(23, 0)) == at(3, 0, day=1)
    assert next_run_at(Schedule("daily", 0, 0), at(23, 59, 59)) == at(0, 0, day=1)


def test_a_start_error_is_logged_and_not_retried(store: Store) -> None:
    t = add(store, "a", "04:00")
    sched, clock, runner = make(store, at(3, 59))
    sched.tick()

    def broken(target: Target, *, trigger: str = "manual") -> None:
        raise RuntimeError("disk on fire")

    runner.start_backup = broken  # type: ignore[method-assign]
    clock.set(at(4, 0))
    assert sched.tick() == []
    clock.set(at(4, 1))
    assert sched.tick() == []
    assert store.last_slot(t) == "2026-11-26T04:00"


def test_a_busy_target_deleted_before_it_frees_up_is_dropped(store: Store) -> None:
    t = add(store, "a", "04:00")
    sched, clock, runner = make(store, at(3, 59))
    sched.tick()
    runner.busy.add(t)
    clock.set(at(4, 0))
    sched.tick()
    store.delete_target(t)
    runner.busy.clear()
    clock.set(at(4, 1))
    assert sched.tick() == []
    assert runner.calls == []


def test_a_busy_slot_gives_way_to_the_next_days_slot(store: Store) -> None:
    t = add(store, "a", "04:00")
    sched, clock, runner = make(store, at(3, 59))
    sched.tick()
    runner.busy.add(t)
    for day in (0, 1):
        clock.set(at(4, 0, day=day))
        sched.tick()
    runner.busy.clear()
    clock.set(at(4, 1, day=1))
    assert sched.tick() == [t]
    assert len(runner.calls) == 1
    assert store.last_slot(t) == "2026-11-27T04:00"


def test_a_failing_tick_does_not_end_the_loop(store: Store) -> None:
    clock = FakeClock(at(3, 0))
    stop = threading.Event()
    sched = Scheduler(clock, store, RecordingRunner(clock))
    rounds = []

    def failing_tick() -> list[int]:
        rounds.append(clock.now())
        if len(rounds) >= 3:
            stop.set()
        raise RuntimeError("boom")

    sched.tick = failing_tick  # type: ignore[method-assign]
    sched.run(stop)
    assert len(rounds) == 3
