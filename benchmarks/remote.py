"""``mltui pull`` against a real ``mlflow server``, beside MLflow's own client fetching the same.

    python benchmarks/remote.py                 # 1,000 runs x 5 metrics x 100 steps
    python benchmarks/remote.py --runs 100      # a quicker look

Starts a server (SQLite backend, artifacts in a temporary folder), seeds it with the plain
``MlflowClient``, then times: the first ``mltui pull`` of everything; the same data fetched by
``MlflowClient`` (search_runs, every metric history, search_model_versions); then, after 10
runs that were still running at the first pull log more points and finish, an incremental pull,
beside MlflowClient fetching those 10 runs' histories.  Each pull's answer is checked (runs and
points counted).  Timing lives here, never in the test suite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

METRICS = ("loss", "f1", "precision", "recall", "auc")
CHANGED = 10


def seed(url: str, runs: int, steps: int) -> list[str]:
    """``runs`` runs with 5 metrics x ``steps`` points; the last 10 are left running."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = MlflowClient(url)
    experiment = client.create_experiment("bench")
    ids = []
    now = int(time.time() * 1000)
    for i in range(runs):
        run = client.create_run(experiment, run_name=f"run-{i}", start_time=now + i)
        points = [Metric(key, 1.0 / (s + 1 + k), now + s, s)
                  for k, key in enumerate(METRICS) for s in range(steps)]
        for start in range(0, len(points), 1000):  # MLflow's log_batch limit
            client.log_batch(run.info.run_id, metrics=points[start:start + 1000],
                             params=[Param("lr", str(0.001 * (i + 1)))] if start == 0 else [])
        if i < runs - CHANGED:
            client.set_terminated(run.info.run_id)
        ids.append(run.info.run_id)
    client.create_registered_model("bench-model")
    for run_id in ids[:20]:
        client.create_model_version("bench-model", f"runs:/{run_id}/model", run_id=run_id)
    client.set_registered_model_alias("bench-model", "production", "1")
    return ids


def mlflow_fetch(url: str, run_ids: list[str] | None) -> tuple[int, int]:
    """What MlflowClient needs to hold the same data: runs, histories, versions."""
    from mlflow import MlflowClient

    client = MlflowClient(url)
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs = []
    token = None
    while True:
        page = client.search_runs(experiments, max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            break
    if run_ids is not None:
        runs = [r for r in runs if r.info.run_id in run_ids]
    points = sum(len(client.get_metric_history(r.info.run_id, key))
                 for r in runs for key in r.data.metrics)
    client.search_model_versions()
    return len(runs), points


def timed(label: str, action):
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    print(f"{label:<58} {seconds:8.2f} s   {result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    from mlflow import MlflowClient

    from mltui.core.catalog import open_catalog
    from mltui.services.remote import pull
    from tests.remote.conftest import start_server

    with tempfile.TemporaryDirectory() as folder:
        server = start_server(Path(folder) / "server")
        try:
            print(f"server {server.url}: {args.runs} runs x {len(METRICS)} metrics x "
                  f"{args.steps} steps")
            timed("seeding through MlflowClient",
                  lambda: f"{len(seed(server.url, args.runs, args.steps))} runs")
            catalog = Path(folder) / "project" / ".mltui" / "catalog.db"
            catalog.parent.mkdir(parents=True)
            (catalog.parent / "config.yaml").write_text(f"remotes:\n  team: {server.url}\n")
            cat = open_catalog(catalog, create=True)
            first = timed("mltui pull, first (everything)", lambda: pull(cat, "team").one_line())
            expected = args.runs * len(METRICS) * args.steps
            assert f"{expected:,} points" in first, f"WRONG ANSWER: {first}"
            timed("MlflowClient: search_runs + every history + versions",
                  lambda: mlflow_fetch(server.url, None))
            timed("mltui pull, nothing changed", lambda: pull(cat, "team").one_line())
            client = MlflowClient(server.url)
            changed = [r.info.run_id for r in client.search_runs(
                [client.get_experiment_by_name("bench").experiment_id],
                filter_string="attributes.status = 'RUNNING'")]
            assert len(changed) == CHANGED, changed
            now = int(time.time() * 1000)
            from mlflow.entities import Metric

            for run_id in changed:
                client.log_batch(run_id, metrics=[Metric(key, 0.5, now, args.steps)
                                                  for key in METRICS])
                client.set_terminated(run_id)
            again = timed(f"mltui pull, incremental after {CHANGED} runs changed",
                          lambda: pull(cat, "team").one_line())
            assert f"{CHANGED} updated" in again, f"WRONG ANSWER: {again}"
            timed(f"MlflowClient: search_runs + the {CHANGED} runs' histories",
                  lambda: mlflow_fetch(server.url, set(changed)))
            cat.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
