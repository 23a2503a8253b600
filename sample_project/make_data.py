"""Generate the sample project's datasets, deterministically (committed under data/).

transactions: a card-fraud table in three versions (v1: the first export; v2: more months of
data; v3: v2 with the chargeback labels corrected), and customers: a churn table.  Run
``python sample_project/make_data.py`` to regenerate; the bytes are identical every time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
COLUMNS = ["amount", "hour", "merchant_risk", "country_risk", "velocity_1h", "account_age_days",
           "device_new", "is_fraud"]


def _transactions(rows: int, seed: int, label_noise: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    amount = np.round(rng.lognormal(3.5, 1.0, rows), 2)
    hour = rng.integers(0, 24, rows)
    merchant_risk = np.round(rng.beta(2, 8, rows), 4)
    country_risk = np.round(rng.beta(1.5, 10, rows), 4)
    velocity = rng.poisson(1.2, rows)
    age = rng.integers(1, 3650, rows)
    device_new = (rng.random(rows) < 0.15).astype(int)
    night = ((hour < 6) | (hour > 22)).astype(float)
    logit = (-5.2 + 0.9 * np.log1p(amount) / 3 + 5.5 * merchant_risk + 7.0 * country_risk
             + 0.45 * velocity - 0.0004 * age + 1.1 * device_new + 0.8 * night)
    fraud = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    flip = rng.random(rows) < label_noise  # mislabelled chargebacks in the early exports
    fraud = np.where(flip, 1 - fraud, fraud)
    return np.column_stack([amount, hour, merchant_risk, country_risk, velocity, age, device_new,
                            fraud])


def _write(path: Path, header: list[str], table: np.ndarray, integer_columns: set[int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(header)]
    for row in table:
        lines.append(",".join(str(int(v)) if i in integer_columns else f"{v:g}"
                              for i, v in enumerate(row)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    """Write data/v1, v2, v3 transactions and data/customers.csv."""
    ints = {1, 4, 5, 6, 7}
    v1 = _transactions(1500, seed=1, label_noise=0.06)
    v2 = np.vstack([v1, _transactions(1500, seed=2, label_noise=0.06)])
    clean = np.vstack([_transactions(1500, seed=1, label_noise=0.0),
                       _transactions(1500, seed=2, label_noise=0.0)])
    _write(HERE / "data" / "v1" / "transactions.csv", COLUMNS, v1, ints)
    _write(HERE / "data" / "v2" / "transactions.csv", COLUMNS, v2, ints)
    _write(HERE / "data" / "v3" / "transactions.csv", COLUMNS, clean, ints)

    rng = np.random.default_rng(7)
    rows = 2000
    tenure = rng.integers(1, 72, rows)
    monthly = np.round(rng.normal(60, 20, rows).clip(10, 150), 2)
    tickets = rng.poisson(0.8, rows)
    contract = rng.integers(0, 3, rows)
    logit = -1.0 - 0.05 * tenure + 0.015 * monthly + 0.5 * tickets - 0.9 * contract
    churn = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    _write(HERE / "data" / "customers.csv", ["tenure_months", "monthly_fee", "support_tickets",
                                            "contract_years", "churned"],
           np.column_stack([tenure, monthly, tickets, contract, churn]), {0, 2, 3, 4})


if __name__ == "__main__":
    main()
