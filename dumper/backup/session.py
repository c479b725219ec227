"""What a dump or restore does with its connection: guarded queries, the sink, cancel, and the
one way a server error becomes text."""

from __future__ import annotations

from typing import Any


def server_error_text(exc: BaseException) -> str:
    """A driver error as the mysql client shows it: "(errno) message"."""
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) >= 2:
        return f"({args[0]}) {args[1]}"
    return str(exc) or type(exc).__name__
