"""A whole server as one backup set: every database the user can see (minus the system schemas
and `exclude` patterns), one dump file each in DIR.part, the set's manifest written last, then
DIR.part renamed to DIR, so the folder appears complete or not at all.

The set's manifest (MANIFEST_NAME) is written and read here only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tarfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dumper.backup.agefile import Identity, Recipient
from dumper.backup.dsn import ConnParams, connect
from dumper.backup.dump import DumpOptions, DumpProgress, DumpResult, ProgressFn, dump_database
from dumper.backup.session import close_quietly, server_error_text
from dumper.backup.sink import atomic_file, fsync_dir, make_dir, part_path
from dumper.backup.verify import VerifyResult, verify_file
from dumper.errors import BackupCorrupt, Cancelled, ConnectionFailed, DumperError, DumpFailed

SYSTEM_SCHEMAS = frozenset({"mysql", "information_schema", "performance_schema", "sys"})
MANIFEST_NAME = "dumper-set.json"
SET_VERSION = 1


@dataclass(frozen=True)
class SetEntry:
    """One database of a set and its file (a bare name inside the set's folder)."""

    database: str
    file: str
    size_bytes: int
    sha256: str
    tables: int
    rows: int


@dataclass(frozen=True)
class SetResult:
    path: Path  # the set's folder
    databases: tuple[SetEntry, ...]
    server_version: str
    warnings: tuple[str, ...]  # each one names its database
    sha256: str  # of the set's manifest, which holds each file's sha256

    @property
    def size_bytes(self) -> int:
        return sum(e.size_bytes for e in self.databases)

    @property
    def tables(self) -> int:
        return sum(e.tables for e in self.databases)

    @property
    def rows(self) -> int:
        return sum(e.rows for e in self.databases)


def parse_exclude(text: str | None) -> tuple[str, ...]:
    """`a, test_*` -> ("a", "test_*"): comma-separated patterns, `*` the only wildcard."""
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(piece) for piece in pattern.split("*")), re.DOTALL)


def select_databases(names: Iterable[str], exclude: Sequence[str] = ()) -> list[str]:
    """The names to back up: not a system schema, matched by no pattern; sorted."""
    patterns = [_pattern(p) for p in exclude]
    return sorted(
        n
        for n in names
        if n.lower() not in SYSTEM_SCHEMAS and not any(p.fullmatch(n) for p in patterns)
    )


def list_databases(
    params: ConnParams,
    exclude: Sequence[str] = (),
    connect_fn: Callable[..., Any] = connect,
) -> list[str]:
    """The databases a set of this server takes now (the user sees only what it may use)."""
    import pymysql

    conn = connect_fn(params.with_database(""))
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW DATABASES")
            names = [
                r[0].decode() if isinstance(r[0], bytes) else str(r[0]) for r in cur.fetchall()
            ]
    except pymysql.MySQLError as exc:
        raise ConnectionFailed(f"cannot list the databases: {server_error_text(exc)}") from exc
    finally:
        close_quietly(conn)
    return select_databases(names, exclude)


def file_name(database: str, *, encrypted: bool = False) -> str:
    """The file of a database inside a set: its name, characters unsafe in a file name escaped."""
    stem = quote(database, safe="$")
    if stem.startswith("."):
        stem = "%2E" + stem[1:]
    return stem + (".sql.gz.age" if encrypted else ".sql.gz")


def dump_server(
    params: ConnParams,
    out: Path,
    *,
    exclude: Sequence[str] = (),
    databases: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    options: DumpOptions | None = None,
    mode: int = 0o600,
    dir_mode: int = 0o700,
    strict: bool = False,
    encrypt_to: Sequence[Recipient] = (),
    dump_fn: Callable[..., DumpResult] = dump_database,
) -> SetResult:
    """Dump every database of the server (or `databases`) into the folder `out`.

    Writes OUT.part/, one `{database}.sql.gz` per database, the manifest last, fsyncs and renames
    it to OUT. Any failure removes OUT.part and raises DumpFailed naming the database (Cancelled
    as it is); OUT is never left half made. Progress counts over the whole set. `dump_fn`: what
    dumps one database (dump_database; the service passes its engine's).
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DumpFailed(f"{out} exists and is not an empty folder")
    names = list(databases) if databases is not None else list_databases(params, exclude)
    if not names:
        raise DumpFailed("the user sees no database to back up on this server")
    part = part_path(out)
    shutil.rmtree(part, ignore_errors=True)  # what a dead run left under this name
    tally = _Tally(progress)
    entries: list[SetEntry] = []
    warnings: list[str] = []
    version = ""
    try:
        part.mkdir(mode=dir_mode, parents=False)
        make_dir(part, dir_mode)  # exactly dir_mode, whatever the umask
        for database in names:
            if cancel is not None and cancel.is_set():
                raise Cancelled("dump cancelled")
            name = file_name(database, encrypted=bool(encrypt_to))
            try:
                result = dump_fn(
                    params.with_database(database),
                    part / name,
                    progress=tally.inner(database),
                    cancel=cancel,
                    options=options,
                    mode=mode,
                    strict=strict,
                    encrypt_to=encrypt_to,
                )
            except Cancelled:
                raise
            except DumperError as exc:
                raise DumpFailed(f"database {database}: {exc.message}") from exc
            tally.finished(result.size_bytes, result.rows, result.tables)
            version = result.server_version
            warnings += [f"{database}: {w}" for w in result.warnings]
            entries.append(
                SetEntry(
                    database,
                    name,
                    result.size_bytes,
                    result.sha256,
                    result.tables,
                    result.rows,
                )
            )
        manifest = _manifest_bytes(entries, version)
        with atomic_file(part / MANIFEST_NAME, mode) as fh:
            fh.write(manifest)
        fsync_dir(part)
        os.rename(part, out)  # POSIX: also onto the empty folder a caller made
    except OSError as exc:
        shutil.rmtree(part, ignore_errors=True)
        raise DumpFailed(f"cannot write {out}: {exc.strerror or exc}") from exc
    except BaseException:
        shutil.rmtree(part, ignore_errors=True)
        raise
    fsync_dir(out.parent)
    digest = hashlib.sha256(manifest).hexdigest()
    return SetResult(out, tuple(entries), version, tuple(warnings), digest)


class _Tally:
    """One progress over the whole set: bytes, rows and tables of the finished databases plus
    the running one's, its tables shown as `database.table`."""

    def __init__(self, progress: ProgressFn | None) -> None:
        self.progress = progress
        self.bytes = self.rows = self.tables = 0

    def inner(self, database: str) -> ProgressFn | None:
        if self.progress is None:
            return None
        outer = self.progress

        def report(p: DumpProgress) -> None:
            outer(
                DumpProgress(
                    bytes_written=self.bytes + p.bytes_written,
                    rows=self.rows + p.rows,
                    table=f"{database}.{p.table}" if p.table else database,
                    tables_done=self.tables + p.tables_done,
                    tables_total=self.tables + p.tables_total,
                )
            )

        return report

    def finished(self, size: int, rows: int, tables: int) -> None:
        self.bytes += size
        self.rows += rows
        self.tables += tables


