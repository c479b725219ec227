"""The SQLite store on a real file: migrations, repositories, unique names, slots, threads."""

from __future__ import annotations

import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dumper.errors import Conflict, NotFound
from dumper.store import LATEST_VERSION, MIGRATIONS, Store, TargetFields

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def fields(name: str = "shop", **kw: object) -> TargetFields:
    base: dict[str, object] = {
        "name": name,
        "host": "db.lan",
        "port": 3306,
        "dbname": "shop",
        "user": "backup",
    }
    base.update(kw)
    return TargetFields(**base)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "app.db")
    yield s
    s.close()


def test_migrations_from_empty_reach_latest_and_use_wal(tmp_path: Path) -> None:
    s = Store(tmp_path / "new" / "app.db")
    assert s.schema_version() == LATEST_VERSION
    raw = sqlite3.connect(tmp_path / "new" / "app.db")
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    versions = [r[0] for r in raw.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == [v for v, _ in MIGRATIONS]
    tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"targets", "backups", "restores", "schedule_state"} <= tables
    raw.close()
    s.close()


def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    Store(tmp_path / "app.db").close()
    again = Store(tmp_path / "app.db")
    assert again.migrate() == []
    again.close()


def test_migration_from_version_1_keeps_existing_rows(tmp_path: Path) -> None:
    # a database as the seed left it: its two tables, no migrations table, naive timestamps
    path = tmp_path / "app.db"
    raw = sqlite3.connect(path)
    raw.executescript(MIGRATIONS[0][1])
    raw.execute(
        "INSERT INTO targets (name, host, port, dbname, user, password_enc, comment,"
        " schedule_time, retention_days, auto_compress, created_at, updated_at)"
        " VALUES ('legacy','h',3306,'d','u',NULL,'',  '03:00', 7, 1,"
        " '2025-01-01 10:00:00', '2025-01-01 10:00:00')"
    )
    raw.execute(
        "INSERT INTO backups (target_id, started_at, finished_at, size_bytes, status,"
        " file_path, notes) VALUES (1, '2025-01-02 03:00:00', '2025-01-02 03:00:09', 42,"
        " 'success', '/data/backups/legacy.sql.gz', '')"
    )
    raw.commit()
    raw.close()

    migrated = Store(path)
    assert migrated.schema_version() == LATEST_VERSION
    target = migrated.get_target_by_name("legacy")
    assert target is not None and target.schedule_time == "03:00"
    assert target.created_at == datetime(2025, 1, 1, 10, 0, tzinfo=UTC)
    [backup] = migrated.list_backups(target.id)
    assert backup.size_bytes == 42 and backup.status == "success"
    assert backup.trigger == "manual" and backup.sha256 is None
    migrated.close()


