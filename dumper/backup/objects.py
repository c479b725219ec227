"""Schema objects other than tables: sequences, routines, views, triggers, events, each written
with the sql_mode, charset and collation it was created under; views in dependency order."""

from __future__ import annotations

import contextlib
import graphlib
import re
from typing import Any

from dumper.backup.fileformat import FILE_SQL_MODE, section
from dumper.backup.session import Session, text
from dumper.backup.values import quote_ident, quote_string
from dumper.backup.visibility import cannot_read
from dumper.errors import DumpFailed

_UTF8_CHARSETS = frozenset({"utf8mb4", "utf8mb3", "utf8"})


class SchemaObjects:
    """Writes the objects of one database; keeps what a restore has set so far (collation)."""

    def __init__(self, session: Session, database: str, mariadb: bool, version: str = "") -> None:
        self.session = session
        self._query = session.query
        self._one = session.one
        self._write = session.write
        self._check_cancel = session.check_cancel
        self.database = database
        self.mariadb = mariadb
        self.version = version  # names the grant a missing definition needs
        self.db_collation: str | None = None  # the one a restore has set so far (see below)
        self.source_collation = ""
        self.single_byte_charsets: set[str] | None = None
        self.client_texts: dict[str, bytes | None] = {}  # see _client_bytes

    def dump_sequence(self, name: str) -> None:
        ident = quote_ident(name)
        row = self._one(f"SHOW CREATE SEQUENCE {ident}")
        state = self._one(f"SELECT next_not_cached_value, cycle_count FROM {ident}")
        assert row is not None and state is not None
        self._write(
            section("Sequence", name)
            + f"DROP TABLE IF EXISTS {ident};\n"
            + f"{text(row[1])};\n"
            + f"DO SETVAL({ident}, {text(state[0])}, 0, {text(state[1])});\n"
        )

    def _replay(self, cs_client: str, body: str) -> tuple[str, str | None]:
        """(client charset to replay under, the text to write; None: write it by _prepared).

        The file is UTF-8: a definition made under another client charset is written as it is
        when its text reads the same under that charset (see _client_text); on MariaDB, one
        whose text that charset holds exactly (sjis, gbk, big5) is sent through PREPARE from
        its bytes in hex; anything else is replayed under utf8mb4.
        """
        same = self._client_text(cs_client, body)
        if same is not None:
            return cs_client, same
        if self.mariadb and self._client_bytes(cs_client, body) is not None:
            return cs_client, None
        return "utf8mb4", body

    def _prepared(self, cs_client: str, body: str) -> str:
        """`body` created through PREPARE: the hex in the file is ASCII, so no splitter can
        misread a multi-byte character whose second byte is a backslash or a quote."""
        h = body.encode("utf-8", "surrogateescape").hex()
        return (
            f"SET @dumper_sql = CONVERT(_utf8mb4 X'{h}' USING {cs_client});\n"
            "PREPARE dumper_stmt FROM @dumper_sql;\nEXECUTE dumper_stmt;\n"
            "DEALLOCATE PREPARE dumper_stmt;\n"
        )

    def _set_context(self, sql_mode: str, client: str, collation: str) -> str:
        parts = [f"SET sql_mode = {quote_string(sql_mode)};"] if sql_mode is not None else []
        parts.append(f"SET character_set_client = {client};")
        parts.append(f"SET character_set_results = {client};")
        if collation:
            parts.append(f"SET collation_connection = {collation};")
        return "\n".join(parts) + "\n"

    def _client_text(self, cs_client: str, body: str) -> str | None:
        """`body` as written in the file when replayed under `cs_client`, or None if it cannot be.

        SHOW CREATE gives the text in UTF-8; the server made it from the bytes the client sent in
        its own charset. Those bytes (the server converts them: exact, not Python's codec) go in
        the file as they are when they are valid UTF-8, e.g. a UTF-8 terminal that declared
        latin1. Single-byte charsets only: in multi-byte ones (sjis) a backslash can be the
        second byte of a character, which the splitter would read as an escape.
        """
        if not cs_client:
            return None
        if cs_client in _UTF8_CHARSETS or body.isascii():
            return body
        if self.single_byte_charsets is None:
            self.single_byte_charsets = {
                text(r[0])
                for r in self._query(
                    "SELECT CHARACTER_SET_NAME FROM information_schema.CHARACTER_SETS"
                    " WHERE MAXLEN = 1"
                )
            }
        if cs_client not in self.single_byte_charsets:
            return None
        raw = self._client_bytes(cs_client, body)
        with contextlib.suppress(UnicodeDecodeError):
            return None if raw is None else raw.decode("utf-8")
        return None

    def _client_bytes(self, cs_client: str, body: str) -> bytes | None:
        """`body` in `cs_client` as the server converts it, or None if it is not exact."""
        if not cs_client:
            return None
        key = f"{cs_client}:{body}"
        if key not in self.client_texts:
            h = body.encode("utf-8", "surrogateescape").hex()
            row = self._one(
                f"SELECT HEX(CONVERT(_utf8mb4 X'{h}' USING {cs_client})),"
                f" HEX(CONVERT(CONVERT(_utf8mb4 X'{h}' USING {cs_client}) USING utf8mb4))"
            )
            ok = row is not None and text(row[1]).lower() == h
            self.client_texts[key] = bytes.fromhex(text(row[0])) if ok and row else None
        return self.client_texts[key]

    def _reset_context(self) -> str:
        return f"SET sql_mode = '{FILE_SQL_MODE}';\n/*!40101 SET NAMES utf8mb4 */;\n"

    def _check_view(self, name: str) -> None:
        """Refuse a view whose tables or columns are gone: its CREATE VIEW would fail the restore.

        (mysqldump refuses it too.) A definer that no longer exists does not stop the dump.
        """
        import pymysql

        try:
            self._query(f"SHOW COLUMNS FROM {quote_ident(name)}")
        except pymysql.err.MySQLError as exc:
            if exc.args and exc.args[0] == 1356:
                raise DumpFailed(
                    f"view {name} references tables, columns or functions that do not exist "
                    f"(or cannot be used), so it could not be restored: {exc.args[-1]}"
                ) from exc
            if not exc.args or exc.args[0] != 1449:  # 1449: the definer does not exist
                raise

    def _db_collation_context(self, collation: str) -> str:
        """Make the restored database's default collation the one the object was created under.

        A routine's, trigger's or event's variables and parameters without an explicit charset
        take the database default at creation, and SHOW CREATE records it; a restore into a
        database with another default would change the object, even one with the source's
        default. ALTER DATABASE without a name acts on the database the restore runs in;
        write_db_collation_reset puts it back.
        """
        if not collation or collation == self.db_collation:
            return ""
        save = ""
        if self.db_collation is None:
            save = "SET @dumper_old_collation_database = @@collation_database;\n"
            if not self.source_collation:
                row = self._one(
                    "SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA"
                    " WHERE SCHEMA_NAME = DATABASE()"
                )
                self.source_collation = text(row[0]) if row else ""
            if collation == self.source_collation and not self.mariadb:
                # MySQL cannot put the target's own default back (no PREPARE of ALTER
                # DATABASE): as mysqldump, only change it for objects that need another one
                return ""
        self.db_collation = collation
        return save + f"ALTER DATABASE COLLATE {collation};\n"

    def write_db_collation_reset(self) -> None:
        if self.db_collation is None:
            return
        if self.mariadb:  # back to the restored database's own default
            self._write(
                "SET @dumper_sql = CONCAT('ALTER DATABASE COLLATE ',"
                " @dumper_old_collation_database);\n"
                "PREPARE dumper_stmt FROM @dumper_sql;\nEXECUTE dumper_stmt;\n"
                "DEALLOCATE PREPARE dumper_stmt;\n"
            )
        else:  # MySQL cannot prepare ALTER DATABASE: the source's default, as mysqldump does
            self._write(f"ALTER DATABASE COLLATE {self.source_collation};\n")

    def _show_create(self, kind: str, name: str, sql: str, body: int) -> tuple[Any, ...]:
        """SHOW CREATE's row; an object listed but shown without its body (or refused with
        1142, "command denied") fails the dump naming the object and the grant it needs."""
        import pymysql

        try:
            row = self._one(sql)
        except pymysql.err.MySQLError as exc:
            if exc.args and exc.args[0] == 1142:
                raise cannot_read(kind, name, self.version, self.database) from exc
            raise
        if row is None or row[body] is None:
            raise cannot_read(kind, name, self.version, self.database)
        return row

    def dump_views(self, views: list[str]) -> None:
        defs: dict[str, tuple[str, str, str]] = {}
        for name in views:
            self._check_cancel()
            row = self._show_create("views", name, f"SHOW CREATE VIEW {quote_ident(name)}", 1)
            self._check_view(name)
            defs[name] = (text(row[1]), text(row[2]), text(row[3]))
        for name in view_order({n: d[0] for n, d in defs.items()}):
            create, cs, coll = defs[name]
            # a view the server cannot open as its definer (e.g. the definer is gone) comes back
            # with every column named `db`.`table`.`col`; restored elsewhere those names would
            # point at the source database
            create = create.replace(quote_ident(self.database) + ".", "")
            ident = quote_ident(name)
            client, body = self._replay(cs, create)
            self._write(
                section("View", name)
                + f"DROP TABLE IF EXISTS {ident};\n"
                + f"DROP VIEW IF EXISTS {ident};\n"
                + self._set_context(FILE_SQL_MODE, client, coll)
                + (f"{body};\n" if body is not None else self._prepared(client, create))
                + self._reset_context()
            )

    def _write_compound(
        self, kind: str, name: str, create: str, row: tuple[Any, ...], extra_context: str = ""
    ) -> None:
        """A routine, trigger or event between DELIMITER lines, under the context it was created
        in: `row` holds SHOW CREATE's sql_mode, client charset, collation and database collation
        (the caller reorders them so)."""
        sql_mode, cs, coll, db_coll = (text(v) for v in row)
        client, body = self._replay(cs, create)
        context = self._db_collation_context(db_coll)
        context += self._set_context(sql_mode, client, coll)
        if body is None:
            statement = self._prepared(client, create)
        else:
            delim = compound_delimiter(body)
            # the delimiter goes on a line of its own: a body may end in a -- or # comment,
            # which would swallow a delimiter on the same line
            statement = f"DELIMITER {delim}\n{body}\n{delim}\nDELIMITER ;\n"
        self._write(
            section(kind.title(), name)
            + context
            + extra_context
            # dropped under the object's own sql_mode: MariaDB knows DROP PACKAGE only in ORACLE
            + f"DROP {kind} IF EXISTS {quote_ident(name)};\n"
            + statement
            + self._reset_context()
        )

    def dump_routines(self) -> None:
        order = {"PACKAGE": 0, "PACKAGE BODY": 1, "FUNCTION": 2, "PROCEDURE": 3}
        routines = sorted(
            (
                (text(n), text(t))
                for n, t in self._query(
                    "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES"
                    " WHERE ROUTINE_SCHEMA = DATABASE()"
                )
            ),
            key=lambda r: (order.get(r[1], 9), r[0].encode()),
        )
        for name, kind in routines:
            self._check_cancel()
            ident = quote_ident(name)
            row = self._show_create("routines", name, f"SHOW CREATE {kind} {ident}", 2)
            self._write_compound(kind, name, text(row[2]), (row[1], row[3], row[4], row[5]))

    def dump_triggers(self) -> None:
        rows = self._query(
            "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_TIMING,"
            " ACTION_ORDER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"
        )
        # creating them in ACTION_ORDER per table/event/timing reproduces their firing order
        rows.sort(key=lambda r: (text(r[1]).encode(), text(r[2]), text(r[3]), int(r[4] or 0)))
        for trow in rows:
            self._check_cancel()
            name = text(trow[0])
            ident = quote_ident(name)
            row = self._show_create("triggers", name, f"SHOW CREATE TRIGGER {ident}", 2)
            create = unqualify_trigger(text(row[2]), self.database)
            self._write_compound("TRIGGER", name, create, (row[1], row[3], row[4], row[5]))

    def dump_events(self) -> None:
        names = sorted(
            (
                text(r[0])
                for r in self._query(
                    "SELECT EVENT_NAME FROM information_schema.EVENTS"
                    " WHERE EVENT_SCHEMA = DATABASE()"
                )
            ),
            key=str.encode,
        )
        for name in names:
            self._check_cancel()
            ident = quote_ident(name)
            row = self._show_create("events", name, f"SHOW CREATE EVENT {ident}", 3)
            self._write_compound(
                "EVENT",
                name,
                text(row[3]),
                (row[1], row[4], row[5], row[6]),
                f"SET time_zone = {quote_string(text(row[2]))};\n",
            )
            self._write("SET time_zone = '+00:00';\n")


