"""POST /api/file-check in-process: 202 with the check's state, 409 while one runs, the state in
/api/settings and each backup's verdict in its view."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dumper.app import App
from dumper.clock import FakeClock
from dumper.http.server import build_dispatcher
from dumper.store import SUCCESS, TargetFields
from tests.unit.http.test_handlers import Api, make_config

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    application = App.build(make_config(tmp_path), clock=FakeClock(NOW))
    application.folder.ensure()
    yield application
    application.stop(timeout=5)


def seed(app: App, data: bytes) -> int:
    target = app.store.insert_target(
        TargetFields(name="shop", host="h", port=3306, dbname="d", user="u"), None, NOW
    )
    (app.folder.path / "shop.sql.gz").write_bytes(data)
    backup = app.store.insert_backup(target.id, NOW, "shop.sql.gz", "manual")
    app.store.finish_backup(
        backup.id,
        status=SUCCESS,
        finished_at=NOW,
        duration_seconds=1.0,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    return backup.id


def test_a_check_by_hand_is_202_and_a_second_one_meanwhile_409(app: App, tmp_path: Path) -> None:
    backup_id = seed(app, b"x" * 300_000)
    api = Api(build_dispatcher(app, make_config(tmp_path)))
    status, _, settings = api("GET", "/api/settings")
    assert settings["file_check"] == {
        "interval_hours": 168,
        "running": False,
        "last_started_at": None,
        "last_finished_at": None,
        "next_run_at": None,
        "checked": 0,
        "corrupt": 0,
        "missing": 0,
    }
    app.file_check.chunk, app.file_check.pause = 1024, 10_000.0  # slow: still running below
    status, _, view = api("POST", "/api/file-check")
    assert status == 202 and view["running"] and view["last_started_at"] == "2026-12-01T03:00:00Z"
    status, _, error = api("POST", "/api/file-check")
    assert status == 409 and error["error"]["code"] == "conflict"
    assert api("GET", "/api/settings")[2]["file_check"]["running"] is True
    app.file_check.stop()

    app.file_check.pause = 0.0
    assert api("POST", "/api/file-check")[0] == 202
    assert app.file_check.wait(10)
    backup = api("GET", f"/api/backups/{backup_id}")[2]
    assert backup["file_check"] == {
        "state": "ok",
        "checked_at": "2026-12-01T03:00:00Z",
        "notes": "",
    }
    assert api("GET", "/api/settings")[2]["file_check"]["checked"] == 1
