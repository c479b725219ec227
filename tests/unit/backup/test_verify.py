"""verify_file: gzip integrity to the last byte, completion marker and manifest, foreign dumps."""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from pathlib import Path

import pytest

from dumper.backup import gzipio, verify
from dumper.backup.verify import verify_file
from dumper.errors import BackupCorrupt, Cancelled

HEADER = (
    b"-- dumper 0.1.0 SQL dump\n"
    b"-- Server version: 10.11.19-MariaDB\n"
    b"-- Database: shop\n"
    b"-- Started: 2026-11-26T03:00:00Z\n"
    b"-- Consistent snapshot: yes\n"
    b"/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n"
)
BODY = b"DROP TABLE IF EXISTS `t`;\nCREATE TABLE `t` (id int);\nINSERT INTO `t` VALUES (1),(2);\n"


def dumper_sql(tables: dict[str, int] | None = None, body: bytes = BODY) -> bytes:
    tables = {"t": 2} if tables is None else tables
    manifest = json.dumps({"version": 1, "tables": tables, "rows": sum(tables.values())})
    return (
        HEADER
        + body
        + b"-- Dump completed 2026-11-26T03:00:12Z\n"
        + b"-- dumper-manifest "
        + manifest.encode()
        + b"\n"
    )


MARIADB_DUMP = b"""/*M!999999\\- enable the sandbox mode */ 
-- MariaDB dump 10.19-10.11.19-MariaDB, for debian-linux-gnu (x86_64)
--
-- Host: 127.0.0.1    Database: shop
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
INSERT INTO `t` VALUES (1);
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;

-- Dump completed on 2026-11-26 21:40:00
"""  # noqa: W291 - mariadb-dump writes that trailing space

MYSQLDUMP = b"""-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)
/*!40101 SET NAMES utf8mb4 */;
INSERT INTO `t` VALUES (1);
-- Dump completed
"""


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_valid_gzip_dump_reports_sizes_marker_and_manifest(tmp_path):
    sql = dumper_sql({"t": 2, "u": 5})
    path = write(tmp_path, "a.sql.gz", gzip.compress(sql))
    result = verify_file(path)
    assert result.compressed is True
    assert result.size_bytes == path.stat().st_size
    assert result.sql_bytes == len(sql)
    assert result.completed_at == "2026-11-26T03:00:12Z"
    assert result.table_rows == {"t": 2, "u": 5}
    assert result.producer == "dumper"


def test_plain_sql_dump_is_accepted(tmp_path):
    sql = dumper_sql()
    result = verify_file(write(tmp_path, "a.sql", sql))
    assert result.compressed is False
    assert result.sql_bytes == len(sql) == result.size_bytes


def test_multi_member_gzip_is_one_valid_stream(tmp_path):
    sql = dumper_sql()
    third = len(sql) // 3
    data = b"".join(
        gzip.compress(p) for p in (sql[:third], sql[third : 2 * third], sql[2 * third :])
    )
    result = verify_file(write(tmp_path, "a.sql.gz", data))
    assert result.sql_bytes == len(sql)
    assert result.table_rows == {"t": 2}


def test_large_multi_member_dump_keeps_checking_to_the_end(tmp_path):
    rows = b"".join(b"INSERT INTO `t` VALUES (%d,'%s');\n" % (i, b"x" * 300) for i in range(20000))
    sql = dumper_sql(body=rows)
    members = [sql[i : i + 500_000] for i in range(0, len(sql), 500_000)]
    data = b"".join(gzip.compress(m, compresslevel=1) for m in members)
    assert verify_file(write(tmp_path, "big.sql.gz", data)).sql_bytes == len(sql)
    with pytest.raises(BackupCorrupt, match="truncated"):
        verify_file(write(tmp_path, "cut.sql.gz", data[:-5]))


