"""The verdict line: a run's latest value next to production's at the same epoch or step."""

from __future__ import annotations

from mltui.core.records import ImportBatch, ImportSummary, MetricPoint, RunRecord
from mltui.services.watch import verdict_against_production


def _run(cat, uid, curve, *, by_epoch=True):
    points = [MetricPoint("val/f1", value, step=10 * epoch, epoch=epoch if by_epoch else None,
                          seq=i) for i, (epoch, value) in enumerate(curve)]
    run = RunRecord(uid=uid, source_format="api", source_path="", name=uid, metrics=points,
                    status="FINISHED")
    summary = ImportSummary()
    cat.write_import([ImportBatch("api", "", runs=[run])], summary)
    return summary.run_ids[0]


def _production(cat, curve, **kw):
    run_id = _run(cat, "prod", curve, **kw)
    cat.register("fraud", run_id)
    cat.promote("fraud@1", "production")


def test_same_epoch_of_production_curve(cat):
    # Production reached 0.79 by epoch 7 and 0.9 later: the verdict compares epoch 7 with 7.
    _production(cat, [(5, 0.7), (7, 0.79), (9, 0.9)])
    run_id = _run(cat, "cand", [(6, 0.75), (7, 0.81)])
    found = verdict_against_production(cat, run_id, "val/f1", model="fraud")
    assert found.text == "val/f1 0.81 at epoch 7; production (fraud@1) reached 0.79 by epoch 7 (ahead)"
    assert (found.axis, found.at, found.production_value, found.ahead) == ("epoch", 7, 0.79, True)


def test_step_axis_when_a_curve_has_no_epochs(cat):
    _production(cat, [(5, 0.8), (7, 0.85)], by_epoch=False)
    run_id = _run(cat, "cand", [(6, 0.78)])
    found = verdict_against_production(cat, run_id, "val/f1", model="fraud")
    assert found.text == "val/f1 0.78 at step 60; production (fraud@1) reached 0.8 by step 60 (behind)"


def test_no_production_and_no_metric(cat):
    run_id = _run(cat, "cand", [(1, 0.5)])
    cat.register("fraud", run_id)
    found = verdict_against_production(cat, run_id, "val/f1", model="fraud")
    assert found.text == "val/f1 0.5 at epoch 1; no version of fraud holds production to compare with"
    assert verdict_against_production(cat, run_id, "val/auc", model="fraud") is None
