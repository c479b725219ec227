"""Adversarial round trip judged by an oracle that shares nothing with the dumper.

The broad fixture (edge_cases_extra*.sql) is dumped by our engine, restored with restore_file and
with the mariadb client, and compared by the server's own view of the data: HEX of every column
of every row (generated and invisible ones too), row counts, CHECKSUM TABLE EXTENDED, SHOW CREATE
of every object, AUTO_INCREMENT and sequence state. `mariadb-dump --hex-blob` restores are
compared too, as a reference of what the standard tool achieves.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dumper.backup.dsn import ConnParams, connect
from dumper.backup.dump import DumpOptions, dump_database
from dumper.backup.restore import restore_file
from tests.fixtures.dbcompare import (
    FIXTURES,
    client_args,
    execute,
    is_mariadb,
    query,
    snapshot,
)

pytestmark = pytest.mark.integration

Factory = Callable[[], ConnParams]


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _col_expr(name: str, data_type: str) -> str:
    c = _q(name)
    if data_type == "float":
        # HEX() of a number is the hex of its integer part: compare the exact double's text
        inner = f"CONCAT(CAST({c} AS DOUBLE))"
    elif data_type in ("enum", "set"):
        # the index tells the member '' from the error value '' (index 0)
        inner = f"CONCAT({c}, '#', {c} + 0)"
    else:
        inner = f"CONCAT({c})"
    return f"IFNULL(HEX({inner}), 'N')"


def oracle(params: ConnParams) -> dict[str, Any]:
    """The server's own account of every table's rows, plus dbcompare's object snapshot."""
    out: dict[str, Any] = {k: v for k, v in snapshot(params).items() if not k.startswith("table ")}
    conn = connect(params, autocommit=True, use_unicode=False)
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION time_zone = '+00:00'")
            cur.execute(
                "SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES"
                " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE IN"
                " ('BASE TABLE', 'SYSTEM VERSIONED')"
            )
            tables = [(n.decode(), ai) for n, ai in cur.fetchall()]
            for name, auto_inc in tables:
                cur.execute(
                    "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS"
                    " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s"
                    " ORDER BY ORDINAL_POSITION",
                    (name,),
                )
                cols = [(n.decode(), t.decode().lower()) for n, t in cur.fetchall()]
                exprs = ",".join(_col_expr(n, t) for n, t in cols)
                cur.execute(f"SELECT CONCAT_WS('|', {exprs}) AS r FROM {_q(name)} ORDER BY r")
                rows = [r[0] for r in cur.fetchall()]
                cur.execute(f"SHOW CREATE TABLE {_q(name)}")
                create = cur.fetchall()[0][1]
                cur.execute(f"CHECKSUM TABLE {_q(name)} EXTENDED")
                checksum = cur.fetchall()[0][1]
                out[f"table {name}"] = {
                    "create": create,
                    "count": len(rows),
                    "rows": rows,
                    "checksum": checksum,
                    "auto_increment": auto_inc,
                }
    finally:
        conn.close()
    return out


def _normalise(snap: dict[str, Any], database: str) -> dict[str, Any]:
    qualifier = (_q(database) + ".").encode()

    def fix(value: Any) -> Any:
        if isinstance(value, bytes):
            return value.replace(qualifier, b"`DB`.")
        if isinstance(value, (tuple, list)):
            return type(value)(fix(v) for v in value)
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        return value

    return {k: fix(v) for k, v in snap.items()}


def _differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    diffs = [f"missing {k}" for k in sorted(set(a) - set(b))]
    diffs += [f"extra {k}" for k in sorted(set(b) - set(a))]
    for key in sorted(set(a) & set(b)):
        if a[key] != b[key]:
            if isinstance(a[key], dict):
                parts = [p for p in a[key] if a[key][p] != b[key].get(p)]
                diffs.append(f"{key}: {', '.join(parts)}")
            else:
                diffs.append(key)
    return diffs


# Outside our control on MySQL: a definition sent in latin1 whose bytes are not UTF-8 (see
# `source`) is replayed under utf8mb4; MariaDB takes it back through PREPARE (objects._prepared).
KNOWN_LOSSES = ["procedure p_latin1_raw"]
KNOWN_LOSSES_MARIADB: list[str] = []


