"""The Docker image agrees with the code: setting names and paths, user, volumes, entry point.

No Docker engine runs here, so these read the Dockerfile and .dockerignore and check them against
what dumper really reads (dumper.config) and installs (pyproject.toml).
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pytest

from dumper.config import SETTINGS, Config, load_config

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
# Variables the image sets for Python itself, not for dumper.
NON_DUMPER_ENV = {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PIP_NO_CACHE_DIR"}


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"stage {self.name or self.base} has no {keyword}"
        return found[-1]

    def env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for args in self.all("ENV"):
            for item in shlex.split(args):
                key, _, value = item.partition("=")
                env[key] = value
        return env


def parse_dockerfile(text: str) -> list[Stage]:
    """Split into stages of (INSTRUCTION, arguments), continuation lines joined."""
    logical: list[str] = []
    buf = ""
    for line in text.splitlines():
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.lstrip().startswith("#"):  # a comment inside a continued instruction
            continue
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        logical.append(buf + line)
        buf = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.strip().partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            words = [w for w in args.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        else:
            stages[-1].instructions.append((keyword, args))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile((ROOT / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def final(stages: list[Stage]) -> Stage:
    return stages[-1]


def _image_config(final: Stage, tmp_path: Path) -> tuple[dict[str, str], Config]:
    env = {k: v for k, v in final.env().items() if k not in NON_DUMPER_ENV}
    # A key given, so loading does not try to create a key file under /data on this machine.
    config = load_config({**env, "APP_ENC_KEY": "A" * 43 + "="})
    return env, config


def test_image_has_three_stages_ui_python_and_a_small_runtime(stages: list[Stage]) -> None:
    assert len(stages) == 3
    assert stages[0].base.startswith("node:")
    assert stages[1].base.startswith("python:3.11")
    # runtime and venv stage share the base, so the venv's interpreter symlink and wheels fit
    assert stages[2].base == stages[1].base
    assert "slim" in stages[2].base or "alpine" in stages[2].base


def test_every_dumper_variable_the_image_sets_is_one_config_reads(
    final: Stage, tmp_path: Path
) -> None:
    known = {s.env for s in SETTINGS}
    env, _ = _image_config(final, tmp_path)
    assert env, "the image sets no defaults"
    assert set(env) <= known, f"unknown settings in the image: {set(env) - known}"


def test_image_paths_fall_inside_its_volumes_and_the_copied_ui(
    final: Stage, tmp_path: Path
) -> None:
    _, config = _image_config(final, tmp_path)
    volumes = [PurePosixPath(v) for v in json.loads(final.last("VOLUME"))]
    assert PurePosixPath("/data/app") in volumes and PurePosixPath("/data/backups") in volumes
    sqlite_path = PurePosixPath(str(config.sqlite_path))
    backup_dir = PurePosixPath(str(config.backup_dir))
    # the database and its generated key file live in a volume, as do the backups
    assert any(sqlite_path.parent == v for v in volumes)
    assert backup_dir in volumes
    ui_copies = [c.split()[-1] for c in final.all("COPY") if c.startswith("--from=web")]
    assert [PurePosixPath(p) for p in ui_copies] == [PurePosixPath(str(config.web_dir))]


def test_image_exposes_the_port_the_server_listens_on(final: Stage, tmp_path: Path) -> None:
    _, config = _image_config(final, tmp_path)
    assert final.last("EXPOSE").split() == [str(config.app_port)]


def test_image_runs_as_a_non_root_user_that_owns_both_volumes(final: Stage) -> None:
    user = final.last("USER")
    uid = user.partition(":")[0]
    assert uid.isdigit() and int(uid) != 0, "USER must be a numeric, non-root uid"
    setup = " ".join(final.all("RUN"))
    assert re.search(rf"adduser\b[^&]*-u {uid}\b", setup), "the uid is created in the image"
    volumes = json.loads(final.last("VOLUME"))
    for volume in volumes:
        assert re.search(rf"mkdir -p [^&]*{re.escape(volume)}", setup)
        assert re.search(rf"chown [^&]*{re.escape(volume)}", setup)
    # USER comes after the setup that needs root
    keywords = [kw for kw, _ in final.instructions]
    assert keywords.index("USER") > max(i for i, kw in enumerate(keywords) if kw == "RUN")


def test_image_command_is_the_packaged_dumper_serve(final: Stage) -> None:
    assert json.loads(final.last("CMD")) == ["dumper", "serve"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["dumper"] == "dumper.cli:main"
    assert "/opt/venv/bin" in final.env()["PATH"]
    assert any(c.startswith("--from=python /opt/venv") for c in final.all("COPY"))


def test_image_healthcheck_needs_only_python_and_probes_healthz(final: Stage) -> None:
    check = final.last("HEALTHCHECK")
    command = json.loads(check[check.index("CMD") + 3 :].strip())
    assert command[0] == "python"
    assert "/healthz" in command[-1]
    assert "curl" not in check and "wget" not in check


def _dockerignore_excludes(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last match wins, `!` re-includes, a matched dir covers its files."""
    excluded = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw[1:] if negate else raw
        pattern = pattern.rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if pattern.startswith("**/"):
            matched = any(fnmatch.fnmatch(p, pattern[3:]) for p in parts)
        else:
            matched = any(fnmatch.fnmatch(p, pattern) for p in prefixes)
        if matched:
            excluded = not negate
    return excluded


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("pyproject.toml", False),
        ("README.md", False),
        ("LICENSE", False),
        ("dumper/cli.py", False),
        ("dumper/backup/dump.py", False),
        ("web/app/package.json", False),
        ("web/app/package-lock.json", False),
        ("web/app/src/main.ts", False),
        ("web/app/node_modules/vue/index.js", True),
        ("web/app/e2e/flows.spec.ts", True),
        ("dumper/__pycache__/cli.cpython-311.pyc", True),
        (".venv/bin/python", True),
        ("data/app/app.db", True),
        (".git/HEAD", True),
        ("tests/conftest.py", True),
    ],
)
def test_dockerignore_sends_the_build_only_what_it_copies(path: str, excluded: bool) -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert _dockerignore_excludes(path, patterns) is excluded


def test_every_file_the_build_copies_from_the_context_exists_and_is_not_ignored(
    stages: list[Stage],
) -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for stage in stages:
        for args in stage.all("COPY"):
            if args.startswith("--from="):
                continue
            for source in args.split()[:-1]:
                assert (ROOT / source).exists(), f"COPY source {source} is missing"
                assert not _dockerignore_excludes(source.rstrip("/"), patterns), source
