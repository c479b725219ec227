"""Verified backups: the richer manifest (object counts, per-table digests) on a real server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from dumper.backup.dsn import ConnParams
from dumper.backup.dump import DumpOptions, dump_database
from dumper.backup.verify import verify_file
from tests.fixtures.dbcompare import execute, load_sakila

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sakila(mysql_params: ConnParams) -> Iterator[ConnParams]:
    from tests.conftest import _new_db, admin_exec

    db = _new_db(mysql_params, "dumper_vsakila")
    load_sakila(db)
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


def _scratch_exists(params: ConnParams, name: str) -> bool:
    from tests.fixtures.dbcompare import query

    rows = query(params, f"SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{name}'")
    return bool(rows)


def test_a_test_restore_of_a_good_backup_passes_and_leaves_no_database(
    sakila: ConnParams, tmp_path: Path
) -> None:
    from dumper.backup.compare import scratch_name, verify_by_restore

    dump_database(sakila, tmp_path / "a.sql.gz")
    scratch = scratch_name(sakila.database, 41)
    assert scratch == f"{sakila.database}__verify_41"
    result = verify_by_restore(tmp_path / "a.sql.gz", sakila, scratch)
    assert result.passed, result.notes
    assert not _scratch_exists(sakila, scratch)


def test_a_value_changed_under_valid_gzip_checksums_fails_naming_the_table(
    sakila: ConnParams, tmp_path: Path
) -> None:
    import gzip

    from dumper.backup.compare import verify_by_restore

    dump_database(sakila, tmp_path / "a.sql.gz")
    sql = gzip.decompress((tmp_path / "a.sql.gz").read_bytes())
    assert sql.count(b"'PENELOPE'") >= 1
    (tmp_path / "a.sql.gz").write_bytes(gzip.compress(sql.replace(b"'PENELOPE'", b"'PENELOPA'", 1)))
    verify_file(tmp_path / "a.sql.gz")  # the file itself still looks whole
    result = verify_by_restore(tmp_path / "a.sql.gz", sakila, f"{sakila.database}__verify_9")
    assert not result.passed
    assert "actor" in result.notes[0] and "content" in result.notes[0]
    assert not _scratch_exists(sakila, f"{sakila.database}__verify_9")


def test_a_test_restore_never_touches_an_existing_database(
    scratch_db: ConnParams, tmp_path: Path
) -> None:
    from dumper.backup.compare import verify_by_restore
    from dumper.errors import Conflict

    execute(scratch_db, "CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1)")
    dump_database(scratch_db, tmp_path / "a.sql")
    with pytest.raises(Conflict, match="already exists"):
        verify_by_restore(tmp_path / "a.sql", scratch_db, scratch_db.database)
    assert _scratch_exists(scratch_db, scratch_db.database)


def test_a_missing_privilege_is_named_before_anything_is_restored(
    mysql_params: ConnParams, scratch_db: ConnParams, tmp_path: Path
) -> None:
    from dumper.backup.compare import verify_by_restore
    from dumper.errors import RestoreFailed
    from tests.conftest import admin_exec

    execute(scratch_db, "CREATE TABLE t (id INT PRIMARY KEY)")
    dump_database(scratch_db, tmp_path / "a.sql")
    user = "dumper_noverify"
    admin_exec(
        mysql_params,
        f"DROP USER IF EXISTS '{user}'@'%'",
        f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'",
        f"GRANT SELECT ON `{scratch_db.database}`.* TO '{user}'@'%'",
    )
    try:
        weak = replace(scratch_db, user=user, password="pw")
        with pytest.raises(RestoreFailed, match="CREATE and DROP"):
            verify_by_restore(tmp_path / "a.sql", weak, f"{scratch_db.database}__verify_1")
    finally:
        admin_exec(mysql_params, f"DROP USER IF EXISTS '{user}'@'%'")


def test_cli_verify_restore_into_reports_pass_and_failure(
    scratch_db: ConnParams, tmp_path: Path
) -> None:
    import gzip

    from tests.integration.test_cli_process import dumper, url

    execute(
        scratch_db,
        "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(9))",
        "INSERT INTO t VALUES (1, 'alpha'), (2, 'beta')",
    )
    out = tmp_path / "t.sql.gz"
    dump_database(scratch_db, out)
    ok = dumper("verify", str(out), "--restore-into", url(scratch_db))
    assert ok.returncode == 0, ok.stderr
    assert b"test restore passed" in ok.stdout
    out.write_bytes(gzip.compress(gzip.decompress(out.read_bytes()).replace(b"'beta'", b"'beto'")))
    bad = dumper("verify", str(out), "--restore-into", url(scratch_db))
    assert bad.returncode == 1
    assert b"table t: content differs" in bad.stderr
