"""Per column type, the SELECT expression with which the server itself writes an exact SQL literal.

Every expression yields ASCII or UTF-8 text and never NULL (a NULL value becomes the word NULL),
so a whole row can be built server-side with one CONCAT and a whole batch with one GROUP_CONCAT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INTEGER_TYPES = frozenset({"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year"})
DECIMAL_TYPES = frozenset({"decimal", "numeric"})
TEMPORAL_TYPES = frozenset({"date", "datetime", "timestamp", "time"})
STRING_TYPES = frozenset(
    {"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"}
)
BINARY_TYPES = frozenset(
    {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "vector"}
)
SPATIAL_TYPES = frozenset(
    {
        "geometry",
        "point",
        "linestring",
        "polygon",
        "multipoint",
        "multilinestring",
        "multipolygon",
        "geometrycollection",
        "geomcollection",
    }
)
# Text in these charsets converts to utf8mb4 and back without loss (MySQL's latin1 maps all 256
# bytes to distinct code points), so it is written readable; anything else goes out as hex with a
# charset introducer, which the server takes byte for byte (cp1251 0x98 would become '?').
READABLE_CHARSETS = frozenset({"utf8mb4", "utf8mb3", "utf8", "ascii", "latin1"})
# Key column types whose ORDER BY agrees with `>` on the literal we write: safe for keyset paging.
KEYSET_TYPES = (
    INTEGER_TYPES | DECIMAL_TYPES | TEMPORAL_TYPES | {"char", "varchar", "binary", "varbinary"}
)
# Types whose big values can be appended chunk by chunk with UPDATE ... CONCAT.
SPLITTABLE_TYPES = (STRING_TYPES - {"enum", "set"}) | (BINARY_TYPES - {"vector"})


_EMPTY_MEMBER = re.compile(r"[(,]''[,)]")


@dataclass(frozen=True)
class Column:
    """One column as information_schema.COLUMNS describes it."""

    name: str
    data_type: str  # lower case, e.g. "varchar"
    column_type: str = ""  # e.g. "varchar(10)", "int(10) unsigned"
    charset: str | None = None
    collation: str | None = None
    nullable: bool = True
    generated: bool = False  # virtual/stored/persistent: never written in INSERTs
    json: bool = False  # MySQL's JSON type or MariaDB's JSON alias (CHECK json_valid)

    @property
    def ident(self) -> str:
        return quote_ident(self.name)

    @property
    def is_text(self) -> bool:
        return self.data_type in STRING_TYPES and self.charset not in (None, "binary")

    @property
    def is_binary(self) -> bool:
        return (
            self.data_type in BINARY_TYPES
            or self.data_type in SPATIAL_TYPES
            or (self.data_type in STRING_TYPES and self.charset == "binary")
        )

    @property
    def splittable(self) -> bool:
        """A big value of this column can be rebuilt with appends (JSON and spatial cannot)."""
        return self.data_type in SPLITTABLE_TYPES and not self.json


def quote_ident(name: str) -> str:
    """`name` as a quoted identifier: backticks doubled."""
    return "`" + name.replace("`", "``") + "`"


def quote_string(text: str) -> str:
    """A single-quoted SQL string literal for trusted metadata (sql_mode, charset names)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _null_guard(col: Column, expr: str) -> str:
    if not col.nullable:
        return expr
    return f"IF({col.ident} IS NULL,'NULL',{expr})"


def _hex_literal(col: Column, value: str) -> str:
    """Hex of `value`; text gets its charset introducer so the server keeps its bytes as is."""
    if col.is_text and col.charset:
        return f"CONCAT('_{col.charset} X''',HEX({value}),'''')"
    return f"CONCAT('X''',HEX({value}),'''')"


def _quote_text(value: str) -> str:
    # QUOTE leaves CR as is, and the mysql/mariadb client drops a CR before a newline even
    # inside a string: the caller escapes CR in the whole batch (see escape_cr).
    # One explicit collation for every text piece: CONCAT of columns with different
    # collations would otherwise fail with "Illegal mix of collations".
    return f"QUOTE({value}) COLLATE utf8mb4_bin"