def test_database_recorded_at_version_1_gets_the_later_migrations(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
    raw.executescript(MIGRATIONS[0][1])
    raw.execute("INSERT INTO schema_migrations VALUES (1, 'x')")
    raw.commit()
    raw.close()
    store = Store(path)
    assert store.schema_version() == LATEST_VERSION
    store.close()


def test_target_round_trip_and_unique_name(store: Store) -> None:
    t = store.insert_target(fields(schedule_time="03:00", retention_days=7), b"enc", T0)
    assert t.id > 0 and t.name == "shop" and t.password_enc == b"enc"
    assert t.schedule_time == "03:00" and t.retention_days == 7 and t.auto_compress is True
    assert t.created_at == T0 == t.updated_at
    with pytest.raises(Conflict) as err:
        store.insert_target(fields(), None, T0)
    assert err.value.fields == {"name": "already taken"}
    assert store.get_target_by_name("shop") == t
    assert store.list_targets() == [t]


def test_update_keeps_or_replaces_password(store: Store) -> None:
    t = store.insert_target(fields(), b"old", T0)
    later = T0 + timedelta(hours=1)
    u = store.update_target(t.id, fields(name="shop2", auto_compress=False), later)
    assert u.name == "shop2" and u.auto_compress is False and u.password_enc == b"old"
    assert u.updated_at == later and u.created_at == T0
    u = store.update_target(
        t.id, fields(name="shop2"), later, password_enc=b"new", keep_password=False
    )
    assert u.password_enc == b"new"


def test_update_to_a_taken_name_is_a_conflict(store: Store) -> None:
    store.insert_target(fields("a"), None, T0)
    b = store.insert_target(fields("b"), None, T0)
    with pytest.raises(Conflict):
        store.update_target(b.id, fields("a"), T0)
    with pytest.raises(NotFound):
        store.update_target(999, fields("c"), T0)


def test_backup_lifecycle_and_order(store: Store) -> None:
    t = store.insert_target(fields(), None, T0)
    b1 = store.insert_backup(t.id, T0, "shop_1.sql.gz", "scheduled")
    b2 = store.insert_backup(t.id, T0 + timedelta(days=1), "shop_2.sql.gz", "manual")
    assert b1.status == "running" and b1.trigger == "scheduled" and b1.finished_at is None
    assert [b.id for b in store.list_backups(t.id)] == [b2.id, b1.id]
    assert store.finish_backup(
        b1.id,
        status="success",
        finished_at=T0 + timedelta(seconds=3),
        duration_seconds=3.0,
        size_bytes=10,
        sha256="ab",
        tables=2,
        rows=5,
    )
    # a finished backup cannot be finished again (the first writer wins)
    assert not store.finish_backup(
        b1.id, status="failed", finished_at=T0, duration_seconds=None, notes="late"
    )
    done = store.get_backup(b1.id)
    assert done is not None
    assert (done.status, done.size_bytes, done.sha256, done.tables, done.rows) == (
        "success",
        10,
        "ab",
        2,
        5,
    )
    store.append_backup_notes(b1.id, "rotation deleted: x")
    store.append_backup_notes(b1.id, "second")
    assert store.get_backup(b1.id).notes == "rotation deleted: x\nsecond"  # type: ignore[union-attr]
    assert store.last_backup(t.id) == store.get_backup(b2.id)
    assert store.known_file_paths() == {"shop_1.sql.gz", "shop_2.sql.gz"}
    assert store.backup_counts() == {"success": 1, "running": 1}


def test_fail_running_marks_backups_and_restores(store: Store) -> None:
    t = store.insert_target(fields(), None, T0)
    b = store.insert_backup(t.id, T0, "f.sql.gz", "manual")
    ok = store.insert_backup(t.id, T0, "g.sql.gz", "manual")
    store.finish_backup(ok.id, status="success", finished_at=T0, duration_seconds=1)
    r = store.insert_restore(ok.id, t.id, T0)
    backups, restores = store.fail_running("interrupted by a restart", T0)
    assert [x.id for x in backups] == [b.id] and [x.id for x in restores] == [r.id]
    assert store.get_backup(b.id).status == "failed"  # type: ignore[union-attr]
    assert store.get_backup(b.id).notes == "interrupted by a restart"  # type: ignore[union-attr]
    assert store.get_restore(r.id).status == "failed"  # type: ignore[union-attr]
    assert store.get_backup(ok.id).status == "success"  # type: ignore[union-attr]


def test_restore_rows(store: Store) -> None:
    t = store.insert_target(fields(), None, T0)
    b = store.insert_backup(t.id, T0, "f.sql.gz", "manual")
    r = store.insert_restore(b.id, t.id, T0)
    assert r.status == "running" and r.statements is None
    assert store.finish_restore(
        r.id, status="success", finished_at=T0, duration_seconds=2.5, statements=12
    )
    got = store.get_restore(r.id)
    assert got is not None and got.statements == 12 and got.duration_seconds == 2.5


def test_slot_is_claimed_once(store: Store) -> None:
    t = store.insert_target(fields(), None, T0)
    assert store.last_slot(t.id) is None
    assert store.claim_slot(t.id, "2026-11-26T03:00")
    assert not store.claim_slot(t.id, "2026-11-26T03:00")
    assert not store.claim_slot(t.id, "2026-11-25T03:00")
    assert store.claim_slot(t.id, "2026-11-27T03:00")
    assert store.last_slot(t.id) == "2026-11-27T03:00"


def test_slot_survives_reopen(tmp_path: Path) -> None:
    s = Store(tmp_path / "app.db")
    t = s.insert_target(fields(), None, T0)
    s.claim_slot(t.id, "2026-11-26T03:00")
    s.close()
    again = Store(tmp_path / "app.db")
    assert not again.claim_slot(t.id, "2026-11-26T03:00")
    again.close()


def test_delete_target_removes_its_rows(store: Store) -> None:
    t = store.insert_target(fields(), None, T0)
    b = store.insert_backup(t.id, T0, "f.sql.gz", "manual")
    store.insert_restore(b.id, t.id, T0)
    store.claim_slot(t.id, "x")
    store.delete_target(t.id)
    assert store.get_target(t.id) is None and store.get_backup(b.id) is None
    with pytest.raises(NotFound):
        store.delete_target(t.id)


def test_concurrent_writers_from_threads_lose_nothing(store: Store) -> None:
    t = store.insert_target(fields(), None, T0)

    def work() -> None:
        for _ in range(50):
            b = store.insert_backup(t.id, T0, "x", "manual")
            store.finish_backup(b.id, status="success", finished_at=T0, duration_seconds=0)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert store.backup_counts() == {"success": 200}


def test_a_second_process_connection_sees_committed_rows(tmp_path: Path) -> None:
    a, b = Store(tmp_path / "app.db"), Store(tmp_path / "app.db")
    a.insert_target(fields(), None, T0)
    assert [t.name for t in b.list_targets()] == ["shop"]
    a.close()
    b.close()


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0, 0o022])
def test_new_database_and_its_wal_and_shm_are_private_whatever_the_umask(
    tmp_path: Path, umask: Callable[[int], int], mask: int
) -> None:
    umask(mask)
    path = tmp_path / "app.db"
    s = Store(path)
    s.insert_target(fields(), None, T0)
    # sqlite gives -wal and -shm the mode of the database file
    files = [path, path.with_name("app.db-wal"), path.with_name("app.db-shm")]
    assert {p.name: mode_of(p) for p in files} == {p.name: 0o600 for p in files}
    s.close()


def test_a_readable_database_from_an_older_version_is_made_private(
    tmp_path: Path, umask: Callable[[int], int]
) -> None:
    umask(0o022)
    path = tmp_path / "app.db"
    old = sqlite3.connect(path)
    old.execute("PRAGMA journal_mode=WAL")
    old.execute("CREATE TABLE t (x)")
    old.execute("INSERT INTO t VALUES (1)")
    old.commit()
    leftovers = [path, path.with_name("app.db-wal"), path.with_name("app.db-shm")]
    assert [mode_of(p) for p in leftovers] == [0o644] * 3
    s = Store(path)
    assert [mode_of(p) for p in leftovers] == [0o600] * 3
    s.close()
    old.close()
