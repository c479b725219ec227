"""AES-GCM for secrets stored in SQLite (target passwords).

Blob layout: version byte (1) | 96-bit random nonce | ciphertext+tag. The associated data binds
a ciphertext to its purpose, so a blob copied to another use does not decrypt.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dumper.errors import DecryptionError

VERSION = 1
NONCE_BYTES = 12
PURPOSE_TARGET_PASSWORD = "target-password"  # noqa: S105 (a label, not a secret)
PURPOSE_TARGET_TLS_KEY = "target-tls-key"
PURPOSE_TARGET_AGE_PASSPHRASE = "target-age-passphrase"  # noqa: S105 (a label)


class Cipher:
    """Encrypts and decrypts with one 32-byte key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the key must be 32 bytes")
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "Cipher(key=***)"

    def encrypt(self, plaintext: str | bytes, purpose: str) -> bytes:
        """Encrypt with a fresh nonce; `purpose` must be given again to decrypt."""
        data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
        nonce = os.urandom(NONCE_BYTES)
        return bytes([VERSION]) + nonce + self._aead.encrypt(nonce, data, _aad(purpose))

    def decrypt(self, blob: bytes, purpose: str) -> bytes:
        """Decrypt a blob from `encrypt`; DecryptionError on a wrong key, purpose or tampering."""
        if len(blob) < 1 + NONCE_BYTES + 16:
            raise DecryptionError("stored secret is truncated")
        if blob[0] != VERSION:
            raise DecryptionError(f"stored secret has unknown format version {blob[0]}")
        nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, _aad(purpose))
        except InvalidTag:
            raise DecryptionError(
                "stored secret cannot be decrypted (the key changed or the data was altered)"
            ) from None

    def decrypt_text(self, blob: bytes, purpose: str) -> str:
        return self.decrypt(blob, purpose).decode("utf-8")


def _aad(purpose: str) -> bytes:
    # the version is in the AAD too, so a blob cannot be replayed under another format
    return f"dumper:v{VERSION}:{purpose}".encode()
