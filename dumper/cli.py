"""The `dumper` command line: one argparse subparser and one function per subcommand.

To add a subcommand, write `_add_NAME(sub)` (its parser, `handler=_cmd_NAME`) and list it in
SUBCOMMANDS. Handlers get the parsed args and a Context and return the exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, BinaryIO, NoReturn, TextIO

from dumper import __version__
from dumper.errors import Cancelled, Conflict, DumperError, InvalidInput
from dumper.log import scrub

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


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """Usage errors become one line on stderr instead of argparse's usage dump."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


# -- shared helpers -------------------------------------------------------------------------


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover - the loop always returns


class _ProgressLine:
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


def _bar(fraction: float, width: int = 24) -> str:
    filled = int(max(0.0, min(1.0, fraction)) * width)
    return "[" + "#" * filled + "-" * (width - filled) + "]"


_PS_WARNING = (
    "dumper: warning: a password in the DSN is visible to other users in `ps`; "
    "use MYSQL_PWD or --password-file"
)


def _params(args: argparse.Namespace, ctx: Context) -> Any:
    """The DSN's connection parameters; the password from the DSN, --password-file or
    MYSQL_PWD, in that order. Ctrl-C also ends the connection attempt."""
    import dataclasses

    from dumper.backup.dsn import parse_dsn, password_in_dsn

    params = parse_dsn(args.dsn)  # a malformed DSN is reported before anything else
    in_dsn = password_in_dsn(args.dsn)
    if in_dsn and args.password_file is not None:
        raise InvalidInput("give the password in the DSN or in --password-file, not both")
    if in_dsn:
        ctx.stderr.write(_PS_WARNING + "\n")
        ctx.stderr.flush()
    elif args.password_file is not None:
        params = dataclasses.replace(params, password=_read_password(args.password_file))
    else:
        params = dataclasses.replace(params, password=ctx.env.get("MYSQL_PWD") or "")
    return dataclasses.replace(params, cancel=ctx.cancel)


def _read_password(path: Path) -> str:
    """The first line of the file, without its line break."""
    try:
        with path.open(encoding="utf-8") as fh:
            first = fh.readline()
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise InvalidInput(f"cannot read the password file {path}: {reason}") from None
    return first.rstrip("\r\n")


def _add_dsn(p: argparse.ArgumentParser) -> None:
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

# -- dump -------------------------------------------------------------------------------------


def _add_dump(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "dump",
        help="dump one database to a .sql.gz / .sql file or stdout",
        description="Dump one database. Leave the password out of the URL and give it in "
        "--password-file or MYSQL_PWD.",
    )
    _add_dsn(p)
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="FILE.sql.gz (gzip), FILE.sql (plain) or - (plain SQL on stdout)",
    )
    p.set_defaults(handler=_cmd_dump)


def _cmd_dump(args: argparse.Namespace, ctx: Context) -> int:
    from dumper.backup.dump import DumpProgress, dump_database, dump_to_stream

    params = _params(args, ctx)
    line = _ProgressLine(ctx)

    def progress(p: DumpProgress) -> None:
        table = f" {p.table}" if p.table else ""
        line.show(
            f"dumping{table} ({p.tables_done}/{p.tables_total} tables) "
            f"{p.rows:,} rows {_human(p.bytes_written)}"
        )

    try:
        if args.output == "-":
            result = dump_to_stream(
                params, ctx.stdout_bytes, compress=False, progress=progress, cancel=ctx.cancel
            )
            ctx.stdout_bytes.flush()
            return EXIT_OK
        result = dump_database(params, Path(args.output), progress=progress, cancel=ctx.cancel)
    finally:
        line.done()
    ctx.stdout.write(
        f"dumped {result.tables} tables, {result.rows:,} rows to {result.path} "
        f"({_human(result.size_bytes)}, sha256 {result.sha256})\n"
    )
    return EXIT_OK


# -- restore ----------------------------------------------------------------------------------


