"""Other tools' files uploaded through the real server (or found in BACKUP_DIR and adopted), then
restored into a database the user names: each ends equal to what the mariadb client loads from
the same file. A truncated file is refused with nothing executed."""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.backup.dsn import ConnParams
from dumper.http.server import build_dispatcher, make_server, serve_until
from tests.fixtures.dbcompare import assert_same, execute, load_sql, query
from tests.unit.http.test_handlers import make_config

pytestmark = pytest.mark.integration

FOREIGN = Path(__file__).resolve().parents[2] / "fixtures" / "foreign"
AUTH = "Basic " + base64.b64encode(b"admin:s3cret").decode()
# every file from another tool in the fixtures: (file, what proves it whole)
KINDS = [
    ("phpmyadmin.sql", "unmarked"),
    ("phpmyadmin.sql.gz", "container"),
    ("adminer.sql", "unmarked"),
    ("adminer.sql.gz", "container"),
    # MySQLDumper's PHP format writes tables and views in name order: the view `cheap` comes
    # before its table `items`, and the client stops there as the restore does (see README.md)
    ("mysqldumper_php.sql.gz", "marker"),
    ("mysqldumper_php.sql", "marker"),  # the same SQL as written without compression
    ("mysqldumper_perl.sql.gz", "marker"),
    ("mariadb_skip_comments.sql", "unmarked"),
    ("mariadb_compact.sql", "unmarked"),
    ("mariadb_databases.sql", "unmarked"),
]


def fixture(name: str) -> bytes:
    """A fixture file, or the SQL inside NAME.gz when only that was made."""
    path = FOREIGN / name
    if not path.exists() and (FOREIGN / f"{name}.gz").exists():
        return gzip.decompress((FOREIGN / f"{name}.gz").read_bytes())
    return path.read_bytes()


class Client:
    def __init__(self, port: int) -> None:
        self.port = port

    def __call__(
        self, method: str, path: str, body: Any = None, raw: bytes | None = None
    ) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Authorization": AUTH}
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif raw is not None:
            headers["Content-Type"] = "application/octet-stream"
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            return response.status, json.loads(payload) if payload else None
        finally:
            conn.close()

    def wait(self, path: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status, body = self("GET", path)
            assert status == 200, body
            if body["status"] != "running":
                return body  # type: ignore[no-any-return]
            assert time.monotonic() < deadline, body
            time.sleep(0.1)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Client, App]]:
    config = make_config(tmp_path, admin_user="admin", admin_pass="s3cret")
    app = App.build(config)
    app.start()
    server = make_server(build_dispatcher(app, config), "127.0.0.1", 0, config.max_body_bytes)
    stop = threading.Event()
    thread = threading.Thread(target=serve_until, args=(server, stop), daemon=True)
    thread.start()
    try:
        yield Client(server.server_address[1]), app
    finally:
        stop.set()
        thread.join(10)
        app.stop(timeout=10)


@pytest.fixture
def names(mysql_params: ConnParams) -> Iterator[Any]:
    """New database names of this test (h_up_ + random); all dropped afterwards."""
    made: list[str] = []

    def make() -> str:
        made.append(f"h_up_{uuid.uuid4().hex[:10]}")
        return made[-1]

    yield make
    for name in made:
        execute(mysql_params, f"DROP DATABASE IF EXISTS `{name}`")


def _target(api: Client, db: ConnParams) -> int:
    body = {
        "name": "prod",
        "host": db.host,
        "port": db.port,
        "dbname": db.database,
        "user": db.user,
        "password": db.password,
        "schedule_time": None,
    }
    status, target = api("POST", "/api/targets", body)
    assert status == 201, target
    return int(target["id"])


def _restore_into(api: Client, backup_id: int, database: str, **options: Any) -> dict[str, Any]:
    body = {"database": database, "confirm": database, **options}
    status, restore = api("POST", f"/api/backups/{backup_id}/restore", body)
    assert status == 202, restore
    return api.wait(f"/api/restores/{restore['id']}")


