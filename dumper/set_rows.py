"""The backup_databases table: the databases of a backup set (a whole server as one backup),
with each one's file inside the set's folder, size, sha256, tables and rows."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any


@dataclass(frozen=True)
class BackupDatabase:
    name: str
    file: str  # a bare name inside the set's folder
    size_bytes: int
    sha256: str
    tables: int
    rows: int


class SetRows:
    """Store's backup-set repository (a mixin: Store provides transaction and query)."""

    if TYPE_CHECKING:

        def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]: ...
        def query(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]: ...

    def set_backup_databases(self, backup_id: int, databases: Sequence[BackupDatabase]) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM backup_databases WHERE backup_id=?", (backup_id,))
            db.executemany(
                "INSERT INTO backup_databases (backup_id, position, name, file, size_bytes,"
                " sha256, tables_count, rows_count) VALUES (?,?,?,?,?,?,?,?)",
                [
                    (backup_id, i, d.name, d.file, d.size_bytes, d.sha256, d.tables, d.rows)
                    for i, d in enumerate(databases)
                ],
            )

    def backup_databases(self, backup_id: int) -> list[BackupDatabase]:
        """The databases of a set in the order it dumped them; [] for a backup of one database."""
        rows = self.query(
            "SELECT name, file, size_bytes, sha256, tables_count, rows_count"
            " FROM backup_databases WHERE backup_id=? ORDER BY position",
            (backup_id,),
        )
        return [BackupDatabase(*(r[i] for i in range(6))) for r in rows]
