"""Generate a synthetic MLflow file store (``mlruns/``) for the import benchmark.

Stdlib only, seeded, and laid out exactly as MLflow's file store writes it (see
``mlflow/store/tracking/file_store.py``): ``<exp>/meta.yaml``, ``<exp>/<run_id>/meta.yaml``,
``params/<key>`` (raw value, no newline), ``tags/<key>``, ``metrics/<key>`` with one
``"<timestamp ms> <value> <step>"`` line per point (a ``/`` in a key becomes a subfolder) and an
empty ``artifacts/`` folder.  The default shape is the benchmark's: 1,000 runs x (10 params,
5 tags, 5 metrics x 100 steps) = 500,000 points.

    python benchmarks/make_mlruns.py OUT_DIR --runs 1000 --steps 100 --metrics 5
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

_METRIC_NAMES = ["loss", "val/loss", "acc", "val/acc", "lr", "grad_norm", "train/f1", "eval/f1"]
_TAG_NAMES = ["mlflow.runName", "mlflow.user", "mlflow.source.name", "mlflow.source.type",
              "mlflow.source.git.commit", "mlflow.source.git.branch", "team", "note"]
_T0_MS = 1_717_000_000_000
_EXPERIMENT_ID = "572094853192837465"  # 18 digits, like MLflow's generated ids


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def _experiment_meta(root: Path, experiment_id: str, name: str) -> str:
    return (f"artifact_location: {(root / experiment_id).as_uri()}\n"
            f"creation_time: {_T0_MS}\n"
            f"experiment_id: '{experiment_id}'\n"
            f"last_update_time: {_T0_MS}\n"
            "lifecycle_stage: active\n"
            f"name: {name}\n")


def _run_meta(artifact_uri: str, run_id: str, name: str, start_ms: int, end_ms: int) -> str:
    # Key order, quoting and the legacy empty fields are those of MLflow's write_yaml output.
    return (f"artifact_uri: {artifact_uri}\n"
            f"end_time: {end_ms}\n"
            "entry_point_name: ''\n"
            f"experiment_id: '{_EXPERIMENT_ID}'\n"
            "lifecycle_stage: active\n"
            f"run_id: {run_id}\n"
            f"run_name: {name}\n"
            "source_name: ''\n"
            "source_type: 4\n"
            "source_version: ''\n"
            f"start_time: {start_ms}\n"
            "status: 3\n"
            "tags: []\n"
            "user_id: bench\n")


def run_content(rng: random.Random, index: int, start_ms: int, *, steps: int = 100,
                metric_keys: list[str] | None = None, params: int = 10,
                tag_keys: list[str] | None = None) -> dict:
    """One synthetic run's name, params, tags and metric points ``(ms, value, step)``.

    Shared with ``mlflow_side.py`` so MLflow logs exactly the runs mltui imports (the two
    searches of the benchmark must return the same page).
    """
    metric_keys = _METRIC_NAMES[:5] if metric_keys is None else metric_keys
    tag_keys = _TAG_NAMES[:5] if tag_keys is None else tag_keys
    name = f"run-{index:05d}"
    param_values = {f"param_{p}": repr(round(rng.uniform(0, 1), 6)) for p in range(params)}
    tag_values = {"mlflow.runName": name, "mlflow.user": "bench",
                  "mlflow.source.name": "train.py", "mlflow.source.type": "LOCAL",
                  "mlflow.source.git.commit": f"{rng.getrandbits(160):040x}",
                  "mlflow.source.git.branch": "main", "team": "bench", "note": "synthetic"}
    metrics = {}
    for key in metric_keys:
        value = rng.uniform(0.5, 3.0)
        points = []
        for step in range(steps):
            value *= rng.uniform(0.95, 1.0)
            points.append((start_ms + step * 1000, value, step))
        metrics[key] = points
    return {"name": name, "params": param_values,
            "tags": {key: tag_values[key] for key in tag_keys}, "metrics": metrics}


def make_mlruns(out_dir: str | os.PathLike, runs: int = 1000, steps: int = 100, metrics: int = 5,
                params: int = 10, tags: int = 5, seed: int = 0) -> dict:
    """Write a synthetic ``mlruns/`` store under ``out_dir``; return what was written.

    The result has ``runs``, ``experiments``, ``params``, ``tags``, ``metric_keys`` (per run),
    ``points`` (total metric points), ``files`` and ``seconds``.
    """
    if metrics > len(_METRIC_NAMES):
        raise ValueError(f"at most {len(_METRIC_NAMES)} metrics per run")
    if tags > len(_TAG_NAMES):
        raise ValueError(f"at most {len(_TAG_NAMES)} tags per run")
    started = time.perf_counter()
    rng = random.Random(seed)
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    (root / ".trash").mkdir(exist_ok=True)
    (root / "0").mkdir(exist_ok=True)
    _write(root / "0" / "meta.yaml", _experiment_meta(root, "0", "Default"))
    experiment = root / _EXPERIMENT_ID
    experiment.mkdir(exist_ok=True)
    _write(experiment / "meta.yaml", _experiment_meta(root, _EXPERIMENT_ID, "benchmark"))
    metric_keys = _METRIC_NAMES[:metrics]
    tag_keys = _TAG_NAMES[:tags]
    files = 2
    for index in range(runs):
        run_id = f"{rng.getrandbits(128):032x}"
        run_dir = experiment / run_id
        for sub in ("artifacts", "params", "tags", "metrics"):
            (run_dir / sub).mkdir(parents=True, exist_ok=True)
        start_ms = _T0_MS + index * 600_000
        content = run_content(rng, index, start_ms, steps=steps, metric_keys=metric_keys,
                              params=params, tag_keys=tag_keys)
        _write(run_dir / "meta.yaml", _run_meta((run_dir / "artifacts").as_uri(), run_id,
                                                content["name"], start_ms, start_ms + 300_000))
        for key, value in content["params"].items():
            _write(run_dir / "params" / key, value)
        for key, value in content["tags"].items():
            _write(run_dir / "tags" / key, value)
        for key, points in content["metrics"].items():
            path = run_dir / "metrics" / key
            path.parent.mkdir(parents=True, exist_ok=True)
            _write(path, "".join(f"{stamp} {value!r} {step}\n" for stamp, value, step in points))
        files += 1 + params + tags + metrics
    return {"runs": runs, "experiments": 2, "params": params, "tags": tags,
            "metric_keys": metrics, "points": runs * metrics * steps, "files": files,
            "seconds": round(time.perf_counter() - started, 3)}


def main(argv: list[str] | None = None) -> int:
    """Command line: ``make_mlruns.py OUT_DIR [--runs N] [--steps N] [--metrics N] ...``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", help="the mlruns/ folder to create")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--metrics", type=int, default=5)
    parser.add_argument("--params", type=int, default=10)
    parser.add_argument("--tags", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    counts = make_mlruns(args.out_dir, runs=args.runs, steps=args.steps, metrics=args.metrics,
                         params=args.params, tags=args.tags, seed=args.seed)
    print(" ".join(f"{key}={value}" for key, value in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
