"""A real backup through the App and `dumper dump -o`: the folder and files get exact modes,
and the .part is already private while the dump is still writing it.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.backup.dsn import ConnParams
from dumper.backup.sink import part_path
from dumper.config import load_config
from dumper.engine import Engine
from tests.integration.test_app_service import fill, target_data
from tests.integration.test_cli_process import dumper, url

pytestmark = pytest.mark.integration


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def apps() -> Iterator[list[App]]:
    made: list[App] = []
    yield made
    for app in made:
        app.stop(timeout=5)


@pytest.mark.parametrize(
    ("group_read", "mask", "dir_mode", "file_mode"),
    [
        pytest.param("false", 0, 0o700, 0o600, id="private-umask-0"),
        pytest.param("true", 0o077, 0o750, 0o640, id="group-read-umask-077"),
    ],
)
def test_backup_folder_and_file_have_the_configured_modes_from_the_part_on(
    tmp_path: Path,
    apps: list[App],
    scratch_db: ConnParams,
    umask: Callable[[int], int],
    group_read: str,
    mask: int,
    dir_mode: int,
    file_mode: int,
) -> None:
    fill(scratch_db)
    umask(mask)
    real = Engine.default()
    part_modes: list[int] = []

    def dump(params: Any, path: Path, *, progress: Any = None, **kw: Any) -> Any:
        def report(p: Any) -> None:
            part_modes.append(mode_of(part_path(path)))
            progress(p)

        return real.dump(params, path, progress=report, **kw)

    config = load_config(
        {
            "SQLITE_PATH": str(tmp_path / "app" / "app.db"),
            "BACKUP_DIR": str(tmp_path / "b"),
            "BACKUP_GROUP_READ": group_read,
        }
    )
    app = App.build(config, engine=Engine(dump=dump, restore=real.restore, verify=real.verify))
    apps.append(app)
    app.start()
    t = app.create_target(target_data(scratch_db))
    done = app.wait_backup(app.start_backup(t.id).id, timeout=60)
    assert done.status == "success", done.notes
    assert part_modes and set(part_modes) == {file_mode}
    assert mode_of(config.backup_dir) == dir_mode
    assert mode_of(app.backup_file(done.id)) == file_mode
    assert mode_of(config.sqlite_path) == 0o600


def test_cli_dump_to_a_file_writes_it_private_whatever_the_umask(
    tmp_path: Path, scratch_db: ConnParams, umask: Callable[[int], int]
) -> None:
    fill(scratch_db)
    umask(0)  # the child inherits it
    out = tmp_path / "db.sql.gz"
    proc = dumper("dump", url(scratch_db), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert mode_of(out) == 0o600
