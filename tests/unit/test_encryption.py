"""Encrypted backups, the service side without a database server: a target's encryption fields,
what opens a backup's file or a whole-server set's folder, the check without the key."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dumper.app import App
from dumper.backup.agefile import X25519Identity
from dumper.backup.agestream import AgeWriter
from dumper.clock import FakeClock
from dumper.config import load_config
from dumper.errors import AgeKeyRequired, BackupCorrupt, InvalidInput
from dumper.store import Backup

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
IDENTITY = X25519Identity.generate()
TARGET = {"name": "shop", "host": "db.lan", "port": 3306, "dbname": "shop", "user": "backup"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    config = load_config(
        {"SQLITE_PATH": str(tmp_path / "app" / "app.db"), "BACKUP_DIR": str(tmp_path / "b")}
    )
    a = App.build(config, clock=FakeClock(NOW, advance_on_sleep=False))
    a.folder.ensure()
    yield a
    a.stop(timeout=1)


def _age_file(path: Path, data: bytes = b"-- dumper\n") -> str:
    with path.open("wb") as f:
        w = AgeWriter(f, [IDENTITY.recipient])
        w.write(data)
        w.close()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _backup(app: App, target_id: int, name: str, sha256: str | None) -> Backup:
    row = app.store.insert_backup(target_id, NOW, name, "manual")
    app.store.finish_backup(
        row.id, status="success", finished_at=NOW, duration_seconds=1.0, sha256=sha256
    )
    backup = app.store.get_backup(row.id)
    assert backup is not None
    return backup


def test_a_recipient_target_is_validated_and_its_view_says_so(app: App) -> None:
    with pytest.raises(InvalidInput) as bad:
        app.create_target({**TARGET, "encryption": "recipient", "age_recipient": "age1nope"})
    assert set(bad.value.fields) == {"age_recipient"}
    t = app.create_target(
        {**TARGET, "encryption": "recipient", "age_recipient": str(IDENTITY.recipient)}
    )
    assert (t.encryption, t.age_recipient, t.has_age_passphrase) == (
        "recipient",
        str(IDENTITY.recipient),
        False,
    )


def test_a_passphrase_is_stored_encrypted_kept_on_put_and_never_in_the_view(app: App) -> None:
    body = {**TARGET, "encryption": "passphrase", "age_passphrase": "twelve chars!"}
    t = app.create_target(body)
    assert t.has_age_passphrase and "twelve chars!" not in repr(t)
    stored = app.store.require_target(t.id).age_passphrase_enc
    assert stored is not None and b"twelve chars!" not in stored
    kept = app.update_target(t.id, {**TARGET, "encryption": "passphrase"})
    assert kept.has_age_passphrase
    assert app.targets.age_passphrase(app.store.require_target(t.id)) == "twelve chars!"
    with pytest.raises(InvalidInput) as short:
        app.update_target(t.id, {**body, "age_passphrase": "short"})
    assert short.value.fields == {"age_passphrase": "must be at least 12 characters"}


def test_a_file_is_opened_by_its_identity_and_checked_without_it(app: App) -> None:
    t = app.create_target(
        {**TARGET, "encryption": "recipient", "age_recipient": str(IDENTITY.recipient)}
    )
    sha = _age_file(app.folder.path / "shop_1.sql.gz.age")
    backup = _backup(app, t.id, "shop_1.sql.gz.age", sha)
    assert app.keys.for_backup(backup, [IDENTITY]) == [IDENTITY]
    with pytest.raises(AgeKeyRequired) as other:
        app.keys.for_backup(backup, [X25519Identity.generate()])
    assert other.value.fields == {"identity": "no match"}
    with pytest.raises(AgeKeyRequired, match="the recorded sha256 matches"):
        app.keys.for_backup(backup, None, check=True)
    changed = _backup(app, t.id, "shop_1.sql.gz.age", "0" * 64)
    with pytest.raises(BackupCorrupt, match="sha256"):
        app.keys.for_backup(changed, None, check=True)
    assert app.get_backup(backup.id).encrypted


def test_a_whole_server_sets_folder_is_opened_by_one_of_its_files(app: App) -> None:
    t = app.create_target(
        {**TARGET, "encryption": "recipient", "age_recipient": str(IDENTITY.recipient)}
    )
    folder = app.folder.path / "shop_set"
    folder.mkdir()
    _age_file(folder / "a.sql.gz.age")
    _age_file(folder / "b.sql.gz.age")
    backup = _backup(app, t.id, "shop_set", "f" * 64)  # the sha256 of its manifest
    assert app.keys.for_backup(backup, [IDENTITY]) == [IDENTITY]
    with pytest.raises(AgeKeyRequired, match=r"\(1 chunks checked\)"):
        app.keys.for_backup(backup, None, check=True)
    assert app.get_backup(backup.id).encrypted
    plain = _backup(app, t.id, "nothing_here.sql.gz", None)
    assert app.keys.for_backup(plain, None) is None
    assert not app.get_backup(plain.id).encrypted


def test_the_log_masks_an_age_identity_and_a_passphrase_wherever_they_show() -> None:
    from dumper.log import scrub

    secret = IDENTITY.encode()
    text = scrub(f'body {{"identity": "{secret}", "age_passphrase": "hunter2 hunter2"}}')
    assert secret not in text and secret[16:] not in text and "hunter2" not in text
    assert "AGE-SECRET-KEY-1***" in text
    assert scrub("passphrase=abc def") == "passphrase=*** def"