def _add_restore(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "restore",
        help="restore a dump file into an existing database",
        description="Check the whole file first (nothing runs if it is truncated or corrupt), "
        "then execute it in order in the database of the URL, which must exist.",
    )
    p.add_argument("file", type=Path, metavar="FILE")
    _add_dsn(p)
    p.add_argument("--tables", help="only these tables, comma-separated (the rest untouched)")
    p.add_argument(
        "--clean", action="store_true", help="drop what the database has and the file does not"
    )
    p.add_argument(
        "--definer",
        choices=("keep", "current_user"),
        help="DEFINER of views, routines, triggers, events (default: keep when allowed)",
    )
    p.add_argument(
        "--accept-unmarked",
        action="store_true",
        help="restore a plain file that nothing proves complete (no end line, no checksums)",
    )
    p.add_argument("--source-database", help="the database to take from a file of several")
    p.set_defaults(handler=_cmd_restore)


def _cmd_restore(args: argparse.Namespace, ctx: Context) -> int:
    from dumper.backup.restore import RestoreOptions, RestoreProgress, restore_file

    tables = [t.strip() for t in args.tables.split(",") if t.strip()] if args.tables else None
    options = RestoreOptions(
        tables=frozenset(tables) if tables else None,
        clean=args.clean,
        definer=args.definer,
        accept_unmarked=args.accept_unmarked,
        source_database=args.source_database,
    )

    params = _params(args, ctx)
    line = _ProgressLine(ctx)
    line.show(f"checking {args.file.name}", force=True)

    def progress(p: RestoreProgress) -> None:
        fraction = p.bytes_read / p.bytes_total if p.bytes_total else 1.0
        line.show(
            f"restoring {_bar(fraction)} {fraction:4.0%} "
            f"{_human(p.bytes_read)}/{_human(p.bytes_total)} {p.statements:,} statements"
        )

    started = time.monotonic()
    try:
        result = restore_file(
            args.file, params, progress=progress, cancel=ctx.cancel, options=options
        )
    finally:
        line.done()
    ctx.stdout.write(
        f"restored {len(result.tables)} tables, {result.rows:,} rows "
        f"({result.statements:,} statements, {_human(result.sql_bytes)} of SQL) "
        f"into {params.safe_url()} in {time.monotonic() - started:.1f} s\n"
    )
    for note in result.notes:
        ctx.stdout.write(f"note: {note}\n")
    return EXIT_OK


# -- inspect ----------------------------------------------------------------------------------


def _add_inspect(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "inspect",
        help="print what a dump file holds",
        description="Producer, tables with rows, views, routines, triggers, events, complete.",
    )
    p.add_argument("file", type=Path, metavar="FILE")
    p.set_defaults(handler=_cmd_inspect)


def _cmd_inspect(args: argparse.Namespace, ctx: Context) -> int:
    from dumper.backup.inspect import inspect_file

    found = inspect_file(args.file)
    state = "complete" if found.complete else "NOT complete"
    out = [f"{args.file}: {found.producer}, {found.container}, {state} ({found.why})"]
    if found.databases:
        out.append(f"databases: {', '.join(found.databases)}")
    out += [f"table {name}: {rows:,} rows" for name, rows in found.tables.items()]
    for label, names in (
        ("view", found.views),
        ("", found.routines),
        ("trigger", found.triggers),
        ("event", found.events),
    ):
        out += [f"{label} {name}".strip() for name in names]
    ctx.stdout.write("\n".join(out) + "\n")
    return EXIT_OK if found.complete else EXIT_FAILED


# -- verify -----------------------------------------------------------------------------------


def _add_verify(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "verify",
        help="check a dump file's integrity without a server",
        description="Read the whole file: gzip CRC and length, completion marker, manifest.",
    )
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument(
        "--restore-into",
        dest="dsn",
        metavar="DSN",
        help="also restore it into a scratch database DB__verify_PID on that server and compare "
        "what comes back with the manifest; the scratch database is dropped afterwards",
    )
    p.add_argument("--password-file", type=Path, metavar="FILE", help="for --restore-into")
    p.set_defaults(handler=_cmd_verify)


