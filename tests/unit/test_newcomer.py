"""A newcomer's first minutes: `make run` builds the UI only when its sources changed, `make
install` installs only what running and testing need, and pyproject.toml uses the current license
form."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def dry_run(cwd: Path, *args: str) -> str:
    """What `make -n ARGS` would run, in `cwd` with the repo's Makefile."""
    done = subprocess.run(
        ["make", "-n", "-f", str(REPO / "Makefile"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def touch(path: Path, when: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.utime(path, (when, when))


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A checkout whose installs are done and whose built UI is newer than every source."""
    for name in ("pyproject.toml", "web/app/package-lock.json", ".ci/package-lock.json"):
        touch(tmp_path / name, 1000)
    for name in ("web/app/src/main.ts", "web/app/src/App.vue", "web/app/index.html"):
        touch(tmp_path / name, 1000)
    for name in ("web/app/package.json", "web/app/vite.config.ts", "web/app/static/theme.js"):
        touch(tmp_path / name, 1000)
    for name in (".venv/.installed", "web/app/node_modules/.installed"):
        touch(tmp_path / name, 2000)
    touch(tmp_path / ".ci/node_modules/.installed", 2000)
    touch(tmp_path / "web/public/index.html", 3000)
    return tmp_path


def test_make_run_serves_the_built_ui_without_rebuilding_it(checkout: Path) -> None:
    plan = dry_run(checkout, "run")
    assert "dumper serve" in plan
    assert "npm run build" not in plan


@pytest.mark.parametrize(
    "changed", ["web/app/src/App.vue", "web/app/index.html", "web/app/package-lock.json"]
)
def test_make_run_rebuilds_the_ui_when_a_source_changed(checkout: Path, changed: str) -> None:
    touch(checkout / changed, 4000)
    assert "npm run build" in dry_run(checkout, "run")


def test_make_run_builds_the_ui_when_there_is_none(checkout: Path) -> None:
    (checkout / "web/public/index.html").unlink()
    assert "npm run build" in dry_run(checkout, "run")


def test_make_install_leaves_the_workflow_linter_to_make_lint(checkout: Path) -> None:
    touch(checkout / ".ci/package-lock.json", 5000)  # the linter would need installing
    assert ".ci" not in dry_run(checkout, "install")
    assert "cd .ci && npm ci" in dry_run(checkout, "lint")


def test_pyproject_names_its_license_as_an_spdx_expression() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"
    # setuptools reads a string license (PEP 639) from 77 on; older ones refuse it
    assert "setuptools>=77" in project["build-system"]["requires"]
