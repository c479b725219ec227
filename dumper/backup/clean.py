"""What a restore asks the destination: whether DEFINER clauses may name other users, and, for
a clean restore, which objects the file did not create, to drop them."""

from __future__ import annotations

from typing import Any

from dumper.backup.values import quote_ident

_LISTS = (
    ("event", "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()"),
    (
        "trigger",
        "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
    ),
    (
        "routine",
        "SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME FROM information_schema.ROUTINES "
        "WHERE ROUTINE_SCHEMA = DATABASE()",
    ),
    (
        "relation",
        "SELECT IF(TABLE_TYPE = 'VIEW', 'view', 'table'), TABLE_NAME "
        "FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
    ),
)


def _text(value: Any) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else str(value)


def may_set_definer(conn: Any) -> bool:
    """Whether the connected user may create objects with another DEFINER (SUPER, SET USER)."""
    with conn.cursor() as cur:
        cur.execute("SHOW GRANTS")
        grants = [_text(row[0]).upper() for row in cur.fetchall()]
    for grant in grants:
        privileges, _, where = grant.partition(" ON ")
        wanted = ("ALL PRIVILEGES", "SUPER", "SET USER")
        if where.startswith("*.* ") and any(p in privileges for p in wanted):
            return True
    return False


def drop_others(conn: Any, created: set[tuple[str, str]]) -> list[str]:
    """Drop the events, triggers, routines, views and tables the file did not create."""
    dropped: list[str] = []
    with conn.cursor() as cur:
        cur.execute("SET FOREIGN_KEY_CHECKS = 0")
        for what, sql in _LISTS:
            cur.execute(sql)
            for row in cur.fetchall():
                kind, name = (what, _text(row[0])) if len(row) == 1 else map(_text, row)
                if (kind, name) in created:
                    continue
                cur.execute(f"DROP {kind.upper()} IF EXISTS {quote_ident(name)}")
                dropped.append(f"{kind} {name}")
        cur.execute("SET FOREIGN_KEY_CHECKS = 1")
    return dropped
