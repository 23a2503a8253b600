"""MLflow's side of the comparison, run by ``run.py`` under a Python that has mlflow.

Logs the benchmark workload (per run: 10 params, 5 tags, 5 metrics × 100 steps) into MLflow's
SQLite store with its own client: ``log_batch`` (MLflow's fastest path), the fluent
``log_metrics`` once per step, and ``log_metric`` once per value (how training loops usually
log); then times
``search_runs`` for the first page of ``metrics.acc > 0.5`` ordered by ``metrics.loss`` — the
same filter and order ``run.py`` times on mltui.  Prints one JSON line.

    python benchmarks/mlflow_side.py /tmp/mlflow-side --runs 100
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import time
from pathlib import Path


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
        run = client.create_run(experiment, run_name=f"run{index}")
        now = int(time.time() * 1000)
        metrics = [Metric(key, rng.random(), now + step, step) for key in keys for step in range(100)]
        params = [Param(f"p{k}", str(rng.random())) for k in range(10)]
        tags = [RunTag(f"t{k}", f"v{rng.randrange(5)}") for k in range(5)]
        client.log_batch(run.info.run_id, metrics=metrics, params=params, tags=tags)
        client.set_terminated(run.info.run_id)
        values += len(metrics)
    log_seconds = time.perf_counter() - started

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
        page = client.search_runs([experiment], filter_string="metrics.acc > 0.5",
                                  order_by=["metrics.loss ASC"], max_results=50)
        times.append(time.perf_counter() - started)
    print(json.dumps({"mlflow_version": mlflow.__version__, "values": values,
                      "log_seconds": log_seconds, "log_rate": values / log_seconds,
                      "fluent_rate": fluent_values / fluent_seconds,
                      "per_call_rate": per_call_values / per_call_seconds,
                      "search_ms": statistics.median(times) * 1000, "page": len(page)}))


if __name__ == "__main__":
    main()
