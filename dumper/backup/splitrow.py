"""A row too large for one statement: INSERT it without its big values, then UPDATE ... CONCAT
them on in chunks (each within a batch), so the file loads on a server with the same
max_allowed_packet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dumper.backup.catalog import Table
from dumper.backup.values import (
    Column,
    chunk_literal_expr,
    empty_literal,
    escape_cr,
    literal_expr,
    quote_ident,
    quote_string,
)
from dumper.errors import DumpFailed

if TYPE_CHECKING:
    from dumper.backup.rows import TableData


def dump_split_row(
    data: TableData, table: Table, key: list[Column], keyvals: list[str], prefix: bytes
) -> None:
    """One row too large for a statement: INSERT it without its big values, then append them."""
    if table.history:  # an UPDATE would turn the restored row into history of its own
        raise DumpFailed(
            f"system-versioned table {table.name} has a row too large for one statement "
            "(larger than max_allowed_packet allows); it cannot be split"
        )
    cols = table.insert_columns
    where = " AND ".join(f"{c.ident} = {v}" for c, v in zip(key, keyvals, strict=True))
    lengths = data.one(
        f"SELECT {','.join(f'LENGTH({literal_expr(c)})' for c in cols)}"
        f" FROM {table.source} WHERE {where}"
    )
    assert lengths is not None
    big: list[Column] = []
    exprs: list[str] = []
    insert_size = len(prefix) + 16
    for col, length in zip(cols, lengths, strict=True):
        # NULL: the literal itself exceeded max_allowed_packet
        if col.splittable and (length is None or int(length) > data.batch_bytes):
            big.append(col)
            exprs.append(quote_string(empty_literal(col)))
            continue
        if length is None:
            raise DumpFailed(
                f"table {table.name}: column {col.name} ({col.data_type}) holds a value "
                "whose literal exceeds max_allowed_packet, and it cannot be split"
            )
        insert_size += int(length) + 1
        exprs.append(literal_expr(col))
    if insert_size > data.max_packet - 1024:
        raise DumpFailed(
            f"table {table.name}: a row is too large to dump: its values that cannot be "
            f"split need {insert_size} bytes, more than max_allowed_packet"
        )
    joined = ",',',".join(exprs)
    row = data.one(f"SELECT CONCAT('(',{joined},')') FROM {table.source} WHERE {where}")
    assert row is not None and row[0] is not None
    data.sink.write(prefix + escape_cr(row[0]) + b";\n")
    data.digest(escape_cr(row[0]) + b",")
    keep = "".join(
        f", {quote_ident(name)} = {quote_ident(name)}" for name in sorted(table.on_update)
    )
    for col in big:
        size_fn = "CHAR_LENGTH" if col.is_text else "LENGTH"
        total_row = data.one(f"SELECT {size_fn}({col.ident}) FROM {table.source} WHERE {where}")
        assert total_row is not None
        total = int(total_row[0])
        # characters per chunk such that the literal stays within one batch
        step = max(1, data.batch_bytes // (8 if col.is_text else 2))
        for start in range(1, total + 1, step):
            data.check_cancel()
            expr = chunk_literal_expr(col, start, step)
            chunk = data.one(f"SELECT {expr} FROM {table.source} WHERE {where}")
            assert chunk is not None
            data.write(f"UPDATE {table.ident} SET {col.ident} = CONCAT({col.ident}, ")
            data.sink.write(escape_cr(chunk[0]))
            data.digest(escape_cr(chunk[0]))
            data.write(f"){keep} WHERE {where};\n")
