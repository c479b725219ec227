"""A target of a whole server (dbname `*`) through the API against the real MariaDB: the
connection test lists what it would back up, a backup is one row and one folder of files, a new
database is in the next set, a failing database fails the set naming it, rotation removes a whole
set and the file check checks each file of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.backup.dsn import ConnParams
from dumper.backup.serverset import MANIFEST_NAME
from dumper.http.server import build_dispatcher
from tests.fixtures.dbcompare import execute
from tests.fixtures.servers import Server, server_with_databases
from tests.unit.http.test_handlers import Api, make_config

pytestmark = pytest.mark.integration


@pytest.fixture
def server(mysql_params: ConnParams) -> Iterator[Server]:
    yield from server_with_databases(mysql_params)


@pytest.fixture
def api_app(tmp_path: Path) -> Iterator[tuple[App, Api]]:
    app = App.build(make_config(tmp_path))
    yield app, Api(build_dispatcher(app, make_config(tmp_path)))
    app.stop(timeout=5)


def server_target(s: Server, **kw: Any) -> dict[str, Any]:
    u = s.user
    data: dict[str, Any] = {
        "name": "whole",
        "host": u.host,
        "port": u.port,
        "dbname": "*",
        "exclude": "*_skip*",
        "user": u.user,
        "password": u.password,
        "schedule_time": None,
    }
    return {**data, **kw}


def backup(app: App, api: Api, target_id: int) -> dict[str, Any]:
    status, _, started = api("POST", f"/api/targets/{target_id}/backup")
    assert status == 202, started
    app.wait_backup(started["id"], timeout=60)
    body: dict[str, Any] = api("GET", f"/api/backups/{started['id']}")[2]
    return body


def test_a_server_target_backs_up_its_databases_as_one_set(
    api_app: tuple[App, Api], server: Server
) -> None:
    app, api = api_app
    p = server.prefix
    status, _, report = api("POST", "/api/targets/test", server_target(server))
    assert status == 200 and report["ok"] is True, report
    assert report["databases"] == [f"{p}_a", f"{p}_b", f"{p}_c"]
    assert f"3 database(s) to back up: {p}_a, {p}_b, {p}_c" in report["message"]
    status, _, target = api("POST", "/api/targets", server_target(server, keep_last=1))
    assert status == 201, target
    assert (target["dbname"], target["exclude"]) == ("*", "*_skip*")
    assert api("POST", f"/api/targets/{target['id']}/test")[2]["databases"] == report["databases"]

    first = backup(app, api, target["id"])
    assert first["status"] == "success", first["notes"]
    assert first["file_exists"] is True and first["file_name"].startswith("whole_")
    assert [(d["name"], d["tables"], d["rows"]) for d in first["databases"]] == [
        (f"{p}_a", 1, 3),
        (f"{p}_b", 1, 4),
        (f"{p}_c", 1, 5),
    ]
    assert (first["tables"], first["rows"]) == (3, 12)
    assert first["size_bytes"] == sum(d["size_bytes"] for d in first["databases"])
    folder = app.config.backup_dir / first["file_name"]
    assert sorted(f.name for f in folder.iterdir()) == sorted(
        [MANIFEST_NAME, *(d["file_name"] for d in first["databases"])]
    )

    # a new database is in the next set; keep_last=1 removes the first set's whole folder
    server.db("d", 2)
    second = backup(app, api, target["id"])
    assert second["status"] == "success", second["notes"]
    assert [d["name"] for d in second["databases"]][-1] == f"{p}_d"
    assert not folder.exists() and "rotation deleted" in second["notes"]
    assert api("GET", f"/api/backups/{first['id']}")[0] == 404

    # the file check checks each file of the set against the set's manifest
    app.file_check.start()
    app.file_check.wait(30)
    assert api("GET", f"/api/backups/{second['id']}")[2]["file_check"]["state"] == "ok"
    damaged = app.config.backup_dir / second["file_name"] / second["databases"][1]["file_name"]
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0x40
    damaged.write_bytes(bytes(data))
    app.file_check.start()
    app.file_check.wait(30)
    check = api("GET", f"/api/backups/{second['id']}")[2]["file_check"]
    assert check["state"] == "corrupt" and f"database {p}_b" in check["notes"]


def test_one_failing_database_fails_the_set_naming_it(
    api_app: tuple[App, Api], server: Server
) -> None:
    app, api = api_app
    execute(
        server.on(f"{server.prefix}_b"),
        "CREATE FUNCTION price() RETURNS INT DETERMINISTIC RETURN 42",
    )
    target = api("POST", "/api/targets", server_target(server))[2]
    body = backup(app, api, target["id"])
    assert body["status"] == "failed" and body["error_code"] == "dump_failed"
    assert body["notes"].startswith(f"database {server.prefix}_b: ")
    assert body["databases"] is None and body["file_name"] is None
    assert list(app.config.backup_dir.iterdir()) == []


def test_dbname_is_one_database_or_star_and_only_star_takes_exclude(
    api_app: tuple[App, Api], server: Server
) -> None:
    _, api = api_app
    status, _, body = api("POST", "/api/targets", server_target(server, dbname="shop*"))
    assert status == 422 and "dbname" in body["error"]["fields"]
    status, _, body = api("POST", "/api/targets", server_target(server, dbname="shop"))
    assert status == 422 and body["error"]["fields"] == {
        "exclude": "is only for dbname * (every database)"
    }
    status, _, body = api("POST", "/api/targets", server_target(server, exclude=" a ,, b* "))
    assert status == 201 and body["exclude"] == "a, b*"
