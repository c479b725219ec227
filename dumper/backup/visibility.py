"""Before a dump: does the dump user hold what makes every view, trigger, event and routine of
the database visible? The server hides what a user may not see (no error, no row), so a dump
without these grants could leave objects out without noticing. Works on MariaDB and MySQL
through information_schema's *_PRIVILEGES tables (privileges that come only through a role
are not seen there: the warning then errs on the side of caution)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dumper.backup.values import quote_ident, quote_string
from dumper.errors import PrivilegeMissing

Query = Callable[[str], list[tuple[Any, ...]]]


@dataclass(frozen=True)
class MissingGrant:
    """A kind of object the dump user may not see all of, and the grant that would show it."""

    kind: str  # views | triggers | events | routines
    grant: str  # e.g. "SHOW VIEW ON `shop`.*"

    @property
    def message(self) -> str:
        return (
            f"{self.kind} that the backup user cannot see are not in this backup:"
            f" GRANT {self.grant} TO the backup user"
        )


def _version(version: str) -> tuple[int, int, int]:
    m = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    return (int(m[1]), int(m[2]), int(m[3])) if m else (0, 0, 0)


def routine_grant(version: str, database: str) -> str:
    """The grant that lets a user read every routine's definition on this server."""
    v = _version(version)
    if "mariadb" in version.lower():
        if v >= (11, 3, 0):
            return f"SHOW CREATE ROUTINE ON {quote_ident(database)}.*"
        return "SELECT ON mysql.proc"
    if v >= (8, 0, 20):
        return "SHOW_ROUTINE ON *.*"
    if v >= (8, 0, 0):  # no mysql.proc any more, no SHOW_ROUTINE yet
        return "SELECT ON *.*"
    return "SELECT ON mysql.proc"


def object_grant(kind: str, version: str, database: str) -> str:
    """The grant that lets a user see (and read the definition of) every object of a kind."""
    if kind == "routines":
        return routine_grant(version, database)
    privilege = {"views": "SHOW VIEW", "triggers": "TRIGGER", "events": "EVENT"}[kind]
    return f"{privilege} ON {quote_ident(database)}.*"


def cannot_read(kind: str, name: str, version: str, database: str) -> PrivilegeMissing:
    """The error for an object the catalog lists but whose definition comes back empty."""
    grant = object_grant(kind, version, database)
    return PrivilegeMissing(
        f"cannot dump {kind[:-1]} {name}: the server shows it but not its definition to the"
        f" backup user; GRANT {grant} TO the backup user",
        obj=f"{kind[:-1]} {name}",
        privilege=grant,
    )


def _grantees(query: Query) -> list[str]:
    row = query("SELECT CURRENT_USER()")[0]
    user = row[0].decode() if isinstance(row[0], bytes) else str(row[0])
    name, _, host = user.rpartition("@")
    return [f"'{name}'@'{host}'"]


def missing_grants(query: Query, version: str, database: str) -> list[MissingGrant]:
    """What the current user lacks to see every view, trigger, event and routine of `database`."""
    who = ", ".join(quote_string(g) for g in _grantees(query))

    def privileges(sql: str) -> set[str]:
        return {
            (p.decode() if isinstance(p, bytes) else str(p)).upper()
            for (p,) in query(sql.format(who=who))
        }

    global_ = privileges(
        "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE IN ({who})"
    )
    held = global_ | privileges(
        "SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES"
        f" WHERE GRANTEE IN ({{who}}) AND {quote_string(database)} LIKE TABLE_SCHEMA"
    )
    # SELECT on mysql.proc (or on the whole mysql database) shows routines on MariaDB and 5.7
    proc = "SELECT" in privileges(
        "SELECT PRIVILEGE_TYPE FROM information_schema.TABLE_PRIVILEGES"
        " WHERE GRANTEE IN ({who}) AND TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'proc'"
    ) | privileges(
        "SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES"
        " WHERE GRANTEE IN ({who}) AND TABLE_SCHEMA = 'mysql'"
    )
    global_select = "SELECT" in global_
    missing: list[MissingGrant] = []
    for kind, privilege in (("views", "SHOW VIEW"), ("triggers", "TRIGGER"), ("events", "EVENT")):
        if privilege not in held:
            missing.append(MissingGrant(kind, object_grant(kind, version, database)))
    grant = routine_grant(version, database)
    if grant.startswith("SHOW CREATE ROUTINE"):
        routines = "SHOW CREATE ROUTINE" in held or proc or global_select
    elif grant.startswith("SHOW_ROUTINE"):
        routines = "SHOW_ROUTINE" in held or global_select
    elif grant == "SELECT ON *.*":
        routines = global_select
    else:
        routines = proc or global_select
    if not routines:
        missing.append(MissingGrant("routines", grant))
    return missing
