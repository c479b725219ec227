"""Encrypted backups through the service, over a real socket against a real MariaDB: a target
encrypted to an age recipient or with a passphrase, its backups, download, verify and restore
with the identity given for one request (never stored, logged or echoed), refusal without it."""

from __future__ import annotations

import gzip
import hashlib
import logging
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.backup.agefile import X25519Identity, keygen_text
from dumper.backup.dsn import ConnParams
from tests.conftest import _new_db, admin_exec
from tests.fixtures.dbcompare import execute, query
from tests.integration.http import test_api_flow
from tests.integration.http.test_api_flow import Client

pytestmark = pytest.mark.integration

PASSPHRASE = "correct horse battery staple"
live = test_api_flow.live  # the flow's fixture: a served App with Basic-Auth


@pytest.fixture
def new_db(mysql_params: ConnParams) -> Iterator[Callable[[], ConnParams]]:
    made: list[ConnParams] = []

    def make() -> ConnParams:
        made.append(_new_db(mysql_params, "h_age"))
        return made[-1]

    yield make
    for db in made:
        admin_exec(mysql_params, f"DROP DATABASE IF EXISTS `{db.database}`")
    for (name,) in query(mysql_params, "SHOW DATABASES LIKE 'h\\_age%'"):
        if name.startswith(tuple(db.database for db in made)):
            admin_exec(mysql_params, f"DROP DATABASE IF EXISTS `{name}`")


def _target(db: ConnParams, name: str, **encryption: Any) -> dict[str, Any]:
    return {
        "name": name,
        "host": db.host,
        "port": db.port,
        "dbname": db.database,
        "user": db.user,
        "password": db.password,
        **encryption,
    }


def _fill(db: ConnParams, rows: int) -> None:
    execute(
        db,
        "CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(64), pad TEXT)",
        f"INSERT INTO t SELECT seq, CONCAT('clear-text-row-', seq), REPEAT(MD5(seq), 6) "
        f"FROM seq_1_to_{rows}",
    )


