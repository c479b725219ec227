"""The age format of encrypted backups: keys, header, payload chunks, and what a reader refuses;
interoperability both ways with the `age` CLI (Debian's `age` package, which .ci/run installs)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dumper.backup.agefile import (
    MAX_WORK_FACTOR,
    Passphrase,
    X25519Identity,
    X25519Recipient,
    b64decode,
    bech32_decode,
    bech32_encode,
    keygen_text,
    parse_identities,
)
from dumper.backup.agestream import CHUNK, AgeReader, AgeWriter, check_structure
from dumper.errors import AgeKeyRequired, BackupCorrupt, InvalidInput

# The spec's own examples (C2SP age, "The X25519 recipient type")
SPEC_IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
SPEC_RECIPIENT = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"
WEAK = 10  # scrypt work factor in tests: fast; the default is 18


def encrypt(data: bytes, *recipients: X25519Recipient | Passphrase, pieces: int = 1) -> bytes:
    raw = io.BytesIO()
    w = AgeWriter(raw, list(recipients))
    step = max(1, len(data) // pieces)
    for at in range(0, len(data), step):
        w.write(data[at : at + step])
    w.close()
    assert w.bytes_written == len(raw.getvalue())
    assert w.sha256 == hashlib.sha256(raw.getvalue()).hexdigest()
    return raw.getvalue()


def decrypt(blob: bytes, *identities: X25519Identity | Passphrase, read: int = 100_000) -> bytes:
    r = AgeReader(io.BytesIO(blob), list(identities))
    out = []
    while piece := r.read(read):
        out.append(piece)
    return b"".join(out)


def test_the_spec_identity_gives_the_spec_recipient() -> None:
    identity = X25519Identity.parse(SPEC_IDENTITY)
    assert str(identity.recipient) == SPEC_RECIPIENT
    assert identity.encode() == SPEC_IDENTITY
    assert str(X25519Recipient.parse(SPEC_RECIPIENT)) == SPEC_RECIPIENT


def test_bech32_refuses_a_changed_character_and_mixed_case() -> None:
    assert bech32_decode(SPEC_RECIPIENT[:-1] + "q") is None
    assert bech32_decode("Age" + SPEC_RECIPIENT[3:]) is None
    assert bech32_decode(bech32_encode("age", b"\x01" * 32)) == ("age", b"\x01" * 32)
    with pytest.raises(InvalidInput):
        X25519Recipient.parse(SPEC_RECIPIENT.replace("w", "q"))


def test_an_identity_never_shows_in_its_repr_or_a_parse_error() -> None:
    identity = X25519Identity.generate()
    assert identity.encode() not in repr(identity)
    bad = identity.encode()[:-1] + ("Q" if identity.encode()[-1] != "Q" else "P")
    with pytest.raises(InvalidInput) as exc:
        parse_identities(bad)
    assert bad not in str(exc.value) and bad[15:40] not in str(exc.value)
    assert "hunter2" not in repr(Passphrase(b"hunter2"))


def test_base64_must_be_canonical_and_unpadded() -> None:
    assert b64decode(b"AAAA") == b"\x00\x00\x00"
    assert b64decode(b"AA==") is None
    assert b64decode(b"AB") is None  # non-zero bits past the last byte
    assert b64decode(b"A A") is None


@given(
    st.one_of(
        st.sampled_from([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5]),
        st.integers(0, 4 * CHUNK),
    ),
    st.integers(1, 7),
    st.integers(1, 3 * CHUNK),
)
@settings(max_examples=40, deadline=None)
def test_any_length_round_trips_and_the_structure_check_agrees(
    size: int, pieces: int, read: int
) -> None:
    identity = X25519Identity.generate()
    data = os.urandom(size)
    blob = encrypt(data, identity.recipient, pieces=pieces)
    assert decrypt(blob, identity, read=read) == data
    chunks = max(1, -(-size // CHUNK))
    path = Path(f"/tmp/h_age_structure_{os.getpid()}.age")
    try:
        path.write_bytes(blob)
        info = check_structure(path)
    finally:
        path.unlink()
    assert (info.chunks, info.plain_bytes, info.stanza_types) == (chunks, size, ("X25519",))


def test_a_passphrase_round_trips_and_a_wrong_one_is_key_required() -> None:
    blob = encrypt(b"hello", Passphrase(b"correct horse", WEAK))
    assert blob.split(b"\n")[1].startswith(b"-> scrypt ")
    assert decrypt(blob, Passphrase(b"correct horse")) == b"hello"
    with pytest.raises(AgeKeyRequired):
        decrypt(blob, Passphrase(b"wrong"))


def test_no_identity_or_the_wrong_one_is_key_required() -> None:
    blob = encrypt(b"data", X25519Identity.generate().recipient)
    with pytest.raises(AgeKeyRequired) as exc:
        decrypt(blob)
    assert exc.value.fields == {"identity": "required"}
    with pytest.raises(AgeKeyRequired) as exc:
        decrypt(blob, X25519Identity.generate())
    assert exc.value.fields == {"identity": "no match"}


def test_one_file_may_have_several_recipients() -> None:
    a, b = X25519Identity.generate(), X25519Identity.generate()
    blob = encrypt(b"both", a.recipient, b.recipient)
    assert decrypt(blob, b) == decrypt(blob, a) == b"both"


def test_an_scrypt_stanza_beside_another_is_refused() -> None:
    identity = X25519Identity.generate()
    blob = encrypt(b"x", identity.recipient, Passphrase(b"pw", WEAK))
    with pytest.raises(BackupCorrupt, match="only one"):
        decrypt(blob, Passphrase(b"pw"))


def test_a_work_factor_above_the_cap_is_refused_before_scrypt_runs() -> None:
    blob = encrypt(b"x", Passphrase(b"pw", WEAK))
    lines = blob.split(b"\n")
    lines[1] = lines[1].rsplit(b" ", 1)[0] + b" %d" % (MAX_WORK_FACTOR + 1)
    with pytest.raises(BackupCorrupt, match="work factor"):
        decrypt(b"\n".join(lines), Passphrase(b"pw"))


@given(st.data())
@settings(max_examples=40, deadline=None)
def test_any_changed_byte_or_truncation_is_refused(data: st.DataObject) -> None:
    identity = X25519Identity.generate()
    plain = os.urandom(data.draw(st.sampled_from([0, 10, CHUNK, CHUNK + 1, 2 * CHUNK + 7])))
    blob = encrypt(plain, identity.recipient)
    if data.draw(st.booleans()):
        at = data.draw(st.integers(0, len(blob) - 1))
        bad = blob[:at] + bytes([blob[at] ^ data.draw(st.integers(1, 255))]) + blob[at + 1 :]
    else:
        bad = blob[: data.draw(st.integers(0, len(blob) - 1))]
    with pytest.raises((BackupCorrupt, AgeKeyRequired)):
        decrypt(bad, identity)


def test_trailing_bytes_after_the_final_chunk_are_refused() -> None:
    identity = X25519Identity.generate()
    for size in (5, CHUNK):
        blob = encrypt(os.urandom(size), identity.recipient)
        with pytest.raises(BackupCorrupt):
            decrypt(blob + b"\x00", identity)


def test_the_structure_check_refuses_a_cut_inside_a_chunk(tmp_path: Path) -> None:
    blob = encrypt(os.urandom(CHUNK + 100), X25519Identity.generate().recipient)
    path = tmp_path / "x.age"
    path.write_bytes(blob[:-110])  # the final chunk is now shorter than its tag
    with pytest.raises(BackupCorrupt, match="truncated"):
        check_structure(path)
    path.write_bytes(b"age-encryption.org/v1\n-> X25519 abc\n")
    with pytest.raises(BackupCorrupt):
        check_structure(path)


# -- the age CLI ------------------------------------------------------------------------------


@pytest.fixture
def age_cli() -> str:
    found = shutil.which("age")
    assert found, "the age CLI is missing: apt-get install age (.ci/run does)"
    return found


@pytest.mark.parametrize("size", [0, 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17])
def test_the_age_cli_decrypts_what_we_encrypt(tmp_path: Path, age_cli: str, size: int) -> None:
    identity = X25519Identity.generate()
    key = tmp_path / "key.txt"
    key.write_text(keygen_text(identity, datetime.now(UTC)))
    data = os.urandom(size)
    (tmp_path / "f.age").write_bytes(encrypt(data, identity.recipient, pieces=3))
    out = subprocess.run(
        [age_cli, "-d", "-i", str(key), str(tmp_path / "f.age")], capture_output=True, check=True
    )
    assert out.stdout == data


@pytest.mark.parametrize("size", [0, 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17])
def test_we_decrypt_what_the_age_cli_encrypts(tmp_path: Path, age_cli: str, size: int) -> None:
    keygen = shutil.which("age-keygen")
    assert keygen
    subprocess.run([keygen, "-o", str(tmp_path / "key.txt")], check=True, capture_output=True)
    identities = parse_identities((tmp_path / "key.txt").read_text())
    data = os.urandom(size)
    blob = subprocess.run(
        [age_cli, "-e", "-r", str(identities[0].recipient)],
        input=data,
        capture_output=True,
        check=True,
    ).stdout
    assert decrypt(blob, *identities) == data


def test_the_age_cli_decrypts_our_passphrase_file_through_a_terminal(
    tmp_path: Path, age_cli: str
) -> None:
    # age reads a passphrase only from a terminal: give it one (a pseudo-terminal)
    import pty

    data = os.urandom(CHUNK + 3)
    (tmp_path / "p.age").write_bytes(encrypt(data, Passphrase(b"pass word", WEAK)))
    out = tmp_path / "out"
    pid, fd = pty.fork()
    if pid == 0:  # the child: age with the pty as its terminal
        os.execv(age_cli, [age_cli, "-d", "-o", str(out), str(tmp_path / "p.age")])
    seen = b""
    try:
        while b"passphrase" not in seen.lower():
            seen += os.read(fd, 1024)
        os.write(fd, b"pass word\n")
        while True:
            try:
                if not os.read(fd, 1024):
                    break
            except OSError:  # EIO: the child closed the terminal
                break
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert out.read_bytes() == data
