"""Import of a 100,000-row xlsx address book through the import service (not HTTP).

    python bench/import_book.py [--rows 100000] [--postgres | --database-url URL] [--redis-url URL]

Generates the book (phone, name, birthday, 2 custom fields; ~1% bad numbers, some
duplicates) with openpyxl's write-only mode, migrates a database (default: a fresh SQLite
file in a temporary directory; `--postgres` for a fresh database on the local PostgreSQL),
creates a tenant, and then imports the file in a FRESH subprocess that does nothing else, so
its peak RSS (VmHWM, see bench/_memory.py) is the import's own. Prints the elapsed seconds,
the peak RSS and the counts. Target (issue 4, with campaign planning): ≤ 60 s and
≤ 400 MB; the import alone aims at ≤ 25 s and ≤ 200 MB. Redis: `--redis-url`, else an
embedded redis-server.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._memory import peak_rss_mb  # noqa: E402


def import_in_subprocess(
    database_url: str, redis_url: str, tenant_id: str, path: Path, timeout: float = 300
) -> dict[str, Any]:
    """Run `--child` in a new interpreter; returns its JSON line (seconds, peak_rss_mb …)."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        "--database-url",
        database_url,
        "--redis-url",
        redis_url,
        "--tenant",
        tenant_id,
        "--file",
        str(path),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"import child failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child(args: argparse.Namespace) -> None:
    """Import one file into a new book, the way POST /v1/books/import does for a big file."""
    from relay.contacts.addressbooks import create_book
    from relay.contacts.imports import Upload, create_job, inspect_upload, run_import
    from relay.storage.models import Tenant
    from relay.wiring import build_runtime, set_runtime

    rt = build_runtime(
        {"DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url, "LOG_LEVEL": "WARNING"}
    )
    set_runtime(rt)
    path = Path(args.file)
    started, cpu = time.perf_counter(), time.process_time()
    upload = Upload(path=path, filename=path.name, kind="xlsx", size=path.stat().st_size)
    with rt.session() as session:
        tenant = session.get(Tenant, args.tenant)
        if tenant is None:
            raise SystemExit(f"no tenant {args.tenant}")
        estimate = inspect_upload(upload, "address_book")
        book = create_book(session, tenant, f"bench {time.time()}", "bench", rt.now(), "importing")
        job = create_job(session, tenant, "address_book", estimate, rt.now(), book.id)
        run_import(session, rt, job, upload, {"actor": "bench", "filename": path.name})
        session.commit()
        result = {
            "seconds": round(time.perf_counter() - started, 2),
            # CPU time of this process: what the import costs when the machine is shared
            "cpu_seconds": round(time.process_time() - cpu, 2),
            # this address space's own peak (bench/_memory.py says why not ru_maxrss)
            "peak_rss_mb": peak_rss_mb(),
            "book_id": book.id,
            "job_id": job.id,
            "processed": job.processed,
            "accepted": job.accepted,
            "rejected": job.rejected,
            "by_reason": job.report["by_reason"],
        }
    print(json.dumps(result))


def main() -> None:
    """Generate, migrate, import in a child, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="a fresh relay_bench database on the local PostgreSQL (or RELAY_BENCH_DATABASE_URL)",
    )
    parser.add_argument("--redis-url", default=os.environ.get("RELAY_BENCH_REDIS_URL"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tenant", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    from bench._services import bench_database_url, machine
    from relay.adapters.embedded_redis import EmbeddedRedis
    from relay.storage.db import upgrade
    from relay.tenancy.tenants import create_tenant
    from relay.wiring import build_runtime
    from tests.support.sheets import write_big_book

    work = Path(tempfile.mkdtemp(prefix="relay-bench-import-"))
    database_url = args.database_url or (
        bench_database_url() if args.postgres else f"sqlite:///{work / 'bench.db'}"
    )
    redis = None
    redis_url = args.redis_url
    if not redis_url:
        redis = EmbeddedRedis(work / "redis")
        redis_url = redis.start()
    try:
        t0 = time.perf_counter()
        book = write_big_book(work / "book.xlsx", rows=args.rows)
        generated = time.perf_counter() - t0
        upgrade(database_url)
        rt = build_runtime({"DATABASE_URL": database_url, "REDIS_URL": redis_url})
        with rt.session() as session:
            tenant = create_tenant(session, f"bench-{int(time.time())}", "BY")
            session.commit()
            tenant_id = tenant.id
        rt.engine.dispose()
        result = import_in_subprocess(database_url, redis_url, tenant_id, book.path)
        size_mb = book.path.stat().st_size / 1e6
        print(f"machine: {machine()}")
        print(f"database: {database_url.split('://')[0]}")
        print(f"file: {args.rows} rows, {size_mb:.1f} MB xlsx (generated in {generated:.1f} s)")
        print(f"expected: {book.good} good, {book.bad} bad, {book.duplicates} duplicates")
        print(
            f"import: {result['seconds']} s wall ({result['cpu_seconds']} s CPU), "
            f"peak RSS {result['peak_rss_mb']} MB, "
            f"accepted {result['accepted']}, rejected {result['rejected']} {result['by_reason']}"
        )
        ok = result["accepted"] == book.good and result["seconds"] <= 25
        print(
            "target (≤ 25 s, ≤ 200 MB):", "met" if ok and result["peak_rss_mb"] <= 200 else "MISSED"
        )
    finally:
        if redis is not None:
            redis.stop()


if __name__ == "__main__":
    main()
