"""Verified backups: the richer manifest (object counts, per-table digests) on a real server."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dumper.backup.dsn import ConnParams
from dumper.backup.dump import DumpOptions, dump_database
from dumper.backup.verify import verify_file
from tests.fixtures.dbcompare import SAKILA, client_args, execute

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sakila(mysql_params: ConnParams) -> Iterator[ConnParams]:
    from tests.conftest import _new_db, admin_exec

    db = _new_db(mysql_params, "dumper_vsakila")
    client, *opts = client_args(db)[:-1]
    env = {**os.environ, "MARIADB": client, "MARIADB_OPTS": " ".join(opts)}
    subprocess.run([str(SAKILA / "load.sh"), db.database], check=True, capture_output=True, env=env)
    yield db
    admin_exec(mysql_params, f"DROP DATABASE IF EXISTS `{db.database}`")


def test_the_manifest_counts_objects_and_digests_every_table(
    sakila: ConnParams, tmp_path: Path
) -> None:
    result = dump_database(sakila, tmp_path / "a.sql.gz")
    manifest = verify_file(tmp_path / "a.sql.gz").manifest
    assert manifest is not None and manifest.version == 2
    assert manifest.objects == {
        "views": 7,
        "triggers": 6,
        "routines": 6,
        "events": 0,
        "sequences": 0,
    }
    assert manifest.digests is not None
    assert set(manifest.digests) == set(result.table_rows) == set(manifest.table_rows)
    assert all(len(d) == 64 for d in manifest.digests.values())
    assert result.table_digests == manifest.digests


def test_digests_do_not_depend_on_batch_size_but_on_every_value(
    scratch_db: ConnParams, tmp_path: Path
) -> None:
    execute(
        scratch_db,
        "CREATE TABLE k (id INT PRIMARY KEY, v VARCHAR(20))",
        "CREATE TABLE n (v VARCHAR(20))",
        "INSERT INTO k SELECT seq, CONCAT('v', seq) FROM seq_1_to_3000",
        "INSERT INTO n SELECT CONCAT('w', seq) FROM seq_1_to_3000",
    )
    big = dump_database(scratch_db, tmp_path / "big.sql")
    small = dump_database(scratch_db, tmp_path / "small.sql", options=DumpOptions(batch_bytes=4096))
    assert big.table_digests == small.table_digests
    execute(scratch_db, "UPDATE k SET v = 'changed' WHERE id = 1500")
    changed = dump_database(scratch_db, tmp_path / "changed.sql")
    assert changed.table_digests["k"] != big.table_digests["k"]
    assert changed.table_digests["n"] == big.table_digests["n"]