def compound_delimiter(body: str) -> str:
    """A DELIMITER for `body` that occurs nowhere in it (not even in its strings or comments).

    `;;` as mariadb-dump writes, unless the body holds it; then the first free candidate.
    """
    for candidate in (";;", "$$", "//", "@@", "!!"):
        if candidate not in body:
            return candidate
    n = 3
    while ";" * n in body:
        n += 1
    return ";" * n


def unqualify_sequences(create: str, database: str) -> str:
    """Drop the source database from `nextval(`db`.`seq`)` in a MariaDB CREATE TABLE.

    SHOW CREATE TABLE always names the database there; left in, a table restored into another
    database would keep drawing numbers from the source database's sequence.
    """
    pattern = re.compile(
        r"\b(nextval|lastval|setval)\(" + re.escape(quote_ident(database)) + r"\.", re.IGNORECASE
    )
    return pattern.sub(r"\1(", create)


def unqualify_trigger(create: str, database: str) -> str:
    """Drop the source database from a trigger's name and table (`db.trg ... ON db.t`).

    SHOW CREATE TRIGGER returns the statement as it was typed; a qualified one would create the
    trigger in the source database when the dump is restored into another. The body is kept.
    """
    m = re.search(r"\bfor\s+each\s+row\b", create, re.IGNORECASE)
    if m is None:
        return create
    names = [re.escape(quote_ident(database))]
    if re.fullmatch(r"[A-Za-z0-9_$]+", database):
        names.append(re.escape(database))
    qualifier = re.compile(r"(?<![\w`$.])(?:" + "|".join(names) + r")\s*\.\s*(?=[`\w$])")
    return qualifier.sub("", create[: m.start()]) + create[m.start() :]


