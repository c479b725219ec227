"""Questions the layers above ask a database before a job: can we connect and read, how many
base tables are there. The SQL stays in the engine."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dumper.backup.dsn import ConnParams, connect
from dumper.backup.session import server_error_text
from dumper.backup.tls import negotiated
from dumper.backup.values import quote_ident
from dumper.errors import ConnectionFailed

PROBE_READ_TIMEOUT = 10.0  # the probe's queries are quick; connecting takes connect_timeout


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    server_version: str | None
    database_exists: bool | None
    can_read: bool | None
    message: str
    tls_version: str | None = None  # e.g. TLSv1.3; None: not encrypted (or not connected)
    tls_cipher: str | None = None
    # a whole server (probe_server): the databases a backup would take now, in its order
    databases: list[str] | None = None


def _connect(
    params: ConnParams, connect_fn: Callable[..., Any]
) -> tuple[Any, str | None, str | None] | ProbeResult:
    """A connection with the probe's short timeouts and its TLS version and cipher, or the
    failed result."""
    quick = dataclasses.replace(
        params, read_timeout=PROBE_READ_TIMEOUT, write_timeout=PROBE_READ_TIMEOUT
    )
    try:
        conn = connect_fn(quick.with_database(""))
    except ConnectionFailed as exc:
        return ProbeResult(False, None, None, None, exc.message)
    tls_version, tls_cipher = negotiated(conn) or (None, None)
    return conn, tls_version, tls_cipher


def probe(params: ConnParams, connect_fn: Callable[..., Any] = connect) -> ProbeResult:
    """Connect (within params.connect_timeout) and report version, database existence and
    read access."""
    import pymysql

    opened = _connect(params, connect_fn)
    if isinstance(opened, ProbeResult):
        return opened
    conn, tls_version, tls_cipher = opened
    transport = f"{tls_version} ({tls_cipher})" if tls_version else "not encrypted"
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            version = str(cur.fetchone()[0])
            # SCHEMATA lists only databases the user may see: "missing" includes "no access"
            cur.execute(
                "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
                (params.database,),
            )
            if int(cur.fetchone()[0]) == 0:
                return ProbeResult(
                    False,
                    version,
                    False,
                    False,
                    f"database {params.database!r} does not exist or the user cannot see it",
                )
            try:
                cur.execute(f"USE {quote_ident(params.database)}")
                cur.execute("SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")
                tables = [str(row[0]) for row in cur.fetchall()]
                if tables:
                    cur.execute(f"SELECT * FROM {quote_ident(tables[0])} LIMIT 1")
                    cur.fetchall()
            except pymysql.MySQLError as exc:
                return ProbeResult(
                    False,
                    version,
                    True,
                    False,
                    f"cannot read the database: {server_error_text(exc)}",
                )
            return ProbeResult(
                True,
                version,
                True,
                True,
                f"connected; {len(tables)} table(s) readable; {transport}",
                tls_version,
                tls_cipher,
            )
    except pymysql.MySQLError as exc:
        return ProbeResult(False, None, None, None, f"query failed: {server_error_text(exc)}")
    finally:
        # closing a broken connection may fail; nothing is left to do then
        with contextlib.suppress(Exception):
            conn.close()


def count_base_tables(params: ConnParams) -> int:
    """How many base tables the target database has (to catch a dump that found none)."""
    conn = connect(params)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT COUNT(*) FROM information_schema.TABLES"
                " WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE'",
                (params.database,),
            )
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def ensure_database(params: ConnParams, name: str) -> bool:
    """Create database `name` on params' server when missing; True when it was created.

    InvalidInput naming the CREATE privilege when the user may not create it.
    """
    import pymysql

    from dumper.errors import InvalidInput

    conn = connect(params.with_database(""))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,))
            if cur.fetchone() is not None:
                return False
            try:
                cur.execute("CREATE DATABASE " + quote_ident(name))
            except pymysql.err.OperationalError as exc:
                if exc.args[0] not in (1044, 1045, 1227):  # access denied
                    raise ConnectionFailed(server_error_text(exc)) from exc
                raise InvalidInput(
                    f"database {name!r} does not exist and user {params.user!r} may not create"
                    f" it: that needs the CREATE privilege (GRANT CREATE ON `{name}`.* TO"
                    f" {params.user!r}) or an existing database",
                    fields={"database": "missing CREATE privilege to create it"},
                ) from exc
            return True
    finally:
        conn.close()


def probe_server(
    params: ConnParams, exclude: Sequence[str] = (), connect_fn: Callable[..., Any] = connect
) -> ProbeResult:
    """The connection test of a whole server: version, TLS and the databases a backup would
    take (those the user sees, minus system schemas and `exclude`)."""
    import pymysql

    from dumper.backup.serverset import select_databases

    opened = _connect(params, connect_fn)
    if isinstance(opened, ProbeResult):
        return opened
    conn, tls_version, tls_cipher = opened
    transport = f"{tls_version} ({tls_cipher})" if tls_version else "not encrypted"
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            version = str(cur.fetchone()[0])
            cur.execute("SHOW DATABASES")
            names = select_databases([str(r[0]) for r in cur.fetchall()], exclude)
    except pymysql.MySQLError as exc:
        return ProbeResult(False, None, None, None, f"query failed: {server_error_text(exc)}")
    finally:
        with contextlib.suppress(Exception):
            conn.close()
    if not names:
        return ProbeResult(
            False,
            version,
            False,
            False,
            "connected, but the user sees no database to back up",
            tls_version,
            tls_cipher,
            [],
        )
    return ProbeResult(
        True,
        version,
        True,
        True,
        f"connected; {len(names)} database(s) to back up: {', '.join(names)}; {transport}",
        tls_version,
        tls_cipher,
        names,
    )
