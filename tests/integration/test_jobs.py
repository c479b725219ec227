"""The job runner against a real MariaDB: results recorded, one job per target, the parallel
bound, cancel, crash recovery, a killed connection, dumps that look wrong, restores.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dumper.backup.dsn import ConnParams, connect
from dumper.backup.sink import part_path
from dumper.backup.verify import verify_file
from dumper.clock import Clock, FakeClock, SystemClock
from dumper.crypto import Cipher
from dumper.engine import Engine
from dumper.errors import Conflict, DecryptionError, DumpFailed, InvalidInput
from dumper.folder import BackupFolder, safe_name
from dumper.jobs import JobRunner
from dumper.store import Store
from dumper.targets import TargetService
from tests.conftest import PrivateServer

pytestmark = pytest.mark.integration


def fill(params: ConnParams, tables: int = 2, rows: int = 50) -> None:
    conn = connect(params, autocommit=True)
    with conn.cursor() as cur:
        for t in range(tables):
            cur.execute(f"CREATE TABLE t{t} (id INT PRIMARY KEY, txt VARCHAR(100))")
            cur.executemany(
                f"INSERT INTO t{t} VALUES (%s, %s)", [(i, f"row {i} of t{t}") for i in range(rows)]
            )
    conn.close()


def count_rows(params: ConnParams, table: str) -> int:
    conn = connect(params)
    with conn.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {table}")
        n = int(cur.fetchone()[0])
    conn.close()
    return n


class Harness:
    def __init__(self, tmp: Path, clock: Clock, max_parallel: int, engine: Engine) -> None:
        self.backup_dir = tmp / "backups"
        self.backup_dir.mkdir(exist_ok=True)
        self.store = Store(tmp / "app.db")
        self.cipher = Cipher(b"k" * 32)
        self.targets = TargetService(self.store, self.cipher, clock)
        self.runner = JobRunner(
            self.store,
            self.targets,
            clock,
            BackupFolder(self.backup_dir),
            max_parallel,
            engine=engine,
        )

    def add_target(self, params: ConnParams, name: str, **kw: Any) -> int:
        data: dict[str, Any] = {
            "name": name,
            "host": params.host,
            "port": params.port,
            "dbname": params.database,
            "user": params.user,
            "password": params.password,
        }
        data.update(kw)
        return self.targets.create(data).id

    def rows_of(self, backup_id: int) -> tuple[Any, Any]:
        """The backup row and its target's, as a restore is started with."""
        backup = self.store.get_backup(backup_id)
        assert backup is not None
        return backup, self.store.require_target(backup.target_id)

    def backup_and_wait(self, target_id: int, timeout: float = 60) -> Any:
        row = self.runner.start_backup(self.store.require_target(target_id))
        assert self.runner.wait("backup", row.id, timeout)
        return self.store.get_backup(row.id)

    def close(self) -> None:
        self.runner.shutdown(10)
        self.store.close()


@pytest.fixture
def make_harness(tmp_path: Path) -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def make(
        clock: Clock | None = None, max_parallel: int = 2, engine: Engine | None = None
    ) -> Harness:
        h = Harness(tmp_path, clock or SystemClock(), max_parallel, engine or Engine.default())
        made.append(h)
        return h

    yield make
    for h in made:
        h.close()


class Gate:
    """Wraps the real dump: each call waits for `open` (to hold jobs running) and counts."""

    def __init__(self) -> None:
        self.real = Engine.default()
        self.open = threading.Event()
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.entered = threading.Semaphore(0)

    def dump(self, *args: Any, **kw: Any) -> Any:
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        self.entered.release()
        try:
            assert self.open.wait(30)
            return self.real.dump(*args, **kw)
        finally:
            with self.lock:
                self.active -= 1

    def engine(self) -> Engine:
        return Engine(dump=self.dump, restore=self.real.restore, verify=self.real.verify)


