"""MLflow's side of the comparison, run by ``run.py`` under a Python that has mlflow.

Logs the benchmark workload (per run: 10 params, 5 tags, 5 metrics × 100 steps) into MLflow's
SQLite store with its own client: ``log_batch`` (MLflow's fastest path), the fluent
``log_metrics`` once per step, and ``log_metric`` once per value (how training loops usually
log) — the runs are the very ones ``make_mlruns.py`` writes for mltui's import; then times
``search_runs`` for the first page of ``metrics.acc > 0.1`` ordered by ``metrics.loss`` — the
same filter and order ``run.py`` times on mltui, on the same runs, so the pages must match.  Prints one JSON line.

    python benchmarks/mlflow_side.py /tmp/mlflow-side --runs 100
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_mlruns  # noqa: E402  (the same runs mltui imports)

SEARCH_FILTER = "metrics.acc > 0.1"
SEARCH_ORDER = "metrics.loss ASC"


def main() -> None:
    """Log, search, print the figures as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()

    import mlflow
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    if args.folder.exists():
        shutil.rmtree(args.folder)
    args.folder.mkdir(parents=True)
    client = MlflowClient(tracking_uri=f"sqlite:///{args.folder / 'mlflow.db'}")
    experiment = client.create_experiment("bench", artifact_location=str(args.folder / "artifacts"))
    rng = random.Random(0)
    keys = ["loss", "val/loss", "acc", "val/acc", "lr"]
    values = 0  # metric values: the same unit as mltui's points/s (params and tags ride along)
    started = time.perf_counter()
    for index in range(args.runs):
        rng.getrandbits(128)  # make_mlruns draws the run id here: keep the streams in step
        content = make_mlruns.run_content(rng, index, make_mlruns._T0_MS + index * 600_000)
        run = client.create_run(experiment, run_name=content["name"])
        metrics = [Metric(key, value, stamp, step) for key, points in content["metrics"].items()
                   for stamp, value, step in points]
        params = [Param(k, v) for k, v in content["params"].items()]
        tags = [RunTag(k, v) for k, v in content["tags"].items() if k != "mlflow.runName"]
        client.log_batch(run.info.run_id, metrics=metrics, params=params, tags=tags)
        client.set_terminated(run.info.run_id)
        values += len(metrics)
    log_seconds = time.perf_counter() - started
    batch_bytes = (args.folder / "mlflow.db").stat().st_size  # the store holding these runs only

    # The way training loops usually log: the fluent API, once per step (5 metrics a call),
    # and one log_metric call per value.  Fewer runs: these paths are slow.
    mlflow.set_tracking_uri(f"sqlite:///{args.folder / 'mlflow.db'}")
    mlflow.set_experiment("bench-fluent")
    fluent_values = 0
    started = time.perf_counter()
    for index in range(min(20, max(1, args.runs // 10))):
        with mlflow.start_run(run_name=f"fluent{index}"):
            for step in range(100):
                mlflow.log_metrics({key: rng.random() for key in keys}, step=step)
                fluent_values += len(keys)
    fluent_seconds = time.perf_counter() - started
    run = client.create_run(experiment, run_name="per-call")
    per_call_values = 0
    started = time.perf_counter()
    for key in keys[:2]:
        for step in range(100):
            client.log_metric(run.info.run_id, key, rng.random(), step=step)
            per_call_values += 1
    per_call_seconds = time.perf_counter() - started
    times = []
    for _ in range(5):
        started = time.perf_counter()
        page = client.search_runs([experiment], filter_string=SEARCH_FILTER,
                                  order_by=[SEARCH_ORDER], max_results=50)
        times.append(time.perf_counter() - started)
    print(json.dumps({"mlflow_version": mlflow.__version__, "values": values,
                      "log_seconds": log_seconds, "log_rate": values / log_seconds,
                      "store_bytes": batch_bytes,
                      "fluent_rate": fluent_values / fluent_seconds,
                      "per_call_rate": per_call_values / per_call_seconds,
                      "search_ms": statistics.median(times) * 1000,
                      "page": [r.info.run_name for r in page]}))


if __name__ == "__main__":
    main()
