"""A target of a whole server (dbname `*`) through the API against the real MariaDB: the
connection test lists what it would back up, a backup is one row and one folder of files, a new
database is in the next set, a failing database fails the set naming it, rotation removes a whole
set and the file check checks each file of it."""

from __future__ import annotations

import http.client as http_client
import io
import os
import tarfile
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.backup.agefile import X25519Identity
from dumper.backup.dsn import ConnParams
from dumper.backup.serverset import MANIFEST_NAME
from dumper.engine import Engine
from dumper.http.server import build_dispatcher, make_server, serve_until
from tests.fixtures.dbcompare import execute, query
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


def test_a_set_downloads_as_one_tar_and_each_database_on_its_own(
    api_app: tuple[App, Api], server: Server
) -> None:
    app, api = api_app
    target = api("POST", "/api/targets", server_target(server))[2]
    body = backup(app, api, target["id"])
    assert body["status"] == "success", body["notes"]
    folder = app.config.backup_dir / body["file_name"]

    status, headers, data = api("GET", f"/api/backups/{body['id']}/download")
    assert status == 200 and headers["Content-Type"] == "application/x-tar"
    assert f'filename="{body["file_name"]}.tar"' in headers["Content-Disposition"]
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        got = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    assert got == {f"{folder.name}/{f.name}": f.read_bytes() for f in folder.iterdir()}
    status, headers, _ = api("HEAD", f"/api/backups/{body['id']}/download")
    assert status == 200 and int(headers["Content-Length"]) == len(data)

    b = body["databases"][1]
    status, headers, data = api("GET", f"/api/backups/{body['id']}/download?database={b['name']}")
    assert status == 200 and data == (folder / b["file_name"]).read_bytes()
    assert f'filename="{b["file_name"]}"' in headers["Content-Disposition"]
    status, _, err = api("GET", f"/api/backups/{body['id']}/download?database=nope")
    assert status == 422 and "database" in err["error"]["fields"]


def test_the_tar_of_a_set_streams_through_the_server_with_flat_memory(
    tmp_path: Path, server: Server
) -> None:
    config = make_config(tmp_path)
    app = App.build(config)
    http = make_server(build_dispatcher(app, config), "127.0.0.1", 0, config.max_body_bytes)
    stop = threading.Event()
    thread = threading.Thread(target=serve_until, args=(http, stop), daemon=True)
    thread.start()
    try:
        api = Api(build_dispatcher(app, config))
        target = api("POST", "/api/targets", server_target(server))[2]
        body = backup(app, api, target["id"])
        # one file of the set made large: the tar is read from the files as it is sent
        big = app.config.backup_dir / body["file_name"] / body["databases"][0]["file_name"]
        with big.open("wb") as fh:
            for _ in range(96):
                fh.write(os.urandom(1 << 20))
        tracemalloc.start()
        conn = http_client.HTTPConnection("127.0.0.1", http.server_address[1], timeout=30)
        conn.request("GET", f"/api/backups/{body['id']}/download")
        response = conn.getresponse()
        length = int(response.headers["Content-Length"])
        received = 0
        while block := response.read(1 << 16):
            received += len(block)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        conn.close()
    finally:
        stop.set()
        thread.join(10)
        app.stop(timeout=10)
    assert response.status == 200 and received == length > 96 << 20
    assert peak < 8 << 20, f"peak {peak / 2**20:.1f} MiB while sending {received / 2**20:.0f} MiB"


def test_one_database_of_a_set_restores_into_another_name_and_its_own(
    api_app: tuple[App, Api], server: Server
) -> None:
    app, api = api_app
    p = server.prefix
    server.grant("ALL PRIVILEGES")
    target = api("POST", "/api/targets", server_target(server))[2]
    body = backup(app, api, target["id"])
    assert body["status"] == "success", body["notes"]
    restore = f"/api/backups/{body['id']}/restore"

    status, _, err = api("POST", restore, {"confirm": "whole"})
    assert status == 422 and err["error"]["fields"] == {
        "source_database": f"one of {p}_a, {p}_b, {p}_c"
    }
    other = f"{p}_copy"
    server.made.append(other)
    status, _, err = api("POST", restore, {"source_database": f"{p}_b", "database": other})
    assert status == 400 and err["error"]["code"] == "confirmation_required"
    status, _, started = api(
        "POST", restore, {"source_database": f"{p}_b", "database": other, "confirm": other}
    )
    assert status == 202, started
    done = app.wait_restore(started["id"], timeout=60)
    assert done.status == "success", done.notes
    assert done.database == other and done.rows == 4
    assert query(server.on(other), "SELECT COUNT(*), MAX(v) FROM t") == [(4, "row 3 of b")]

    # into its own name (the guard: that name typed), after the table there lost rows
    execute(server.on(f"{p}_a"), "DELETE FROM t")
    status, _, started = api("POST", restore, {"source_database": f"{p}_a", "confirm": f"{p}_a"})
    assert status == 202, started
    done = app.wait_restore(started["id"], timeout=60)
    assert done.status == "success", done.notes
    assert query(server.on(f"{p}_a"), "SELECT COUNT(*) FROM t") == [(3,)]


