"""The live row-count parity check on a large database: 50 tables, 1,000,000 rows in all,
on a primary and an identical restore, in a throwaway PostgreSQL server on loopback.

It times the probe the check uses (exact ``count(*)`` per table, and the column types,
inside one read-only, repeatable-read snapshot per side), and shows the walks wrote
nothing: the primary's ``n_tup_ins + n_tup_upd + n_tup_del`` over all tables is the same
before and after. Prints medians.

    python bench/parity.py [--runs 5] [--tables 50] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fixtures.probes.db import DbProbe, DbTarget  # noqa: E402
from fixtures.redact import Redactor  # noqa: E402
from sandbox.parts.postgres import Postgres  # noqa: E402

WRITES = """select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)
from pg_stat_user_tables"""


def sizes(tables: int, rows: int) -> list[int]:
    """Uneven, as real tables are: the first quarter weigh three times the rest; the sum is
    exactly ``rows``."""
    weights = [3 if n < tables // 4 else 1 for n in range(tables)]
    out = [rows * w // sum(weights) for w in weights]
    out[0] += rows - sum(out)
    return out


def build(pg: Postgres, dbname: str, tables: int, rows: int) -> None:
    pg.create_database(dbname, owner="postgres")
    with pg.superuser(dbname) as conn:
        for n, size in enumerate(sizes(tables, rows)):
            conn.execute(f"CREATE TABLE t{n:02d} (id bigint PRIMARY KEY, payload text)")
            conn.execute(f"INSERT INTO t{n:02d} SELECT g, md5(g::text) "
                         f"FROM generate_series(1, {size}) g")
        conn.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tables", type=int, default=50)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work, Postgres(Path(work)) as pg:
        began = time.perf_counter()
        for name in ("bench_primary", "bench_restored"):
            build(pg, name, args.tables, args.rows)
        pg.create_role("bench_reader", "bench-pw")
        for name in ("bench_primary", "bench_restored"):
            with pg.superuser(name) as conn:
                conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO bench_reader")
        print(f"built 2 x {args.tables} tables in {time.perf_counter() - began:.1f} s")
        sides = [DbTarget(name, f"postgresql://bench_reader@127.0.0.1:{pg.port}/{name}",
                          "bench-pw") for name in ("bench_primary", "bench_restored")]
        with pg.superuser("bench_primary") as conn:
            writes_before = conn.execute(WRITES).fetchone()[0]
        walls, total = [], 0
        for _ in range(args.runs):
            probe = DbProbe({"connect": 2.0, "read": 5.0}, Redactor())  # no memo between runs
            started = time.perf_counter()
            counts = [probe.tables(side, ["public"], 60.0).counts for side in sides]
            walls.append(time.perf_counter() - started)
            probe.close()
            total = sum(counts[0].values())
            assert counts[0] == counts[1], "identical databases must count the same"
        with pg.superuser("bench_primary") as conn:
            conn.execute("SELECT pg_stat_force_next_flush()")
            writes_after = conn.execute(WRITES).fetchone()[0]
        print(f"exact parity of {len(counts[0])} tables, {total:,} rows per side "
              f"(primary and restore): median {statistics.median(walls):.2f} s over "
              f"{args.runs} runs (min {min(walls):.2f}, max {max(walls):.2f}); "
              f"{statistics.median(walls) / (2 * len(counts[0])) * 1000:.1f} ms per table count")
        print(f"rows written on the primary during the walks: {writes_after - writes_before} "
              "(the probe's sessions are read-only)")


if __name__ == "__main__":
    main()
