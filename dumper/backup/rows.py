"""Table data as INSERT statements of about batch_bytes each, read in batches the server formats
(values.py): integer keys by ranges of values, other keys by keyset, keyless tables by one
unbuffered SELECT; a row too large for one statement is split into an INSERT and UPDATEs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from dumper.backup.catalog import NO_DATA_ENGINES, Table
from dumper.backup.fileformat import comment, section
from dumper.backup.keyset import keyset_condition
from dumper.backup.session import Session, text
from dumper.backup.splitrow import dump_split_row
from dumper.backup.values import (
    INTEGER_TYPES,
    Column,
    escape_cr,
    key_literal_expr,
    row_expr,
)
from dumper.errors import DumpFailed

_TOO_BIG = b"\x00"  # stands for a row the server could not build (see _marked)
# Rows whose literal is at least this long are fetched one per result row instead of through
# GROUP_CONCAT, which copies every value into a work table first. Measured on MariaDB 10.11:
# 25-35 % less time (and server CPU) at 1-100 KB per row; at 256 B the driver's per-row cost in
# Python makes it a wash, and at 100 B GROUP_CONCAT is clearly faster.
WIDE_ROW_BYTES = 1024
# a query for wide rows brings this many INSERTs' worth (fewer round trips; each INSERT stays
# within batch_bytes)
WIDE_FETCH_BATCHES = 4


def _marked(row: str) -> str:
    """The row expression, or a NUL byte where the server could not build it.

    CONCAT yields NULL (and GROUP_CONCAT would skip the row) when a row exceeds
    max_allowed_packet. A raw NUL never occurs in our literals (QUOTE writes it as \\0), and a
    text marker keeps GROUP_CONCAT's work table in memory (a binary one goes to disk).
    """
    return f"IFNULL({row},'\\0')"


def has_data(table: Table) -> bool:
    """Whether a table's rows are dumped (not a MERGE, FEDERATED... table, not all generated)."""
    return table.engine not in NO_DATA_ENGINES and bool(table.insert_columns)


def int_key(table: Table) -> Column | None:
    """The single integer key a table is paged by in ranges of values, if it has one."""
    key = table.key
    if key is not None and len(key) == 1 and key[0].data_type in INTEGER_TYPES - {"year"}:
        return key[0]
    return None


def key_bounds(
    one: Callable[[str], tuple[Any, ...] | None], table: Table, key: Column
) -> tuple[int, int] | None:
    """The smallest and largest key value; None for an empty table."""
    row = one(f"SELECT MIN({key.ident}), MAX({key.ident}) FROM {table.source}")
    if row is None or row[0] is None:
        return None
    return int(row[0]), int(row[1])


