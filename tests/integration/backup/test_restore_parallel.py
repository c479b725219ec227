"""A restore over several connections (parallel_connections > 1): the same database as one
connection's, the same counts, failures and cancels that name the statement and leave nothing
running, other tools' files over one connection, the CLI flag."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dumper.backup import restore_parallel
from dumper.backup.dsn import ConnParams
from dumper.backup.dump import dump_database
from dumper.backup.restore import RestoreOptions, RestoreProgress, restore_file
from dumper.errors import Cancelled, RestoreFailed
from tests.conftest import _new_db, admin_exec
from tests.fixtures.dbcompare import assert_same, load_sakila, query
from tests.integration.backup.test_restore import HEADER, HEADER_STATEMENTS, dumper_file
from tests.integration.backup.test_restore_foreign import FOREIGN
from tests.integration.test_cli_process import dumper, url

pytestmark = pytest.mark.integration

Factory = Callable[[], ConnParams]


def _options(n: int, **kw: object) -> RestoreOptions:
    return RestoreOptions(parallel_connections=n, **kw)  # type: ignore[arg-type]


@pytest.fixture
def dbs(mysql_params: ConnParams) -> Iterator[Factory]:
    made: list[ConnParams] = []

    def make() -> ConnParams:
        made.append(_new_db(mysql_params, "h_prest"))
        return made[-1]

    yield make
    for db in made:
        admin_exec(mysql_params, f"DROP DATABASE IF EXISTS `{db.database}`")


@pytest.fixture(scope="module")
def sakila(mysql_params: ConnParams) -> Iterator[ConnParams]:
    db = _new_db(mysql_params, "h_prest_sakila")
    load_sakila(db)
    yield db
    admin_exec(mysql_params, f"DROP DATABASE IF EXISTS `{db.database}`")


def _left_behind(params: ConnParams) -> tuple[int, list[str]]:
    """Connections still on the destination, and restore threads still alive."""
    deadline = time.monotonic() + 10
    while True:
        left = query(
            params,
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
            f" WHERE DB = '{params.database}' AND ID <> CONNECTION_ID()",
        )[0][0]
        threads = [
            t.name for t in threading.enumerate() if t.name.startswith(("restore-", "dumper-"))
        ]
        if (left == 0 and not threads) or time.monotonic() > deadline:
            return int(left), threads
        time.sleep(0.1)


@pytest.mark.parametrize("workers", [2, 4])
def test_sakila_restored_over_several_connections_equals_the_source_with_the_same_counts(
    sakila: ConnParams, dbs: Factory, tmp_path: Path, workers: int
) -> None:
    path = tmp_path / "sakila.sql.gz"
    dump_database(sakila, path)
    one = restore_file(path, dbs())
    dst = dbs()
    seen: list[RestoreProgress] = []
    many = restore_file(path, dst, options=_options(workers), progress=seen.append)
    assert_same(sakila, dst)
    assert (many.statements, many.rows, many.tables) == (one.statements, one.rows, one.tables)
    assert seen[-1].statements == many.statements
    assert _left_behind(dst) == (0, [])


def _two_tables(rows: int, size: int, bad: bytes = b"") -> bytes:
    """Tables a (keyed, its INSERTs spread over the workers) and b (no key, one worker)."""
    body = [b"CREATE TABLE `a` (id int PRIMARY KEY, s text);\n", b"CREATE TABLE `b` (id int);\n"]
    for i in range(rows):
        body.append(b"INSERT INTO `a` VALUES (%d, '%s');\n" % (i, os.urandom(size).hex().encode()))
        body.append(b"INSERT INTO `b` VALUES (%d);\n" % i)
        if i == rows // 4:
            body.append(bad)
    return b"".join(body)


def test_a_failing_statement_in_one_tables_data_fails_naming_it_and_stops_all(
    dbs: Factory, tmp_path: Path
) -> None:
    bad = b"INSERT INTO `a` VALUES (3, 'again');\n"  # a duplicate key
    # 9 MB of rows after it: more than the queues and batches of 3 workers hold (6 MB)
    body = _two_tables(3000, 2000, bad)
    path = dumper_file(tmp_path, body, {"a": 3000, "b": 3000})
    line = (HEADER + body).split(b"\n").index(bad.rstrip(b"\n")) + 1
    number = HEADER_STATEMENTS + 2 + 2 * (750 + 1) + 1
    dst = dbs()
    with pytest.raises(RestoreFailed) as info:
        restore_file(path, dst, options=_options(3))
    assert str(info.value).startswith(
        f"statement {number} (line {line}): INSERT INTO `a` VALUES (3, 'again'): (1062)"
    )
    assert _left_behind(dst) == (0, [])
    assert query(dst, "SELECT COUNT(*) FROM a")[0][0] < 3000 - 500  # the rest never ran


def test_cancel_mid_restore_ends_every_connection(
    dbs: Factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(restore_parallel, "QUEUE_BYTES", 256 << 10)  # routing waits for workers
    path = dumper_file(tmp_path, _two_tables(300, 20000), {"a": 300, "b": 300})
    cancel = threading.Event()

    def on_progress(p: RestoreProgress) -> None:
        if p.bytes_read > p.bytes_total // 3:
            cancel.set()

    dst = dbs()
    started = time.monotonic()
    with pytest.raises(Cancelled) as cancelled:
        restore_file(path, dst, options=_options(2), progress=on_progress, cancel=cancel)
    assert time.monotonic() - started < 10
    done = cancelled.value.statements
    assert done is not None and HEADER_STATEMENTS < done < HEADER_STATEMENTS + 602
    assert f"after {done} statements" in cancelled.value.message
    assert 0 < query(dst, "SELECT COUNT(*) FROM a")[0][0] < 300
    assert _left_behind(dst) == (0, [])


def test_another_tools_file_restores_over_one_connection(
    dbs: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kw: object) -> None:
        raise AssertionError("a foreign file went over several connections")

    monkeypatch.setattr(restore_parallel.ParallelRestore, "run", refuse)
    dst = dbs()
    result = restore_file(FOREIGN / "adminer.sql.gz", dst, options=_options(4))
    assert result.rows > 0
    assert query(dst, "SELECT COUNT(*) FROM items")[0][0] == 3


def test_the_cli_flag_restores_over_several_connections(
    sakila: ConnParams, dbs: Factory, tmp_path: Path
) -> None:
    path = tmp_path / "sakila.sql.gz"
    dump_database(sakila, path)
    dst = dbs()
    done = dumper("restore", str(path), url(dst), "--parallel", "3")
    assert done.returncode == 0, done.stderr
    assert b"restored 16 tables" in done.stdout
    assert_same(sakila, dst)
    refused = dumper("restore", str(path), url(dst), "--parallel", "9")
    assert refused.returncode == 2 and b"--parallel" in refused.stderr
