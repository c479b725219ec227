"""The image's Python stage done here the same way: a venv without pip, `pip --python VENV
install .` from only the files the Dockerfile copies; then the installed package serves.

Catches what an editable checkout hides: modules or data files missing from the package, a
metadata file the build needs but the context lacks. Needs PyPI (build backend, PyMySQL,
cryptography), as `docker build` does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]


def python_stage_sources() -> list[str]:
    """The context paths the Dockerfile's python stage COPYs."""
    text = (ROOT / "Dockerfile").read_text()
    stage = text.split(" AS python", 1)[1].split("\nFROM ", 1)[0]
    sources: list[str] = []
    for line in stage.splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            sources += line.split()[1:-1]
    return sources


def test_python_stage_sources_are_the_package_and_its_metadata() -> None:
    assert sorted(python_stage_sources()) == ["LICENSE", "README.md", "dumper/", "pyproject.toml"]


def test_package_installed_like_the_image_serves_the_api_and_ui(tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    for source in python_stage_sources():
        src = ROOT / source
        if src.is_dir():
            shutil.copytree(src, context / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, context / source)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    install = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")),
            *("install", "-q", "--no-cache-dir", "--disable-pip-version-check", "."),
        ],
        cwd=context,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    # the venv holds exactly the runtime: no pip, the package not linked to this checkout
    assert not (venv / "bin" / "pip").exists()
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert (site / "dumper" / "py.typed").is_file()
    assert {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")} >= {
        "dumper",
        "pymysql",
        "cryptography",
    }

    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html><title>ui</title>")
    data = tmp_path / "data"
    port = free_port()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "APP_HOST": "127.0.0.1",
        "APP_PORT": str(port),
        "SQLITE_PATH": str(data / "app" / "app.db"),
        "BACKUP_DIR": str(data / "backups"),
        "WEB_DIR": str(web),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    proc = subprocess.Popen(
        [str(venv / "bin" / "dumper"), "serve"],
        env=env,
        cwd=tmp_path,  # not the checkout: nothing may be imported from it
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=2) as resp:
                    assert json.loads(resp.read()) == {"status": "ready", "reasons": []}
                    break
            except OSError:
                assert time.monotonic() < deadline, "installed dumper did not become ready"
                time.sleep(0.2)
        with urllib.request.urlopen(base + "/api/openapi.json", timeout=5) as resp:
            assert json.loads(resp.read())["openapi"].startswith("3.1")
        with urllib.request.urlopen(base + "/", timeout=5) as resp:
            assert b"<title>ui</title>" in resp.read()
        with urllib.request.urlopen(base + "/api/settings", timeout=5) as resp:
            settings = json.loads(resp.read())
        assert settings["config"]["web_dir"] == str(web)
        assert settings["config"]["enc_key_source"] == "file"
        assert (data / "app" / "dumper.key").is_file()
    finally:
        proc.terminate()
        proc.wait(30)
        if proc.stdout:
            proc.stdout.close()
