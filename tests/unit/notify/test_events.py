"""Where events come from: jobs (failed, succeeded, restore), the per-target opt-out, and the
checks each scheduler tick runs: a stale target whose scheduled run never happened, low disk
space, a stored password that cannot be decrypted."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.clock import FakeClock
from dumper.crypto import PURPOSE_TARGET_PASSWORD, Cipher
from dumper.engine import Engine
from dumper.errors import ConnectionFailed
from tests.receivers import HttpReceiver, start_http_receiver
from tests.unit.http.test_handlers import make_config, target_body

NOW = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)


class StubEngine:
    """A dump that fails to connect; a restore that succeeds (no database server here)."""

    def dump(self, params: Any, out: Path, **kw: Any) -> Any:
        raise ConnectionFailed("cannot connect to 127.0.0.1:1: (2003) refused")

    def restore(self, path: Path, params: Any, **kw: Any) -> Any:
        class Result:
            statements = 42

        return Result()

    def engine(self) -> Engine:
        return Engine(dump=self.dump, restore=self.restore, verify=self.dump)


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    yield from start_http_receiver()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW - timedelta(days=2), advance_on_sleep=False)


@pytest.fixture
def app(tmp_path: Path, clock: FakeClock, receiver: HttpReceiver) -> Iterator[App]:
    config = replace(make_config(tmp_path), public_url="https://dumper.example.org")
    application = App.build(config, clock=clock, engine=StubEngine().engine())
    application.folder.ensure()
    application.notifier.start()
    application.channels.create(
        {
            "type": "webhook",
            "name": "hook",
            "url": receiver.url,
            "events": [
                "backup_failed",
                "restore_finished",
                "restore_failed",
                "target_stale",
                "disk_low",
                "password_undecryptable",
            ],
        }
    )
    yield application
    application.stop(timeout=5)


def test_a_failed_backup_is_reported_with_its_reason_and_link(
    app: App, receiver: HttpReceiver
) -> None:
    target = app.create_target(target_body(schedule_time=None))
    backup = app.wait_backup(app.start_backup(target.id).id, timeout=10)
    body = receiver.wait_for(1)[0].json()
    assert body["event"] == "backup_failed"
    assert body["target"] == {"id": target.id, "name": "shop"}
    assert body["backup"] == {"id": backup.id, "status": "failed", "notes": backup.notes}
    assert "refused" in body["reason"]
    assert (
        body["url"] == f"https://dumper.example.org/targets/{target.id}/backups?backup={backup.id}"
    )


def test_a_target_can_opt_out(app: App, receiver: HttpReceiver) -> None:
    target = app.create_target(target_body(schedule_time=None, notify=False))
    assert app.get_target(target.id).notify is False
    app.wait_backup(app.start_backup(target.id).id, timeout=10)
    assert app.notifier.idle(5)
    assert receiver.quiet_for(0.2) == 0


def test_a_finished_restore_is_reported(app: App, receiver: HttpReceiver) -> None:
    target = app.create_target(target_body(schedule_time=None))
    (app.config.backup_dir / "shop_ok.sql.gz").write_bytes(b"x")
    row = app.store.insert_backup(target.id, app.clock.now(), "shop_ok.sql.gz", "manual")
    app.store.finish_backup(
        row.id, status="success", finished_at=app.clock.now(), duration_seconds=1.0
    )
    restore = app.wait_restore(app.start_restore(row.id, confirm="shop").id, timeout=10)
    body = receiver.wait_for(1)[0].json()
    assert body["event"] == "restore_finished"
    assert body["restore"] == {"id": restore.id, "status": "success", "notes": ""}
    assert body["backup"]["id"] == row.id


def test_a_scheduled_run_that_never_happened_is_reported_once(
    app: App, clock: FakeClock, receiver: HttpReceiver
) -> None:
    target = app.create_target(target_body(schedule_time="03:00"))
    clock.set(NOW)  # 05:00: today's 03:00 run is two hours overdue; no scheduler ran it
    app.watch.check()
    body = receiver.wait_for(1)[0].json()
    assert body["event"] == "target_stale"
    assert body["target"]["name"] == "shop" and body["backup"] is None
    assert "2026-11-26 03:00 UTC" in body["reason"]
    assert body["url"] == f"https://dumper.example.org/targets/{target.id}/backups"
    app.watch.check()
    clock.advance(timedelta(hours=3))
    app.watch.check()
    assert app.notifier.idle(5)
    assert receiver.quiet_for(0.2) == 1  # once per missed run
    clock.set(NOW + timedelta(days=1))  # the next day's run is missed too
    app.watch.check()
    assert receiver.wait_for(2)[1].json()["event"] == "target_stale"


def test_low_disk_space_is_reported_once_until_it_recovers(
    tmp_path: Path, clock: FakeClock, receiver: HttpReceiver
) -> None:
    config = replace(make_config(tmp_path), disk_low_mb=10**9)  # more than any disk has
    app = App.build(config, clock=clock)
    try:
        app.folder.ensure()
        app.notifier.start()
        app.channels.create(
            {"type": "webhook", "name": "h", "url": receiver.url, "events": ["disk_low"]}
        )
        app.watch.check()
        app.watch.check()
        body = receiver.wait_for(1)[0].json()
        assert body["event"] == "disk_low" and body["target"] is None
        assert "free" in body["reason"]
        assert app.notifier.idle(5) and receiver.quiet_for(0.2) == 1
    finally:
        app.stop(timeout=5)


def test_an_undecryptable_password_is_reported_once(app: App, receiver: HttpReceiver) -> None:
    target = app.create_target(target_body(schedule_time=None))
    other = Cipher(b"o" * 32).encrypt("pw", PURPOSE_TARGET_PASSWORD)
    with app.store.transaction() as db:
        db.execute("UPDATE targets SET password_enc=? WHERE id=?", (other, target.id))
    app.watch.check()
    app.watch.check()
    body = receiver.wait_for(1)[0].json()
    assert body["event"] == "password_undecryptable"
    assert body["target"]["name"] == "shop"
    assert body["url"] == f"https://dumper.example.org/targets/{target.id}/edit"
    assert app.notifier.idle(5) and receiver.quiet_for(0.2) == 1
