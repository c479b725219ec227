"""Streaming dump of one database: consistent snapshot, then the parts in file order.

This module only orchestrates: catalog.py lists the tables, rows.py writes their data (the server
formats every literal, see values.py), objects.py the views, routines, triggers, events and
sequences, fileformat.py the header and footer; the bytes go through gzipio.Sink into sink.py's
atomic file.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from dumper.backup import fileformat, parallel
from dumper.backup.agefile import Recipient
from dumper.backup.agestream import AgeWriter
from dumper.backup.catalog import Table, count_objects, list_objects, outside_snapshot
from dumper.backup.dsn import ConnParams, connect
from dumper.backup.fileformat import section
from dumper.backup.gzipio import DEFAULT_LEVEL, HEX_LEVEL, Sink
from dumper.backup.interrupt import interrupt_on_cancel
from dumper.backup.objects import SchemaObjects, unqualify_sequences
from dumper.backup.parallel import ParallelData
from dumper.backup.rows import TableData
from dumper.backup.session import Session, close_quietly, open_dump_connection, text
from dumper.backup.sink import atomic_file
from dumper.backup.visibility import missing_grants
from dumper.errors import DumpFailed, PrivilegeMissing
from dumper.log import get_logger

log = get_logger("dump")


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
    # what the file may not keep, plainly: objects the user may not see, a table's history
    warnings: tuple[str, ...] = ()
    table_digests: dict[str, str] | None = None  # per table, as written in the manifest
    objects: dict[str, int] | None = None  # views, triggers, ... as counted in the manifest


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
    # connections reading table data at once; > 1 needs RELOAD for a brief global read lock
    # (parallel.py), without it the dump falls back to one and says so
    parallel_connections: int = 1
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
    strict: bool = False,
    encrypt_to: Sequence[Recipient] = (),
) -> DumpResult:
    """Dump `params.database` to `out` (gzip if compress, or by the .gz suffix when None).

    Writes OUT.part (with file mode `mode` from its creation on), fsyncs, renames it to OUT;
    on failure or cancel no file is left behind. `strict`: fail (PrivilegeMissing) before
    writing anything when the user may not see every object, instead of a warning.
    `encrypt_to`: an age file for these recipients; no plaintext byte reaches the disk.
    """
    out = Path(out)
    if compress is None:
        compress = out.name.endswith((".gz", ".gz.age"))
    started = time.monotonic()
    try:
        with atomic_file(out, mode) as fh:
            result = dump_to_stream(
                params,
                fh,
                compress=compress,
                progress=progress,
                cancel=cancel,
                options=options,
                strict=strict,
                encrypt_to=encrypt_to,
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
    strict: bool = False,
    encrypt_to: Sequence[Recipient] = (),
) -> DumpResult:
    """Dump `params.database` into an open binary stream (which stays open)."""
    opts = options or DumpOptions()
    # gzip members -> age chunks -> stream: the sha256 and size are of the bytes as stored
    age = AgeWriter(stream, encrypt_to) if encrypt_to else None
    conn = open_dump_connection(params, connect)
    sink = Sink(
        age or stream,  # type: ignore[arg-type]
        compress=compress,
        level=opts.gzip_level,
        hex_level=opts.gzip_hex_level,
        workers=opts.gzip_workers,
    )
    try:
        dumper = _Dumper(Session(conn, sink, cancel), params, opts, progress, strict)
        with interrupt_on_cancel(params, conn, cancel):
            result = dumper.run()
        sink.close()
        if age is not None:
            age.close()
        dumper.report()  # the final call: every byte is written now
    except OSError as exc:  # the output, e.g. a full disk; connection errors are mapped inside
        sink.abort()
        raise DumpFailed(f"cannot write the dump: {exc.strerror or exc}") from exc
    except BaseException:
        sink.abort()
        raise
    finally:
        close_quietly(conn)
    stored = age or sink
    return replace(result, size_bytes=stored.bytes_written, sha256=stored.sha256)


class _Dumper:
    def __init__(
        self,
        session: Session,
        params: ConnParams,
        opts: DumpOptions,
        progress: ProgressFn | None,
        strict: bool = False,
    ) -> None:
        self.session = session
        self.strict = strict
        self.params = params
        self.database = params.database
        self.parallel: ParallelData | None = None
        self.opts = opts
        self.progress_fn = progress
        self.data = TableData(session, opts.batch_bytes, opts.split_row_bytes, self.report)
        self.tables_done = 0
        self.tables_total = 0
        self.current: str | None = None

    def report(self) -> None:
        if self.progress_fn is not None:
            self.progress_fn(
                DumpProgress(
                    bytes_written=self.session.sink.bytes_written,
                    rows=self.data.rows,
                    table=self.current,
                    tables_done=self.tables_done,
                    tables_total=self.tables_total,
                )
            )

    def run(self) -> DumpResult:
        try:
            return self._run()
        finally:
            if self.parallel is not None:
                self.parallel.close()

    def _start_snapshot(self) -> tuple[str, str | None]:
        """The snapshot note, and why a parallel dump fell back to one connection."""
        session, data, workers = self.session, self.data, self.opts.parallel_connections
        if workers <= 1:
            return session.start_snapshot(data.concat_max), None
        conns, note, fallback = parallel.start_snapshot(
            self.params, session, workers, data.concat_max, connect
        )
        if conns:
            self.parallel = ParallelData(self.params, conns, data, session.cancel, self.report)
        return note, fallback

    def _run(self) -> DumpResult:
        session, guard, data = self.session, self.session.guard, self.data
        session.check_cancel()
        started = self.opts.clock()
        with guard("starting the snapshot"):
            row = session.one("SELECT VERSION(), @@max_allowed_packet")
            assert row is not None
            version = text(row[0])
            mariadb = "mariadb" in version.lower()
            data.fit_packet(int(row[1]))
            snapshot_note, fallback = self._start_snapshot()
        with guard("checking what the backup user may see"):
            missing = missing_grants(session.query, version, self.database)
        if missing and self.strict:
            raise PrivilegeMissing(
                "strict mode: " + "; ".join(m.message for m in missing),
                obj=", ".join(m.kind for m in missing),
                privilege=", ".join(m.grant for m in missing),
            )
        with guard("reading the list of objects"):
            tables, views, sequences = list_objects(session, mariadb)
            counts = count_objects(session)
            if self.parallel is not None:
                self.parallel.plan(session, tables)
                self.parallel.start()
        self.tables_total = len(tables)
        session.write(
            fileformat.header(
                version, self.database, started, snapshot_note, outside_snapshot(tables)
            )
        )
        self.report()
        objects = SchemaObjects(session, self.database, mariadb, version)
        for seq in sequences:
            session.check_cancel()
            with guard(f"dumping sequence {seq}"):
                objects.dump_sequence(seq)
        for table in tables:
            session.check_cancel()
            self.current = table.name
            with guard(f"dumping table {table.name}"):
                self._dump_table(table)
            self.tables_done += 1
            self.report()
        self.current = None
        # routines before views (a view may call a function), triggers after all data
        with guard("dumping routines"):
            objects.dump_routines()
        with guard("dumping views"):
            objects.dump_views(views)
        with guard("dumping triggers"):
            objects.dump_triggers()
        with guard("dumping events"):
            objects.dump_events()
        objects.write_db_collation_reset()
        session.check_cancel()
        with guard("ending the snapshot"):
            session.conn.commit()
        session.write(
            fileformat.footer(
                self.opts.clock(), data.table_rows, data.rows, counts, data.table_digests
            )
        )
        return DumpResult(
            path=None,
            size_bytes=0,
            sha256="",
            tables=len(tables),
            rows=data.rows,
            table_rows=dict(data.table_rows),
            server_version=version,
            consistent_snapshot=snapshot_note == "yes",
            warnings=tuple(m.message for m in missing)
            + tuple(data.warnings)
            + ((fallback,) if fallback else ()),
            table_digests=dict(data.table_digests),
            objects=counts,
        )

    def _dump_table(self, table: Table) -> None:
        row = self.session.one(f"SHOW CREATE TABLE {table.ident}")
        assert row is not None
        create = unqualify_sequences(text(row[1]), self.database)
        self.session.write(
            section("Table structure for table", table.name)
            + f"DROP TABLE IF EXISTS {table.ident};\n"
            + f"{create};\n"
        )
        if self.parallel is not None:
            self.parallel.dump(table)
        else:
            self.data.dump(table)
