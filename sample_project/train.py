"""Train a small logistic-regression model in numpy and write its run logs.

The logs are written the way the real tools write them, so ``mltui import`` reads them like
any other project's:

* ``--log-format mlflow``: an MLflow file store run (``mlruns/<exp>/<run>/`` with meta.yaml,
  params/, tags/, metrics/ lines ``<ms> <value> <step>``, artifacts/model/MLmodel);
* ``--log-format lightning``: a Lightning CSVLogger dir (``<name>/version_N/metrics.csv`` +
  ``hparams.yaml`` + ``checkpoints/``);
* ``--log-format jsonl``: a generic ``metrics.jsonl`` (one object per step).

Example::

    python sample_project/train.py --data sample_project/data/v2/transactions.csv \
        --target is_fraud --lr 0.1 --epochs 30 --log-format mlflow --out /tmp/runs
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np


def load(path: Path, target: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a CSV (header + numbers) into standardised features and a 0/1 target."""
    header = path.read_text(encoding="utf-8").split("\n", 1)[0].split(",")
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    y = table[:, header.index(target)]
    features = [c for c in header if c != target]
    X = table[:, [header.index(c) for c in features]]
    X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-9)
    return X, y, features


def _metrics(p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    predicted = p >= 0.5
    tp = float(np.sum(predicted & (y == 1)))
    fp = float(np.sum(predicted & (y == 0)))
    fn = float(np.sum(~predicted & (y == 1)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    order = np.argsort(p)
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    positives = float(np.sum(y == 1))
    negatives = len(y) - positives
    auc = ((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives)
           if positives and negatives else 0.5)
    return {"precision": precision, "recall": recall, "f1": f1, "auc": float(auc),
            "accuracy": float(np.mean(predicted == (y == 1)))}


def train(X: np.ndarray, y: np.ndarray, *, lr: float, epochs: int, l2: float, seed: int,
          class_weight: float = 1.0) -> tuple[np.ndarray, list[dict[str, float]]]:
    """Full-batch gradient descent on a weighted logistic loss; returns weights and history."""
    rng = np.random.default_rng(seed)
    index = rng.permutation(len(y))
    split = int(len(y) * 0.8)
    train_idx, val_idx = index[:split], index[split:]
    w = np.zeros(X.shape[1] + 1)
    Xb = np.hstack([X, np.ones((len(X), 1))])
    weights = np.where(y == 1, class_weight, 1.0)
    history = []
    for _ in range(epochs):
        z = Xb[train_idx] @ w
        p = 1 / (1 + np.exp(-z))
        grad = Xb[train_idx].T @ ((p - y[train_idx]) * weights[train_idx]) / len(train_idx)
        grad[:-1] += l2 * w[:-1]
        w -= lr * grad

        def loss(ix: np.ndarray) -> float:
            q = np.clip(1 / (1 + np.exp(-(Xb[ix] @ w))), 1e-9, 1 - 1e-9)
            return float(-np.mean(weights[ix] * (y[ix] * np.log(q) + (1 - y[ix]) * np.log(1 - q))))

        row = {"loss": loss(train_idx), "val_loss": loss(val_idx)}
        row.update(_metrics(1 / (1 + np.exp(-(Xb[val_idx] @ w))), y[val_idx]))
        # A deterministic stand-in for inference latency: grows with the feature count.
        row["latency_ms"] = round(4.0 + 0.9 * X.shape[1] + 0.002 * epochs, 3)
        history.append(row)
    return w, history


def _git_commit(folder: Path) -> str | None:
    """The commit checked out in the work tree holding ``folder`` (None outside git)."""
    import subprocess

    try:
        result = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"],
                                capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def write_mlflow(out: Path, *, experiment: str, run_name: str, params: dict, tags: dict,
                 history: list[dict], weights: np.ndarray, start_ms: int, data: Path) -> Path:
    """Write one run in MLflow's file-store layout; returns the run folder."""
    exp_id = str(int(hashlib.sha1(experiment.encode()).hexdigest()[:8], 16))
    exp_dir = out / "mlruns" / exp_id
    exp_dir.mkdir(parents=True, exist_ok=True)
    (out / "mlruns" / exp_id / "meta.yaml").write_text(
        f"artifact_location: file://{exp_dir}\ncreation_time: {start_ms}\nexperiment_id: '{exp_id}'\n"
        f"last_update_time: {start_ms}\nlifecycle_stage: active\nname: {experiment}\n")
    run_id = hashlib.sha1(f"{experiment}/{run_name}".encode()).hexdigest()[:32]
    run_dir = exp_dir / run_id
    end_ms = start_ms + 1000 * len(history)
    for sub in ("params", "tags", "metrics", "artifacts/model"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    (run_dir / "meta.yaml").write_text(
        f"artifact_uri: file://{run_dir}/artifacts\nend_time: {end_ms}\nentry_point_name: ''\n"
        f"experiment_id: '{exp_id}'\nlifecycle_stage: active\nrun_id: {run_id}\nrun_name: {run_name}\n"
        f"run_uuid: {run_id}\nsource_name: ''\nsource_type: 4\nsource_version: ''\n"
        f"start_time: {start_ms}\nstatus: 3\ntags: []\nuser_id: mlteam\n")
    for key, value in params.items():
        (run_dir / "params" / key).write_text(str(value))
    all_tags = {"mlflow.runName": run_name, "mlflow.user": "mlteam",
                "mlflow.source.type": "LOCAL", "mlflow.source.name": "sample_project/train.py",
                **tags}
    commit = _git_commit(Path(__file__).resolve().parent)
    if commit:  # MLflow records the training code's commit the same way
        all_tags["mlflow.source.git.commit"] = commit
    for key, value in all_tags.items():
        (run_dir / "tags" / key).write_text(str(value))
    for key in history[0]:
        lines = [f"{start_ms + 1000 * step} {row[key]!r} {step}" for step, row in enumerate(history)]
        (run_dir / "metrics" / key).write_text("\n".join(lines) + "\n")
    np.savez(run_dir / "artifacts" / "model" / "model.npz", weights=weights)
    (run_dir / "artifacts" / "model" / "MLmodel").write_text(
        f"artifact_path: model\nflavors:\n  python_function:\n    loader_module: numpy\n"
        f"run_id: {run_id}\nutc_time_created: '2026-01-01 00:00:00.000000'\n")
    return run_dir


def write_lightning(out: Path, *, name: str, version: int, hparams: dict, history: list[dict],
                    weights: np.ndarray) -> Path:
    """Write one run as a Lightning CSVLogger folder; returns ``<name>/version_N``."""
    run_dir = out / "lightning_logs" / name / f"version_{version}"
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    hp_lines = [f"{k}: {v}" for k, v in hparams.items()]
    (run_dir / "hparams.yaml").write_text("\n".join(hp_lines) + "\n")
    keys = sorted(history[0])
    rows = ["epoch,step," + ",".join(keys)]
    steps_per_epoch = 10
    for epoch, row in enumerate(history):
        step = (epoch + 1) * steps_per_epoch - 1
        rows.append(f"{epoch},{step}," + ",".join(repr(row[k]) for k in keys))
    (run_dir / "metrics.csv").write_text("\n".join(rows) + "\n")
    last = len(history) - 1
    checkpoint = run_dir / "checkpoints" / f"epoch={last}-step={(last + 1) * steps_per_epoch - 1}.ckpt"
    with open(checkpoint, "wb") as handle:  # Lightning's name; the weights in numpy's format
        np.savez(handle, weights=weights)
    return run_dir


def write_jsonl(out: Path, *, name: str, history: list[dict], start: float) -> Path:
    """Write a generic ``metrics.jsonl`` (one object per step); returns the file."""
    folder = out / "jsonl" / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "metrics.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for step, row in enumerate(history):
            handle.write(json.dumps({"step": step, "time": start + step, **row}) + "\n")
    return path


def main(argv: list[str] | None = None) -> Path:
    """Parse arguments, train, write the logs; returns the run folder."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--target", default="is_fraud")
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--l2", type=float, default=0.0)
    parser.add_argument("--class-weight", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-format", choices=["mlflow", "lightning", "jsonl"], default="mlflow")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--run-name", default="run")
    parser.add_argument("--experiment", default="fraud-detection")
    parser.add_argument("--version", type=int, default=0, help="Lightning version_N")
    parser.add_argument("--start", type=float, default=None, help="Start time (epoch seconds)")
    parser.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)

    X, y, features = load(args.data, args.target)
    weights, history = train(X, y, lr=args.lr, epochs=args.epochs, l2=args.l2, seed=args.seed,
                             class_weight=args.class_weight)
    params = {"lr": args.lr, "epochs": args.epochs, "l2": args.l2, "seed": args.seed,
              "class_weight": args.class_weight, "features": len(features), "model": "logreg"}
    tags = dict(item.split("=", 1) for item in args.tag)
    start = args.start if args.start is not None else time.time()
    if args.log_format == "mlflow":
        return write_mlflow(args.out, experiment=args.experiment, run_name=args.run_name,
                            params=params, tags=tags, history=history, weights=weights,
                            start_ms=int(start * 1000), data=args.data)
    if args.log_format == "lightning":
        return write_lightning(args.out, name=args.run_name, version=args.version,
                               hparams=params, history=history, weights=weights)
    return write_jsonl(args.out, name=args.run_name, history=history, start=start)


if __name__ == "__main__":
    print(main())
