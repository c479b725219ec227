"""A bounded, deterministic schemathesis run against /api/openapi.json of the real server:
no 5xx, and every response matches the schema and the declared status codes."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dumper.app import App
from dumper.backup.dsn import ConnParams
from dumper.http.server import build_dispatcher, make_server, serve_until
from tests.unit.http.test_handlers import make_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHECKS = ",".join(
    [
        "not_a_server_error",
        "response_schema_conformance",
        "status_code_conformance",
        "content_type_conformance",
    ]
)


@pytest.fixture
def base_url(tmp_path: Path, scratch_db: ConnParams) -> Iterator[str]:
    config = make_config(tmp_path, admin_user="admin", admin_pass="s3cret")
    app = App.build(config)
    app.start()
    # One real target so that id 1 exists and the generated calls reach the handlers' happy paths.
    app.create_target(
        {
            "name": "fuzz",
            "host": scratch_db.host,
            "port": scratch_db.port,
            "dbname": scratch_db.database,
            "user": scratch_db.user,
            "password": scratch_db.password,
        }
    )
    server = make_server(build_dispatcher(app, config), "127.0.0.1", 0, config.max_body_bytes)
    stop = threading.Event()
    thread = threading.Thread(target=serve_until, args=(server, stop), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        thread.join(10)
        app.stop(timeout=10)


def test_schemathesis_finds_no_server_errors_and_no_schema_violations(
    base_url: str, tmp_path: Path
) -> None:
    exe = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert exe, "schemathesis is a dev dependency"
    cmd = [
        exe,
        "run",
        f"{base_url}/api/openapi.json",
        "--checks",
        CHECKS,
        "--auth",
        "admin:s3cret",
        "--max-examples",
        "8",
        "--seed",
        "20261126",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--no-shrink",
        "--suppress-health-check",
        "all",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
