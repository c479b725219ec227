"""Which statements of a file a restore runs, and in what form: the chosen database of a
--databases file, a selection of tables, DEFINER clauses rewritten to CURRENT_USER.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from dumper.backup.foreign import unquote
from dumper.errors import InvalidInput

HEAD = 1200  # bytes of a statement looked at to classify it
_OPENER = re.compile(rb"/\*M?!\d*\s?|\*/")
_IDENT = rb"(?:`(?:[^`]|``)+`|[\w$]+)"
_NAME = rb"(" + _IDENT + rb"(?:\s*\.\s*" + _IDENT + rb")?)"
_TABLE = re.compile(
    rb"(?is)\s*(DROP\s+TABLE(?:\s+IF\s+EXISTS)?|CREATE\s+(?:OR\s+REPLACE\s+)?TABLE"
    rb"(?:\s+IF\s+NOT\s+EXISTS)?|(?:INSERT|REPLACE)(?:\s+(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY"
    rb"|IGNORE))*(?:\s+INTO)?|LOCK\s+TABLES?|ALTER\s+(?:IGNORE\s+)?TABLE|TRUNCATE(?:\s+TABLE)?"
    rb"|DELETE\s+FROM)\s+" + _NAME
)
_OBJECT = re.compile(
    rb"(?is)\s*(CREATE|DROP)\b[^;]{0,400}?\b(VIEW|PROCEDURE|FUNCTION|TRIGGER|EVENT)\s+"
    rb"(?:IF\s+(?:NOT\s+)?EXISTS\s+)?" + _NAME
)
_ON_TABLE = re.compile(rb"(?is)\b(?:BEFORE|AFTER)\s+(?:INSERT|UPDATE|DELETE)\s+ON\s+" + _NAME)
_DATABASE = re.compile(
    rb"(?is)\s*(?:(USE)\s+" + _NAME + rb"|(?:CREATE|DROP)\s+(?:DATABASE|SCHEMA)\b)"
)
_DEFINER = re.compile(
    rb"(?i)DEFINER\s*=\s*(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[\w.$-]+)"
    rb"(?:\s*@\s*(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[\w.%$-]+))?"
)


class Kind(NamedTuple):
    """What a statement acts on: kind ("table", "view", "procedure", ..., "database",
    "other"), the object's name, its table (for triggers), and the verb."""

    kind: str
    name: str | None
    table: str | None
    verb: str


def _last(name: bytes) -> str:
    return unquote(re.split(rb"\s*\.\s*(?=[`\w$])", name)[-1])


def classify(sql: bytes) -> Kind:
    """The object a dump statement creates, fills or drops (executable comments see-through)."""
    head = _OPENER.sub(b" ", sql[:HEAD])
    m = _DATABASE.match(head)
    if m:
        return Kind("database", unquote(m.group(2)) if m.group(1) else None, None, "use")
    m = _TABLE.match(head)
    if m:
        verb = m.group(1).split()[0].decode().lower()
        return Kind("table", _last(m.group(2)), _last(m.group(2)), verb)
    m = _OBJECT.match(head)
    if m:
        kind = m.group(2).decode().lower()
        on = _ON_TABLE.search(head, m.end()) if kind == "trigger" else None
        table = _last(on.group(1)) if on else None
        return Kind(kind, _last(m.group(3)), table, m.group(1).decode().lower())
    return Kind("other", None, None, "")


def rewrite_definer(sql: bytes) -> tuple[bytes, bool]:
    """The statement with any DEFINER=user@host in its head replaced by CURRENT_USER."""
    head, rest = sql[:HEAD], sql[HEAD:]
    new, n = _DEFINER.subn(b"DEFINER=CURRENT_USER", head)
    return (new + rest, n > 0) if n else (sql, False)


class Scope:
    """Decides statement by statement what runs; skips what lies outside the chosen part."""

    def __init__(
        self,
        databases: tuple[str, ...],
        source_database: str | None = None,
        tables: frozenset[str] | None = None,
        definer_rewrite: bool = False,
    ) -> None:
        if len(databases) > 1 and source_database not in databases:
            listed = ", ".join(databases)
            raise InvalidInput(
                f"the file holds several databases ({listed}): choose the one to restore",
                fields={"source_database": f"one of {listed}"},
            )
        if source_database and databases and source_database not in databases:
            raise InvalidInput(
                f"the file holds only {databases[0]}",
                fields={"source_database": f"the file holds only {databases[0]}"},
            )
        self.pick = source_database if len(databases) > 1 else None
        self.active = True
        self.tables = tables
        self.definer_rewrite = definer_rewrite
        self.rewritten = 0
        self.skipped = 0
        self.created: set[tuple[str, str]] = set()  # (kind, name) the file created

    def statement(self, sql: bytes) -> bytes | None:
        """The statement to send, or None to skip it."""
        kind = classify(sql)
        if kind.kind == "database":
            if kind.name is not None and self.pick is not None:
                self.active = kind.name == self.pick
            return None
        if not self.active or (self.tables is not None and not self._selected(kind)):
            self.skipped += 1
            return None
        if kind.name is not None and kind.verb in ("create", "drop"):
            if kind.verb == "create":
                self.created.add((kind.kind, kind.name))
            elif kind.kind == "table":  # mariadb-dump's stand-in table of a view
                self.created.discard(("table", kind.name))
        if self.definer_rewrite and kind.kind not in ("table", "other") and kind.verb == "create":
            sql, changed = rewrite_definer(sql)
            self.rewritten += changed
        return sql

    def _selected(self, kind: Kind) -> bool:
        assert self.tables is not None
        if kind.kind == "other":
            return True
        if kind.kind == "table" or (kind.kind == "trigger" and kind.verb == "create"):
            return kind.table in self.tables
        return False  # views, routines, events, and DROP TRIGGER (DROP TABLE takes them along)
