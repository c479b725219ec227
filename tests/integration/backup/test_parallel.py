"""A dump over several connections: one snapshot shared by all, the same file content as one
connection's, a fallback without the lock privilege, failures and cancel that leave nothing."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from dumper.backup import parallel
from dumper.backup.dsn import ConnParams, connect
from dumper.backup.dump import DumpOptions, DumpProgress, dump_database
from dumper.backup.restore import restore_file
from dumper.errors import Cancelled, DumpFailed
from tests.conftest import _new_db, admin_exec
from tests.fixtures.dbcompare import assert_same, execute, load_sakila, query

pytestmark = pytest.mark.integration

Factory = Callable[[], ConnParams]


def _parallel(n: int, **kw: int) -> DumpOptions:
    return DumpOptions(parallel_connections=n, **kw)


@pytest.fixture(scope="module")
def sakila(mysql_params: ConnParams) -> Iterator[ConnParams]:
    db = _new_db(mysql_params, "dumper_par_sakila")
    load_sakila(db)
    yield db
    admin_exec(mysql_params, f"DROP DATABASE IF EXISTS `{db.database}`")


@pytest.fixture
def small_units(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many small units and buffers: every table spans several workers, and workers wait."""
    monkeypatch.setattr(parallel, "UNIT_BYTES", 16 << 10)
    monkeypatch.setattr(parallel, "BUFFER_BYTES", 8 << 10)


def _mine(params: ConnParams) -> int:
    """Connections of ours still on the server (the dump's, the cancel's)."""
    deadline = time.monotonic() + 10
    while True:
        left = query(
            params,
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
            f" WHERE DB = '{params.database}' AND ID <> CONNECTION_ID()",
        )[0][0]
        if left == 0 or time.monotonic() > deadline:
            return int(left)
        time.sleep(0.1)


@pytest.mark.parametrize("workers", [2, 4])
def test_a_parallel_dump_holds_the_same_rows_and_digests_as_one_connection_and_restores_equal(
    sakila: ConnParams,
    scratch_db_factory: Factory,
    tmp_path: Path,
    small_units: None,
    workers: int,
) -> None:
    one = dump_database(sakila, tmp_path / "one.sql.gz")
    many = dump_database(sakila, tmp_path / "many.sql.gz", options=_parallel(workers))
    assert many.warnings == one.warnings
    assert many.consistent_snapshot
    assert many.table_rows == one.table_rows
    assert many.table_digests == one.table_digests  # every value, in the same order
    assert many.objects == one.objects
    dst = scratch_db_factory()
    restore_file(tmp_path / "many.sql.gz", dst)
    assert_same(sakila, dst)


def test_every_connection_of_a_parallel_dump_reads_the_same_snapshot(
    scratch_db_factory: Factory, tmp_path: Path, small_units: None
) -> None:
    src = scratch_db_factory()
    accounts = 3000
    execute(
        src,
        "CREATE TABLE acct_a (id INT PRIMARY KEY, bal BIGINT NOT NULL)",
        "CREATE TABLE acct_b (id INT PRIMARY KEY, bal BIGINT NOT NULL)",
        "CREATE TABLE acct_c (id INT PRIMARY KEY, bal BIGINT NOT NULL)",
        *(
            f"INSERT INTO acct_{t} VALUES " + ",".join(f"({i}, 1000)" for i in range(accounts))
            for t in "abc"
        ),
    )
    total = 3 * accounts * 1000
    stop = threading.Event()
    moved = threading.Event()
    errors: list[BaseException] = []

    def transfers(seed: int) -> None:
        # moves money between the tables, one transaction each: the sum never changes, so any
        # two connections reading at different moments would disagree
        conn = connect(src)
        rnd = random.Random(seed)
        try:
            with conn.cursor() as cur:
                while not stop.is_set():
                    a, b = rnd.sample("abc", 2)
                    i, j, amount = rnd.randrange(accounts), rnd.randrange(accounts), 7
                    cur.execute(f"UPDATE acct_{a} SET bal = bal - {amount} WHERE id = {i}")
                    cur.execute(f"UPDATE acct_{b} SET bal = bal + {amount} WHERE id = {j}")
                    conn.commit()
                    moved.set()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            conn.close()

    # several writers: commits come faster than the connections can start their transactions
    writers = [threading.Thread(target=transfers, args=(seed,)) for seed in range(4)]
    for writer in writers:
        writer.start()
    sums: list[int] = []
    try:
        assert moved.wait(10)
        # connections starting apart would disagree only if a commit fell between their
        # starts: several rounds make a missing lock show
        for round_ in range(6):
            out = tmp_path / f"p{round_}.sql.gz"
            result = dump_database(src, out, options=_parallel(3, batch_bytes=4096))
            assert result.consistent_snapshot and not result.warnings
            dst = scratch_db_factory()
            restore_file(out, dst)
            row = query(
                dst,
                "SELECT (SELECT SUM(bal) FROM acct_a)+(SELECT SUM(bal) FROM acct_b)"
                "+(SELECT SUM(bal) FROM acct_c)",
            )
            sums.append(int(row[0][0]))
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    assert not errors
    assert sums == [total] * 6


