"""AES-GCM: round trip, fresh nonces, tamper detection, wrong key, purpose binding."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dumper.crypto import Cipher
from dumper.errors import DecryptionError

KEY = os.urandom(32)


@given(st.text())
def test_round_trip_returns_the_plaintext(text: str) -> None:
    cipher = Cipher(KEY)
    assert cipher.decrypt_text(cipher.encrypt(text, "p"), "p") == text


def test_each_encryption_uses_a_fresh_nonce_and_a_version_byte() -> None:
    cipher = Cipher(KEY)
    a, b = cipher.encrypt("secret", "p"), cipher.encrypt("secret", "p")
    assert a != b
    assert a[0] == 1 and b[0] == 1
    assert a[1:13] != b[1:13]
    assert b"secret" not in a


@pytest.mark.parametrize("index", [0, 1, 12, 13, -1])
def test_any_flipped_byte_raises_decryption_error(index: int) -> None:
    cipher = Cipher(KEY)
    blob = bytearray(cipher.encrypt("secret", "p"))
    blob[index] ^= 0x01
    with pytest.raises(DecryptionError):
        cipher.decrypt(bytes(blob), "p")


def test_wrong_key_raises_decryption_error() -> None:
    blob = Cipher(KEY).encrypt("secret", "p")
    with pytest.raises(DecryptionError):
        Cipher(os.urandom(32)).decrypt(blob, "p")


def test_other_purpose_does_not_decrypt() -> None:
    blob = Cipher(KEY).encrypt("secret", "target-password")
    with pytest.raises(DecryptionError):
        Cipher(KEY).decrypt(blob, "something-else")


def test_truncated_blob_raises_decryption_error() -> None:
    with pytest.raises(DecryptionError):
        Cipher(KEY).decrypt(b"\x01abc", "p")


def test_key_must_be_32_bytes_and_is_not_in_repr() -> None:
    with pytest.raises(ValueError):
        Cipher(b"short")
    assert KEY.hex() not in repr(Cipher(KEY))
