"""Dump behaviour around the data: snapshot consistency, progress, cancel, lost connections."""

from __future__ import annotations

import io
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dumper.backup.dsn import ConnParams, connect
from dumper.backup.dump import DumpOptions, DumpProgress, dump_database, dump_to_stream
from dumper.errors import Cancelled, ConnectionFailed, DumpFailed
from tests.conftest import free_port
from tests.fixtures.dbcompare import assert_same, execute, load_dump_file, query

pytestmark = pytest.mark.integration

Factory = Callable[[], ConnParams]
SMALL = DumpOptions(batch_bytes=4096)


def _fill(db: ConnParams, rows: int = 20000) -> None:
    execute(
        db,
        "CREATE TABLE digits (d INT PRIMARY KEY)",
        "INSERT INTO digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)",
        "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40), n INT)",
        "INSERT INTO items SELECT a.d*10000 + b.d*1000 + c.d*100 + e.d*10 + f.d + 1,"
        " MD5(a.d*10000 + b.d*1000 + c.d*100 + e.d*10 + f.d), b.d"
        " FROM digits a, digits b, digits c, digits e, digits f"
        f" WHERE a.d*10000 + b.d*1000 + c.d*100 + e.d*10 + f.d < {rows}",
    )


def _no_files_left(tmp_path: Path) -> None:
    assert list(tmp_path.iterdir()) == []


def test_writes_committed_after_the_snapshot_are_not_in_the_dump(
    scratch_db_factory: Factory, tmp_path: Path
) -> None:
    src = scratch_db_factory()
    accounts = 200
    execute(
        src,
        "CREATE TABLE acct_a (id INT PRIMARY KEY, bal BIGINT NOT NULL)",
        "CREATE TABLE acct_b (id INT PRIMARY KEY, bal BIGINT NOT NULL)",
        "CREATE TABLE late (id INT PRIMARY KEY)",
        *(f"INSERT INTO acct_{t} VALUES ({i}, 1000)" for t in "ab" for i in range(accounts)),
    )
    total = 2 * accounts * 1000
    stop = threading.Event()
    errors: list[BaseException] = []

    def transfers() -> None:
        # moves money between the two tables, one transaction each: the sum never changes
        conn = connect(src)
        rnd = random.Random(7)
        try:
            with conn.cursor() as cur:
                while not stop.is_set():
                    i, j, amount = (
                        rnd.randrange(accounts),
                        rnd.randrange(accounts),
                        rnd.randint(1, 9),
                    )
                    cur.execute(f"UPDATE acct_a SET bal = bal - {amount} WHERE id = {i}")
                    cur.execute(f"UPDATE acct_b SET bal = bal + {amount} WHERE id = {j}")
                    conn.commit()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            conn.close()

    writer = threading.Thread(target=transfers)
    seen_first = threading.Event()

    def on_progress(p: DumpProgress) -> None:
        if not seen_first.is_set():
            # the snapshot is taken: a committed insert now must not show up
            seen_first.set()
            execute(src, "INSERT INTO late VALUES (1)")
            writer.start()

    out = tmp_path / "c.sql.gz"
    try:
        result = dump_database(src, out, progress=on_progress, options=SMALL)
    finally:
        stop.set()
        if writer.is_alive():
            writer.join()
    assert not errors
    assert result.consistent_snapshot
    assert query(src, "SELECT COUNT(*) FROM late")[0][0] == 1
    assert result.table_rows == {"acct_a": accounts, "acct_b": accounts, "late": 0}

    dst = scratch_db_factory()
    load_dump_file(dst, out)
    assert query(dst, "SELECT COUNT(*) FROM late")[0][0] == 0
    dumped = query(dst, "SELECT (SELECT SUM(bal) FROM acct_a) + (SELECT SUM(bal) FROM acct_b)")
    assert int(dumped[0][0]) == total
    live = query(src, "SELECT (SELECT SUM(bal) FROM acct_a) + (SELECT SUM(bal) FROM acct_b)")
    assert int(live[0][0]) == total


