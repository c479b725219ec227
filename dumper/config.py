"""The environment, declared once and validated: `load_config(env) -> Config`.

This is the only module that reads environment variables (the caller passes `os.environ`).
Each setting has one declaration with its default, converter and help text; an invalid value
raises ConfigError naming the variable, so the process exits before serving anything.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from dumper.errors import ConfigError
from dumper.log import get_logger

log = get_logger("config")

KEY_BYTES = 32
KEY_FILE_NAME = "dumper.key"
_REPO_WEB_DIR = Path(__file__).resolve().parent.parent / "web" / "public"
_IMAGE_WEB_DIR = Path("/app/web/public")


def default_web_dir() -> Path:
    """web/public of the source checkout when it exists (dev, `make run`), else the image's."""
    return _REPO_WEB_DIR if _REPO_WEB_DIR.is_dir() else _IMAGE_WEB_DIR


def _int_range(low: int, high: int) -> Callable[[str], int]:
    def convert(text: str) -> int:
        try:
            value = int(text.strip(), 10)
        except ValueError:
            raise ValueError(f"must be a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}, got {value}")
        return value

    return convert


def _path(text: str) -> Path:
    if not text.strip():
        raise ValueError("must not be empty")
    return Path(text).expanduser()


def _text(text: str) -> str:
    return text


def _log_level(text: str) -> str:
    level = text.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError(f"must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {text!r}")
    return level


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"must be true or false, got {text!r}")


def _host_list(text: str) -> tuple[str, ...]:
    """Comma-separated host names (no ports), lower-cased; `*.example.org` matches subdomains."""
    hosts = tuple(h.strip().lower().rstrip(".") for h in text.split(",") if h.strip())
    if not hosts:
        raise ValueError("must name at least one host")
    for host in hosts:
        if ":" in host and not host.startswith("["):
            try:
                ipaddress.IPv6Address(host)
            except ValueError:
                raise ValueError(f"{host!r}: give host names without a port") from None
        if any(c.isspace() or c in "/@" for c in host):
            raise ValueError(f"{host!r} is not a host name")
    return hosts


