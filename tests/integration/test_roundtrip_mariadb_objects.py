"""Round trips of the MariaDB objects a dump once got wrong: Oracle-mode packages, system-versioned
tables with their history, and definitions made under a multi-byte client character set."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dumper.backup.dsn import ConnParams
from dumper.backup.dump import dump_database
from dumper.backup.restore import restore_file
from tests.fixtures.dbcompare import FIXTURES, assert_same, is_mariadb, load_dump_file, load_sql

pytestmark = pytest.mark.integration

Factory = Callable[[], ConnParams]


def _mariadb_db(factory: Factory, *fixtures: str) -> ConnParams:
    db = factory()
    if not is_mariadb(db):
        pytest.skip("MariaDB objects")
    for name in fixtures:
        load_sql(db, (FIXTURES / name).read_bytes())
    return db


def _round_trip(src: ConnParams, factory: Factory, out: Path, loader: str) -> ConnParams:
    dump_database(src, out)
    dst = factory()
    if loader == "client":
        load_dump_file(dst, out)
    elif loader == "restore_file":
        restore_file(out, dst)
    else:  # twice: over the objects the first load made
        load_dump_file(dst, out)
        load_dump_file(dst, out)
    return dst


@pytest.mark.parametrize("loader", ["client", "restore_file", "twice"])
def test_oracle_mode_packages_round_trip_exactly(
    scratch_db_factory: Factory, tmp_path: Path, loader: str
) -> None:
    src = _mariadb_db(scratch_db_factory, "packages_mariadb.sql")
    dst = _round_trip(src, scratch_db_factory, tmp_path / "pkg.sql.gz", loader)
    assert_same(src, dst)
