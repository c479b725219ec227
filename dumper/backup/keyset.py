"""Keyset paging: the WHERE condition for rows whose key lies in a range (rows.py)."""

from __future__ import annotations

from collections.abc import Sequence


def _gt(cols: Sequence[str], vals: Sequence[str]) -> str:
    """(c1, c2, ...) > (v1, v2, ...) spelled so the range optimizer uses the index."""
    if len(cols) == 1:
        return f"{cols[0]} > {vals[0]}"
    return f"({cols[0]} > {vals[0]} OR ({cols[0]} = {vals[0]} AND {_gt(cols[1:], vals[1:])}))"


def _le(cols: Sequence[str], vals: Sequence[str]) -> str:
    if len(cols) == 1:
        return f"{cols[0]} <= {vals[0]}"
    return f"({cols[0]} < {vals[0]} OR ({cols[0]} = {vals[0]} AND {_le(cols[1:], vals[1:])}))"


def keyset_condition(
    cols: Sequence[str], after: Sequence[str] | None, upto: Sequence[str] | None
) -> str:
    """WHERE condition for keys in (after, upto]; either end may be open."""
    conds = []
    if after is not None:
        gt = _gt(cols, after)
        conds.append(gt if len(cols) == 1 else f"{cols[0]} >= {after[0]} AND {gt}")
    if upto is not None:
        le = _le(cols, upto)
        conds.append(le if len(cols) == 1 else f"{cols[0]} <= {upto[0]} AND {le}")
    return " AND ".join(conds) if conds else "1=1"
