"""Large data: memory stays flat over many rows; rows near max_allowed_packet are split."""

from __future__ import annotations

import gzip
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from dumper.backup.dsn import ConnParams
from dumper.backup.dump import dump_database
from dumper.errors import DumpFailed
from tests.fixtures.dbcompare import assert_same, execute, is_mariadb, load_dump_file, query

pytestmark = pytest.mark.integration

Factory = Callable[[], ConnParams]


def _numbers(db: ConnParams, table: str, rows: int) -> None:
    """`table` with `rows` mixed-type rows, generated server-side."""
    execute(
        db,
        "CREATE TABLE IF NOT EXISTS digits (d INT PRIMARY KEY)",
        "INSERT IGNORE INTO digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)",
        f"CREATE TABLE {table} (id INT PRIMARY KEY, s VARCHAR(64), d DECIMAL(12,2),"
        " f DOUBLE, t DATETIME, b VARBINARY(16))",
        f"INSERT INTO {table} SELECT n + 1, MD5(n), n / 3, n / 7, '2020-01-01' + INTERVAL n SECOND,"
        " UNHEX(MD5(n)) FROM (SELECT a.d + b.d*10 + c.d*100 + e.d*1000 + f.d*10000 + g.d*100000"
        " AS n FROM digits a, digits b, digits c, digits e, digits f, digits g) x"
        f" WHERE n < {rows}",
    )


def _peak_during_dump(db: ConnParams, out: Path) -> int:
    tracemalloc.start()
    try:
        dump_database(db, out)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_stays_flat_whatever_the_table_size(
    scratch_db_factory: Factory, tmp_path: Path
) -> None:
    small, large = scratch_db_factory(), scratch_db_factory()
    _numbers(small, "big", 100_000)
    _numbers(large, "big", 300_000)
    peak_small = _peak_during_dump(small, tmp_path / "small.sql.gz")
    peak_large = _peak_during_dump(large, tmp_path / "large.sql.gz")
    sql_size = len(gzip.decompress((tmp_path / "large.sql.gz").read_bytes()))
    assert query(large, "SELECT COUNT(*) FROM big")[0][0] == 300_000
    # 15x the rows, about the same peak; far below the size of the SQL itself
    assert sql_size > 30_000_000
    assert peak_large < 24_000_000
    assert peak_large < 2 * peak_small + 4_000_000


