"""Notification channels and their deliveries in SQLite: validation per kind, secrets encrypted
(Cipher, their own purpose) and never returned, the test message, the delivery log.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dumper.clock import Clock
from dumper.crypto import Cipher
from dumper.errors import Conflict, DecryptionError, InvalidInput, NotFound
from dumper.inputs import validate_fields
from dumper.log import get_logger
from dumper.notify.channels import (
    CHANNEL_FIELDS,
    CHANNEL_REQUIRED,
    COMMON_FIELDS,
    TYPE_DEFAULTS,
    TYPE_FIELDS,
    Channel,
    Outcome,
    deliver,
    secret_fields,
)
from dumper.notify.events import TEST, Event
from dumper.store import Store, from_db_time, to_db_time

log = get_logger("notify")

PURPOSE_CHANNEL_SECRETS = "notification-channel-secrets"
KEEP_DELIVERIES = 200  # rows of the delivery log; older ones are pruned
SECRETS_UNREADABLE = (
    "the stored secrets of this channel cannot be decrypted (the encryption key changed): "
    "enter them again"
)


@dataclass(frozen=True)
class ChannelView:
    id: int
    type: str
    name: str
    events: list[str]
    enabled: bool
    url: str | None  # None for discord and slack: their URL is a secret
    topic: str | None
    smtp_host: str | None
    smtp_port: int | None
    smtp_security: str | None
    smtp_user: str | None
    mail_from: str | None
    mail_to: str | None
    secrets_set: list[str]  # the write-only fields that hold a value (never the value)
    secrets_error: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DeliveryView:
    id: int
    at: datetime
    event: str
    channel_id: int | None
    channel_name: str
    target_name: str | None
    ok: bool
    attempts: int
    result: str  # the receiver's answer or why there was none


@dataclass(frozen=True)
class ChannelTestReport:
    ok: bool
    status: int | None  # the receiver's HTTP status (SMTP code for email), None: no answer
    message: str


class ChannelService:
    """CRUD of channels, the channels an event goes to, the test message and the delivery log."""

    def __init__(
        self,
        store: Store,
        cipher: Cipher,
        clock: Clock,
        *,
        public_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.store = store
        self.cipher = cipher
        self.clock = clock
        self.public_url = public_url
        self.timeout = timeout

    # -- CRUD -------------------------------------------------------------------------------

    def list_channels(self) -> list[ChannelView]:
        rows = self.store.query("SELECT * FROM notification_channels ORDER BY name, id")
        return [self._view(r) for r in rows]

    def get(self, channel_id: int) -> ChannelView:
        return self._view(self._row(channel_id))

    def create(self, data: Mapping[str, Any]) -> ChannelView:
        """InvalidInput (fields), Conflict (name taken)."""
        kind, common, settings, secrets = self._validate(data, stored=None)
        now = to_db_time(self.clock.now())
        try:
            with self.store.transaction() as db:
                cur = db.execute(
                    "INSERT INTO notification_channels (name, type, events, enabled, settings,"
                    " secrets_enc, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                    (
                        common["name"],
                        kind,
                        json.dumps(common["events"]),
                        1 if common["enabled"] else 0,
                        json.dumps(settings),
                        self._encrypt(secrets),
                        now,
                        now,
                    ),
                )
                new_id = int(cur.lastrowid or 0)
        except sqlite3.IntegrityError:
            raise _taken(common["name"]) from None
        log.info("notification channel %s (%s) created", common["name"], kind)
        return self.get(new_id)

    def update(self, channel_id: int, data: Mapping[str, Any]) -> ChannelView:
        """Full update; a secret missing or '' keeps the stored one (same kind only)."""
        row = self._row(channel_id)
        kind, common, settings, secrets = self._validate(data, stored=row)
        try:
            with self.store.transaction() as db:
                db.execute(
                    "UPDATE notification_channels SET name=?, type=?, events=?, enabled=?,"
                    " settings=?, secrets_enc=?, updated_at=? WHERE id=?",
                    (
                        common["name"],
                        kind,
                        json.dumps(common["events"]),
                        1 if common["enabled"] else 0,
                        json.dumps(settings),
                        self._encrypt(secrets),
                        to_db_time(self.clock.now()),
                        channel_id,
                    ),
                )
        except sqlite3.IntegrityError:
            raise _taken(common["name"]) from None
        return self.get(channel_id)

    def delete(self, channel_id: int) -> None:
        with self.store.transaction() as db:
            cur = db.execute("DELETE FROM notification_channels WHERE id=?", (channel_id,))
            if cur.rowcount == 0:
                raise NotFound(f"notification channel {channel_id} not found")

    def secrets(self, channel_id: int) -> dict[str, str]:
        """The decrypted secrets; DecryptionError when the key changed."""
        return self._decrypt(self._row(channel_id)["secrets_enc"])

    # -- delivery ---------------------------------------------------------------------------

    def channel(self, channel_id: int) -> Channel:
        return self._channel(self._row(channel_id))

    def subscribed(self, event_name: str) -> list[Channel]:
        """The enabled channels that chose this event (ones whose secrets are unreadable are
        left out, with a warning)."""
        channels: list[Channel] = []
        for row in self.store.query("SELECT * FROM notification_channels WHERE enabled=1"):
            if event_name not in json.loads(row["events"]):
                continue
            try:
                channels.append(self._channel(row))
            except DecryptionError:
                log.warning("channel %s skipped: %s", row["name"], SECRETS_UNREADABLE)
        return channels

    def test(self, channel_id: int) -> ChannelTestReport:
        """Send a test message now (not through the queue) and report the receiver's answer."""
        channel = self.channel(channel_id)
        event = Event(name=TEST, at=self.clock.now(), reason="a test message sent from Settings")
        outcome = deliver(channel, event, self.public_url, self.timeout)
        self.record(event, channel, outcome, attempts=1)
        return ChannelTestReport(outcome.ok, outcome.status, outcome.message)

    def record(self, event: Event, channel: Channel, outcome: Outcome, *, attempts: int) -> None:
        """Log a delivery's end (the newest KEEP_DELIVERIES are kept)."""
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO notification_deliveries (at, event, channel_id, channel_name,"
                " target_name, ok, attempts, result) VALUES (?,?,?,?,?,?,?,?)",
                (
                    to_db_time(self.clock.now()),
                    event.name,
                    channel.id or None,
                    channel.name,
                    event.target_name,
                    1 if outcome.ok else 0,
                    attempts,
                    outcome.message,
                ),
            )
            db.execute(
                "DELETE FROM notification_deliveries WHERE id <="
                " (SELECT MAX(id) FROM notification_deliveries) - ?",
                (KEEP_DELIVERIES,),
            )

    def deliveries(self, limit: int = 50) -> list[DeliveryView]:
        rows = self.store.query(
            "SELECT * FROM notification_deliveries ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [
            DeliveryView(
                id=int(r["id"]),
                at=from_db_time(r["at"]),
                event=r["event"],
                channel_id=r["channel_id"],
                channel_name=r["channel_name"],
                target_name=r["target_name"],
                ok=bool(r["ok"]),
                attempts=int(r["attempts"]),
                result=r["result"],
            )
            for r in rows
        ]

    # -- helpers ----------------------------------------------------------------------------

    def _row(self, channel_id: int) -> sqlite3.Row:
        row = self.store.query_one("SELECT * FROM notification_channels WHERE id=?", (channel_id,))
        if row is None:
            raise NotFound(f"notification channel {channel_id} not found")
        return row

    def _validate(
        self, data: Mapping[str, Any], *, stored: sqlite3.Row | None
    ) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, str]]:
        """(kind, common fields, plain settings, secrets) of a POST/PUT body."""
        v = validate_fields(CHANNEL_FIELDS, data, required=CHANNEL_REQUIRED, what="channel")
        kind: str = v["type"]
        required, optional = TYPE_FIELDS[kind]
        own = set(required) | set(optional)
        errors: dict[str, str] = {}
        for name, value in v.items():
            if name not in COMMON_FIELDS and name not in own and value is not None:
                errors[name] = f"not used by a {kind} channel"
        keep: dict[str, str] = {}
        if stored is not None and stored["type"] == kind:
            try:
                keep = self._decrypt(stored["secrets_enc"])
            except DecryptionError:
                keep = {}
        secret_names = secret_fields(kind)
        secrets: dict[str, str] = {}
        for name in secret_names:
            given = v.get(name)
            if given:
                secrets[name] = given
            elif name in keep:
                secrets[name] = keep[name]
        settings: dict[str, Any] = dict(TYPE_DEFAULTS.get(kind, {}))
        for name in (*required, *optional):
            if name not in secret_names and v.get(name) is not None:
                settings[name] = v[name]
        for name in required:
            if name not in settings and name not in secrets:
                errors.setdefault(name, f"is required for a {kind} channel")
        if errors:
            raise InvalidInput("invalid channel: " + ", ".join(sorted(errors)), fields=errors)
        common = {"name": v["name"], "events": list(v["events"]), "enabled": v["enabled"]}
        return kind, common, settings, secrets

    def _encrypt(self, secrets: dict[str, str]) -> bytes | None:
        if not secrets:
            return None
        return self.cipher.encrypt(json.dumps(secrets), PURPOSE_CHANNEL_SECRETS)

    def _decrypt(self, blob: bytes | None) -> dict[str, str]:
        if blob is None:
            return {}
        data = json.loads(self.cipher.decrypt_text(bytes(blob), PURPOSE_CHANNEL_SECRETS))
        return {str(k): str(v) for k, v in data.items()}

    def _channel(self, row: sqlite3.Row) -> Channel:
        return Channel(
            id=int(row["id"]),
            type=row["type"],
            name=row["name"],
            events=tuple(json.loads(row["events"])),
            enabled=bool(row["enabled"]),
            settings=json.loads(row["settings"]),
            secrets=self._decrypt(row["secrets_enc"]),
        )

    def _view(self, row: sqlite3.Row) -> ChannelView:
        settings: dict[str, Any] = json.loads(row["settings"])
        error: str | None = None
        try:
            secrets = sorted(self._decrypt(row["secrets_enc"]))
        except DecryptionError:
            secrets, error = [], SECRETS_UNREADABLE
        return ChannelView(
            id=int(row["id"]),
            type=row["type"],
            name=row["name"],
            events=list(json.loads(row["events"])),
            enabled=bool(row["enabled"]),
            url=settings.get("url"),
            topic=settings.get("topic"),
            smtp_host=settings.get("smtp_host"),
            smtp_port=settings.get("smtp_port"),
            smtp_security=settings.get("smtp_security"),
            smtp_user=settings.get("smtp_user"),
            mail_from=settings.get("mail_from"),
            mail_to=settings.get("mail_to"),
            secrets_set=secrets,
            secrets_error=error,
            created_at=from_db_time(row["created_at"]),
            updated_at=from_db_time(row["updated_at"]),
        )


def _taken(name: str) -> Conflict:
    return Conflict(f"a channel named {name!r} already exists", fields={"name": "already taken"})