def test_progress_reports_rows_tables_and_bytes_as_the_dump_goes(
    scratch_db: ConnParams, tmp_path: Path
) -> None:
    _fill(scratch_db)
    seen: list[DumpProgress] = []
    out = tmp_path / "p.sql.gz"
    result = dump_database(scratch_db, out, progress=seen.append, options=SMALL)
    assert len(seen) > 10  # at least once per batch
    rows = [p.rows for p in seen]
    assert rows == sorted(rows)
    assert {p.tables_total for p in seen} == {2}
    assert "items" in {p.table for p in seen}
    last = seen[-1]
    assert (last.rows, last.tables_done, last.table) == (result.rows, 2, None)
    assert last.bytes_written == result.size_bytes == out.stat().st_size
    assert result.rows == 20010


def test_dump_to_stream_writes_the_same_kind_of_file_without_a_path(scratch_db: ConnParams) -> None:
    _fill(scratch_db, 100)
    buf = io.BytesIO()
    result = dump_to_stream(scratch_db, buf, compress=False)
    text = buf.getvalue().decode()
    assert result.path is None and result.size_bytes == len(buf.getvalue())
    assert text.startswith("-- dumper ") and "-- dumper-manifest " in text.splitlines()[-1]
    assert result.table_rows == {"digits": 10, "items": 100}


def test_cancel_stops_the_dump_and_leaves_no_file(scratch_db: ConnParams, tmp_path: Path) -> None:
    _fill(scratch_db)
    cancel = threading.Event()

    def on_progress(p: DumpProgress) -> None:
        if p.rows > 0:
            cancel.set()

    with pytest.raises(Cancelled):
        dump_database(
            scratch_db, tmp_path / "x.sql.gz", progress=on_progress, cancel=cancel, options=SMALL
        )
    _no_files_left(tmp_path)


def test_cancel_while_streaming_a_table_without_key_stops_without_reading_it_all(
    scratch_db: ConnParams, tmp_path: Path
) -> None:
    _fill(scratch_db, 100)
    execute(
        scratch_db,
        "CREATE TABLE heap (a INT, b VARCHAR(40))",
        "INSERT INTO heap SELECT x.id, y.name FROM items x, items y",  # 10,000 rows, no key
    )
    cancel = threading.Event()
    seen: list[int] = []

    def on_progress(p: DumpProgress) -> None:
        if p.table == "heap" and p.rows > 0:
            seen.append(p.rows)
            cancel.set()

    with pytest.raises(Cancelled):
        dump_database(
            scratch_db, tmp_path / "x.sql.gz", progress=on_progress, cancel=cancel, options=SMALL
        )
    assert len(seen) == 1
    _no_files_left(tmp_path)
    # the server is not left holding anything of ours: the closed connection (and the one that
    # sent KILL QUERY) leave the process list within moments, also on a busy machine
    deadline = time.monotonic() + 10
    while True:
        mine = query(
            scratch_db,
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
            f" WHERE DB = '{scratch_db.database}' AND ID <> CONNECTION_ID()",
        )
        if mine[0][0] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert mine[0][0] == 0


