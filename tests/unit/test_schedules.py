"""Schedules beyond the daily time: every N hours from a start minute, and weekly on chosen
weekdays at a time; exact runs, next run, catch-up at start and staleness for each kind, on a
fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.clock import FakeClock
from dumper.http.server import build_dispatcher
from dumper.scheduler import Schedule, Scheduler, missed_slot, next_run_at, schedule_of
from dumper.store import Store, TargetFields
from tests.unit.http.test_handlers import Api, make_config, target_body
from tests.unit.test_scheduler import RecordingRunner

MON = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return MON + timedelta(days=day, hours=hh, minutes=mm)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "app.db")
    yield s
    s.close()


def add(store: Store, created: datetime = MON - timedelta(days=30), **schedule: Any) -> int:
    fields = TargetFields(name="t", host="h", port=3306, dbname="d", user="u", **schedule)
    return store.insert_target(fields, None, created).id


def run_minutes(store: Store, start: datetime, end: datetime) -> list[datetime]:
    """Tick every minute from start to end; the times the runner was called."""
    clock = FakeClock(start)
    runner = RecordingRunner(clock)
    sched = Scheduler(clock, store, runner)
    when = start
    while when <= end:
        clock.set(when)
        sched.tick()
        when += timedelta(minutes=1)
    return [c[2] for c in runner.calls]


def test_every_six_hours_from_minute_15(store: Store) -> None:
    add(store, schedule_kind="hourly", schedule_every_hours=6, schedule_minute=15)
    runs = run_minutes(store, at(0, 0, 0), at(1, 6, 20))
    assert runs == [at(0, h, 15) for h in (0, 6, 12, 18)] + [at(1, 0, 15), at(1, 6, 15)]


def test_every_five_hours_restarts_at_midnight(store: Store) -> None:
    add(store, schedule_kind="hourly", schedule_every_hours=5, schedule_minute=0)
    runs = run_minutes(store, at(0, 0, 0), at(1, 5, 0))
    assert runs == [at(0, h) for h in (0, 5, 10, 15, 20)] + [at(1, 0), at(1, 5)]


def test_weekly_on_monday_and_thursday(store: Store) -> None:
    # created just now: nothing to catch up from the week before
    add(
        store,
        created=at(0, 0),
        schedule_kind="weekly",
        schedule_time="02:30",
        schedule_weekdays=("mon", "thu"),
    )
    clock = FakeClock(at(0, 0))
    runner = RecordingRunner(clock)
    sched = Scheduler(clock, store, runner)
    for day in range(14):
        for hh, mm in ((2, 29), (2, 30), (2, 31)):
            clock.set(at(day, hh, mm))
            sched.tick()
    assert [c[2] for c in runner.calls] == [at(d, 2, 30) for d in (0, 3, 7, 10)]


@pytest.mark.parametrize(
    "schedule,start,caught_up",
    [
        ({"schedule_time": "03:00"}, at(2, 9, 30), at(2, 9, 30)),
        (
            {"schedule_kind": "hourly", "schedule_every_hours": 4, "schedule_minute": 10},
            at(2, 13, 40),
            at(2, 13, 40),
        ),
        (
            {"schedule_kind": "weekly", "schedule_time": "01:00", "schedule_weekdays": ("mon",)},
            at(2, 9, 0),  # Wednesday: Monday's run was missed while the service was down
            at(2, 9, 0),
        ),
    ],
)
def test_a_missed_run_is_caught_up_once_at_start(
    store: Store, schedule: dict[str, Any], start: datetime, caught_up: datetime
) -> None:
    add(store, **schedule)
    clock = FakeClock(start)
    runner = RecordingRunner(clock)
    sched = Scheduler(clock, store, runner)
    sched.tick()
    clock.advance(timedelta(minutes=1))
    sched.tick()
    assert [c[2] for c in runner.calls] == [caught_up]
    # a restart does not run it again: the slot is recorded
    again = RecordingRunner(clock)
    Scheduler(clock, store, again).tick()
    assert again.calls == []


def test_next_run_for_each_kind() -> None:
    daily = Schedule("daily", 3, 0)
    hourly = Schedule("hourly", 0, 15, every_hours=6)
    weekly = Schedule("weekly", 2, 30, weekdays=(0, 3))
    assert next_run_at(None, at(0, 1)) is None
    assert next_run_at(daily, at(0, 3)) == at(1, 3)
    assert next_run_at(hourly, at(0, 6, 15)) == at(0, 12, 15)
    assert next_run_at(hourly, at(0, 18, 16)) == at(1, 0, 15)
    assert next_run_at(weekly, at(0, 2, 30)) == at(3, 2, 30)
    assert next_run_at(weekly, at(3, 3)) == at(7, 2, 30)


def test_an_hourly_target_is_stale_an_interval_after_a_missed_run(store: Store) -> None:
    tid = add(store, schedule_kind="hourly", schedule_every_hours=2, schedule_minute=0)
    target = store.require_target(tid)
    assert schedule_of(target) == Schedule("hourly", 0, 0, every_hours=2)
    grace = timedelta(minutes=60)
    ran = at(0, 10)
    assert missed_slot(target, ran, None, at(0, 12, 59), grace) is None  # 12:00 still in grace
    assert missed_slot(target, ran, None, at(0, 13, 0), grace) == at(0, 12)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    application = App.build(
        make_config(tmp_path), clock=FakeClock(at(0, 10), advance_on_sleep=False)
    )
    yield application
    application.stop(timeout=5)


def test_schedule_fields_round_trip_and_next_run_through_the_api(app: App, tmp_path: Path) -> None:
    api = Api(build_dispatcher(app, make_config(tmp_path)))
    body = target_body(
        schedule_kind="weekly", schedule_time="02:30", schedule_weekdays=["thu", "mon"]
    )
    status, _, target = api("POST", "/api/targets", body)
    assert status == 201, target
    assert target["schedule_kind"] == "weekly"
    assert target["schedule_weekdays"] == ["mon", "thu"]  # in week order
    assert target["next_run_at"] == "2026-11-26T02:30:00Z"
    status, _, target = api(
        "PUT",
        f"/api/targets/{target['id']}",
        target_body(
            schedule_kind="hourly", schedule_every_hours=4, schedule_minute=5, schedule_time=None
        ),
    )
    assert status == 200 and target["next_run_at"] == "2026-11-23T12:05:00Z"


@pytest.mark.parametrize(
    "fields,bad",
    [
        ({"schedule_kind": "monthly"}, "schedule_kind"),
        (
            {"schedule_kind": "hourly", "schedule_every_hours": 24, "schedule_time": None},
            "schedule_every_hours",
        ),
        (
            {"schedule_kind": "hourly", "schedule_every_hours": 0, "schedule_time": None},
            "schedule_every_hours",
        ),
        (
            {"schedule_kind": "hourly", "schedule_minute": 60, "schedule_time": None},
            "schedule_minute",
        ),
        ({"schedule_kind": "weekly", "schedule_weekdays": []}, "schedule_weekdays"),
        (
            {"schedule_kind": "weekly", "schedule_weekdays": ["mon"], "schedule_time": None},
            "schedule_time",
        ),
        ({"schedule_kind": "weekly", "schedule_weekdays": ["funday"]}, "schedule_weekdays"),
    ],
)
def test_bad_schedules_are_422(app: App, tmp_path: Path, fields: dict[str, Any], bad: str) -> None:
    api = Api(build_dispatcher(app, make_config(tmp_path)))
    status, _, body = api("POST", "/api/targets", target_body(**fields))
    assert status == 422, body
    assert bad in body["error"]["fields"]
