"""Encrypted backups from the command line, as real processes: `dumper keygen --age`, a dump to
a recipient or a passphrase, the age CLI reading it, verify and restore with and without the key."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dumper.backup.dsn import ConnParams
from tests.conftest import _new_db, admin_exec
from tests.integration.test_cli_process import checksum, dumper, fill, sql, url

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


def test_keygen_age_writes_an_identity_file_the_age_cli_takes(tmp_path: Path) -> None:
    made = dumper("keygen", "--age")
    assert made.returncode == 0, made.stderr
    lines = made.stdout.decode().splitlines()
    assert lines[0].startswith("# created: ")
    assert lines[1].startswith("# public key: age1")
    assert lines[2].startswith("AGE-SECRET-KEY-1") and len(lines) == 3
    recipient = lines[1].removeprefix("# public key: ")
    assert made.stderr.decode() == f"Public key: {recipient}\n"
    (tmp_path / "key.txt").write_bytes(made.stdout)
    age = shutil.which("age")
    assert age, "the age CLI is missing: apt-get install age (.ci/run does)"
    blob = subprocess.run(
        [age, "-e", "-r", recipient], input=b"hi", capture_output=True, check=True
    ).stdout
    opened = subprocess.run(
        [age, "-d", "-i", str(tmp_path / "key.txt")], input=blob, capture_output=True, check=True
    )
    assert opened.stdout == b"hi"


def test_dump_to_a_recipient_then_verify_and_restore_with_the_identity(
    new_db: Callable[[], ConnParams], tmp_path: Path
) -> None:
    src, dst = new_db(), new_db()
    fill(src)
    key = tmp_path / "key.txt"
    key.write_bytes(dumper("keygen", "--age").stdout)
    recipient = key.read_text().splitlines()[1].removeprefix("# public key: ")
    out = tmp_path / "s.sql.gz.age"

    done = dumper("dump", url(src), "-o", str(out), "--recipient", recipient)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"age-encryption.org/v1\n")
    age = shutil.which("age")
    assert age
    opened = subprocess.run([age, "-d", "-i", str(key), str(out)], capture_output=True)
    assert b"CREATE TABLE `t`" in gzip.decompress(opened.stdout)

    blind = dumper("verify", str(out))
    assert blind.returncode == 2
    assert b"encrypted with age (X25519), its structure is whole (1 chunks" in blind.stdout
    assert b"needs its identity or passphrase" in blind.stderr
    checked = dumper("verify", str(out), "--identity", str(key))
    assert checked.returncode == 0 and b"OK (dumper, age, gzip" in checked.stdout, checked

    refused = dumper("restore", str(out), url(dst))
    assert refused.returncode == 2 and b"identity or passphrase" in refused.stderr
    assert sql(dst, "SHOW TABLES") == []  # refused before any statement
    restored = dumper("restore", str(out), url(dst), "--identity", str(key))
    assert restored.returncode == 0, restored.stderr
    assert checksum(dst) == checksum(src)


def test_dump_with_a_passphrase_file_restores_with_it(
    new_db: Callable[[], ConnParams], tmp_path: Path
) -> None:
    src, dst = new_db(), new_db()
    fill(src)
    (tmp_path / "pw").write_text("a long passphrase\n")
    (tmp_path / "bad").write_text("another\n")
    out = tmp_path / "s.sql.gz.age"
    done = dumper("dump", url(src), "-o", str(out), "--passphrase-file", str(tmp_path / "pw"))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().split(b"\n")[1].startswith(b"-> scrypt ")
    wrong = dumper("restore", str(out), url(dst), "--passphrase-file", str(tmp_path / "bad"))
    assert wrong.returncode == 2 and b"does not open" in wrong.stderr
    ok = dumper("restore", str(out), url(dst), "--passphrase-file", str(tmp_path / "pw"))
    assert ok.returncode == 0, ok.stderr
    assert checksum(dst) == checksum(src)


def test_an_age_name_without_a_key_and_a_key_without_the_name_are_usage_errors(
    tmp_path: Path,
) -> None:
    no_key = dumper("dump", "mysql://u@127.0.0.1/d", "-o", str(tmp_path / "x.sql.gz.age"))
    assert no_key.returncode == 2 and b"needs --recipient" in no_key.stderr
    recipient = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"
    no_name = dumper(
        "dump", "mysql://u@127.0.0.1/d", "-o", str(tmp_path / "x.sql.gz"), "--recipient", recipient
    )
    assert no_name.returncode == 2 and b".sql.gz.age" in no_name.stderr
    assert list(tmp_path.iterdir()) == []