def escape_cr(literals: bytes) -> bytes:
    """Write every CR of server-made literals as the escape \\r.

    Only QUOTE()d strings can hold a CR (hex, numbers and dates cannot, and no UTF-8 sequence
    contains the byte 0x0D), and inside them a backslash escape is read back as CR.
    """
    return literals.replace(b"\r", b"\\r") if b"\r" in literals else literals


def literal_expr(col: Column) -> str:
    """SELECT expression giving the exact SQL literal of `col` as ASCII/UTF-8 text, never NULL."""
    c = col.ident
    t = col.data_type
    if t in INTEGER_TYPES or t in DECIMAL_TYPES:
        # the server's text of integers and decimals is exact
        return f"IFNULL({c},'NULL')" if col.nullable else c
    if t == "float":
        # FLOAT's own text keeps ~6 digits; as DOUBLE it prints the exact value
        return f"IFNULL(CAST({c} AS DOUBLE),'NULL')" if col.nullable else f"CAST({c} AS DOUBLE)"
    if t in ("double", "real", "double precision"):
        return f"IFNULL({c},'NULL')" if col.nullable else c
    if t == "bit":
        return _null_guard(col, f"CONCAT('b''',BIN({c}),'''')")
    if t in TEMPORAL_TYPES:
        # QUOTE of a temporal value is ASCII and turns NULL into the word NULL
        return f"QUOTE({c})"
    if col.is_binary:
        return _null_guard(col, _hex_literal(col, c))
    if t == "enum" and _EMPTY_MEMBER.search(col.column_type):
        # ENUM('', ...): the member '' and the error value '' (index 0) look alike as text;
        # the index tells them apart, and the restored table has the same members
        return f"IFNULL({c}+0,'NULL')" if col.nullable else f"{c}+0"
    if t == "json" or col.json or (col.is_text and col.charset in READABLE_CHARSETS):
        if col.charset in ("utf8mb4", None) or t == "json":
            return _quote_text(c)
        return _quote_text(f"CONVERT({c} USING utf8mb4)")
    if col.is_text:
        return _null_guard(col, _hex_literal(col, c))
    # types this module does not know (MariaDB inet6, uuid, ...): their text form reads back
    return _quote_text(f"CONVERT({c} USING utf8mb4)")


def row_expr(columns: list[Column]) -> str:
    """SELECT expression giving one row as `(v1,v2,...)`."""
    parts = ",',',".join(literal_expr(c) for c in columns)
    return f"CONCAT('(',{parts},')')"


def key_literal_expr(col: Column) -> str:
    """SELECT expression giving a literal of a (NOT NULL) key value fit for `col > literal`.

    Strings carry their charset and the column's collation so the comparison follows the same
    order as ORDER BY on the column.
    """
    c = col.ident
    t = col.data_type
    if t not in KEYSET_TYPES:
        raise ValueError(f"column type {t} cannot be used for keyset paging")
    if t in INTEGER_TYPES or t in DECIMAL_TYPES:
        return c
    if t in TEMPORAL_TYPES:
        return f"QUOTE({c})"
    if col.is_text and col.charset and col.collation:
        return f"CONCAT('_{col.charset} X''',HEX({c}),''' COLLATE {col.collation}')"
    return f"CONCAT('X''',HEX({c}),'''')"


def chunk_literal_expr(col: Column, start: int, length: int) -> str:
    """SELECT expression giving a literal of `length` characters (bytes) of `col` from `start`."""
    part = f"SUBSTRING({col.ident},{start},{length})"
    if col.is_text and col.charset in READABLE_CHARSETS:
        return _quote_text(f"CONVERT({part} USING utf8mb4)")
    return _hex_literal(col, part)


def empty_literal(col: Column) -> str:
    """The literal a split value starts from before its chunks are appended."""
    return "''" if col.is_text else "X''"