def _cmd_verify(args: argparse.Namespace, ctx: Context) -> int:
    from dumper.backup.verify import verify_file

    result = verify_file(args.file)
    if args.dsn:
        from dumper.backup.compare import scratch_name, verify_by_restore

        params = _params(args, ctx)
        scratch = scratch_name(params.database, os.getpid())
        checked = verify_by_restore(args.file, params, scratch, cancel=ctx.cancel)
        if not checked.passed:
            ctx.stderr.write(f"{args.file}: test restore FAILED: {'; '.join(checked.notes)}\n")
            return EXIT_FAILED
        ctx.stdout.write(f"{args.file}: test restore passed: {'; '.join(checked.notes)}\n")
    kind = "gzip" if result.compressed else "plain"
    when = f", completed {result.completed_at}" if result.completed_at else ""
    tables = ""
    if result.producer == "dumper":
        rows = sum(result.table_rows.values())
        tables = f", {len(result.table_rows)} tables, {rows:,} rows"
    ctx.stdout.write(
        f"{args.file}: OK ({result.producer}, {kind}, {_human(result.size_bytes)}, "
        f"{_human(result.sql_bytes)} of SQL{when}{tables})\n"
    )
    return EXIT_OK


# -- keygen, backup, targets (the saved targets of the service) -------------------------------


def _add_keygen(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "keygen",
        help="print a fresh APP_ENC_KEY",
        description="Print 32 random bytes, base64, for APP_ENC_KEY.",
    )
    p.set_defaults(handler=_cmd_keygen)


def _cmd_keygen(args: argparse.Namespace, ctx: Context) -> int:
    from dumper.config import generate_key

    ctx.stdout.write(generate_key() + "\n")
    return EXIT_OK


def _open_app(ctx: Context) -> Any:
    from dumper import log
    from dumper.app import App
    from dumper.config import load_config

    log.setup("WARNING")
    # no start(): crash recovery and the scheduler belong to the serving process
    return App.build(load_config(ctx.env))


def _add_backup(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "backup",
        help="back up a saved target now, as the scheduler would",
        description="Run a backup of a target saved in SQLITE_PATH into BACKUP_DIR (same "
        "environment as `dumper serve`), with rotation, and print the result.",
    )
    p.add_argument("target", metavar="TARGET_NAME")
    p.set_defaults(handler=_cmd_backup)


def _cmd_backup(args: argparse.Namespace, ctx: Context) -> int:
    app = _open_app(ctx)
    line = _ProgressLine(ctx)
    try:
        target = app.target_by_name(args.target)
        backup = app.start_backup(target.id)
        while True:
            view = app.wait_backup(backup.id, timeout=0.2)
            if view.status != "running":
                break
            if ctx.cancel.is_set():
                with contextlib.suppress(Conflict):  # it may have ended meanwhile
                    app.cancel_backup(backup.id)
            p = view.progress
            if p is not None:
                table = f" {p.table}" if p.table else ""
                line.show(
                    f"dumping{table} ({p.tables_done}/{p.tables_total} tables) "
                    f"{p.rows:,} rows {_human(p.bytes_written)}"
                )
    finally:
        line.done()
        app.stop(timeout=0)
    if view.status != "success":
        if ctx.cancel.is_set():
            raise Cancelled(view.notes)
        ctx.stderr.write(f"dumper: backup of {target.name} failed: {scrub(view.notes)}\n")
        return EXIT_FAILED
    ctx.stdout.write(
        f"backup {view.id} of {target.name}: {view.file_name} ({_human(view.size_bytes or 0)}, "
        f"{view.tables} tables, {view.rows:,} rows, {view.duration_seconds:.1f} s, "
        f"sha256 {view.sha256})\n"
    )
    if view.notes:
        ctx.stdout.write(view.notes + "\n")
    return EXIT_OK


def _add_targets(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "targets",
        help="list the saved targets",
        description="List the targets saved in SQLITE_PATH with their schedule and last backup.",
    )
    p.set_defaults(handler=_cmd_targets)


