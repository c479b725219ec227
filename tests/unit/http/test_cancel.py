"""POST /api/backups/:id/cancel and /api/restores/:id/cancel in-process, against a real App.

The engine is a stand-in that holds each job until it is cancelled (no database server here);
tests/integration/test_api_cancel.py runs the same routes against the real engine and MariaDB.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.backup.dump import DumpProgress
from dumper.backup.restore import RestoreProgress
from dumper.engine import Engine
from dumper.errors import Cancelled
from dumper.http.server import build_dispatcher
from dumper.store import SUCCESS
from tests.unit.http.test_handlers import Api, make_config, target_body

WAIT = 10.0


class HeldEngine:
    """Each job reports progress, writes a .part like the real dump, then waits for its cancel."""

    def __init__(self) -> None:
        self.started: list[Path] = []
        self.entered = threading.Event()
        self.restored_statements = 7

    def dump(self, params: Any, out: Path, *, cancel: threading.Event, **kw: Any) -> Any:
        self.started.append(out)
        part = out.with_name(out.name + ".part")
        part.write_bytes(b"-- dumper partial")
        kw["progress"](DumpProgress(17, 3, "orders", 1, 2))
        self.entered.set()
        cancel.wait(WAIT)
        part.unlink()
        raise Cancelled("dump cancelled")

    def restore(self, path: Path, params: Any, *, cancel: threading.Event, **kw: Any) -> Any:
        self.started.append(path)
        kw["progress"](RestoreProgress(10, 100, 2))
        self.entered.set()
        cancel.wait(WAIT)
        # what restore.py raises: the exact count, which may be ahead of the last progress report
        raise Cancelled(
            f"restore cancelled after {self.restored_statements} statements",
            statements=self.restored_statements,
        )

    def verify(self, path: Path, **kw: Any) -> Any:
        raise AssertionError("not reached: no dump completes here")

    def engine(self) -> Engine:
        return Engine(dump=self.dump, restore=self.restore, verify=self.verify)


@pytest.fixture
def held() -> HeldEngine:
    return HeldEngine()


@pytest.fixture
def app(tmp_path: Path, held: HeldEngine) -> Iterator[App]:
    application = App.build(make_config(tmp_path, max_parallel_jobs=1), engine=held.engine())
    application.start()
    yield application
    application.stop(timeout=5)


@pytest.fixture
def api(app: App, tmp_path: Path) -> Api:
    return Api(build_dispatcher(app, make_config(tmp_path)))


def _backup_files(app: App) -> list[str]:
    return sorted(p.name for p in app.config.backup_dir.iterdir())


def _successful_backup(app: App, target_id: int, name: str = "shop_ok.sql.gz") -> int:
    """A finished backup with its file, as a completed dump leaves it."""
    (app.config.backup_dir / name).write_bytes(b"dump")
    row = app.store.insert_backup(target_id, app.clock.now(), name, "manual")
    app.store.finish_backup(
        row.id,
        status=SUCCESS,
        finished_at=app.clock.now(),
        duration_seconds=1.0,
        size_bytes=4,
        sha256="ab",
        tables=1,
        rows=1,
    )
    return row.id


def test_cancel_of_a_running_backup_is_202_then_it_ends_cancelled_with_no_file(
    api: Api, app: App, held: HeldEngine
) -> None:
    target = api("POST", "/api/targets", target_body())[2]
    backup = api("POST", f"/api/targets/{target['id']}/backup")[2]
    assert held.entered.wait(WAIT)
    assert any(name.endswith(".part") for name in _backup_files(app))

    status, _, body = api("POST", f"/api/backups/{backup['id']}/cancel")

    assert status == 202
    assert body["id"] == backup["id"] and body["status"] in ("running", "cancelled")
    done = app.wait_backup(backup["id"], timeout=WAIT)
    assert done.status == "cancelled"
    assert done.notes == "cancelled by the user"
    assert done.file_exists is False
    assert _backup_files(app) == []
    assert api("GET", "/api/jobs")[2] == []


def test_cancel_of_a_queued_backup_never_runs_it_and_leaves_no_file(
    api: Api, app: App, held: HeldEngine
) -> None:
    first = api("POST", "/api/targets", target_body(name="first"))[2]
    second = api("POST", "/api/targets", target_body(name="second"))[2]
    running = api("POST", f"/api/targets/{first['id']}/backup")[2]
    assert held.entered.wait(WAIT)
    queued = api("POST", f"/api/targets/{second['id']}/backup")[2]  # one worker: it waits

    status, _, body = api("POST", f"/api/backups/{queued['id']}/cancel")
    assert status == 202 and body["status"] == "cancelled"  # no worker to wait for: ended at once
    assert api("POST", f"/api/backups/{running['id']}/cancel")[0] == 202

    assert app.wait_backup(queued["id"], timeout=WAIT).notes == "cancelled by the user"
    assert app.wait_backup(running["id"], timeout=WAIT).status == "cancelled"
    assert [p.name for p in held.started] == [running["file_name"]]  # the queued one never ran
    assert _backup_files(app) == []


def test_cancel_of_a_running_restore_says_how_many_statements_ran(
    api: Api, app: App, held: HeldEngine
) -> None:
    target = api("POST", "/api/targets", target_body())[2]
    backup_id = _successful_backup(app, target["id"])
    restore = api("POST", f"/api/backups/{backup_id}/restore", {"confirm": "shop"})[2]
    assert held.entered.wait(WAIT)

    status, _, body = api("POST", f"/api/restores/{restore['id']}/cancel")

    assert status == 202 and body["id"] == restore["id"]
    done = app.wait_restore(restore["id"], timeout=WAIT)
    assert done.status == "cancelled"
    assert done.statements == 7  # the engine's count, not the older progress report (2)
    assert done.notes.startswith("cancelled by the user after 7 statements")
    assert "partially restored" in done.notes
    assert _backup_files(app) == ["shop_ok.sql.gz"]  # the backup itself is untouched


def test_cancel_of_a_queued_restore_leaves_the_database_unchanged(
    api: Api, app: App, held: HeldEngine
) -> None:
    busy = api("POST", "/api/targets", target_body(name="busy"))[2]
    target = api("POST", "/api/targets", target_body())[2]
    holding = api("POST", f"/api/targets/{busy['id']}/backup")[2]
    assert held.entered.wait(WAIT)
    backup_id = _successful_backup(app, target["id"])
    restore = api("POST", f"/api/backups/{backup_id}/restore", {"confirm": "shop"})[2]

    assert api("POST", f"/api/restores/{restore['id']}/cancel")[0] == 202
    assert api("POST", f"/api/backups/{holding['id']}/cancel")[0] == 202

    done = app.wait_restore(restore["id"], timeout=WAIT)
    assert done.status == "cancelled" and done.statements == 0
    assert (
        done.notes
        == "cancelled by the user before the restore started: the database was not changed"
    )
    assert len(held.started) == 1  # only the backup reached the engine


def test_cancel_of_a_finished_job_is_409_and_changes_nothing(
    api: Api, app: App, held: HeldEngine
) -> None:
    target = api("POST", "/api/targets", target_body())[2]
    backup_id = _successful_backup(app, target["id"])
    status, _, body = api("POST", f"/api/backups/{backup_id}/cancel")
    assert status == 409 and body["error"]["code"] == "conflict"
    assert "success" in body["error"]["message"]
    assert app.get_backup(backup_id).status == "success"

    restore = api("POST", f"/api/backups/{backup_id}/restore", {"confirm": "shop"})[2]
    assert held.entered.wait(WAIT)
    api("POST", f"/api/restores/{restore['id']}/cancel")
    app.wait_restore(restore["id"], timeout=WAIT)
    status, _, body = api("POST", f"/api/restores/{restore['id']}/cancel")
    assert status == 409 and body["error"]["code"] == "conflict"
    assert app.get_restore(restore["id"]).notes.startswith("cancelled by the user")


def test_cancel_of_unknown_ids_is_404(api: Api) -> None:
    for path in ("/api/backups/999/cancel", "/api/restores/999/cancel"):
        status, _, body = api("POST", path)
        assert status == 404 and body["error"]["code"] == "not_found", path


def test_cancel_routes_take_no_get(api: Api) -> None:
    assert api("GET", "/api/backups/1/cancel")[0] == 405
