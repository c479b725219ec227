"""DELETE /api/targets/:id with keep_files=true: the target and its backup rows go, the files stay
in BACKUP_DIR, where /api/settings then lists them as unknown files."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.http.server import build_dispatcher
from tests.unit.http.test_handlers import Api, make_config, target_body

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    application = App.build(make_config(tmp_path))
    application.start()
    yield application
    application.stop(timeout=5)


@pytest.fixture
def api(app: App, tmp_path: Path) -> Api:
    return Api(build_dispatcher(app, make_config(tmp_path)))


def backup_with_file(app: App, target_id: int, name: str) -> int:
    row = app.store.insert_backup(target_id, NOW, name, "manual")
    app.config.backup_dir.mkdir(parents=True, exist_ok=True)
    (app.config.backup_dir / name).write_bytes(b"x" * 10)
    app.store.finish_backup(
        row.id, status="success", finished_at=NOW, duration_seconds=1.0, size_bytes=10
    )
    return row.id


def failed_backup(app: App, target_id: int, name: str) -> int:
    row = app.store.insert_backup(target_id, NOW, name, "scheduled")
    app.store.finish_backup(row.id, status="failed", finished_at=NOW, duration_seconds=0.1)
    return row.id


def test_delete_target_keeping_files_removes_the_rows_and_leaves_the_files(
    app: App, api: Api
) -> None:
    target: dict[str, Any] = api("POST", "/api/targets", target_body())[2]
    kept = backup_with_file(app, target["id"], "shop_2026-11-26_03-00-00.sql.gz")
    failed_backup(app, target["id"], "shop_2026-11-26_04-00-00.sql.gz")

    assert api("DELETE", f"/api/targets/{target['id']}?keep_files=true")[0] == 204

    assert api("GET", f"/api/targets/{target['id']}")[0] == 404
    assert api("GET", f"/api/backups/{kept}")[0] == 404
    assert (app.config.backup_dir / "shop_2026-11-26_03-00-00.sql.gz").read_bytes() == b"x" * 10
    unknown = [f["name"] for f in api("GET", "/api/settings")[2]["unknown_files"]]
    assert unknown == ["shop_2026-11-26_03-00-00.sql.gz"]


def test_delete_target_without_an_option_still_refuses_when_backups_exist(
    app: App, api: Api
) -> None:
    target: dict[str, Any] = api("POST", "/api/targets", target_body())[2]
    backup_with_file(app, target["id"], "shop_a.sql.gz")
    status, _, body = api("DELETE", f"/api/targets/{target['id']}")
    assert status == 409 and body["error"]["code"] == "conflict"
    assert "keep_files=true" in body["error"]["message"]
    assert api("GET", f"/api/targets/{target['id']}")[0] == 200


def test_keep_files_wins_over_with_backups_so_no_file_is_lost_by_sending_both(
    app: App, api: Api
) -> None:
    target: dict[str, Any] = api("POST", "/api/targets", target_body())[2]
    backup_with_file(app, target["id"], "shop_b.sql.gz")
    path = f"/api/targets/{target['id']}?with_backups=true&keep_files=true"
    assert api("DELETE", path)[0] == 204
    assert (app.config.backup_dir / "shop_b.sql.gz").exists()


def test_delete_rejects_a_malformed_keep_files_flag(api: Api) -> None:
    target: dict[str, Any] = api("POST", "/api/targets", target_body())[2]
    status, _, body = api("DELETE", f"/api/targets/{target['id']}?keep_files=perhaps")
    assert status == 422 and body["error"]["fields"] == {"keep_files": "must be true or false"}


def test_openapi_documents_keep_files(api: Api) -> None:
    spec = api("GET", "/api/openapi.json")[2]
    names = {p["name"] for p in spec["paths"]["/api/targets/{id}"]["delete"]["parameters"]}
    assert {"with_backups", "keep_files"} <= names
