"""`dumper serve` as a real process: serves, stops cleanly on SIGTERM, refuses a bad config."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import free_port


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    web = tmp_path / "web"
    web.mkdir(exist_ok=True)
    (web / "index.html").write_text("<!doctype html>dumper ui")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "ADMIN_"))}
    env.update(
        APP_HOST="127.0.0.1",
        SQLITE_PATH=str(tmp_path / "app" / "app.db"),
        BACKUP_DIR=str(tmp_path / "backups"),
        WEB_DIR=str(web),
        LOG_LEVEL="INFO",
        **extra,
    )
    return env


def _get(port: int, path: str, auth: str | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers={"Authorization": auth} if auth else {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def _wait_ready(proc: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            if _get(port, "/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("dumper serve did not become ready in 30 s")


def test_serve_answers_then_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dumper", "serve"],
        env=_env(tmp_path, APP_PORT=str(port), ADMIN_USER="admin", ADMIN_PASS="pw"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_ready(proc, port)
        assert _get(port, "/healthz") == (200, b'{"status":"ok"}')
        assert _get(port, "/api/targets")[0] == 401
        status, body = _get(port, "/api/targets", "Basic YWRtaW46cHc=")
        assert (status, json.loads(body)) == (200, [])
        assert b"dumper ui" in _get(port, "/targets/1")[1]
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "SIGTERM" in err and "dumper stopped" in err
    assert "Basic YWRtaW46cHc=" not in err and "YWRtaW46cHc" not in err
    # Nothing listens any more.
    try:
        _get(port, "/healthz")
        raise AssertionError("still serving after SIGTERM")
    except OSError:
        pass


def test_serve_with_a_bad_setting_prints_one_line_and_exits_nonzero(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dumper", "serve"],
        env=_env(tmp_path, APP_PORT="eighty", ADMIN_USER="admin"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "APP_PORT" in lines[0], done.stderr
    assert not (tmp_path / "app" / "app.db").exists()


def test_serve_on_a_busy_port_says_so(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "dumper", "serve"],
            env=_env(tmp_path, APP_PORT=str(port)),
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr.strip().splitlines()[-1]
