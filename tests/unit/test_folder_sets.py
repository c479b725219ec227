"""BACKUP_DIR and backup sets (a whole server as one backup): the folder's name, its removal
with its .part, the usage counting its files, and folders that are no set left alone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dumper.backup.serverset import MANIFEST_NAME
from dumper.folder import BackupFolder, remove_path

NOW = datetime(2026, 12, 2, 3, 0, 5, tzinfo=UTC)


def _set(path: Path) -> Path:
    path.mkdir()
    (path / "shop.sql.gz").write_bytes(b"x" * 100)
    (path / MANIFEST_NAME).write_bytes(b"{}")
    return path


def test_a_set_is_a_folder_named_like_a_backup_without_extension(tmp_path: Path) -> None:
    folder = BackupFolder(tmp_path)
    name = folder.new_name("db1", NOW, compress=True, taken=(), folder=True)
    assert name == "db1_2026-12-02_03-00-05"
    (tmp_path / (name + ".part")).mkdir()  # a set being written takes the name too
    assert folder.new_name("db1", NOW, compress=True, taken=(), folder=True).endswith("05_2")


def test_remove_takes_a_set_and_a_leftover_part_folder(tmp_path: Path) -> None:
    folder = BackupFolder(tmp_path)
    _set(tmp_path / "db1_x")
    assert folder.has_file("db1_x")
    assert folder.usage().backups_bytes == 102
    folder.remove("db1_x")
    assert not folder.has_file("db1_x") and list(tmp_path.iterdir()) == []
    part = tmp_path / "db1_y.part"
    part.mkdir()
    (part / "shop.sql.gz").write_bytes(b"half")  # a dead job's set: no manifest yet
    assert folder.remove_part("db1_y") == "db1_y.part"
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_is_no_set_is_never_removed(tmp_path: Path) -> None:
    other = tmp_path / "photos"
    other.mkdir()
    (other / "a.jpg").write_bytes(b"x")
    with pytest.raises(IsADirectoryError):
        remove_path(other, missing_ok=False)
    assert (other / "a.jpg").exists()
