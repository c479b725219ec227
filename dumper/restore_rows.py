"""The restores table: one row per restore, with where it went and what it restored."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dumper.store import Restore


class RestoreRows:
    """Store's restore repository (a mixin: Store provides transaction and query_one)."""

    if TYPE_CHECKING:

        def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]: ...
        def query(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]: ...
        def query_one(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None: ...

    def insert_restore(
        self, backup_id: int, target_id: int, started_at: datetime, **dest: Any
    ) -> Restore:
        """dest: database, clean, selected_tables (the columns of migration 7)."""
        from dumper.store import RUNNING, to_db_time

        tables = dest.get("selected_tables")
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO restores (backup_id, target_id, started_at, status, notes,"
                " dest_database, clean, selected_tables) VALUES (?,?,?,?,'',?,?,?)",
                (
                    backup_id,
                    target_id,
                    to_db_time(started_at),
                    RUNNING,
                    dest.get("database"),
                    int(bool(dest.get("clean"))),
                    None if tables is None else json.dumps(tables),
                ),
            )
            new_id = int(cur.lastrowid or 0)
        restore = self.get_restore(new_id)
        assert restore is not None
        return restore

    def finish_restore(
        self,
        restore_id: int,
        *,
        status: str,
        finished_at: datetime,
        duration_seconds: float | None,
        statements: int | None,
        notes: str = "",
        tables: int | None = None,
        rows: int | None = None,
    ) -> bool:
        from dumper.store import RUNNING, to_db_time

        with self.transaction() as db:
            cur = db.execute(
                "UPDATE restores SET status=?, finished_at=?, duration_seconds=?, statements=?,"
                " notes=?, tables=?, rows=? WHERE id=? AND status=?",
                (
                    status,
                    to_db_time(finished_at),
                    duration_seconds,
                    statements,
                    notes,
                    tables,
                    rows,
                    restore_id,
                    RUNNING,
                ),
            )
            return cur.rowcount == 1

    def get_restore(self, restore_id: int) -> Restore | None:
        row = self.query_one("SELECT * FROM restores WHERE id=?", (restore_id,))
        return restore_from_row(row) if row else None

    def list_restores(self, target_id: int, limit: int = 100) -> list[Restore]:
        """Newest first: restores into the target and restores of its backups elsewhere."""
        rows = self.query(
            "SELECT * FROM restores WHERE target_id=? OR backup_id IN"
            " (SELECT id FROM backups WHERE target_id=?) ORDER BY started_at DESC, id DESC LIMIT ?",
            (target_id, target_id, limit),
        )
        return [restore_from_row(r) for r in rows]


def restore_from_row(r: sqlite3.Row) -> Restore:
    from dumper.store import Restore, Status, _opt_time, from_db_time

    return Restore(
        id=int(r["id"]),
        backup_id=int(r["backup_id"]),
        target_id=int(r["target_id"]),
        started_at=from_db_time(r["started_at"]),
        finished_at=_opt_time(r["finished_at"]),
        status=Status(r["status"]),
        statements=r["statements"],
        duration_seconds=r["duration_seconds"],
        notes=r["notes"] or "",
        database=r["dest_database"],
        clean=bool(r["clean"]),
        selected_tables=tuple(json.loads(r["selected_tables"])) if r["selected_tables"] else None,
        tables=r["tables"],
        rows=r["rows"],
    )
