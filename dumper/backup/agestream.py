"""The age payload (C2SP age): ChaCha20-Poly1305 over 64 KiB chunks with the STREAM nonce
(11-byte big-endian counter, then 0x01 on the final chunk), key from HKDF of the file key.

AgeWriter encrypts what a dump writes on its way to NAME.part; AgeReader decrypts a stored file
chunk by chunk for verify, restore and inspect. Memory stays at two chunks either way.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from dumper.backup.agefile import (
    MAGIC,
    Identity,
    Recipient,
    encode_header,
    file_key_of,
    hkdf,
    read_header,
)
from dumper.errors import AgeKeyRequired, BackupCorrupt

CHUNK = 64 << 10  # plaintext bytes per chunk
TAG = 16
SEALED = CHUNK + TAG
NONCE = 16  # the payload nonce that follows the header


class Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class AgeWriter:
    """A write-only stream that encrypts into `raw`, counting and hashing what reaches it."""

    def __init__(self, raw: BinaryIO, recipients: Sequence[Recipient]) -> None:
        if not recipients:
            raise ValueError("age needs at least one recipient")
        self._raw = raw
        self._hash = hashlib.sha256()
        self.bytes_written = 0
        file_key = os.urandom(16)
        self._emit(encode_header([r.wrap(file_key) for r in recipients], file_key))
        nonce = os.urandom(NONCE)
        self._emit(nonce)
        self._aead = ChaCha20Poly1305(hkdf(file_key, nonce, b"payload"))
        self._counter = 0
        self._buf = bytearray()
        self._closed = False

    def _emit(self, data: bytes) -> None:
        self._raw.write(data)
        self._hash.update(data)
        self.bytes_written += len(data)

    def _seal(self, chunk: bytes, last: bool) -> None:
        self._emit(self._aead.encrypt(_nonce(self._counter, last), chunk, None))
        self._counter += 1

    def write(self, data: bytes) -> int:
        if self._closed:
            raise ValueError("write to a closed age stream")
        self._buf += data
        # a chunk is sealed as not-final only once a byte after it is known to exist
        if len(self._buf) > CHUNK:
            whole = (len(self._buf) - 1) // CHUNK * CHUNK
            view = memoryview(self._buf)
            for at in range(0, whole, CHUNK):
                self._seal(bytes(view[at : at + CHUNK]), False)
            view.release()
            del self._buf[:whole]
        return len(data)

    def close(self) -> None:
        """Seal the final chunk (empty only when nothing was written); `raw` stays open."""
        if not self._closed:
            self._seal(bytes(self._buf), True)
            self._buf = bytearray()
            self._closed = True

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


def _read_full(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    while len(data) < n:
        more = f.read(n - len(data))
        if not more:
            break
        data += more
    return data


class AgeReader:
    """The plaintext of an age file, read chunk by chunk; BackupCorrupt on any tampering,
    truncation or trailing data, AgeKeyRequired when no identity given opens it."""

    def __init__(self, raw: BinaryIO, identities: Sequence[Identity]) -> None:
        if not identities:
            raise AgeKeyRequired(
                "this backup is encrypted: its identity or passphrase is needed to read it",
                fields={"identity": "required"},
            )
        self._raw = raw
        header = read_header(raw)
        file_key = file_key_of(header, list(identities))
        nonce = _read_full(raw, NONCE)
        if len(nonce) != NONCE:
            raise BackupCorrupt("the age file is truncated: it ends before its payload")
        self._aead = ChaCha20Poly1305(hkdf(file_key, nonce, b"payload"))
        self._counter = 0
        self._next = _read_full(raw, SEALED)
        self._plain = b""
        self._done = False

    def _advance(self) -> None:
        sealed = self._next
        last = len(sealed) < SEALED
        if not last:
            self._next = _read_full(self._raw, SEALED)
            last = not self._next
        if len(sealed) < TAG:
            raise BackupCorrupt("the age file is truncated: it ends inside a chunk")
        try:
            plain = self._aead.decrypt(_nonce(self._counter, last), sealed, None)
        except InvalidTag:
            if last:
                raise BackupCorrupt(
                    "the age payload is truncated or altered: its last chunk does not "
                    "authenticate as the final one"
                ) from None
            raise BackupCorrupt(
                f"the age payload is altered: chunk {self._counter} does not authenticate"
            ) from None
        if last and not plain and self._counter > 0:
            raise BackupCorrupt("the age payload ends with an empty chunk after data")
        self._counter += 1
        self._plain = plain
        self._done = last

    def read(self, n: int = -1) -> bytes:
        """Up to `n` bytes of plaintext (at most one chunk at a time); b"" at the end."""
        if not self._plain and not self._done:
            self._advance()
        if n < 0 or n >= len(self._plain):
            out, self._plain = self._plain, b""
        else:
            out, self._plain = self._plain[:n], self._plain[n:]
        return out


def is_age(path: Path) -> bool:
    """Whether the file starts like an age file (its name may say otherwise)."""
    with path.open("rb") as f:
        return f.read(len(MAGIC)) == MAGIC


@contextlib.contextmanager
def open_plain(path: Path, identities: Sequence[Identity] | None) -> Iterator[Readable]:
    """The file's bytes, decrypted when it is an age file (needing `identities` then)."""
    with path.open("rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            f.seek(0)
            yield f
            return
        f.seek(0)
        yield AgeReader(f, identities or ())


@dataclass(frozen=True)
class AgeStructure:
    stanza_types: tuple[str, ...]  # "X25519", "scrypt", ...
    chunks: int
    plain_bytes: int  # the size of what it encrypts


def check_structure(path: Path) -> AgeStructure:
    """What can be checked of an age file without its key: the header's syntax and a payload
    whose length is a whole number of chunks with a final one. BackupCorrupt otherwise."""
    with path.open("rb") as f:
        header = read_header(f)
    payload = path.stat().st_size - header.size - NONCE
    if payload < TAG:
        raise BackupCorrupt("the age file is truncated: it ends before its first chunk")
    full, rest = divmod(payload, SEALED)
    if rest == 0:
        full, rest = full - 1, SEALED
    if rest < TAG or (rest == TAG and full > 0):
        raise BackupCorrupt("the age file is truncated: its length ends inside a chunk")
    return AgeStructure(
        tuple(s.args[0].decode("ascii", "replace") for s in header.stanzas),
        full + 1,
        full * CHUNK + rest - TAG,
    )
