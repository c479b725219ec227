"""The subcommands that use the service's saved state (SQLITE_PATH, BACKUP_DIR, APP_ENC_KEY):
serve, keygen, backup, targets.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
from typing import Any

from dumper.cli_common import EXIT_FAILED, EXIT_OK, Context, Parser, ProgressLine, human
from dumper.errors import Cancelled, Conflict
from dumper.log import scrub

# -- keygen, backup, targets (the saved targets of the service) -------------------------------


def add_keygen(sub: argparse._SubParsersAction[Parser]) -> None:
    p = sub.add_parser(
        "keygen",
        help="print a fresh APP_ENC_KEY, or with --age a new age identity",
        description="Print 32 random bytes, base64, for APP_ENC_KEY. With --age: a new age "
        "identity for encrypted backups, as age-keygen writes it (keep it offline: without "
        "it the backups cannot be read), and its public key (age1...) on stderr.",
    )
    p.add_argument("--age", action="store_true", help="a new age identity and its recipient")
    p.set_defaults(handler=_cmd_keygen)


def _cmd_keygen(args: argparse.Namespace, ctx: Context) -> int:
    from dumper.config import generate_key

    if args.age:
        from datetime import datetime

        from dumper.backup.agefile import X25519Identity, keygen_text

        identity = X25519Identity.generate()
        ctx.stdout.write(keygen_text(identity, datetime.now().astimezone()))
        ctx.stderr.write(f"Public key: {identity.recipient}\n")
        return EXIT_OK

    ctx.stdout.write(generate_key() + "\n")
    return EXIT_OK


def _open_app(ctx: Context) -> Any:
    from dumper import log
    from dumper.app import App
    from dumper.config import load_config

    log.setup("WARNING")
    # no start(): crash recovery and the scheduler belong to the serving process
    return App.build(load_config(ctx.env))


def add_backup(sub: argparse._SubParsersAction[Parser]) -> None:
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
    line = ProgressLine(ctx)
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
                    f"{p.rows:,} rows {human(p.bytes_written)}"
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
        f"backup {view.id} of {target.name}: {view.file_name} ({human(view.size_bytes or 0)}, "
        f"{view.tables} tables, {view.rows:,} rows, {view.duration_seconds:.1f} s, "
        f"sha256 {view.sha256})\n"
    )
    if view.notes:
        ctx.stdout.write(view.notes + "\n")
    return EXIT_OK


def add_targets(sub: argparse._SubParsersAction[Parser]) -> None:
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


def add_serve(sub: argparse._SubParsersAction[Parser]) -> None:
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