def _wait_verification(client: Client, backup_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        status, body = client("GET", f"/api/backups/{backup_id}")
        assert status == 200
        v = body["verification"]
        if v is not None and v["status"] != "running":
            return v  # type: ignore[no-any-return]
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_a_recipient_encrypted_backup_restores_only_with_its_identity(
    live: tuple[Client, App, Path],
    new_db: Callable[[], ConnParams],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="dumper")
    client, _app, backup_dir = live
    source, dest = new_db(), new_db()
    _fill(source, 150_000)
    identity = X25519Identity.generate()
    secret = identity.encode()
    key_file = keygen_text(identity, datetime.now(UTC))
    answers: list[str] = []

    def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        status, answer = client(method, path, body)
        answers.append(repr(answer))
        return status, answer

    status, target = call(
        "POST",
        "/api/targets",
        _target(
            source, "h_age_rcpt", encryption="recipient", age_recipient=str(identity.recipient)
        ),
    )
    assert status == 201, target
    assert (target["encryption"], target["age_recipient"]) == ("recipient", str(identity.recipient))
    assert target["has_age_passphrase"] is False

    # while the backup runs, every file in BACKUP_DIR holds age bytes only
    seen: list[int] = []
    plain: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for f in backup_dir.glob("*"):
                try:
                    data = f.read_bytes()
                except FileNotFoundError:
                    continue
                if b"clear-text-row" in data or b"INSERT INTO" in data:
                    plain.append(f.name)  # asserted below: a thread's assert fails nothing
                if data and not data.startswith(b"age-encryption.org/v1\n"):
                    plain.append(f.name)
                seen.append(len(data))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        status, backup = call("POST", f"/api/targets/{target['id']}/backup")
        assert status == 202, backup
        done = client.wait(f"/api/backups/{backup['id']}")
    finally:
        stop.set()
        watcher.join()
    assert done["status"] == "success", done
    assert plain == []
    assert done["file_name"].endswith(".sql.gz.age") and done["encrypted"] is True
    assert any(0 < n < done["size_bytes"] for n in seen), "never saw the file being written"
    path = backup_dir / done["file_name"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == done["sha256"]

    # the download is the encrypted file; the age CLI opens it with the identity
    resp, payload = client.raw("GET", f"/api/backups/{done['id']}/download")
    assert resp.status == 200 and payload == path.read_bytes()
    (tmp_path / "key.txt").write_text(key_file)
    age = shutil.which("age")
    assert age, "the age CLI is missing: apt-get install age (.ci/run does)"
    opened = subprocess.run(
        [age, "-d", "-i", str(tmp_path / "key.txt")], input=payload, capture_output=True, check=True
    )
    assert b"clear-text-row-150000" in gzip.decompress(opened.stdout)

    # without the identity: verify checks what it can, restore refuses
    status, err = call("POST", f"/api/backups/{done['id']}/verify")
    assert status == 422 and err["error"]["code"] == "key_required", err
    assert "sha256 matches" in err["error"]["message"]
    restore = {"database": dest.database, "confirm": dest.database}
    status, err = call("POST", f"/api/backups/{done['id']}/restore", restore)
    assert status == 422 and err["error"]["fields"] == {"identity": "required"}, err
    other = X25519Identity.generate().encode()
    status, err = call("POST", f"/api/backups/{done['id']}/restore", {**restore, "identity": other})
    assert status == 422 and err["error"]["fields"] == {"identity": "no match"}, err
    bad = secret[:-2] + ("QQ" if not secret.endswith("QQ") else "PP")
    status, err = call("POST", f"/api/backups/{done['id']}/restore", {**restore, "identity": bad})
    assert status == 422 and err["error"]["fields"] == {"identity": "invalid"}, err
    assert query(dest, "SHOW TABLES") == []

    # with it (the whole identity file, as age-keygen writes it)
    status, started = call("POST", f"/api/backups/{done['id']}/verify", {"identity": key_file})
    assert status == 202, started
    assert _wait_verification(client, done["id"])["status"] == "passed"
    status, run = call(
        "POST", f"/api/backups/{done['id']}/restore", {**restore, "identity": secret}
    )
    assert status == 202, run
    finished = client.wait(f"/api/restores/{run['id']}")
    assert finished["status"] == "success", finished
    assert query(dest, "SELECT COUNT(*), MAX(s) FROM t") == [(150_000, "clear-text-row-99999")]

    # the identity never reached a response or a log line
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for text in (secret, bad, other, secret[20:50]):
        assert text not in logged
        assert not any(text in a for a in answers)


def test_a_passphrase_target_keeps_its_passphrase_encrypted_and_never_returns_it(
    live: tuple[Client, App, Path], new_db: Callable[[], ConnParams]
) -> None:
    client, app, _backup_dir = live
    source, dest = new_db(), new_db()
    _fill(source, 500)
    status, err = client(
        "POST", "/api/targets", _target(source, "h_age_short", encryption="passphrase")
    )
    assert status == 422 and err["error"]["fields"] == {
        "age_passphrase": "is required for passphrase encryption"
    }
    body = _target(source, "h_age_pass", encryption="passphrase", age_passphrase=PASSPHRASE)
    status, target = client("POST", "/api/targets", body)
    assert status == 201, target
    assert target["has_age_passphrase"] is True and PASSPHRASE not in repr(target)
    row = app.store.require_target(target["id"])
    assert row.age_passphrase_enc is not None and PASSPHRASE.encode() not in row.age_passphrase_enc
    # a PUT without it keeps it
    body.pop("age_passphrase")
    status, target = client("PUT", f"/api/targets/{target['id']}", {**body, "password": ""})
    assert status == 200 and target["has_age_passphrase"] is True, target

    status, backup = client("POST", f"/api/targets/{target['id']}/backup")
    done = client.wait(f"/api/backups/{backup['id']}")
    assert done["status"] == "success" and done["encrypted"], done
    # the service keeps the passphrase: verify and restore need nothing more
    assert client("POST", f"/api/backups/{done['id']}/verify")[0] == 202
    assert _wait_verification(client, done["id"])["status"] == "passed"
    restore = {"database": dest.database, "confirm": dest.database}
    status, err = client(
        "POST", f"/api/backups/{done['id']}/restore", {**restore, "passphrase": "wrong one"}
    )
    assert status == 422 and err["error"]["code"] == "key_required"
    status, run = client("POST", f"/api/backups/{done['id']}/restore", restore)
    assert status == 202, run
    assert client.wait(f"/api/restores/{run['id']}")["status"] == "success"
    assert query(dest, "SELECT COUNT(*) FROM t") == [(500,)]


def test_a_recipient_target_cannot_verify_after_each_backup(
    live: tuple[Client, App, Path], new_db: Callable[[], ConnParams]
) -> None:
    client, _app, _dir = live
    db = new_db()
    recipient = str(X25519Identity.generate().recipient)
    status, err = client(
        "POST",
        "/api/targets",
        _target(
            db,
            "h_age_va",
            encryption="recipient",
            age_recipient=recipient,
            verify_after_backup=True,
        ),
    )
    assert status == 422 and set(err["error"]["fields"]) == {"verify_after_backup"}
    status, err = client(
        "POST",
        "/api/targets",
        _target(db, "h_age_bad", encryption="recipient", age_recipient="age1x"),
    )
    assert status == 422 and set(err["error"]["fields"]) == {"age_recipient"}
