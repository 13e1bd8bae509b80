"""`python -m bench --scale 1` (what `make bench` runs): generate a council of that
scale, measure the main pages on it, write bench/results/latest.json and latest.md
(and <database>-scale<N>.json/.md beside them) and print the table.

The database is SQLite in bench/data/ unless --database or BENCH_DATABASE_URL names
another (e.g. postgresql://postgres@127.0.0.1/qa_audit_bench): everything in it is
dropped and rebuilt. --reuse measures the data generated last time, if it is there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results"


def scale_name(scale: float) -> str:
    return f"{scale:g}".replace(".", "_")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=float(os.environ.get("SCALE") or 1), help="1 is a large council over ten years (default 1)")
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL") or "", help="database URL (default SQLite in bench/data/)")
    parser.add_argument("--requests", type=int, default=50, help="measured requests a page (at least 30; default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="requests a page before measuring (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="measure the data generated last time at this scale, if any")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be more than 0")
    if args.requests < 30:
        parser.error("--requests must be at least 30")

    sys.path.insert(0, str(HERE.parent))
    from qa_audit.config import normalise_database_url

    from bench.generate import generate
    from bench.measure import bench_app, check_targets, markdown, measure

    DATA.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    url = normalise_database_url(args.database or f"sqlite:///{DATA / f'scale-{scale_name(args.scale)}.sqlite'}")
    kind = "sqlite" if url.startswith("sqlite") else "postgresql" if url.startswith("postgresql") else url.split(":", 1)[0]
    meta_path = DATA / f"{kind}-scale-{scale_name(args.scale)}.json"

    meta = None
    if args.reuse and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("url") != url or meta.get("seed") != args.seed:
            meta = None
    if meta is None:
        print(f"Generating scale {args.scale:g} in {kind} …", flush=True)
        meta = generate(bench_app(url), args.scale, args.seed)
        meta["url"] = url
        meta_path.write_text(json.dumps(meta, indent=1))
        rows = sum(meta["rows"].values())
        print(f"Generated {rows:,} rows in {meta['seconds']:.0f} s", flush=True)
    else:
        print(f"Reusing the scale {args.scale:g} data generated on {meta.get('generated_on', 'an earlier run')}", flush=True)

    measured = measure(url, meta, requests=args.requests, warmup=args.warmup, tune_gc=True)
    scale = int(args.scale) if args.scale == int(args.scale) else args.scale
    result = {
        "scale": scale,
        "database": kind,
        "bare": {key: measured["bare"][key] for key in ("p50_ms", "p95_ms", "cpu_p50_ms", "cpu_p95_ms", "queries")},
        "pages": measured["pages"],
        "requests": measured["requests"],
        "warmup": measured["warmup"],
        "server": "Flask test client in-process, one thread; server time from a WSGI middleware",
        "subjects": measured["subjects"],
        "generated": {"seconds": meta["seconds"], "rows": meta["rows"], "today": meta["today"]},
        "measured_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
        },
    }
    baseline_path = RESULTS / f"{kind}-scale1.json"
    baseline = json.loads(baseline_path.read_text()) if scale != 1 and baseline_path.exists() else None
    if baseline:
        result["baseline"] = {"file": baseline_path.name, "measured_at": baseline.get("measured_at")}
    result["targets"] = check_targets(result, baseline)
    table = markdown(result, baseline)

    name = f"{kind}-scale{scale_name(args.scale)}"
    for stem in ("latest", name):
        (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS / f"{stem}.md").write_text(table)
    print()
    print(table)
    print(f"Written to {RESULTS / 'latest.json'}, latest.md and {name}.json/.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
