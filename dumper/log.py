"""The one logger of dumper, with secrets scrubbed from every record."""

from __future__ import annotations

import logging
import re
import sys

_LOGGER_NAME = "dumper"
# mysql://user:secret@host -> mysql://user:***@host ; Authorization: Basic xxx -> ***
_SCRUBBERS = (
    (re.compile(r"(mysql://[^:/@\s]*:)[^@\s]*@"), r"\1***@"),
    (re.compile(r"(?i)(authorization:\s*)(\S+\s+)?\S+"), r"\1***"),
    (re.compile(r'(?i)("?pass(?:word|phrase)"?\s*[:=]\s*)("[^"]*"|\S+)'), r"\1***"),
    # an age identity (encrypted backups), wherever it shows
    (re.compile(r"AGE-SECRET-KEY-1[0-9A-Za-z]+"), "AGE-SECRET-KEY-1***"),
)


def scrub(text: str) -> str:
    """Return text with DSN passwords, Authorization values, password and passphrase fields
    and age identities masked."""
    for pattern, repl in _SCRUBBERS:
        text = pattern.sub(repl, text)
    return text


class _ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        return True


def get_logger(name: str | None = None) -> logging.Logger:
    """The dumper logger or one of its children (`dumper.jobs`, ...)."""
    return logging.getLogger(_LOGGER_NAME if not name else f"{_LOGGER_NAME}.{name}")


def setup(level: str = "INFO") -> None:
    """Send dumper's log to stderr at `level`; safe to call twice."""
    root = logging.getLogger(_LOGGER_NAME)
    root.setLevel(level.upper())
    if not any(getattr(h, "_dumper", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        handler.addFilter(_ScrubFilter())
        handler._dumper = True  # type: ignore[attr-defined]
        root.addHandler(handler)
