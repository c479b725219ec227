"""Targets: validation of user input (exact types, InvalidInput with fields) and the service
that stores targets with their password encrypted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dumper import encryption
from dumper.backup.agefile import Recipient
from dumper.backup.dsn import ConnParams
from dumper.backup.serverset import parse_exclude
from dumper.backup.tls import DEFAULT_TLS_MODE, TLS_MODES, TlsSettings, context_error
from dumper.clock import Clock
from dumper.crypto import (
    PURPOSE_TARGET_AGE_PASSPHRASE,
    PURPOSE_TARGET_PASSWORD,
    PURPOSE_TARGET_TLS_KEY,
    Cipher,
)
from dumper.errors import DecryptionError, InvalidInput
from dumper.inputs import Field, validate_fields
from dumper.scheduler import SCHEDULE_KINDS, WEEKDAYS
from dumper.store import Store, Target, TargetFields

# The one declaration of a target's input fields: validation below and the OpenAPI schema
# "TargetInput" are both made from it.
TARGET_FIELDS: tuple[Field, ...] = (
    Field("name", "string", low=1, high=64, line=True),
    Field("host", "string", low=1, high=255, line=True),
    Field("port", "integer", default=3306, low=1, high=65535),
    Field("dbname", "string", low=1, high=64, line=True),
    Field("user", "string", low=1, high=255, line=True),
    Field(
        "password",
        "string",
        nullable=True,
        write_only=True,
        description="write-only; on PUT missing or '' keeps the stored one",
    ),
    Field("comment", "string", default="", low=0, high=1000),
    Field(
        "schedule_time",
        "string",
        nullable=True,
        pattern=r"([01][0-9]|2[0-3]):[0-5][0-9]",
        pattern_message="must be HH:MM between 00:00 and 23:59, or null",
        description="daily backup time HH:MM (UTC), null for none",
    ),
    Field("retention_days", "integer", default=0, low=0, high=3650),
    Field("auto_compress", "boolean", default=True),
    Field(
        "notify",
        "boolean",
        default=True,
        description="false: this target's events reach no notification channel",
    ),
    Field(
        "ping_url",
        "string",
        nullable=True,
        high=2000,
        pattern=r"https?://[^\s/?#]+[^\s]*",
        pattern_message="must be an http:// or https:// URL, or null",
        description="dead-man's switch (healthchecks.io style): POSTed to with /start when a "
        "backup starts, as is when it succeeds, with /fail when it fails; null for none",
    ),
    *(
        Field(name, "integer", default=0, low=0, high=high, description=text)
        for name, high, text in (
            ("keep_last", 10000, "keep the newest N backups (0: off)"),
            ("keep_daily", 3650, "keep the newest backup of each of the last N days with one"),
            ("keep_weekly", 520, "keep the newest backup of each of the last N ISO weeks"),
            ("keep_monthly", 1200, "keep the newest backup of each of the last N months"),
            ("keep_yearly", 100, "keep the newest backup of each of the last N years"),
        )
    ),
)
SCHEDULE_FIELDS: tuple[Field, ...] = (
    Field(
        "schedule_kind",
        "string",
        default="daily",
        choices=SCHEDULE_KINDS,
        description="daily at schedule_time; hourly: every schedule_every_hours hours from "
        "00:schedule_minute each day (UTC); weekly: on schedule_weekdays at schedule_time",
    ),
    Field("schedule_every_hours", "integer", default=6, low=1, high=23),
    Field("schedule_minute", "integer", default=0, low=0, high=59),
    Field("schedule_weekdays", "strings", default=(), choices=WEEKDAYS),
    Field(
        "verify_after_backup",
        "boolean",
        default=False,
        description="after each successful backup, test-restore it into a scratch database "
        "<dbname>__verify_<id> and compare it with its manifest",
    ),
    Field(
        "strict",
        "boolean",
        default=False,
        description="fail a backup when the user lacks a grant that makes every view, trigger, "
        "event or routine visible (default: the backup succeeds with a warning naming it)",
    ),
    Field(
        "parallel_connections",
        "integer",
        default=1,
        low=1,
        high=4,
        description="connections that read table data at once, sharing one snapshot; above 1 "
        "needs RELOAD for a brief global read lock, without it a backup uses one and says so; "
        "a restore into the target loads a dumper file's table data over as many",
    ),
)
TARGET_FIELDS += SCHEDULE_FIELDS
TLS_FIELDS: tuple[Field, ...] = (
    Field(
        "tls",
        "string",
        default=DEFAULT_TLS_MODE,
        choices=TLS_MODES,
        description="disabled; preferred: TLS when the server offers it; required: TLS, "
        "unverified; verify-ca: the server certificate must chain to tls_ca (or the system "
        "CAs); verify-identity: and name the host",
    ),
    Field("tls_ca", "string", default="", high=65536, description="PEM CA certificate(s)"),
    Field("tls_cert", "string", default="", high=65536, description="PEM client certificate"),
    Field(
        "tls_key",
        "string",
        nullable=True,
        write_only=True,
        high=65536,
        description="PEM client key, write-only, stored encrypted; on PUT missing or '' keeps "
        "the stored one; a tls_cert of '' drops it",
    ),
)
TARGET_FIELDS += TLS_FIELDS
TARGET_FIELDS += (
    Field(
        "exclude",
        "string",
        default="",
        high=1000,
        line=True,
        description="dbname * (every database the user can see): databases to leave out, "
        "comma-separated, * matches any text (e.g. 'test_*, scratch')",
    ),
)
TARGET_FIELDS += encryption.ENCRYPTION_FIELDS
# The retention rules, also accepted as query parameters by the retention preview.
RETENTION_FIELDS = tuple(
    f for f in TARGET_FIELDS if f.name == "retention_days" or f.name.startswith("keep_")
)
REQUIRED_FIELDS = ("name", "host", "port", "dbname", "user")
SERVER_DBNAME = "*"  # a target of every database the user can see (dumper.serversets)
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
    tls_key: str | None = None
    age_passphrase: str | None = None

    def __repr__(self) -> str:
        return f"TargetInput(fields={self.fields!r}, password=***, tls_key=***, age_passphrase=***)"

    def conn_params(self, connect_timeout: float) -> ConnParams:
        """Where to connect with these unsaved values (the form's connection test)."""
        f = self.fields
        return params_for(
            f.host,
            f.port,
            f.user,
            self.password or "",
            f.dbname,
            connect_timeout=connect_timeout,
            tls=TlsSettings(f.tls, f.tls_ca, f.tls_cert, self.tls_key or ""),
        )


def validate_target(
    data: Mapping[str, Any], *, required: tuple[str, ...] = REQUIRED_FIELDS
) -> TargetInput:
    """Check a POST/PUT body as docs/API.md says; raise InvalidInput listing every bad field."""
    v = validate_fields(TARGET_FIELDS, data, required=required, what="target")
    _check_schedule(v)
    _check_server(v)
    pem_errors = context_error(
        TlsSettings(v["tls"], v["tls_ca"], v["tls_cert"], v["tls_key"] or "")
    )
    if pem_errors:
        raise InvalidInput("invalid TLS: " + ", ".join(sorted(pem_errors)), fields=pem_errors)
    return TargetInput(
        fields=TargetFields(
            name=v["name"] or "",
            host=v["host"] or "",
            port=v["port"],
            dbname=v["dbname"] or "",
            user=v["user"] or "",
            comment=v["comment"],
            schedule_time=v["schedule_time"],
            retention_days=v["retention_days"],
            auto_compress=v["auto_compress"],
            notify=v["notify"],
            ping_url=v["ping_url"] or None,
            keep_last=v["keep_last"],
            keep_daily=v["keep_daily"],
            keep_weekly=v["keep_weekly"],
            keep_monthly=v["keep_monthly"],
            keep_yearly=v["keep_yearly"],
            schedule_kind=v["schedule_kind"],
            schedule_every_hours=v["schedule_every_hours"],
            schedule_minute=v["schedule_minute"],
            schedule_weekdays=tuple(d for d in WEEKDAYS if d in v["schedule_weekdays"]),
            tls=v["tls"],
            tls_ca=v["tls_ca"],
            tls_cert=v["tls_cert"],
            verify_after_backup=v["verify_after_backup"],
            strict=v["strict"],
            parallel_connections=v["parallel_connections"],
            encryption=v["encryption"],
            age_recipient=(v["age_recipient"] or "").strip(),
            exclude=", ".join(parse_exclude(v["exclude"])),
        ),
        password=v["password"],
        tls_key=v["tls_key"],
        age_passphrase=v["age_passphrase"] or None,
    )


def data_with_defaults(given: TargetInput) -> dict[str, Any]:
    """The values encryption.check_fields looks at."""
    f = given.fields
    return {
        "encryption": f.encryption,
        "age_recipient": f.age_recipient,
        "age_passphrase": given.age_passphrase,
        "verify_after_backup": f.verify_after_backup,
    }


def _check_server(v: Mapping[str, Any]) -> None:
    """dbname is one database or `*` (the whole server); only `*` takes `exclude`."""
    errors: dict[str, str] = {}
    dbname = v["dbname"] or ""
    if "*" in dbname and dbname != SERVER_DBNAME:
        errors["dbname"] = "must be a database name, or * for every database"
    if parse_exclude(v["exclude"]) and dbname != SERVER_DBNAME:
        errors["exclude"] = "is only for dbname * (every database)"
    if errors:
        raise InvalidInput("invalid target: " + ", ".join(sorted(errors)), fields=errors)


def _check_schedule(v: Mapping[str, Any]) -> None:
    """What one field cannot say: which fields a kind of schedule needs."""
    errors: dict[str, str] = {}
    kind = v["schedule_kind"]
    if kind == "hourly" and v["schedule_time"] is not None:
        errors["schedule_time"] = "must be null for an hourly schedule"
    if kind == "weekly":
        if v["schedule_time"] is None:
            errors["schedule_time"] = "is required for a weekly schedule"
        if not v["schedule_weekdays"]:
            errors["schedule_weekdays"] = "must name at least one weekday"
    if errors:
        raise InvalidInput("invalid schedule: " + ", ".join(sorted(errors)), fields=errors)


def retention_rules(target: Target, query: Mapping[str, str]) -> dict[str, int]:
    """The target's retention rules with unsaved values from query parameters (the preview);
    InvalidInput naming every bad or unknown parameter."""
    known = {f.name: f for f in RETENTION_FIELDS}
    values = {name: int(getattr(target, name)) for name in known}
    errors: dict[str, str] = {}
    for name, text in query.items():
        f = known.get(name)
        if f is None:
            errors[name] = "unknown parameter"
            continue
        value: Any = int(text) if text.isdigit() else text
        message = f.check(value)
        if message is not None:
            errors[name] = message
        else:
            values[name] = value
    if errors:
        raise InvalidInput("invalid retention rules: " + ", ".join(sorted(errors)), fields=errors)
    return values


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
        encryption.check_fields(data_with_defaults(given))
        return self.store.insert_target(
            given.fields,
            self._encrypt(given.password or ""),
            self.clock.now(),
            tls_key_enc=self._encrypt_key(given),
            age_passphrase_enc=self._encrypt_passphrase(given),
        )

    def update(self, target_id: int, data: Mapping[str, Any]) -> Target:
        """Full update; a missing or empty password keeps the stored one."""
        old = self.store.require_target(target_id)
        given = validate_target(data)
        stored = old.age_passphrase_enc is not None
        encryption.check_fields(data_with_defaults(given), has_stored_passphrase=stored)
        keep = not given.password
        return self.store.update_target(
            target_id,
            given.fields,
            self.clock.now(),
            password_enc=None if keep else self._encrypt(given.password or ""),
            keep_password=keep,
            tls_key_enc=self._encrypt_key(given),
            keep_tls_key=bool(given.fields.tls_cert) and not given.tls_key,
            age_passphrase_enc=self._encrypt_passphrase(given),
            keep_age_passphrase=not given.age_passphrase,
        )

    def _encrypt_passphrase(self, given: TargetInput) -> bytes | None:
        if not given.age_passphrase:
            return None
        return self.cipher.encrypt(given.age_passphrase, PURPOSE_TARGET_AGE_PASSPHRASE)

    def age_passphrase(self, target: Target) -> str | None:
        """The stored passphrase; DecryptionError when it cannot be decrypted."""
        if target.age_passphrase_enc is None:
            return None
        return self.cipher.decrypt_text(target.age_passphrase_enc, PURPOSE_TARGET_AGE_PASSPHRASE)

    def age_recipients(self, target: Target) -> list[Recipient]:
        """What the target's next backup is encrypted to ([]: not encrypted)."""
        passphrase = self.age_passphrase(target) if target.encryption == "passphrase" else None
        return encryption.recipients(target.encryption, target.age_recipient, passphrase)

    def _encrypt_key(self, given: TargetInput) -> bytes | None:
        if not given.tls_key or not given.fields.tls_cert:
            return None
        return self.cipher.encrypt(given.tls_key, PURPOSE_TARGET_TLS_KEY)

    def tls_settings(self, target: Target) -> TlsSettings:
        """The target's TLS with the key decrypted; DecryptionError when it cannot be."""
        key = ""
        if target.tls_key_enc is not None:
            key = self.cipher.decrypt_text(target.tls_key_enc, PURPOSE_TARGET_TLS_KEY)
        return TlsSettings(target.tls, target.tls_ca, target.tls_cert, key)

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
            tls=self.tls_settings(target),
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
    tls: TlsSettings | None = None,
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
        tls=tls or TlsSettings(),
    )
