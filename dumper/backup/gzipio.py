"""gzip for dump files: members compressed in worker threads on the way out, and a strict
multi-member reader on the way in.

Each chunk a dump writes becomes an independent gzip member (members written one after another
form one valid .gz stream), so zlib, which releases the GIL, keeps several cores busy while the
dump reads on.
"""

from __future__ import annotations

import hashlib
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from dumper.errors import BackupCorrupt


def _load_isal() -> Any:
    """ISA-L's zlib (about 9x zlib's speed at a smaller size, the same gzip format), or None
    where it has no wheel (32-bit ARM): then the standard library's zlib."""
    try:
        from isal import isal_zlib
    except ImportError:
        return None
    return isal_zlib


fast_zlib: Any = _load_isal()  # tests set it to None to run the fallback

READ_SIZE = 1 << 18  # bytes read from the file at a time
PIECE_SIZE = 1 << 17  # most decompressed bytes produced (and split) at a time
GZIP_MAGIC = b"\x1f\x8b"
DEFAULT_CHUNK = 1 << 20
# Measured on 1M mixed rows (2 cores, the server formatting on one of them): zlib level 4 makes
# files ~3 % larger than gzip -6 at 2.2x its speed (level 5: same size as -6, 1.6x); that margin
# keeps the whole dump near 0.55x the time of `mariadb-dump | gzip -6`. Chunks that are nearly
# all hex digits (BLOB data) compress by Huffman coding alone: level 1 loses ~2 % there and is
# 2.5x faster than level 4.
# With ISA-L (gzip_member) both become its level 1, measured on the bench data (32 MB of SQL,
# 1 MB chunks): 250 MB/s and 0.985x the size of gzip -6 of the whole file (hex chunks 0.94x,
# text 1.06x); its level 0 made hex chunks 1.6x larger for no gain in speed.
DEFAULT_LEVEL = 4
HEX_LEVEL = 1
_HEX_DIGITS = b"0123456789ABCDEF"
_HEX_SHARE = 0.85


def gzip_member(data: bytes, level: int = DEFAULT_LEVEL) -> bytes:
    """`data` as one complete gzip member (header, deflate stream, CRC and length).

    `level` is zlib's (0-9); with ISA-L, 1-4 become its level 1, 5-7 its 2 and 8-9 its 3.
    ISA-L's level 0 is never used: on the hex of BLOBs its files came out 1.6x larger.
    """
    comp: Any
    if fast_zlib is not None and level > 0:
        isal_level = (0, 1, 1, 1, 1, 2, 2, 2, 3, 3)[level]
        comp = fast_zlib.compressobj(isal_level, fast_zlib.DEFLATED, 31)
    else:
        comp = zlib.compressobj(level, zlib.DEFLATED, 31)
    return bytes(comp.compress(data) + comp.flush())


def compress_chunk(data: bytes, level: int = DEFAULT_LEVEL, hex_level: int = HEX_LEVEL) -> bytes:
    """A gzip member of `data` at `level`, or at `hex_level` when `data` is mostly hex digits."""
    if hex_level != level and data:
        hex_share = 1 - len(data.translate(None, _HEX_DIGITS)) / len(data)
        if hex_share > _HEX_SHARE:
            level = hex_level
    return gzip_member(data, level)


class Sink:
    """A write-only byte sink that counts and hashes what reaches `raw`.

    Writes are buffered into chunks of about `chunk_size`; with `compress`, up to `workers`
    chunks are compressed at once and written in order. Memory stays bounded by
    `chunk_size * (workers + 3)`: one chunk filling, `workers + 1` in flight, one written.
    """

    def __init__(
        self,
        raw: BinaryIO,
        *,
        compress: bool,
        level: int = DEFAULT_LEVEL,
        hex_level: int | None = HEX_LEVEL,
        chunk_size: int = DEFAULT_CHUNK,
        workers: int = 2,
    ) -> None:
        self._raw = raw
        self._compress = compress
        self._level = level
        self._hex_level = level if hex_level is None else hex_level
        self._chunk_size = chunk_size
        self._buf: list[bytes] = []
        self._buffered = 0
        self._hash = hashlib.sha256()
        self.bytes_written = 0  # bytes that reached `raw`
        self.bytes_in = 0  # uncompressed bytes accepted
        self._max_pending = max(1, workers) + 1
        self._pending: deque[Future[bytes]] = deque()
        self._pool = (
            ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="dumper-gzip")
            if compress
            else None
        )
        self._closed = False

    def write(self, data: bytes) -> None:
        if self._closed:
            raise ValueError("write to a closed sink")
        if not data:
            return
        self._buf.append(data)
        self._buffered += len(data)
        self.bytes_in += len(data)
        if self._buffered >= self._chunk_size:
            self._flush_buffer()

    def _flush_buffer(self) -> None:
        if not self._buf:
            return
        chunk = self._buf[0] if len(self._buf) == 1 else b"".join(self._buf)
        self._buf = []
        self._buffered = 0
        if self._pool is None:
            self._emit(chunk)
            return
        self._pending.append(self._pool.submit(compress_chunk, chunk, self._level, self._hex_level))
        # block only when too much is in flight; write whatever is already done (in order)
        while self._pending and (len(self._pending) > self._max_pending or self._pending[0].done()):
            self._emit(self._pending.popleft().result())

    def _emit(self, data: bytes) -> None:
        self._raw.write(data)
        self._hash.update(data)
        self.bytes_written += len(data)

    def close(self) -> None:
        """Write everything still buffered or being compressed; `raw` stays open."""
        if self._closed:
            return
        try:
            self._flush_buffer()
            if self._compress and self.bytes_in == 0:
                self._emit(gzip_member(b"", self._level))  # an empty .gz is still a valid one
            while self._pending:
                self._emit(self._pending.popleft().result())
        finally:
            self._shutdown()

    def abort(self) -> None:
        """Drop whatever is pending; used when the dump failed."""
        for fut in self._pending:
            fut.cancel()
        self._pending.clear()
        self._buf = []
        self._shutdown()

    def _shutdown(self) -> None:
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


