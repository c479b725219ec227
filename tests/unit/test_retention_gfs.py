"""Retention beyond days: keep the last N, one per day/week/month/year for the last D/W/M/Y of
each that has a backup; a backup kept by any rule stays. A year of daily backups on a fake clock
against a hand-computed kept set, and the preview the target form shows before saving."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.clock import FakeClock
from dumper.folder import BackupFolder
from dumper.http.server import build_dispatcher
from dumper.rotation import Rules, plan, rotate
from dumper.store import Store, Target, TargetFields
from tests.unit.http.test_handlers import Api, make_config, target_body

START = datetime(2025, 1, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "app.db")
    yield s
    s.close()


def make_target(store: Store, **rules: int) -> Target:
    fields = TargetFields(name="shop", host="h", port=3306, dbname="d", user="u", **rules)
    return store.insert_target(fields, None, START - timedelta(days=1))


def run_backup(store: Store, folder: BackupFolder, t: Target, when: datetime, status: str) -> int:
    name = f"shop_{when:%Y-%m-%d_%H-%M-%S}.sql.gz"
    if status == "success":
        (folder.path / name).write_bytes(b"x")
    row = store.insert_backup(t.id, when, name, "scheduled")
    store.finish_backup(
        row.id, status=status, finished_at=when + timedelta(seconds=5), duration_seconds=5
    )
    return row.id


def kept_days(store: Store, t: Target) -> list[date]:
    return sorted(b.started_at.date() for b in store.list_backups(t.id))


def test_a_year_of_daily_backups_keeps_exactly_the_hand_computed_set(
    store: Store, tmp_path: Path
) -> None:
    folder = BackupFolder(tmp_path / "backups")
    folder.ensure()
    t = make_target(store, keep_last=3, keep_daily=7, keep_weekly=4, keep_monthly=6, keep_yearly=2)
    clock = FakeClock(START)
    for day in range(365):  # 2025-01-01 .. 2025-12-31, rotation after each as jobs do
        when = START + timedelta(days=day)
        clock.set(when + timedelta(seconds=5))
        run_backup(store, folder, t, when, "success")
        rotate(t, store, clock, folder)

    d = lambda m, day: date(2025, m, day)  # noqa: E731
    expected = sorted(
        {d(12, day) for day in range(25, 32)}  # daily 7 (and last 3: 29-31)
        | {d(12, 31), d(12, 28), d(12, 21), d(12, 14)}  # weekly 4: ISO weeks 2026-W01, 52, 51, 50
        | {d(12, 31), d(11, 30), d(10, 31), d(9, 30), d(8, 31), d(7, 31)}  # monthly 6
        | {d(12, 31)}  # yearly 2: only 2025 has backups
    )
    assert kept_days(store, t) == expected
    assert sorted(p.name for p in folder.path.iterdir()) == sorted(
        f"shop_{day:%Y-%m-%d}_03-00-00.sql.gz" for day in expected
    )


def test_yearly_reaches_back_over_years_and_days_still_counts(store: Store, tmp_path: Path) -> None:
    folder = BackupFolder(tmp_path / "backups")
    folder.ensure()
    t = make_target(store, retention_days=10, keep_yearly=3)
    for year in (2021, 2022, 2023, 2024):
        for month in (3, 9):
            run_backup(store, folder, t, datetime(year, month, 1, 3, tzinfo=UTC), "success")
    now = datetime(2024, 9, 5, tzinfo=UTC)
    recent = run_backup(store, folder, t, now - timedelta(days=2), "success")
    rotate(t, store, FakeClock(now), folder)
    assert kept_days(store, t) == [
        date(2022, 9, 1),
        date(2023, 9, 1),
        date(2024, 9, 1),  # days: within 10 days (and the yearly one of 2024 is `recent`)
        (now - timedelta(days=2)).date(),
    ]
    assert recent in {b.id for b in store.list_backups(t.id)}


def test_the_plan_names_every_rule_that_keeps_a_backup(store: Store, tmp_path: Path) -> None:
    folder = BackupFolder(tmp_path / "backups")
    folder.ensure()
    t = make_target(store)
    ids = [run_backup(store, folder, t, START + timedelta(days=i), "success") for i in range(10)]
    failed_old = run_backup(store, folder, t, START - timedelta(days=40), "failed")
    failed_new = run_backup(store, folder, t, START + timedelta(days=5, hours=1), "failed")
    now = START + timedelta(days=9, hours=1)
    decision = plan(store.list_backups(t.id), Rules(last=2, weekly=1), now)
    keep = {k.backup.id: k.rules for k in decision.keep}
    assert keep[ids[9]] == ["newest", "last", "weekly"]
    assert keep[ids[8]] == ["last"]
    assert failed_new in keep  # failed rows go by age: 30 days when only keep_* rules are set
    assert {b.id for b in decision.delete} == {*ids[:8], failed_old}


def test_all_rules_off_keeps_everything_and_a_failure_stops_deleting(
    store: Store, tmp_path: Path
) -> None:
    folder = BackupFolder(tmp_path / "backups")
    folder.ensure()
    t = make_target(store)
    for i in range(5):
        run_backup(store, folder, t, START + timedelta(days=i), "success")
    now = START + timedelta(days=400)
    assert plan(store.list_backups(t.id), Rules(), now).delete == []
    run_backup(store, folder, t, now - timedelta(hours=1), "failed")
    assert plan(store.list_backups(t.id), Rules(last=1), now).delete == []


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    clock = FakeClock(START + timedelta(days=10), advance_on_sleep=False)
    application = App.build(make_config(tmp_path), clock=clock)
    application.folder.ensure()
    yield application
    application.stop(timeout=5)


def test_the_preview_shows_what_unsaved_rules_would_keep_and_delete(
    app: App, tmp_path: Path
) -> None:
    api = Api(build_dispatcher(app, make_config(tmp_path)))
    target = api("POST", "/api/targets", target_body(retention_days=0))[2]
    row = app.store.require_target(target["id"])
    ids = [
        run_backup(app.store, app.folder, row, START + timedelta(days=i), "success")
        for i in range(5)
    ]
    path = f"/api/targets/{target['id']}/retention-preview"
    status, _, stored = api("GET", path)
    assert status == 200
    assert stored["delete"] == [] and [k["id"] for k in stored["keep"]] == ids[::-1]
    assert stored["keep"][1]["rules"] == ["all"]

    status, _, body = api("GET", path + "?keep_last=2&keep_yearly=1")
    assert status == 200
    assert body["keep"] == [
        {"id": ids[4], "started_at": "2025-01-05T03:00:00Z", "rules": ["newest", "last", "yearly"]},
        {"id": ids[3], "started_at": "2025-01-04T03:00:00Z", "rules": ["last"]},
    ]
    assert body["delete"] == [
        {"id": i, "started_at": f"2025-01-0{n + 1}T03:00:00Z"}
        for n, i in reversed(list(enumerate(ids[:3])))
    ]
    assert len(app.store.list_backups(target["id"])) == 5  # a preview deletes nothing

    status, _, body = api("GET", path + "?keep_last=-1&keep_daily=x&color=red")
    assert status == 422
    assert set(body["error"]["fields"]) == {"keep_last", "keep_daily", "color"}


def test_retention_fields_round_trip_through_the_api(app: App, tmp_path: Path) -> None:
    api = Api(build_dispatcher(app, make_config(tmp_path)))
    rules: dict[str, Any] = {
        "keep_last": 3, "keep_daily": 7, "keep_weekly": 4, "keep_monthly": 12, "keep_yearly": 5,
    }  # fmt: skip
    status, _, body = api("POST", "/api/targets", target_body(**rules))
    assert status == 201 and {k: body[k] for k in rules} == rules
    status, _, body = api("POST", "/api/targets", target_body(name="x", keep_weekly=-1))
    assert status == 422 and "keep_weekly" in body["error"]["fields"]
    assert replace(Rules(), last=1).active
