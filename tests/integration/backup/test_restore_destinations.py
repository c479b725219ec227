"""Restores through the app with a destination and options: a new database on the backup's
server, another saved target (a second database standing in for another server), clean or not,
a table selection, and a refused confirmation; the restore history of a target."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from dumper.app import App
from dumper.backup.dsn import ConnParams
from dumper.errors import ConfirmationRequired
from tests.conftest import admin_exec
from tests.integration.backup.test_restore import execute, query, tables_of
from tests.integration.test_app_service import make_app as make_app
from tests.integration.test_app_service import target_data

pytestmark = pytest.mark.integration


def backed_up(app: App, src: ConnParams) -> tuple[int, int]:
    execute(
        src,
        "CREATE TABLE a (id INT PRIMARY KEY)",
        "CREATE TABLE b (id INT PRIMARY KEY)",
        "INSERT INTO a VALUES (1), (2)",
        "INSERT INTO b VALUES (10)",
    )
    t = app.create_target(target_data(src, name="prod"))
    done = app.wait_backup(app.start_backup(t.id).id, timeout=60)
    assert done.status == "success", done.notes
    return t.id, done.id


def test_restore_into_a_new_database_on_the_backups_server(
    make_app: Callable[..., App], scratch_db: ConnParams, mysql_params: ConnParams
) -> None:
    app = make_app()
    app.start()
    target_id, backup_id = backed_up(app, scratch_db)
    name = "dumper_new_" + uuid.uuid4().hex[:8]
    try:
        with pytest.raises(ConfirmationRequired):
            app.start_restore(backup_id, database=name, confirm="prod")  # the target's name
        r = app.wait_restore(app.start_restore(backup_id, database=name, confirm=name).id, 60)
        assert r.status == "success", r.notes
        assert (r.database, r.tables, r.rows, r.target_id) == (name, 2, 3, target_id)
        assert query(scratch_db.with_database(name), "SELECT id FROM a ORDER BY id") == [(1,), (2,)]
        assert [h.id for h in app.list_restores(target_id)] == [r.id]
    finally:
        admin_exec(mysql_params, f"DROP DATABASE IF EXISTS `{name}`")


@pytest.mark.parametrize("clean", [False, True])
def test_restore_into_another_target_clean_or_not(
    make_app: Callable[..., App], scratch_db_factory: Callable[[], ConnParams], clean: bool
) -> None:
    src, dst = scratch_db_factory(), scratch_db_factory()
    app = make_app()
    app.start()
    prod_id, backup_id = backed_up(app, src)
    staging = app.create_target(target_data(dst, name="staging"))
    execute(dst, "CREATE TABLE extra (id INT)")
    with pytest.raises(ConfirmationRequired):
        app.start_restore(backup_id, target_id=staging.id, clean=clean, confirm="prod")
    assert tables_of(dst) == ["extra"]  # nothing ran
    r = app.start_restore(backup_id, target_id=staging.id, clean=clean, confirm="staging")
    r = app.wait_restore(r.id, 60)
    assert r.status == "success", r.notes
    assert (r.target_id, r.clean, r.tables, r.rows) == (staging.id, clean, 2, 3)
    assert tables_of(dst) == (["a", "b"] if clean else ["a", "b", "extra"])
    assert tables_of(src) == ["a", "b"]
    # the history of both: into staging, and of prod's backup
    assert [h.id for h in app.list_restores(staging.id)] == [r.id]
    assert [h.id for h in app.list_restores(prod_id)] == [r.id]


def test_restore_of_selected_tables_leaves_the_rest_untouched(
    make_app: Callable[..., App], scratch_db: ConnParams
) -> None:
    app = make_app()
    app.start()
    _, backup_id = backed_up(app, scratch_db)
    execute(scratch_db, "DELETE FROM a", "DELETE FROM b", "INSERT INTO b VALUES (99)")
    r = app.start_restore(backup_id, tables=["a"], confirm="prod")
    r = app.wait_restore(r.id, 60)
    assert r.status == "success", r.notes
    assert (r.selected_tables, r.tables, r.rows) == (["a"], 1, 2)
    assert query(scratch_db, "SELECT id FROM a ORDER BY id") == [(1,), (2,)]
    assert query(scratch_db, "SELECT id FROM b") == [(99,)]
    contents = app.backup_contents(backup_id)
    assert [(t.name, t.rows) for t in contents.tables] == [("a", 2), ("b", 1)]