def _networks(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated addresses or CIDR ranges."""
    nets = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not an IP address or CIDR range") from None
    if not nets:
        raise ValueError("must name at least one address")
    return tuple(nets)


def _public_url(text: str) -> str:
    """The UI's address as users reach it: http(s)://host[:port][/path], no trailing slash."""
    url = text.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be an http:// or https:// URL, got {text!r}")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or fragment")
    return url


def decode_key(text: str) -> bytes:
    """Decode a base64 key; ValueError unless it is exactly 32 bytes."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be base64 (generate one with `dumper keygen`)") from None
    if len(raw) != KEY_BYTES:
        raise ValueError(f"must decode to {KEY_BYTES} bytes, got {len(raw)}")
    return raw


def generate_key() -> str:
    """A fresh random key, base64, as APP_ENC_KEY expects it."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


@dataclass(frozen=True)
class Setting:
    env: str
    default: str | None  # None: unset unless given
    convert: Callable[[str], Any]
    help: str


# The one declaration of every setting. An empty value counts as unset (docker-compose's `X=`).
SETTINGS: tuple[Setting, ...] = (
    Setting("APP_HOST", "0.0.0.0", _text, "address the HTTP server binds to"),  # noqa: S104
    Setting("APP_PORT", "8080", _int_range(1, 65535), "TCP port of the HTTP server"),
    Setting(
        "APP_ENC_KEY",
        None,
        decode_key,
        "32 bytes, base64: encrypts stored target passwords. Unset: a key is generated into "
        f"{KEY_FILE_NAME} beside the SQLite file (set it explicitly in production)",
    ),
    Setting("SQLITE_PATH", "/data/app/app.db", _path, "the SQLite file holding targets and jobs"),
    Setting("BACKUP_DIR", "/data/backups", _path, "folder the backup files are written to"),
    Setting("ADMIN_USER", None, _text, "Basic-Auth user; set together with ADMIN_PASS"),
    Setting("ADMIN_PASS", None, _text, "Basic-Auth password; set together with ADMIN_USER"),
    Setting(
        "WEB_DIR",
        None,
        _path,
        "folder of the built UI; default web/public of the source tree if present, "
        "else /app/web/public",
    ),
    Setting("MAX_PARALLEL_JOBS", "2", _int_range(1, 64), "backups/restores running at once"),
    Setting("LOG_LEVEL", "INFO", _log_level, "DEBUG, INFO, WARNING or ERROR"),
    Setting("CORS_ORIGIN", None, _text, "dev only: an origin allowed to call the API (Vite)"),
    Setting(
        "MAX_BODY_BYTES",
        str(1024 * 1024),
        _int_range(1024, 1024 * 1024 * 1024),
        "largest accepted request body in bytes",
    ),
    Setting(
        "UPLOAD_MAX_BYTES",
        str(10 * 1024**3),
        _int_range(1024, 1024**4),
        "largest dump file accepted by an upload (POST /api/targets/:id/uploads), in bytes",
    ),
    Setting(
        "ALLOWED_HOSTS",
        None,
        _host_list,
        "comma-separated host names the service answers to (the Host header); others get 400. "
        "Unset: any. Guards against DNS rebinding",
    ),
    Setting(
        "TRUSTED_PROXIES",
        None,
        _networks,
        "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is "
        "believed (for login throttling and logs). Unset: none",
    ),
    Setting(
        "MAX_CONNECTIONS",
        "32",
        _int_range(2, 4096),
        "HTTP connections served at once; more wait in the listen queue",
    ),
    Setting(
        "HTTP_TIMEOUT",
        "15",
        _int_range(1, 3600),
        "seconds a client has to send a request's headers, and again its body; idle "
        "keep-alive connections close after it too",
    ),
    Setting(
        "DB_CONNECT_TIMEOUT",
        "15",
        _int_range(1, 600),
        "seconds to connect to a database server and finish its handshake",
    ),
    Setting(
        "DB_READ_TIMEOUT",
        "600",
        _int_range(10, 86400),
        "seconds a database server may stay silent during a dump or restore before the job "
        "fails (a single restore statement may not run longer)",
    ),
    Setting(
        "STALE_GRACE_MINUTES",
        "60",
        _int_range(0, 7 * 24 * 60),
        "minutes after a scheduled run before a target without a successful backup since "
        "counts as stale (flagged in the UI, target_stale notification)",
    ),
    Setting(
        "PUBLIC_URL",
        None,
        _public_url,
        "the UI's address as users reach it (https://dumper.example.org): notifications link "
        "to the backup there. Unset: messages carry no link",
    ),
    Setting(
        "NOTIFY_RETRIES",
        "3",
        _int_range(0, 10),
        "retries of a notification whose receiver failed or did not answer",
    ),
    Setting(
        "NOTIFY_BACKOFF_SECONDS",
        "30",
        _int_range(1, 3600),
        "seconds before the first retry of a notification; each further retry waits twice as long",
    ),
    Setting(
        "NOTIFY_TIMEOUT",
        "10",
        _int_range(1, 120),
        "seconds a notification receiver (HTTP or SMTP) has to answer",
    ),
    Setting(
        "DISK_LOW_MB",
        "1024",
        _int_range(0, 1 << 30),
        "a disk_low notification when free space in BACKUP_DIR falls below this many MiB "
        "(0: never)",
    ),
    Setting(
        "FILE_CHECK_INTERVAL_HOURS",
        "168",
        _int_range(0, 24 * 366),
        "hours between two checks of every backup file against its recorded sha256 "
        "(file_corrupt, file_missing); 0: only when started by hand",
    ),
    Setting(
        "BACKUP_GROUP_READ",
        "false",
        _bool,
        "true: new backup files are 0640 and BACKUP_DIR 0750 (e.g. for a sync tool in the "
        "same group); false: 0600 and 0700",
    ),
)


@dataclass(frozen=True)
class Config:
    """The validated settings. Secrets are left out of repr."""

    app_host: str = "0.0.0.0"  # noqa: S104
    app_port: int = 8080
    enc_key: bytes = field(default=b"", repr=False)
    enc_key_source: Literal["env", "file"] = "env"
    sqlite_path: Path = Path("/data/app/app.db")
    backup_dir: Path = Path("/data/backups")
    admin_user: str | None = None
    admin_pass: str | None = field(default=None, repr=False)
    web_dir: Path = _IMAGE_WEB_DIR
    max_parallel_jobs: int = 2
    log_level: str = "INFO"
    cors_origin: str | None = None
    max_body_bytes: int = 1024 * 1024
    upload_max_bytes: int = 10 * 1024**3
    allowed_hosts: tuple[str, ...] = ()  # empty: any
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    max_connections: int = 32
    http_timeout: float = 15.0
    db_connect_timeout: float = 15.0
    db_read_timeout: float = 600.0
    backup_group_read: bool = False
    stale_grace_minutes: int = 60
    public_url: str | None = None
    notify_retries: int = 3
    notify_backoff_seconds: float = 30.0
    notify_timeout: float = 10.0
    disk_low_mb: int = 1024
    file_check_interval_hours: int = 168

    @property
    def auth_enabled(self) -> bool:
        return self.admin_user is not None

    @property
    def open_access(self) -> bool:
        """True when auth is off and APP_HOST is more than loopback (0.0.0.0, ::, a LAN name)."""
        if self.auth_enabled:
            return False
        host = self.app_host.strip().strip("[]")
        if host.lower() == "localhost":
            return False
        try:
            return not ipaddress.ip_address(host).is_loopback
        except ValueError:
            return True  # a host name may resolve to any interface

    @property
    def file_mode(self) -> int:
        """Mode of new backup files."""
        return 0o640 if self.backup_group_read else 0o600

    @property
    def dir_mode(self) -> int:
        """Mode of BACKUP_DIR."""
        return 0o750 if self.backup_group_read else 0o700

    @property
    def key_file(self) -> Path:
        return key_file_for(self.sqlite_path)


def key_file_for(sqlite_path: Path) -> Path:
    return sqlite_path.parent / KEY_FILE_NAME


def load_config(env: Mapping[str, str]) -> Config:
    """Validate every setting from `env`; raises ConfigError naming the variable.

    With APP_ENC_KEY unset this reads, or on first start creates (mode 0600), the key file
    beside the SQLite file.
    """
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = env.get(setting.env)
        if raw is None or raw == "":
            raw = setting.default
        if raw is None:
            values[setting.env] = None
            continue
        try:
            values[setting.env] = setting.convert(raw)
        except ValueError as exc:
            raise ConfigError(f"{setting.env} {exc}", fields={setting.env: str(exc)}) from None

    user, password = values["ADMIN_USER"], values["ADMIN_PASS"]
    if (user is None) != (password is None):
        missing = "ADMIN_PASS" if password is None else "ADMIN_USER"
        raise ConfigError(
            f"{missing} must be set too: ADMIN_USER and ADMIN_PASS go together",
            fields={missing: "missing"},
        )
    sqlite_path: Path = values["SQLITE_PATH"]
    key: bytes | None = values["APP_ENC_KEY"]
    source: Literal["env", "file"] = "env"
    if key is None:
        key, source = _key_from_file(key_file_for(sqlite_path)), "file"
    return Config(
        app_host=values["APP_HOST"],
        app_port=values["APP_PORT"],
        enc_key=key,
        enc_key_source=source,
        sqlite_path=sqlite_path,
        backup_dir=values["BACKUP_DIR"],
        admin_user=user,
        admin_pass=password,
        web_dir=values["WEB_DIR"] or default_web_dir(),
        max_parallel_jobs=values["MAX_PARALLEL_JOBS"],
        log_level=values["LOG_LEVEL"],
        cors_origin=values["CORS_ORIGIN"],
        max_body_bytes=values["MAX_BODY_BYTES"],
        upload_max_bytes=values["UPLOAD_MAX_BYTES"],
        allowed_hosts=values["ALLOWED_HOSTS"] or (),
        trusted_proxies=values["TRUSTED_PROXIES"] or (),
        max_connections=values["MAX_CONNECTIONS"],
        http_timeout=float(values["HTTP_TIMEOUT"]),
        db_connect_timeout=float(values["DB_CONNECT_TIMEOUT"]),
        db_read_timeout=float(values["DB_READ_TIMEOUT"]),
        backup_group_read=values["BACKUP_GROUP_READ"],
        stale_grace_minutes=values["STALE_GRACE_MINUTES"],
        public_url=values["PUBLIC_URL"],
        notify_retries=values["NOTIFY_RETRIES"],
        notify_backoff_seconds=float(values["NOTIFY_BACKOFF_SECONDS"]),
        notify_timeout=float(values["NOTIFY_TIMEOUT"]),
        disk_low_mb=values["DISK_LOW_MB"],
        file_check_interval_hours=values["FILE_CHECK_INTERVAL_HOURS"],
    )


def _key_from_file(path: Path) -> bytes:
    if path.exists():
        try:
            return decode_key(path.read_text(encoding="ascii"))
        except (ValueError, OSError) as exc:
            raise ConfigError(
                f"APP_ENC_KEY is unset and the key file {path} is unusable: {exc}",
                fields={"APP_ENC_KEY": f"key file {path}: {exc}"},
            ) from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once must not both write a key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _key_from_file(path)
    except OSError as exc:
        raise ConfigError(
            f"APP_ENC_KEY is unset and no key file can be created at {path}: {exc}",
            fields={"APP_ENC_KEY": f"cannot create {path}"},
        ) from None
    key = generate_key()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    log.warning(
        "APP_ENC_KEY is not set: generated a key in %s. Set APP_ENC_KEY for production "
        "(losing this file makes stored passwords unreadable).",
        path,
    )
    return decode_key(key)


def describe() -> str:
    """Every setting with its default and help, for `--help` and the docs."""
    lines = []
    for s in SETTINGS:
        default = "(unset)" if s.default is None else s.default
        lines.append(f"{s.env:<18} default {default}: {s.help}")
    return "\n".join(lines)
