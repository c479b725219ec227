"""The dump file's own lines: header, completion marker and manifest.

dump.py writes them and verify.py reads them through this one module, so the two sides cannot
drift apart (docs/ARCHITECTURE.md, "The dump file format").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from dumper import __version__
from dumper.errors import BackupCorrupt

PRODUCER = "-- dumper "  # the first line of every file we write starts so
MARKER = "-- Dump completed"  # ours, mariadb-dump's and mysqldump's completion line
MANIFEST = "-- dumper-manifest "
MANIFEST_VERSION = 2  # 2 adds object counts and per-table digests; version 1 files still read
OBJECT_KINDS = ("views", "triggers", "routines", "events", "sequences")
# ALLOW_INVALID_DATES: a DATE/DATETIME like 2020-02-31 (stored under that mode) would otherwise
# load as 0000-00-00 with only a warning
FILE_SQL_MODE = "NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_PRODUCER_B = PRODUCER.encode()
_MARKER_B = MARKER.encode()
_MANIFEST_B = MANIFEST.encode()


def comment(name: str) -> str:
    """A name made safe for a `--` comment line."""
    return re.sub(r"[\x00-\x1f\x7f]", "?", name)


def section(title: str, name: str) -> str:
    """The comment block that opens each object's part of the file."""
    return f"\n--\n-- {title} {comment(name)}\n--\n\n"


def header(
    version: str, database: str, started: datetime, snapshot: str, outside: list[str]
) -> str:
    """The first lines: who wrote the file, from what, and the session settings for the load."""
    # tables of non-transactional engines (MyISAM, Aria, ...) are read as they are when
    # their turn comes: the snapshot does not cover them, and the admin should know
    note = (
        f"-- Not covered by the snapshot (non-transactional): {comment(', '.join(outside))}\n"
        if outside
        else ""
    )
    return (
        f"{PRODUCER}{__version__} SQL dump\n"
        f"-- Server version: {comment(version)}\n"
        f"-- Database: {comment(database)}\n"
        f"-- Started: {started.strftime(_TIME_FORMAT)}\n"
        f"-- Consistent snapshot: {comment(snapshot)}\n"
        f"{note}"
        "\n"
        "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n"
        "/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;\n"
        "/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;\n"
        "/*!40101 SET NAMES utf8mb4 */;\n"
        "/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;\n"
        "/*!40103 SET TIME_ZONE='+00:00' */;\n"
        "/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;\n"
        "/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;\n"
        f"/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='{FILE_SQL_MODE}' */;\n"
        "/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;\n"
        # MariaDB: rows that break a CHECK (made with checks off, or a constraint added
        # later) are data too; like FOREIGN_KEY_CHECKS, the load must not refuse them
        "/*M!100201 SET @OLD_CHECK_CONSTRAINT_CHECKS=@@CHECK_CONSTRAINT_CHECKS,"
        " CHECK_CONSTRAINT_CHECKS=0 */;\n"
    )


@dataclass(frozen=True)
class Manifest:
    """The manifest line: rows per table and, from version 2, object counts and table digests."""

    table_rows: dict[str, int]
    objects: dict[str, int] | None = None  # OBJECT_KINDS -> count
    digests: dict[str, str] | None = None  # table -> hex sha256 of its rows (rows.py)
    version: int = 1


def footer(
    finished: datetime,
    table_rows: dict[str, int],
    rows: int,
    objects: dict[str, int] | None = None,
    digests: dict[str, str] | None = None,
) -> str:
    """The saved session settings put back, then the completion marker and the manifest."""
    body: dict[str, object] = {"version": 1, "tables": table_rows, "rows": rows}
    if objects is not None and digests is not None:
        body.update(version=MANIFEST_VERSION, objects=objects, digests=digests)
    manifest = json.dumps(body)
    return (
        "\n"
        "/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n"
        "/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n"
        "/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n"
        "/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;\n"
        "/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;\n"
        "/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;\n"
        "/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;\n"
        "/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;\n"
        "/*M!100201 SET CHECK_CONSTRAINT_CHECKS=@OLD_CHECK_CONSTRAINT_CHECKS */;\n"
        "\n"
        f"{MARKER} {finished.strftime(_TIME_FORMAT)}\n"
        f"{MANIFEST}{manifest}\n"
    )


