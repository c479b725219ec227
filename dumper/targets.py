"""Targets: validation of user input (exact types, InvalidInput with fields) and the service
that stores targets with their password encrypted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dumper.backup.dsn import ConnParams
from dumper.clock import Clock
from dumper.crypto import PURPOSE_TARGET_PASSWORD, Cipher
from dumper.errors import DecryptionError, InvalidInput
from dumper.store import Store, Target, TargetFields

_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
ALLOWED_FIELDS = frozenset(
    {
        "name",
        "host",
        "port",
        "dbname",
        "user",
        "password",
        "comment",
        "schedule_time",
        "retention_days",
        "auto_compress",
    }
)
REQUIRED_FIELDS = ("name", "host", "port", "dbname", "user")
CONNECTION_FIELDS = ("host", "port", "dbname", "user")
# the defaults of DB_CONNECT_TIMEOUT and DB_READ_TIMEOUT (config.py), for callers without a Config
DEFAULT_CONNECT_TIMEOUT = 15.0
DEFAULT_READ_TIMEOUT = 600.0
# a message, not a password
PASSWORD_UNREADABLE = (
    "the stored password cannot be decrypted (the encryption key changed): "  # noqa: S105
    "enter the password again"
)


@dataclass(frozen=True)
class TargetInput:
    """Validated input: the stored fields plus the password as given (None: not given)."""

    fields: TargetFields
    password: str | None

    def __repr__(self) -> str:
        return f"TargetInput(fields={self.fields!r}, password=***)"


def _is_int(value: Any) -> bool:
    # bool is an int subclass; `true` for a port is a type error, not 1
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any, lo: int, hi: int, errors: dict[str, str], key: str) -> str:
    if not isinstance(value, str):
        errors[key] = "must be a string"
        return ""
    if len(value) < lo:
        errors[key] = "must not be empty" if lo == 1 else f"must have at least {lo} characters"
    elif len(value) > hi:
        errors[key] = f"must be at most {hi} characters"
    elif lo and not value.strip():
        errors[key] = "must not be blank"
    elif any(ord(c) < 32 for c in value) and key != "comment":
        errors[key] = "must not contain control characters"
    return value


def validate_target(
    data: Mapping[str, Any], *, required: tuple[str, ...] = REQUIRED_FIELDS
) -> TargetInput:
    """Check a POST/PUT body as docs/API.md says; raise InvalidInput listing every bad field."""
    if not isinstance(data, Mapping):
        raise InvalidInput("expected a JSON object", fields={"body": "must be an object"})
    errors: dict[str, str] = {}
    for key in data:
        if key not in ALLOWED_FIELDS:
            errors[str(key)] = "unknown field"
    for key in required:
        if key not in data:
            errors[key] = "is required"

    name = _text(data.get("name", ""), 1, 64, errors, "name") if "name" in data else ""
    host = _text(data.get("host"), 1, 255, errors, "host") if "host" in data else ""
    dbname = _text(data.get("dbname"), 1, 64, errors, "dbname") if "dbname" in data else ""
    user = _text(data.get("user"), 1, 255, errors, "user") if "user" in data else ""
    comment = _text(data.get("comment", ""), 0, 1000, errors, "comment")

    port = data.get("port", 3306)
    if "port" in data and not (_is_int(port) and 1 <= port <= 65535):
        errors["port"] = "must be an integer from 1 to 65535"

    password = data.get("password")
    if password is not None and not isinstance(password, str):
        errors["password"] = "must be a string"  # noqa: S105 (a message)

    schedule = data.get("schedule_time")
    if schedule is not None and not (isinstance(schedule, str) and _HHMM.fullmatch(schedule)):
        errors["schedule_time"] = "must be HH:MM between 00:00 and 23:59, or null"

    retention = data.get("retention_days", 0)
    if not (_is_int(retention) and 0 <= retention <= 3650):
        errors["retention_days"] = "must be an integer from 0 to 3650"

    compress = data.get("auto_compress", True)
    if not isinstance(compress, bool):
        errors["auto_compress"] = "must be true or false"

    if errors:
        raise InvalidInput("invalid target: " + ", ".join(sorted(errors)), fields=errors)
    return TargetInput(
        fields=TargetFields(
            name=name,
            host=host,
            port=port,
            dbname=dbname,
            user=user,
            comment=comment,
            schedule_time=schedule,
            retention_days=retention,
            auto_compress=compress,
        ),
        password=password,
    )


class TargetService:
    """Create, update and read targets; passwords are encrypted before they reach the store."""

    def __init__(
        self,
        store: Store,
        cipher: Cipher,
        clock: Clock,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
    ) -> None:
        self.store = store
        self.cipher = cipher
        self.clock = clock
        self.connect_timeout = connect_timeout  # DB_CONNECT_TIMEOUT
        self.read_timeout = read_timeout  # DB_READ_TIMEOUT

    def create(self, data: Mapping[str, Any]) -> Target:
        """Validate and insert; InvalidInput, Conflict (name taken)."""
        given = validate_target(data)
        return self.store.insert_target(
            given.fields, self._encrypt(given.password or ""), self.clock.now()
        )

    def update(self, target_id: int, data: Mapping[str, Any]) -> Target:
        """Full update; a missing or empty password keeps the stored one."""
        self.store.require_target(target_id)
        given = validate_target(data)
        keep = not given.password
        return self.store.update_target(
            target_id,
            given.fields,
            self.clock.now(),
            password_enc=None if keep else self._encrypt(given.password or ""),
            keep_password=keep,
        )

    def _encrypt(self, password: str) -> bytes | None:
        # no password at all is stored as NULL so has_password can say so without decrypting
        return self.cipher.encrypt(password, PURPOSE_TARGET_PASSWORD) if password else None

    def password(self, target: Target) -> str:
        """The plain password; DecryptionError when the stored one cannot be decrypted."""
        if target.password_enc is None:
            return ""
        return self.cipher.decrypt_text(target.password_enc, PURPOSE_TARGET_PASSWORD)

    def password_error(self, target: Target) -> str | None:
        """None when the password decrypts, else what the user must do."""
        try:
            self.password(target)
        except DecryptionError:
            return PASSWORD_UNREADABLE
        return None

    def conn_params(self, target: Target) -> ConnParams:
        """Where to connect for this target; DecryptionError when the password is unreadable."""
        password = self.password(target)
        return params_for(
            target.host,
            target.port,
            target.user,
            password,
            target.dbname,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )


def params_for(
    host: str,
    port: int,
    user: str,
    password: str,
    dbname: str,
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
) -> ConnParams:
    """Connection parameters for a target; a server silent for read_timeout fails the job."""
    return ConnParams(
        host=host,
        port=port,
        user=user,
        password=password,
        database=dbname,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        write_timeout=read_timeout,
    )
