"""Notifications from real backups and restores against MariaDB, received on 127.0.0.1: the
events arrive with the right content, and a receiver that never answers holds up nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from dumper.app import App
from dumper.backup.dsn import ConnParams
from dumper.config import load_config
from tests.conftest import free_port
from tests.integration.test_app_service import fill, target_data
from tests.receivers import HttpReceiver, SilentServer, start_http_receiver

pytestmark = pytest.mark.integration
ALL = ["backup_failed", "backup_succeeded", "restore_finished", "restore_failed"]


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    yield from start_http_receiver()


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., App]]:
    apps: list[App] = []

    def make(**overrides: object) -> App:
        config = load_config(
            {
                "SQLITE_PATH": str(tmp_path / "app" / "app.db"),
                "BACKUP_DIR": str(tmp_path / "b"),
                "PUBLIC_URL": "https://dumper.example.org",
                "NOTIFY_TIMEOUT": "2",
            }
        )
        app = App.build(replace(config, **overrides))  # type: ignore[arg-type]
        app.start()
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.stop(timeout=5)


def test_a_backup_and_a_restore_are_reported_with_their_content(
    make_app: Callable[..., App], receiver: HttpReceiver, scratch_db: ConnParams
) -> None:
    fill(scratch_db)
    app = make_app()
    app.channels.create({"type": "webhook", "name": "all", "url": receiver.url, "events": ALL})
    target = app.create_target(target_data(scratch_db))
    backup = app.wait_backup(app.start_backup(target.id).id, timeout=60)
    assert backup.status == "success", backup.notes
    body = receiver.wait_for(1)[0].json()
    assert body["event"] == "backup_succeeded"
    assert body["target"] == {"id": target.id, "name": "shop"}
    assert body["backup"] == {"id": backup.id, "status": "success", "notes": ""}
    assert (
        body["url"] == f"https://dumper.example.org/targets/{target.id}/backups?backup={backup.id}"
    )

    restore = app.wait_restore(app.start_restore(backup.id, confirm="shop").id, timeout=60)
    assert restore.status == "success", restore.notes
    body = receiver.wait_for(2)[1].json()
    assert body["event"] == "restore_finished"
    assert body["restore"]["id"] == restore.id and body["backup"]["id"] == backup.id


def test_a_successful_backup_pings_start_then_the_plain_url(
    make_app: Callable[..., App], receiver: HttpReceiver, scratch_db: ConnParams
) -> None:
    fill(scratch_db)
    app = make_app()
    ping = receiver.url + "/ping/0d1e"
    target = app.create_target(target_data(scratch_db, ping_url=ping))
    assert app.wait_backup(app.start_backup(target.id).id, timeout=60).status == "success"
    start, done = receiver.wait_for(2)
    assert (start.method, start.path) == ("POST", "/ping/0d1e/start")
    assert (done.method, done.path) == ("POST", "/ping/0d1e")


def test_a_failed_backup_is_reported_with_the_servers_reason(
    make_app: Callable[..., App], receiver: HttpReceiver, scratch_db: ConnParams
) -> None:
    app = make_app()
    app.channels.create({"type": "webhook", "name": "all", "url": receiver.url, "events": ALL})
    target = app.create_target(target_data(scratch_db, password="wrong-password"))
    backup = app.wait_backup(app.start_backup(target.id).id, timeout=60)
    assert backup.status == "failed"
    body = receiver.wait_for(1)[0].json()
    assert body["event"] == "backup_failed"
    assert body["reason"] == backup.notes and "1045" in body["reason"]  # access denied
    assert body["backup"]["status"] == "failed"


def test_a_dead_receiver_does_not_slow_or_fail_a_backup(
    make_app: Callable[..., App], scratch_db: ConnParams
) -> None:
    fill(scratch_db)
    quick = make_app()
    target = quick.create_target(target_data(scratch_db))
    began = time.monotonic()
    assert quick.wait_backup(quick.start_backup(target.id).id, timeout=60).status == "success"
    alone = time.monotonic() - began
    quick.stop(timeout=5)

    silent = SilentServer()
    try:
        app = make_app(notify_timeout=30.0)
        for i, url in enumerate(
            (f"http://127.0.0.1:{silent.port}/", f"http://127.0.0.1:{free_port()}/")
        ):
            app.channels.create({"type": "webhook", "name": f"dead{i}", "url": url, "events": ALL})
        began = time.monotonic()
        backup = app.wait_backup(app.start_backup(target.id).id, timeout=60)
        took = time.monotonic() - began
    finally:
        silent.close()
    assert backup.status == "success", backup.notes
    assert took < alone + 2.0  # the hanging receiver (30 s timeout) is not waited for
    assert app.get_target(target.id).last_backup_status == "success"
