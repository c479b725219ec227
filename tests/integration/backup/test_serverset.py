"""A whole server as one backup set, against the real MariaDB: a user that sees four databases of
its own (and the system schemas), one excluded by pattern; the set folder appears whole or not at
all; one failing database fails the set, naming it; the CLI dumps a DSN without database."""

from __future__ import annotations

import io
import json
import os
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dumper.backup.dsn import ConnParams
from dumper.backup.dump import DumpProgress
from dumper.backup.restore import restore_file
from dumper.backup.serverset import (
    MANIFEST_NAME,
    dump_server,
    list_databases,
    read_manifest,
    verify_set,
)
from dumper.cli import main
from dumper.errors import BackupCorrupt, Cancelled, DumpFailed
from tests.fixtures.dbcompare import execute, query
from tests.fixtures.servers import Server, server_with_databases

pytestmark = pytest.mark.integration


@pytest.fixture
def server(mysql_params: ConnParams) -> Iterator[Server]:
    yield from server_with_databases(mysql_params)


def test_a_server_set_holds_three_databases_and_skips_the_excluded_one(
    server: Server, tmp_path: Path, umask: Callable[[int], int]
) -> None:
    umask(0o022)
    p = server.prefix
    assert list_databases(server.user, ["*_skip*"]) == [f"{p}_a", f"{p}_b", f"{p}_c"]
    seen: list[DumpProgress] = []
    out = tmp_path / "server_2026-12-06_05-00-00"
    result = dump_server(server.user, out, exclude=["*_skip*"], progress=seen.append)

    assert [e.database for e in result.databases] == [f"{p}_a", f"{p}_b", f"{p}_c"]
    assert [(e.tables, e.rows) for e in result.databases] == [(1, 3), (1, 4), (1, 5)]
    assert (result.tables, result.rows) == (3, 12)
    assert sorted(x.name for x in out.iterdir()) == [
        MANIFEST_NAME,
        f"{p}_a.sql.gz",
        f"{p}_b.sql.gz",
        f"{p}_c.sql.gz",
    ]
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(x.stat().st_mode) == 0o600 for x in out.iterdir())
    assert not (tmp_path / (out.name + ".part")).exists()
    assert read_manifest(out) == result.databases
    checked = verify_set(out)
    assert {db: sum(v.table_rows.values()) for db, v in checked.items()} == {
        f"{p}_a": 3,
        f"{p}_b": 4,
        f"{p}_c": 5,
    }
    # progress runs over the whole set: rows never go back, the last covers every table
    assert [s.rows for s in seen] == sorted(s.rows for s in seen)
    assert seen[-1].rows == 12 and seen[-1].table and seen[-1].table.startswith(f"{p}_c")

    # one database of the set restores into another name
    other = server.db("restored", 0)
    execute(server.on(other), "DROP TABLE t")
    restore_file(out / f"{p}_b.sql.gz", server.on(other))
    assert query(server.on(other), "SELECT COUNT(*), MAX(v) FROM t") == [(4, "row 3 of b")]


def test_a_new_database_is_in_the_next_set(server: Server, tmp_path: Path) -> None:
    first = dump_server(server.user, tmp_path / "one", exclude=["*skip*"])
    server.db("d", 1)
    second = dump_server(server.user, tmp_path / "two", exclude=["*skip*"])
    assert len(first.databases) == 3
    assert [e.database for e in second.databases][-1] == f"{server.prefix}_d"
    assert (tmp_path / "two" / f"{server.prefix}_d.sql.gz").is_file()


def test_one_failing_database_fails_the_set_naming_it_and_leaves_nothing(
    server: Server, tmp_path: Path
) -> None:
    # a routine the user may run but not read: its dump cannot be whole, so it fails
    execute(
        server.on(f"{server.prefix}_b"),
        "CREATE FUNCTION price() RETURNS INT DETERMINISTIC RETURN 42",
    )
    out = tmp_path / "set"
    with pytest.raises(DumpFailed) as failed:
        dump_server(server.user, out, exclude=["*skip*"])
    assert failed.value.message.startswith(f"database {server.prefix}_b: ")
    assert "routine price" in failed.value.message
    assert list(tmp_path.iterdir()) == []  # neither the set nor its .part, nor a's file


def test_a_cancel_in_the_second_database_leaves_no_folder(server: Server, tmp_path: Path) -> None:
    cancel = threading.Event()

    def progress(p: DumpProgress) -> None:
        if p.table and p.table.startswith(f"{server.prefix}_b"):
            cancel.set()

    with pytest.raises(Cancelled):
        dump_server(server.user, tmp_path / "set", progress=progress, cancel=cancel)
    assert list(tmp_path.iterdir()) == []


def test_a_changed_file_of_a_set_fails_its_verification_naming_the_database(
    server: Server, tmp_path: Path
) -> None:
    out = tmp_path / "set"
    dump_server(server.user, out, exclude=["*skip*"])
    file = out / f"{server.prefix}_c.sql.gz"
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))
    with pytest.raises(BackupCorrupt, match=f"database {server.prefix}_c: "):
        verify_set(out)
    (out / MANIFEST_NAME).write_text(json.dumps({"version": 9}))
    with pytest.raises(BackupCorrupt, match="manifest is unreadable"):
        verify_set(out)


def test_cli_dumps_a_dsn_without_database_into_a_folder(server: Server, tmp_path: Path) -> None:
    u = server.user
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "all"
    code = main(
        [
            "dump",
            f"mysql://{u.user}@{u.host}:{u.port}/",
            "-o",
            str(target),
            "--exclude",
            "*_b,*skip*",
        ],
        env={**os.environ, "MYSQL_PWD": "pw"},
        stdout=out,
        stderr=err,
    )
    assert code == 0, err.getvalue()
    assert sorted(x.name for x in target.iterdir()) == [
        MANIFEST_NAME,
        f"{server.prefix}_a.sql.gz",
        f"{server.prefix}_c.sql.gz",
    ]
    assert "dumped 2 databases, 2 tables, 8 rows to" in out.getvalue()
    # a second run into the same, now full, folder is refused and leaves it as it was
    code = main(
        ["dump", f"mysql://{u.user}@{u.host}:{u.port}/", "-o", str(target)],
        env={**os.environ, "MYSQL_PWD": "pw"},
        stdout=io.StringIO(),
        stderr=(err2 := io.StringIO()),
    )
    assert code == 1 and "is not an empty folder" in err2.getvalue()
    assert len(list(target.iterdir())) == 3
