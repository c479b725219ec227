"""A test restore: load a backup into a scratch database on its server, read it back through
rows.py into a hashing sink, and compare object counts, rows and digests with the manifest."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from dumper.backup import dsn
from dumper.backup.agefile import Identity
from dumper.backup.catalog import count_objects, list_objects
from dumper.backup.fileformat import Manifest
from dumper.backup.gzipio import Sink
from dumper.backup.restore import RestoreProgress, restore_file
from dumper.backup.rows import TableData
from dumper.backup.session import (
    Session,
    close_quietly,
    open_dump_connection,
    server_error_text,
)
from dumper.backup.values import quote_ident
from dumper.backup.verify import verify_file
from dumper.errors import BackupCorrupt, Conflict, DumpFailed, RestoreFailed

SCRATCH_MARK = "__verify_"
_ACCESS_DENIED = frozenset({1044, 1045, 1142, 1227})


@dataclass(frozen=True)
class CompareResult:
    passed: bool
    notes: tuple[str, ...]  # on a failure the first names the table and what differed


def scratch_name(database: str, backup_id: int) -> str:
    """The scratch database of a verification: `<db>__verify_<id>`, within 64 characters."""
    suffix = f"{SCRATCH_MARK}{backup_id}"
    return database[: 64 - len(suffix)] + suffix


class _Discard:
    """Stands in for the gzip sink: the read-back only needs TableData's digests."""

    bytes_written = 0

    def write(self, data: bytes) -> None:
        pass


def _admin(params: dsn.ConnParams, connect: Callable[..., Any]) -> Any:
    return connect(params.with_database(""), autocommit=True)


def create_scratch(params: dsn.ConnParams, scratch: str, connect: Callable[..., Any]) -> None:
    """Create the scratch database, refusing an existing one; a missing privilege named."""
    import pymysql

    conn = _admin(params, connect)
    try:
        with conn.cursor() as cur:
            sql = "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s"
            cur.execute(sql, (scratch,))
            if cur.fetchone():
                raise Conflict(f"database {scratch} already exists; a verification never uses it")
            try:
                cur.execute(f"CREATE DATABASE {quote_ident(scratch)} CHARACTER SET utf8mb4")
                probe = f"{quote_ident(scratch)}.`_dumper_probe`"
                cur.execute(f"CREATE TABLE {probe} (i INT)")
                cur.execute(f"DROP TABLE {probe}")
            except pymysql.MySQLError as exc:
                with contextlib.suppress(pymysql.MySQLError):
                    cur.execute(f"DROP DATABASE IF EXISTS {quote_ident(scratch)}")
                if exc.args and exc.args[0] in _ACCESS_DENIED:
                    raise RestoreFailed(
                        f"a test restore needs the CREATE and DROP privileges on database "
                        f"{scratch} for user {params.user}: {server_error_text(exc)}"
                    ) from exc
                raise RestoreFailed(f"cannot create {scratch}: {server_error_text(exc)}") from exc
    finally:
        close_quietly(conn)


def drop_scratch(params: dsn.ConnParams, scratch: str, connect: Callable[..., Any]) -> None:
    """Drop a verification's scratch database (only ever a name from scratch_name)."""
    if SCRATCH_MARK not in scratch:
        raise ValueError(f"{scratch} is not a verification's scratch database")
    # after a cancel too: the cancel that ended the test restore must not stop the clean-up
    conn = _admin(dataclasses.replace(params, cancel=None), connect)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {quote_ident(scratch)}")
    finally:
        close_quietly(conn)


@dataclass(frozen=True)
class _ReadBack:
    objects: dict[str, int]
    table_rows: dict[str, int]
    digests: dict[str, str]


def read_back(
    params: dsn.ConnParams, cancel: threading.Event | None, connect: Callable[..., Any]
) -> _ReadBack:
    """Counts, rows and digests of a database, by the same path a dump takes (nothing written)."""
    conn = open_dump_connection(params, connect)
    try:
        session = Session(conn, cast(Sink, _Discard()), cancel)
        data = TableData(session, 1 << 20, 8 << 20, lambda: None)
        with session.guard("reading the restored database back"):
            row = session.one("SELECT VERSION(), @@max_allowed_packet")
            assert row is not None
            data.fit_packet(int(row[1]))
            session.start_snapshot(data.concat_max)
            tables, _views, _sequences = list_objects(session, b"mariadb" in row[0].lower())
            objects = count_objects(session)
            for table in tables:
                session.check_cancel()
                data.dump(table)
        return _ReadBack(objects, dict(data.table_rows), dict(data.table_digests))
    finally:
        close_quietly(conn)


def compare(manifest: Manifest, found: _ReadBack) -> list[str]:
    """What differs between the manifest and the restored database, first difference first."""
    diffs: list[str] = []
    for table, rows in manifest.table_rows.items():
        if table not in found.table_rows:
            diffs.append(f"table {table}: missing after the restore")
        elif found.table_rows[table] != rows:
            diffs.append(f"table {table}: {found.table_rows[table]} rows, the manifest says {rows}")
        elif manifest.digests is not None and found.digests.get(table) != manifest.digests[table]:
            diffs.append(f"table {table}: content differs from the manifest's digest")
    diffs += [
        f"table {t}: not in the manifest" for t in found.table_rows if t not in manifest.table_rows
    ]
    for kind, count in (manifest.objects or {}).items():
        if found.objects.get(kind) != count:
            diffs.append(f"{kind}: {found.objects.get(kind)}, the manifest says {count}")
    return diffs


def verify_by_restore(
    path: Path,
    params: dsn.ConnParams,
    scratch: str,
    *,
    cancel: threading.Event | None = None,
    connect: Callable[..., Any] = dsn.connect,
    identities: Sequence[Identity] | None = None,
    progress: Callable[[RestoreProgress], None] | None = None,
) -> CompareResult:
    """Restore `path` into `scratch` on the server of `params`, compare, drop `scratch`.

    `progress` follows the test restore (the read-back after it is short).

    Raises Conflict (scratch exists), RestoreFailed (privileges), ConnectionFailed, Cancelled;
    a backup that does not restore or read back as its manifest says is a failed result.
    """
    try:
        manifest = verify_file(path, cancel=cancel, identities=identities).manifest
    except BackupCorrupt as exc:
        return CompareResult(False, (f"the file is damaged: {exc}",))
    if manifest is None:
        return CompareResult(False, ("the file has no dumper manifest to compare with",))
    create_scratch(params, scratch, connect)
    target = params.with_database(scratch)
    try:
        try:
            restore_file(
                path,
                target,
                cancel=cancel,
                connect=connect,
                identities=identities,
                progress=progress,
            )
            found = read_back(target, cancel, connect)
        except (RestoreFailed, DumpFailed, BackupCorrupt) as exc:
            return CompareResult(False, (f"the test restore failed: {exc}",))
    finally:
        drop_scratch(params, scratch, connect)
    diffs = compare(manifest, found)
    if diffs:
        return CompareResult(False, tuple(diffs))
    notes = [
        f"{len(manifest.table_rows)} tables, {sum(manifest.table_rows.values())} rows restored "
        "and read back as the manifest says"
    ]
    if manifest.digests is None:
        notes.append("a version 1 manifest: rows counted, contents not compared")
    return CompareResult(True, tuple(notes))
