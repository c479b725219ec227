"""Benchmark: `dumper dump`/`restore` against `mariadb-dump | gzip -6` and `zcat | mariadb`.

Builds a bench database (mixed-type rows plus 50 KB blobs, times --scale) once, then times both
sides interleaved for a few rounds (our dump and restore also over two connections) and prints
medians, ratios against the targets, seconds per GB of SQL (to compare scales), file sizes and
peak RSS.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dumper.backup.dsn import ConnParams, connect, parse_dsn  # noqa: E402

# ratio of dumper's time to the reference's; "dump2"/"restore2": ours over two connections
TARGETS = {"dump": 0.45, "dump2": 0.35, "restore": 0.70, "restore2": 0.70}
RSS_TARGET_MB = 64.0
SIZE_TARGET = 1.05  # our file at most 5 % larger than mariadb-dump | gzip -6's
BLOB_BYTES = 50_000


@dataclass
class Run:
    seconds: float
    max_rss_mb: float


def timed(cmd: list[str], env: dict[str, str]) -> Run:
    """Run a command; wall time and the peak RSS of the process (and what it waited for)."""
    with tempfile.TemporaryFile() as errfile:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=errfile)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        errfile.seek(0)
        err = errfile.read().decode(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"bench: command failed ({proc.returncode}): {shlex.join(cmd)}\n{err}")
    return Run(seconds, usage.ru_maxrss / 1024)


def admin(params: ConnParams, *statements: str) -> None:
    conn = connect(params.with_database(""), autocommit=True)
    try:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
    finally:
        conn.close()


def row_count(params: ConnParams, table: str) -> int:
    try:
        conn = connect(params, autocommit=True)
    except Exception:
        return -1
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT COUNT(*) FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
                (table,),
            )
            if cur.fetchone()[0] == 0:
                return -1
            cur.execute(f"SELECT COUNT(*) FROM `{table}`")
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def settle(params: ConnParams, timeout: float = 90.0) -> None:
    """Wait until InnoDB has written back the pages the previous run dirtied.

    A restore leaves dirty pages that the server flushes in the background for a while, and
    every run leaves files the kernel writes back; whichever run came next would share the CPU
    and the disk with that (seen here: the same dump 12.6 s or 14.7 s depending on its turn).
    """
    deadline = time.monotonic() + timeout
    conn = connect(params.with_database(""), autocommit=True)
    try:
        with conn.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_%'")
                status = {str(k).upper(): int(v) for k, v in cur.fetchall()}
                total = status.get("INNODB_BUFFER_POOL_PAGES_TOTAL", 0)
                if status.get("INNODB_BUFFER_POOL_PAGES_DIRTY", 0) <= total // 100:
                    break
                time.sleep(1)
    finally:
        conn.close()
    os.sync()  # and the files of the previous run, written back by the kernel
    time.sleep(1)


def build(params: ConnParams, rows: int, blobs: int) -> None:
    """Create the bench database unless it already holds exactly this data."""
    if row_count(params, "mixed") == rows and row_count(params, "blobs") == blobs:
        print(f"bench: reusing {params.database} ({rows:,} rows, {blobs:,} blobs)")
        return
    print(f"bench: building {params.database}: {rows:,} mixed rows, {blobs:,} x 50 KB blobs ...")
    started = time.perf_counter()
    admin(
        params,
        f"DROP DATABASE IF EXISTS `{params.database}`",
        f"CREATE DATABASE `{params.database}` CHARACTER SET utf8mb4",
    )
    conn = connect(params, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION unique_checks=0, foreign_key_checks=0")
            cur.execute("CREATE TABLE digits (d INT PRIMARY KEY)")
            cur.execute("INSERT INTO digits VALUES " + ",".join(f"({i})" for i in range(1000)))
            cur.execute(
                "CREATE TABLE mixed ("
                " id INT NOT NULL PRIMARY KEY,"
                " qty INT NOT NULL, big BIGINT, price DECIMAL(12,2), ratio DOUBLE, temp FLOAT,"
                " name VARCHAR(64) NOT NULL, note TEXT, status ENUM('new','paid','shipped','void'),"
                " created DATETIME NOT NULL, day DATE, updated TIMESTAMP NULL, dur TIME,"
                " flags BIT(8), token VARBINARY(16), maybe INT NULL,"
                " KEY (name), KEY (created)"
                ") ENGINE=InnoDB"
            )
            for start in range(0, rows, 100_000):
                count = min(100_000, rows - start)
                cur.execute(
                    "INSERT INTO mixed SELECT n, n % 1000, n * 7919, (n % 100000) / 7,"
                    " n / 3.0, n / 7.0, CONCAT('customer ', n, ' ', LEFT(MD5(n), 12)),"
                    " IF(n % 3 = 0, NULL,"
                    "    CONCAT('note: it''s \"', n, '\"\\n', REPEAT('x', n % 50))),"
                    " ELT(1 + n % 4, 'new', 'paid', 'shipped', 'void'),"
                    " '2020-01-01' + INTERVAL n SECOND, '2020-01-01' + INTERVAL (n % 3650) DAY,"
                    " IF(n % 5 = 0, NULL, FROM_UNIXTIME(1600000000 + n)),"
                    " SEC_TO_TIME(n % 86400), n % 256, UNHEX(MD5(n)), IF(n % 2, n, NULL)"
                    f" FROM (SELECT {start} + a.d * 1000 + b.d + 1 AS n"
                    "       FROM digits a JOIN digits b) s"
                    f" WHERE n <= {start + count}"
                )
            cur.execute("DROP TABLE digits")
            cur.execute(
                "CREATE TABLE blobs (id INT PRIMARY KEY, label VARCHAR(40), data MEDIUMBLOB)"
            )
            batch: list[tuple[int, str, bytes]] = []
            for i in range(1, blobs + 1):
                # half random (like photos), half repetitive (like documents)
                data = os.urandom(BLOB_BYTES) if i % 2 else (b"%08d " % i) * (BLOB_BYTES // 9)
                batch.append((i, f"blob {i}", data))
                if len(batch) == 20 or i == blobs:
                    cur.executemany("INSERT INTO blobs VALUES (%s, %s, %s)", batch)
                    batch = []
    finally:
        conn.close()
    print(f"bench: built in {time.perf_counter() - started:.0f} s")


def sql_bytes(path: Path) -> int:
    """The uncompressed size of a .sql.gz (the amount of SQL a run moved)."""
    import gzip

    total = 0
    with gzip.open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            total += len(chunk)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", default="mysql://root@127.0.0.1:3306/dumper_bench")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--blobs", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="50k rows, 200 blobs: a smoke run")
    parser.add_argument(
        "--scale", type=int, default=1, help="N times the rows and blobs (own database)"
    )
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.blobs = 50_000, 200
    args.rows, args.blobs = args.rows * args.scale, args.blobs * args.scale
    if args.scale != 1:
        args.dsn += f"_x{args.scale}"
    for tool in ("mariadb-dump", "mariadb", "gzip", "zcat"):
        if not shutil.which(tool):
            raise SystemExit(f"bench: {tool} is not installed")

    env = dict(os.environ)
    src = parse_dsn(args.dsn, env_password=env.get("MYSQL_PWD"))
    dst = src.with_database(src.database + "_restore")
    env["MYSQL_PWD"] = src.password
    build(src, args.rows, args.blobs)

    work = Path(args.workdir or tempfile.mkdtemp(prefix="dumper-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    ours_file, theirs_file = work / "ours.sql.gz", work / "theirs.sql.gz"
    py = [sys.executable, "-m", "dumper"]
    conn_args = ["-h", src.host, "-P", str(src.port), "-u", src.user]
    src_url = f"mysql://{src.user}@{src.host}:{src.port}/{src.database}"
    dst_url = f"mysql://{dst.user}@{dst.host}:{dst.port}/{dst.database}"
    their_dump = (
        f"mariadb-dump {shlex.join(conn_args)} --single-transaction --hex-blob "
        f"{shlex.quote(src.database)} | gzip -6 > {shlex.quote(str(theirs_file))}"
    )
    their_restore = (
        f"zcat {shlex.quote(str(ours_file))} | mariadb {shlex.join(conn_args)} "
        f"{shlex.quote(dst.database)}"
    )
    jobs = {
        ("dump", "ours"): lambda: timed([*py, "dump", src_url, "-o", str(ours_file)], env),
        ("dump", "ref"): lambda: timed(["bash", "-o", "pipefail", "-c", their_dump], env),
        ("dump2", "ours"): lambda: timed(
            [*py, "dump", src_url, "-o", str(work / "ours2.sql.gz"), "--parallel", "2"], env
        ),
        ("restore", "ours"): lambda: timed([*py, "restore", str(ours_file), dst_url], env),
        ("restore", "ref"): lambda: timed(["bash", "-o", "pipefail", "-c", their_restore], env),
        ("restore2", "ours"): lambda: timed(
            [*py, "restore", str(ours_file), dst_url, "--parallel", "2"], env
        ),
    }
    results: dict[tuple[str, str], list[Run]] = {key: [] for key in jobs}

    def fresh_target() -> None:
        admin(
            dst,
            f"DROP DATABASE IF EXISTS `{dst.database}`",
            f"CREATE DATABASE `{dst.database}` CHARACTER SET utf8mb4",
        )

    for rnd in range(args.rounds):
        sides = ("ours", "ref") if rnd % 2 == 0 else ("ref", "ours")
        for op in ("dump", "dump2", "restore", "restore2"):
            for side in sides:
                if (op, side) not in jobs:
                    continue
                if op in ("restore", "restore2"):
                    fresh_target()
                settle(src)
                run = jobs[(op, side)]()
                results[(op, side)].append(run)
                print(
                    f"  round {rnd + 1} {op:7} {side:4} {run.seconds:7.2f} s "
                    f"{run.max_rss_mb:6.1f} MB",
                    flush=True,
                )
    admin(dst, f"DROP DATABASE IF EXISTS `{dst.database}`")
    results[("dump2", "ref")] = results[("dump", "ref")]  # the same reference, one connection
    results[("restore2", "ref")] = results[("restore", "ref")]
    sql_gb = sql_bytes(ours_file) / 1e9
    size_ratio = ours_file.stat().st_size / theirs_file.stat().st_size

    print()
    print(
        f"data: {args.rows:,} mixed rows + {args.blobs:,} x 50 KB blobs; "
        f"ours.sql.gz {ours_file.stat().st_size / 1e6:.1f} MB, "
        f"mariadb-dump|gzip {theirs_file.stat().st_size / 1e6:.1f} MB; "
        f"{args.rounds} rounds, medians; {sql_gb:.2f} GB of SQL"
    )
    print(
        f"{'operation':10} {'dumper s':>9} {'reference s':>12} {'ratio':>6} {'target':>7} "
        f"{'s per GB':>9} {'peak RSS MB':>12}  verdict"
    )
    ok = True
    for op, target in TARGETS.items():
        ours = statistics.median(r.seconds for r in results[(op, "ours")])
        ref = statistics.median(r.seconds for r in results[(op, "ref")])
        rss = max(r.max_rss_mb for r in results[(op, "ours")])
        ratio = ours / ref
        met = ratio <= target and rss <= RSS_TARGET_MB
        ok = ok and met
        print(
            f"{op:10} {ours:9.2f} {ref:12.2f} {ratio:6.2f} {'<=' + str(target):>7} "
            f"{ours / sql_gb:9.2f} {rss:12.1f}  {'met' if met else 'MISSED'}"
        )
    size_met = size_ratio <= SIZE_TARGET
    ok = ok and size_met
    print(
        f"file size: ours / reference = {size_ratio:.3f} (target <= {SIZE_TARGET}): "
        f"{'met' if size_met else 'MISSED'}"
    )
    for op in TARGETS:
        pairs = zip(results[(op, "ours")], results[(op, "ref")], strict=True)
        print(
            f"{op} ratio per round: " + ", ".join(f"{a.seconds / b.seconds:.2f}" for a, b in pairs)
        )
    print(
        f"reference: dump = mariadb-dump --single-transaction --hex-blob | gzip -6; "
        f"restore = zcat ours.sql.gz | mariadb; RSS target <= {RSS_TARGET_MB:.0f} MB"
    )
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