def _cmd_targets(args: argparse.Namespace, ctx: Context) -> int:
    app = _open_app(ctx)
    try:
        targets = app.list_targets()
    finally:
        app.stop(timeout=0)
    if not targets:
        ctx.stdout.write("no targets saved\n")
        return EXIT_OK
    rows = [("NAME", "DATABASE", "SCHEDULE (UTC)", "KEEP", "LAST BACKUP")]
    for t in targets:
        last = "-"
        if t.last_backup_status:
            when = t.last_backup_at.strftime("%Y-%m-%d %H:%M") if t.last_backup_at else ""
            last = f"{t.last_backup_status} {when}".strip()
        if t.password_error:
            last += " (password must be entered again)"
        rows.append(
            (
                t.name,
                f"{t.user}@{t.host}:{t.port}/{t.dbname}",
                t.schedule_time or "-",
                f"{t.retention_days}d" if t.retention_days else "all",
                last,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        ctx.stdout.write(
            "  ".join(cell.ljust(w) for cell, w in zip(r[:4], widths, strict=True)) + f"  {r[4]}\n"
        )
    return EXIT_OK


# -- serve --------------------------------------------------------------------------------------


def _add_serve(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "serve",
        help="run the web UI, the REST API and the scheduler",
        description="Serve the UI and the REST API on APP_HOST:APP_PORT and run scheduled "
        "backups until SIGTERM or SIGINT. Settings come from the environment (see README).",
    )
    p.set_defaults(handler=_cmd_serve)


def _cmd_serve(args: argparse.Namespace, ctx: Context) -> int:
    from dumper import log
    from dumper.config import load_config
    from dumper.service import run

    config = load_config(ctx.env)  # ConfigError: one line, non-zero exit, nothing served
    log.setup(config.log_level)
    code = run(config)
    # A job stuck inside a server call cannot be interrupted; App.stop has already recorded it
    # as failed, so its thread (which the executor joins at exit, daemon or not) must not keep
    # the process alive until the container is killed.
    if threading.active_count() > 1:
        import logging

        logging.shutdown()
        sys.stderr.flush()
        os._exit(code)
    return code


# -- the table and the entry point -----------------------------------------------------------

SUBCOMMANDS: list[Callable[[argparse._SubParsersAction[_Parser]], None]] = [
    _add_serve,
    _add_dump,
    _add_restore,
    _add_inspect,
    _add_verify,
    _add_keygen,
    _add_backup,
    _add_targets,
]


def build_parser() -> _Parser:
    parser = _Parser(prog="dumper", description="Back up and restore MySQL and MariaDB databases.")
    parser.add_argument("--version", action="version", version=f"dumper {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in SUBCOMMANDS:
        add(sub)
    return parser


@contextlib.contextmanager
def _ctrl_c_cancels(cancel: threading.Event) -> Iterator[None]:
    """First Ctrl-C asks the running job to stop cleanly; a second one interrupts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdout_bytes: BinaryIO | None = None,
) -> int:
    """Run one command; return its exit code. Failures are one line on stderr."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    ctx = Context(
        env=os.environ if env is None else env,
        stdout=out,
        stderr=err,
        stdout_bytes=stdout_bytes or sys.stdout.buffer,
        progress_bar=err.isatty(),
    )
    try:
        args = build_parser().parse_args(argv)
        handler: Handler = args.handler
        with _ctrl_c_cancels(ctx.cancel):
            return handler(args, ctx)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except _UsageError as exc:
        return _fail(err, str(exc), EXIT_USAGE)
    except (Cancelled, KeyboardInterrupt) as exc:
        return _fail(
            err, f"dumper: cancelled: {exc}" if str(exc) else "dumper: cancelled", EXIT_CANCELLED
        )
    except InvalidInput as exc:
        return _fail(err, f"dumper: {exc.message}", EXIT_USAGE)
    except DumperError as exc:
        return _fail(err, f"dumper: {exc.message}", EXIT_FAILED)
    except BrokenPipeError:
        # As the Python docs advise: point stdout at devnull so the exit flush stays quiet.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return _fail(err, "dumper: output closed before the end (broken pipe)", EXIT_FAILED)
    except Exception as exc:
        return _fail(err, f"dumper: internal error: {type(exc).__name__}: {exc}", EXIT_FAILED)


def _fail(err: TextIO, message: str, code: int) -> int:
    err.write(scrub(" ".join(message.split())) + "\n")
    err.flush()
    return code
