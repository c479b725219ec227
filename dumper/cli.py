"""The `dumper` command line: the entry point, the subcommand table, and the commands on files
and DSNs (dump, restore, inspect, verify); the service's commands are in cli_service.py, what
all share in cli_common.py.

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
from pathlib import Path
from types import FrameType
from typing import Any, BinaryIO, TextIO

from dumper import __version__
from dumper.cli_common import (
    EXIT_CANCELLED,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    Context,
    Handler,
    Parser,
    ProgressLine,
    UsageError,
    add_age_key,
    add_dsn,
    age_identities,
    bar,
    dsn_params,
    human,
)
from dumper.cli_service import add_backup, add_keygen, add_serve, add_targets
from dumper.errors import Cancelled, DumperError, InvalidInput
from dumper.log import scrub

# -- dump -------------------------------------------------------------------------------------


def _add_dump(sub: argparse._SubParsersAction[Parser]) -> None:
    p = sub.add_parser(
        "dump",
        help="dump one database to a .sql.gz / .sql file or stdout, or a whole server",
        description="Dump one database. Leave the password out of the URL and give it in "
        "--password-file or MYSQL_PWD. A URL without a database (mysql://u@h:3306/) dumps "
        "every database the user can see, except mysql, information_schema, "
        "performance_schema, sys and --exclude, into the folder -o DIR, one DATABASE.sql.gz "
        "each; DIR appears complete or not at all.",
    )
    add_dsn(p)
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="FILE.sql.gz (gzip), FILE.sql (plain), FILE.sql.gz.age (gzip, then encrypted "
        "with age: needs --recipient or --passphrase-file) or - (plain SQL on stdout); a "
        "new or empty folder for a whole server",
    )
    p.add_argument(
        "--exclude",
        metavar="PATTERNS",
        help="whole server: leave out these databases (comma-separated, * matches any text)",
    )
    p.add_argument(
        "--recipient",
        action="append",
        metavar="age1...",
        help="encrypt to this age public key (repeat for several); only its identity reads "
        "the file",
    )
    p.add_argument(
        "--passphrase-file",
        type=Path,
        metavar="FILE",
        help="encrypt with the passphrase on the first line of FILE (age scrypt)",
    )
    p.add_argument(
        "--parallel",
        type=int,
        choices=range(1, 5),
        default=1,
        metavar="N",
        help="read table data over N connections (1-4) sharing one snapshot; needs RELOAD for "
        "a brief global read lock, else one connection is used and the dump says so",
    )
    p.set_defaults(handler=_cmd_dump)


def _recipients(args: argparse.Namespace, *, server: bool = False) -> list[Any]:
    from dumper.backup.agefile import Passphrase, X25519Recipient
    from dumper.cli_common import read_password

    if args.recipient and args.passphrase_file is not None:
        raise InvalidInput("give --recipient or --passphrase-file, not both")
    found: list[Any] = [X25519Recipient.parse(r) for r in args.recipient or ()]
    if args.passphrase_file is not None:
        found.append(Passphrase(read_password(args.passphrase_file).encode()))
    if server:
        return found  # each file of the set is named .sql.gz.age then
    encrypted_name = args.output.endswith(".age")
    if found and not encrypted_name:
        raise InvalidInput("an encrypted dump is written to FILE.sql.gz.age: name it so")
    if encrypted_name and not found:
        raise InvalidInput(f"{args.output} needs --recipient or --passphrase-file to encrypt it")
    return found


def _cmd_dump(args: argparse.Namespace, ctx: Context) -> int:
    from dumper.backup.dump import DumpOptions, dump_database, dump_to_stream

    options = DumpOptions(parallel_connections=args.parallel)
    params = dsn_params(args, ctx, server=True)
    if not params.database:
        return _dump_server(args, ctx, params, options)
    if args.exclude is not None:
        raise InvalidInput("--exclude needs a URL without a database (a whole server)")
    encrypt_to = _recipients(args)
    line, progress = _dump_progress(ctx)

    try:
        if args.output == "-":
            result = dump_to_stream(
                params,
                ctx.stdout_bytes,
                compress=False,
                progress=progress,
                cancel=ctx.cancel,
                options=options,
            )
            ctx.stdout_bytes.flush()
            return EXIT_OK
        result = dump_database(
            params,
            Path(args.output),
            progress=progress,
            cancel=ctx.cancel,
            encrypt_to=encrypt_to,
            options=options,
        )
    finally:
        line.done()
    for warning in result.warnings:  # what the file does not keep, or how it was made
        ctx.stderr.write(f"dumper: warning: {warning}\n")
    ctx.stdout.write(
        f"dumped {result.tables} tables, {result.rows:,} rows to {result.path} "
        f"({human(result.size_bytes)}, sha256 {result.sha256})\n"
    )
    return EXIT_OK


def _dump_progress(ctx: Context) -> tuple[ProgressLine, Callable[[Any], None]]:
    line = ProgressLine(ctx)

    def progress(p: Any) -> None:
        table = f" {p.table}" if p.table else ""
        line.show(
            f"dumping{table} ({p.tables_done}/{p.tables_total} tables) "
            f"{p.rows:,} rows {human(p.bytes_written)}"
        )

    return line, progress


def _dump_server(args: argparse.Namespace, ctx: Context, params: Any, options: Any) -> int:
    from dumper.backup.serverset import dump_server, parse_exclude

    if args.output == "-":
        raise InvalidInput("a whole server is dumped into a folder: give -o DIR, not -")
    encrypt_to = _recipients(args, server=True)
    line, progress = _dump_progress(ctx)
    try:
        result = dump_server(
            params,
            Path(args.output),
            exclude=parse_exclude(args.exclude),
            progress=progress,
            cancel=ctx.cancel,
            options=options,
            encrypt_to=encrypt_to,
        )
    finally:
        line.done()
    for warning in result.warnings:
        ctx.stderr.write(f"dumper: warning: {warning}\n")
    for e in result.databases:
        ctx.stdout.write(
            f"{e.database}: {e.tables} tables, {e.rows:,} rows, {human(e.size_bytes)}\n"
        )
    ctx.stdout.write(
        f"dumped {len(result.databases)} databases, {result.tables} tables, "
        f"{result.rows:,} rows to {result.path} ({human(result.size_bytes)})\n"
    )
    return EXIT_OK


# -- restore ----------------------------------------------------------------------------------


def _add_restore(sub: argparse._SubParsersAction[Parser]) -> None:
    p = sub.add_parser(
        "restore",
        help="restore a dump file into an existing database",
        description="Check the whole file first (nothing runs if it is truncated or corrupt), "
        "then execute it in order in the database of the URL, which must exist.",
    )
    p.add_argument("file", type=Path, metavar="FILE")
    add_dsn(p)
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
    p.add_argument(
        "--parallel",
        type=int,
        choices=range(1, 5),
        default=1,
        metavar="N",
        help="load table data over N connections (1-4); a file of another tool uses one",
    )
    add_age_key(p)
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
        parallel_connections=args.parallel,
    )

    identities = age_identities(args)
    params = dsn_params(args, ctx)
    line = ProgressLine(ctx)
    line.show(f"checking {args.file.name}", force=True)

    def progress(p: RestoreProgress) -> None:
        fraction = p.bytes_read / p.bytes_total if p.bytes_total else 1.0
        line.show(
            f"restoring {bar(fraction)} {fraction:4.0%} "
            f"{human(p.bytes_read)}/{human(p.bytes_total)} {p.statements:,} statements"
        )

    started = time.monotonic()
    try:
        result = restore_file(
            args.file,
            params,
            progress=progress,
            cancel=ctx.cancel,
            options=options,
            identities=identities,
        )
    finally:
        line.done()
    ctx.stdout.write(
        f"restored {len(result.tables)} tables, {result.rows:,} rows "
        f"({result.statements:,} statements, {human(result.sql_bytes)} of SQL) "
        f"into {params.safe_url()} in {time.monotonic() - started:.1f} s\n"
    )
    for note in result.notes:
        ctx.stdout.write(f"note: {note}\n")
    return EXIT_OK


# -- inspect ----------------------------------------------------------------------------------


def _add_inspect(sub: argparse._SubParsersAction[Parser]) -> None:
    p = sub.add_parser(
        "inspect",
        help="print what a dump file holds",
        description="Producer, tables with rows, views, routines, triggers, events, complete.",
    )
    p.add_argument("file", type=Path, metavar="FILE")
    add_age_key(p)
    p.set_defaults(handler=_cmd_inspect)


def _cmd_inspect(args: argparse.Namespace, ctx: Context) -> int:
    from dumper.backup.inspect import inspect_file

    found = inspect_file(args.file, age_identities(args))
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


def _add_verify(sub: argparse._SubParsersAction[Parser]) -> None:
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
    add_age_key(p)
    p.set_defaults(handler=_cmd_verify)


def _cmd_verify(args: argparse.Namespace, ctx: Context) -> int:
    from dumper.backup.agestream import check_structure, is_age
    from dumper.backup.verify import verify_file

    identities = age_identities(args)
    if identities is None and args.file.is_file() and is_age(args.file):
        found = check_structure(args.file)  # BackupCorrupt when even that is broken
        ctx.stdout.write(
            f"{args.file}: encrypted with age ({', '.join(found.stanza_types)}), its structure "
            f"is whole ({found.chunks} chunks, {human(found.plain_bytes)} inside)\n"
        )
    result = verify_file(args.file, identities=identities)  # AgeKeyRequired for the rest
    if args.dsn:
        from dumper.backup.compare import scratch_name, verify_by_restore

        params = dsn_params(args, ctx)
        scratch = scratch_name(params.database, os.getpid())
        checked = verify_by_restore(
            args.file, params, scratch, cancel=ctx.cancel, identities=identities
        )
        if not checked.passed:
            ctx.stderr.write(f"{args.file}: test restore FAILED: {'; '.join(checked.notes)}\n")
            return EXIT_FAILED
        ctx.stdout.write(f"{args.file}: test restore passed: {'; '.join(checked.notes)}\n")
    kind = ("age, " if result.encrypted else "") + ("gzip" if result.compressed else "plain")
    when = f", completed {result.completed_at}" if result.completed_at else ""
    tables = ""
    if result.producer == "dumper":
        rows = sum(result.table_rows.values())
        tables = f", {len(result.table_rows)} tables, {rows:,} rows"
    ctx.stdout.write(
        f"{args.file}: OK ({result.producer}, {kind}, {human(result.size_bytes)}, "
        f"{human(result.sql_bytes)} of SQL{when}{tables})\n"
    )
    return EXIT_OK


# -- the table and the entry point -----------------------------------------------------------

SUBCOMMANDS: list[Callable[[argparse._SubParsersAction[Parser]], None]] = [
    add_serve,
    _add_dump,
    _add_restore,
    _add_inspect,
    _add_verify,
    add_keygen,
    add_backup,
    add_targets,
]


def build_parser() -> Parser:
    parser = Parser(prog="dumper", description="Back up and restore MySQL and MariaDB databases.")
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
    except UsageError as exc:
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
