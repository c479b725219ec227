"""Encrypted backups, the service side: a target's encryption fields (age recipient or
passphrase), what a backup is encrypted to, the identity a request gives for one operation
(never stored, never logged), and what can be checked of an encrypted file without its key.

The format itself is the engine's (backup/agefile.py, backup/agestream.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dumper.backup.agefile import Identity, Passphrase, Recipient, X25519Recipient, parse_identities
from dumper.backup.agestream import AgeReader, check_structure, is_age
from dumper.errors import AgeKeyRequired, BackupCorrupt, InvalidInput
from dumper.inputs import Field, validate_fields

if TYPE_CHECKING:
    from dumper.folder import BackupFolder
    from dumper.store import Backup
    from dumper.targets import TargetService

ENCRYPTION_MODES = ("off", "recipient", "passphrase")
AGE_SUFFIX = ".age"
PASSPHRASE_MIN = 12

# A target's fields (appended to targets.TARGET_FIELDS).
ENCRYPTION_FIELDS: tuple[Field, ...] = (
    Field(
        "encryption",
        "string",
        default="off",
        choices=ENCRYPTION_MODES,
        description="off; recipient: each backup is encrypted (age) to age_recipient, and only "
        "its identity, kept offline, reads it; passphrase: encrypted with age_passphrase. "
        "Files are .sql.gz.age; a lost identity or passphrase means lost backups",
    ),
    Field(
        "age_recipient",
        "string",
        default="",
        high=200,
        description="the age public key (age1...) backups are encrypted to",
    ),
    Field(
        "age_passphrase",
        "string",
        nullable=True,
        write_only=True,
        high=1024,
        description=f"write-only, stored encrypted, at least {PASSPHRASE_MIN} characters; on "
        "PUT missing or '' keeps the stored one",
    ),
)

# What a restore or verify request may give to open an encrypted backup, for that one job.
KEY_FIELDS: tuple[Field, ...] = (
    Field(
        "identity",
        "string",
        nullable=True,
        write_only=True,
        high=65536,
        description="an encrypted backup's age identity (AGE-SECRET-KEY-1..., or the whole "
        "identity file), for this operation only: never stored, logged or echoed",
    ),
    Field(
        "passphrase",
        "string",
        nullable=True,
        write_only=True,
        high=1024,
        description="the passphrase of a passphrase-encrypted backup, for this operation only",
    ),
)


def check_fields(v: Mapping[str, Any], *, has_stored_passphrase: bool = False) -> None:
    """What the field table cannot say; InvalidInput naming the fields (never their values)."""
    errors: dict[str, str] = {}
    mode = v["encryption"]
    if mode == "recipient":
        try:
            X25519Recipient.parse(v["age_recipient"] or "")
        except InvalidInput:
            errors["age_recipient"] = "must be an age public key (age1...)"
        if v.get("verify_after_backup"):
            errors["verify_after_backup"] = (
                "cannot be on with a recipient: only its identity, kept offline, reads the backups"
            )
    given = v.get("age_passphrase") or ""
    if mode == "passphrase" and not given and not has_stored_passphrase:
        errors["age_passphrase"] = "is required for passphrase encryption"  # noqa: S105
    if given and len(given) < PASSPHRASE_MIN:
        errors["age_passphrase"] = f"must be at least {PASSPHRASE_MIN} characters"
    if errors:
        raise InvalidInput("invalid encryption: " + ", ".join(sorted(errors)), fields=errors)


def recipients(mode: str, recipient: str, passphrase: str | None) -> list[Recipient]:
    """What a target's backups are encrypted to; [] when encryption is off."""
    if mode == "recipient":
        return [X25519Recipient.parse(recipient)]
    if mode == "passphrase" and passphrase:
        return [Passphrase(passphrase.encode())]
    return []


def request_identities(values: Mapping[str, Any]) -> list[Identity] | None:
    """The identity or passphrase a request gave (validated KEY_FIELDS), or None."""
    if values.get("identity") and values.get("passphrase"):
        both = "give identity or passphrase, not both"
        raise InvalidInput(both, fields={"identity": both, "passphrase": both})
    if values.get("passphrase"):
        return [Passphrase(values["passphrase"].encode())]
    if values.get("identity"):
        return list(parse_identities(values["identity"]))
    return None


def is_encrypted(path: Path) -> bool:
    return path.name.endswith(AGE_SUFFIX) or (path.is_file() and is_age(path))


def stored_encrypted(path: Path | None) -> bool:
    """Whether a backup's file (or a whole-server set's folder) holds age files."""
    if path is None:
        return False
    return path.name.endswith(AGE_SUFFIX) or (path.is_dir() and any(path.glob("*" + AGE_SUFFIX)))


class Keys:
    """What opens a backup for one restore or verification: the identity or passphrase the
    request gave, else the passphrase its target keeps; checked against the file's header
    before any job is queued."""

    def __init__(self, targets: TargetService, folder: BackupFolder) -> None:
        self.targets = targets
        self.folder = folder

    def for_request(self, backup: Backup, request: Mapping[str, Any]) -> list[Identity] | None:
        """A verify request's KEY_FIELDS; without a key, what can be checked is, then
        AgeKeyRequired."""
        values = validate_fields(KEY_FIELDS, request, required=(), what="verify request")
        return self.for_backup(backup, request_identities(values), check=True)

    def for_backup(
        self, backup: Backup, given: list[Identity] | None, *, check: bool = False
    ) -> list[Identity] | None:
        """None for a backup that is not encrypted (or has no file: the job says so). A
        whole-server set's folder is checked by one of its files."""
        path = self.folder.file(backup.file_path)
        if path is not None and path.is_dir():
            path, sha256 = next(iter(sorted(path.glob("*" + AGE_SUFFIX))), None), None
        else:
            sha256 = backup.sha256  # a set's is that of its manifest, not of a file
        if path is None or not path.is_file() or not is_encrypted(path):
            return None
        keys = given or self._stored(backup)
        if not keys:
            if check:
                check_without_key(path, sha256)
            raise AgeKeyRequired(
                "this backup is encrypted: give its identity (AGE-SECRET-KEY-1...) or passphrase",
                fields={"identity": "required"},
            )
        check_opens(path, keys)
        return keys

    def _stored(self, backup: Backup) -> list[Identity]:
        target = self.targets.store.get_target(backup.target_id)
        passphrase = self.targets.age_passphrase(target) if target is not None else None
        return [Passphrase(passphrase.encode())] if passphrase else []


def check_opens(path: Path, identities: list[Identity]) -> None:
    """AgeKeyRequired now, before a job is queued, when none of `identities` opens the file
    (only its header is read); BackupCorrupt for a damaged header."""
    with path.open("rb") as f:
        AgeReader(f, identities)


def check_without_key(path: Path, sha256: str | None) -> None:
    """An encrypted file checked as far as it can be without its key (its age structure and
    the sha256 recorded when it was written), then AgeKeyRequired saying the rest needs it."""
    found = check_structure(path)
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    if sha256 is not None and digest.hexdigest() != sha256:
        raise BackupCorrupt("the file's sha256 is not the one recorded when it was written")
    checked = ", the recorded sha256 matches" if sha256 is not None else " checked"
    raise AgeKeyRequired(
        f"the encrypted file is whole as far as can be seen without its key ({found.chunks} "
        f"chunks{checked}); the test restore needs its identity or passphrase",
        fields={"identity": "required"},
    )