# -- reading ----------------------------------------------------------------------------


def is_gzip(path: Path) -> bool:
    """Whether the file starts with the gzip magic (its name may say otherwise)."""
    with path.open("rb") as f:
        return f.read(2) == GZIP_MAGIC


class _Reader(Protocol):
    def read(self, n: int, /) -> bytes: ...


def _gunzip(f: _Reader, on_read: Callable[[int], None]) -> Iterator[bytes]:
    """Decompress a (multi-member) gzip stream in bounded pieces, checking CRC and length."""
    # Zero bytes after the last complete member are padding (tape blocks, dd; gzip accepts
    # them too): they end the stream. Our own files still need their marker (verify.py).
    # Not gzip.GzipFile: 100 MB of our members read in 1.2-1.4 s here, 1.3-1.7 s there.
    inflate = fast_zlib or zlib  # ISA-L inflates about twice as fast
    d = inflate.decompressobj(wbits=31)
    pending = b""
    more_output = False
    while True:
        if d.eof:
            if not pending:
                pending = f.read(READ_SIZE)
                if not pending:
                    return  # ended exactly after a complete member
                on_read(len(pending))
            if pending[:1] == b"\x00":
                _expect_zeros(f, pending, on_read)
                return
            d = inflate.decompressobj(wbits=31)  # the next member of the same stream
        elif not pending and not more_output:
            pending = f.read(READ_SIZE)
            if not pending:
                raise BackupCorrupt("gzip data is truncated: the file ends inside compressed data")
            on_read(len(pending))
        try:
            out = d.decompress(pending, PIECE_SIZE)
        except (zlib.error, inflate.error) as exc:
            raise BackupCorrupt(f"gzip data is corrupt: {exc}") from exc
        more_output = len(out) >= PIECE_SIZE
        pending = d.unused_data if d.eof else d.unconsumed_tail
        if out:
            yield out


def _expect_zeros(f: _Reader, pending: bytes, on_read: Callable[[int], None]) -> None:
    while pending:
        if pending.strip(b"\x00"):
            raise BackupCorrupt("gzip data is corrupt: garbage after zero padding")
        pending = f.read(READ_SIZE)
        on_read(len(pending))


def _plain(f: _Reader, on_read: Callable[[int], None]) -> Iterator[bytes]:
    while chunk := f.read(PIECE_SIZE):
        on_read(len(chunk))
        yield chunk


def sql_pieces(f: _Reader, compressed: bool, on_read: Callable[[int], None]) -> Iterator[bytes]:
    """The SQL of a dump file in pieces of at most PIECE_SIZE; `on_read` gets the bytes read."""
    return _gunzip(f, on_read) if compressed else _plain(f, on_read)


def member_start_near(path: Path, offset: int) -> int | None:
    """An offset past `offset` where a gzip member seems to start (magic, flags, it inflates).

    Only a guess: both halves are then checked in full, and a wrong guess shows as an error.
    """
    with path.open("rb") as f:
        f.seek(offset)
        window = f.read(4 << 20)
    at = 0
    while (at := window.find(b"\x1f\x8b\x08", at)) >= 0:
        if len(window) - at > 18 and window[at + 3] & 0xE0 == 0:
            try:
                zlib.decompressobj(wbits=31).decompress(window[at : at + (64 << 10)], 4096)
                return offset + at
            except zlib.error:
                pass
        at += 1
    return None