def test_truncated_gzip_is_refused_as_truncated(tmp_path):
    data = gzip.compress(dumper_sql())
    with pytest.raises(BackupCorrupt, match="truncated"):
        verify_file(write(tmp_path, "a.sql.gz", data[: len(data) // 2]))


def test_gzip_cut_inside_its_trailer_is_refused(tmp_path):
    data = gzip.compress(dumper_sql())
    with pytest.raises(BackupCorrupt, match="truncated"):
        verify_file(write(tmp_path, "a.sql.gz", data[:-3]))


def test_one_flipped_byte_is_refused_as_corrupt(tmp_path):
    data = bytearray(gzip.compress(dumper_sql(), compresslevel=0))
    data[len(data) // 2] ^= 0x01  # stored block: only the CRC can notice
    with pytest.raises(BackupCorrupt, match="corrupt"):
        verify_file(write(tmp_path, "a.sql.gz", bytes(data)))


def test_garbage_after_the_last_gzip_member_is_refused(tmp_path):
    data = gzip.compress(dumper_sql()) + b"\x00\x00garbage"
    with pytest.raises(BackupCorrupt, match="corrupt"):
        verify_file(write(tmp_path, "a.sql.gz", data))


def test_dumper_file_without_completion_marker_is_refused(tmp_path):
    sql = HEADER + BODY
    with pytest.raises(BackupCorrupt, match="incomplete"):
        verify_file(write(tmp_path, "a.sql.gz", gzip.compress(sql)))


def test_dumper_file_with_marker_but_no_manifest_is_refused(tmp_path):
    sql = HEADER + BODY + b"-- Dump completed 2026-11-26T03:00:12Z\n"
    with pytest.raises(BackupCorrupt, match="incomplete"):
        verify_file(write(tmp_path, "a.sql", sql))


def test_dumper_file_with_statements_after_the_manifest_is_refused(tmp_path):
    sql = dumper_sql() + b"DROP TABLE `t`;\n"
    with pytest.raises(BackupCorrupt, match="incomplete"):
        verify_file(write(tmp_path, "a.sql", sql))


def test_unreadable_manifest_is_refused(tmp_path):
    sql = HEADER + BODY + b"-- Dump completed 2026-11-26T03:00:12Z\n-- dumper-manifest {not json\n"
    with pytest.raises(BackupCorrupt, match="manifest"):
        verify_file(write(tmp_path, "a.sql", sql))


def test_manifest_whose_total_disagrees_is_refused(tmp_path):
    manifest = b'{"version": 1, "tables": {"t": 2}, "rows": 3}'
    sql = HEADER + BODY + b"-- Dump completed 2026-11-26T03:00:12Z\n-- dumper-manifest " + manifest
    with pytest.raises(BackupCorrupt, match="inconsistent"):
        verify_file(write(tmp_path, "a.sql", sql))


def test_mariadb_dump_file_is_accepted_by_its_own_marker(tmp_path):
    result = verify_file(write(tmp_path, "m.sql.gz", gzip.compress(MARIADB_DUMP)))
    assert result.producer == "mariadb-dump"
    assert result.completed_at == "2026-11-26 21:40:00"
    assert result.table_rows == {}


def test_mysqldump_file_with_skip_dump_date_is_accepted(tmp_path):
    result = verify_file(write(tmp_path, "m.sql", MYSQLDUMP))
    assert result.producer == "mysqldump"
    assert result.completed_at is None


def test_mariadb_dump_file_cut_short_is_refused(tmp_path):
    cut = MARIADB_DUMP[: MARIADB_DUMP.index(b"-- Dump completed")]
    with pytest.raises(BackupCorrupt, match="mariadb-dump file is incomplete"):
        verify_file(write(tmp_path, "m.sql", cut))


def test_sql_from_an_unknown_tool_counts_as_unmarked_when_it_ends_on_a_statement(tmp_path):
    result = verify_file(write(tmp_path, "x.sql", b"CREATE TABLE t (id int);\n-- end\n"))
    assert (result.producer, result.whole_by) == ("unknown", "unmarked")
    with pytest.raises(BackupCorrupt, match="ends inside a statement"):
        verify_file(write(tmp_path, "y.sql", b"CREATE TABLE t (id int);\nINSERT INTO t VA"))


def test_empty_file_is_refused(tmp_path):
    with pytest.raises(BackupCorrupt, match="empty"):
        verify_file(write(tmp_path, "x.sql", b""))


def test_gz_name_without_gzip_data_is_refused(tmp_path):
    with pytest.raises(BackupCorrupt, match="not gzip"):
        verify_file(write(tmp_path, "x.sql.gz", dumper_sql()))


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(BackupCorrupt, match="cannot read"):
        verify_file(tmp_path / "nope.sql.gz")


def test_highly_compressible_data_is_checked_in_bounded_pieces(tmp_path):
    body = b"INSERT INTO `t` VALUES ('" + b"0" * 30_000_000 + b"');\n"
    data = zlib.compressobj(9, zlib.DEFLATED, 31)
    gz = data.compress(dumper_sql(body=body)) + data.flush()
    assert len(gz) < 100_000
    assert verify_file(write(tmp_path, "z.sql.gz", gz)).sql_bytes > 30_000_000


def test_manifest_longer_than_the_usual_tail_is_still_read(tmp_path):
    tables = {f"table_with_a_rather_long_name_{i:06d}": i for i in range(40_000)}
    sql = dumper_sql(tables, body=BODY * 20_000)
    assert len(sql.rsplit(b"\n", 2)[-2]) > 1 << 20
    result = verify_file(write(tmp_path, "wide.sql.gz", gzip.compress(sql, compresslevel=1)))
    assert result.table_rows == tables


def members(sql: bytes, size: int, level: int = 6) -> bytes:
    return b"".join(gzip.compress(sql[i : i + size], level) for i in range(0, len(sql), size))


def big_sql() -> bytes:
    rows = b"".join(
        b"INSERT INTO `t` VALUES (%d,'%s');\n" % (i, b"%x" % (i * 7919)) for i in range(60000)
    )
    return dumper_sql({"t": 60000}, body=rows)


@pytest.fixture
def halves(monkeypatch):
    """Make every gzip file big enough for the two-thread check."""
    monkeypatch.setattr(verify, "PARALLEL_VERIFY_MIN", 0)


def test_two_halves_check_gives_the_same_result_as_one_pass(tmp_path, monkeypatch):
    path = write(tmp_path, "m.sql.gz", members(big_sql(), 200_000))
    one_pass = verify_file(path)
    monkeypatch.setattr(verify, "PARALLEL_VERIFY_MIN", 0)
    assert verify._tally_in_halves(path, path.stat().st_size) is not None
    assert verify_file(path) == one_pass


def test_two_halves_check_finds_a_flipped_byte_in_the_second_half(tmp_path, halves):
    data = bytearray(members(big_sql(), 200_000, level=0))
    data[len(data) * 3 // 4] ^= 0x04
    with pytest.raises(BackupCorrupt, match="corrupt"):
        verify_file(write(tmp_path, "m.sql.gz", bytes(data)))


def test_two_halves_check_finds_a_flipped_byte_in_the_first_half(tmp_path, halves):
    data = bytearray(members(big_sql(), 200_000, level=0))
    data[len(data) // 4] ^= 0x04
    with pytest.raises(BackupCorrupt, match="corrupt"):
        verify_file(write(tmp_path, "m.sql.gz", bytes(data)))


def test_two_halves_check_finds_truncation(tmp_path, halves):
    data = members(big_sql(), 200_000)
    with pytest.raises(BackupCorrupt, match="truncated"):
        verify_file(write(tmp_path, "m.sql.gz", data[:-100]))


def test_gzip_lookalike_inside_stored_data_is_not_taken_for_a_boundary(tmp_path, halves):
    # A whole gzip member embedded as text in an uncompressed (level 0) member: its bytes
    # appear verbatim mid-file and look like a member start to the boundary search.
    fake = gzip.compress(b"SELECT 1;\n" * 5000)
    sql = dumper_sql(body=b"INSERT INTO `t` VALUES ('" + b"x" * 300_000 + b"');\n")
    cut = len(sql) * 2 // 3  # past the middle, where the search for a boundary starts
    sql = sql[:cut] + fake + sql[cut:]  # verify checks bytes, not SQL
    path = write(tmp_path, "one.sql.gz", gzip.compress(sql, compresslevel=0))
    size = path.stat().st_size
    assert gzipio.member_start_near(path, size // 2) is not None  # the decoy is found...
    assert verify._tally_in_halves(path, size) is None  # ...and rejected by the full check
    assert verify_file(path).sql_bytes == len(sql)


class CancelAfter(threading.Event):
    """An Event that sets itself once it has been asked `checks` times, like a user pressing
    Cancel while the check runs."""

    def __init__(self, checks: int) -> None:
        super().__init__()
        self._left = checks

    def is_set(self) -> bool:
        self._left -= 1
        if self._left < 0:
            self.set()
        return super().is_set()


@pytest.mark.parametrize("parallel", [False, True])
def test_a_cancel_stops_the_check_part_way(tmp_path, monkeypatch, parallel):
    if parallel:
        monkeypatch.setattr(verify, "PARALLEL_VERIFY_MIN", 0)
    path = write(tmp_path, "m.sql.gz", members(big_sql(), 20_000))
    assert verify_file(path, cancel=threading.Event()).table_rows == {"t": 60000}
    cancel = CancelAfter(3)
    with pytest.raises(Cancelled, match="while the file was being checked"):
        verify_file(path, cancel=cancel)
    assert cancel.is_set()
