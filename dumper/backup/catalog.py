"""What a dump reads before the data: the base tables of the database with their columns and the
key each one is paged by, plus the names of its views and sequences."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from dumper.backup.session import Session, text
from dumper.backup.values import KEYSET_TYPES, Column, quote_ident

NO_DATA_ENGINES = frozenset({"MRG_MYISAM", "MERGE", "FEDERATED", "BLACKHOLE"})
TRANSACTIONAL_ENGINES = frozenset({"INNODB", "ROCKSDB", "TOKUDB", "NDBCLUSTER", "SEQUENCE"})


@dataclass
class Table:
    name: str
    engine: str
    avg_row_length: int
    columns: list[Column] = field(default_factory=list)
    on_update: set[str] = field(default_factory=set)  # columns with ON UPDATE CURRENT_TIMESTAMP
    key: list[Column] | None = None
    wide: bool = False  # rows fetched one by one, not by GROUP_CONCAT (see rows.WIDE_ROW_BYTES)
    versioned: bool = False  # WITH SYSTEM VERSIONING
    history: bool = False  # its history rows and period values are dumped (see _find_periods)

    @property
    def ident(self) -> str:
        return quote_ident(self.name)

    def history_lost(self) -> str:
        return (
            f"table {self.name}: its history was not kept, only its current rows (a server "
            "cannot restore the history of a table versioned by transaction ids, nor any before "
            "MariaDB 10.11); restored rows get new ROW START values"
        )

    @property
    def source(self) -> str:
        """What the data queries read: with the history rows where those are dumped."""
        return f"{self.ident} FOR SYSTEM_TIME ALL" if self.history else self.ident

    @property
    def insert_columns(self) -> list[Column]:
        return [c for c in self.columns if not c.generated]


def outside_snapshot(tables: list[Table]) -> list[str]:
    """Tables whose engine a transaction's snapshot does not cover (MyISAM, Aria, ...)."""
    return [
        t.name
        for t in tables
        if t.engine not in TRANSACTIONAL_ENGINES and t.engine not in NO_DATA_ENGINES
    ]


def list_objects(session: Session, mariadb: bool) -> tuple[list[Table], list[str], list[str]]:
    """Base tables (with columns and key), views and sequences, each list in name order."""
    tables: dict[str, Table] = {}
    json_checks = _json_check_columns(session, mariadb)
    views: list[str] = []
    sequences: list[str] = []
    for name_b, type_b, engine_b, avg in session.query(
        "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, AVG_ROW_LENGTH FROM information_schema.TABLES"
        " WHERE TABLE_SCHEMA = DATABASE()"
    ):
        name, kind = text(name_b), text(type_b)
        if kind == "VIEW":
            views.append(name)
        elif kind == "SEQUENCE":
            sequences.append(name)
        else:  # BASE TABLE, SYSTEM VERSIONED
            tables[name] = Table(name, text(engine_b).upper(), int(avg or 0))
            tables[name].versioned = kind == "SYSTEM VERSIONED"
    for row in session.query(
        "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_SET_NAME,"
        " COLLATION_NAME, IS_NULLABLE, EXTRA"
        " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
        " ORDER BY TABLE_NAME, ORDINAL_POSITION"
    ):
        table = tables.get(text(row[0]))
        if table is None:
            continue
        extra = text(row[7]).upper()
        data_type = text(row[2]).lower()
        col = Column(
            name=text(row[1]),
            data_type=data_type,
            column_type=text(row[3]),
            charset=text(row[4]) or None,
            collation=text(row[5]) or None,
            nullable=text(row[6]) == "YES",
            generated=bool(
                re.search(r"\b(VIRTUAL|STORED|PERSISTENT) GENERATED\b|\bROW (START|END)\b", extra)
            ),
            json=data_type == "json" or (text(row[0]), text(row[1])) in json_checks,
        )
        table.columns.append(col)
        if "ON UPDATE" in extra:
            table.on_update.add(col.name)
    _find_keys(session, tables)
    _find_periods(session, [t for t in tables.values() if t.versioned])
    ordered = sorted(tables.values(), key=lambda t: t.name.encode())
    return ordered, sorted(views, key=str.encode), sorted(sequences, key=str.encode)


