"""API tokens: named, scoped (`read` or `full`), stored as a SHA-256 hash and shown once.

`Authorization: Bearer <token>` works wherever Basic-Auth does (dumper/http/auth.py); a read
token may only use GET and HEAD. Tokens matter only while ADMIN_USER/ADMIN_PASS are set.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from dumper.clock import Clock
from dumper.errors import Conflict, NotFound
from dumper.inputs import Field, validate_fields
from dumper.store import Store, from_db_time, to_db_time

Scope = Literal["read", "full"]
PREFIX = "dmp_"
# last_used_at is written at most this often per token, not on every request
TOUCH_EVERY = timedelta(seconds=60)

TOKEN_FIELDS: tuple[Field, ...] = (
    Field("name", "string", low=1, high=64, line=True),
    Field(
        "scope",
        "string",
        choices=("read", "full"),
        description="read: GET and HEAD only (every change is 403); full: what Basic-Auth may",
    ),
)
TOKEN_REQUIRED = ("name", "scope")


@dataclass(frozen=True)
class TokenView:
    id: int
    name: str
    scope: Scope
    hint: str  # the first characters, to tell tokens apart
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class CreatedTokenView:
    id: int
    name: str
    scope: Scope
    hint: str
    created_at: datetime
    last_used_at: datetime | None
    token: str  # shown once, in the answer to POST /api/tokens; only its hash is kept


def token_hash(token: str) -> str:
    # a random 256-bit secret needs no slow hash: nothing to guess from the digest
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenService:
    """Create, list, revoke and check API tokens."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def create(self, data: Mapping[str, Any]) -> CreatedTokenView:
        """InvalidInput, Conflict (name taken)."""
        v = validate_fields(TOKEN_FIELDS, data, required=TOKEN_REQUIRED, what="token")
        token = PREFIX + secrets.token_urlsafe(32)
        now = to_db_time(self.clock.now())
        try:
            with self.store.transaction() as db:
                cur = db.execute(
                    "INSERT INTO api_tokens (name, scope, token_hash, hint, created_at)"
                    " VALUES (?,?,?,?,?)",
                    (v["name"], v["scope"], token_hash(token), token[:8], now),
                )
                new_id = int(cur.lastrowid or 0)
        except sqlite3.IntegrityError:
            raise Conflict(
                f"a token named {v['name']!r} already exists", fields={"name": "already taken"}
            ) from None
        view = self._require(new_id)
        return CreatedTokenView(
            view.id, view.name, view.scope, view.hint, view.created_at, None, token
        )

    def list(self) -> list[TokenView]:
        return [_view(r) for r in self.store.query("SELECT * FROM api_tokens ORDER BY name, id")]

    def revoke(self, token_id: int) -> None:
        """Delete the token: it stops working at once. NotFound."""
        with self.store.transaction() as db:
            if db.execute("DELETE FROM api_tokens WHERE id=?", (token_id,)).rowcount == 0:
                raise NotFound(f"token {token_id} not found")

    def authenticate(self, token: str) -> Scope | None:
        """The scope of a valid token (and note its use), None for an unknown or revoked one."""
        if not token.startswith(PREFIX):
            return None
        row = self.store.query_one(
            "SELECT id, scope, last_used_at FROM api_tokens WHERE token_hash=?",
            (token_hash(token),),
        )
        if row is None:
            return None
        now = self.clock.now()
        last = row["last_used_at"]
        if last is None or now - from_db_time(last) >= TOUCH_EVERY:
            with self.store.transaction() as db:
                db.execute(
                    "UPDATE api_tokens SET last_used_at=? WHERE id=?", (to_db_time(now), row["id"])
                )
        scope: Scope = "full" if row["scope"] == "full" else "read"
        return scope

    def _require(self, token_id: int) -> TokenView:
        row = self.store.query_one("SELECT * FROM api_tokens WHERE id=?", (token_id,))
        if row is None:
            raise NotFound(f"token {token_id} not found")
        return _view(row)


def _view(r: sqlite3.Row) -> TokenView:
    last = r["last_used_at"]
    return TokenView(
        id=int(r["id"]),
        name=r["name"],
        scope="full" if r["scope"] == "full" else "read",
        hint=r["hint"],
        created_at=from_db_time(r["created_at"]),
        last_used_at=from_db_time(last) if last else None,
    )