def _client_loaded(mysql_params: ConnParams, name: str, data: bytes, database: str) -> ConnParams:
    execute(mysql_params, f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
    theirs = mysql_params.with_database(database)
    sql = gzip.decompress(data) if name.endswith(".gz") else data
    if name == "mariadb_databases.sql":
        # the client would follow its USE into fx_src; the user names the database instead
        sql = sql.replace(b"USE `fx_src`;", f"USE `{database}`;".encode())
        sql = re.sub(rb"(?m)^CREATE DATABASE [^\n]*;$", b"SELECT 1;", sql)
    try:
        load_sql(theirs, sql)
    except AssertionError as exc:
        if not name.startswith("mysqldumper_php"):
            raise
        assert "ERROR 1146" in str(exc) and "items' doesn't exist" in str(exc)
    return theirs


@pytest.mark.parametrize(("name", "whole_by"), KINDS)
def test_an_uploaded_foreign_file_restores_equal_to_the_clients_load(
    live: tuple[Client, App],
    scratch_db: ConnParams,
    mysql_params: ConnParams,
    names: Any,
    name: str,
    whole_by: str,
) -> None:
    api, _ = live
    data = fixture(name)
    tid = _target(api, scratch_db)
    status, backup = api("POST", f"/api/targets/{tid}/uploads?filename={name}", raw=data)
    assert status == 201, backup
    assert backup["trigger"] == "upload" and backup["size_bytes"] == len(data)
    mine = names()
    options = {"accept_unmarked": True} if whole_by == "unmarked" else {}
    restore = _restore_into(api, backup["id"], mine, **options)
    theirs = _client_loaded(mysql_params, name, data, names())
    assert_same(theirs, mysql_params.with_database(mine))
    if name.startswith("mysqldumper_php"):
        assert restore["status"] == "failed", restore
        assert "VIEW `cheap`" in restore["notes"] and "items' doesn't exist" in restore["notes"]
        assert query(mysql_params.with_database(mine), "SELECT * FROM audit") == [(7,)]
    else:
        assert restore["status"] == "success", restore
        assert query(mysql_params.with_database(mine), "SELECT COUNT(*) FROM items") == [(3,)]
    # the target's own database was never touched
    assert query(scratch_db, "SHOW TABLES") == []


@pytest.mark.parametrize("name", ["phpmyadmin.sql.gz", "phpmyadmin.sql", "mysqldumper_php.sql"])
def test_a_truncated_foreign_file_is_refused_and_nothing_runs(
    live: tuple[Client, App], scratch_db: ConnParams, name: str
) -> None:
    api, app = live
    tid = _target(api, scratch_db)
    data = fixture(name)
    cut = data[: len(data) * 2 // 3]
    status, err = api("POST", f"/api/targets/{tid}/uploads?filename={name}", raw=cut)
    assert status == 422 and err["error"]["code"] == "backup_corrupt", err
    assert app.list_backups(tid) == [] and list(app.folder.path.iterdir()) == []
    assert query(scratch_db, "SHOW TABLES") == []


def test_a_file_cut_at_a_statement_is_kept_but_restores_only_when_acknowledged(
    live: tuple[Client, App], scratch_db: ConnParams, names: Any, mysql_params: ConnParams
) -> None:
    api, _ = live
    tid = _target(api, scratch_db)
    data = (FOREIGN / "phpmyadmin.sql").read_bytes()
    cut = data[: data.index(b"(7);\n") + 5]  # ends after a whole statement: nothing proves it cut
    status, backup = api("POST", f"/api/targets/{tid}/uploads?filename=cut.sql", raw=cut)
    assert status == 201 and "nothing in it proves it whole" in backup["notes"]
    mine = names()
    restore = _restore_into(api, backup["id"], mine)
    assert restore["status"] == "failed" and "accept_unmarked" in restore["notes"]
    assert query(mysql_params, f"SHOW DATABASES LIKE '{mine}'") in ([], [(mine,)])
    if query(mysql_params, f"SHOW DATABASES LIKE '{mine}'"):
        assert query(mysql_params.with_database(mine), "SHOW TABLES") == []


def test_a_found_file_is_adopted_and_restores_equal_to_the_clients_load(
    live: tuple[Client, App], scratch_db: ConnParams, mysql_params: ConnParams, names: Any
) -> None:
    api, app = live
    tid = _target(api, scratch_db)
    data = (FOREIGN / "phpmyadmin.sql.gz").read_bytes()
    (app.folder.path / "found.sql.gz").write_bytes(data)
    status, settings = api("GET", "/api/settings")
    assert [f["name"] for f in settings["unknown_files"]] == ["found.sql.gz"]
    status, backup = api(
        "POST", "/api/backups/adopt", {"filename": "found.sql.gz", "target_id": tid}
    )
    assert status == 201, backup
    assert backup["trigger"] == "upload" and backup["file_name"] == "found.sql.gz"
    mine = names()
    assert _restore_into(api, backup["id"], mine)["status"] == "success"
    theirs = _client_loaded(mysql_params, "found.sql.gz", data, names())
    assert_same(theirs, mysql_params.with_database(mine))
    assert api("GET", "/api/settings")[1]["unknown_files"] == []
