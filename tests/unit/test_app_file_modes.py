"""BACKUP_GROUP_READ through the App: the folder's mode at start and the mode a backup asks for."""

from __future__ import annotations

import shutil
import stat
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.clock import FakeClock
from dumper.config import load_config
from dumper.engine import Engine
from dumper.errors import DumpFailed

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TARGET: dict[str, Any] = {
    "name": "shop",
    "host": "127.0.0.1",
    "port": 3306,
    "dbname": "shop",
    "user": "backup",
    "password": "pw",
    "schedule_time": None,
    "retention_days": 0,
    "auto_compress": True,
}
MODES = [
    pytest.param("false", 0o700, 0o600, id="private"),
    pytest.param("true", 0o750, 0o640, id="group-read"),
]


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., App]]:
    apps: list[App] = []

    def make(group_read: str, engine: Engine | None = None) -> App:
        config = load_config(
            {
                "SQLITE_PATH": str(tmp_path / "app" / "app.db"),
                "BACKUP_DIR": str(tmp_path / "b"),
                "BACKUP_GROUP_READ": group_read,
            }
        )
        app = App.build(config, clock=FakeClock(NOW, advance_on_sleep=False), engine=engine)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.stop(timeout=1)


@pytest.mark.parametrize(("group_read", "dir_mode", "file_mode"), MODES)
def test_start_creates_backup_dir_with_the_configured_mode_whatever_the_umask(
    make_app: Callable[..., App],
    umask: Callable[[int], int],
    group_read: str,
    dir_mode: int,
    file_mode: int,
) -> None:
    umask(0)
    app = make_app(group_read)
    app.start()
    assert mode_of(app.config.backup_dir) == dir_mode


@pytest.mark.parametrize(("group_read", "dir_mode", "file_mode"), MODES)
def test_start_sets_the_mode_of_an_existing_backup_dir(
    make_app: Callable[..., App], tmp_path: Path, group_read: str, dir_mode: int, file_mode: int
) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b").chmod(0o755)
    make_app(group_read).start()
    assert mode_of(tmp_path / "b") == dir_mode


def test_the_sqlite_file_is_private(
    make_app: Callable[..., App], umask: Callable[[int], int]
) -> None:
    umask(0)
    app = make_app("true")
    assert mode_of(app.config.sqlite_path) == 0o600


@pytest.mark.parametrize(("group_read", "dir_mode", "file_mode"), MODES)
def test_a_backup_asks_for_the_file_mode_and_recreates_a_missing_dir_with_its_mode(
    make_app: Callable[..., App],
    umask: Callable[[int], int],
    group_read: str,
    dir_mode: int,
    file_mode: int,
) -> None:
    umask(0)
    seen: dict[str, Any] = {}
    called = threading.Event()

    def dump(params: Any, path: Path, **kw: Any) -> Any:
        seen["mode"] = kw.get("mode")
        seen["dir_mode"] = mode_of(path.parent)
        called.set()
        raise DumpFailed("no server in unit tests")

    engine = Engine(dump=dump, restore=lambda *a, **k: None, verify=lambda *a, **k: None)
    app = make_app(group_read, engine)
    app.start()
    shutil.rmtree(app.config.backup_dir)  # removed while the service runs
    t = app.create_target(TARGET)
    b = app.start_backup(t.id)
    assert app.wait_backup(b.id, timeout=10).status == "failed"
    assert called.is_set()
    assert seen == {"mode": file_mode, "dir_mode": dir_mode}
