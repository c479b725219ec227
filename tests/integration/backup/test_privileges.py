"""What a backup user may not see: an object the catalog lists but shows without its definition
fails the dump naming it and the grant; grants that make objects visible are checked first
(a warning, or a failure in strict mode). Real restricted users on the real MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from dumper.backup.dsn import ConnParams
from dumper.backup.dump import dump_database
from dumper.backup.visibility import routine_grant
from dumper.errors import PrivilegeMissing
from tests.conftest import admin_exec
from tests.fixtures.dbcompare import execute, query

pytestmark = pytest.mark.integration

USER = "h_priv_dumper"


@pytest.fixture
def routines(scratch_db: ConnParams) -> str:
    """The grant that shows routines on this server (SELECT ON mysql.proc on MariaDB 10.11)."""
    version = str(query(scratch_db, "SELECT VERSION()")[0][0])
    return routine_grant(version, scratch_db.database)


@pytest.fixture
def restricted(mysql_params: ConnParams, scratch_db: ConnParams) -> Iterator[object]:
    """Call with grants (on the scratch database unless they name their own scope) to get the
    ConnParams of a user holding only those; the user is dropped afterwards."""

    def make(*grants: str) -> ConnParams:
        db = f"`{scratch_db.database}`.*"
        admin_exec(
            mysql_params,
            f"DROP USER IF EXISTS '{USER}'@'%'",
            f"CREATE USER '{USER}'@'%' IDENTIFIED BY 'pw'",
            *(f"GRANT {g if ' ON ' in g else g + ' ON ' + db} TO '{USER}'@'%'" for g in grants),
        )
        return replace(scratch_db, user=USER, password="pw")

    yield make
    admin_exec(mysql_params, f"DROP USER IF EXISTS '{USER}'@'%'")


def test_a_routine_shown_without_its_body_fails_the_dump_naming_it_and_the_grant(
    scratch_db: ConnParams, restricted: object, routines: str, tmp_path: Path
) -> None:
    execute(scratch_db, "CREATE TABLE t (id INT PRIMARY KEY)", "CREATE PROCEDURE p() SELECT 1")
    # EXECUTE makes the procedure visible, but not its definition (NULL in SHOW CREATE)
    user = restricted("SELECT, SHOW VIEW, TRIGGER, EVENT, EXECUTE")  # type: ignore[operator]
    out = tmp_path / "a.sql.gz"
    with pytest.raises(PrivilegeMissing) as err:
        dump_database(user, out)
    assert "routine p" in err.value.message
    assert f"GRANT {routines}" in err.value.message
    assert (err.value.obj, err.value.privilege) == ("routine p", routines)
    assert not out.exists() and not list(tmp_path.iterdir())


def test_a_view_without_show_view_fails_the_dump_naming_it_and_the_grant(
    scratch_db: ConnParams, restricted: object, routines: str, tmp_path: Path
) -> None:
    execute(scratch_db, "CREATE TABLE t (id INT PRIMARY KEY)", "CREATE VIEW v AS SELECT id FROM t")
    user = restricted("SELECT, TRIGGER, EVENT", routines)  # type: ignore[operator]
    with pytest.raises(PrivilegeMissing) as err:
        dump_database(user, tmp_path / "a.sql")
    assert err.value.obj == "view v"
    assert err.value.privilege == f"SHOW VIEW ON `{scratch_db.database}`.*"
    assert not list(tmp_path.iterdir())


def test_missing_visibility_grants_are_warnings_naming_each_grant(
    scratch_db: ConnParams, restricted: object, routines: str, tmp_path: Path
) -> None:
    execute(
        scratch_db,
        "CREATE TABLE t (id INT PRIMARY KEY)",
        "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.id = NEW.id",
    )
    user = restricted("SELECT, SHOW VIEW")  # type: ignore[operator]
    result = dump_database(user, tmp_path / "a.sql")
    text = "\n".join(result.warnings)
    db = f"`{scratch_db.database}`.*"
    assert f"GRANT TRIGGER ON {db}" in text
    assert f"GRANT EVENT ON {db}" in text
    assert f"GRANT {routines}" in text
    assert "SHOW VIEW" not in text
    # the trigger the user cannot see is indeed not in the file: the warning is not idle
    assert "BEFORE INSERT" not in (tmp_path / "a.sql").read_text()


def test_strict_mode_fails_before_writing_anything_when_a_grant_is_missing(
    scratch_db: ConnParams, restricted: object, routines: str, tmp_path: Path
) -> None:
    execute(scratch_db, "CREATE TABLE t (id INT PRIMARY KEY)")
    user = restricted("SELECT, SHOW VIEW, TRIGGER, EVENT")  # type: ignore[operator]
    with pytest.raises(PrivilegeMissing) as err:
        dump_database(user, tmp_path / "a.sql", strict=True)
    assert "strict mode" in err.value.message
    assert err.value.privilege == routines
    assert not list(tmp_path.iterdir())


def test_a_user_with_every_grant_dumps_every_object_without_warnings(
    scratch_db: ConnParams, restricted: object, routines: str, tmp_path: Path
) -> None:
    execute(
        scratch_db,
        "CREATE TABLE t (id INT PRIMARY KEY)",
        "CREATE VIEW v AS SELECT id FROM t",
        "CREATE PROCEDURE p() SELECT 1",
        "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.id = NEW.id",
        "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1",
    )
    user = restricted("SELECT, SHOW VIEW, TRIGGER, EVENT", routines)  # type: ignore[operator]
    result = dump_database(user, tmp_path / "a.sql", strict=True)
    assert result.warnings == ()
    assert result.objects == {
        "views": 1,
        "triggers": 1,
        "routines": 1,
        "events": 1,
        "sequences": 0,
    }
    sql = (tmp_path / "a.sql").read_text()
    for create in ("VIEW `v`", "PROCEDURE `p`", "BEFORE INSERT", "EVENT `e`"):
        assert create in sql


def test_root_sees_everything(scratch_db: ConnParams, tmp_path: Path) -> None:
    execute(scratch_db, "CREATE TABLE t (id INT PRIMARY KEY)")
    assert dump_database(scratch_db, tmp_path / "a.sql", strict=True).warnings == ()
