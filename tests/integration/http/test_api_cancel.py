"""Cancel over a real socket with the real engine and MariaDB: a backup and a restore held
mid-way by a table lock are cancelled through the API and end failed, saying so."""

from __future__ import annotations

import base64
import gzip
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.backup.dsn import ConnParams, connect
from dumper.backup.sqlsplit import split_all
from dumper.http.server import build_dispatcher, make_server, serve_until
from tests.integration.http.test_api_flow import Client
from tests.unit.http.test_handlers import make_config

pytestmark = pytest.mark.integration


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Client, Path]]:
    config = make_config(tmp_path, admin_user="admin", admin_pass="s3cret")
    app = App.build(config)
    app.start()
    server = make_server(build_dispatcher(app, config), "127.0.0.1", 0, config.max_body_bytes)
    stop = threading.Event()
    thread = threading.Thread(target=serve_until, args=(server, stop), daemon=True)
    thread.start()
    auth = "Basic " + base64.b64encode(b"admin:s3cret").decode()
    try:
        yield Client(server.server_address[1], auth), config.backup_dir
    finally:
        stop.set()
        thread.join(10)
        app.stop(timeout=10)


class Locker:
    """A second session holding `LOCK TABLES <table> WRITE`: whoever reads or drops it waits."""

    def __init__(self, db: ConnParams, table: str) -> None:
        self.db = db
        self.conn = connect(db, autocommit=True)
        with self.conn.cursor() as cur:
            cur.execute(f"LOCK TABLES `{table}` WRITE")

    def release(self) -> None:
        if self.conn.open:
            with self.conn.cursor() as cur:
                cur.execute("UNLOCK TABLES")
            self.conn.close()


def _sql(db: ConnParams, statement: str) -> list[tuple[Any, ...]]:
    conn = connect(db, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return list(cur.fetchall())
    finally:
        conn.close()


def _seed(db: ConnParams) -> None:
    _sql(db, "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(50))")
    _sql(db, "CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT)")
    _sql(db, "INSERT INTO customers VALUES " + ",".join(f"({i}, 'c{i}')" for i in range(1, 201)))
    _sql(
        db, "INSERT INTO orders VALUES " + ",".join(f"({i}, {i % 200 + 1})" for i in range(1, 301))
    )


def _create_target(api: Client, db: ConnParams) -> int:
    status, target = api(
        "POST",
        "/api/targets",
        {
            "name": "held",
            "host": db.host,
            "port": db.port,
            "dbname": db.database,
            "user": db.user,
            "password": db.password,
            "schedule_time": None,
        },
    )
    assert status == 201, target
    return int(target["id"])


def _until(what: str, check: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _waiting_on_lock(db: ConnParams, statement_start: str) -> bool:
    rows = _sql(
        db,
        "SELECT INFO FROM information_schema.PROCESSLIST"
        f" WHERE DB = '{db.database}' AND STATE LIKE 'Waiting for table metadata lock%'",
    )
    return any(str(info or "").startswith(statement_start) for (info,) in rows)


def test_a_backup_held_mid_way_is_cancelled_and_leaves_no_file(
    live: tuple[Client, Path], scratch_db: ConnParams
) -> None:
    api, backup_dir = live
    _seed(scratch_db)
    target_id = _create_target(api, scratch_db)
    lock = Locker(scratch_db, "orders")
    try:
        status, backup = api("POST", f"/api/targets/{target_id}/backup")
        assert status == 202
        path = f"/api/backups/{backup['id']}"
        # `customers` is written, `orders` waits for the lock: the .part file is there
        _until("the dump to wait on orders", lambda: _waiting_on_lock(scratch_db, "SELECT"))
        assert api("GET", path)[1]["progress"]["tables_done"] == 1
        assert [p.name for p in backup_dir.iterdir()] == [backup["file_name"] + ".part"]

        status, body = api("POST", f"{path}/cancel")
        assert status == 202, body
        assert body["id"] == backup["id"] and body["status"] == "running"
        # the cancel interrupts the waiting query: the job ends while the lock is still held
        done = api.wait(path, timeout=30)
    finally:
        lock.release()

    assert done["status"] == "cancelled"
    assert done["notes"] == "cancelled by the user"
    assert done["file_exists"] is False and done["sha256"] is None
    assert list(backup_dir.iterdir()) == []
    assert api("GET", "/api/jobs") == (200, [])
    status, body = api("POST", f"{path}/cancel")
    assert status == 409 and body["error"]["code"] == "conflict"


def test_a_restore_held_mid_way_is_cancelled_and_says_how_far_it_got(
    live: tuple[Client, Path], scratch_db: ConnParams
) -> None:
    api, backup_dir = live
    _seed(scratch_db)
    target_id = _create_target(api, scratch_db)
    status, backup = api("POST", f"/api/targets/{target_id}/backup")
    assert status == 202
    backup = api.wait(f"/api/backups/{backup['id']}")
    assert backup["status"] == "success", backup
    status, body = api("POST", f"/api/backups/{backup['id']}/cancel")
    assert status == 409 and "success" in body["error"]["message"]
    file = backup_dir / backup["file_name"]
    statements = [s.sql for s in split_all(gzip.decompress(file.read_bytes()))]
    drop_orders = next(
        i for i, sql in enumerate(statements) if sql.startswith(b"DROP TABLE IF EXISTS `orders`")
    )

    lock = Locker(scratch_db, "orders")
    try:
        status, restore = api("POST", f"/api/backups/{backup['id']}/restore", {"confirm": "held"})
        assert status == 202, restore
        path = f"/api/restores/{restore['id']}"
        # `customers` is restored; the DROP of `orders` waits for the lock
        _until("the restore to wait on orders", lambda: _waiting_on_lock(scratch_db, "DROP"))
        status, body = api("POST", f"{path}/cancel")
        assert status == 202, body
        assert body["id"] == restore["id"] and body["status"] == "running"
        # the cancel interrupts the waiting DROP: the job ends while the lock is still held
        done = api.wait(path, timeout=30)
    finally:
        lock.release()

    ran = drop_orders  # everything before the DROP of `orders`, which never happened
    assert done["status"] == "cancelled"
    assert done["statements"] == ran
    assert done["notes"].startswith(f"cancelled by the user after {ran} statements")
    assert "partially restored" in done["notes"]
    # what ran stays, what did not never happened: exactly "partially restored"
    assert _sql(scratch_db, "SELECT COUNT(*) FROM customers") == [(200,)]
    assert _sql(scratch_db, "SHOW TABLES") == [("customers",), ("orders",)]
    assert _sql(scratch_db, "SELECT COUNT(*) FROM orders") == [(300,)]  # untouched
    assert file.is_file()  # the backup itself is untouched
    status, body = api("POST", f"{path}/cancel")
    assert status == 409 and "cancelled" in body["error"]["message"]
