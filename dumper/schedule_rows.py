"""The schedule_state table: the last slot the scheduler ran per target, claimed once."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any


class ScheduleRows:
    """Store's schedule repository (a mixin: Store provides transaction and query_one)."""

    if TYPE_CHECKING:

        def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]: ...
        def query_one(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None: ...

    def last_slot(self, target_id: int) -> str | None:
        row = self.query_one("SELECT last_slot FROM schedule_state WHERE target_id=?", (target_id,))
        return str(row[0]) if row else None

    def claim_slot(self, target_id: int, slot: str) -> bool:
        """Record `slot` as run for the target; False when it was already recorded."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT last_slot FROM schedule_state WHERE target_id=?", (target_id,)
            ).fetchone()
            if row is not None and str(row[0]) >= slot:
                return False
            db.execute(
                "INSERT INTO schedule_state (target_id, last_slot) VALUES (?, ?)"
                " ON CONFLICT(target_id) DO UPDATE SET last_slot=excluded.last_slot",
                (target_id, slot),
            )
            return True
