"""Round trips: dump a database, load it (mariadb client, restore_file), compare every object."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from dumper.backup.dsn import ConnParams
from dumper.backup.dump import DumpOptions, dump_database
from dumper.backup.restore import restore_file
from dumper.backup.sink import part_path
from dumper.backup.verify import verify_file
from tests.fixtures.dbcompare import (
    FIXTURES,
    assert_same,
    execute,
    is_mariadb,
    load_dump_file,
    load_sakila,
    load_sql,
    query,
    snapshot,
)

pytestmark = pytest.mark.integration

Factory = Callable[[], ConnParams]


@pytest.fixture
def edge_db(scratch_db_factory: Factory) -> ConnParams:
    db = scratch_db_factory()
    load_sql(db, (FIXTURES / "edge_cases.sql").read_bytes())
    if is_mariadb(db):
        load_sql(db, (FIXTURES / "edge_cases_mariadb.sql").read_bytes())
    return db


def _text(path: Path) -> str:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8")  # strict: the file must be valid UTF-8


def _counts(db: ConnParams) -> dict[str, int]:
    names = query(
        db,
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
        " AND TABLE_TYPE = 'BASE TABLE'",
    )
    merge = {
        r[0]
        for r in query(
            db,
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
            " AND ENGINE = 'MRG_MyISAM'",
        )
    }
    out = {}
    for (name,) in names:
        q = "`" + name.replace("`", "``") + "`"
        out[name] = 0 if name in merge else int(query(db, f"SELECT COUNT(*) FROM {q}")[0][0])
    return out


@pytest.mark.parametrize(
    ("filename", "options"),
    [
        ("edge.sql.gz", None),
        ("edge.sql", None),
        # tiny batches: many keyset pages per table, and rows split into INSERT + UPDATE CONCAT
        ("edge-small.sql.gz", DumpOptions(batch_bytes=4096, split_row_bytes=8192)),
    ],
)
def test_edge_cases_round_trip_exactly_through_the_mariadb_client(
    edge_db: ConnParams,
    scratch_db_factory: Factory,
    tmp_path: Path,
    filename: str,
    options: DumpOptions | None,
) -> None:
    out = tmp_path / filename
    result = dump_database(edge_db, out, options=options)
    assert result.path == out and out.exists()
    assert not part_path(tmp_path / filename).exists()
    assert (out.read_bytes()[:2] == b"\x1f\x8b") == filename.endswith(".gz")

    dst = scratch_db_factory()
    load_dump_file(dst, out)
    assert_same(edge_db, dst)

    counts = _counts(edge_db)
    assert result.table_rows == counts
    assert result.rows == sum(counts.values())
    assert result.tables == len(counts)
    assert result.consistent_snapshot


def test_dump_file_has_header_marker_and_manifest_and_no_database_statements(
    edge_db: ConnParams, tmp_path: Path
) -> None:
    out = tmp_path / "edge.sql.gz"
    result = dump_database(edge_db, out)
    text = _text(out)
    lines = text.rstrip("\n").split("\n")
    assert lines[0].startswith("-- dumper ")
    assert f"-- Database: {edge_db.database}" in lines[:6]
    assert "-- Consistent snapshot: yes" in lines[:6]
    assert re.fullmatch(r"-- Dump completed \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", lines[-2])
    assert lines[-1].startswith("-- dumper-manifest ")
    manifest = json.loads(lines[-1].removeprefix("-- dumper-manifest "))
    assert manifest == {
        "version": 2,
        "tables": result.table_rows,
        "rows": result.rows,
        "objects": result.objects,
        "digests": result.table_digests,
    }
    assert not re.search(r"(?im)^\s*(CREATE DATABASE|USE\s)", text)
    if is_mariadb(edge_db):  # its MyISAM tables are read outside the snapshot, and it says so
        assert "-- Not covered by the snapshot (non-transactional): m1, m2" in lines[:7]
    else:
        assert not any(line.startswith("-- Not covered") for line in lines)
    # session settings saved and restored around the whole script
    for var in ("FOREIGN_KEY_CHECKS", "UNIQUE_CHECKS", "SQL_MODE", "TIME_ZONE", "SQL_NOTES"):
        assert f"SET @OLD_{var}=@@{var}" in text and f"SET {var}=@OLD_{var}" in text
    # generated columns are not written, invisible ones are
    assert "INSERT INTO `gen` (`id`,`a`,`hid`,`ts`) VALUES" in text
    # triggers come after the data of the table they are on
    assert text.index("INSERT INTO `gen`") < text.index("DROP TRIGGER IF EXISTS `t_gen_bi`;")
    import hashlib

    assert result.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert result.size_bytes == out.stat().st_size


def test_views_are_written_in_dependency_order(edge_db: ConnParams, tmp_path: Path) -> None:
    out = tmp_path / "edge.sql"
    dump_database(edge_db, out)
    text = _text(out)
    pos = {v: text.index(f"VIEW `{v}` AS") for v in ("z_base", "m_mid", "a_top")}
    assert pos["z_base"] < pos["m_mid"] < pos["a_top"]


@pytest.mark.parametrize(
    ("filename", "options"),
    [
        ("edge.sql.gz", None),
        ("edge.sql", None),
        ("edge-small.sql.gz", DumpOptions(batch_bytes=4096, split_row_bytes=8192)),
    ],
)
def test_edge_cases_round_trip_exactly_through_restore_file(
    edge_db: ConnParams,
    scratch_db_factory: Factory,
    tmp_path: Path,
    filename: str,
    options: DumpOptions | None,
) -> None:
    out = tmp_path / filename
    result = dump_database(edge_db, out, options=options)
    verified = verify_file(out)
    assert verified.producer == "dumper"
    assert verified.table_rows == result.table_rows
    assert verified.compressed == filename.endswith(".gz")
    dst = scratch_db_factory()
    restore_file(out, dst)
    assert_same(edge_db, dst)


def test_restoring_over_a_database_that_holds_the_same_objects_replaces_them(
    edge_db: ConnParams, scratch_db_factory: Factory, tmp_path: Path
) -> None:
    out = tmp_path / "edge.sql.gz"
    dump_database(edge_db, out)
    dst = scratch_db_factory()
    load_dump_file(dst, out)
    load_dump_file(dst, out)
    restore_file(out, dst)
    assert_same(edge_db, dst)


def test_objects_named_with_their_database_are_restored_into_the_target_database(
    scratch_db_factory: Factory, tmp_path: Path
) -> None:
    src = scratch_db_factory()
    db = src.database
    execute(
        src,
        "CREATE TABLE t (a INT)",
        f"CREATE TRIGGER {db}.trg BEFORE INSERT ON {db}.t FOR EACH ROW SET NEW.a = NEW.a + 1",
        f"CREATE TRIGGER `{db}`.`trg2` BEFORE UPDATE ON `{db}`.`t` FOR EACH ROW SET NEW.a = 7",
        f"CREATE VIEW `{db}`.v AS SELECT a FROM `{db}`.t",
        f"CREATE PROCEDURE `{db}`.p() SELECT a FROM t",
    )
    if is_mariadb(src):
        execute(src, "CREATE SEQUENCE s", f"CREATE TABLE n (id INT DEFAULT NEXTVAL(`{db}`.s))")
    out = tmp_path / "q.sql"
    dump_database(src, out)
    dst = scratch_db_factory()
    load_dump_file(dst, out)

    def unnamed(db: ConnParams) -> dict[str, object]:
        def strip(v: object) -> object:
            if isinstance(v, bytes):
                name = db.database.encode()
                return v.replace(b"`" + name + b"`.", b"").replace(name + b".", b"")
            return type(v)(map(strip, v)) if isinstance(v, (tuple, list)) else v

        return {k: strip(v) for k, v in snapshot(db).items()}

    assert unnamed(src) == unnamed(dst)
    execute(dst, "INSERT INTO t VALUES (1)")
    assert query(dst, "SELECT a FROM t") == [(2,)]  # the trigger lives in the target
    assert query(src, "SELECT COUNT(*) FROM t")[0][0] == 0
    assert db.encode() not in out.read_bytes().split(b"\n", 5)[-1]


@pytest.fixture(scope="module")
def sakila_src(mysql_params: ConnParams) -> object:
    from tests.conftest import _new_db, admin_exec

    db = _new_db(mysql_params, "dumper_sakila")
    load_sakila(db)
    yield db
    admin_exec(mysql_params, f"DROP DATABASE IF EXISTS `{db.database}`")


def test_sakila_round_trips_exactly(
    sakila_src: ConnParams, scratch_db_factory: Factory, tmp_path: Path
) -> None:
    out = tmp_path / "sakila.sql.gz"
    result = dump_database(sakila_src, out)
    assert result.table_rows["rental"] == 16044
    assert result.table_rows["payment"] == 16044
    dst = scratch_db_factory()
    load_dump_file(dst, out)
    assert_same(sakila_src, dst)
    again = scratch_db_factory()
    restore_file(out, again)
    assert_same(sakila_src, again)
    snap = snapshot(dst)
    assert sum(k.startswith("view ") for k in snap) == 7
    assert sum(k.startswith("trigger ") and k != "trigger order" for k in snap) == 6
    assert sum(k.startswith(("function ", "procedure ")) for k in snap) == 6


def test_an_empty_database_dumps_to_a_complete_file_that_loads(
    scratch_db_factory: Factory, tmp_path: Path
) -> None:
    src = scratch_db_factory()
    out = tmp_path / "empty.sql.gz"
    result = dump_database(src, out)
    assert (result.tables, result.rows, result.table_rows) == (0, 0, {})
    objects = '{"views": 0, "triggers": 0, "routines": 0, "events": 0, "sequences": 0}'
    assert _text(out).rstrip("\n").split("\n")[-1] == (
        '-- dumper-manifest {"version": 2, "tables": {}, "rows": 0, '
        f'"objects": {objects}, "digests": {{}}}}'
    )
    dst = scratch_db_factory()
    load_dump_file(dst, out)
    restore_file(out, dst)
    assert snapshot(dst) == {"trigger order": []}


def test_a_table_with_a_thousand_columns_round_trips(
    scratch_db_factory: Factory, tmp_path: Path
) -> None:
    src = scratch_db_factory()
    cols = ", ".join(f"c{i} {'INT' if i % 3 else 'VARCHAR(3)'}" for i in range(1000))
    execute(
        src,
        f"CREATE TABLE wide (id INT PRIMARY KEY, {cols}) ROW_FORMAT=DYNAMIC",
        "INSERT INTO wide (id, c0, c1, c999) VALUES (1, 'a', 2, 'z'), (2, NULL, NULL, '')",
    )
    out = tmp_path / "wide.sql.gz"
    dump_database(src, out)
    dst = scratch_db_factory()
    load_dump_file(dst, out)
    assert_same(src, dst)
