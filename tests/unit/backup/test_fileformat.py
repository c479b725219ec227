"""The dump's own lines: what fileformat writes (header, marker, manifest), it reads back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dumper import __version__
from dumper.backup import fileformat
from dumper.errors import BackupCorrupt

STARTED = datetime(2026, 11, 26, 3, 0, 0, tzinfo=UTC)
FINISHED = datetime(2026, 11, 26, 3, 0, 12, tzinfo=UTC)
BODY = "DROP TABLE IF EXISTS `t`;\nCREATE TABLE `t` (id int);\nINSERT INTO `t` VALUES (1),(2);\n"


def whole_file(table_rows: dict[str, int], *, outside: list[str] | None = None) -> bytes:
    head = fileformat.header("10.11.19-MariaDB", "shop", STARTED, "yes", outside or [])
    tail = fileformat.footer(FINISHED, table_rows, sum(table_rows.values()))
    return (head + BODY + tail).encode()


def test_what_the_dump_writes_verify_reads_back() -> None:
    data = whole_file({"actor": 200, "film": 1000, "empty": 0})
    assert fileformat.producer_of(data[:4096]) == "dumper"
    completed, table_rows = fileformat.parse_end("dumper", data[-4096:])
    assert completed == "2026-11-26T03:00:12Z"
    assert table_rows == {"actor": 200, "film": 1000, "empty": 0}


def test_header_names_version_database_start_and_snapshot() -> None:
    head = fileformat.header("10.11.19-MariaDB", "sh\nop", STARTED, "no (why)", ["m1", "m2"])
    lines = head.splitlines()
    assert lines[:6] == [
        f"-- dumper {__version__} SQL dump",
        "-- Server version: 10.11.19-MariaDB",
        "-- Database: sh?op",  # a newline in a name cannot end the comment line
        "-- Started: 2026-11-26T03:00:00Z",
        "-- Consistent snapshot: no (why)",
        "-- Not covered by the snapshot (non-transactional): m1, m2",
    ]
    assert f"SQL_MODE='{fileformat.FILE_SQL_MODE}'" in head


def test_footer_ends_with_the_marker_and_a_one_line_manifest() -> None:
    tail = fileformat.footer(FINISHED, {"a": 1, "b": 2}, 3)
    assert tail.endswith(
        "-- Dump completed 2026-11-26T03:00:12Z\n"
        '-- dumper-manifest {"version": 1, "tables": {"a": 1, "b": 2}, "rows": 3}\n'
    )


def test_a_file_cut_before_its_manifest_is_incomplete() -> None:
    data = whole_file({"t": 2})
    cut = data[: data.rindex(b"-- dumper-manifest")]
    with pytest.raises(BackupCorrupt, match="incomplete"):
        fileformat.parse_end("dumper", cut)


def test_a_manifest_whose_total_disagrees_is_inconsistent() -> None:
    tail = fileformat.footer(FINISHED, {"t": 2}, 3).encode()
    with pytest.raises(BackupCorrupt, match="inconsistent"):
        fileformat.parse_end("dumper", tail)


def test_foreign_dumps_are_read_by_their_own_marker() -> None:
    assert fileformat.producer_of(b"-- MySQL dump 10.13\n") == "mysqldump"
    assert fileformat.producer_of(b"/*M!999999\\- sandbox */\n-- MariaDB dump 10.19\n") == (
        "mariadb-dump"
    )
    end = b"INSERT INTO t VALUES (1);\n-- Dump completed on 2026-11-26 21:40:00\n"
    assert fileformat.parse_end("mariadb-dump", end) == ("2026-11-26 21:40:00", {})


def test_manifest_version_2_carries_object_counts_and_table_digests() -> None:
    objects = {"views": 7, "triggers": 6, "routines": 6, "events": 0, "sequences": 1}
    digests = {"actor": "a" * 64, "empty": "b" * 64}
    head = fileformat.header("10.11.19-MariaDB", "shop", STARTED, "yes", [])
    tail = fileformat.footer(FINISHED, {"actor": 200, "empty": 0}, 200, objects, digests)
    manifest = fileformat.read_manifest((head + BODY + tail).encode()[-4096:])
    assert manifest is not None and manifest.version == 2
    assert manifest.table_rows == {"actor": 200, "empty": 0}
    assert manifest.objects == objects and manifest.digests == digests


def test_a_version_1_manifest_still_reads_without_counts_or_digests() -> None:
    data = whole_file({"actor": 200})
    manifest = fileformat.read_manifest(data[-4096:])
    assert manifest is not None and manifest.version == 1
    assert manifest.table_rows == {"actor": 200}
    assert manifest.objects is None and manifest.digests is None


def test_a_digest_for_a_table_the_manifest_does_not_count_is_corrupt() -> None:
    objects = dict.fromkeys(fileformat.OBJECT_KINDS, 0)
    tail = fileformat.footer(FINISHED, {"t": 1}, 1, objects, {"u": "c" * 64}).encode()
    with pytest.raises(BackupCorrupt, match="digest"):
        fileformat.read_manifest(tail)


def test_a_version_1_reader_still_reads_rows_from_a_version_2_manifest() -> None:
    objects = dict.fromkeys(fileformat.OBJECT_KINDS, 0)
    tail = fileformat.footer(FINISHED, {"t": 2}, 2, objects, {"t": "d" * 64})
    raw = tail.rstrip("\n").rsplit("\n", 1)[-1].removeprefix(fileformat.MANIFEST)
    # what parse_manifest checks is all a version 1 reader checked: tables and their total
    assert fileformat.parse_manifest(raw.encode()) == {"t": 2}
