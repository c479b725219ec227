"""Verified backups, the service side: rows in sqlite, the failure event, crash recovery."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dumper import verification
from dumper.backup.compare import create_scratch, scratch_name
from dumper.backup.dsn import ConnParams, connect
from dumper.backup.dump import dump_database
from dumper.clock import FakeClock
from dumper.store import Store, TargetFields
from tests.fixtures.dbcompare import execute, query

pytestmark = pytest.mark.integration
START = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)


def _backup(store: Store, db: ConnParams, tmp_path: Path) -> tuple[int, Path]:
    execute(db, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(9))", "INSERT INTO t VALUES (1,'a')")
    path = tmp_path / "t.sql.gz"
    dump_database(db, path)
    fields = TargetFields(name="shop", host="h", port=3306, dbname=db.database, user="u")
    target = store.insert_target(fields, None, START)
    return store.insert_backup(target.id, START, path.name, "manual").id, path


def test_a_verification_is_recorded_and_a_failed_one_emits_the_event(
    scratch_db: ConnParams, tmp_path: Path
) -> None:
    store, clock = Store(tmp_path / "app.db"), FakeClock(START)
    store.migrate()
    backup_id, path = _backup(store, scratch_db, tmp_path)
    assert verification.get(store, backup_id) is None
    done = verification.run(store, clock, backup_id, path, scratch_db)
    assert done.status == "passed" and verification.get(store, backup_id) == done
    before = path.read_bytes()
    path.write_bytes(gzip.compress(gzip.decompress(before).replace(b"'a'", b"'b'")))
    failures: list[str] = []
    failed = verification.run(store, clock, backup_id, path, scratch_db, on_failed=failures.append)
    assert failed.status == "failed" and failed.finished_at is not None
    assert failures == [failed.notes] and failed.notes.startswith("table t: content differs")


def test_a_verification_reports_the_progress_of_its_test_restore(
    scratch_db: ConnParams, tmp_path: Path
) -> None:
    from dumper.backup.restore import RestoreProgress

    store, clock = Store(tmp_path / "app.db"), FakeClock(START)
    store.migrate()
    backup_id, path = _backup(store, scratch_db, tmp_path)
    seen: list[RestoreProgress] = []
    done = verification.run(store, clock, backup_id, path, scratch_db, progress=seen.append)
    assert done.status == "passed"
    assert seen and seen[-1].bytes_read == seen[-1].bytes_total > 0
    assert seen[-1].statements > 0
    assert [p.bytes_read for p in seen] == sorted(p.bytes_read for p in seen)


def test_recovery_drops_a_left_over_scratch_database(
    scratch_db: ConnParams, tmp_path: Path
) -> None:
    store, clock = Store(tmp_path / "app.db"), FakeClock(START)
    store.migrate()
    backup_id, _path = _backup(store, scratch_db, tmp_path)
    scratch = scratch_name(scratch_db.database, backup_id)
    create_scratch(scratch_db, scratch, connect)  # as if dumper died mid-verification
    verification._record(
        store, verification.Verification(backup_id, "running", "x", None, "", scratch)
    )
    assert verification.recover(store, clock, lambda _id: scratch_db) == [backup_id]
    sql = f"SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{scratch}'"
    assert query(scratch_db, sql) == []
    left = verification.get(store, backup_id)
    assert left is not None and left.status == "failed" and "interrupted" in left.notes
