"""The file check with a fake clock and real files: flipped bytes and deleted files are flagged
once, fixed files go back to ok, the schedule survives restarts, never two checks at once."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dumper.clock import FakeClock
from dumper.errors import Conflict
from dumper.filecheck import FileCheck, state_view
from dumper.folder import BackupFolder
from dumper.notify.events import Event
from dumper.store import RUNNING, SUCCESS, Store, TargetFields

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
WEEK = timedelta(hours=168)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "app.db")
    yield s
    s.close()


@pytest.fixture
def folder(tmp_path: Path) -> BackupFolder:
    f = BackupFolder(tmp_path / "backups")
    f.ensure()
    return f


def add_backup(store: Store, folder: BackupFolder, name: str, data: bytes) -> int:
    target = store.get_target_by_name("shop") or store.insert_target(
        TargetFields(name="shop", host="h", port=3306, dbname="d", user="u"), None, NOW
    )
    (folder.path / name).write_bytes(data)
    backup = store.insert_backup(target.id, NOW, name, "manual")
    store.finish_backup(
        backup.id,
        status=SUCCESS,
        finished_at=NOW,
        duration_seconds=1.0,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    return backup.id


def make(
    store: Store, folder: BackupFolder, clock: FakeClock, events: list[Event], **kw: object
) -> FileCheck:
    options: dict[str, object] = {"interval_hours": 168, "pause": 0.0, "missing_confirm": 0.0}
    options.update(kw)
    return FileCheck(store, folder, clock, events.append, **options)  # type: ignore[arg-type]


def run(check: FileCheck) -> None:
    check.start()
    assert check.wait(10)


def test_a_flipped_byte_and_a_deleted_file_are_flagged_once(
    store: Store, folder: BackupFolder
) -> None:
    clock, events = FakeClock(NOW), []
    good = add_backup(store, folder, "a.sql.gz", b"a" * 5000)
    flipped = add_backup(store, folder, "b.sql.gz", b"b" * 5000)
    deleted = add_backup(store, folder, "c.sql.gz", b"c" * 5000)
    check = make(store, folder, clock, events, chunk=1024)
    run(check)
    assert [state_view(store, i).state for i in (good, flipped, deleted)] == ["ok"] * 3  # type: ignore[union-attr]
    assert events == []

    data = bytearray((folder.path / "b.sql.gz").read_bytes())
    data[2500] ^= 0x01
    (folder.path / "b.sql.gz").write_bytes(bytes(data))
    (folder.path / "c.sql.gz").unlink()
    clock.advance(60)
    run(check)
    states = {i: state_view(store, i) for i in (good, flipped, deleted)}
    assert {i: s.state for i, s in states.items() if s} == {
        good: "ok",
        flipped: "corrupt",
        deleted: "missing",
    }
    assert states[flipped].checked_at == NOW + timedelta(seconds=60)  # type: ignore[union-attr]
    assert "b.sql.gz has sha256" in states[flipped].notes  # type: ignore[union-attr]
    assert [(e.name, e.backup.id if e.backup else None) for e in events] == [
        ("file_corrupt", flipped),
        ("file_missing", deleted),
    ]
    assert events[0].target_name == "shop" and "sha256" in events[0].reason
    view = check.view()
    assert (view.corrupt, view.missing, view.checked) == (1, 1, 3)
    assert check.metrics() == {"backup_files_corrupt": 1, "backup_files_missing": 1}

    run(check)  # the same problems again: no new event
    assert len(events) == 2


def test_a_fixed_file_goes_back_to_ok_and_a_new_problem_is_reported_again(
    store: Store, folder: BackupFolder
) -> None:
    clock, events = FakeClock(NOW), []
    backup = add_backup(store, folder, "a.sql.gz", b"x" * 100)
    check = make(store, folder, clock, events)
    (folder.path / "a.sql.gz").write_bytes(b"y" * 100)
    run(check)
    assert state_view(store, backup).state == "corrupt"  # type: ignore[union-attr]
    (folder.path / "a.sql.gz").write_bytes(b"x" * 100)  # restored from elsewhere
    run(check)
    assert state_view(store, backup).state == "ok"  # type: ignore[union-attr]
    assert check.view().corrupt == 0
    (folder.path / "a.sql.gz").unlink()
    run(check)
    assert [e.name for e in events] == ["file_corrupt", "file_missing"]


def test_running_backups_and_their_part_files_are_not_checked(
    store: Store, folder: BackupFolder
) -> None:
    clock, events = FakeClock(NOW), []
    target = store.insert_target(
        TargetFields(name="shop", host="h", port=3306, dbname="d", user="u"), None, NOW
    )
    running = store.insert_backup(target.id, NOW, "r.sql.gz", "manual")
    assert running.status == RUNNING
    (folder.path / "r.sql.gz.part").write_bytes(b"half")
    check = make(store, folder, clock, events)
    run(check)
    assert state_view(store, running.id) is None and events == []
    assert check.view().checked == 0


def test_a_deleted_backup_is_neither_flagged_nor_counted(
    store: Store, folder: BackupFolder
) -> None:
    clock, events = FakeClock(NOW), []
    backup = add_backup(store, folder, "a.sql.gz", b"x" * 100)
    check = make(store, folder, clock, events)
    (folder.path / "a.sql.gz").write_bytes(b"y")
    run(check)
    folder.remove("a.sql.gz")
    store.delete_backup(backup)
    assert check.view().corrupt == 0 and state_view(store, backup) is None


def test_the_check_runs_every_interval_and_a_restart_neither_reruns_nor_forgets(
    store: Store, folder: BackupFolder
) -> None:
    clock, events = FakeClock(NOW), []
    add_backup(store, folder, "a.sql.gz", b"x" * 100)
    check = make(store, folder, clock, events)
    assert check.next_run_at() is None
    assert not check.tick()  # the first tick only anchors the schedule
    assert check.next_run_at() == NOW + WEEK
    clock.set(NOW + WEEK - timedelta(minutes=1))
    assert not check.tick()
    # restarts more often than the interval: the anchor is in sqlite
    restarted = make(store, folder, clock, events)
    assert not restarted.tick()
    clock.set(NOW + WEEK)
    assert restarted.tick()
    assert restarted.wait(10)
    view = restarted.view()
    assert view.last_started_at == NOW + WEEK and view.last_finished_at == NOW + WEEK
    assert view.next_run_at == NOW + 2 * WEEK and view.checked == 1
    clock.advance(timedelta(hours=1))
    again = make(store, folder, clock, events)  # a restart after the run
    assert not again.tick()
    clock.set(NOW + 2 * WEEK)
    assert again.tick() and again.wait(10)


def test_an_interval_of_zero_turns_the_periodic_check_off_but_not_the_button(
    store: Store, folder: BackupFolder
) -> None:
    clock, events = FakeClock(NOW), []
    backup = add_backup(store, folder, "a.sql.gz", b"x" * 100)
    check = make(store, folder, clock, events, interval_hours=0)
    for days in (0, 30, 400):
        clock.set(NOW + timedelta(days=days))
        assert not check.tick()
    assert check.next_run_at() is None and state_view(store, backup) is None
    run(check)
    assert state_view(store, backup) is not None


def test_never_two_checks_at_once_and_a_stop_ends_the_running_one(
    store: Store, folder: BackupFolder
) -> None:
    clock, events = FakeClock(NOW), []
    backup = add_backup(store, folder, "a.sql.gz", b"x" * 1_000_000)
    # 1 KiB chunks with long pauses: the check is still on its first file for a while
    check = make(store, folder, clock, events, chunk=1024, pause=10_000.0)
    started = check.start()
    assert started.running
    with pytest.raises(Conflict):
        check.start()
    clock.set(NOW + 10 * WEEK)
    assert not check.tick()  # due, but one runs
    check.stop(timeout=5)
    assert not check.running
    # the file it was hashing is left unjudged, and the run did not finish
    assert state_view(store, backup) is None and check.view().last_finished_at is None


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
def test_the_check_thread_runs_at_nice_19_and_the_rest_of_the_service_does_not(
    store: Store, folder: BackupFolder
) -> None:
    clock, seen = FakeClock(NOW), []
    add_backup(store, folder, "a.sql.gz", b"x" * 100)
    (folder.path / "a.sql.gz").write_bytes(b"y")  # corrupt: emit runs in the check's thread

    def emit(event: Event) -> None:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    check = FileCheck(store, folder, clock, emit, interval_hours=0, pause=0.0)
    run(check)
    assert seen == [19]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before
    assert os.getpriority(os.PRIO_PROCESS, 0) == before  # the process (its main thread) too
