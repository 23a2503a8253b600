"""Build the demo catalog from the sample project: real training, real logs, real imports.

Two models (``fraud`` from MLflow-format runs and a DVC pipeline, ``churn`` from Lightning
CSVLogger runs), ten versions, three versions of the transactions dataset plus a derived feature
table, gates, a promotion history, and written documentation.  Production is a story too: an
``after`` hook deploys each production version into ``OUT_FOLDER/serving/<model>`` with
``mltui checkout``, a serving log shows fraud@5's f1 falling on live traffic after its promotion,
and the monitor that fired on it rolled production back to fraud@3.

Usage::

    python sample_project/build_demo.py OUT_FOLDER      # catalog at OUT_FOLDER/.mltui/catalog.db

``mltui demo`` calls :func:`build` for you (once; outside the repository).
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import train  # noqa: E402  (the sample project's own training script)

DAY = 86_400.0

# name, dataset version folder, lr, epochs, l2, class weight, reason for the version
FRAUD_RUNS = [
    ("baseline", "v1", 0.05, 20, 0.0, 1.0, "First model on the January export."),
    ("more-epochs", "v1", 0.1, 40, 0.0, 1.0, "Longer training; loss had not converged."),
    ("q2-data", "v2", 0.1, 40, 0.0, 1.0, "Retrained with two more months of transactions."),
    ("l2-reg", "v2", 0.2, 60, 0.01, 1.0, "Regularised to curb overfitting on rare merchants."),
    ("clean-labels", "v3", 0.2, 60, 0.01, 3.0, "Corrected chargeback labels; class-weighted loss."),
    ("fast-lr", "v3", 0.8, 8, 0.0, 3.0, "Experiment: aggressive learning rate, few epochs."),
]
CHURN_RUNS = [("churn-base", 0.05, 25, 1.0), ("churn-weighted", 0.1, 40, 2.0),
              ("churn-long", 0.1, 80, 2.0)]

FRAUD_MODEL_DOC = """# fraud

Scores card transactions for fraud risk before authorisation.

## Purpose
Flag transactions for step-up verification; the score feeds the rules engine, it never
declines a payment on its own.

## Owners
Payments risk team (#risk-ml). On-call: risk-ml rotation.

## Intended use
Card-present and card-not-present transactions in the EU region.

## Limitations
Not trained on wallet payments. Merchant risk is a lagging signal for new merchants.
"""


HOUR = 3_600.0
OBSERVE_EVERY = 600.0  # one serving-log line per metric every ten minutes keeps the build quick
# The monitor that catches fraud@5: production f1 against the version's own evaluation.
F1_MONITOR = "metrics.f1 >= eval.f1 - 0.05"
LATENCY_MONITOR = "mean(metrics.latency_ms, 1h) <= 15"


def _write_hooks(out: Path) -> None:
    """``.mltui/config.yaml``: every production change (a rollback too) checks the version out
    into ``serving/<model>``; JSON strings are YAML, so the interpreter's path is quoted safely."""
    deploy = ["sh", "-c", 'exec "$0" -m mltui checkout "$MLTUI_REF" --to "serving/$MLTUI_MODEL"',
              sys.executable]  # the interpreter running the build has mltui, whatever PATH says
    (out / ".mltui" / "config.yaml").write_text(
        "hooks:\n  timeout: 60\n  stages:\n    production:\n      after:\n"
        f"        - {json.dumps(deploy)}\n")


def _serving_log(path: Path, start: float, end: float, f1_at, rng: random.Random) -> list[str]:
    """Write (and return the lines of) a serving log from ``start`` to ``end``: live f1 as
    ``f1_at(t)`` gives it plus a little noise, and a steady latency."""
    lines = []
    t = start
    while t < end:
        lines.append(json.dumps({"ts": round(t, 3), "metric": "f1",
                                 "value": round(f1_at(t) + rng.uniform(-0.01, 0.01), 4)}) + "\n")
        lines.append(json.dumps({"ts": round(t, 3), "metric": "latency_ms",
                                 "value": round(rng.uniform(9.0, 12.0), 2)}) + "\n")
        t += OBSERVE_EVERY
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines))
    return lines


def _production_story(cat, clock: "DemoClock", logs: Path, f1_by_version: dict[str, float]) -> None:
    """fraud@5 serves, its live f1 falls within hours, the monitor fires and rolls production
    back to fraud@3; the next day's log shows fraud@3 healthy again and the alert resolved."""
    rng = random.Random(12)
    first_promotion = min(h["at"] for h in cat.history(model="fraud", stage="production"))
    promoted_5 = clock.now

    def live_f1(t: float) -> float:
        serving = "fraud@5" if t >= promoted_5 else ("fraud@3" if t >= first_promotion + 1.5 * DAY
                                                      else "fraud@1")
        drift = 0.15 if serving == "fraud@5" and t >= promoted_5 + 2 * HOUR else 0.0
        return f1_by_version[serving] - 0.01 - drift  # false positives up: f1 down

    clock.advance(6 * HOUR / DAY)
    lines = _serving_log(logs / "serving" / "production-1.jsonl", first_promotion, clock.now,
                         live_f1, rng)
    cat.observe("fraud", "production", lines, fmt="jsonl", source="production-1.jsonl")
    cat.check_monitors("fraud")  # fires: rolls back to fraud@3, whose hook redeploys it
    rolled_back = clock.now
    clock.advance(1.25)  # the story takes the 1.5 days of any other step: the later dates stay
    lines = _serving_log(logs / "serving" / "production-2.jsonl", rolled_back, clock.now,
                         lambda t: f1_by_version["fraud@3"] - 0.01, rng)
    cat.observe("fraud", "production", lines, fmt="jsonl", source="production-2.jsonl")
    cat.check_monitors("fraud")  # holds again: the alert is resolved


