"""Round trips of the MariaDB objects a dump once got wrong: Oracle-mode packages, system-versioned
tables with their history, and definitions made under a multi-byte client character set."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dumper.backup.dsn import ConnParams, connect
from dumper.backup.dump import DumpOptions, dump_database
from dumper.backup.restore import restore_file
from tests.fixtures.dbcompare import (
    FIXTURES,
    assert_same,
    execute,
    is_mariadb,
    load_dump_file,
    load_sql,
    query,
)

pytestmark = pytest.mark.integration

Factory = Callable[[], ConnParams]

# each versioned table of the fixture: the columns that hold its period (implicit ones are hidden)
VERSIONED = {
    "sv_implicit": "id, v, ROW_START, ROW_END",
    "sv_explicit": "id, v, rs, re",
    "sv_invisible": "k, v, rs, re",
    "sv_parts": "id, v, ROW_START, ROW_END",
    "sv_nokey": "v, w, ROW_START, ROW_END",
}


def _mariadb_db(factory: Factory, *fixtures: str) -> ConnParams:
    db = factory()
    if not is_mariadb(db):
        pytest.skip("MariaDB objects")
    for name in fixtures:
        load_sql(db, (FIXTURES / name).read_bytes())
    return db


def _round_trip(src: ConnParams, factory: Factory, out: Path, loader: str) -> ConnParams:
    dump_database(src, out)
    dst = factory()
    if loader == "client":
        load_dump_file(dst, out)
    elif loader == "restore_file":
        restore_file(out, dst)
    else:  # twice: over the objects the first load made
        load_dump_file(dst, out)
        load_dump_file(dst, out)
    return dst


@pytest.mark.parametrize("loader", ["client", "restore_file", "twice"])
def test_oracle_mode_packages_round_trip_exactly(
    scratch_db_factory: Factory, tmp_path: Path, loader: str
) -> None:
    src = _mariadb_db(scratch_db_factory, "packages_mariadb.sql")
    dst = _round_trip(src, scratch_db_factory, tmp_path / "pkg.sql.gz", loader)
    assert_same(src, dst)


def _history(db: ConnParams) -> dict[str, Any]:
    """Every row of every versioned table, history included, as HEX."""
    out: dict[str, Any] = {}
    for table, cols in VERSIONED.items():
        values = ", ".join(f"IFNULL({c}, 'N')" for c in cols.split(", "))
        out[table] = query(
            db,
            f"SELECT HEX(CONCAT_WS('|', {values})) AS r FROM {table} FOR SYSTEM_TIME ALL"
            " ORDER BY r",
        )
    # which history partition a row lands in is the server's choice at insert time (by
    # statement, for LIMIT and INTERVAL alike), so only the current partition is compared
    out["sv_parts pn"] = query(db, "SELECT id, v, HEX(ROW_START) FROM sv_parts PARTITION (pn)")
    return out


@pytest.mark.parametrize("loader", ["client", "restore_file", "twice"])
def test_system_versioned_tables_round_trip_with_their_history(
    scratch_db_factory: Factory, tmp_path: Path, loader: str
) -> None:
    src = _mariadb_db(scratch_db_factory, "versioned_mariadb.sql")
    out = tmp_path / "sv.sql.gz"
    assert dump_database(src, out).warnings == ()
    dst = _round_trip(src, scratch_db_factory, out, loader)
    assert_same(src, dst)
    before, after = _history(src), _history(dst)
    assert len(before["sv_implicit"]) == 4 and len(before["sv_parts"]) == 6
    assert before == after


def test_versioned_history_round_trips_in_tiny_batches(
    scratch_db_factory: Factory, tmp_path: Path
) -> None:
    src = _mariadb_db(scratch_db_factory, "versioned_mariadb.sql")
    out = tmp_path / "sv.sql"
    dump_database(src, out, options=DumpOptions(batch_bytes=4096, split_row_bytes=8192))
    dst = scratch_db_factory()
    restore_file(out, dst)
    assert _history(src) == _history(dst)


def test_a_history_the_server_cannot_take_back_is_named_in_the_warnings(
    scratch_db_factory: Factory, tmp_path: Path
) -> None:
    src = _mariadb_db(scratch_db_factory)
    execute(
        src,
        "CREATE TABLE by_trx (id INT NOT NULL PRIMARY KEY, v INT,"
        " s BIGINT UNSIGNED GENERATED ALWAYS AS ROW START INVISIBLE,"
        " e BIGINT UNSIGNED GENERATED ALWAYS AS ROW END INVISIBLE,"
        " PERIOD FOR SYSTEM_TIME(s, e)) ENGINE=InnoDB WITH SYSTEM VERSIONING",
        "INSERT INTO by_trx (id, v) VALUES (1, 1), (2, 2)",
        "UPDATE by_trx SET v = 3 WHERE id = 1",
    )
    out = tmp_path / "trx.sql.gz"
    result = dump_database(src, out)
    assert len(result.warnings) == 1
    assert "by_trx" in result.warnings[0] and "history was not kept" in result.warnings[0]
    assert "history was not kept" in gzip.decompress(out.read_bytes()).decode()  # the file too
    dst = scratch_db_factory()
    load_dump_file(dst, out)
    assert query(dst, "SELECT id, v FROM by_trx ORDER BY id") == [(1, 3), (2, 2)]


# definitions sent in a multi-byte client charset: (charset, statement)
MULTIBYTE = [
    ("sjis", "CREATE VIEW v_sjis AS SELECT '表示' AS x, 'ソ' AS y, '\\\\' AS z"),
    ("gbk", "CREATE PROCEDURE p_gbk() SELECT '中文', '誠'"),
    ("big5", "CREATE FUNCTION f_big5() RETURNS VARCHAR(10) RETURN '許功蓋'"),
    ("sjis", "CREATE TRIGGER trg_sjis BEFORE INSERT ON t FOR EACH ROW SET @x = '表'"),
    ("gbk", "CREATE EVENT ev_gbk ON SCHEDULE EVERY 1 DAY DISABLE DO SET @x = '中'"),
]


@pytest.mark.parametrize("loader", ["client", "restore_file", "twice"])
def test_definitions_made_under_a_multibyte_client_charset_keep_it(
    scratch_db_factory: Factory, tmp_path: Path, loader: str
) -> None:
    src = _mariadb_db(scratch_db_factory)
    execute(src, "CREATE TABLE t (a INT)")
    for charset, sql in MULTIBYTE:
        conn = connect(src, autocommit=True, charset=charset)
        with conn.cursor() as cur:
            cur.execute(sql)
        conn.close()
    dst = _round_trip(src, scratch_db_factory, tmp_path / "mb.sql.gz", loader)
    assert_same(src, dst)
    assert query(dst, "SHOW CREATE VIEW v_sjis")[0][2] == "sjis"
    assert query(dst, "SHOW CREATE PROCEDURE p_gbk")[0][3] == "gbk"
