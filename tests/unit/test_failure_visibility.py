"""Failure you can see: a cancel is its own state, a failure says what kind it was, a target
shows its last good backup and whether it is stale."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dumper.app import App
from dumper.clock import FakeClock
from dumper.crypto import PURPOSE_TARGET_PASSWORD, Cipher
from dumper.engine import Engine
from dumper.errors import ConnectionFailed
from dumper.http.server import build_dispatcher
from dumper.rotation import rotate
from dumper.store import CANCELLED, FAILED, SUCCESS, Status
from tests.unit.http.test_cancel import WAIT, HeldEngine
from tests.unit.http.test_handlers import Api, make_config, target_body

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class RefusingEngine:
    """A dump that cannot connect, as the real one raises it."""

    def dump(self, params: object, out: Path, **kw: object) -> object:
        raise ConnectionFailed("cannot connect to 127.0.0.1:1: (2003) refused")

    def engine(self) -> Engine:
        return Engine(dump=self.dump, restore=self.dump, verify=self.dump)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW, advance_on_sleep=False)


@pytest.fixture
def held() -> HeldEngine:
    return HeldEngine()


@pytest.fixture
def app(tmp_path: Path, held: HeldEngine, clock: FakeClock) -> Iterator[App]:
    # not started: no scheduler thread, so the fake clock's jumps start no scheduled backups
    application = App.build(make_config(tmp_path), clock=clock, engine=held.engine())
    application.folder.ensure()
    yield application
    application.stop(timeout=5)


@pytest.fixture
def api(app: App, tmp_path: Path) -> Api:
    return Api(build_dispatcher(app, make_config(tmp_path)))


def _finished(app: App, target_id: int, status: Status, when: datetime, **kw: object) -> int:
    name = f"t_{when:%Y%m%d%H%M%S}.sql.gz"
    if status == SUCCESS:
        (app.config.backup_dir / name).write_bytes(b"x" * 2048)
    row = app.store.insert_backup(target_id, when, name, "scheduled")
    app.store.finish_backup(
        row.id,
        status=status,
        finished_at=when + timedelta(seconds=5),
        duration_seconds=5.0,
        size_bytes=2048 if status == SUCCESS else None,
        **kw,  # type: ignore[arg-type]
    )
    return row.id


def test_a_cancelled_backup_is_cancelled_not_failed_and_the_target_keeps_its_state(
    api: Api, app: App, held: HeldEngine
) -> None:
    target = api("POST", "/api/targets", target_body())[2]
    good = _finished(app, target["id"], SUCCESS, NOW - timedelta(hours=3))
    backup = api("POST", f"/api/targets/{target['id']}/backup")[2]
    assert held.entered.wait(WAIT)
    assert api("POST", f"/api/backups/{backup['id']}/cancel")[0] == 202

    done = app.wait_backup(backup["id"], timeout=WAIT)

    assert done.status == "cancelled"
    assert done.notes == "cancelled by the user"
    assert done.file_name is None  # no file was kept: none is named
    shown = api("GET", f"/api/targets/{target['id']}")[2]
    assert shown["last_backup_status"] == "success"  # not red
    assert shown["last_success_at"] == app.get_backup(good).finished_at.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    metrics = app.metrics()
    assert metrics.backups_failed == 0 and metrics.backups_cancelled == 1
    assert metrics.targets[0].last_backup_ok is True


def test_a_cancelled_restore_is_cancelled(api: Api, app: App, held: HeldEngine) -> None:
    target = api("POST", "/api/targets", target_body())[2]
    good = _finished(app, target["id"], SUCCESS, NOW - timedelta(hours=1))
    restore = api("POST", f"/api/backups/{good}/restore", {"confirm": "shop"})[2]
    assert held.entered.wait(WAIT)
    api("POST", f"/api/restores/{restore['id']}/cancel")
    done = app.wait_restore(restore["id"], timeout=WAIT)
    assert done.status == "cancelled"
    assert done.notes.startswith("cancelled by the user after 7 statements")


def test_a_failed_backup_says_what_kind_of_failure_and_names_no_file(
    tmp_path: Path, clock: FakeClock
) -> None:
    app = App.build(make_config(tmp_path), clock=clock, engine=RefusingEngine().engine())
    try:
        target = app.create_target(target_body())
        done = app.wait_backup(app.start_backup(target.id).id, timeout=WAIT)
    finally:
        app.stop(timeout=5)
    assert done.status == "failed"
    assert done.error_code == "connection_failed"
    assert "refused" in done.notes
    assert done.file_name is None and done.file_exists is False


def test_an_unreadable_password_fails_a_scheduled_backup_with_its_own_code(
    tmp_path: Path, clock: FakeClock, held: HeldEngine
) -> None:
    app = App.build(make_config(tmp_path), clock=clock, engine=held.engine())
    try:
        target = app.create_target(target_body(password="pw"))
        other = Cipher(b"o" * 32).encrypt("pw", PURPOSE_TARGET_PASSWORD)
        with app.store._tx() as db:
            db.execute("UPDATE targets SET password_enc=? WHERE id=?", (other, target.id))
        done = app.start_backup(target.id, trigger="scheduled")
    finally:
        app.stop(timeout=5)
    assert done.status == "failed" and done.error_code == "decryption_failed"


def test_target_shows_last_success_even_after_a_failure(api: Api, app: App) -> None:
    target = api("POST", "/api/targets", target_body(schedule_time=None))[2]
    _finished(app, target["id"], SUCCESS, NOW - timedelta(hours=3))
    _finished(app, target["id"], FAILED, NOW - timedelta(hours=1), notes="boom")
    shown = api("GET", f"/api/targets/{target['id']}")[2]
    assert shown["last_backup_status"] == "failed"
    assert shown["last_success_at"] == "2026-11-26T09:00:05Z"
    assert shown["last_success_size_bytes"] == 2048
    assert shown["stale"] is False  # no schedule: never stale


def test_a_scheduled_target_without_a_recent_success_is_stale(
    api: Api, app: App, clock: FakeClock
) -> None:
    clock.set(NOW - timedelta(days=3))
    target = api("POST", "/api/targets", target_body(schedule_time="03:00"))[2]
    clock.set(NOW)  # 12:00: today's 03:00 run is 9 hours overdue
    _finished(app, target["id"], SUCCESS, NOW - timedelta(days=1, hours=9))  # yesterday's run
    assert api("GET", f"/api/targets/{target['id']}")[2]["stale"] is True
    _finished(app, target["id"], SUCCESS, NOW - timedelta(hours=9))  # today's run
    assert api("GET", f"/api/targets/{target['id']}")[2]["stale"] is False


def test_a_scheduled_target_is_not_stale_within_the_grace_period(
    api: Api, app: App, clock: FakeClock
) -> None:
    clock.set(NOW - timedelta(days=3))
    target = api("POST", "/api/targets", target_body(schedule_time="11:30"))[2]
    clock.set(NOW)  # the 11:30 run is 30 minutes late, the grace is 60
    _finished(app, target["id"], SUCCESS, NOW - timedelta(days=1))
    assert api("GET", f"/api/targets/{target['id']}")[2]["stale"] is False
    clock.set(NOW + timedelta(minutes=31))
    assert api("GET", f"/api/targets/{target['id']}")[2]["stale"] is True


def test_a_new_target_is_not_stale_before_its_first_slot(api: Api, app: App) -> None:
    target = api("POST", "/api/targets", target_body(schedule_time="03:00"))[2]
    assert api("GET", f"/api/targets/{target['id']}")[2]["stale"] is False


def test_rotation_looks_past_a_cancelled_attempt_and_cleans_it_by_age(app: App) -> None:
    target = app.create_target(target_body(retention_days=7))
    old = _finished(app, target.id, SUCCESS, NOW - timedelta(days=30))
    old_cancel = _finished(app, target.id, CANCELLED, NOW - timedelta(days=20))
    _finished(app, target.id, SUCCESS, NOW - timedelta(days=1))
    _finished(app, target.id, CANCELLED, NOW - timedelta(hours=1))  # the newest attempt
    row = app.store.require_target(target.id)
    deleted = rotate(row, app.store, app.clock, app.folder)
    assert len(deleted) == 2
    left = {b.id for b in app.store.list_backups(target.id)}
    assert old not in left and old_cancel not in left
