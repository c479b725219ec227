"""mysql://user:pass@host:port/db -> connection parameters, and the one way to connect."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote, urlsplit

from dumper.errors import ConnectionFailed, InvalidInput

DEFAULT_PORT = 3306


@dataclass(frozen=True)
class ConnParams:
    """Where and as whom to connect. `repr` hides the password."""

    host: str
    port: int
    user: str
    password: str
    database: str
    connect_timeout: float = 10.0
    read_timeout: float | None = 600.0
    write_timeout: float | None = 600.0
    unix_socket: str | None = None

    def __repr__(self) -> str:
        return (
            f"ConnParams(host={self.host!r}, port={self.port}, user={self.user!r}, "
            f"password='***', database={self.database!r})"
        )

    def with_database(self, database: str) -> ConnParams:
        return replace(self, database=database)

    def safe_url(self) -> str:
        """The DSN without its password, for logs and messages."""
        return f"mysql://{self.user}@{self.host}:{self.port}/{self.database}"


def parse_dsn(url: str, *, env_password: str | None = None) -> ConnParams:
    """Parse `mysql://USER[:PASSWORD]@HOST[:PORT]/DB`; parts are percent-decoded.

    A password missing from the URL is taken from `env_password` (the CLI passes MYSQL_PWD).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"invalid DSN: {exc}", fields={"dsn": str(exc)}) from exc
    if parts.scheme not in ("mysql", "mariadb"):
        raise InvalidInput("DSN must start with mysql://", fields={"dsn": "scheme must be mysql"})
    if not parts.hostname:
        raise InvalidInput("DSN has no host", fields={"dsn": "host missing"})
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in parts.path.lstrip("/"):
        raise InvalidInput("DSN must name exactly one database", fields={"dsn": "database missing"})
    # urlsplit lower-cases hostname; keep the netloc's own spelling for sockets/hosts alike
    host = unquote(parts.netloc.rsplit("@", 1)[-1])
    if host.startswith("["):
        host = host[1 : host.index("]")]
    elif ":" in host:
        host = host.rsplit(":", 1)[0]
    password = unquote(parts.password) if parts.password is not None else (env_password or "")
    return ConnParams(
        host=host,
        port=port or DEFAULT_PORT,
        user=unquote(parts.username or ""),
        password=password,
        database=database,
    )


def connect(params: ConnParams, **extra: Any) -> Any:
    """Open a PyMySQL connection to `params.database` (utf8mb4, autocommit off).

    `extra` goes to pymysql.connect (e.g. conv={} and use_unicode=False for raw bytes).
    Raises ConnectionFailed with the server's message when the server cannot be reached.
    """
    import pymysql

    kwargs: dict[str, Any] = {
        "host": params.host,
        "port": params.port,
        "user": params.user,
        "password": params.password,
        "database": params.database or None,
        "charset": "utf8mb4",
        "connect_timeout": params.connect_timeout,
        "read_timeout": params.read_timeout,
        "write_timeout": params.write_timeout,
        "autocommit": False,
        "local_infile": False,
    }
    if params.unix_socket:
        kwargs["unix_socket"] = params.unix_socket
    kwargs.update(extra)
    try:
        return pymysql.connect(**kwargs)
    except pymysql.MySQLError as exc:
        raise ConnectionFailed(
            f"cannot connect to {params.safe_url()}: {_mysql_message(exc)}"
        ) from exc
    except UnicodeError:
        # socket's IDNA step refuses some host names (a label over 63 characters, odd characters)
        raise ConnectionFailed(
            f"cannot connect to {params.safe_url()}: invalid host name"
        ) from None


def _mysql_message(exc: BaseException) -> str:
    args: tuple[object, ...] = tuple(getattr(exc, "args", ()))
    if len(args) >= 2:
        return f"({args[0]}) {args[1]}"
    return str(exc) or type(exc).__name__
