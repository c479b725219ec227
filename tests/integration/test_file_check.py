"""Backup files over time, through the running service: real backups of a small MariaDB
database, one file with a flipped byte and one deleted; the periodic check (its interval passed
on the clock) flags both in the API and /metrics and sends one event each to a webhook."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.backup.dsn import ConnParams
from dumper.clock import FakeClock
from dumper.http.server import build_dispatcher, make_server, serve_until
from tests.conftest import _new_db, admin_exec
from tests.integration.http.test_api_flow import Client
from tests.integration.test_app_service import fill, target_data
from tests.receivers import HttpReceiver, start_http_receiver
from tests.unit.http.test_handlers import make_config

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
WEEK = timedelta(hours=168)


@pytest.fixture
def small_db(mysql_params: ConnParams) -> Iterator[ConnParams]:
    db = _new_db(mysql_params, "h_fchk")
    try:
        fill(db, rows=50)
        yield db
    finally:
        admin_exec(mysql_params, f"DROP DATABASE IF EXISTS `{db.database}`")


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    yield from start_http_receiver()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Client, App, FakeClock]]:
    config = make_config(tmp_path)
    # a frozen clock: the scheduler thread ticks every 20 ms at the time the test sets
    clock = FakeClock(NOW, advance_on_sleep=False)
    app = App.build(config, clock=clock)
    app.start()
    server = make_server(build_dispatcher(app, config), "127.0.0.1", 0, config.max_body_bytes)
    stop = threading.Event()
    thread = threading.Thread(target=serve_until, args=(server, stop), daemon=True)
    thread.start()
    try:
        yield Client(server.server_address[1]), app, clock
    finally:
        stop.set()
        thread.join(10)
        app.stop(timeout=10)


def _until(what: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := what()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return value


def test_the_periodic_check_finds_a_flipped_byte_and_a_deleted_file(
    live: tuple[Client, App, FakeClock], receiver: HttpReceiver, small_db: ConnParams
) -> None:
    client, app, clock = live
    events = ["file_corrupt", "file_missing"]
    status, _ = client(
        "POST",
        "/api/notification-channels",
        {"type": "webhook", "name": "files", "url": receiver.url, "events": events},
    )
    assert status == 201
    status, target = client("POST", "/api/targets", target_data(small_db, name="fchk"))
    assert status == 201, target
    ids = []
    for _ in range(3):
        status, started = client("POST", f"/api/targets/{target['id']}/backup")
        assert status == 202, started
        done = client.wait(f"/api/backups/{started['id']}")
        assert done["status"] == "success", done["notes"]
        ids.append(done["id"])
    good, flipped, deleted = ids
    files = {
        b["id"]: b["file_name"] for b in client("GET", f"/api/targets/{target['id']}/backups")[1]
    }
    folder = app.config.backup_dir

    # the first scheduler tick anchored the schedule: nothing is checked before a week has passed
    _until(lambda: client("GET", "/api/settings")[1]["file_check"]["next_run_at"])
    settings = client("GET", "/api/settings")[1]["file_check"]
    assert settings["next_run_at"] == "2026-12-08T03:00:00Z" and settings["last_started_at"] is None

    data = bytearray((folder / files[flipped]).read_bytes())
    data[len(data) // 2] ^= 0x40
    (folder / files[flipped]).write_bytes(bytes(data))
    (folder / files[deleted]).unlink()
    clock.set(NOW + WEEK + timedelta(minutes=1))

    settings = _until(
        lambda: (s := client("GET", "/api/settings")[1]["file_check"])["last_finished_at"] and s
    )
    assert settings["last_started_at"] == "2026-12-08T03:01:00Z"
    assert (settings["checked"], settings["corrupt"], settings["missing"]) == (3, 1, 1)
    assert settings["next_run_at"] == "2026-12-15T03:01:00Z" and not settings["running"]

    listed = {b["id"]: b for b in client("GET", f"/api/targets/{target['id']}/backups")[1]}
    assert {i: listed[i]["file_check"]["state"] for i in ids} == {
        good: "ok",
        flipped: "corrupt",
        deleted: "missing",
    }
    assert "sha256" in listed[flipped]["file_check"]["notes"]
    assert listed[deleted]["file_exists"] is False

    _resp, payload = client.raw("GET", "/metrics")
    lines = payload.decode().splitlines()
    assert "dumper_backup_files_corrupt 1" in lines and "dumper_backup_files_missing 1" in lines

    bodies = sorted((r.json() for r in receiver.wait_for(2)), key=lambda b: b["event"])
    assert [(b["event"], b["backup"]["id"], b["target"]["name"]) for b in bodies] == [
        ("file_corrupt", flipped, "fchk"),
        ("file_missing", deleted, "fchk"),
    ]
    assert files[flipped] in bodies[0]["reason"]

    # by hand: the same problems are not reported again
    status, view = client("POST", "/api/file-check")
    assert status == 202 and view["last_started_at"] == "2026-12-08T03:01:00Z"
    _until(lambda: not client("GET", "/api/settings")[1]["file_check"]["running"])
    assert receiver.quiet_for(1.0) == 2

    # a restore of the corrupt backup still checks the whole file first and refuses it
    status, restore = client("POST", f"/api/backups/{flipped}/restore", {"confirm": "fchk"})
    assert status == 202, restore
    ended = client.wait(f"/api/restores/{restore['id']}")
    assert ended["status"] == "failed" and ended["statements"] in (0, None), ended