def view_order(definitions: dict[str, str]) -> list[str]:
    """View names ordered so each view comes after the views its definition names.

    A name found anywhere in the text (even in a string) counts as a dependency: a false edge only
    constrains the order further. Views that become ready together come in name order. Where a
    cycle blocks every view left (impossible on a live server, but a false edge can make one),
    the first of them by name goes next and the rest follow its lead.
    """
    names = sorted(definitions, key=str.encode)
    deps: dict[str, set[str]] = {}
    for name in names:
        create = definitions[name]
        # skip "CREATE ... VIEW `name` AS" so a view does not depend on itself
        head = f"VIEW {quote_ident(name)} AS "
        body = create[create.find(head) + len(head) :] if head in create else create
        deps[name] = {other for other in names if other != name and quote_ident(other) in body}
    done: list[str] = []
    while len(done) < len(names):
        placed = set(done)
        left = [n for n in names if n not in placed]
        sorter = graphlib.TopologicalSorter({n: deps[n] - placed for n in left})
        with contextlib.suppress(graphlib.CycleError):
            sorter.prepare()  # on a cycle, get_ready() still gives all it does not block
        while ready := sorted(sorter.get_ready(), key=str.encode):
            done.extend(ready)
            sorter.done(*ready)
        if len(done) < len(names):
            done.append(next(n for n in left if n not in set(done)))
    return done