def test_backup_records_file_size_sha256_tables_rows_and_duration(
    make_harness: Callable[..., Harness], scratch_db: ConnParams
) -> None:
    fill(scratch_db, tables=3, rows=40)
    h = make_harness()
    tid = h.add_target(scratch_db, "shop/main db")
    b = h.backup_and_wait(tid)
    assert b.status == "success", b.notes
    assert b.file_path.startswith("shop_main_db_") and b.file_path.endswith(".sql.gz")
    path = h.backup_dir / b.file_path
    data = path.read_bytes()
    assert b.size_bytes == len(data)
    assert b.sha256 == hashlib.sha256(data).hexdigest()
    assert (b.tables, b.rows) == (3, 120)
    assert b.duration_seconds is not None and b.duration_seconds >= 0
    assert b.finished_at is not None and b.trigger == "manual"
    assert verify_file(path).table_rows == {"t0": 40, "t1": 40, "t2": 40}
    assert not list(h.backup_dir.glob("*.part"))
    assert h.runner.jobs() == []


def test_compression_off_writes_plain_sql(
    make_harness: Callable[..., Harness], scratch_db: ConnParams
) -> None:
    fill(scratch_db, tables=1, rows=3)
    h = make_harness()
    tid = h.add_target(scratch_db, "plain", auto_compress=False)
    b = h.backup_and_wait(tid)
    assert b.status == "success", b.notes
    assert b.file_path.endswith(".sql") and not b.file_path.endswith(".gz")
    assert (h.backup_dir / b.file_path).read_bytes().startswith(b"-- dumper ")


def test_two_backups_in_the_same_second_get_distinct_names(
    make_harness: Callable[..., Harness], scratch_db: ConnParams
) -> None:
    fill(scratch_db, tables=1, rows=3)
    h = make_harness(clock=FakeClock(datetime(2026, 11, 26, 3, 0, 0, tzinfo=UTC)))
    tid = h.add_target(scratch_db, "shop")
    first, second = h.backup_and_wait(tid), h.backup_and_wait(tid)
    assert first.file_path == "shop_2026-11-26_03-00-00.sql.gz"
    assert second.file_path == "shop_2026-11-26_03-00-00_2.sql.gz"
    assert (h.backup_dir / first.file_path).exists() and (h.backup_dir / second.file_path).exists()


def test_one_job_per_target_and_progress_is_readable_while_it_runs(
    make_harness: Callable[..., Harness], scratch_db_factory: Callable[[], ConnParams]
) -> None:
    a_db, b_db = scratch_db_factory(), scratch_db_factory()
    fill(a_db, tables=2, rows=10)
    fill(b_db, tables=1, rows=10)
    gate = Gate()
    h = make_harness(engine=gate.engine())
    a, b = h.add_target(a_db, "a"), h.add_target(b_db, "b")
    first = h.runner.start_backup(h.store.require_target(a))
    assert first.status == "running"
    assert gate.entered.acquire(timeout=10)
    with pytest.raises(Conflict):
        h.runner.start_backup(h.store.require_target(a))
    other = h.runner.start_backup(h.store.require_target(b))  # another target is free
    job = h.runner.job_for_target(a)
    assert job is not None and job.kind == "backup" and job.id == first.id
    gate.open.set()
    assert h.runner.wait("backup", first.id, 30) and h.runner.wait("backup", other.id, 30)
    assert h.store.get_backup(first.id).status == "success"  # type: ignore[union-attr]
    assert job.progress is not None and job.progress.tables_done == job.progress.tables_total == 2
    assert job.progress.rows == 20
    # free again once finished
    assert h.backup_and_wait(a).status == "success"


def test_parallel_bound_holds_and_queued_jobs_all_run(
    make_harness: Callable[..., Harness], scratch_db_factory: Callable[[], ConnParams]
) -> None:
    gate = Gate()
    h = make_harness(max_parallel=2, engine=gate.engine())
    ids = []
    for i in range(5):
        db = scratch_db_factory()
        fill(db, tables=1, rows=5)
        ids.append(h.add_target(db, f"t{i}"))
    rows = [h.runner.start_backup(h.store.require_target(t), trigger="scheduled") for t in ids]
    assert gate.entered.acquire(timeout=10) and gate.entered.acquire(timeout=10)
    time.sleep(0.3)  # give a third worker the chance to (wrongly) enter
    assert gate.active == 2
    assert h.runner.running_count == 2
    assert len(h.runner.jobs()) == 5  # the rest wait in the queue, each holding its target
    gate.open.set()
    for r in rows:
        assert h.runner.wait("backup", r.id, 60)
    assert gate.max_active == 2
    done = [h.store.get_backup(r.id) for r in rows]
    assert [d.status for d in done] == ["success"] * 5  # type: ignore[union-attr]
    assert {d.trigger for d in done} == {"scheduled"}  # type: ignore[union-attr]


