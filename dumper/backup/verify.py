"""Whole-file verification of a dump: gzip CRC and length to the last byte, then the completion
marker and manifest (fileformat.py). A restore runs it before its first statement.
"""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from dumper.backup import foreign
from dumper.backup.agefile import Identity
from dumper.backup.agestream import check_structure, is_age, open_plain
from dumper.backup.fileformat import MARKER, Manifest, parse_end, producer_of, read_manifest
from dumper.backup.gzipio import member_start_near
from dumper.errors import AgeKeyRequired, BackupCorrupt, Cancelled

TAIL_KEEP = 1 << 20  # bytes of the end kept to find the completion marker and manifest...
TAIL_MAX = 16 << 20  # ...or more while the last lines are longer, up to this
PARALLEL_VERIFY_MIN = 16 << 20  # gzip files this big are checked in two halves at once
_VERIFY_CANCELLED = "cancelled while the file was being checked"


@dataclass(frozen=True)
class VerifyResult:
    compressed: bool
    size_bytes: int  # file size
    sql_bytes: int  # uncompressed size
    completed_at: str | None  # from the completion marker
    table_rows: dict[str, int]  # from our manifest; {} for other tools' files
    # "dumper" | "mariadb-dump" | "mysqldump" | "phpmyadmin" | "adminer" | "mysqldumper" |
    # "unknown" (no header: mariadb-dump --compact / --skip-comments, hand-made files)
    producer: str
    container: str = "plain"  # "plain" | "gzip" | "bzip2" | "xz" | "zip"
    # what proves it whole: "marker" (its producer's end line), "container" (the checksums of
    # its gzip/bzip2/xz/zip), "unmarked" (neither: restored only when acknowledged)
    whole_by: str = "marker"
    databases: tuple[str, ...] = ()  # named by USE lines (--databases), in file order
    manifest: Manifest | None = None  # ours only: rows, and from version 2 counts and digests
    encrypted: bool = False  # an age file: `container` is what it encrypts


class _Tally:
    """What verify keeps of the SQL it reads: its size, the first bytes and the last lines."""

    def __init__(self) -> None:
        self.sql_bytes = 0
        self.head = b""
        self.tail: collections.deque[tuple[bytes, int]] = collections.deque()
        self._kept = 0
        self._newlines = 0
        self.databases: dict[str, None] = {}
        self._carry = b"\n"

    def add(self, piece: bytes) -> None:
        self.sql_bytes += len(piece)
        scan = self._carry + piece
        at = scan.find(b"\nUSE")
        while at >= 0:
            self.databases.update(dict.fromkeys(foreign.databases_in(scan[at + 1 : at + 600])))
            at = scan.find(b"\nUSE", at + 1)
        self._carry = scan[-600:]
        if len(self.head) < 4096:
            self.head += piece[: 4096 - len(self.head)]
        count = piece.count(b"\n")
        self.tail.append((piece, count))
        self._kept += len(piece)
        self._newlines += count
        # Keep enough of the end to hold its last two whole lines (three newlines).
        while len(self.tail) > 1:
            first, first_count = self.tail[0]
            rest = self._kept - len(first)
            enough = rest >= TAIL_KEEP and self._newlines - first_count >= 3
            if not (enough or rest >= TAIL_MAX):
                break
            self.tail.popleft()
            self._kept -= len(first)
            self._newlines -= first_count

    def tail_bytes(self) -> bytes:
        return b"".join(piece for piece, _ in self.tail)


class _Range:
    """A file read from `start`, ending at `end` as if that were the end of the file."""

    def __init__(self, f: IO[bytes], start: int, end: int) -> None:
        f.seek(start)
        self._f = f
        self._left = end - start

    def read(self, n: int) -> bytes:
        data = self._f.read(min(n, self._left))
        self._left -= len(data)
        return data


def _tally(
    path: Path,
    container: str,
    start: int,
    end: int,
    cancel: threading.Event | None,
    identities: Sequence[Identity] | None = None,
) -> _Tally:
    tally = _Tally()
    opened: contextlib.AbstractContextManager[Any] = path.open("rb")
    if identities:
        if container == "zip":
            raise BackupCorrupt("a zip file inside age encryption is not supported")
        opened = open_plain(path, identities)
    with opened as f:
        reader = _Range(f, start, end) if container != "zip" and not identities else f
        for piece in foreign.open_pieces(reader, container, lambda n: None):  # type: ignore[arg-type]
            if cancel is not None and cancel.is_set():
                raise Cancelled(_VERIFY_CANCELLED)
            tally.add(piece)
    return tally


