"""What a reviewer needs to decide on a candidate: ``mltui check``'s report and the model card's
comparison with another version.

``review(cat, ref, stage)`` evaluates the gates guarding ``stage`` and sets the candidate beside
the version holding that stage: metric deltas with the better side marked, changed params,
changed data (dataset versions and hashes), the code range between the two commits, and a
one-line verdict.  The result is plain data; ``report.check_markdown`` and the CLI render it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..display import fmt_delta, short_hash

if TYPE_CHECKING:  # pragma: no cover
    from ..core.catalog import Catalog


def versus(cat: Catalog, base_ref: str | None, ref: str) -> dict[str, Any] | None:
    """``ref`` set against ``base_ref``: metrics, changed params, data and code; None without a base.

    Each metric row has ``base``, ``value``, ``delta`` and ``better`` ("candidate", "base" or
    None when equal or not comparable), judged by the metric's direction (losses go down).
    """
    if base_ref is None:
        return None
    data = cat.compare([base_ref, ref])
    metrics = []
    for row in data["metrics"]:
        base, value = row["values"]
        better = None
        if base is not None and value is not None and base != value:
            higher_wins = row["direction"] == "max"
            better = "candidate" if (value > base) == higher_wins else "base"
        metrics.append({"key": row["key"], "base": base, "value": value, "delta": row["deltas"][1],
                        "direction": row["direction"], "better": better})
    params = [{"key": row["key"], "base": row["values"][0], "value": row["values"][1]}
              for row in data["params"] if row["differs"]]
    details = [cat.version_detail(v) for v in data["versions"]]
    sets = [{d["name"]: d for d in detail["data"]} for detail in details]
    datasets = []
    for name in sorted(set(sets[0]) | set(sets[1])):
        old, new = sets[0].get(name), sets[1].get(name)
        datasets.append({"name": name, "base": _dataset_label(old), "value": _dataset_label(new),
                         "changed": _dataset_key(old) != _dataset_key(new)})
    commits = data["commits"]
    return {"base": data["versions"][0], "ref": data["versions"][1], "metrics": metrics,
            "params": params, "data": datasets,
            "code": {"base": commits[0], "value": commits[1],
                     "changed": bool(commits[0] or commits[1]) and commits[0] != commits[1],
                     "range": code_range(commits[0], commits[1])}}


def _dataset_key(row: dict[str, Any] | None) -> tuple[Any, ...] | None:
    return None if row is None else (row["version"], row["hash"])


def _dataset_label(row: dict[str, Any] | None) -> str | None:
    if row is None:
        return None
    digest = f" ({row['hash_algo']} {short_hash(row['hash'])})" if row.get("hash") else ""
    return f"{row['name']}@{row['version']}{digest}"


def code_range(base: str | None, value: str | None) -> str:
    """``abc12345..def67890`` between two commits; one commit when they are equal or one is unknown."""
    if base and value and base != value:
        return f"{short_hash(base)}..{short_hash(value)}"
    return short_hash(value or base)


def review(cat: Catalog, ref: str, *, stage: str = "production") -> dict[str, Any]:
    """The gate check of ``ref`` for ``stage`` plus its comparison with the stage's holder.

    Keeps ``Catalog.check``'s keys (``ref``, ``stage``, ``passed``, ``results``) and adds
    ``holder`` (the version holding ``stage``, or None), ``versus`` (see :func:`versus`; None
    without a holder or when the candidate holds the stage) and ``verdict`` (one line).
    """
    result = cat.check(ref, stage=stage)
    model = result["ref"].split("@", 1)[0]
    holder = _holder(cat, model, result["stage"])
    result["holder"] = holder
    result["versus"] = versus(cat, holder, result["ref"]) if holder not in (None, result["ref"]) \
        else None
    result["verdict"] = verdict(result)
    return result


def _holder(cat: Catalog, model: str, stage: str) -> str | None:
    # Catalog.models() carries each model's stage → version map; no dedicated query needed.
    for row in cat.models():
        if row["name"] == model:
            version = (row.get("stages") or {}).get(stage)
            return f"{model}@{version}" if version is not None else None
    return None


def verdict(result: dict[str, Any]) -> str:
    """One line: may the candidate take the stage, and what changed against its holder."""
    gates = result["results"]
    failed = [g for g in gates if not g["passed"]]
    skipped = sum(1 for g in gates if g.get("skipped"))
    ref, stage = result["ref"], result["stage"]
    if failed:
        head = (f"{ref} cannot take {stage}: {len(failed)} of {len(gates)} gate(s) failed "
                f"({'; '.join(g['rule'] for g in failed)})")
    elif gates:
        extra = f", {skipped} skipped" if skipped else ""
        head = f"{ref} may take {stage}: {len(gates) - skipped} of {len(gates)} gate(s) passed{extra}"
    else:
        head = f"{ref} may take {stage}: it has no gates"
    cmp = result.get("versus")
    if result.get("holder") == ref:
        return head + f"; it already holds {stage}"
    if cmp is None:
        return head + f"; no version holds {stage} to compare with"
    better = sum(1 for m in cmp["metrics"] if m["better"] == "candidate")
    worse = sum(1 for m in cmp["metrics"] if m["better"] == "base")
    changes = [f"{better} metric(s) better, {worse} worse than {cmp['base']}"]
    if cmp["params"]:
        changes.append(f"{len(cmp['params'])} param(s) changed")
    if any(d["changed"] for d in cmp["data"]):
        changes.append("data changed")
    if cmp["code"]["changed"]:
        changes.append(f"code {cmp['code']['range']}")
    return head + "; " + ", ".join(changes)


def delta_text(row: dict[str, Any]) -> str:
    """A metric delta with which side is better: ``+0.02 better``, ``-0.01 worse``, ``±0``."""
    if row["delta"] is None:
        return "—"
    mark = {"candidate": " better", "base": " worse"}.get(row["better"] or "", "")
    return fmt_delta(row["delta"]) + mark