@pytest.fixture
def no_reload_user(mysql_params: ConnParams, scratch_db: ConnParams) -> Iterator[ConnParams]:
    name = f"dumper_par_{uuid.uuid4().hex[:8]}"
    admin_exec(
        mysql_params,
        f"CREATE USER '{name}'@'%' IDENTIFIED BY 'pw'",
        f"CREATE USER '{name}'@'localhost' IDENTIFIED BY 'pw'",
        f"GRANT ALL ON `{scratch_db.database}`.* TO '{name}'@'%'",
        f"GRANT ALL ON `{scratch_db.database}`.* TO '{name}'@'localhost'",
    )
    try:
        yield replace(scratch_db, user=name, password="pw")
    finally:
        admin_exec(
            mysql_params,
            f"DROP USER IF EXISTS '{name}'@'%'",
            f"DROP USER IF EXISTS '{name}'@'localhost'",
        )


def test_without_the_reload_privilege_the_dump_uses_one_connection_and_says_so(
    no_reload_user: ConnParams, scratch_db: ConnParams, tmp_path: Path
) -> None:
    execute(scratch_db, "CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1),(2)")
    result = dump_database(no_reload_user, tmp_path / "f.sql.gz", options=_parallel(2))
    assert result.table_rows == {"t": 2}
    notes = [w for w in result.warnings if "one connection" in w]
    assert len(notes) == 1, result.warnings
    assert "RELOAD" in notes[0]
    assert _mine(scratch_db) == 0


def test_a_worker_that_fails_fails_the_dump_naming_the_table_and_leaves_nothing(
    scratch_db: ConnParams, tmp_path: Path, small_units: None
) -> None:
    packet = int(query(scratch_db, "SELECT @@max_allowed_packet")[0][0])
    execute(
        scratch_db,
        "CREATE TABLE a_fine (id INT PRIMARY KEY, v VARCHAR(40))",
        "INSERT INTO a_fine VALUES " + ",".join(f"({i}, MD5({i}))" for i in range(5000)),
        # no key to split its one huge row by: only a worker connection meets it
        "CREATE TABLE b_keyless (b LONGBLOB)",
        f"INSERT INTO b_keyless VALUES (REPEAT('x', {min(packet * 6 // 10, 40 << 20)}))",
    )
    with pytest.raises(DumpFailed) as info:
        dump_database(scratch_db, tmp_path / "x.sql.gz", options=_parallel(2))
    assert "b_keyless" in info.value.message
    assert list(tmp_path.iterdir()) == []
    assert _mine(scratch_db) == 0


def test_cancel_of_a_parallel_dump_leaves_no_file_and_no_connection(
    scratch_db: ConnParams, tmp_path: Path, small_units: None
) -> None:
    execute(
        scratch_db,
        "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(40))",
        "INSERT INTO t VALUES " + ",".join(f"({i}, MD5({i}))" for i in range(20000)),
    )
    cancel = threading.Event()

    def on_progress(p: DumpProgress) -> None:
        if p.rows > 1000:
            cancel.set()

    with pytest.raises(Cancelled):
        dump_database(
            scratch_db,
            tmp_path / "x.sql.gz",
            progress=on_progress,
            cancel=cancel,
            options=_parallel(3, batch_bytes=4096),
        )
    assert cancel.is_set()
    assert list(tmp_path.iterdir()) == []
    assert _mine(scratch_db) == 0