def test_cancel_ends_the_backup_cancelled_and_leaves_no_file(
    make_harness: Callable[..., Harness], scratch_db: ConnParams
) -> None:
    fill(scratch_db, tables=4, rows=20)
    real = Engine.default()
    reached = threading.Event()
    resume = threading.Event()

    def dump(*args: Any, progress: Any = None, **kw: Any) -> Any:
        def hold(p: Any) -> None:
            progress(p)
            if not reached.is_set():
                reached.set()
                resume.wait(10)

        return real.dump(*args, progress=hold, **kw)

    h = make_harness(engine=Engine(dump=dump, restore=real.restore, verify=real.verify))
    tid = h.add_target(scratch_db, "c")
    row = h.runner.start_backup(h.store.require_target(tid))
    assert reached.wait(10)
    assert h.runner.cancel("backup", row.id)
    resume.set()
    assert h.runner.wait("backup", row.id, 30)
    got = h.store.get_backup(row.id)
    assert got is not None and got.status == "cancelled" and "cancel" in got.notes
    assert list(h.backup_dir.iterdir()) == []
    assert not h.runner.cancel("backup", row.id)  # nothing to cancel any more


@pytest.mark.private_server
def test_killed_connection_gives_failed_and_no_file(
    make_harness: Callable[..., Harness], private_mariadb: PrivateServer
) -> None:
    fill(private_mariadb.params, tables=5, rows=2000)
    real = Engine.default()

    def dump(*args: Any, progress: Any = None, **kw: Any) -> Any:
        def kill_on_first(p: Any) -> None:
            progress(p)
            private_mariadb.kill()

        return real.dump(*args, progress=kill_on_first, **kw)

    h = make_harness(engine=Engine(dump=dump, restore=real.restore, verify=real.verify))
    tid = h.add_target(private_mariadb.params, "victim")
    b = h.backup_and_wait(tid)
    assert b.status == "failed"
    assert b.notes
    assert b.sha256 is None and b.size_bytes is None
    assert list(h.backup_dir.iterdir()) == []


def test_a_dump_without_tables_of_a_database_with_tables_fails(
    make_harness: Callable[..., Harness], scratch_db: ConnParams
) -> None:
    fill(scratch_db, tables=2, rows=3)
    real = Engine.default()

    def dump(*args: Any, **kw: Any) -> Any:
        return dataclasses.replace(real.dump(*args, **kw), tables=0, table_rows={})

    h = make_harness(engine=Engine(dump=dump, restore=real.restore, verify=real.verify))
    b = h.backup_and_wait(h.add_target(scratch_db, "ghost"))
    assert b.status == "failed"
    assert "no tables" in b.notes and "2" in b.notes
    assert list(h.backup_dir.iterdir()) == []


def test_an_empty_database_dumps_successfully(
    make_harness: Callable[..., Harness], scratch_db: ConnParams
) -> None:
    h = make_harness()
    b = h.backup_and_wait(h.add_target(scratch_db, "empty"))
    assert b.status == "success", b.notes
    assert b.tables == 0


def test_a_file_without_completion_marker_fails(
    make_harness: Callable[..., Harness], scratch_db: ConnParams
) -> None:
    fill(scratch_db, tables=1, rows=3)
    real = Engine.default()

    def dump(params: ConnParams, out: Path, **kw: Any) -> Any:
        result = real.dump(params, out, **kw)
        text = gzip.decompress(out.read_bytes())
        # cut the completion marker and manifest, as a truncated write would
        out.write_bytes(gzip.compress(text[: text.rindex(b"-- Dump completed")]))
        return result

    h = make_harness(engine=Engine(dump=dump, restore=real.restore, verify=real.verify))
    b = h.backup_and_wait(h.add_target(scratch_db, "cut"))
    assert b.status == "failed"
    assert "verification" in b.notes
    assert list(h.backup_dir.iterdir()) == []