class DemoClock:
    """A clock that starts ``days`` before ``end`` and moves forward as the demo is built."""

    def __init__(self, end: float, days: float = 60.0):
        self.now = end - days * DAY

    def __call__(self) -> float:
        return self.now

    def advance(self, days: float) -> float:
        """Move the clock forward and return the new time."""
        self.now += days * DAY
        return self.now


def _version_doc(ref: str, run_name: str, why: str, data: str, f1: float | None) -> str:
    impact = f"f1 {f1:.3f} on the held-out fifth." if f1 is not None else "See metrics."
    return f"""# {ref} — {run_name}

## Rationale
{why}

## Changes
Training run `{run_name}`; see params in the detail pane.

## Impact
{impact}

## Data
{data}

## Intended use
Scoring in the authorisation path, behind the rules engine.

## Limitations
Synthetic sample data; thresholds are not calibrated for production traffic.
"""


def _write_pipeline(folder: Path, transactions: Path, history_start: float) -> Path:
    """A DVC pipeline (prepare → train) with a dvc.lock carrying the md5 of every dep and out.

    ``prepare`` derives ``features.csv`` from the transactions; ``train`` fits on it.
    """
    import numpy as np

    pipeline = folder / "pipeline"
    (pipeline / "data").mkdir(parents=True, exist_ok=True)
    (pipeline / "models").mkdir(exist_ok=True)
    raw = pipeline / "data" / "transactions.csv"
    shutil.copyfile(transactions, raw)
    # prepare: add a log-amount feature and drop the raw amount (a derived dataset)
    header = raw.read_text().split("\n", 1)[0].split(",")
    table = np.loadtxt(raw, delimiter=",", skiprows=1)
    table[:, header.index("amount")] = np.round(np.log1p(table[:, header.index("amount")]), 5)
    header[header.index("amount")] = "log_amount"
    features = pipeline / "data" / "features.csv"
    lines = [",".join(header)] + [",".join(f"{v:g}" for v in row) for row in table]
    features.write_text("\n".join(lines) + "\n")
    X, y, _ = train.load(features, "is_fraud")
    weights, history = train.train(X, y, lr=0.3, epochs=60, l2=0.01, seed=4, class_weight=3.0)
    model = pipeline / "models" / "model.npz"
    np.savez(model, weights=weights)
    final = history[-1]
    (pipeline / "metrics.json").write_text(
        "{" + ", ".join(f'"{k}": {v!r}' for k, v in final.items()) + "}\n")
    (pipeline / "params.yaml").write_text("train:\n  lr: 0.3\n  epochs: 60\n  l2: 0.01\n"
                                          "  class_weight: 3.0\n")
    (pipeline / "prepare.py").write_text("# derive features.csv from transactions.csv\n")
    (pipeline / "train.py").write_text("# fit logistic regression on features.csv\n")

    def md5(path: Path) -> str:
        return hashlib.md5(path.read_bytes()).hexdigest()  # noqa: S324 - DVC's content hash

    def entry(path: Path) -> str:
        rel = path.relative_to(pipeline).as_posix()
        return f"    - path: {rel}\n      hash: md5\n      md5: {md5(path)}\n      size: {path.stat().st_size}\n"

    (pipeline / "dvc.yaml").write_text(
        "stages:\n"
        "  prepare:\n    cmd: python prepare.py\n    deps:\n    - prepare.py\n"
        "    - data/transactions.csv\n    outs:\n    - data/features.csv\n"
        "  train:\n    cmd: python train.py\n    deps:\n    - train.py\n    - data/features.csv\n"
        "    params:\n    - train\n    outs:\n    - models/model.npz\n    metrics:\n"
        "    - metrics.json:\n        cache: false\n"
        "artifacts:\n  fraud-features:\n    path: models/model.npz\n    type: model\n")
    (pipeline / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n"
        "  prepare:\n    cmd: python prepare.py\n    deps:\n" + entry(pipeline / "prepare.py")
        + entry(raw) + "    outs:\n" + entry(features)
        + "  train:\n    cmd: python train.py\n    deps:\n" + entry(pipeline / "train.py")
        + entry(features) + "    params:\n      params.yaml:\n        train.class_weight: 3.0\n"
        "        train.epochs: 60\n        train.l2: 0.01\n        train.lr: 0.3\n"
        "    outs:\n" + entry(pipeline / "metrics.json") + entry(model))
    return pipeline