def _client_load(params: ConnParams, sql: bytes) -> None:
    """Feed `sql` to the mariadb client with --comments.

    Without it the client strips comments from what it sends, so routine, trigger and event
    bodies lose theirs (client behaviour, outside our control; mariadb-dump files too).
    """
    args = client_args(params)
    proc = subprocess.run(
        [args[0], "--comments", *args[1:]], input=sql, capture_output=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")


@pytest.fixture(scope="module")
def source(mysql_params: ConnParams) -> Any:
    from tests.conftest import _new_db, admin_exec

    db = _new_db(mysql_params, "dumper_oracle")
    _client_load(db, (FIXTURES / "edge_cases_extra.sql").read_bytes())
    if is_mariadb(db):
        _client_load(db, (FIXTURES / "edge_cases_extra_mariadb.sql").read_bytes())
    # a definition sent in latin1 whose bytes are not UTF-8: its text survives, but the file is
    # UTF-8: on MariaDB it is sent through PREPARE from hex, on MySQL replayed under utf8mb4
    conn = connect(db, autocommit=True, charset="latin1")
    with conn.cursor() as cur:
        cur.execute("CREATE PROCEDURE p_latin1_raw() SELECT 'é'")
    conn.close()
    try:
        yield db, _normalise(oracle(db), db.database)
    finally:
        admin_exec(mysql_params, f"DROP DATABASE IF EXISTS {_q(db.database)}")


@pytest.mark.parametrize(
    "options",
    [None, DumpOptions(batch_bytes=4096, split_row_bytes=8192)],
    ids=["default", "tiny-batches"],
)
def test_broad_fixture_restores_identically_with_restore_file_and_the_client(
    source: tuple[ConnParams, dict[str, Any]],
    scratch_db_factory: Factory,
    tmp_path: Path,
    options: DumpOptions | None,
) -> None:
    src, expected = source
    out = tmp_path / "oracle.sql.gz"
    dump_database(src, out, options=options)
    by_restore = scratch_db_factory()
    restore_file(out, by_restore)
    by_client = scratch_db_factory()
    _client_load(by_client, gzip.decompress(out.read_bytes()))
    diffs = {
        "restore_file": _differences(expected, _normalise(oracle(by_restore), by_restore.database)),
        "client": _differences(expected, _normalise(oracle(by_client), by_client.database)),
    }
    known = KNOWN_LOSSES_MARIADB if is_mariadb(src) else KNOWN_LOSSES
    assert diffs == {"restore_file": known, "client": known}


# What mariadb-dump itself does not carry over (outside our control, documented by the test):
# the cycle count of a sequence that wrapped (it writes only SETVAL's value), FLOAT and -0.0
# digits, the ENUM error value '' (index 0) and text bytes without a Unicode mapping (cp1251
# 0x98, ...) that its utf8 output turns into '?'; a system-versioned table's row times; and the
# database collation of routines and triggers (it ALTERs the source database by name instead).
MARIADB_DUMP_LOSSES = {
    "table invalid_dates: rows, checksum",  # 2020-02-31 loads as 0000-00-00 (its sql_mode)
    "procedure p_latin1_raw",
    "function f_latin1db",
    "procedure p_cp1251db",
    "trigger trg_latin1db",
    "sequence seq_cyc",
    "table versioned: checksum",
    "table floats: rows, checksum",
    "table k_double: rows, checksum",
    "table enums: rows, checksum",
    "table cs: rows, checksum",
}


@pytest.mark.skipif(shutil.which("mariadb-dump") is None, reason="mariadb-dump not installed")
def test_mariadb_dump_reference_loses_nothing_we_keep(
    source: tuple[ConnParams, dict[str, Any]], scratch_db_factory: Factory
) -> None:
    src, expected = source
    args = client_args(src)
    dump_cmd = [
        shutil.which("mariadb-dump") or "mariadb-dump",
        *args[1:-2],
        "--hex-blob",
        "--single-transaction",
        "--routines",
        # not --events: mariadb-dump 10.11 spins forever on this fixture's events (its
        # delimiter search for a body holding ;; and $$); our dump writes them, see above
        "--triggers",
        src.database,
    ]
    dumped = subprocess.run(dump_cmd, capture_output=True, timeout=60, check=True).stdout
    ref = scratch_db_factory()
    # mariadb-dump keeps CHECK constraints on while loading: its file fails on ck_broken's rows
    _client_load(ref, b"/*M!100201 SET check_constraint_checks = 0 */;\n" + dumped)
    diffs = _differences(
        {k: v for k, v in expected.items() if not k.startswith("event ")},
        _normalise(oracle(ref), ref.database),
    )
    assert set(diffs) == (MARIADB_DUMP_LOSSES if is_mariadb(src) else set())


def test_objects_keep_their_database_collation_in_a_target_with_another_default(
    source: tuple[ConnParams, dict[str, Any]], scratch_db_factory: Factory, tmp_path: Path
) -> None:
    src, expected = source
    out = tmp_path / "oracle.sql"
    dump_database(src, out)
    dst = scratch_db_factory()
    execute(dst, "ALTER DATABASE CHARACTER SET koi8r COLLATE koi8r_bin")
    restore_file(out, dst)
    diffs = _differences(expected, _normalise(oracle(dst), dst.database))
    assert diffs == (KNOWN_LOSSES_MARIADB if is_mariadb(src) else KNOWN_LOSSES)
    if is_mariadb(src):  # and the target's own default is put back afterwards
        assert query(dst, "SELECT @@collation_database")[0][0] == "koi8r_bin"