def test_undecryptable_password_fails_the_backup_with_a_clear_note(
    make_harness: Callable[..., Harness], scratch_db: ConnParams, tmp_path: Path
) -> None:
    h = make_harness()
    tid = h.add_target(scratch_db, "locked", password="secret-pw")
    h.targets.cipher = Cipher(os.urandom(32))  # the key changed
    target = h.store.require_target(tid)
    with pytest.raises(DecryptionError):  # a manual backup fails fast, with no row
        h.runner.start_backup(target)
    assert h.store.list_backups(tid) == []
    # a scheduled one is recorded failed, so the admin sees why it did not run
    row = h.runner.start_backup(target, trigger="scheduled")
    b = h.store.get_backup(row.id)
    assert b is not None and b.status == "failed" and "enter the password again" in b.notes


def test_rotation_runs_after_a_successful_backup_and_is_noted(
    make_harness: Callable[..., Harness], scratch_db: ConnParams
) -> None:
    fill(scratch_db, tables=1, rows=3)
    h = make_harness()
    tid = h.add_target(scratch_db, "rot", retention_days=3)
    old_time = datetime.now(UTC) - timedelta(days=10)
    old = h.store.insert_backup(tid, old_time, "rot_old.sql.gz", "scheduled")
    h.store.finish_backup(old.id, status="success", finished_at=old_time, duration_seconds=1)
    (h.backup_dir / "rot_old.sql.gz").write_bytes(b"old")
    b = h.backup_and_wait(tid)
    assert b.status == "success"
    assert h.store.get_backup(old.id) is None
    assert not (h.backup_dir / "rot_old.sql.gz").exists()
    assert "rotation" in b.notes and "rot_old.sql.gz" in b.notes


def test_no_rotation_after_a_failed_backup(
    make_harness: Callable[..., Harness], scratch_db: ConnParams
) -> None:
    h = make_harness()
    tid = h.add_target(scratch_db, "rot", retention_days=1, dbname="no_such_db_here")
    old_time = datetime.now(UTC) - timedelta(days=10)
    old = h.store.insert_backup(tid, old_time, "rot_old.sql.gz", "scheduled")
    h.store.finish_backup(old.id, status="success", finished_at=old_time, duration_seconds=1)
    (h.backup_dir / "rot_old.sql.gz").write_bytes(b"old")
    b = h.backup_and_wait(tid)
    assert b.status == "failed"
    assert h.store.get_backup(old.id) is not None
    assert (h.backup_dir / "rot_old.sql.gz").exists()


def test_crash_recovery_fails_running_rows_removes_parts_and_reports_unknown_files(
    make_harness: Callable[..., Harness], scratch_db: ConnParams, tmp_path: Path
) -> None:
    # a process that died mid-backup: a running row and its .part file, plus a stranger's file
    h = make_harness()
    tid = h.add_target(scratch_db, "crashy")
    row = h.store.insert_backup(tid, datetime.now(UTC), "crashy_x.sql.gz", "scheduled")
    (h.backup_dir / "crashy_x.sql.gz.part").write_bytes(b"half a dump")
    (h.backup_dir / "someone_elses.sql.gz").write_bytes(b"keep me")
    restore = h.store.insert_restore(row.id, tid, datetime.now(UTC))
    h.close()

    after = make_harness()
    report = after.runner.recover()
    assert report.failed_backups == [row.id] and report.failed_restores == [restore.id]
    assert report.removed_parts == ["crashy_x.sql.gz.part"]
    got = after.store.get_backup(row.id)
    assert got is not None and got.status == "failed" and got.notes == "interrupted by a restart"
    assert after.store.get_restore(restore.id).status == "failed"  # type: ignore[union-attr]
    assert not (after.backup_dir / "crashy_x.sql.gz.part").exists()
    assert (after.backup_dir / "someone_elses.sql.gz").read_bytes() == b"keep me"
    assert [f.name for f in after.runner.unknown_files()] == ["someone_elses.sql.gz"]
    # the target is free again
    assert after.backup_and_wait(tid).status == "success"