def _json_check_columns(session: Session, mariadb: bool) -> set[tuple[str, str]]:
    """MariaDB's JSON is LONGTEXT with CHECK(json_valid(col)): (table, column) of those."""
    if not mariadb:
        return set()
    found = set()
    for tname, clause in session.query(
        "SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS"
        " WHERE CONSTRAINT_SCHEMA = DATABASE() AND CHECK_CLAUSE LIKE 'json_valid(%'"
    ):
        m = re.fullmatch(r"json_valid\(`((?:[^`]|``)+)`\)", text(clause))
        if m:
            found.add((text(tname), m.group(1).replace("``", "`")))
    return found


def _find_keys(session: Session, tables: dict[str, Table]) -> None:
    """Each table's paging key: the primary key, else the first unique one, whose columns are
    all NOT NULL, of a type keyset paging can compare, and not prefixes."""
    indexes: dict[tuple[str, str], list[tuple[str, Any]]] = {}
    unique: set[tuple[str, str]] = set()
    for tname, iname, non_unique, cname, sub_part in session.query(
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART"
        " FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()"
        " ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
    ):
        key = (text(tname), text(iname))
        indexes.setdefault(key, []).append((text(cname) if cname else "", sub_part))
        if int(non_unique) == 0:
            unique.add(key)
    for table in tables.values():
        by_name = {c.name: c for c in table.columns}
        candidates = sorted(
            (iname for (tname, iname) in unique if tname == table.name),
            key=lambda n: (n != "PRIMARY", n),
        )
        for iname in candidates:
            parts = indexes[(table.name, iname)]
            cols = [by_name.get(cname) for cname, _ in parts]
            if all(
                c is not None and not c.nullable and c.data_type in KEYSET_TYPES for c in cols
            ) and all(sub is None for _, sub in parts):
                table.key = [c for c in cols if c is not None]
                break


_PERIOD = re.compile(r"PERIOD FOR SYSTEM_TIME \(`((?:[^`]|``)+)`, `((?:[^`]|``)+)`\)")


def _find_periods(session: Session, tables: list[Table]) -> None:
    """Mark the system-versioned tables whose history a restore can take back: on MariaDB 10.11+
    (system_versioning_insert_history) with a TIMESTAMP period, implicit or explicit; their
    period columns are then written like any other, and their paging key gains the row end
    (which the server adds to every unique key of such a table). A period of transaction ids
    cannot be inserted: those tables keep only their current rows (dump.py warns)."""
    if not tables:
        return
    try:
        session.one("SELECT @@system_versioning_insert_history")
    except Exception:  # an older server: no history can be restored anywhere
        return
    for table in tables:
        row = session.one(f"SHOW CREATE TABLE {table.ident}")
        assert row is not None
        m = _PERIOD.search(text(row[1]))
        if m is None:  # implicit: hidden ROW_START / ROW_END, TIMESTAMP(6)
            period = [
                Column(n, "timestamp", "timestamp(6)", nullable=False)
                for n in ("ROW_START", "ROW_END")
            ]
            table.columns.extend(period)
        else:
            names = [g.replace("``", "`") for g in m.groups()]
            by_name = {c.name: c for c in table.columns}
            if any(by_name[n].data_type != "timestamp" for n in names):
                continue
            period = [replace(by_name[n], generated=False) for n in names]
            table.columns = [
                period[names.index(c.name)] if c.name in names else c for c in table.columns
            ]
        table.history = True
        if table.key is not None and period[1].name not in {c.name for c in table.key}:
            table.key.append(period[1])


def count_objects(session: Session) -> dict[str, int]:
    """Views, triggers, routines, events and sequences of the current database (the manifest)."""
    row = session.one(
        "SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
        " AND TABLE_TYPE = 'VIEW'),"
        " (SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()),"
        " (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()),"
        " (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()),"
        " (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
        " AND TABLE_TYPE = 'SEQUENCE')"
    )
    assert row is not None
    kinds = ("views", "triggers", "routines", "events", "sequences")
    return {kind: int(value) for kind, value in zip(kinds, row, strict=True)}
