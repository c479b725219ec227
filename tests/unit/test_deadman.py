"""The dead-man's switch: a target's ping URL (healthchecks.io style) is called on start, and
with /fail or plainly at the end, so an outside service notices when backups stop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dumper.app import App
from dumper.http.server import build_dispatcher
from tests.receivers import HttpReceiver, start_http_receiver
from tests.unit.http.test_cancel import WAIT, HeldEngine
from tests.unit.http.test_handlers import Api, make_config, target_body
from tests.unit.notify.test_events import StubEngine


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    yield from start_http_receiver()


def started(tmp_path: Path, engine: object) -> App:
    app = App.build(make_config(tmp_path), engine=engine.engine())  # type: ignore[attr-defined]
    app.folder.ensure()
    app.notifier.start()
    return app


def test_a_failed_backup_pings_start_then_fail_with_the_reason(
    tmp_path: Path, receiver: HttpReceiver
) -> None:
    app = started(tmp_path, StubEngine())
    try:
        ping = receiver.url + "/ping/5c1e"
        target = app.create_target(target_body(schedule_time=None, ping_url=ping, notify=False))
        assert app.get_target(target.id).ping_url == ping
        app.wait_backup(app.start_backup(target.id).id, timeout=WAIT)
        start, end = receiver.wait_for(2)
    finally:
        app.stop(timeout=5)
    assert (start.method, start.path) == ("POST", "/ping/5c1e/start")
    assert (end.method, end.path) == ("POST", "/ping/5c1e/fail")
    assert b"refused" in end.body  # the reason, for the ping's log


def test_a_cancelled_backup_pings_fail(tmp_path: Path, receiver: HttpReceiver) -> None:
    held = HeldEngine()
    app = started(tmp_path, held)
    try:
        target = app.create_target(target_body(schedule_time=None, ping_url=receiver.url + "/p"))
        backup = app.start_backup(target.id)
        assert held.entered.wait(WAIT)
        app.cancel_backup(backup.id)
        app.wait_backup(backup.id, timeout=WAIT)
        paths = [r.path for r in receiver.wait_for(2)]
        assert app.notifier.idle(5)
        [fail, start] = app.channels.deliveries()
    finally:
        app.stop(timeout=5)
    assert paths == ["/p/start", "/p/fail"]
    assert start.channel_name == "ping of shop" and start.ok and fail.ok


def test_the_ping_url_is_validated_and_optional(tmp_path: Path) -> None:
    app = App.build(make_config(tmp_path))
    try:
        api = Api(build_dispatcher(app, make_config(tmp_path)))
        status, _, body = api("POST", "/api/targets", target_body(ping_url="ftp://hc/1"))
        assert status == 422 and "ping_url" in body["error"]["fields"]
        status, _, body = api("POST", "/api/targets", target_body())
        assert status == 201 and body["ping_url"] is None
    finally:
        app.stop(timeout=5)
