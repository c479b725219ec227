"""TLS against real servers: a private MariaDB with its own CA and require_secure_transport=ON
(modes, verification, host names, client certificates, the probe), and the plain test server
for `preferred` falling back and `required` refusing. Certificates are made here."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dumper.backup.dsn import ConnParams, connect
from dumper.backup.probe import probe
from dumper.backup.tls import TlsSettings, negotiated
from dumper.errors import ConnectionFailed
from tests.conftest import PrivateServer, admin_exec

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Pki:
    ca: str
    other_ca: str
    client_cert: str
    client_key: str


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _cert(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey] | None = None,
    dns: tuple[str, ...] = (),
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    issuer_name, issuer_key = issuer or (name, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), True)
    )
    if issuer is None:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    else:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    if dns:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def make_pki(where: Path) -> tuple[Pki, tuple[str, ...]]:
    """A CA, a server certificate naming only `localhost`, a client certificate, an unrelated
    CA; returns them and the server options that use them."""
    ca_key, other_key, server_key, client_key = _key(), _key(), _key(), _key()
    ca = _cert("dumper test CA", ca_key)
    other = _cert("unrelated CA", other_key)
    server = _cert("localhost", server_key, ("dumper test CA", ca_key), dns=("localhost",))
    client = _cert("dumper client", client_key, ("dumper test CA", ca_key))
    files = {
        "ca.pem": _pem(ca),
        "server-cert.pem": _pem(server),
        "server-key.pem": _pem_key(server_key),
    }
    for name, text in files.items():
        (where / name).write_text(text)
    options = (
        f"--ssl-ca={where / 'ca.pem'}",
        f"--ssl-cert={where / 'server-cert.pem'}",
        f"--ssl-key={where / 'server-key.pem'}",
        "--require-secure-transport=ON",
    )
    return Pki(_pem(ca), _pem(other), _pem(client), _pem_key(client_key)), options


@pytest.fixture(scope="module")
def tls_server(
    private_mariadb_factory: Callable[..., PrivateServer],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[PrivateServer, Pki]:
    pki, options = make_pki(tmp_path_factory.mktemp("pki"))
    server = private_mariadb_factory(options, TlsSettings("required"))
    return server, pki


def with_tls(params: ConnParams, mode: str, **kw: str) -> ConnParams:
    return dataclasses.replace(params, tls=TlsSettings(mode, **kw))


def test_disabled_fails_with_the_servers_reason(tls_server: tuple[PrivateServer, Pki]) -> None:
    server, _ = tls_server
    with pytest.raises(ConnectionFailed) as err:
        connect(with_tls(server.params, "disabled"))
    # MariaDB says "Access denied", MySQL "insecure transport": either way the hint follows
    assert "require_secure_transport" in err.value.message
    assert "TLS required" in err.value.message


def test_required_and_preferred_encrypt_without_verifying(
    tls_server: tuple[PrivateServer, Pki],
) -> None:
    server, _ = tls_server
    for mode in ("required", "preferred"):
        conn = connect(with_tls(server.params, mode))
        try:
            info = negotiated(conn)
            assert info is not None and info[0].startswith("TLSv1."), mode
            with conn.cursor() as cur:
                cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
                assert cur.fetchone()[1] == info[0]
        finally:
            conn.close()


def test_verify_ca_refuses_a_wrong_ca_and_accepts_the_right_one(
    tls_server: tuple[PrivateServer, Pki],
) -> None:
    server, pki = tls_server
    with pytest.raises(ConnectionFailed) as err:
        connect(with_tls(server.params, "verify-ca", ca=pki.other_ca))
    assert "certificate" in err.value.message and "not accepted" in err.value.message
    # verify-ca does not look at the host name: 127.0.0.1 is not in the certificate
    conn = connect(with_tls(server.params, "verify-ca", ca=pki.ca))
    assert negotiated(conn) is not None
    conn.close()


def test_verify_identity_refuses_an_address_the_certificate_does_not_name(
    tls_server: tuple[PrivateServer, Pki],
) -> None:
    server, pki = tls_server
    with pytest.raises(ConnectionFailed) as err:
        connect(with_tls(server.params, "verify-identity", ca=pki.ca))
    assert "127.0.0.1" in err.value.message and "certificate" in err.value.message
    conn = connect(
        dataclasses.replace(with_tls(server.params, "verify-identity", ca=pki.ca), host="localhost")
    )
    assert negotiated(conn) is not None
    conn.close()


def test_a_user_requiring_x509_connects_only_with_the_client_certificate(
    tls_server: tuple[PrivateServer, Pki],
) -> None:
    server, pki = tls_server
    user = "x509_" + uuid.uuid4().hex[:8]
    admin_exec(
        server.params,
        f"CREATE USER '{user}'@'%' REQUIRE X509",
        f"GRANT USAGE ON *.* TO '{user}'@'%'",
    )
    params = dataclasses.replace(server.params, user=user, database="")
    with pytest.raises(ConnectionFailed):
        connect(with_tls(params, "verify-ca", ca=pki.ca))
    conn = connect(
        with_tls(params, "verify-ca", ca=pki.ca, cert=pki.client_cert, key=pki.client_key)
    )
    conn.close()


def test_probe_reports_the_tls_version_and_cipher(tls_server: tuple[PrivateServer, Pki]) -> None:
    server, pki = tls_server
    result = probe(with_tls(server.params, "verify-ca", ca=pki.ca))
    assert result.ok, result.message
    assert result.tls_version is not None and result.tls_version.startswith("TLSv1.")
    assert result.tls_cipher
    assert result.tls_version in result.message


def _offers_tls(params: ConnParams) -> bool:
    conn = connect(with_tls(params, "preferred"))
    try:
        return negotiated(conn) is not None
    finally:
        conn.close()


def test_preferred_falls_back_to_plain_and_required_refuses_a_server_without_tls(
    mysql_params: ConnParams,
) -> None:
    if _offers_tls(mysql_params):
        pytest.skip("the test server offers TLS")
    result = probe(with_tls(mysql_params, "preferred"))
    assert result.ok and result.tls_version is None
    assert "not encrypted" in result.message
    with pytest.raises(ConnectionFailed) as err:
        connect(with_tls(mysql_params, "required"))
    assert "does not offer TLS" in err.value.message


def test_caching_sha2_password_over_tls_and_over_rsa_key_exchange(
    mysql_params: ConnParams,
) -> None:
    """MySQL 8's default authentication: the full exchange sends the password in clear over
    TLS, and RSA-encrypted (with `cryptography`) without it. MariaDB lacks the plugin; the
    GitHub matrix runs this against MySQL."""
    conn = connect(mysql_params.with_database(""))
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        version = str(cur.fetchone()[0])
    conn.close()
    if "mariadb" in version.lower():
        pytest.skip("MariaDB has no caching_sha2_password")
    user, password = "sha2_" + uuid.uuid4().hex[:8], "Pw-" + uuid.uuid4().hex[:10]
    admin_exec(
        mysql_params,
        f"CREATE USER '{user}'@'%' IDENTIFIED WITH caching_sha2_password BY '{password}'",
    )
    try:
        params = dataclasses.replace(mysql_params, user=user, password=password, database="")
        for mode in ("disabled", "required"):
            admin_exec(mysql_params, "FLUSH PRIVILEGES")  # empties the cache: a full exchange
            if mode == "required" and not _offers_tls(mysql_params):
                continue
            conn = connect(with_tls(params, mode))
            assert (negotiated(conn) is not None) == (mode == "required")
            conn.close()
    finally:
        admin_exec(mysql_params, f"DROP USER IF EXISTS '{user}'@'%'")


def test_backup_and_restore_over_tls_through_the_app(
    tls_server: tuple[PrivateServer, Pki], tmp_path: Path
) -> None:
    from dumper.app import App
    from dumper.config import load_config

    server, pki = tls_server
    db = "tls_" + uuid.uuid4().hex[:8]
    admin_exec(server.params, f"CREATE DATABASE {db}", f"CREATE TABLE {db}.t (id INT PRIMARY KEY)")
    admin_exec(server.params, f"INSERT INTO {db}.t VALUES (1), (2), (3)")
    config = load_config(
        {"SQLITE_PATH": str(tmp_path / "app" / "app.db"), "BACKUP_DIR": str(tmp_path / "b")}
    )
    app = App.build(config)
    app.start()
    try:
        data = {
            "name": "secure",
            "host": "localhost",
            "port": server.port,
            "dbname": db,
            "user": "root",
            "tls": "verify-identity",
            "tls_ca": pki.ca,
            "tls_cert": pki.client_cert,
            "tls_key": pki.client_key,
        }
        t = app.create_target(data)
        view = app.get_target(t.id)
        assert view.tls == "verify-identity" and view.has_tls_key and view.tls_ca == pki.ca
        assert "tls_key" not in vars(view)
        stored = app.store.require_target(t.id)
        assert stored.tls_key_enc is not None and b"PRIVATE KEY" not in stored.tls_key_enc
        report = app.test_connection(target_id=t.id)
        assert report.ok and report.tls_version, report.message
        done = app.wait_backup(app.start_backup(t.id).id, timeout=60)
        assert done.status == "success", done.notes
        admin_exec(server.params, f"DROP TABLE {db}.t")
        restored = app.wait_restore(app.start_restore(done.id, confirm="secure").id, timeout=60)
        assert restored.status == "success", restored.notes
        conn = connect(server.params.with_database(db))
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM t")
            assert cur.fetchone()[0] == 3
        conn.close()
        # wrong CA through the form's unsaved test: refused with the reason
        bad = app.test_connection({**data, "tls_ca": pki.other_ca})
        assert not bad.ok and "certificate" in bad.message
    finally:
        app.stop(timeout=5)
