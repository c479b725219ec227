"""The age file format (C2SP age, age-encryption.org/v1): keys, recipient stanzas, the header.

X25519 recipients (`age1...`, identities `AGE-SECRET-KEY-1...`) and scrypt passphrases, over
`cryptography`; the payload stream is agestream.py. Files interoperate with the `age` CLI.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from dumper.errors import AgeKeyRequired, BackupCorrupt, InvalidInput

MAGIC = b"age-encryption.org/"
VERSION_LINE = b"age-encryption.org/v1\n"
SCRYPT_WORK_FACTOR = 18  # log2 N, as the age CLI: about 1 s and 256 MiB, once per file
MAX_WORK_FACTOR = 20  # refused above when reading: 1 GiB of memory for one header
MAX_HEADER = 64 << 10  # a header larger than this is not one we could have written
_X25519_INFO = b"age-encryption.org/v1/X25519"
_SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
_ZERO_NONCE = bytes(12)
_B64 = re.compile(rb"[A-Za-z0-9+/]*")
_WORK_FACTOR = re.compile(rb"[1-9][0-9]*")

# -- bech32 (BIP 173), the encoding of age1... and AGE-SECRET-KEY-1... ------------------------

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= _GEN[i] if (top >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert(data: bytes | list[int], frm: int, to: int, pad: bool) -> list[int] | None:
    acc = bits = 0
    out: list[int] = []
    for v in data:
        acc = (acc << frm) | v
        bits += frm
        while bits >= to:
            bits -= to
            out.append((acc >> bits) & ((1 << to) - 1))
    if pad and bits:
        out.append((acc << (to - bits)) & ((1 << to) - 1))
    elif not pad and (bits >= frm or (acc << (to - bits)) & ((1 << to) - 1)):
        return None
    return out


def bech32_encode(hrp: str, data: bytes) -> str:
    """`data` as bech32 with human-readable part `hrp` (lower case)."""
    words = _convert(data, 8, 5, True) or []
    check = _polymod(_hrp_expand(hrp) + words + [0] * 6) ^ 1
    words += [(check >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[w] for w in words)


def bech32_decode(text: str) -> tuple[str, bytes] | None:
    """(hrp in lower case, data), or None when `text` is not valid bech32."""
    if text.lower() != text and text.upper() != text:
        return None  # mixed case is invalid
    text = text.lower()
    at = text.rfind("1")
    if at < 1 or len(text) - at < 7 or any(c not in _CHARSET for c in text[at + 1 :]):
        return None
    hrp = text[:at]
    if any(not 33 <= ord(c) <= 126 for c in hrp):
        return None
    words = [_CHARSET.index(c) for c in text[at + 1 :]]
    if _polymod(_hrp_expand(hrp) + words) != 1:
        return None
    data = _convert(words[:-6], 5, 8, False)
    return None if data is None else (hrp, bytes(data))


# -- primitives -----------------------------------------------------------------------------


def hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    """HKDF-SHA-256 with 32 bytes of output, as the spec uses it everywhere."""
    return HKDF(hashes.SHA256(), 32, salt or None, info).derive(ikm)


def b64encode(data: bytes) -> bytes:
    """Standard base64 without padding."""
    return base64.b64encode(data).rstrip(b"=")


def b64decode(text: bytes) -> bytes | None:
    """Canonical unpadded base64, or None (padding, other characters, non-canonical bits)."""
    if not _B64.fullmatch(text) or len(text) % 4 == 1:
        return None
    data = base64.b64decode(text + b"=" * (-len(text) % 4))
    return data if b64encode(data) == text else None


def _seal(key: bytes, file_key: bytes) -> bytes:
    return ChaCha20Poly1305(key).encrypt(_ZERO_NONCE, file_key, None)


def _open(key: bytes, body: bytes) -> bytes | None:
    try:
        return ChaCha20Poly1305(key).decrypt(_ZERO_NONCE, body, None)
    except InvalidTag:
        return None


# -- recipients and identities --------------------------------------------------------------


@dataclass(frozen=True)
class Stanza:
    args: tuple[bytes, ...]
    body: bytes


@dataclass(frozen=True)
class X25519Recipient:
    """A public key: encrypts to it; reading needs its identity."""

    public: bytes

    @classmethod
    def parse(cls, text: str) -> X25519Recipient:
        decoded = bech32_decode(text.strip())
        if decoded is None or decoded[0] != "age" or len(decoded[1]) != 32 or text != text.lower():
            raise InvalidInput(
                "not an age recipient (age1...)", fields={"age_recipient": "invalid"}
            )
        return cls(decoded[1])

    def __str__(self) -> str:
        return bech32_encode("age", self.public)

    def wrap(self, file_key: bytes) -> Stanza:
        ephemeral = X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes_raw()
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(self.public))
        key = hkdf(shared, share + self.public, _X25519_INFO)
        return Stanza((b"X25519", b64encode(share)), _seal(key, file_key))


@dataclass(frozen=True, repr=False)
class X25519Identity:
    """A private key (`AGE-SECRET-KEY-1...`); its repr never shows it."""

    secret: bytes = field(repr=False)

    @classmethod
    def generate(cls) -> X25519Identity:
        return cls(os.urandom(32))

    @classmethod
    def parse(cls, text: str) -> X25519Identity:
        decoded = bech32_decode(text.strip())
        if decoded is None or decoded[0] != "age-secret-key-" or len(decoded[1]) != 32:
            # never the text itself in the message: it may be a key with a typo
            raise InvalidInput("not an age identity", fields={"identity": "invalid"})
        return cls(decoded[1])

    def encode(self) -> str:
        return bech32_encode("age-secret-key-", self.secret).upper()

    @property
    def recipient(self) -> X25519Recipient:
        private = X25519PrivateKey.from_private_bytes(self.secret)
        return X25519Recipient(private.public_key().public_bytes_raw())

    def __repr__(self) -> str:
        return "X25519Identity(<secret>)"

    def unwrap(self, stanzas: list[Stanza]) -> bytes | None:
        for s in stanzas:
            if s.args[0] != b"X25519":
                continue
            share = b64decode(s.args[1]) if len(s.args) == 2 else None
            if share is None or len(share) != 32 or len(s.body) != 32:
                raise BackupCorrupt("the age header has a malformed X25519 stanza")
            try:
                private = X25519PrivateKey.from_private_bytes(self.secret)
                shared = private.exchange(X25519PublicKey.from_public_bytes(share))
            except ValueError:  # a low-order point: the shared secret is all zeros
                raise BackupCorrupt("the age header has an invalid X25519 share") from None
            if shared == bytes(32):
                raise BackupCorrupt("the age header has an invalid X25519 share")
            file_key = _open(hkdf(shared, share + self.recipient.public, _X25519_INFO), s.body)
            if file_key is not None:
                return file_key
        return None


@dataclass(frozen=True, repr=False)
class Passphrase:
    """An scrypt passphrase: both the recipient and the identity."""

    secret: bytes = field(repr=False)
    work_factor: int = SCRYPT_WORK_FACTOR

    def __repr__(self) -> str:
        return "Passphrase(<secret>)"

    def _key(self, salt: bytes, work_factor: int) -> bytes:
        kdf = Scrypt(salt=_SCRYPT_LABEL + salt, length=32, n=1 << work_factor, r=8, p=1)
        return kdf.derive(self.secret)

    def wrap(self, file_key: bytes) -> Stanza:
        salt = os.urandom(16)
        body = _seal(self._key(salt, self.work_factor), file_key)
        return Stanza((b"scrypt", b64encode(salt), str(self.work_factor).encode()), body)

    def unwrap(self, stanzas: list[Stanza]) -> bytes | None:
        ours = [s for s in stanzas if s.args[0] == b"scrypt"]
        if not ours:
            return None
        if len(stanzas) != 1:
            raise BackupCorrupt("an age scrypt stanza must be the only one in the header")
        s = ours[0]
        salt = b64decode(s.args[1]) if len(s.args) == 3 else None
        if salt is None or len(salt) != 16 or not _WORK_FACTOR.fullmatch(s.args[2]):
            raise BackupCorrupt("the age header has a malformed scrypt stanza")
        if len(s.body) != 32:
            raise BackupCorrupt("the age header has a malformed scrypt stanza")
        work_factor = int(s.args[2])
        if work_factor > MAX_WORK_FACTOR:
            raise BackupCorrupt(
                f"the scrypt work factor {work_factor} is above the {MAX_WORK_FACTOR} accepted"
            )
        return _open(self._key(salt, work_factor), s.body)


Recipient = X25519Recipient | Passphrase
Identity = X25519Identity | Passphrase


def parse_identities(text: str) -> list[X25519Identity]:
    """The identities of an identity file as age-keygen writes it (comments and blanks skipped)."""
    found = [
        X25519Identity.parse(line)
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not found:
        raise InvalidInput(
            "no age identity (AGE-SECRET-KEY-1...) found", fields={"identity": "invalid"}
        )
    return found


def keygen_text(identity: X25519Identity, now: datetime) -> str:
    """An identity file in the format age-keygen writes."""
    return (
        f"# created: {now.isoformat(timespec='seconds')}\n"
        f"# public key: {identity.recipient}\n{identity.encode()}\n"
    )


# -- the header -----------------------------------------------------------------------------


def _mac(file_key: bytes, header: bytes) -> bytes:
    return hmac.new(hkdf(file_key, b"", b"header"), header, hashlib.sha256).digest()


def encode_header(stanzas: list[Stanza], file_key: bytes) -> bytes:
    """Version line, stanzas, and the MAC line keyed by `file_key`."""
    out = [VERSION_LINE]
    for s in stanzas:
        body = b64encode(s.body)
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        if not lines or len(lines[-1]) == 64:
            lines.append(b"")  # the body ends with a line shorter than 64 columns
        out.append(b"-> " + b" ".join(s.args) + b"\n" + b"".join(x + b"\n" for x in lines))
    header = b"".join(out) + b"---"
    return header + b" " + b64encode(_mac(file_key, header)) + b"\n"


@dataclass(frozen=True)
class Header:
    stanzas: list[Stanza]
    mac: bytes
    signed: bytes  # the bytes the MAC covers: up to and including "---"
    size: int  # bytes of the whole header, the MAC line included


def _line(f: BinaryIO, read: int) -> bytes:
    line = f.readline(MAX_HEADER - read + 1)
    if not line.endswith(b"\n") or read + len(line) > MAX_HEADER:
        raise BackupCorrupt("the age header is truncated or too large")
    return line


def read_header(f: BinaryIO) -> Header:
    """Parse the header at the start of `f` (leaves `f` at the payload); BackupCorrupt if bad."""
    first = f.readline(len(VERSION_LINE))
    if first != VERSION_LINE:
        if first.startswith(MAGIC):
            raise BackupCorrupt("this age file has a version other than v1: not supported")
        raise BackupCorrupt("not an age file")
    seen = [first]
    read = len(first)
    stanzas: list[Stanza] = []
    while True:
        line = _line(f, read)
        read += len(line)
        if line.startswith(b"--- "):
            mac = b64decode(line[4:-1])
            if mac is None or len(mac) != 32 or not stanzas:
                raise BackupCorrupt("the age header's MAC line is malformed")
            return Header(stanzas, mac, b"".join(seen) + b"---", read)
        seen.append(line)
        if not line.startswith(b"-> "):
            raise BackupCorrupt("the age header is malformed")
        args = tuple(line[3:-1].split(b" "))
        if any(not a or any(not 33 <= c <= 126 for c in a) for a in args):
            raise BackupCorrupt("the age header has a malformed stanza")
        body = b""
        while True:
            part = _line(f, read)
            read += len(part)
            seen.append(part)
            if not _B64.fullmatch(part[:-1]) or len(part) > 65:
                raise BackupCorrupt("the age header has a malformed stanza body")
            body += part[:-1]
            if len(part) < 65:
                break
        decoded = b64decode(body)
        if decoded is None:
            raise BackupCorrupt("the age header has a stanza body that is not canonical base64")
        stanzas.append(Stanza(args, decoded))


def file_key_of(header: Header, identities: list[Identity]) -> bytes:
    """The file key one of `identities` unwraps, its MAC checked; AgeKeyRequired if none does."""
    for identity in identities:
        file_key = identity.unwrap(header.stanzas)
        if file_key is None:
            continue
        if len(file_key) != 16 or not hmac.compare_digest(
            _mac(file_key, header.signed), header.mac
        ):
            raise BackupCorrupt("the age header's MAC does not match: the header was altered")
        return file_key
    raise AgeKeyRequired(
        "the identity or passphrase given does not open this encrypted backup",
        fields={"identity": "no match"},
    )
