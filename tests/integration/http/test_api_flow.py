"""The whole flow over a real socket against a real MariaDB: target, backup, download, restore."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.backup.dsn import ConnParams, connect
from dumper.http.server import DumperHTTPServer, build_dispatcher, make_server, serve_until
from tests.unit.http.test_handlers import make_config

pytestmark = pytest.mark.integration


class Client:
    """A tiny JSON client over http.client, with Basic-Auth."""

    def __init__(self, port: int, auth: str | None = None) -> None:
        self.port = port
        self.auth = auth

    def raw(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[http.client.HTTPResponse, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        hdrs = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        if self.auth:
            hdrs["Authorization"] = self.auth
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        conn.close()
        return resp, payload

    def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        resp, payload = self.raw(method, path, body)
        return resp.status, json.loads(payload) if payload else None

    def wait(self, path: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status, body = self("GET", path)
            assert status == 200, body
            if body["status"] != "running":
                return body  # type: ignore[no-any-return]
            assert time.monotonic() < deadline, f"{path} still running: {body}"
            time.sleep(0.1)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Client, App, Path]]:
    config = make_config(tmp_path, admin_user="admin", admin_pass="s3cret")
    app = App.build(config)
    app.start()
    server: DumperHTTPServer = make_server(
        build_dispatcher(app, config), "127.0.0.1", 0, config.max_body_bytes
    )
    stop = threading.Event()
    thread = threading.Thread(target=serve_until, args=(server, stop), daemon=True)
    thread.start()
    import base64

    auth = "Basic " + base64.b64encode(b"admin:s3cret").decode()
    try:
        yield Client(server.server_address[1], auth), app, config.backup_dir
    finally:
        stop.set()
        thread.join(10)
        app.stop(timeout=10)


def _sql(params: ConnParams, *statements: str) -> list[tuple[Any, ...]]:
    conn = connect(params, autocommit=True)
    try:
        rows: list[tuple[Any, ...]] = []
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
                rows = list(cur.fetchall())
        return rows
    finally:
        conn.close()


def _snapshot(params: ConnParams) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "customers": _sql(params, "SELECT * FROM customers ORDER BY id"),
        "orders": _sql(params, "SELECT * FROM orders ORDER BY id"),
    }


def _seed(params: ConnParams) -> None:
    _sql(
        params,
        "CREATE TABLE customers (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100) NOT NULL,"
        " note TEXT NULL, balance DECIMAL(12,2), born DATE NULL, photo BLOB NULL)",
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id INT NOT NULL,"
        " total DOUBLE, placed DATETIME(3), FOREIGN KEY (customer_id) REFERENCES customers(id))",
        "INSERT INTO customers (name, note, balance, born, photo) VALUES"
        " ('Ann', 'it''s \\\\ \"quoted\"\\n', 12.50, '1990-01-02', x'00FF10'),"
        " ('Björn 🐟', NULL, -0.01, NULL, NULL), ('', '', 0, '2000-02-29', '')",
        "INSERT INTO orders VALUES (1, 1, 9.75, '2026-11-26 03:00:00.123'),"
        " (2, 2, 1e-7, NULL), (9007199254740993, 3, -1.5, '1970-01-01 00:00:01.000')",
    )


def _target_body(db: ConnParams) -> dict[str, Any]:
    return {
        "name": "flow",
        "host": db.host,
        "port": db.port,
        "dbname": db.database,
        "user": db.user,
        "password": db.password,
        "schedule_time": None,
        "retention_days": 0,
        "auto_compress": True,
    }


def test_full_flow_backup_download_restore_delete(
    live: tuple[Client, App, Path], scratch_db: ConnParams
) -> None:
    api, _, backup_dir = live
    _seed(scratch_db)
    original = _snapshot(scratch_db)

    status, target = api("POST", "/api/targets", _target_body(scratch_db))
    assert status == 201, target
    tid = target["id"]

    status, started = api("POST", f"/api/targets/{tid}/backup")
    assert status == 202 and started["status"] == "running"
    backup = api.wait(f"/api/backups/{started['id']}")
    assert backup["status"] == "success", backup["notes"]
    assert backup["tables"] == 2 and backup["rows"] == 6
    assert backup["file_name"].endswith(".sql.gz") and backup["file_exists"] is True
    assert api("GET", f"/api/targets/{tid}/backups")[1][0]["id"] == backup["id"]
    assert api("GET", f"/api/targets/{tid}")[1]["last_backup_status"] == "success"

    resp, data = api.raw("GET", f"/api/backups/{backup['id']}/download")
    assert resp.status == 200
    assert len(data) == backup["size_bytes"] == int(resp.getheader("Content-Length") or -1)
    assert hashlib.sha256(data).hexdigest() == backup["sha256"]
    assert backup["file_name"] in (resp.getheader("Content-Disposition") or "")
    assert b"CREATE TABLE `customers`" in gzip.decompress(data)

    # Change the data, then ask for a restore without the exact confirmation: nothing may run.
    _sql(scratch_db, "DELETE FROM orders WHERE id = 1", "UPDATE customers SET name = 'changed'")
    changed = _snapshot(scratch_db)
    assert changed != original
    for body in (None, {}, {"confirm": "FLOW"}, {"confirm": "flow "}, {"confirm": 1}):
        status, err = api("POST", f"/api/backups/{backup['id']}/restore", body)
        assert status == 400 and err["error"]["code"] == "confirmation_required", body
    assert api("GET", "/api/jobs") == (200, [])
    time.sleep(0.3)
    assert _snapshot(scratch_db) == changed

    status, restore = api("POST", f"/api/backups/{backup['id']}/restore", {"confirm": "flow"})
    assert status == 202 and restore["status"] == "running"
    done = api.wait(f"/api/restores/{restore['id']}")
    assert done["status"] == "success", done["notes"]
    assert done["statements"] > 0
    assert _snapshot(scratch_db) == original

    file_path = backup_dir / backup["file_name"]
    assert file_path.exists()
    assert api("DELETE", f"/api/backups/{backup['id']}") == (204, None)
    assert not file_path.exists()
    assert api("GET", f"/api/backups/{backup['id']}/download")[0] == 404

    # A target with backups is only deleted on request, and then its files go too.
    second = api.wait(f"/api/backups/{api('POST', f'/api/targets/{tid}/backup')[1]['id']}")
    assert second["status"] == "success"
    status, err = api("DELETE", f"/api/targets/{tid}")
    assert status == 409 and err["error"]["code"] == "conflict"
    assert api("DELETE", f"/api/targets/{tid}?with_backups=true") == (204, None)
    assert not (backup_dir / second["file_name"]).exists()
    assert api("GET", f"/api/targets/{tid}")[0] == 404


def test_backup_of_an_unreachable_server_fails_with_a_reason(
    live: tuple[Client, App, Path], scratch_db: ConnParams
) -> None:
    api, _, backup_dir = live
    from tests.conftest import free_port

    body = {**_target_body(scratch_db), "port": free_port()}
    tid = api("POST", "/api/targets", body)[1]["id"]
    backup = api.wait(f"/api/backups/{api('POST', f'/api/targets/{tid}/backup')[1]['id']}")
    assert backup["status"] == "failed" and backup["notes"]
    assert backup["file_exists"] is False
    assert [p for p in backup_dir.glob("*") if p.suffix == ".gz"] == []
    assert api("GET", f"/api/backups/{backup['id']}/download")[0] == 404
    status, err = api("POST", f"/api/backups/{backup['id']}/restore", {"confirm": body["name"]})
    assert status == 422 and err["error"]["code"] == "invalid_input"
    assert api("GET", "/api/jobs") == (200, [])


def test_connection_test_reports_the_server(
    live: tuple[Client, App, Path], scratch_db: ConnParams
) -> None:
    api, _, _ = live
    status, report = api("POST", "/api/targets/test", _target_body(scratch_db))
    assert status == 200
    assert report["ok"] is True and report["database_exists"] is True and report["can_read"]
    assert report["server_version"]