class TableData:
    """Writes the rows of each table and counts them (per table: the manifest)."""

    def __init__(
        self,
        session: Session,
        batch_bytes: int,
        split_row_bytes: int,
        report: Callable[[], None],
        digest_to: Callable[[bytes], None] | None = None,
    ) -> None:
        self.sink = session.sink
        # bound once: the batch loops call them without another attribute lookup
        self.one = session.one
        self.write = session.write
        self.check_cancel = session.check_cancel
        self._unbuffered = session.unbuffered
        self._unbuffered_cursor = session.unbuffered_cursor
        self.report = report
        self.rows = 0
        self.table_rows: dict[str, int] = {}
        # per table: sha256 of its INSERT value lists in dump order, each followed by a comma,
        # so it does not depend on how rows were grouped into statements (the manifest)
        self.table_digests: dict[str, str] = {}
        self._digest = hashlib.sha256()
        # where the digested bytes go: this table's digest, or (parallel.py) the writer's queue
        self.digest: Callable[[bytes], None] = digest_to or self._update_digest
        self.warnings: list[str] = []  # what the file does not hold that the database does
        self.wanted = (batch_bytes, split_row_bytes)  # before fit_packet
        self.batch_bytes = batch_bytes
        self.split_bytes = split_row_bytes
        self.concat_max = 0
        self.max_packet = 0

    def fit_packet(self, max_packet: int) -> None:
        """Size statements for a server with this max_allowed_packet (the restore's, likely)."""
        self.max_packet = max_packet
        # a statement we write must fit the packet of a server like this one; leave headroom
        batch_bytes, split_row_bytes = self.wanted
        self.batch_bytes = max(4096, min(batch_bytes, max_packet // 4))
        self.split_bytes = max(self.batch_bytes, min(split_row_bytes, max_packet // 2))
        self.concat_max = max(self.split_bytes, 2 * self.batch_bytes) + 64

    def dump(self, table: Table) -> None:
        """The rows of `table` (after its CREATE TABLE), counted and digested."""
        self.begin(table)
        if self.preamble(table):
            self.body(table)
        self.end(table)

    def begin(self, table: Table) -> None:
        self.table_rows[table.name] = 0
        self._digest = hashlib.sha256()

    def end(self, table: Table) -> None:
        self.table_digests[table.name] = self._digest.hexdigest()

    def _update_digest(self, data: bytes) -> None:
        self._digest.update(data)

    def preamble(self, table: Table) -> bool:
        """The head of the table's data section; False when it has no data to dump."""
        if not has_data(table):
            return False
        self.write(section("Data for table", table.name))
        if table.history:  # MariaDB 10.11+: the rows keep their ROW START / ROW END values
            self.write("/*M!101100 SET SESSION system_versioning_insert_history = 1 */;\n")
        elif table.versioned:
            self.warnings.append(note := table.history_lost())
            self.write(f"-- {comment(note)}\n")
        return True

    def body(self, table: Table, bounds: tuple[int, int] | None = None) -> None:
        """The INSERTs of `table`; `bounds`: only integer keys in [lo, hi] (parallel.py)."""
        self.table_rows.setdefault(table.name, 0)
        if (key := int_key(table)) is not None:
            self._dump_rows_int_ranges(table, key, bounds)
        elif table.key is not None:
            self._dump_rows_keyset(table, table.key)
        else:
            self._dump_rows_streaming(table)

    def _insert_prefix(self, table: Table) -> bytes:
        cols = ",".join(c.ident for c in table.insert_columns)
        return f"INSERT INTO {table.ident} ({cols}) VALUES ".encode()

    def _write_insert(self, prefix: bytes, literals: bytes) -> None:
        # separate writes: the sink joins them into its chunk, one copy of the batch fewer
        self.sink.write(prefix)
        self.sink.write(escaped := escape_cr(literals))
        self.sink.write(b";\n")
        self.digest(escaped)
        self.digest(b",")

    def _write_inserts(self, prefix: bytes, parts: list[bytes]) -> None:
        for literals in parts:
            self._write_insert(prefix, literals)

    def count(self, table: Table, n: int) -> None:
        self.rows += n
        self.table_rows[table.name] += n

    def _fetch_target(self, table: Table) -> int:
        """Bytes of literals one range query should bring."""
        return self.batch_bytes * (WIDE_FETCH_BATCHES if table.wide else 1)

    def _fetch_range(
        self, table: Table, rexpr: str, cond: str
    ) -> tuple[int, list[bytes], int, bool]:
        """Rows in `cond`: (rows, INSERT value lists, their bytes, whether to retry with fewer).

        A retry is asked for when a row could not be built or is too large for one statement
        (it must be split: narrow down to it), or when the range held far more than a batch.
        """
        target = self._fetch_target(table)
        if table.wide:
            count, parts, size, unfit = self._fetch_rows(table, rexpr, cond, 2 * target)
        else:
            res = self.one(
                f"SELECT COUNT(*), GROUP_CONCAT({_marked(rexpr)} SEPARATOR ',')"
                f" FROM {table.source} WHERE {cond}"
            )
            assert res is not None
            count, data = int(res[0]), res[1] or b""
            parts, size = [data] if data else [], len(data)
            unfit = len(data) >= self.concat_max - 8 or _TOO_BIG in data
        if count and not unfit:
            table.wide = size >= WIDE_ROW_BYTES * count
        return count, parts, size, unfit or (count > 1 and size > 2 * target)

    def _fetch_rows(
        self, table: Table, rexpr: str, cond: str, cap: int
    ) -> tuple[int, list[bytes], int, bool]:
        """Rows matching `cond` one per result row, grouped into value lists of a batch each.

        Unbuffered, so memory stays bounded by `cap`: past it (or at a row that must be split)
        the rest is counted and dropped, and the caller retries with a narrower range.
        """
        parts: list[bytes] = []
        group: list[bytes] = []
        count = size = group_size = 0
        unfit = False
        cur = self._unbuffered_cursor()
        with self._unbuffered(cur):
            cur.execute(f"SELECT {_marked(rexpr)} FROM {table.source} WHERE {cond}")
            while rows := cur.fetchmany(256):
                for (value,) in rows:
                    count += 1
                    size += len(value) + 1
                    if unfit:
                        continue
                    too_big = value == _TOO_BIG or len(value) >= self.concat_max - 8
                    if too_big or (count > 1 and size > cap):
                        unfit, parts, group = True, [], []
                        continue
                    if group and group_size + len(value) > self.batch_bytes:
                        parts.append(b",".join(group))
                        group, group_size = [], 0
                    group.append(value)
                    group_size += len(value) + 1
        if group:
            parts.append(b",".join(group))
        return count, parts, max(size - 1, 0), unfit

    def _dump_rows_int_ranges(
        self, table: Table, key: Column, bounds: tuple[int, int] | None
    ) -> None:
        """Integer key: a batch is a range of key values, sized from the rows per value so far.

        Where keys are dense (auto-increment) no query is needed to find where a batch ends.
        Where they are sparse, a guessed range could hold far more rows than a batch after a
        change of density, so the end is looked up (LIMIT 1 OFFSET n-1), as for other keys.
        """
        prefix = self._insert_prefix(table)
        rexpr = row_expr(table.insert_columns)
        k = key.ident
        if bounds is None:
            found_bounds = key_bounds(self.one, table, key)
            if found_bounds is None:
                return
            bounds = found_bounds
        lo, hi = bounds
        guess = 2 * table.avg_row_length + 32  # hex doubles binary data
        table.wide = guess >= WIDE_ROW_BYTES
        rows = max(1, min(50_000, self._fetch_target(table) // guess))  # rows per batch
        span = rows  # key values per batch; assume dense until seen otherwise
        after = lo - 1
        while after < hi:
            self.check_cancel()
            if span <= 4 * rows:
                upto = min(after + span, hi)
            else:
                found = self.one(
                    f"SELECT {k} FROM {table.source} WHERE {k} > {after}"
                    f" ORDER BY {k} LIMIT 1 OFFSET {rows - 1}"
                )
                upto = hi if found is None else min(int(found[0]), hi)
            count, parts, size, retry = self._fetch_range(
                table, rexpr, f"{k} > {after} AND {k} <= {upto}"
            )
            target = self._fetch_target(table)
            if retry and count > 1:
                # too much for one batch: aim at `rows` rows with the density just seen
                rows = max(1, min(rows // 2, rows * target // max(size, 1)))
                span = max(1, min(span // 2, (upto - after) * rows // count))
                continue
            if retry:  # one row too large for a statement
                row = self.one(
                    f"SELECT {k} FROM {table.source} WHERE {k} > {after} AND {k} <= {upto}"
                )
                assert row is not None
                dump_split_row(self, table, [key], [text(row[0])], prefix)
                self.count(table, 1)
            elif count:
                self._write_inserts(prefix, parts)
                self.count(table, count)
                rows = max(1, min(rows * 2, 1_000_000, target * count // max(size, 1)))
                span = max(1, min(span * 2, (upto - after) * rows // count))
            else:
                # a gap: continue right before the next key instead of widening blindly
                nxt = self.one(f"SELECT MIN({k}) FROM {table.source} WHERE {k} > {upto}")
                upto = hi if nxt is None or nxt[0] is None else int(nxt[0]) - 1
            after = upto
            self.report()

    def _dump_rows_keyset(self, table: Table, key: list[Column]) -> None:
        prefix = self._insert_prefix(table)
        rexpr = row_expr(table.insert_columns)
        key_idents = [c.ident for c in key]
        key_exprs = ",".join(key_literal_expr(c) for c in key)
        order = ",".join(key_idents)
        guess = 2 * table.avg_row_length + 32  # hex doubles binary data
        table.wide = guess >= WIDE_ROW_BYTES
        n = max(1, min(50_000, self._fetch_target(table) // guess))
        after: list[str] | None = None
        while True:
            self.check_cancel()
            where = "" if after is None else f" WHERE {keyset_condition(key_idents, after, None)}"
            bound_row = self.one(
                f"SELECT {key_exprs} FROM {table.source}{where}"
                f" ORDER BY {order} LIMIT 1 OFFSET {n - 1}"
            )
            upto = None if bound_row is None else [text(v) for v in bound_row]
            cond = keyset_condition(key_idents, after, upto)
            count, parts, size, retry = self._fetch_range(table, rexpr, cond)
            target = self._fetch_target(table)
            if retry:
                if n > 1:
                    # fewer rows: proportional to what came back, at least halved
                    n = max(1, min(n // 2, n * target // max(size, 1)))
                    continue
                assert upto is not None  # one row that exists: the bound query found it
                dump_split_row(self, table, key, upto, prefix)
                self.count(table, 1)
            elif count:
                self._write_inserts(prefix, parts)
                self.count(table, count)
                n = max(1, min(n * 4, 1_000_000, target * count // max(size, 1)))
            self.report()
            if upto is None:
                return
            after = upto

    def _dump_rows_streaming(self, table: Table) -> None:
        """Tables without a usable key: one unbuffered SELECT, grouped into batches here."""
        prefix = self._insert_prefix(table)
        sql = f"SELECT {_marked(row_expr(table.insert_columns))} FROM {table.source}"
        batch: list[bytes] = []
        size = 0
        cur = self._unbuffered_cursor()
        with self._unbuffered(cur):
            cur.execute(sql)
            while True:
                self.check_cancel()
                rows = cur.fetchmany(1000)
                for (value,) in rows:
                    if value == _TOO_BIG:
                        raise DumpFailed(
                            f"table {table.name} has a row too large to dump "
                            "(larger than max_allowed_packet) and no primary or unique key "
                            "to split it by"
                        )
                    if size and size + len(value) > self.batch_bytes:
                        self._flush_batch(table, prefix, batch)
                        batch, size = [], 0
                        self.check_cancel()
                    batch.append(value)
                    size += len(value) + 1
                if not rows:
                    break
        if batch:
            self._flush_batch(table, prefix, batch)

    def _flush_batch(self, table: Table, prefix: bytes, batch: list[bytes]) -> None:
        self._write_insert(prefix, b",".join(batch))
        self.count(table, len(batch))
        self.report()
