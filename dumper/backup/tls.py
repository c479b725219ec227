"""TLS for MySQL connections: a target's mode and PEM texts -> an ssl.SSLContext for PyMySQL,
the check that a mode needing TLS gets it before credentials are sent, and what was negotiated."""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

TLS_MODES = ("disabled", "preferred", "required", "verify-ca", "verify-identity")
DEFAULT_TLS_MODE = "preferred"
CR_SSL_CONNECTION_ERROR = 2026  # the client error MySQL's own clients use for this


@dataclass(frozen=True)
class TlsSettings:
    """How to use TLS: `mode` from TLS_MODES; PEM texts ('' for none). `repr` hides the key.

    disabled: never; preferred: when the server offers it, unverified; required: always,
    unverified; verify-ca: the server's certificate must chain to `ca` (or the system CAs);
    verify-identity: that, and it must name the host connected to.
    """

    mode: str = DEFAULT_TLS_MODE
    ca: str = ""
    cert: str = ""
    key: str = ""

    def __repr__(self) -> str:
        return (
            f"TlsSettings(mode={self.mode!r}, ca={'set' if self.ca else ''!r}, "
            f"cert={'set' if self.cert else ''!r}, key={'***' if self.key else ''!r})"
        )

    @property
    def required(self) -> bool:
        """Whether a server without TLS must be refused."""
        return self.mode not in ("disabled", "preferred")


DEFAULT_TLS = TlsSettings()


def make_context(settings: TlsSettings) -> ssl.SSLContext | None:
    """The context PyMySQL wraps its socket with; None for `disabled`.

    ssl.SSLError (a bad PEM text) propagates; callers validating input turn it into a message.
    """
    if settings.mode == "disabled":
        return None
    if settings.mode not in TLS_MODES:
        raise ValueError(f"unknown TLS mode {settings.mode!r}")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    verify = settings.mode in ("verify-ca", "verify-identity")
    ctx.check_hostname = settings.mode == "verify-identity"
    ctx.verify_mode = ssl.CERT_REQUIRED if verify else ssl.CERT_NONE
    if verify:
        if settings.ca.strip():
            ctx.load_verify_locations(cadata=settings.ca)
        else:
            ctx.load_default_certs()
    if settings.cert.strip():
        with _pem_files(settings.cert, settings.key) as (cert_path, key_path):
            ctx.load_cert_chain(cert_path, key_path)
    return ctx


@contextlib.contextmanager
def _pem_files(cert: str, key: str) -> Iterator[tuple[str, str | None]]:
    # load_cert_chain reads only files: write them private, and remove them at once
    with tempfile.TemporaryDirectory(prefix="dumper-tls-") as tmp:
        cert_path = os.path.join(tmp, "cert.pem")
        _write_private(cert_path, cert)
        key_path = None
        if key.strip():
            key_path = os.path.join(tmp, "key.pem")
            _write_private(key_path, key)
        yield cert_path, key_path


def _write_private(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def connect_kwargs(settings: TlsSettings) -> dict[str, Any]:
    """The pymysql.connect arguments for these settings."""
    ctx = make_context(settings)
    if ctx is None:
        return {"ssl_disabled": True}
    return {"ssl": ctx}


def enforce(conn: Any, settings: TlsSettings) -> None:
    """Make a deferred PyMySQL connection follow `settings` when the server answers.

    Runs before PyMySQL sends the credentials: a mode needing TLS refuses a server without it
    (OperationalError 2026); `preferred` goes on in plain text. PyMySQL versions differ in
    what they do themselves, so the decision is made here.
    """
    import pymysql
    from pymysql.constants import CLIENT

    if settings.mode == "disabled":
        return
    authenticate = conn._request_authentication

    def checked() -> None:
        if not conn.server_capabilities & CLIENT.SSL:
            if settings.required:
                raise pymysql.err.OperationalError(
                    CR_SSL_CONNECTION_ERROR,
                    f"TLS is {settings.mode} but the server does not offer TLS",
                )
            conn.ssl = False
            conn.client_flag &= ~CLIENT.SSL
        authenticate()

    conn._request_authentication = checked


def negotiated(conn: Any) -> tuple[str, str] | None:
    """(TLS version, cipher) of an open connection, None when it is not encrypted."""
    sock = getattr(conn, "_sock", None)
    if not isinstance(sock, ssl.SSLSocket):
        return None
    cipher = sock.cipher()
    return (sock.version() or "TLS", cipher[0] if cipher else "unknown")


def failure_text(exc: BaseException) -> str | None:
    """A readable reason when `exc` (or what PyMySQL wrapped) is a TLS failure, else None."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            break
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"TLS: the server's certificate was not accepted ({seen.verify_message})"
        if isinstance(seen, ssl.SSLError):
            return f"TLS handshake failed ({seen.reason or seen})"
        seen = getattr(seen, "original_exception", None) or seen.__cause__ or seen.__context__
    return None


def plain_hint(settings: TlsSettings, code: int | None) -> str:
    """What to add to a refusal (access denied, insecure transport) of a plain connection."""
    if settings.mode != "disabled" or code not in (1045, 3159):
        return ""
    return (
        " (TLS is disabled for this connection: a server with require_secure_transport"
        " refuses it; choose TLS required or stricter)"
    )


def context_error(settings: TlsSettings) -> dict[str, str]:
    """Per-field messages when the PEM texts cannot be loaded (for input validation)."""
    errors: dict[str, str] = {}
    if settings.ca.strip():
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=settings.ca)
        except (ssl.SSLError, ValueError, TypeError):  # TypeError: not ASCII
            errors["tls_ca"] = "is not a PEM certificate"
    if settings.key.strip() and not settings.cert.strip():
        errors["tls_cert"] = "is required with a client key"
    if settings.cert.strip():
        try:
            if settings.key.strip():
                with _pem_files(settings.cert, settings.key) as (cert_path, key_path):
                    ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(cert_path, key_path)
            else:  # the stored key is not at hand here: check the certificate alone
                ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=settings.cert)
        except (ssl.SSLError, ValueError, TypeError):  # TypeError: not ASCII
            errors["tls_cert"] = "is not a PEM certificate matching the key"
    return errors
