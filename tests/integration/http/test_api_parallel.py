"""A target's parallel_connections over a real socket: backups read over several connections
restore the same; out of range is a 422; a user without RELOAD gets a backup that says why it
used one connection."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.backup import restore_parallel
from dumper.backup.dsn import ConnParams
from dumper.backup.restore import restore_file
from tests.conftest import admin_exec
from tests.fixtures.dbcompare import assert_same, query
from tests.integration.http import test_api_flow
from tests.integration.http.test_api_flow import Client, _seed, _target_body

pytestmark = pytest.mark.integration

live = test_api_flow.live


def _backup(api: Client, tid: int) -> dict[str, Any]:
    status, started = api("POST", f"/api/targets/{tid}/backup")
    assert status == 202, started
    return api.wait(f"/api/backups/{started['id']}")


def test_a_target_reading_over_two_connections_backs_up_what_restores_equal(
    live: tuple[Client, App, Path], scratch_db_factory: Any
) -> None:
    api, _, backup_dir = live
    src, dst = scratch_db_factory(), scratch_db_factory()
    _seed(src)
    body = {**_target_body(src), "parallel_connections": 2}
    status, target = api("POST", "/api/targets", body)
    assert status == 201 and target["parallel_connections"] == 2, target
    backup = _backup(api, target["id"])
    assert backup["status"] == "success" and backup["warnings"] == [], backup
    restore_file(backup_dir / backup["file_name"], dst)
    assert_same(src, dst)

    for bad in (0, 5, "2", None):
        status, err = api(
            "PUT", f"/api/targets/{target['id']}", {**body, "parallel_connections": bad}
        )
        assert status == 422 and "parallel_connections" in err["error"]["fields"], (bad, err)
    assert api("GET", f"/api/targets/{target['id']}")[1]["parallel_connections"] == 2


@pytest.fixture
def no_reload(mysql_params: ConnParams, scratch_db: ConnParams) -> Iterator[ConnParams]:
    name = f"dumper_hp_{uuid.uuid4().hex[:8]}"
    hosts = ("%", "localhost")
    admin_exec(
        mysql_params,
        *(f"CREATE USER '{name}'@'{h}' IDENTIFIED BY 'pw'" for h in hosts),
        *(f"GRANT ALL ON `{scratch_db.database}`.* TO '{name}'@'{h}'" for h in hosts),
        # what makes routines visible on MariaDB, so the only warning is the fallback's
        *(f"GRANT SELECT ON mysql.proc TO '{name}'@'{h}'" for h in hosts),
    )
    try:
        yield ConnParams(scratch_db.host, scratch_db.port, name, "pw", scratch_db.database)
    finally:
        admin_exec(mysql_params, *(f"DROP USER IF EXISTS '{name}'@'{h}'" for h in hosts))


def test_without_reload_the_backup_succeeds_over_one_connection_and_warns(
    live: tuple[Client, App, Path], no_reload: ConnParams, scratch_db: ConnParams
) -> None:
    api = live[0]
    _seed(scratch_db)
    body = {**_target_body(no_reload), "parallel_connections": 3}
    status, target = api("POST", "/api/targets", body)
    assert status == 201, target
    backup = _backup(api, target["id"])
    assert backup["status"] == "success", backup["notes"]
    told = [w for w in backup["warnings"] if "one connection instead of several" in w]
    assert len(told) == 1 and "RELOAD" in told[0], backup["warnings"]
    assert api("GET", f"/api/targets/{target['id']}")[1]["last_backup_warnings"] >= 1


def test_a_restore_into_a_target_of_several_connections_loads_over_them(
    live: tuple[Client, App, Path], scratch_db_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = live[0]
    src = scratch_db_factory()
    _seed(src)
    used: list[int] = []
    real = restore_parallel.ParallelRestore.run

    def spy(self: restore_parallel.ParallelRestore, *args: Any) -> None:
        used.append(self.count)
        real(self, *args)

    monkeypatch.setattr(restore_parallel.ParallelRestore, "run", spy)
    body = {**_target_body(src), "parallel_connections": 2}
    status, target = api("POST", "/api/targets", body)
    assert status == 201, target
    backup = _backup(api, target["id"])
    status, started = api("POST", f"/api/backups/{backup['id']}/restore", {"confirm": body["name"]})
    assert status == 202, started
    done = api.wait(f"/api/restores/{started['id']}")
    assert done["status"] == "success", done
    assert used == [2]
    assert query(src, "SELECT COUNT(*) FROM orders")[0][0] == 3