def _manifest_bytes(entries: Sequence[SetEntry], version: str) -> bytes:
    doc = {
        "version": SET_VERSION,
        "server_version": version,
        "databases": [e.__dict__ for e in entries],
    }
    return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()


def is_set(path: Path) -> bool:
    """Whether `path` is a set's folder (it holds the manifest)."""
    return (path / MANIFEST_NAME).is_file()


def read_manifest(path: Path) -> tuple[SetEntry, ...]:
    """The databases of the set in folder `path`; BackupCorrupt when its manifest is unusable."""
    try:
        doc = json.loads((path / MANIFEST_NAME).read_text(encoding="utf-8"))
        if doc.get("version") != SET_VERSION:
            raise ValueError(f"unknown version {doc.get('version')!r}")
        entries = tuple(
            SetEntry(
                str(d["database"]),
                str(d["file"]),
                int(d["size_bytes"]),
                str(d["sha256"]),
                int(d["tables"]),
                int(d["rows"]),
            )
            for d in doc["databases"]
        )
    except FileNotFoundError as exc:
        raise BackupCorrupt(f"{path.name}: the set's manifest is missing") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupCorrupt(f"{path.name}: the set's manifest is unreadable: {exc}") from exc
    for e in entries:
        if Path(e.file).name != e.file or e.file in (".", "..", MANIFEST_NAME):
            raise BackupCorrupt(f"{path.name}: the manifest names a file outside the set")
    return entries


def entry_of(
    entries: Sequence[SetEntry], database: str, *, field: str = "source_database"
) -> SetEntry:
    """The entry of `database`; InvalidInput (on `field`) naming the set's databases when it
    has none."""
    from dumper.errors import InvalidInput

    for e in entries:
        if e.database == database:
            return e
    names = ", ".join(e.database for e in entries)
    raise InvalidInput(
        f"the set holds no database {database!r} (it holds {names})",
        fields={field: f"one of {names}"},
    )


def verify_set(
    path: Path,
    *,
    cancel: threading.Event | None = None,
    identities: Sequence[Identity] | None = None,
) -> dict[str, VerifyResult]:
    """verify_file() of every file of the set, each checked against its size in the manifest;
    BackupCorrupt naming the database whose file is missing, changed or broken."""
    results: dict[str, VerifyResult] = {}
    for e in read_manifest(path):
        file = path / e.file
        with contextlib.suppress(OSError):
            if file.stat().st_size != e.size_bytes:
                raise BackupCorrupt(
                    f"database {e.database}: {e.file} has another size than when it was written"
                )
        try:
            results[e.database] = verify_file(file, cancel=cancel, identities=identities)
        except BackupCorrupt as exc:
            raise BackupCorrupt(f"database {e.database}: {exc.message}") from exc
    return results


TAR_CHUNK = 1 << 20


def tar_stream(path: Path) -> tuple[int, Iterator[bytes]]:
    """The set as one tar (`NAME/` with its files, the manifest first), streamed from the files
    in 1 MiB reads: its exact length, known before the first byte, and the bytes."""
    entries = read_manifest(path)
    names = [MANIFEST_NAME, *(e.file for e in entries)]
    members: list[tuple[Path, bytes, int]] = []
    for name in names:
        file = path / name
        st = file.stat()
        info = tarfile.TarInfo(f"{path.name}/{name}")
        info.size, info.mtime, info.mode = st.st_size, int(st.st_mtime), 0o600
        members.append((file, info.tobuf(tarfile.PAX_FORMAT), st.st_size))
    length = sum(len(h) + size + _pad(size) for _, h, size in members) + 2 * tarfile.BLOCKSIZE

    def chunks() -> Iterator[bytes]:
        for file, header, size in members:
            yield header
            sent = 0
            with file.open("rb") as fh:
                while sent < size:
                    block = fh.read(min(TAR_CHUNK, size - sent))
                    if not block:
                        raise BackupCorrupt(f"{file.name} got shorter while it was being sent")
                    sent += len(block)
                    yield block
            yield b"\0" * _pad(size)
        yield b"\0" * (2 * tarfile.BLOCKSIZE)  # the end of the archive

    return length, chunks()


def _pad(size: int) -> int:
    return -size % tarfile.BLOCKSIZE
