"""What the image does at run time, without Docker: `dumper serve` as an unprivileged user with
the image's layout (state volume, backup volume, built UI), probed by the image's own HEALTHCHECK.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dumper.backup.dsn import ConnParams, connect
from tests.conftest import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
DUMPER = ROOT / ".venv" / "bin" / "dumper"
NOBODY = 65534
INDEX_HTML = "<!doctype html><title>dumper test ui</title><div id=app></div>"


def healthcheck_command() -> list[str]:
    """The HEALTHCHECK CMD of the Dockerfile's final stage, as an argv list."""
    text = (ROOT / "Dockerfile").read_text()
    line = text[text.rindex("HEALTHCHECK") :].split("CMD", 1)[1].splitlines()[0]
    argv: list[str] = json.loads(line.strip())
    return argv


def as_user(uid: int | None) -> list[str]:
    if uid is None:
        return []
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]


@dataclass
class Layout:
    """The image's paths, in a temporary folder: /data/app, /data/backups, /app/web/public."""

    base: Path
    app: Path
    backups: Path
    web: Path

    def env(self, port: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ADMIN_", "APP_"))}
        env.update(
            APP_HOST="127.0.0.1",
            APP_PORT=str(port),
            SQLITE_PATH=str(self.app / "app.db"),
            BACKUP_DIR=str(self.backups),
            WEB_DIR=str(self.web),
            PYTHONDONTWRITEBYTECODE="1",
        )
        return env


@pytest.fixture
def layout() -> Iterator[Layout]:
    # Not under pytest's tmp_path: that is mode 0700 for root, which another uid cannot enter.
    base = Path(tempfile.mkdtemp(prefix="dumper-image-"))
    base.chmod(0o755)
    lay = Layout(base, base / "data" / "app", base / "data" / "backups", base / "app" / "web")
    for d in (lay.app, lay.backups, lay.web):
        d.mkdir(parents=True)
    (lay.base / "data").chmod(0o755)
    (lay.web / "index.html").write_text(INDEX_HTML)
    try:
        yield lay
    finally:
        shutil.rmtree(base, ignore_errors=True)


class Served:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.proc, self.port, self.log = proc, port, log
        self.url = f"http://127.0.0.1:{port}"

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def post(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        req = urllib.request.Request(
            self.url + path,
            data=json.dumps(body or {}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def serve(layout: Layout, uid: int | None) -> Served:
    port = free_port()
    log = layout.base / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*as_user(uid), str(DUMPER), "serve"],
            env=layout.env(port),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    served = Served(proc, port, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"dumper serve exited: {log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(served.url + "/healthz", timeout=1):
                return served
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    served.stop()
    raise AssertionError(f"dumper serve did not answer: {log.read_text(errors='replace')}")


def run_healthcheck(port: int, uid: int | None) -> int:
    env = {"PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}", "APP_PORT": str(port)}
    return subprocess.run(
        [*as_user(uid), *healthcheck_command()], env=env, capture_output=True, timeout=30
    ).returncode


def target_body(db: ConnParams, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "host": db.host,
        "port": db.port,
        "dbname": db.database,
        "user": db.user,
        "password": db.password,
        "schedule_time": None,
        "retention_days": 0,
        "auto_compress": True,
    }


def seed(db: ConnParams) -> None:
    conn = connect(db, autocommit=True)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))")
        cur.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three')")
    conn.close()


def wait_backup(served: Served, backup_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status, body = served.get(f"/api/backups/{backup_id}")
        assert status == 200, body
        backup: dict[str, Any] = json.loads(body)
        if backup["status"] != "running":
            return backup
        time.sleep(0.2)
    raise AssertionError("backup did not finish in 60 s")


needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="switching to another uid needs root and setpriv",
)


@needs_root
def test_unprivileged_serve_keeps_state_key_and_backups_in_the_volumes_it_owns(
    layout: Layout, scratch_db: ConnParams
) -> None:
    for d in (layout.app, layout.backups):
        os.chown(d, NOBODY, NOBODY)
    seed(scratch_db)
    served = serve(layout, NOBODY)
    try:
        status, body = served.get("/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        status, body = served.get("/readyz")
        assert status == 200, body
        assert json.loads(body)["status"] == "ready"
        # the UI comes from WEB_DIR, also for a client-side route (history mode)
        assert served.get("/")[1].decode() == INDEX_HTML
        assert served.get("/targets/1")[1].decode() == INDEX_HTML
        assert run_healthcheck(served.port, NOBODY) == 0

        status, target = served.post("/api/targets", target_body(scratch_db, "imgtest"))
        assert status == 201, target
        status, backup = served.post(f"/api/targets/{target['id']}/backup")
        assert status == 202, backup
        done = wait_backup(served, backup["id"])
        assert done["status"] == "success", done["notes"]
    finally:
        served.stop()

    backup_file = layout.backups / done["file_name"]
    assert backup_file.is_file() and backup_file.stat().st_size > 0
    assert backup_file.stat().st_uid == NOBODY
    assert (layout.app / "app.db").stat().st_uid == NOBODY
    key = layout.app / "dumper.key"
    assert key.stat().st_uid == NOBODY
    assert key.stat().st_mode & 0o777 == 0o600, "the generated key must be private"
    assert not list(layout.backups.glob("*.part"))


@needs_root
def test_unprivileged_serve_reports_not_ready_when_the_backup_volume_is_not_its_own(
    layout: Layout,
) -> None:
    # A host folder bind-mounted without `chown 10001:10001`: root-owned, not writable for us.
    os.chown(layout.app, NOBODY, NOBODY)
    layout.backups.chmod(0o755)
    served = serve(layout, NOBODY)
    try:
        status, body = served.get("/readyz")
        assert status == 503
        reasons = " ".join(json.loads(body)["reasons"])
        assert str(layout.backups) in reasons or "BACKUP_DIR" in reasons or "backup" in reasons
        assert served.get("/healthz")[0] == 200  # alive, just not ready
    finally:
        served.stop()


def test_image_healthcheck_passes_on_a_serving_instance_and_fails_once_it_is_gone(
    layout: Layout,
) -> None:
    served = serve(layout, None)
    try:
        assert run_healthcheck(served.port, None) == 0
    finally:
        served.stop()
    assert run_healthcheck(served.port, None) != 0
