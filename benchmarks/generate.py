"""Generate a synthetic catalog at scale for the benchmarks (deterministic, seeded, bulk).

Default: 20 models, 100,000 versions, 100,000 runs, 10,000,000 metric points (5 metrics × 20
steps per run), 10 params and 5 tags per run, 400 dataset versions with lineage, stage
histories with rollbacks — plus 8 "curve" runs of 5 metrics × 1,000 steps registered as the
versions of the model ``curves`` for the compare benchmark.

The schema comes from the catalog itself (``open_catalog(create=True)``); rows go in with
``executemany`` in one transaction with the journal off (a generator, not a user write), then
the file is switched back to WAL.  Run::

    python benchmarks/generate.py benchmarks/data/big.db            # the full size (~1 min)
    python benchmarks/generate.py /tmp/small.db --versions 2000       # a quick one
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

METRICS = ("acc", "loss", "f1", "precision", "latency_ms")
DAY = 86_400.0
START = 1_750_000_000.0  # fixed: the data (and canonical names) never depend on today


def _metric_curve(rng: random.Random, key: str, steps: int, quality: float) -> list[float]:
    """A plausible learning curve for one metric."""
    values = []
    for step in range(steps):
        progress = 1 - math.exp(-4 * (step + 1) / steps)
        noise = rng.gauss(0, 0.01)
        if key == "loss":
            values.append(round(2.0 - 1.7 * quality * progress + noise, 5))
        elif key == "latency_ms":
            values.append(round(20 + 30 * (1 - quality) + rng.gauss(0, 0.5), 3))
        else:
            values.append(round(min(1.0, 0.3 + 0.69 * quality * progress + noise), 5))
    return values


def generate(path: Path, *, versions: int = 100_000, models: int = 20, steps: int = 20,
             curve_steps: int = 1_000, seed: int = 0, progress=print) -> dict:
    """Write the synthetic catalog to ``path`` (replaced); returns counts and seconds."""
    from mltui.core import audit
    from mltui.core.catalog import open_catalog
    from mltui.core.series import pack_floats, pack_steps

    started = time.perf_counter()
    path = Path(path)
    for sibling in path.parent.glob(path.name + "*"):
        sibling.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    open_catalog(path, create=True).close()
    rng = random.Random(seed)
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")
    conn.execute("BEGIN")

    model_names = [f"model{m:02d}" for m in range(models)] + ["curves"]
    conn.executemany("INSERT INTO models (id, name, description, project, created_at, next_version)"
                     " VALUES (?,?,?,?,?,?)",
                     [(m + 1, name, f"synthetic model {name}", f"proj{m % 4}", START, 1)
                      for m, name in enumerate(model_names)])
    datasets = []
    for d in range(max(4, versions // 250)):
        name = f"data{d % 20:02d}"
        datasets.append((d + 1, name, d // 20 + 1, "sha256", f"{rng.getrandbits(256):064x}",
                         f"s3://bucket/{name}/v{d // 20 + 1}.parquet", None, 10_000_000 + d,
                         1, 100_000 + d, None, START + d * 60))
    conn.executemany("INSERT INTO dataset_versions (id, name, version, hash_algo, hash, uri_raw, "
                     "path, size, file_count, row_count, columns, created_at) VALUES "
                     "(?,?,?,?,?,?,?,?,?,?,?,?)", datasets)
    conn.executemany("INSERT INTO lineage (src_kind, src_id, dst_kind, dst_id, role, created_at) "
                     "VALUES ('dataset', ?, 'dataset', ?, 'derived', ?)",
                     [(d[0] - 20, d[0], START) for d in datasets if d[0] > 20])
    progress(f"  {len(model_names)} models, {len(datasets)} dataset versions")

    per_model_counter = {m + 1: 0 for m in range(len(model_names))}
    run_rows, param_rows, tag_rows, summary_rows, version_rows, edges, search = [], [], [], [], [], [], []
    point_count = 0
    batch = 2_000
    total_runs = versions + 8

    def flush() -> None:
        conn.executemany("INSERT INTO runs (id, uid, name, project, source_format, source_path, "
                         "status, start_time, end_time, user, git_commit, fingerprint, created_at,"
                         " updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", run_rows)
        conn.executemany("INSERT INTO params (run_id, key, value) VALUES (?,?,?)", param_rows)
        conn.executemany("INSERT INTO run_tags (run_id, key, value) VALUES (?,?,?)", tag_rows)
        conn.executemany("INSERT INTO metric_summary (run_id, key, last, last_raw, last_step, min,"
                         " min_step, max, max_step, count) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         summary_rows)
        conn.executemany("INSERT INTO model_versions (id, model_id, version, canonical_name, run_id,"
                         " artifact_hash_algo, artifact_hash, artifact_size, created_at, created_by,"
                         " status) VALUES (?,?,?,?,?,?,?,?,?,?,?)", version_rows)
        conn.executemany("INSERT INTO lineage (src_kind, src_id, dst_kind, dst_id, role, created_at)"
                         " VALUES (?,?,?,?,?,?)", edges)
        conn.executemany("INSERT INTO search_text (kind, ref_id, body) VALUES (?,?,?)", search)
        for rows in (run_rows, param_rows, tag_rows, summary_rows, version_rows, edges, search):
            rows.clear()

    for run_id in range(1, total_runs + 1):
        curve = run_id > versions
        model_id = len(model_names) if curve else (run_id - 1) % models + 1
        quality = rng.random()
        length = curve_steps if curve else steps
        when = START + run_id * 30.0
        name = f"run{run_id:06d}"
        run_rows.append((run_id, f"{rng.getrandbits(128):032x}", name, f"proj{model_id % 4}",
                         "mlflow", f"/data/mlruns/{run_id}", "FINISHED", when, when + 600, "bench",
                         f"{rng.getrandbits(160):040x}", None, when, when))
        param_rows.extend((run_id, f"p{k}", str(round(rng.random(), 4) if k else
                                                 rng.choice(("adam", "sgd", "adamw"))))
                          for k in range(10))
        tag_rows.extend((run_id, f"t{k}", f"v{rng.randrange(5)}") for k in range(5))
        series = []
        for key in METRICS:
            values = _metric_curve(rng, key, length, quality)
            low, high = min(values), max(values)
            summary_rows.append((run_id, key, values[-1], None, length - 1, low, values.index(low),
                                 high, values.index(high), length))
            series.append((run_id, key, length, pack_steps(range(length)), pack_floats(values),
                           None, pack_floats([when + step for step in range(length)]), "step",
                           None, None))
        conn.executemany("INSERT INTO metric_series (run_id, key, count, steps, vals, epochs, "
                         "wall_times, axis, axes, raws) VALUES (?,?,?,?,?,?,?,?,?,?)", series)
        point_count += length * len(METRICS)
        per_model_counter[model_id] += 1
        number = per_model_counter[model_id]
        model_name = model_names[model_id - 1]
        day = time.strftime("%Y%m%d", time.gmtime(when))
        version_rows.append((run_id, model_id, number, f"proj{model_id % 4}_{model_name}_v{number}_{day}",
                             run_id, "sha256", f"{rng.getrandbits(256):064x}", 1_000_000, when,
                             "bench", "ready"))
        dataset_id = datasets[rng.randrange(len(datasets))][0]
        edges.append(("dataset", dataset_id, "run", run_id, "input", when))
        edges.append(("run", run_id, "version", run_id, "output", when))
        if number > 1 and rng.random() < 0.05:
            edges.append(("version", run_id - models, "version", run_id, "base", when))
        search.append(("run", run_id, f"{name} proj{model_id % 4}"))
        search.append(("version", run_id, f"{model_name} {name} v{number}"))
        if len(run_rows) >= batch:
            flush()
            if run_id % 20_000 == 0:
                progress(f"  {run_id:,} runs, {point_count:,} points")
    flush()
    for model_id, count in per_model_counter.items():
        conn.execute("UPDATE models SET next_version = ? WHERE id = ?", (count + 1, model_id))

    # Stage histories: each model promoted ~30 times with a rollback now and then.
    history, stages = [], {}
    for model_id in range(1, len(model_names) + 1):
        stack: list[int] = []
        ids = [v for v in range(model_id, versions + 1, models)] if model_id <= models else \
            list(range(versions + 1, versions + 9))
        for step, vid in enumerate(ids[:: max(1, len(ids) // 30)][:30]):
            if stack and rng.random() < 0.15:
                frm = stack.pop()
                history.append((model_id, "production", frm, stack[-1] if stack else None,
                                "rollback", "synthetic rollback", "bench", START + step * DAY,
                                None, 0))
                continue
            history.append((model_id, "production", stack[-1] if stack else None, vid, "promote",
                            "synthetic promotion", "bench", START + step * DAY,
                            json.dumps([{"rule": "metrics.acc >= 0.3", "passed": True}]), 0))
            stack.append(vid)
        if stack:
            stages[model_id] = stack[-1]
    # Through the audit chain (each row hashed after the one before), as the catalog writes it.
    columns = ("model_id", "stage", "from_version_id", "to_version_id", "action", "reason",
               "actor", "at", "gate_results", "forced")
    for row in history:
        audit.append(conn, "stage_history", dict(zip(columns, row)))
    conn.executemany("INSERT INTO stages (model_id, stage, version_id, since) VALUES (?,?,?,?)",
                     [(m, "production", v, START) for m, v in stages.items()])
    conn.executemany("INSERT INTO gates (model_id, rule, stage, created_at, created_by) VALUES "
                     "(?,?,?,?,?)", [(m, "metrics.acc >= 0.3", "production", START, "bench")
                                     for m in range(1, len(model_names) + 1)])
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("ANALYZE")
    conn.close()
    counts = {"versions": total_runs, "runs": total_runs, "metric_points": point_count,
              "models": len(model_names), "datasets": len(datasets), "history": len(history),
              "seconds": round(time.perf_counter() - started, 1)}
    progress(f"  done: {counts}")
    return counts


def main(argv: list[str] | None = None) -> None:
    """Command line: ``generate.py OUT.db [--versions N] [--models M] [--steps S]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--steps", type=int, default=20, help="points per metric per run")
    parser.add_argument("--curve-steps", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    generate(args.out, versions=args.versions, models=args.models, steps=args.steps,
             curve_steps=args.curve_steps, seed=args.seed)


if __name__ == "__main__":
    main()
