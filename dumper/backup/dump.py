"""Streaming dump of one database: consistent snapshot, schema objects, byte-bounded data batches.

The server formats every literal (see values.py) and hands back a whole batch as one GROUP_CONCAT
value, paged by key; Python only frames statements and passes bytes to the sink (sink.py).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from dumper.backup import fileformat
from dumper.backup.dsn import ConnParams, connect
from dumper.backup.fileformat import comment
from dumper.backup.gzipio import DEFAULT_LEVEL, HEX_LEVEL, Sink
from dumper.backup.interrupt import interrupt_on_cancel
from dumper.backup.objects import SchemaObjects, unqualify_sequences
from dumper.backup.session import Session, close_quietly, open_dump_connection, text
from dumper.backup.sink import atomic_file
from dumper.backup.values import (
    INTEGER_TYPES,
    KEYSET_TYPES,
    Column,
    chunk_literal_expr,
    empty_literal,
    escape_cr,
    key_literal_expr,
    literal_expr,
    quote_ident,
    quote_string,
    row_expr,
)
from dumper.errors import DumpFailed
from dumper.log import get_logger

log = get_logger("dump")

_NO_DATA_ENGINES = frozenset({"MRG_MYISAM", "MERGE", "FEDERATED", "BLACKHOLE"})
_TRANSACTIONAL_ENGINES = frozenset({"INNODB", "ROCKSDB", "TOKUDB", "NDBCLUSTER", "SEQUENCE"})
_TOO_BIG = b"\x00"  # stands for a row the server could not build (see _marked)
# Rows whose literal is at least this long are fetched one per result row instead of through
# GROUP_CONCAT, which copies every value into a work table first. Measured on MariaDB 10.11:
# 25-35 % less time (and server CPU) at 1-100 KB per row; at 256 B the driver's per-row cost in
# Python makes it a wash, and at 100 B GROUP_CONCAT is clearly faster.
WIDE_ROW_BYTES = 1024
# a query for wide rows brings this many INSERTs' worth (fewer round trips; each INSERT stays
# within batch_bytes)
WIDE_FETCH_BATCHES = 4


@dataclass
class DumpProgress:
    """Passed to the progress callback at least once per batch."""

    bytes_written: int  # bytes of the output file so far (compressed if .gz)
    rows: int  # rows dumped so far, all tables
    table: str | None  # table being dumped now
    tables_done: int
    tables_total: int


@dataclass(frozen=True)
class DumpResult:
    path: Path | None  # the final file (None when dumped to a stream)
    size_bytes: int  # size of the output file
    sha256: str  # hex sha256 of the output file
    tables: int  # base tables dumped
    rows: int  # rows dumped, all tables
    table_rows: dict[str, int]  # per table, as written in the manifest
    server_version: str
    consistent_snapshot: bool


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DumpOptions:
    """Tuning knobs; the defaults are what production uses, tests shrink them."""

    batch_bytes: int = 1 << 20  # target size of one multi-row INSERT
    # a single row whose literal is larger is split: INSERT without the big values, then
    # UPDATE ... CONCAT per chunk (capped at max_allowed_packet / 2 of the source server)
    split_row_bytes: int = 8 << 20
    gzip_level: int = DEFAULT_LEVEL
    gzip_hex_level: int | None = HEX_LEVEL  # for chunks of mostly hex (BLOBs); None: gzip_level
    gzip_workers: int = 2
    clock: Callable[[], datetime] = _utcnow


ProgressFn = Callable[[DumpProgress], None]


def dump_database(
    params: ConnParams,
    out: Path,
    *,
    compress: bool | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    options: DumpOptions | None = None,
    mode: int = 0o600,
) -> DumpResult:
    """Dump `params.database` to `out` (gzip if compress, or by the .gz suffix when None).

    Writes OUT.part (with file mode `mode` from its creation on), fsyncs, renames it to OUT;
    on failure or cancel no file is left behind.
    """
    out = Path(out)
    if compress is None:
        compress = out.name.endswith(".gz")
    started = time.monotonic()
    try:
        with atomic_file(out, mode) as fh:
            result = dump_to_stream(
                params, fh, compress=compress, progress=progress, cancel=cancel, options=options
            )
    except OSError as exc:  # opening, fsync, rename; errors while writing are DumpFailed already
        raise DumpFailed(f"cannot write {out}: {exc.strerror or exc}") from exc
    log.info(
        "dumped %s to %s: %d tables, %d rows, %d bytes in %.1f s",
        params.safe_url(),
        out.name,
        result.tables,
        result.rows,
        result.size_bytes,
        time.monotonic() - started,
    )
    return replace(result, path=out)


def dump_to_stream(
    params: ConnParams,
    stream: BinaryIO,
    *,
    compress: bool,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    options: DumpOptions | None = None,
) -> DumpResult:
    """Dump `params.database` into an open binary stream (which stays open)."""
    opts = options or DumpOptions()
    conn = open_dump_connection(params, connect)
    sink = Sink(
        stream,
        compress=compress,
        level=opts.gzip_level,
        hex_level=opts.gzip_hex_level,
        workers=opts.gzip_workers,
    )
    try:
        dumper = _Dumper(Session(conn, sink, cancel), params.database, opts, progress)
        with interrupt_on_cancel(params, conn, cancel):
            result = dumper.run()
        sink.close()
        dumper.report()  # the final call: every byte is written now
    except OSError as exc:  # the output, e.g. a full disk; connection errors are mapped inside
        sink.abort()
        raise DumpFailed(f"cannot write the dump: {exc.strerror or exc}") from exc
    except BaseException:
        sink.abort()
        raise
    finally:
        close_quietly(conn)
    return replace(result, size_bytes=sink.bytes_written, sha256=sink.sha256)


@dataclass
class _Table:
    name: str
    engine: str
    avg_row_length: int
    columns: list[Column] = field(default_factory=list)
    on_update: set[str] = field(default_factory=set)  # columns with ON UPDATE CURRENT_TIMESTAMP
    key: list[Column] | None = None
    wide: bool = False  # rows fetched one by one, not by GROUP_CONCAT (see WIDE_ROW_BYTES)

    @property
    def ident(self) -> str:
        return quote_ident(self.name)

    @property
    def insert_columns(self) -> list[Column]:
        return [c for c in self.columns if not c.generated]


def _marked(row: str) -> str:
    """The row expression, or a NUL byte where the server could not build it.

    CONCAT yields NULL (and GROUP_CONCAT would skip the row) when a row exceeds
    max_allowed_packet. A raw NUL never occurs in our literals (QUOTE writes it as \\0), and a
    text marker keeps GROUP_CONCAT's work table in memory (a binary one goes to disk).
    """
    return f"IFNULL({row},'\\0')"


def _gt(cols: Sequence[str], vals: Sequence[str]) -> str:
    """(c1, c2, ...) > (v1, v2, ...) spelled so the range optimizer uses the index."""
    if len(cols) == 1:
        return f"{cols[0]} > {vals[0]}"
    return f"({cols[0]} > {vals[0]} OR ({cols[0]} = {vals[0]} AND {_gt(cols[1:], vals[1:])}))"


def _le(cols: Sequence[str], vals: Sequence[str]) -> str:
    if len(cols) == 1:
        return f"{cols[0]} <= {vals[0]}"
    return f"({cols[0]} < {vals[0]} OR ({cols[0]} = {vals[0]} AND {_le(cols[1:], vals[1:])}))"


def keyset_condition(
    cols: Sequence[str], after: Sequence[str] | None, upto: Sequence[str] | None
) -> str:
    """WHERE condition for keys in (after, upto]; either end may be open."""
    conds = []
    if after is not None:
        gt = _gt(cols, after)
        conds.append(gt if len(cols) == 1 else f"{cols[0]} >= {after[0]} AND {gt}")
    if upto is not None:
        le = _le(cols, upto)
        conds.append(le if len(cols) == 1 else f"{cols[0]} <= {upto[0]} AND {le}")
    return " AND ".join(conds) if conds else "1=1"


class _Dumper:
    def __init__(
        self,
        session: Session,
        database: str,
        opts: DumpOptions,
        progress: ProgressFn | None,
    ) -> None:
        self.session = session
        self.conn = session.conn
        self.sink = session.sink
        # bound once: the batch loops call them without another attribute lookup
        self._query = session.query
        self._one = session.one
        self._write = session.write
        self._check_cancel = session.check_cancel
        self._guard = session.guard
        self._unbuffered = session.unbuffered
        self.database = database
        self.opts = opts
        self.progress_fn = progress
        self.rows = 0
        self.table_rows: dict[str, int] = {}
        self.tables_done = 0
        self.tables_total = 0
        self.current: str | None = None
        self.batch_bytes = opts.batch_bytes
        self.split_bytes = opts.split_row_bytes
        self.concat_max = 0
        self.max_packet = 0
        self.mariadb = False

    # -- plumbing --------------------------------------------------------------------------

    def report(self) -> None:
        if self.progress_fn is not None:
            self.progress_fn(
                DumpProgress(
                    bytes_written=self.sink.bytes_written,
                    rows=self.rows,
                    table=self.current,
                    tables_done=self.tables_done,
                    tables_total=self.tables_total,
                )
            )

    # -- the dump ---------------------------------------------------------------------------

    def run(self) -> DumpResult:
        self._check_cancel()
        started = self.opts.clock()
        with self._guard("starting the snapshot"):
            version, snapshot_note = self._start_session()
        with self._guard("reading the list of objects"):
            tables, views, sequences = self._list_tables()
        self.tables_total = len(tables)
        outside = [
            t.name
            for t in tables
            if t.engine not in _TRANSACTIONAL_ENGINES and t.engine not in _NO_DATA_ENGINES
        ]
        self._write_header(version, started, snapshot_note, outside)
        self.report()
        objects = SchemaObjects(self.session, self.database, self.mariadb)
        for seq in sequences:
            self._check_cancel()
            with self._guard(f"dumping sequence {seq}"):
                objects.dump_sequence(seq)
        for table in tables:
            self._check_cancel()
            self.current = table.name
            with self._guard(f"dumping table {table.name}"):
                self._dump_table(table)
            self.tables_done += 1
            self.report()
        self.current = None
        # routines before views (a view may call a function), triggers after all data
        with self._guard("dumping routines"):
            objects.dump_routines()
        with self._guard("dumping views"):
            objects.dump_views(views)
        with self._guard("dumping triggers"):
            objects.dump_triggers()
        with self._guard("dumping events"):
            objects.dump_events()
        objects.write_db_collation_reset()
        self._check_cancel()
        with self._guard("ending the snapshot"):
            self.conn.commit()
        self._write_footer()
        return DumpResult(
            path=None,
            size_bytes=0,
            sha256="",
            tables=len(tables),
            rows=self.rows,
            table_rows=dict(self.table_rows),
            server_version=version,
            consistent_snapshot=snapshot_note == "yes",
        )

    def _start_session(self) -> tuple[str, str]:
        row = self._one("SELECT VERSION(), @@max_allowed_packet")
        assert row is not None
        version = text(row[0])
        self.mariadb = "mariadb" in version.lower()
        max_packet = self.max_packet = int(row[1])
        # a statement we write must fit the packet of a server like this one; leave headroom
        self.batch_bytes = max(4096, min(self.opts.batch_bytes, max_packet // 4))
        self.split_bytes = max(self.batch_bytes, min(self.opts.split_row_bytes, max_packet // 2))
        self.concat_max = max(self.split_bytes, 2 * self.batch_bytes) + 64
        note = self.session.start_snapshot(self.concat_max)
        return version, note

    def _list_tables(self) -> tuple[list[_Table], list[str], list[str]]:
        tables: dict[str, _Table] = {}
        json_checks = self._json_check_columns()
        views: list[str] = []
        sequences: list[str] = []
        for name_b, type_b, engine_b, avg in self._query(
            "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, AVG_ROW_LENGTH FROM information_schema.TABLES"
            " WHERE TABLE_SCHEMA = DATABASE()"
        ):
            name, kind = text(name_b), text(type_b)
            if kind == "VIEW":
                views.append(name)
            elif kind == "SEQUENCE":
                sequences.append(name)
            else:  # BASE TABLE, SYSTEM VERSIONED
                tables[name] = _Table(name, text(engine_b).upper(), int(avg or 0))
        for row in self._query(
            "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_SET_NAME,"
            " COLLATION_NAME, IS_NULLABLE, EXTRA"
            " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
            " ORDER BY TABLE_NAME, ORDINAL_POSITION"
        ):
            table = tables.get(text(row[0]))
            if table is None:
                continue
            extra = text(row[7]).upper()
            data_type = text(row[2]).lower()
            col = Column(
                name=text(row[1]),
                data_type=data_type,
                column_type=text(row[3]),
                charset=text(row[4]) or None,
                collation=text(row[5]) or None,
                nullable=text(row[6]) == "YES",
                generated=bool(
                    re.search(
                        r"\b(VIRTUAL|STORED|PERSISTENT) GENERATED\b|\bROW (START|END)\b", extra
                    )
                ),
                json=data_type == "json" or (text(row[0]), text(row[1])) in json_checks,
            )
            table.columns.append(col)
            if "ON UPDATE" in extra:
                table.on_update.add(col.name)
        self._find_keys(tables)
        ordered = sorted(tables.values(), key=lambda t: t.name.encode())
        return ordered, sorted(views, key=str.encode), sorted(sequences, key=str.encode)

    def _json_check_columns(self) -> set[tuple[str, str]]:
        """MariaDB's JSON is LONGTEXT with CHECK(json_valid(col)): (table, column) of those."""
        if not self.mariadb:
            return set()
        found = set()
        for tname, clause in self._query(
            "SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS"
            " WHERE CONSTRAINT_SCHEMA = DATABASE() AND CHECK_CLAUSE LIKE 'json_valid(%'"
        ):
            m = re.fullmatch(r"json_valid\(`((?:[^`]|``)+)`\)", text(clause))
            if m:
                found.add((text(tname), m.group(1).replace("``", "`")))
        return found

    def _find_keys(self, tables: dict[str, _Table]) -> None:
        indexes: dict[tuple[str, str], list[tuple[str, Any]]] = {}
        unique: set[tuple[str, str]] = set()
        for tname, iname, non_unique, cname, sub_part in self._query(
            "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART"
            " FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()"
            " ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
        ):
            key = (text(tname), text(iname))
            indexes.setdefault(key, []).append((text(cname) if cname else "", sub_part))
            if int(non_unique) == 0:
                unique.add(key)
        for table in tables.values():
            by_name = {c.name: c for c in table.columns}
            candidates = sorted(
                (iname for (tname, iname) in unique if tname == table.name),
                key=lambda n: (n != "PRIMARY", n),
            )
            for iname in candidates:
                parts = indexes[(table.name, iname)]
                cols = [by_name.get(cname) for cname, _ in parts]
                if all(
                    c is not None and not c.nullable and c.data_type in KEYSET_TYPES for c in cols
                ) and all(sub is None for _, sub in parts):
                    table.key = [c for c in cols if c is not None]
                    break

    # -- header, footer ---------------------------------------------------------------------

    def _write_header(
        self, version: str, started: datetime, snapshot: str, outside: list[str]
    ) -> None:
        self._write(fileformat.header(version, self.database, started, snapshot, outside))

    def _write_footer(self) -> None:
        self._write(fileformat.footer(self.opts.clock(), self.table_rows, self.rows))

    # -- tables and data --------------------------------------------------------------------

    def _dump_table(self, table: _Table) -> None:
        row = self._one(f"SHOW CREATE TABLE {table.ident}")
        assert row is not None
        create = unqualify_sequences(text(row[1]), self.database)
        self._write(
            f"\n--\n-- Table structure for table {comment(table.name)}\n--\n\n"
            f"DROP TABLE IF EXISTS {table.ident};\n"
            f"{create};\n"
        )
        self.table_rows[table.name] = 0
        if table.engine in _NO_DATA_ENGINES or not table.insert_columns:
            return
        self._write(f"\n--\n-- Data for table {comment(table.name)}\n--\n\n")
        if table.key is not None:
            if len(table.key) == 1 and table.key[0].data_type in INTEGER_TYPES - {"year"}:
                self._dump_rows_int_ranges(table, table.key[0])
            else:
                self._dump_rows_keyset(table, table.key)
        else:
            self._dump_rows_streaming(table)

    def _insert_prefix(self, table: _Table) -> bytes:
        cols = ",".join(c.ident for c in table.insert_columns)
        return f"INSERT INTO {table.ident} ({cols}) VALUES ".encode()

    def _write_insert(self, prefix: bytes, literals: bytes) -> None:
        # separate writes: the sink joins them into its chunk, one copy of the batch fewer
        self.sink.write(prefix)
        self.sink.write(escape_cr(literals))
        self.sink.write(b";\n")

    def _write_inserts(self, prefix: bytes, parts: list[bytes]) -> None:
        for literals in parts:
            self._write_insert(prefix, literals)

    def _count(self, table: _Table, n: int) -> None:
        self.rows += n
        self.table_rows[table.name] += n

    def _fetch_target(self, table: _Table) -> int:
        """Bytes of literals one range query should bring."""
        return self.batch_bytes * (WIDE_FETCH_BATCHES if table.wide else 1)

    def _fetch_range(
        self, table: _Table, rexpr: str, cond: str
    ) -> tuple[int, list[bytes], int, bool]:
        """Rows in `cond`: (rows, INSERT value lists, their bytes, whether to retry with fewer).

        A retry is asked for when a row could not be built or is too large for one statement
        (it must be split: narrow down to it), or when the range held far more than a batch.
        """
        target = self._fetch_target(table)
        if table.wide:
            count, parts, size, unfit = self._fetch_rows(table, rexpr, cond, 2 * target)
        else:
            res = self._one(
                f"SELECT COUNT(*), GROUP_CONCAT({_marked(rexpr)} SEPARATOR ',')"
                f" FROM {table.ident} WHERE {cond}"
            )
            assert res is not None
            count, data = int(res[0]), res[1] or b""
            parts, size = [data] if data else [], len(data)
            unfit = len(data) >= self.concat_max - 8 or _TOO_BIG in data
        if count and not unfit:
            table.wide = size >= WIDE_ROW_BYTES * count
        return count, parts, size, unfit or (count > 1 and size > 2 * target)

    def _fetch_rows(
        self, table: _Table, rexpr: str, cond: str, cap: int
    ) -> tuple[int, list[bytes], int, bool]:
        """Rows matching `cond` one per result row, grouped into value lists of a batch each.

        Unbuffered, so memory stays bounded by `cap`: past it (or at a row that must be split)
        the rest is counted and dropped, and the caller retries with a narrower range.
        """
        import pymysql

        parts: list[bytes] = []
        group: list[bytes] = []
        count = size = group_size = 0
        unfit = False
        cur = self.conn.cursor(pymysql.cursors.SSCursor)
        with self._unbuffered(cur):
            cur.execute(f"SELECT {_marked(rexpr)} FROM {table.ident} WHERE {cond}")
            while rows := cur.fetchmany(256):
                for (value,) in rows:
                    count += 1
                    size += len(value) + 1
                    if unfit:
                        continue
                    too_big = value == _TOO_BIG or len(value) >= self.concat_max - 8
                    if too_big or (count > 1 and size > cap):
                        unfit, parts, group = True, [], []
                        continue
                    if group and group_size + len(value) > self.batch_bytes:
                        parts.append(b",".join(group))
                        group, group_size = [], 0
                    group.append(value)
                    group_size += len(value) + 1
        if group:
            parts.append(b",".join(group))
        return count, parts, max(size - 1, 0), unfit

    def _dump_rows_int_ranges(self, table: _Table, key: Column) -> None:
        """Integer key: a batch is a range of key values, sized from the rows per value so far.

        Where keys are dense (auto-increment) no query is needed to find where a batch ends.
        Where they are sparse, a guessed range could hold far more rows than a batch after a
        change of density, so the end is looked up (LIMIT 1 OFFSET n-1), as for other keys.
        """
        prefix = self._insert_prefix(table)
        rexpr = row_expr(table.insert_columns)
        k = key.ident
        bounds = self._one(f"SELECT MIN({k}), MAX({k}) FROM {table.ident}")
        if bounds is None or bounds[0] is None:
            return
        lo, hi = int(bounds[0]), int(bounds[1])
        guess = 2 * table.avg_row_length + 32  # hex doubles binary data
        table.wide = guess >= WIDE_ROW_BYTES
        rows = max(1, min(50_000, self._fetch_target(table) // guess))  # rows per batch
        span = rows  # key values per batch; assume dense until seen otherwise
        after = lo - 1
        while after < hi:
            self._check_cancel()
            if span <= 4 * rows:
                upto = min(after + span, hi)
            else:
                found = self._one(
                    f"SELECT {k} FROM {table.ident} WHERE {k} > {after}"
                    f" ORDER BY {k} LIMIT 1 OFFSET {rows - 1}"
                )
                upto = hi if found is None else int(found[0])
            count, parts, size, retry = self._fetch_range(
                table, rexpr, f"{k} > {after} AND {k} <= {upto}"
            )
            target = self._fetch_target(table)
            if retry and count > 1:
                # too much for one batch: aim at `rows` rows with the density just seen
                rows = max(1, min(rows // 2, rows * target // max(size, 1)))
                span = max(1, min(span // 2, (upto - after) * rows // count))
                continue
            if retry:  # one row too large for a statement
                row = self._one(
                    f"SELECT {k} FROM {table.ident} WHERE {k} > {after} AND {k} <= {upto}"
                )
                assert row is not None
                self._dump_split_row(table, [key], [text(row[0])], prefix)
                self._count(table, 1)
            elif count:
                self._write_inserts(prefix, parts)
                self._count(table, count)
                rows = max(1, min(rows * 2, 1_000_000, target * count // max(size, 1)))
                span = max(1, min(span * 2, (upto - after) * rows // count))
            else:
                # a gap: continue right before the next key instead of widening blindly
                nxt = self._one(f"SELECT MIN({k}) FROM {table.ident} WHERE {k} > {upto}")
                upto = hi if nxt is None or nxt[0] is None else int(nxt[0]) - 1
            after = upto
            self.report()

    def _dump_rows_keyset(self, table: _Table, key: list[Column]) -> None:
        prefix = self._insert_prefix(table)
        rexpr = row_expr(table.insert_columns)
        key_idents = [c.ident for c in key]
        key_exprs = ",".join(key_literal_expr(c) for c in key)
        order = ",".join(key_idents)
        guess = 2 * table.avg_row_length + 32  # hex doubles binary data
        table.wide = guess >= WIDE_ROW_BYTES
        n = max(1, min(50_000, self._fetch_target(table) // guess))
        after: list[str] | None = None
        while True:
            self._check_cancel()
            where = "" if after is None else f" WHERE {keyset_condition(key_idents, after, None)}"
            bound_row = self._one(
                f"SELECT {key_exprs} FROM {table.ident}{where}"
                f" ORDER BY {order} LIMIT 1 OFFSET {n - 1}"
            )
            upto = None if bound_row is None else [text(v) for v in bound_row]
            cond = keyset_condition(key_idents, after, upto)
            count, parts, size, retry = self._fetch_range(table, rexpr, cond)
            target = self._fetch_target(table)
            if retry:
                if n > 1:
                    # fewer rows: proportional to what came back, at least halved
                    n = max(1, min(n // 2, n * target // max(size, 1)))
                    continue
                assert upto is not None  # one row that exists: the bound query found it
                self._dump_split_row(table, key, upto, prefix)
                self._count(table, 1)
            elif count:
                self._write_inserts(prefix, parts)
                self._count(table, count)
                n = max(1, min(n * 4, 1_000_000, target * count // max(size, 1)))
            self.report()
            if upto is None:
                return
            after = upto

    def _dump_rows_streaming(self, table: _Table) -> None:
        """Tables without a usable key: one unbuffered SELECT, grouped into batches here."""
        import pymysql

        prefix = self._insert_prefix(table)
        sql = f"SELECT {_marked(row_expr(table.insert_columns))} FROM {table.ident}"
        batch: list[bytes] = []
        size = 0
        cur = self.conn.cursor(pymysql.cursors.SSCursor)
        with self._unbuffered(cur):
            cur.execute(sql)
            while True:
                self._check_cancel()
                rows = cur.fetchmany(1000)
                for (value,) in rows:
                    if value == _TOO_BIG:
                        raise DumpFailed(
                            f"table {table.name} has a row too large to dump "
                            "(larger than max_allowed_packet) and no primary or unique key "
                            "to split it by"
                        )
                    if size and size + len(value) > self.batch_bytes:
                        self._flush_batch(table, prefix, batch)
                        batch, size = [], 0
                        self._check_cancel()
                    batch.append(value)
                    size += len(value) + 1
                if not rows:
                    break
        if batch:
            self._flush_batch(table, prefix, batch)

    def _flush_batch(self, table: _Table, prefix: bytes, batch: list[bytes]) -> None:
        self._write_insert(prefix, b",".join(batch))
        self._count(table, len(batch))
        self.report()

    def _dump_split_row(
        self, table: _Table, key: list[Column], keyvals: list[str], prefix: bytes
    ) -> None:
        """One row too large for a statement: INSERT it without its big values, then append them."""
        cols = table.insert_columns
        where = " AND ".join(f"{c.ident} = {v}" for c, v in zip(key, keyvals, strict=True))
        lengths = self._one(
            f"SELECT {','.join(f'LENGTH({literal_expr(c)})' for c in cols)}"
            f" FROM {table.ident} WHERE {where}"
        )
        assert lengths is not None
        big: list[Column] = []
        exprs: list[str] = []
        insert_size = len(prefix) + 16
        for col, length in zip(cols, lengths, strict=True):
            # NULL: the literal itself exceeded max_allowed_packet
            if col.splittable and (length is None or int(length) > self.batch_bytes):
                big.append(col)
                exprs.append(quote_string(empty_literal(col)))
                continue
            if length is None:
                raise DumpFailed(
                    f"table {table.name}: column {col.name} ({col.data_type}) holds a value "
                    "whose literal exceeds max_allowed_packet, and it cannot be split"
                )
            insert_size += int(length) + 1
            exprs.append(literal_expr(col))
        if insert_size > self.max_packet - 1024:
            raise DumpFailed(
                f"table {table.name}: a row is too large to dump: its values that cannot be "
                f"split need {insert_size} bytes, more than max_allowed_packet"
            )
        joined = ",',',".join(exprs)
        row = self._one(f"SELECT CONCAT('(',{joined},')') FROM {table.ident} WHERE {where}")
        assert row is not None and row[0] is not None
        self.sink.write(prefix + escape_cr(row[0]) + b";\n")
        keep = "".join(
            f", {quote_ident(name)} = {quote_ident(name)}" for name in sorted(table.on_update)
        )
        for col in big:
            size_fn = "CHAR_LENGTH" if col.is_text else "LENGTH"
            total_row = self._one(f"SELECT {size_fn}({col.ident}) FROM {table.ident} WHERE {where}")
            assert total_row is not None
            total = int(total_row[0])
            # characters per chunk such that the literal stays within one batch
            step = max(1, self.batch_bytes // (8 if col.is_text else 2))
            for start in range(1, total + 1, step):
                self._check_cancel()
                expr = chunk_literal_expr(col, start, step)
                chunk = self._one(f"SELECT {expr} FROM {table.ident} WHERE {where}")
                assert chunk is not None
                self._write(f"UPDATE {table.ident} SET {col.ident} = CONCAT({col.ident}, ")
                self.sink.write(escape_cr(chunk[0]))
                self._write(f"){keep} WHERE {where};\n")