def build(out: Path, *, end: float | None = None, progress=print) -> Path:
    """Train, write logs, import them and curate the demo catalog; returns the catalog path.

    ``end`` is the time the build pretends to finish at (default: now), so the history spans
    the 60 days before it.  Everything else is deterministic.
    """
    import time

    from mltui.core.catalog import open_catalog
    from mltui.services.ingest import import_paths

    out = Path(out)
    logs = out / "logs"
    if logs.exists():
        shutil.rmtree(logs)
    clock = DemoClock(end if end is not None else time.time())
    catalog_path = out / ".mltui" / "catalog.db"
    if catalog_path.exists():
        for sibling in catalog_path.parent.glob("catalog.db*"):
            sibling.unlink()
    cat = open_catalog(catalog_path, create=True, clock=clock, actor="dana")
    data = HERE / "data"
    f1_by_version: dict[str, float] = {}
    try:
        progress("training fraud models (MLflow logs)…")
        for index, (name, version, lr, epochs, l2, weight, why) in enumerate(FRAUD_RUNS):
            start = clock.advance(5 if index else 0.5)
            dataset = data / version / "transactions.csv"
            train.main(["--data", str(dataset), "--target", "is_fraud", "--lr", str(lr),
                                  "--epochs", str(epochs), "--l2", str(l2), "--class-weight",
                                  str(weight), "--seed", str(index), "--log-format", "mlflow",
                                  "--out", str(logs / name), "--run-name", name,
                                  "--experiment", "fraud-detection", "--start", str(start),
                                  "--tag", "team=risk", "--tag", f"ticket=[RISK-{120 + index}]"])
            import_paths(cat, [logs / name], model="fraud", datasets=[dataset])
            ref = f"fraud@{index + 1}"
            summary = {m["key"]: m["last"] for m in cat.version_detail(ref)["metric_summary"]}
            f1_by_version[ref] = summary.get("f1")
            cat.set_doc(ref, _version_doc(ref, name, why, f"transactions {version} "
                                          f"({dataset.relative_to(HERE).as_posix()})",
                                          summary.get("f1")), base_rev=0, author="dana")
        cat.set_doc("fraud", FRAUD_MODEL_DOC, base_rev=0, kind="model", author="dana")
        clock.advance(0.2)
        cat.add_gate("fraud", "metrics.f1 >= 0.25")
        cat.add_gate("fraud", "metrics.f1 >= production - 0.02")
        cat.add_gate("fraud", "metrics.latency_ms <= 15")

        progress("training churn models (Lightning logs)…")
        for index, (name, lr, epochs, weight) in enumerate(CHURN_RUNS):
            clock.advance(3)
            train.main(["--data", str(data / "customers.csv"), "--target", "churned", "--lr",
                        str(lr), "--epochs", str(epochs), "--class-weight", str(weight), "--seed",
                        str(10 + index), "--log-format", "lightning", "--out", str(logs / "churn"),
                        "--run-name", "churn", "--version", str(index)])
            import_paths(cat, [logs / "churn" / "lightning_logs" / "churn" / f"version_{index}"],
                            model="churn", datasets=[data / "customers.csv"])
        cat.add_gate("churn", "metrics.auc >= 0.6")

        progress("running the feature pipeline (DVC)…")
        clock.advance(2)
        pipeline = _write_pipeline(logs, data / "v3" / "transactions.csv", clock.now)
        import_paths(cat, [pipeline], model="fraud")

        progress("promoting, rolling back, documenting…")
        steps = [
            ("promote", "fraud@1", "production", "first model in production"),
            ("promote", "fraud@3", "production", "retrained on Q2 data: better recall"),
            ("promote", "fraud@4", "staging", "shadow traffic for the regularised model"),
            ("promote", "fraud@5", "production", "clean labels: f1 up on the held-out set"),
            ("production", None, None, None),  # live traffic, the alert and its rollback
            ("promote", "fraud@7", "staging", "feature pipeline candidate"),
            ("promote", "fraud@5", "champion", "best offline f1; A/B against production"),
            ("promote", "churn@1", "production", "first churn model"),
            ("promote", "churn@2", "production", "class weights fix minority recall"),
        ]
        _write_hooks(out)
        cat.add_monitor("fraud", F1_MONITOR, auto_rollback=True)
        cat.add_monitor("fraud", LATENCY_MONITOR)
        for action, ref, stage, reason in steps:
            if action == "production":
                _production_story(cat, clock, logs, f1_by_version)
                continue
            clock.advance(1.5)
            if action == "promote":
                cat.promote(ref, stage, reason=reason)
            else:
                cat.rollback(ref, stage, reason=reason)
        cat.set_tag("fraud@5", "approved-by", "risk-council")
        cat.set_tag("fraud@6", "experiment", "yes")
    finally:
        cat.close()
    return catalog_path


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-catalog")
    print(build(target))
