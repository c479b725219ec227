"""Random values of every kind survive a dump and a load byte for byte (fixed seed)."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from dumper.backup.dsn import ConnParams, connect
from dumper.backup.dump import DumpOptions, dump_database
from dumper.backup.restore import restore_file
from tests.fixtures.dbcompare import assert_same, load_dump_file, query

pytestmark = pytest.mark.integration

Factory = Callable[[], ConnParams]
# code points a utf8mb4 column stores: all of Unicode but surrogates
_SPECIAL = "\x00\r\n\t\x1a'\"\\`%_;/*--#"


def _text(rnd: random.Random, n: int) -> str:
    out = []
    for _ in range(n):
        pick = rnd.random()
        if pick < 0.3:
            out.append(rnd.choice(_SPECIAL))
        elif pick < 0.6:
            out.append(chr(rnd.randrange(32, 127)))
        elif pick < 0.8:
            out.append(chr(rnd.randrange(0x80, 0x800)))
        else:
            cp = rnd.randrange(0x800, 0x110000)
            out.append(chr(cp) if not 0xD800 <= cp < 0xE000 else "x")
    return "".join(out)


def _double(rnd: random.Random) -> float:
    while True:
        d = struct.unpack("<d", rnd.randbytes(8))[0]
        if d == d and abs(d) != float("inf"):
            return float(d)


def _float(rnd: random.Random) -> float:
    while True:
        f = struct.unpack("<f", rnd.randbytes(4))[0]
        if f == f and abs(f) != float("inf"):
            return float(f)


@pytest.mark.parametrize("batch_bytes", [1 << 20, 4096])
def test_random_values_round_trip_exactly(
    scratch_db_factory: Factory, tmp_path: Path, batch_bytes: int
) -> None:
    src = scratch_db_factory()
    rnd = random.Random(20261126)
    conn = connect(src, autocommit=True)
    with conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE r (id INT PRIMARY KEY, t TEXT, v VARCHAR(300) CHARACTER SET utf8mb3,"
            " l VARCHAR(300) CHARACTER SET latin1, b BLOB, d DOUBLE, f FLOAT, m DECIMAL(65,30),"
            " k VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, UNIQUE KEY (k))"
            " DEFAULT CHARSET=utf8mb4"
        )
        rows = []
        for i in range(400):
            bmp = "".join(c for c in _text(rnd, rnd.randrange(0, 60)) if ord(c) < 0x10000)
            latin = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 40)))
            digits = "".join(rnd.choice("0123456789") for _ in range(35))
            frac = "".join(rnd.choice("0123456789") for _ in range(30))
            rows.append(
                (
                    i,
                    None if rnd.random() < 0.1 else _text(rnd, rnd.randrange(0, 200)),
                    None if rnd.random() < 0.1 else bmp,
                    latin,
                    None if rnd.random() < 0.1 else rnd.randbytes(rnd.randrange(0, 500)),
                    _double(rnd),
                    _float(rnd),
                    Decimal(("-" if rnd.random() < 0.5 else "") + digits + "." + frac),
                    f"{i:04d}" + _text(rnd, 10),
                )
            )
        cur.execute("SET SESSION sql_mode = 'STRICT_ALL_TABLES'")
        cur.executemany(
            "INSERT INTO r VALUES (%s,%s,%s,CAST(%s AS CHAR CHARACTER SET latin1),%s,%s,%s,%s,%s)",
            rows,
        )
    conn.close()
    assert query(src, "SELECT COUNT(*) FROM r")[0][0] == 400

    out = tmp_path / "r.sql.gz"
    dump_database(src, out, options=DumpOptions(batch_bytes=batch_bytes))
    dst = scratch_db_factory()
    load_dump_file(dst, out)
    assert_same(src, dst)
    again = scratch_db_factory()
    restore_file(out, again)
    assert_same(src, again)
