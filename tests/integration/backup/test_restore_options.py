"""Restore options against the real server: a table selection, clean or not, DEFINER rewritten
for a user without SUPER, and the CLI's inspect and flags."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from dumper.backup.restore import RestoreOptions, restore_file
from dumper.errors import RestoreFailed
from tests.integration.backup.test_restore import execute, mariadb_dump, query, tables_of
from tests.integration.backup.test_restore_foreign import FOREIGN
from tests.integration.test_cli_process import dumper, url

pytestmark = pytest.mark.integration


def source(params) -> None:
    execute(
        params,
        "CREATE TABLE a (id INT PRIMARY KEY)",
        "CREATE TABLE b (id INT PRIMARY KEY)",
        "CREATE TABLE log (n INT)",
        "INSERT INTO a VALUES (1), (2)",
        "INSERT INTO b VALUES (10)",
        "CREATE TRIGGER a_ai AFTER INSERT ON a FOR EACH ROW INSERT INTO log VALUES (NEW.id)",
        "CREATE VIEW va AS SELECT id FROM a",
    )


def test_selected_tables_restore_with_their_triggers_and_leave_the_rest(
    scratch_db_factory, tmp_path
):
    src, dst = scratch_db_factory(), scratch_db_factory()
    source(src)
    dump = mariadb_dump(src, tmp_path / "s.sql")
    execute(dst, "CREATE TABLE a (x INT)", "CREATE TABLE b (id INT)", "INSERT INTO b VALUES (99)")
    result = restore_file(dump, dst, options=RestoreOptions(tables=frozenset({"a"})))
    assert query(dst, "SELECT id FROM a ORDER BY id") == [(1,), (2,)]
    assert query(dst, "SELECT id FROM b") == [(99,)]  # untouched
    assert tables_of(dst) == ["a", "b"]  # no log, no view
    assert query(dst, "SHOW TRIGGERS")[0][0] == "a_ai"
    assert result.tables == ("a",) and result.rows == 2


@pytest.mark.parametrize("clean", [False, True])
def test_clean_drops_what_the_backup_does_not_hold(scratch_db_factory, tmp_path, clean):
    src, dst = scratch_db_factory(), scratch_db_factory()
    source(src)
    dump = mariadb_dump(src, tmp_path / "s.sql")
    execute(
        dst,
        "CREATE TABLE extra (id INT)",
        "CREATE VIEW vx AS SELECT 1 AS one",
        "CREATE PROCEDURE px() SELECT 1",
    )
    result = restore_file(dump, dst, options=RestoreOptions(clean=clean))
    routines = query(
        dst, "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA=DATABASE()"
    )
    if clean:
        assert tables_of(dst) == ["a", "b", "log", "va"]
        assert routines == []
        assert any("extra" in n for n in result.notes)
    else:
        assert tables_of(dst) == ["a", "b", "extra", "log", "va", "vx"]
        assert routines == [("px",)]


@pytest.fixture
def limited_user(mysql_params, scratch_db):
    name = "nosuper_" + uuid.uuid4().hex[:8]
    execute(
        mysql_params,
        f"CREATE USER '{name}'@'%' IDENTIFIED BY 'pw'",
        f"GRANT ALL ON `{scratch_db.database}`.* TO '{name}'@'%'",
    )
    try:
        yield dataclasses.replace(scratch_db, user=name, password="pw")
    finally:
        execute(mysql_params, f"DROP USER '{name}'@'%'")


def test_definer_is_rewritten_for_a_user_without_super(scratch_db_factory, tmp_path, limited_user):
    src = scratch_db_factory()
    source(src)
    execute(src, "CREATE DEFINER='root'@'localhost' VIEW vroot AS SELECT 1 AS one")
    dump = mariadb_dump(src, tmp_path / "s.sql")
    with pytest.raises(RestoreFailed, match="1227"):
        restore_file(dump, limited_user, options=RestoreOptions(definer="keep"))
    result = restore_file(dump, limited_user)
    assert any("DEFINER rewritten" in n and "SUPER" in n for n in result.notes)
    definers = query(
        limited_user,
        "SELECT DISTINCT DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA=DATABASE()",
    )
    assert definers == [(f"{limited_user.user}@%",)]


def test_cli_inspect_and_restore_with_flags(scratch_db):
    shown = dumper("inspect", str(FOREIGN / "adminer.sql"))
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout.decode()
    assert "adminer, plain, complete (unmarked)" in out
    assert "table items: 3 rows" in out and "view cheap" in out
    assert "procedure count_items" in out and "trigger items_ai" in out
    refused = dumper("restore", str(FOREIGN / "adminer.sql"), url(scratch_db))
    assert refused.returncode == 1 and b"accept_unmarked" in refused.stderr
    done = dumper(
        "restore",
        str(FOREIGN / "adminer.sql"),
        url(scratch_db),
        "--accept-unmarked",
        "--tables",
        "audit",
    )
    assert done.returncode == 0, done.stderr
    assert b"restored 1 tables, 1 rows" in done.stdout and b"note: " in done.stdout
    assert tables_of(scratch_db) == ["audit"]