def producer_of(head: bytes) -> str | None:
    """Who wrote the file, from its first bytes: "dumper", "mariadb-dump", "mysqldump" or None."""
    first_lines = head.split(b"\n", 3)[:3]
    if first_lines and first_lines[0].startswith(_PRODUCER_B):
        return "dumper"
    for line in first_lines:
        if line.startswith(b"-- MariaDB dump"):
            return "mariadb-dump"
        if line.startswith(b"-- MySQL dump"):
            return "mysqldump"
    return None


def parse_end(producer: str | None, tail: bytes) -> tuple[str | None, dict[str, int]]:
    """Completion marker (and our manifest) from the file's last bytes: (completed_at, table_rows).

    Raises BackupCorrupt when they are missing (the dump was cut short) or unreadable.
    """
    lines = tail.rstrip(b" \t\r\n").rsplit(b"\n", 2)[-2:]
    last = lines[-1].rstrip(b"\r")
    if producer == "dumper":
        marker = lines[0].rstrip(b"\r") if len(lines) == 2 else b""
        if not (marker.startswith(_MARKER_B) and last.startswith(_MANIFEST_B)):
            raise BackupCorrupt(
                "the dump is incomplete: its last lines are not the completion marker and "
                "manifest (the dump was cut short or failed)"
            )
        completed = marker[len(_MARKER_B) :].strip().decode("utf-8", "replace") or None
        return completed, parse_manifest(last[len(_MANIFEST_B) :])
    if not last.startswith(_MARKER_B):
        if producer is None:
            raise BackupCorrupt(
                "not a complete SQL dump: no dumper, mariadb-dump or mysqldump header and no "
                f"'{MARKER}' line at the end"
            )
        raise BackupCorrupt(f"the {producer} file is incomplete: it does not end with '{MARKER}'")
    when = last[len(_MARKER_B) :].strip()
    when = when[3:].strip() if when.startswith(b"on ") else when
    return (when.decode("utf-8", "replace") or None), {}


def read_manifest(tail: bytes) -> Manifest | None:
    """The whole manifest from the file's last bytes, or None when its last line is none."""
    last = tail.rstrip(b" \t\r\n").rsplit(b"\n", 1)[-1].rstrip(b"\r")
    if not last.startswith(_MANIFEST_B):
        return None
    raw = last[len(_MANIFEST_B) :]
    table_rows = parse_manifest(raw)
    manifest = json.loads(raw)
    version = manifest.get("version")
    if version == 1 or version is None:
        return Manifest(table_rows)
    objects, digests = manifest.get("objects"), manifest.get("digests")
    ok = (
        isinstance(objects, dict)
        and isinstance(digests, dict)
        and all(type(objects.get(k)) is int for k in OBJECT_KINDS)
        and all(isinstance(v, str) and len(v) == 64 for v in digests.values())
    )
    if not ok or set(digests) - set(table_rows):
        raise BackupCorrupt("the dump's manifest has unreadable object counts or digests")
    return Manifest(table_rows, dict(objects), dict(digests), int(version))


def parse_manifest(raw: bytes) -> dict[str, int]:
    """The manifest's JSON: table name -> rows dumped; BackupCorrupt when it does not add up."""
    try:
        manifest = json.loads(raw)
        tables = manifest["tables"]
        ok = isinstance(tables, dict) and all(
            isinstance(k, str) and type(v) is int and v >= 0 for k, v in tables.items()
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupCorrupt(f"the dump's manifest line is unreadable: {exc}") from exc
    if not ok:
        raise BackupCorrupt("the dump's manifest line does not map tables to row counts")
    rows = manifest.get("rows") if isinstance(manifest, dict) else None
    if rows is not None and rows != sum(tables.values()):
        raise BackupCorrupt("the dump's manifest is inconsistent: row total != sum of tables")
    return dict(tables)