def test_restore_job_brings_the_data_back(
    make_harness: Callable[..., Harness], scratch_db: ConnParams
) -> None:
    fill(scratch_db, tables=2, rows=25)
    h = make_harness()
    tid = h.add_target(scratch_db, "r")
    b = h.backup_and_wait(tid)
    conn = connect(scratch_db, autocommit=True)
    with conn.cursor() as cur:
        cur.execute("DROP TABLE t1")
        cur.execute("DELETE FROM t0")
    conn.close()
    r = h.runner.start_restore(*h.rows_of(b.id))
    assert r.status == "running"
    assert h.runner.wait("restore", r.id, 60)
    got = h.store.get_restore(r.id)
    assert got is not None and got.status == "success", got
    assert got.statements and got.statements > 0
    assert count_rows(scratch_db, "t0") == 25 and count_rows(scratch_db, "t1") == 25


def test_restore_of_a_failed_backup_is_refused(
    make_harness: Callable[..., Harness], scratch_db: ConnParams
) -> None:
    h = make_harness()
    tid = h.add_target(scratch_db, "r")
    row = h.store.insert_backup(tid, datetime.now(UTC), "x.sql.gz", "manual")
    h.store.finish_backup(
        row.id, status="failed", finished_at=datetime.now(UTC), duration_seconds=0
    )
    with pytest.raises(InvalidInput):
        h.runner.start_restore(*h.rows_of(row.id))


def test_shutdown_fails_queued_jobs_instead_of_losing_them(
    make_harness: Callable[..., Harness], scratch_db_factory: Callable[[], ConnParams]
) -> None:
    gate = Gate()
    h = make_harness(max_parallel=1, engine=gate.engine())
    dbs = [scratch_db_factory() for _ in range(3)]
    for db in dbs:
        fill(db, tables=3, rows=5)
    ids = [h.add_target(db, f"s{i}") for i, db in enumerate(dbs)]
    rows = [h.runner.start_backup(h.store.require_target(t)) for t in ids]
    assert gate.entered.acquire(timeout=10)
    # the running one is released only after the deadline: cancelled; queued ones never ran
    threading.Timer(0.5, gate.open.set).start()
    h.runner.shutdown(timeout=0.2)
    statuses = [h.store.get_backup(r.id).status for r in rows]  # type: ignore[union-attr]
    assert statuses == ["failed"] * 3
    assert all("shut down" in h.store.get_backup(r.id).notes for r in rows)  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        h.runner.start_backup(h.store.require_target(ids[0]))
    assert list(h.backup_dir.iterdir()) == []


def test_safe_name() -> None:
    assert safe_name("shop") == "shop"
    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("Mein Shop: prod (ä)") == "Mein_Shop_prod"
    assert safe_name("...") == "target"


def test_restore_of_a_damaged_file_fails_before_touching_the_database(
    make_harness: Callable[..., Harness], scratch_db: ConnParams
) -> None:
    fill(scratch_db, tables=1, rows=10)
    h = make_harness()
    tid = h.add_target(scratch_db, "r")
    b = h.backup_and_wait(tid)
    path = h.backup_dir / b.file_path
    path.write_bytes(path.read_bytes()[:-20])  # truncated after the backup was made
    conn = connect(scratch_db, autocommit=True)
    with conn.cursor() as cur:
        cur.execute("DELETE FROM t0 WHERE id < 5")
    conn.close()
    r = h.runner.start_restore(*h.rows_of(b.id))
    assert h.runner.wait("restore", r.id, 60)
    got = h.store.get_restore(r.id)
    assert got is not None and got.status == "failed" and got.notes
    assert not got.statements
    assert count_rows(scratch_db, "t0") == 5  # nothing ran