def _tally_in_halves(path: Path, size: int, cancel: threading.Event | None = None) -> _Tally | None:
    """Inflate the two halves of a multi-member gzip file on two threads (zlib frees the GIL).

    Returns None when the file cannot be cut at a member boundary or a half fails: the caller
    then reads it in one pass, which also gives the authoritative error.
    """
    boundary = member_start_near(path, size // 2)
    if boundary is None:
        return None
    halves: list[_Tally | None] = [None, None]

    def run(index: int, start: int, end: int) -> None:
        with contextlib.suppress(BackupCorrupt, OSError, Cancelled):
            halves[index] = _tally(path, "gzip", start, end, cancel)

    second = threading.Thread(target=run, args=(1, boundary, size), name="verify-half")
    second.start()
    try:
        run(0, 0, boundary)
    finally:
        second.join()
    if cancel is not None and cancel.is_set():
        raise Cancelled(_VERIFY_CANCELLED)
    first, last = halves
    if first is None or last is None:
        return None
    first.sql_bytes += last.sql_bytes
    first.tail.extend(last.tail)
    first.databases.update(last.databases)
    return first


def verify_file(
    path: Path,
    *,
    cancel: threading.Event | None = None,
    identities: Sequence[Identity] | None = None,
) -> VerifyResult:
    """Read the whole file once: container checksums to the end, then what proves it complete.

    Raises BackupCorrupt saying why when the file is truncated, corrupted, incomplete or of a
    format not supported, and Cancelled when `cancel` is set meanwhile. An age file needs
    `identities`: without them its structure is checked, then AgeKeyRequired says the rest
    needs the key.
    """
    path = Path(path)
    try:
        encrypted = not path.is_dir() and is_age(path)
        if encrypted:
            check_structure(path)
            if not identities:
                raise AgeKeyRequired(
                    "the encrypted file's structure is whole; checking its contents needs "
                    "its identity or passphrase",
                    fields={"identity": "required"},
                )
            with open_plain(path, identities) as plain:
                container = foreign.container_of_head(plain.read(8))
        else:
            container = foreign.container_of(path)
        size = path.stat().st_size
        tally = None
        if container == "gzip" and size >= PARALLEL_VERIFY_MIN and not encrypted:
            tally = _tally_in_halves(path, size, cancel)
        if tally is None:
            tally = _tally(path, container, 0, size, cancel, identities if encrypted else None)
    except OSError as exc:
        raise BackupCorrupt(f"cannot read {path}: {exc.strerror or exc}") from exc
    if path.name.endswith((".gz", ".gz.age")) and container != "gzip":
        raise BackupCorrupt(f"{path.name} is not gzip data")
    if tally.sql_bytes == 0:
        raise BackupCorrupt("the file is empty: no SQL at all")
    head = tally.head.removeprefix(foreign.BOM)
    producer = producer_of(head) or foreign.producer_of(head)
    tail = tally.tail_bytes()
    last = tail.rstrip().rsplit(b"\n", 1)[-1].rstrip(b"\r")
    if producer is None and last.startswith(MARKER.encode()):
        producer = "mysqldump"  # its header was cut off or left out, its end line is there
    completed_at: str | None = None
    table_rows: dict[str, int] = {}
    manifest: Manifest | None = None
    whole_by = "marker"
    if producer in ("dumper", "mariadb-dump", "mysqldump"):
        completed_at, table_rows = parse_end(producer, tail)
        manifest = read_manifest(tail) if producer == "dumper" else None
    elif producer in foreign.END_LINES:
        if not last.startswith(foreign.END_LINES[producer]):
            end = foreign.END_LINES[producer].decode()
            raise BackupCorrupt(f"the {producer} file is incomplete: it does not end with '{end}'")
    elif not foreign.ends_on_complete_statement(tail):
        raise BackupCorrupt("the file is incomplete: it ends inside a statement")
    else:
        whole_by = "container" if container in foreign.CHECKSUMMED else "unmarked"
    return VerifyResult(
        compressed=container != "plain",
        size_bytes=size,
        sql_bytes=tally.sql_bytes,
        completed_at=completed_at,
        table_rows=table_rows,
        producer=producer or "unknown",
        container=container,
        whole_by=whole_by,
        databases=tuple(tally.databases),
        manifest=manifest,
        encrypted=encrypted,
    )
