"""TLS settings as a user types them: any text gives a field message, never an exception."""

from __future__ import annotations

import pytest

from dumper.backup.tls import TlsSettings, context_error


@pytest.mark.parametrize("text", ["é", "\ud800", "\x00", "-----BEGIN CERTIFICATE-----\né\n"])
@pytest.mark.parametrize("field", ["ca", "cert"])
def test_a_pem_text_that_is_not_ascii_or_not_pem_is_a_field_error(text: str, field: str) -> None:
    errors = context_error(TlsSettings(mode="verify-ca", **{field: text}))
    assert set(errors) == {f"tls_{field}"}