def test_a_set_is_verified_database_by_database_and_a_broken_file_fails_it(
    api_app: tuple[App, Api], server: Server
) -> None:
    app, api = api_app
    p = server.prefix
    server.grant("ALL PRIVILEGES")  # the scratch databases PREFIX_x__verify_N
    target = api("POST", "/api/targets", server_target(server))[2]
    body = backup(app, api, target["id"])
    assert api("POST", f"/api/backups/{body['id']}/verify")[0] == 202
    assert app.runner.wait("verify", body["id"], timeout=60)
    v = api("GET", f"/api/backups/{body['id']}")[2]["verification"]
    assert v["status"] == "passed", v["notes"]
    assert [n.split(":")[0] for n in v["notes"].split("; ") if n.startswith("database ")] == [
        f"database {p}_a",
        f"database {p}_b",
        f"database {p}_c",
    ]
    left = query(server.root, f"SHOW DATABASES LIKE '{p.replace('_', chr(92) + '_')}%verify%'")
    assert left == []

    broken = app.config.backup_dir / body["file_name"] / body["databases"][1]["file_name"]
    data = bytearray(broken.read_bytes())
    data[len(data) // 2] ^= 0x40
    broken.write_bytes(bytes(data))
    assert api("POST", f"/api/backups/{body['id']}/verify")[0] == 202
    assert app.runner.wait("verify", body["id"], timeout=60)
    v = api("GET", f"/api/backups/{body['id']}")[2]["verification"]
    assert v["status"] == "failed", v["notes"]
    assert v["notes"].startswith(f"database {p}_a: ") and f"; database {p}_b: " in v["notes"]


def test_a_server_backup_and_a_job_on_one_of_its_databases_wait_for_each_other(
    tmp_path: Path, server: Server
) -> None:
    real = Engine.default()
    open_, entered = threading.Event(), threading.Semaphore(0)

    def held_dump(*args: Any, **kw: Any) -> Any:
        entered.release()
        assert open_.wait(30)
        return real.dump(*args, **kw)

    config = make_config(tmp_path)
    app = App.build(config, engine=Engine(dump=held_dump, restore=real.restore, verify=real.verify))
    try:
        api = Api(build_dispatcher(app, config))
        whole = api("POST", "/api/targets", server_target(server))[2]
        one = api(
            "POST",
            "/api/targets",
            server_target(server, name="one", dbname=f"{server.prefix}_b", exclude=""),
        )[2]
        # one database's backup is running: the whole server's waits (409 naming it)
        status, _, held = api("POST", f"/api/targets/{one['id']}/backup")
        assert status == 202 and entered.acquire(timeout=10)
        status, _, err = api("POST", f"/api/targets/{whole['id']}/backup")
        assert status == 409 and f"backup {held['id']} of target 'one'" in err["error"]["message"]
        open_.set()
        app.wait_backup(held["id"], timeout=60)
        # and the other way round: the whole server's backup holds every database of it
        open_.clear()
        status, _, held = api("POST", f"/api/targets/{whole['id']}/backup")
        assert status == 202 and entered.acquire(timeout=10)
        status, _, err = api("POST", f"/api/targets/{one['id']}/backup")
        assert status == 409 and f"backup {held['id']} of target 'whole'" in err["error"]["message"]
        open_.set()
        assert app.wait_backup(held["id"], timeout=60).status == "success"
    finally:
        open_.set()
        app.stop(timeout=10)


def test_an_encrypted_set_is_age_files_that_restore_and_verify_with_the_passphrase(
    api_app: tuple[App, Api], server: Server
) -> None:
    app, api = api_app
    p = server.prefix
    server.grant("ALL PRIVILEGES")
    data = server_target(server, encryption="passphrase", age_passphrase="correct horse battery")
    target = api("POST", "/api/targets", data)[2]
    body = backup(app, api, target["id"])
    assert body["status"] == "success", body["notes"]
    assert body["encrypted"] is True
    assert [d["file_name"] for d in body["databases"]] == [f"{p}_{x}.sql.gz.age" for x in "abc"]
    folder = app.config.backup_dir / body["file_name"]
    assert all(b"INSERT" not in f.read_bytes() for f in folder.glob("*.age"))
    execute(server.on(f"{p}_c"), "DELETE FROM t")
    restore = {"source_database": f"{p}_c", "confirm": f"{p}_c"}
    status, _, started = api("POST", f"/api/backups/{body['id']}/restore", restore)
    assert status == 202, started
    done = app.wait_restore(started["id"], timeout=60)
    assert done.status == "success", done.notes
    assert query(server.on(f"{p}_c"), "SELECT COUNT(*) FROM t") == [(5,)]
    assert api("POST", f"/api/backups/{body['id']}/verify")[0] == 202
    assert app.runner.wait("verify", body["id"], timeout=60)
    v = api("GET", f"/api/backups/{body['id']}")[2]["verification"]
    assert v["status"] == "passed", v["notes"]


def test_a_set_encrypted_to_a_recipient_restores_a_database_only_with_its_identity(
    api_app: tuple[App, Api], server: Server
) -> None:
    app, api = api_app
    p = server.prefix
    server.grant("ALL PRIVILEGES")
    identity = X25519Identity.generate()
    data = server_target(server, encryption="recipient", age_recipient=str(identity.recipient))
    target = api("POST", "/api/targets", data)[2]
    body = backup(app, api, target["id"])
    assert body["status"] == "success", body["notes"]
    folder = app.config.backup_dir / body["file_name"]
    assert all(f.read_bytes().startswith(b"age-encryption.org/v1\n") for f in folder.glob("*.age"))
    restore = {"source_database": f"{p}_a", "database": f"{p}_a2", "confirm": f"{p}_a2"}
    server.made.append(f"{p}_a2")
    status, _, err = api("POST", f"/api/backups/{body['id']}/restore", restore)
    assert status == 422 and err["error"]["fields"] == {"identity": "required"}, err
    restore["identity"] = identity.encode()
    status, _, started = api("POST", f"/api/backups/{body['id']}/restore", restore)
    assert status == 202, started
    done = app.wait_restore(started["id"], timeout=60)
    assert done.status == "success", done.notes
    assert query(server.on(f"{p}_a2"), "SELECT COUNT(*) FROM t") == [(3,)]
