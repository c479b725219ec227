"""Encrypted backups on a real server: a dump encrypted to an age recipient never leaves plaintext
on disk, the age CLI reads it, and verify/restore/test restore need its identity."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dumper.backup.agefile import Passphrase, X25519Identity, keygen_text
from dumper.backup.compare import scratch_name, verify_by_restore
from dumper.backup.dsn import ConnParams
from dumper.backup.dump import DumpOptions, DumpProgress, dump_database
from dumper.backup.inspect import inspect_file
from dumper.backup.restore import restore_file
from dumper.backup.sink import part_path
from dumper.backup.verify import verify_file
from dumper.errors import AgeKeyRequired
from tests.conftest import _new_db, admin_exec
from tests.fixtures.dbcompare import execute, query, snapshot

pytestmark = pytest.mark.integration


@pytest.fixture
def new_db(mysql_params: ConnParams) -> Iterator[Callable[[], ConnParams]]:
    made: list[ConnParams] = []

    def make() -> ConnParams:
        made.append(_new_db(mysql_params, "h_age"))
        return made[-1]

    yield make
    for db in made:
        admin_exec(mysql_params, f"DROP DATABASE IF EXISTS `{db.database}`")


def _fill(db: ConnParams, rows: int) -> None:
    execute(
        db,
        "CREATE TABLE t (id INT PRIMARY KEY, secret VARCHAR(64), note TEXT)",
        "INSERT INTO t SELECT seq, CONCAT('plaintext-marker-', seq), REPEAT(MD5(seq), 8) "
        f"FROM seq_1_to_{rows}",
        "CREATE VIEW v AS SELECT id FROM t",
    )


def test_an_encrypted_dump_leaves_no_plaintext_on_disk_while_it_runs(
    new_db: Callable[[], ConnParams], tmp_path: Path
) -> None:
    db = new_db()
    _fill(db, 60_000)
    identity = X25519Identity.generate()
    out = tmp_path / "b.sql.gz.age"
    seen: list[int] = []

    def look(p: DumpProgress) -> None:
        # every file in the folder, as it is while the dump writes: only age bytes
        for f in tmp_path.iterdir():
            data = f.read_bytes()
            assert f == part_path(out), f"unexpected file {f.name}"
            assert not data or data.startswith(b"age-encryption.org/v1\n-> X25519 ")
            assert b"plaintext-marker" not in data and b"INSERT INTO" not in data
            assert b"\x1f\x8b\x08" not in data[:200]  # no gzip member where the header is
            seen.append(len(data))

    result = dump_database(
        db,
        out,
        progress=look,
        encrypt_to=[identity.recipient],
        options=DumpOptions(batch_bytes=64 << 10),
    )
    assert len(seen) > 5 and max(seen) > 256 << 10, seen  # looked while it was being written
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
    assert result.size_bytes == out.stat().st_size
    assert result.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert b"plaintext-marker" not in out.read_bytes()


def test_the_age_cli_and_zcat_read_an_encrypted_backup(
    new_db: Callable[[], ConnParams], tmp_path: Path
) -> None:
    db = new_db()
    _fill(db, 100)
    identity = X25519Identity.generate()
    key = tmp_path / "key.txt"
    key.write_text(keygen_text(identity, datetime.now(UTC)))
    out = tmp_path / "b.sql.gz.age"
    dump_database(db, out, encrypt_to=[identity.recipient])
    age = shutil.which("age")
    assert age, "the age CLI is missing: apt-get install age (.ci/run does)"
    decrypted = subprocess.run(
        [age, "-d", "-i", str(key), str(out)], capture_output=True, check=True
    ).stdout
    sql = gzip.decompress(decrypted)
    assert b"plaintext-marker-100" in sql
    assert sql.rstrip().rsplit(b"\n", 1)[-1].startswith(b"-- dumper-manifest ")


def test_verify_and_restore_need_the_identity(
    new_db: Callable[[], ConnParams], tmp_path: Path
) -> None:
    source, dest = new_db(), new_db()
    _fill(source, 3000)
    identity = X25519Identity.generate()
    out = tmp_path / "b.sql.gz.age"
    dump_database(source, out, encrypt_to=[identity.recipient])

    with pytest.raises(AgeKeyRequired, match="structure is whole"):
        verify_file(out)
    with pytest.raises(AgeKeyRequired):
        verify_file(out, identities=[X25519Identity.generate()])
    with pytest.raises(AgeKeyRequired):
        restore_file(out, dest)
    assert query(dest, "SHOW TABLES") == []  # refused before any statement

    info = verify_file(out, identities=[identity])
    assert info.encrypted and info.container == "gzip" and info.producer == "dumper"
    assert info.table_rows == {"t": 3000}
    restored = restore_file(out, dest, identities=[identity])
    assert restored.rows == 3000
    assert snapshot(dest) == snapshot(source)
    assert inspect_file(out, [identity]).complete

    scratch = scratch_name(source.database, 1)
    result = verify_by_restore(out, source, scratch, identities=[identity])
    assert result.passed, result.notes


def test_a_passphrase_encrypted_dump_restores_with_the_passphrase(
    new_db: Callable[[], ConnParams], tmp_path: Path
) -> None:
    source, dest = new_db(), new_db()
    _fill(source, 50)
    out = tmp_path / "b.sql.gz.age"
    dump_database(source, out, encrypt_to=[Passphrase(b"long passphrase", 10)])
    with pytest.raises(AgeKeyRequired):
        restore_file(out, dest, identities=[Passphrase(b"other")])
    restore_file(out, dest, identities=[Passphrase(b"long passphrase")])
    assert snapshot(dest) == snapshot(source)
