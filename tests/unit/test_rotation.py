"""Rotation with real files and a fake clock: age cut-off, the last good backup, failures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dumper.clock import FakeClock
from dumper.folder import BackupFolder
from dumper.rotation import rotate
from dumper.store import Store, Target, TargetFields

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "app.db")
    yield s
    s.close()


@pytest.fixture
def backup_dir(tmp_path: Path) -> Path:
    d = tmp_path / "backups"
    d.mkdir()
    return d


def target(store: Store, retention: int, name: str = "shop") -> Target:
    fields = TargetFields(
        name=name, host="h", port=3306, dbname="d", user="u", retention_days=retention
    )
    return store.insert_target(fields, None, NOW - timedelta(days=100))


def backup(
    store: Store, backup_dir: Path, t: Target, days_ago: float, status: str, *, file: bool = True
) -> int:
    started = NOW - timedelta(days=days_ago)
    name = f"{t.name}_{started:%Y-%m-%d_%H-%M-%S}.sql.gz"
    if file:
        (backup_dir / name).write_bytes(b"data")
    b = store.insert_backup(t.id, started, name, "scheduled")
    if status != "running":
        store.finish_backup(
            b.id, status=status, finished_at=started + timedelta(seconds=5), duration_seconds=5
        )
    return b.id


def ids(store: Store, t: Target) -> set[int]:
    return {b.id for b in store.list_backups(t.id)}


def test_deletes_backups_older_than_retention_with_their_files(
    store: Store, backup_dir: Path
) -> None:
    t = target(store, 7)
    old = backup(store, backup_dir, t, 10, "success")
    old_failed = backup(store, backup_dir, t, 9, "failed", file=False)
    keep = backup(store, backup_dir, t, 6, "success")
    new = backup(store, backup_dir, t, 0, "success")
    old_name = store.get_backup(old).file_path  # type: ignore[union-attr]
    deleted = rotate(t, store, FakeClock(NOW), BackupFolder(backup_dir))
    assert ids(store, t) == {keep, new}
    assert not (backup_dir / str(old_name)).exists()
    assert len(deleted) == 2
    assert str(old_name) in deleted
    assert any("(failed)" in d for d in deleted)
    assert old_failed not in ids(store, t)
    assert sorted(p.name for p in backup_dir.iterdir()) == sorted(
        str(store.get_backup(i).file_path)
        for i in (keep, new)  # type: ignore[union-attr]
    )


def test_zero_retention_keeps_everything(store: Store, backup_dir: Path) -> None:
    t = target(store, 0)
    all_ids = {backup(store, backup_dir, t, d, "success") for d in (400, 30, 0)}
    assert rotate(t, store, FakeClock(NOW), BackupFolder(backup_dir)) == []
    assert ids(store, t) == all_ids


def test_never_deletes_the_newest_successful_backup(store: Store, backup_dir: Path) -> None:
    t = target(store, 1)
    only_good = backup(store, backup_dir, t, 30, "success")
    older = backup(store, backup_dir, t, 40, "success")
    # the clock moved on far past retention; the newest good one still stays
    rotate(t, store, FakeClock(NOW + timedelta(days=365)), BackupFolder(backup_dir))
    assert ids(store, t) == {only_good}
    assert older not in ids(store, t)


def test_no_rotation_when_the_latest_backup_failed(store: Store, backup_dir: Path) -> None:
    t = target(store, 1)
    b_old = backup(store, backup_dir, t, 30, "success")
    b_older = backup(store, backup_dir, t, 31, "success")
    b_failed = backup(store, backup_dir, t, 0, "failed", file=False)
    assert rotate(t, store, FakeClock(NOW), BackupFolder(backup_dir)) == []
    assert ids(store, t) == {b_old, b_older, b_failed}


def test_never_deletes_a_running_backup(store: Store, backup_dir: Path) -> None:
    t = target(store, 1)
    running = backup(store, backup_dir, t, 5, "running")
    good = backup(store, backup_dir, t, 0, "success")
    rotate(t, store, FakeClock(NOW), BackupFolder(backup_dir))
    assert ids(store, t) == {running, good}


def test_missing_file_does_not_stop_rotation(store: Store, backup_dir: Path) -> None:
    t = target(store, 2)
    gone = backup(store, backup_dir, t, 10, "success", file=False)
    there = backup(store, backup_dir, t, 9, "success")
    new = backup(store, backup_dir, t, 0, "success")
    deleted = rotate(t, store, FakeClock(NOW), BackupFolder(backup_dir))
    assert ids(store, t) == {new}
    assert len(deleted) == 2
    assert gone not in ids(store, t) and there not in ids(store, t)


def test_only_the_given_target_is_rotated(store: Store, backup_dir: Path) -> None:
    a, b = target(store, 1, "a"), target(store, 1, "b")
    backup(store, backup_dir, a, 0, "success")
    a_old = backup(store, backup_dir, a, 10, "success")
    b_old = backup(store, backup_dir, b, 10, "success")
    b_new = backup(store, backup_dir, b, 0, "success")
    rotate(a, store, FakeClock(NOW), BackupFolder(backup_dir))
    assert a_old not in ids(store, a)
    assert ids(store, b) == {b_old, b_new}


def test_a_file_that_cannot_be_deleted_keeps_its_row(store: Store, backup_dir: Path) -> None:
    t = target(store, 1)
    stuck = backup(store, backup_dir, t, 10, "success")
    name = str(store.get_backup(stuck).file_path)  # type: ignore[union-attr]
    # a directory in the file's place: unlink fails with an OSError other than "missing"
    (backup_dir / name).unlink()
    (backup_dir / name).mkdir()
    backup(store, backup_dir, t, 0, "success")
    assert rotate(t, store, FakeClock(NOW), BackupFolder(backup_dir)) == []
    assert stuck in ids(store, t)
