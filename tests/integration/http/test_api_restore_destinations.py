"""Restore somewhere else over a real socket: a new database by name, another target, tables,
clean; and every refusal is a 4xx that names the field and runs nothing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.backup.dsn import ConnParams
from tests.conftest import admin_exec
from tests.integration.http import test_api_flow
from tests.integration.http.test_api_flow import Client, _seed, _snapshot, _sql, _target_body

pytestmark = pytest.mark.integration

live = test_api_flow.live


def _backup(api: Client, db: ConnParams, name: str) -> tuple[int, dict[str, Any]]:
    status, target = api("POST", "/api/targets", {**_target_body(db), "name": name})
    assert status == 201, target
    status, started = api("POST", f"/api/targets/{target['id']}/backup")
    assert status == 202, started
    backup = api.wait(f"/api/backups/{started['id']}")
    assert backup["status"] == "success", backup["notes"]
    return target["id"], backup


def test_restore_into_a_new_database_by_name_and_into_another_target_over_http(
    live: tuple[Client, App, Path],
    scratch_db_factory: Any,
    mysql_params: ConnParams,
) -> None:
    api = live[0]
    src, staging = scratch_db_factory(), scratch_db_factory()
    _seed(src)
    original = _snapshot(src)
    tid, backup = _backup(api, src, "prod")
    other_id, _ = _backup(api, staging, "staging")  # an empty database stands in for a server
    new_name = f"{src.database}_copy"
    try:
        # a new database on the backup's server: confirmed by its own name
        status, err = api(
            "POST",
            f"/api/backups/{backup['id']}/restore",
            {"database": new_name, "confirm": "prod"},
        )
        assert status == 400 and err["error"]["code"] == "confirmation_required", err
        status, run = api(
            "POST",
            f"/api/backups/{backup['id']}/restore",
            {"database": new_name, "confirm": new_name},
        )
        assert status == 202, run
        done = api.wait(f"/api/restores/{run['id']}")
        assert done["status"] == "success", done["notes"]
        assert _snapshot(src.with_database(new_name)) == original

        # another target, only the customers table: the destination's name confirms
        _sql(staging, "CREATE TABLE keep_me (id INT)", "INSERT INTO keep_me VALUES (7)")
        body = {"target_id": other_id, "tables": ["customers"], "confirm": "staging"}
        status, run = api("POST", f"/api/backups/{backup['id']}/restore", body)
        assert status == 202, run
        done = api.wait(f"/api/restores/{run['id']}")
        assert done["status"] == "success", done["notes"]
        assert _sql(staging, "SELECT * FROM customers ORDER BY id") == original["customers"]
        assert _sql(staging, "SELECT id FROM keep_me") == [(7,)]
        assert _sql(staging, "SHOW TABLES LIKE 'orders'") == []

        status, history = api("GET", f"/api/targets/{other_id}/restores")
        assert status == 200 and history[0]["backup_id"] == backup["id"]
        status, history = api("GET", f"/api/targets/{tid}/restores")
        assert status == 200 and {h["database"] for h in history} >= {new_name}
    finally:
        admin_exec(mysql_params, f"DROP DATABASE IF EXISTS `{new_name}`")


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"target_id": 999_999, "confirm": "x"}, 404, "not_found", None),
        ({"target_id": "two", "confirm": "x"}, 422, "invalid_input", "target_id"),
        ({"database": "bad`name", "confirm": "bad`name"}, 422, "invalid_input", "database"),
        ({"database": "", "confirm": ""}, 422, "invalid_input", "database"),
        ({"target_id": 1, "database": "x", "confirm": "x"}, 422, "invalid_input", None),
        ({"tables": "customers", "confirm": "prod"}, 422, "invalid_input", "tables"),
        ({"definer": "root", "confirm": "prod"}, 422, "invalid_input", "definer"),
        ({"clean": "yes", "confirm": "prod"}, 422, "invalid_input", "clean"),
    ],
)
def test_a_bad_restore_request_is_refused_naming_the_field_and_runs_nothing(
    live: tuple[Client, App, Path],
    scratch_db: ConnParams,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str | None,
) -> None:
    api = live[0]
    _seed(scratch_db)
    _, backup = _backup(api, scratch_db, "prod")
    _sql(scratch_db, "UPDATE customers SET name = 'changed'")
    changed = _snapshot(scratch_db)
    got, err = api("POST", f"/api/backups/{backup['id']}/restore", body)
    assert (got, err["error"]["code"]) == (status, code), err
    if field is not None:
        assert field in err["error"].get("fields", {}), err
    assert api("GET", "/api/jobs") == (200, [])
    time.sleep(0.2)
    assert _snapshot(scratch_db) == changed


def test_a_table_the_backup_does_not_hold_fails_the_restore_before_any_statement(
    live: tuple[Client, App, Path], scratch_db: ConnParams
) -> None:
    api = live[0]
    _seed(scratch_db)
    _, backup = _backup(api, scratch_db, "prod")
    _sql(scratch_db, "UPDATE customers SET name = 'changed'")
    changed = _snapshot(scratch_db)
    body = {"tables": ["customers", "nope"], "confirm": "prod"}
    status, run = api("POST", f"/api/backups/{backup['id']}/restore", body)
    assert status == 202, run
    done = api.wait(f"/api/restores/{run['id']}")
    assert done["status"] == "failed"
    assert "tables not in the backup: nope" in done["notes"]
    assert _snapshot(scratch_db) == changed
