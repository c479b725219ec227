"""What a dump file holds, read without a server: producer, tables with rows, views, routines,
triggers, events, and whether it is complete (verify.py's answer)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dumper.backup.agefile import Identity
from dumper.backup.agestream import open_plain
from dumper.backup.foreign import open_pieces
from dumper.backup.scope import classify
from dumper.backup.sqlsplit import StatementSplitter
from dumper.backup.verify import verify_file
from dumper.errors import BackupCorrupt

_STRING = re.compile(rb"'(?:[^'\\]|\\[\s\S]|'')*'|\"(?:[^\"\\]|\\[\s\S]|\"\")*\"")
_NEXT_ROW = re.compile(rb"\)\s*,\s*\(")
_VALUES = re.compile(rb"(?i)\bVALUES?\b")


@dataclass
class Inspection:
    producer: str
    container: str
    complete: bool
    why: str  # what proves it whole, or why it is not
    databases: tuple[str, ...] = ()
    tables: dict[str, int] = field(default_factory=dict)  # table -> rows its INSERTs hold
    views: list[str] = field(default_factory=list)
    routines: list[str] = field(default_factory=list)  # "procedure p", "function f"
    triggers: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


def _rows(sql: bytes) -> int:
    m = _VALUES.search(sql)
    if m is None:
        return 0
    rest = _STRING.sub(b"''", sql[m.end() :])
    return len(_NEXT_ROW.findall(rest)) + 1


def inspect_file(path: Path, identities: Sequence[Identity] | None = None) -> Inspection:
    """Read the whole file; a file that fails verification is still listed, marked incomplete.
    An encrypted file needs `identities` (AgeKeyRequired otherwise)."""
    path = Path(path)
    try:
        info = verify_file(path, identities=identities)
        result = Inspection(info.producer, info.container, True, info.whole_by, info.databases)
    except BackupCorrupt as exc:
        result = Inspection("unknown", "plain", False, exc.message)
        if "not supported" in exc.message or "directory" in exc.message:
            return result
    splitter = StatementSplitter()
    try:
        with open_plain(path, identities) as f:
            for piece in open_pieces(f, result.container, lambda n: None, strip_cr=True):  # type: ignore[arg-type]
                for stmt in splitter.feed(piece):
                    _add(result, stmt.sql)
            for stmt in splitter.finish():
                _add(result, stmt.sql)
    except BackupCorrupt:
        pass  # what was read so far is listed; `complete` already says why it stopped
    return result


def _add(result: Inspection, sql: bytes) -> None:
    kind = classify(sql)
    if kind.name is None or kind.verb not in ("create", "insert", "replace"):
        return
    if kind.kind == "table":
        if kind.verb == "create":
            result.tables.setdefault(kind.name, 0)
        else:
            result.tables[kind.name] = result.tables.get(kind.name, 0) + _rows(sql)
    elif kind.kind == "view":
        result.tables.pop(kind.name, None)  # mariadb-dump's stand-in table
        result.views.append(kind.name)
    elif kind.kind in ("procedure", "function"):
        result.routines.append(f"{kind.kind} {kind.name}")
    elif kind.kind == "trigger":
        result.triggers.append(kind.name)
    elif kind.kind == "event":
        result.events.append(kind.name)
