"""Streaming, bytes-level SQL statement splitter, following the mysql/mariadb client's rules.

Feed it chunks of any size; it returns complete statements (raw bytes, never decoded) with the
line each starts on. Quotes, comments, executable comments and DELIMITER are understood.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from dumper.errors import BackupCorrupt

# mariadb-dump >= 10.5.25/10.11.8 starts with this client command; the client skips it.
_SANDBOX = b"/*M!999999\\-"
# Between statements: whitespace and ordinary comments. A line comment must end with its
# newline (the rest of the line may still be coming); `--` needs a space/control char after it.
_LINE_COMMENT = rb"--(?:\n|[\x00-\x09\x0b-\x20][^\n]*+\n)|#[^\n]*+\n"
_BLOCK_COMMENT = rb"/\*(?!!|M!)[\s\S]*?\*/"
_LEAD = re.compile(rb"(?:[ \t\r\n\f\v]++|" + _LINE_COMMENT + b"|" + _BLOCK_COMMENT + b")*+")
_DELIMITER_CMD = re.compile(rb"(?i:delimiter)[ \t]+([^ \t\r\n]+)[^\n]*\n")
_DELIMITER_WORD = re.compile(rb"(?i:delimiter)[ \t]")
_TRAILING_SPACE = re.compile(rb"[ \t\r\n\f\v]+\Z")
# The regex walks string contents at ~200 MB/s; bytes.find does GB/s. Strings with a longer run
# than this between escapes (hex BLOB literals, long texts) are skipped with find instead.
SHORT_RUN = 256
_QUOTES = (ord("'"), ord('"'))
# `SET sql_mode = '...'` (ours, or mariadb-dump's /*!50003 ... */ form): under
# NO_BACKSLASH_ESCAPES a backslash in a string is a plain character (a routine body 'x\'), as
# the client knows from the server's status flags; a mode from a variable resets it.
_SET_SQL_MODE = re.compile(
    rb"(?is)(?:/\*!\d*\s*)?SET\s+(?:SESSION\s+|@@(?:SESSION\.)?)?sql_mode\s*=\s*(?:'([^']*)'|@)"
)


def _end_of(pattern: re.Pattern[bytes], buf: bytearray, pos: int) -> int:
    """Where a `(...)*+` pattern, which always matches, stops."""
    m = pattern.match(buf, pos)
    assert m is not None
    return m.end()


class Statement(NamedTuple):
    """One statement as it will be sent to the server (without its delimiter)."""

    sql: bytes
    line: int  # 1-based line of the file where the statement starts
    delimiter: bytes  # the delimiter in force when it ended (b";" outside DELIMITER blocks)


def _body_pattern(delimiter: bytes, backslash: bool = True) -> re.Pattern[bytes]:
    """The tokens a statement is made of, up to (not including) the delimiter.

    Every alternative either consumes a complete token or fails, and the single-byte
    fallbacks look ahead far enough to be sure, so a match that stops short of the
    delimiter always stops at a token boundary where scanning can resume later.
    """
    first = delimiter[:1]
    specials = set(b"'\"`-#/") | {first[0]}
    plain = b"[^" + b"".join(re.escape(bytes([c])) for c in sorted(specials)) + b"]"
    # Quoted strings with runs of at most SHORT_RUN plain bytes; a longer string stops the
    # match at its opening quote and is skipped with bytes.find (see _skip_string).
    single = rb"'[^'\\]{0,%d}+(?:(?:\\[\s\S]|'')[^'\\]{0,%d}+)*+'" % (SHORT_RUN, SHORT_RUN)
    double = rb'"[^"\\]{0,%d}+(?:(?:\\[\s\S]|"")[^"\\]{0,%d}+)*+"' % (SHORT_RUN, SHORT_RUN)
    if not backslash:  # NO_BACKSLASH_ESCAPES
        single = rb"'[^']{0,%d}+(?:''[^']{0,%d}+)*+'" % (SHORT_RUN, SHORT_RUN)
        double = rb'"[^"]{0,%d}+(?:""[^"]{0,%d}+)*+"' % (SHORT_RUN, SHORT_RUN)
    alternatives = [
        # plain text and 'strings' in one step: the bulk of INSERT values, fewer iterations
        b"(?:" + plain + b"*+" + single + b")++",
        plain + b"++",
        single,
        double,
        rb"`(?:[^`]++|``)*+`",
        _LINE_COMMENT,
        _BLOCK_COMMENT,
        rb"/\*M?!",  # executable comment: its content is code to the server
    ]
    # Single bytes that start nothing special here; each must see what follows before deciding.
    looks: dict[int, list[bytes]] = {
        ord("-"): [rb"(?=[^-]|-[^\x00-\x20])"],
        ord("/"): [rb"(?=[^*])"],
    }
    if len(delimiter) > 1:
        rest = re.escape(delimiter[1:])
        looks.setdefault(first[0], []).append(rb"(?=[\s\S]{%d})(?!%s)" % (len(delimiter) - 1, rest))
    elif first[0] in looks:
        del looks[first[0]]  # a one-byte delimiter is always a delimiter
    for byte, conds in looks.items():
        alternatives.append(re.escape(bytes([byte])) + b"".join(conds))
    return re.compile(b"(?:" + b"|".join(alternatives) + b")*+")


class StatementSplitter:
    """Split a stream of SQL bytes into statements; `feed` then `finish`."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pos = 0  # scan position in _buf
        self._stmt_start: int | None = None  # start of the statement being scanned
        self._line = 1  # line number at _counted
        self._counted = 0  # _buf index up to which newlines are counted
        self._stmt_line = 1
        self._string_at = -1  # opening quote of a long string being skipped...
        self._string_resume = 0  # ...and where its scan goes on
        self._backslash = True  # backslash escapes in strings (no NO_BACKSLASH_ESCAPES)
        self._set_delimiter(b";")

    @property
    def delimiter(self) -> bytes:
        return self._delimiter

    def _set_delimiter(self, delimiter: bytes) -> None:
        self._delimiter = delimiter
        self._body = _body_pattern(delimiter, self._backslash)

    def _note_sql_mode(self, sql: bytes) -> None:
        m = _SET_SQL_MODE.match(sql)
        if m is not None:
            backslash = m.group(1) is None or b"NO_BACKSLASH_ESCAPES" not in m.group(1).upper()
            if backslash != self._backslash:
                self._backslash = backslash
                self._set_delimiter(self._delimiter)

    def feed(self, data: bytes) -> list[Statement]:
        """Add bytes; return the statements they complete."""
        self._buf += data
        out: list[Statement] = []
        self._scan(out, eof=False)
        self._compact()
        return out

    def finish(self) -> list[Statement]:
        """End of input: return the last statement (a missing final delimiter is allowed).

        Raises BackupCorrupt when the input ends inside a quoted string or comment.
        """
        out: list[Statement] = []
        if self._buf and not self._buf.endswith(b"\n"):
            self._buf += b"\n"  # lets a final line comment or DELIMITER line complete
        self._scan(out, eof=True)
        if self._stmt_start is not None:
            start = self._stmt_start
            end = len(self._buf)
            if self._pos != end:  # the scan stopped at an unterminated string or comment
                self._count_to(start)
                raise BackupCorrupt(
                    f"SQL ends inside an unterminated quoted string or comment "
                    f"(statement starting at line {self._line})"
                )
            sql = _TRAILING_SPACE.sub(b"", bytes(self._buf[start:end]))
            if sql:
                out.append(Statement(sql, self._stmt_line, self._delimiter))
            self._stmt_start = None
            self._pos = end
        self._compact()
        return out

    def _count_to(self, index: int) -> None:
        if index > self._counted:
            self._line += self._buf.count(b"\n", self._counted, index)
            self._counted = index

    def _scan(self, out: list[Statement], *, eof: bool) -> None:
        buf = self._buf
        size = len(buf)
        while True:
            if self._stmt_start is None:
                pos = _end_of(_LEAD, buf, self._pos)
                self._pos = pos
                if pos >= size:
                    return
                # Decide what starts here only once its whole line is in (comments,
                # DELIMITER and the sandbox line are all line-based).
                if buf.find(b"\n", pos) < 0:
                    return
                if buf.startswith(b"/*", pos) and not (
                    buf.startswith(b"/*!", pos) or buf.startswith(b"/*M!", pos)
                ):
                    if eof:
                        self._count_to(pos)
                        raise BackupCorrupt(
                            f"SQL ends inside a comment opened at line {self._line}"
                        )
                    return  # an ordinary comment whose end has not arrived yet
                if buf.startswith(_SANDBOX, pos):
                    end = buf.find(b"*/", pos)
                    if end < 0:
                        if eof:
                            raise BackupCorrupt("SQL ends inside the sandbox-mode comment")
                        return
                    self._pos = end + 2
                    continue
                if _DELIMITER_WORD.match(buf, pos):
                    cmd = _DELIMITER_CMD.match(buf, pos)
                    if cmd is None:
                        self._count_to(pos)
                        raise BackupCorrupt(f"DELIMITER without a delimiter at line {self._line}")
                    self._set_delimiter(cmd.group(1))
                    self._pos = cmd.end()
                    continue
                self._stmt_start = pos
                self._count_to(pos)
                self._stmt_line = self._line
            end = _end_of(self._body, buf, self._pos)
            while not buf.startswith(self._delimiter, end):
                if end >= size or buf[end] not in _QUOTES:
                    self._pos = end
                    return  # more input needed (or, at the end, an unterminated construct)
                after = self._skip_string(buf, end)
                if after < 0:
                    self._pos = end
                    return
                end = _end_of(self._body, buf, after)
            with memoryview(buf) as view:  # one copy, not two
                sql = bytes(view[self._stmt_start : end])
            if len(sql) and sql[-1:] in b" \t\r\n\f\v":
                sql = _TRAILING_SPACE.sub(b"", sql)
            if sql:
                out.append(Statement(sql, self._stmt_line, self._delimiter))
                if sql[:1] in b"Ss/":
                    self._note_sql_mode(sql)
            self._stmt_start = None
            self._pos = end + len(self._delimiter)

    def _skip_string(self, buf: bytearray, start: int) -> int:
        """Index after the string opened at `start`, or -1 if its end has not arrived yet."""
        quote = buf[start : start + 1]
        pos = self._string_resume if self._string_at == start else start + 1
        size = len(buf)
        while True:
            close = buf.find(quote, pos)
            limit = close if close >= 0 else size
            escape = buf.find(b"\\", pos, limit) if self._backslash else -1
            if escape >= 0:
                if escape + 1 >= size:
                    pos = escape
                    break
                pos = escape + 2
                continue
            if close < 0 or close + 1 >= size:
                pos = limit  # at `close`: a doubled quote may follow in the next piece
                break
            if buf[close + 1] == quote[0]:
                pos = close + 2
                continue
            self._string_at = -1
            return close + 1
        self._string_at, self._string_resume = start, pos
        return -1

    def _compact(self) -> None:
        keep = self._pos if self._stmt_start is None else self._stmt_start
        if keep < 1 << 16 and keep * 2 < len(self._buf):
            return  # not worth moving yet
        self._count_to(keep)
        del self._buf[:keep]
        self._pos -= keep
        if self._stmt_start is not None:
            self._stmt_start -= keep
        self._counted -= keep
        if self._string_at >= 0:
            self._string_at -= keep
            self._string_resume -= keep


def split_all(data: bytes) -> list[Statement]:
    """Split a whole script at once (tests and small inputs)."""
    splitter = StatementSplitter()
    return splitter.feed(data) + splitter.finish()