def test_rows_larger_than_max_allowed_packet_as_literals_are_split_and_restore(
    scratch_db_factory: Factory, tmp_path: Path
) -> None:
    src = scratch_db_factory()
    packet = int(query(src, "SELECT @@max_allowed_packet")[0][0])
    blob = min(packet * 6 // 10, 40 << 20)  # its hex literal exceeds max_allowed_packet
    execute(
        src,
        "CREATE TABLE huge (id INT PRIMARY KEY, small VARCHAR(10), data LONGBLOB, txt LONGTEXT,"
        " ts TIMESTAMP NOT NULL DEFAULT '2001-02-03 04:05:06' ON UPDATE CURRENT_TIMESTAMP,"
        " v INT AS (LENGTH(data)) VIRTUAL) DEFAULT CHARSET=utf8mb4",
        f"INSERT INTO huge (id, small, data, txt) VALUES (1, 'a', REPEAT(X'00FF0D27', {blob // 4}),"
        f" REPEAT('é\\r\\n😀''x\\\\', {blob // 12}))",
        "INSERT INTO huge (id, small, data, txt) VALUES (2, 'next', X'01', 'ok'),"
        " (0, NULL, NULL, NULL)",
    )
    out = tmp_path / "huge.sql.gz"
    result = dump_database(src, out)
    assert result.table_rows == {"huge": 3}
    text = gzip.decompress(out.read_bytes())
    assert b"UPDATE `huge` SET `data` = CONCAT(`data`, X'" in text
    assert b"UPDATE `huge` SET `txt` = CONCAT(`txt`, '" in text
    assert b", `ts` = `ts` WHERE `id` = 1;" in text
    longest = max(len(line) for line in text.split(b";\n"))
    assert longest < packet // 2
    dst = scratch_db_factory()
    load_dump_file(dst, out)
    assert_same(src, dst)


def test_a_row_too_large_in_a_table_without_key_fails_loudly(
    scratch_db: ConnParams, tmp_path: Path
) -> None:
    packet = int(query(scratch_db, "SELECT @@max_allowed_packet")[0][0])
    execute(
        scratch_db,
        "CREATE TABLE nokey (data LONGBLOB)",
        f"INSERT INTO nokey VALUES (X'01'), (REPEAT(X'AB', {packet * 6 // 10}))",
    )
    with pytest.raises(DumpFailed, match="too large"):
        dump_database(scratch_db, tmp_path / "x.sql.gz")
    assert list(tmp_path.iterdir()) == []


def test_a_big_json_value_that_cannot_be_split_is_its_own_statement(
    scratch_db_factory: Factory, tmp_path: Path
) -> None:
    src = scratch_db_factory()
    if not is_mariadb(src):
        pytest.skip("MySQL's JSON is a binary type with its own size rules")
    packet = int(query(src, "SELECT @@max_allowed_packet")[0][0])
    execute(
        src,
        "CREATE TABLE j (id INT PRIMARY KEY, doc JSON)",
        f"INSERT INTO j VALUES (1, CONCAT('[\"', REPEAT('x', {packet * 6 // 10}), '\"]')),"
        " (2, '{}')",
    )
    out = tmp_path / "j.sql.gz"
    dump_database(src, out)
    assert b"UPDATE" not in gzip.decompress(out.read_bytes())
    dst = scratch_db_factory()
    load_dump_file(dst, out)
    assert_same(src, dst)


def test_big_texts_in_any_charset_are_split_on_character_boundaries(
    scratch_db_factory: Factory, tmp_path: Path
) -> None:
    from dumper.backup.dump import DumpOptions

    src = scratch_db_factory()
    execute(
        src,
        "CREATE TABLE t (a VARCHAR(5) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
        " b INT NOT NULL, PRIMARY KEY (a, b),"
        " cp LONGTEXT CHARACTER SET cp1251, u2 LONGTEXT CHARACTER SET ucs2,"
        " sj LONGTEXT CHARACTER SET sjis, l1 LONGTEXT CHARACTER SET latin1, bl LONGBLOB)",
        "INSERT INTO t VALUES ('k', 1, REPEAT(_cp1251 X'C0E198', 30000),"
        " REPEAT(_ucs2 X'00E93042', 20000), REPEAT(_sjis X'955C8E9A41', 20000),"
        " REPEAT(_latin1 X'E90D0A27', 30000), REPEAT(X'00FF', 50000)),"
        " ('k', 2, 'x', 'y', 'z', 'w', X'00')",
    )
    out = tmp_path / "t.sql.gz"
    result = dump_database(src, out, options=DumpOptions(batch_bytes=4096, split_row_bytes=8192))
    assert result.table_rows == {"t": 2}
    text = gzip.decompress(out.read_bytes())
    for col in (b"cp", b"u2", b"sj", b"l1", b"bl"):
        assert text.count(b"UPDATE `t` SET `" + col + b"` = CONCAT(") > 5
    assert b"WHERE `a` = _utf8mb4 X'6B' COLLATE utf8mb4_bin AND `b` = 1;" in text
    dst = scratch_db_factory()
    load_dump_file(dst, out)
    assert_same(src, dst)


@pytest.mark.parametrize("key", ["id INT PRIMARY KEY", "id VARCHAR(8) PRIMARY KEY"])
def test_rows_that_grow_and_shrink_mid_table_keep_every_insert_within_a_batch(
    scratch_db_factory: Factory, tmp_path: Path, key: str
) -> None:
    """Small rows go through GROUP_CONCAT, wide ones row by row; a sudden jump in size is
    narrowed down, never written as one oversized statement, and nothing is lost."""
    from dumper.backup.dump import DumpOptions
    from dumper.backup.rows import WIDE_ROW_BYTES

    src = scratch_db_factory()
    id_expr = "seq" if key.startswith("id INT") else "LPAD(seq, 8, '0')"
    execute(
        src,
        f"CREATE TABLE t ({key}, note VARCHAR(20), data MEDIUMBLOB) DEFAULT CHARSET=utf8mb4",
        # 1..300 small, 301..340 wide (about 3 KB of hex each), 341..360 far wider, then small
        f"INSERT INTO t SELECT {id_expr}, CONCAT('n', seq),"
        " CASE WHEN seq <= 300 OR seq > 360 THEN UNHEX(MD5(seq))"
        "      WHEN seq <= 340 THEN REPEAT(UNHEX(MD5(seq)), 100)"
        "      ELSE REPEAT(UNHEX(MD5(seq)), 2000) END"
        " FROM (SELECT a.d + b.d * 10 + c.d * 100 + 1 AS seq FROM"
        " (SELECT 0 d UNION SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5"
        "  UNION SELECT 6 UNION SELECT 7 UNION SELECT 8 UNION SELECT 9) a,"
        " (SELECT 0 d UNION SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5"
        "  UNION SELECT 6 UNION SELECT 7 UNION SELECT 8 UNION SELECT 9) b,"
        " (SELECT 0 d UNION SELECT 1 UNION SELECT 2 UNION SELECT 3) c) s",
    )
    batch = 16_384
    out = tmp_path / "t.sql"
    result = dump_database(src, out, options=DumpOptions(batch_bytes=batch))
    assert result.table_rows == {"t": 400}
    inserts = [s for s in out.read_bytes().split(b";\n") if s.startswith(b"INSERT INTO `t`")]
    values = [s.split(b" VALUES ", 1)[1] for s in inserts]
    # a statement holds several rows only while they fit into about one batch (GROUP_CONCAT
    # batches may reach twice the size before a range is narrowed)
    for v in values:
        assert len(v) <= 2 * batch or v.count(b"),(") == 0
    # the 32 KB rows (64 KB as hex) are each on their own; the 3 KB rows share statements
    assert sum(1 for v in values if len(v) > 60_000) == 20
    assert any(v.count(b"),(") >= 2 and len(v) > 3 * WIDE_ROW_BYTES for v in values)
    dst = scratch_db_factory()
    load_dump_file(dst, out)
    assert_same(src, dst)
