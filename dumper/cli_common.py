"""What every `dumper` subcommand shares: the Context it may touch, exit codes, the parser that
turns usage errors into one line, output helpers and the DSN/password options.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, TextIO

from dumper.errors import InvalidInput

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CANCELLED = 130


@dataclass
class Context:
    """What a handler may touch of the outside world (tests pass their own)."""

    env: Mapping[str, str]
    stdout: TextIO
    stderr: TextIO
    stdout_bytes: BinaryIO
    progress_bar: bool  # draw a progress bar on stderr (it is a terminal)
    cancel: threading.Event = field(default_factory=threading.Event)


Handler = Callable[[argparse.Namespace, Context], int]


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """Usage errors become one line on stderr instead of argparse's usage dump."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


# -- shared helpers -------------------------------------------------------------------------


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover - the loop always returns


class ProgressLine:
    """One self-overwriting line on stderr, redrawn at most ten times a second."""

    def __init__(self, ctx: Context) -> None:
        self.out = ctx.stderr
        self.enabled = ctx.progress_bar
        self.last = 0.0
        self.width = 0

    def show(self, text: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self.last < 0.1):
            return
        self.last = now
        self.out.write("\r" + text.ljust(self.width))
        self.width = len(text)
        self.out.flush()

    def done(self) -> None:
        if self.enabled and self.width:
            self.out.write("\r" + " " * self.width + "\r")
            self.out.flush()


def bar(fraction: float, width: int = 24) -> str:
    filled = int(max(0.0, min(1.0, fraction)) * width)
    return "[" + "#" * filled + "-" * (width - filled) + "]"


_PS_WARNING = (
    "dumper: warning: a password in the DSN is visible to other users in `ps`; "
    "use MYSQL_PWD or --password-file"
)


def dsn_params(args: argparse.Namespace, ctx: Context, *, server: bool = False) -> Any:
    """The DSN's connection parameters; the password from the DSN, --password-file or
    MYSQL_PWD, in that order. Ctrl-C also ends the connection attempt. `server`: the DSN may
    leave the database out (database "")."""
    import dataclasses

    from dumper.backup.dsn import parse_dsn, password_in_dsn

    params = parse_dsn(args.dsn, server=server)  # a malformed DSN is reported before anything else
    in_dsn = password_in_dsn(args.dsn)
    if in_dsn and args.password_file is not None:
        raise InvalidInput("give the password in the DSN or in --password-file, not both")
    if in_dsn:
        ctx.stderr.write(_PS_WARNING + "\n")
        ctx.stderr.flush()
    elif args.password_file is not None:
        params = dataclasses.replace(params, password=read_password(args.password_file))
    else:
        params = dataclasses.replace(params, password=ctx.env.get("MYSQL_PWD") or "")
    return dataclasses.replace(params, cancel=ctx.cancel)


def read_password(path: Path) -> str:
    """The first line of the file, without its line break."""
    try:
        with path.open(encoding="utf-8") as fh:
            first = fh.readline()
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise InvalidInput(f"cannot read the password file {path}: {reason}") from None
    return first.rstrip("\r\n")


def add_dsn(p: argparse.ArgumentParser) -> None:
    p.add_argument("dsn", metavar="DSN", help=_DSN_HELP)
    p.add_argument(
        "--password-file",
        type=Path,
        metavar="FILE",
        help="read the password from the first line of FILE (not shown by `ps`, unlike a "
        "password in the DSN)",
    )


_DSN_HELP = (
    "mysql://USER[:PASSWORD]@HOST[:PORT]/DB, parts percent-encoded; without a password in "
    "it, --password-file or else MYSQL_PWD is used (a password in the DSN is shown by `ps`)"
)


# -- encrypted backups (age) ------------------------------------------------------------------


def add_age_key(p: argparse.ArgumentParser) -> None:
    """--identity / --passphrase-file: what opens an encrypted (.age) backup."""
    p.add_argument(
        "--identity",
        type=Path,
        metavar="KEYFILE",
        help="an age identity file (AGE-SECRET-KEY-1..., as `dumper keygen --age` or "
        "age-keygen write it) to read an encrypted backup",
    )
    p.add_argument(
        "--passphrase-file",
        type=Path,
        metavar="FILE",
        help="the passphrase of a passphrase-encrypted backup, the first line of FILE",
    )


def age_identities(args: argparse.Namespace) -> list[Any] | None:
    """The identities --identity / --passphrase-file give, or None; never echoes their text."""
    from dumper.backup.agefile import Passphrase, parse_identities

    if args.identity is not None and args.passphrase_file is not None:
        raise InvalidInput("give --identity or --passphrase-file, not both")
    if args.passphrase_file is not None:
        return [Passphrase(read_password(args.passphrase_file).encode())]
    if args.identity is None:
        return None
    try:
        text = args.identity.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise InvalidInput(f"cannot read the identity file {args.identity}: {reason}") from None
    found: list[Any] = parse_identities(text)
    return found
