"""SIGTERM while a backup is stuck: `dumper serve` still exits in bounded time and records the
cut-off backup as failed, leaving no file that looks like a good backup."""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.backup.dsn import ConnParams, connect
from dumper.config import load_config
from dumper.service import STOP_TIMEOUT
from tests.conftest import free_port

pytestmark = pytest.mark.integration
AUTH = "Basic " + base64.b64encode(b"admin:pw").decode()


def _call(port: int, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": AUTH}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    return resp.status, json.loads(raw) if raw else None


def test_sigterm_during_a_stuck_backup_exits_and_marks_it_failed(
    tmp_path: Path, scratch_db: ConnParams
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "ADMIN_"))}
    env.update(
        APP_HOST="127.0.0.1",
        APP_PORT=str(port),
        ADMIN_USER="admin",
        ADMIN_PASS="pw",
        SQLITE_PATH=str(tmp_path / "app" / "app.db"),
        BACKUP_DIR=str(tmp_path / "backups"),
        WEB_DIR=str(tmp_path / "web"),
    )
    locker = connect(scratch_db, autocommit=True)
    with locker.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        cur.execute("INSERT INTO t VALUES (1), (2)")
        # The dump's SELECT waits on this lock: a backup that cannot finish by itself.
        cur.execute("LOCK TABLES t WRITE")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dumper", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None
            try:
                if _call(port, "GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "not ready"
            time.sleep(0.1)
        status, target = _call(
            port,
            "POST",
            "/api/targets",
            {
                "name": "stuck",
                "host": scratch_db.host,
                "port": scratch_db.port,
                "dbname": scratch_db.database,
                "user": scratch_db.user,
                "password": scratch_db.password,
            },
        )
        assert status == 201, target
        status, backup = _call(port, "POST", f"/api/targets/{target['id']}/backup")
        assert status == 202
        time.sleep(1.0)
        assert _call(port, "GET", f"/api/backups/{backup['id']}")[1]["status"] == "running"

        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=STOP_TIMEOUT + 20)
        elapsed = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        with locker.cursor() as cur:
            cur.execute("UNLOCK TABLES")
        locker.close()
    assert proc.returncode == 0, err
    assert elapsed < STOP_TIMEOUT + 10, f"took {elapsed:.1f} s to stop"

    app = App.build(load_config(env))
    try:
        row = app.get_backup(backup["id"])
    finally:
        app.stop(timeout=1)
    assert row.status == "failed" and row.notes
    assert not row.file_exists
    assert [p.name for p in (tmp_path / "backups").glob("*.gz")] == []
