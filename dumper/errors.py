"""Typed errors of dumper: one root, one subclass per kind of failure.

The HTTP layer maps each class to a status code in one table (dumper/http/router.py);
nothing decides a status by reading a message.
"""

from __future__ import annotations

from collections.abc import Mapping


class DumperError(Exception):
    """Root of every error dumper raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, str] = dict(fields or {})


class ConfigError(DumperError):
    """An environment variable is missing or invalid; names the variable."""

    code = "config_error"


class InvalidInput(DumperError):
    """Input rejected by validation; `fields` maps field name to what is wrong."""

    code = "invalid_input"


class ConfirmationRequired(InvalidInput):
    """A destructive action was asked for without the exact confirmation."""

    code = "confirmation_required"


class AgeKeyRequired(InvalidInput):
    """An encrypted backup was to be read without its identity or passphrase, or with one that
    does not open it; `fields` names `identity`. The message never holds the key."""

    code = "key_required"


class NotFound(DumperError):
    code = "not_found"


class Conflict(DumperError):
    """The request clashes with the current state (a job already runs, a name is taken)."""

    code = "conflict"


class DecryptionError(DumperError):
    """A stored secret cannot be decrypted: wrong key or tampered data."""

    code = "decryption_failed"


class ConnectionFailed(DumperError):
    """The database server could not be reached or refused the login."""

    code = "connection_failed"


class DumpFailed(DumperError):
    code = "dump_failed"


class PrivilegeMissing(DumpFailed):
    """An object cannot be dumped whole, or (strict mode) may be invisible to the backup user,
    for lack of a privilege: `obj` names the object (or the kind), `privilege` the grant."""

    def __init__(self, message: str, *, obj: str, privilege: str) -> None:
        super().__init__(message)
        self.obj = obj
        self.privilege = privilege


class RestoreFailed(DumperError):
    """A statement failed during a restore; the message names it."""

    code = "restore_failed"


class BackupCorrupt(DumperError):
    """A backup file failed its integrity check (gzip CRC, truncation, no completion marker)."""

    code = "backup_corrupt"


class StorageFull(DumperError):
    """BACKUP_DIR has no room (or no quota) left for a file being written; none of it is kept."""

    code = "storage_full"


class Cancelled(DumperError):
    """A job stopped because it was asked to; a restore says how many statements ran."""

    code = "cancelled"

    def __init__(self, message: str, *, statements: int | None = None) -> None:
        super().__init__(message)
        self.statements = statements  # restores: statements executed before the cancel