def test_cancel_before_start_leaves_no_file(scratch_db: ConnParams, tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        dump_database(scratch_db, tmp_path / "x.sql", cancel=cancel)
    _no_files_left(tmp_path)


def test_unreachable_server_fails_with_connection_error_and_no_file(tmp_path: Path) -> None:
    params = ConnParams("127.0.0.1", free_port(), "root", "", "test", connect_timeout=2)
    with pytest.raises(ConnectionFailed):
        dump_database(params, tmp_path / "x.sql.gz")
    _no_files_left(tmp_path)


def test_connection_killed_mid_dump_fails_clearly_and_leaves_no_file(
    scratch_db: ConnParams, mysql_params: ConnParams, tmp_path: Path
) -> None:
    _fill(scratch_db)
    killed = threading.Event()

    def on_progress(p: DumpProgress) -> None:
        if p.rows > 1000 and not killed.is_set():
            ids = query(
                mysql_params,
                "SELECT ID FROM information_schema.PROCESSLIST"
                f" WHERE DB = '{scratch_db.database}' AND ID <> CONNECTION_ID()",
            )
            assert len(ids) == 1
            execute(mysql_params, f"KILL CONNECTION {ids[0][0]}")
            killed.set()

    with pytest.raises(ConnectionFailed) as info:
        dump_database(scratch_db, tmp_path / "x.sql.gz", progress=on_progress, options=SMALL)
    assert killed.is_set()
    assert "lost connection" in str(info.value) and "items" in str(info.value)
    _no_files_left(tmp_path)


@pytest.mark.private_server
def test_killed_server_ends_the_dump_with_a_clear_error_and_no_file(
    private_mariadb: object, tmp_path: Path
) -> None:
    server = private_mariadb
    params: ConnParams = server.params  # type: ignore[attr-defined]
    _fill(params, 5000)
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    def on_progress(p: DumpProgress) -> None:
        if p.rows > 500:
            server.kill()  # type: ignore[attr-defined]

    with pytest.raises(ConnectionFailed) as info:
        dump_database(params, out_dir / "x.sql.gz", progress=on_progress, options=SMALL)
    assert "lost connection" in str(info.value)
    _no_files_left(out_dir)


class _FullDisk(io.RawIOBase):
    """A stream that accepts `room` bytes, then fails as a full disk does."""

    def __init__(self, room: int) -> None:
        self.room = room

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if len(data) > self.room:
            raise OSError(28, "No space left on device")
        self.room -= len(data)
        return len(data)


@pytest.mark.parametrize("compress", [True, False])
def test_a_full_disk_fails_the_dump_with_the_reason(scratch_db: ConnParams, compress: bool) -> None:
    _fill(scratch_db)
    with pytest.raises(DumpFailed, match="No space left on device"):
        dump_to_stream(scratch_db, _FullDisk(100_000), compress=compress, options=SMALL)  # type: ignore[arg-type]


def test_an_output_folder_that_does_not_exist_fails_with_the_reason(
    scratch_db: ConnParams, tmp_path: Path
) -> None:
    with pytest.raises(DumpFailed, match="No such file or directory"):
        dump_database(scratch_db, tmp_path / "missing" / "x.sql.gz")
    _no_files_left(tmp_path)


@pytest.mark.private_server
def test_a_server_that_stops_answering_ends_the_dump_after_the_read_timeout(
    private_mariadb: object, tmp_path: Path
) -> None:
    import dataclasses
    import signal

    server = private_mariadb
    params: ConnParams = dataclasses.replace(server.params, read_timeout=2)  # type: ignore[attr-defined]
    _fill(params, 5000)
    proc = server.proc  # type: ignore[attr-defined]
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    def on_progress(p: DumpProgress) -> None:
        if p.rows > 500:
            proc.send_signal(signal.SIGSTOP)  # alive, but silent

    try:
        with pytest.raises(ConnectionFailed, match="timed out"):
            dump_database(params, out_dir / "x.sql.gz", progress=on_progress, options=SMALL)
    finally:
        proc.send_signal(signal.SIGCONT)
    _no_files_left(out_dir)


def test_a_view_on_a_dropped_table_fails_the_dump_with_its_name(
    scratch_db: ConnParams, tmp_path: Path
) -> None:
    execute(
        scratch_db,
        "CREATE TABLE t (a INT)",
        "CREATE VIEW broken_v AS SELECT a FROM t",
        "DROP TABLE t",
    )
    with pytest.raises(DumpFailed, match="view broken_v references"):
        dump_database(scratch_db, tmp_path / "x.sql.gz")
    _no_files_left(tmp_path)


def test_a_view_whose_definer_is_gone_is_still_dumped(
    scratch_db_factory: Callable[[], ConnParams], tmp_path: Path
) -> None:
    src = scratch_db_factory()
    execute(
        src,
        "CREATE TABLE t (a INT)",
        "CREATE DEFINER=`nobody_dumper`@`nowhere` SQL SECURITY INVOKER VIEW v AS SELECT a FROM t",
        "CREATE DEFINER=`nobody_dumper`@`nowhere` SQL SECURITY DEFINER VIEW w AS SELECT a FROM t",
    )
    out = tmp_path / "v.sql"
    dump_database(src, out)
    assert "DEFINER=`nobody_dumper`@`nowhere`" in out.read_text()
    dst = scratch_db_factory()
    load_dump_file(dst, out)
    assert_same(src, dst)