def test_restore_into_a_missing_database_fails_with_the_reason(
    make_harness: Callable[..., Harness], scratch_db: ConnParams
) -> None:
    fill(scratch_db, tables=1, rows=3)
    h = make_harness()
    tid = h.add_target(scratch_db, "r")
    b = h.backup_and_wait(tid)
    h.targets.update(
        tid,
        {
            "name": "r",
            "host": scratch_db.host,
            "port": scratch_db.port,
            "dbname": "no_such_db_for_restore",
            "user": scratch_db.user,
        },
    )
    r = h.runner.start_restore(*h.rows_of(b.id))
    assert h.runner.wait("restore", r.id, 60)
    got = h.store.get_restore(r.id)
    assert got is not None and got.status == "failed"
    assert "no_such_db_for_restore" in got.notes


def test_an_edit_while_queued_does_not_change_the_files_format(
    make_harness: Callable[..., Harness], scratch_db: ConnParams
) -> None:
    fill(scratch_db, tables=1, rows=3)
    gate = Gate()
    h = make_harness(engine=gate.engine())
    tid = h.add_target(scratch_db, "fmt")
    row = h.runner.start_backup(h.store.require_target(tid))
    assert gate.entered.acquire(timeout=10)
    h.targets.update(
        tid,
        {
            "name": "fmt",
            "host": scratch_db.host,
            "port": scratch_db.port,
            "dbname": scratch_db.database,
            "user": scratch_db.user,
            "auto_compress": False,
        },
    )
    gate.open.set()
    assert h.runner.wait("backup", row.id, 30)
    done = h.store.get_backup(row.id)
    assert done is not None and done.status == "success" and done.file_path.endswith(".sql.gz")
    assert verify_file(h.backup_dir / done.file_path).compressed is True


def test_two_targets_naming_one_database_run_one_job_at_a_time(
    make_harness: Callable[..., Harness], scratch_db: ConnParams
) -> None:
    fill(scratch_db, tables=1, rows=5)
    gate = Gate()
    h = make_harness(engine=gate.engine())
    a, b = h.add_target(scratch_db, "a"), h.add_target(scratch_db, "b")
    gate.open.set()
    b_backup = h.backup_and_wait(b)
    assert b_backup.status == "success", b_backup.notes
    gate.open.clear()
    held = h.runner.start_backup(h.store.require_target(a))
    assert gate.entered.acquire(timeout=10)  # entered for b's backup
    assert gate.entered.acquire(timeout=10)  # and now for a's, held at the gate
    for start in (
        lambda: h.runner.start_restore(*h.rows_of(b_backup.id)),
        lambda: h.runner.start_backup(h.store.require_target(b)),
    ):
        with pytest.raises(Conflict) as refused:
            start()
        assert f"backup {held.id} of target 'a'" in refused.value.message
        assert scratch_db.database in refused.value.message
    gate.open.set()
    assert h.runner.wait("backup", held.id, 30)
    restore = h.runner.start_restore(*h.rows_of(b_backup.id))  # free again
    assert h.runner.wait("restore", restore.id, 60)
    assert h.store.get_restore(restore.id).status == "success"  # type: ignore[union-attr]


def test_shutdown_removes_the_part_file_of_a_job_stuck_in_the_engine(
    make_harness: Callable[..., Harness], scratch_db: ConnParams
) -> None:
    release = threading.Event()
    entered = threading.Event()

    def stuck_dump(params: ConnParams, out: Path, **kw: Any) -> Any:
        part_path(out).write_bytes(b"-- dumper partial")
        entered.set()
        release.wait(30)  # deaf to the cancel, as a call blocked in a driver would be
        raise DumpFailed("gave up")

    real = Engine.default()
    h = make_harness(engine=Engine(dump=stuck_dump, restore=real.restore, verify=real.verify))
    row = h.runner.start_backup(h.store.require_target(h.add_target(scratch_db, "stuck")))
    try:
        assert entered.wait(10)
        h.runner.shutdown(timeout=0)
        assert list(h.backup_dir.iterdir()) == []
        got = h.store.get_backup(row.id)
        assert got is not None and got.status == "failed" and "shut down" in got.notes
    finally:
        release.set()
