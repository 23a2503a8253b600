"""Observations attributed through the stage history; monitors, alerts and auto-rollback."""

from __future__ import annotations

import json
import sys

import pytest

from mltui.core.errors import ImportFailed, InvalidInput
from mltui.core.monitor_rules import parse_monitor_rule
from tests.conftest import snapshot_tables
from tests.deploy.conftest import run_cli


def _jsonl(rows) -> list[str]:
    return [json.dumps(r) + "\n" for r in rows]


@pytest.fixture
def served(seeded):
    """production: fraud@1, then fraud@2, then rolled back to fraud@1; returns the change times."""
    seeded.promote("fraud@1", "production")
    seeded.promote("fraud@2", "production")
    seeded.rollback("fraud", "production", reason="drop in f1")
    times = sorted(row["at"] for row in seeded.history(model="fraud"))
    return seeded, times


def test_observations_straddling_a_rollback_go_to_the_right_versions(served):
    cat, (t1, t2, t3) = served
    rows = [{"ts": t, "metric": "f1", "value": 0.8} for t in (t1 - 5, t1 + 1, t2 + 1, t2 + 2, t3 + 1)]
    result = cat.observe("fraud", "production", _jsonl(rows), fmt="jsonl")
    assert result["versions"] == {"fraud@1": 2, "fraud@2": 2}
    assert result["unattributed"] == 1 and result["added"] == 4
    series = cat.production_series("fraud", "f1")
    assert {p["version"] for p in series["points"]} == {"fraud@1", "fraud@2"}
    assert [c["action"] for c in series["changes"]] == ["promote", "rollback"]


def test_observe_is_idempotent_and_a_grown_log_adds_its_tail(served, catalog_path):
    cat, (t1, _, _) = served
    rows = [{"ts": t1 + i, "metric": "f1", "value": 0.5} for i in range(1, 4)] * 2  # duplicates count
    assert cat.observe("fraud", "production", _jsonl(rows), fmt="jsonl")["added"] == 6
    before = snapshot_tables(catalog_path)
    assert cat.observe("fraud", "production", _jsonl(rows), fmt="jsonl")["added"] == 0
    assert snapshot_tables(catalog_path) == before
    grown = rows + [{"ts": t1 + 9, "metric": "f1", "value": 0.4}]
    assert cat.observe("fraud", "production", _jsonl(grown), fmt="jsonl")["added"] == 1


def test_csv_wide_form_and_iso_timestamps(served):
    cat, (t1, _, _) = served
    from datetime import datetime, timezone

    iso = datetime.fromtimestamp(t1 + 30, tz=timezone.utc).isoformat().replace("+00:00", "Z")
    text = f"timestamp,f1,latency_ms,host\n{iso},0.7,12,web-1\n{(t1 + 31) * 1000},0.9,,web-2\n"
    result = cat.observe("fraud", "production", text.splitlines(keepends=True), fmt="csv")
    assert result["added"] == 3 and result["metrics"] == ["f1", "latency_ms"]


@pytest.mark.parametrize("line, field", [('{"ts": 1, "metric": "f1", "value": "x"}', "value"),
                                         ('{"metric": "f1", "value": 1}', "ts"),
                                         ('{"ts": "yesterday", "metric": "f1", "value": 1}', "ts"),
                                         ("not json", None),
                                         # the whole-log parse would take these two objects
                                         ('{"ts": 1, "metric": "f1", "value": 1},'
                                          '{"ts": 2, "metric": "f1", "value": 1}', None),
                                         # integers past the float range: no traceback
                                         ('{"ts": 1, "metric": "f1", "value": 1' + "0" * 400
                                          + "}", "value"),
                                         ('{"ts": 1' + "0" * 400 + ', "metric": "f1", '
                                          '"value": 1}', "ts")])
def test_a_bad_row_names_its_line_and_writes_nothing(served, catalog_path, line, field):
    cat, (t1, _, _) = served
    good = json.dumps({"ts": t1 + 1, "metric": "f1", "value": 0.5})
    before = snapshot_tables(catalog_path)
    with pytest.raises(ImportFailed) as info:
        cat.observe("fraud", "production", [good + "\n", line + "\n"], fmt="jsonl", source="log")
    assert info.value.line == 2 and info.value.field == field
    assert snapshot_tables(catalog_path) == before


def test_cli_observe_from_stdin(served, catalog_path):
    cat, (t1, _, _) = served
    text = "".join(_jsonl([{"ts": t1 + 1, "metric": "f1", "value": 0.5}]))
    result = run_cli(["observe", "fraud@production", "-"], catalog_path, input=text)
    assert result.exit_code == 0 and "1 new of 1 observations" in result.stderr


@pytest.mark.parametrize("rule, parsed", [
    ("mean(metrics.f1, 1h) >= 0.80", ("mean", "f1", 3600.0, ">=", 0.8, None, 0.0)),
    ("metrics.f1 >= eval.f1 - 0.05", ("mean", "f1", 3600.0, ">=", None, "f1", -0.05)),
    ("count(30m) >= 100", ("count", None, 1800.0, ">=", 100.0, None, 0.0)),
    ("max(metrics.latency_ms, 5m) < 40", ("max", "latency_ms", 300.0, "<", 40.0, None, 0.0)),
])
def test_monitor_rules_parse(rule, parsed):
    r = parse_monitor_rule(rule)
    assert (r.func, r.key, r.window, r.op, r.threshold, r.eval_key, r.offset) == parsed


@pytest.mark.parametrize("rule", ["mean(f1) > 1", "metrics.f1 >=", "mean(metrics.f1, 1y) > 0",
                                  "metrics.f1 > production", "count(1h) >= eval"])
def test_bad_monitor_rules_are_refused(seeded, rule):
    with pytest.raises(InvalidInput):
        seeded.add_monitor("fraud", rule)


def _degrade(cat, start: float, n: int = 30, value: float = 0.5):
    rows = [{"ts": start + i, "metric": "f1", "value": value} for i in range(n)]
    cat.observe("fraud", "production", _jsonl(rows), fmt="jsonl")
    return start + n


def test_firing_rule_alerts_once_runs_on_alert_once_and_rolls_back_once(
        served, project, catalog_path):
    cat, _ = served
    cat.promote("fraud@2", "production", reason="retry")  # fraud@1 → fraud@2 again
    since = cat.history(model="fraud", limit=1)[0]["at"]
    project.write({"hooks": {"on_alert": [project.recorder]}})
    cat.add_monitor("fraud", "metrics.f1 >= eval.f1 - 0.05", auto_rollback=True)
    end = _degrade(cat, since + 1)  # fraud@2 logged f1 0.90, production sees 0.5
    first = run_cli(["monitor", "check", "--at", str(end), "--format", "json"], catalog_path)
    assert first.exit_code == 1
    [row] = json.loads(first.stdout)
    assert row["status"] == "fired" and row["rolled_back"]["to"] == "fraud@1"
    assert cat.stage_holder("fraud", "production") == cat.resolve("fraud@1")
    assert f"alert {row['alert_id']}" in cat.history(limit=1)[0]["reason"]
    calls = project.calls()
    assert len(calls) == 1 and calls[0]["env"]["MLTUI_ALERT_ID"] == str(row["alert_id"])
    assert calls[0]["env"]["MLTUI_ROLLED_BACK_TO"] == "fraud@1"
    # fraud@1 now serves and also sees 0.5 against its own 0.80: the alert is still open, so
    # no second alert, no second hook, no second rollback.
    rolled_at = cat.history(model="fraud", limit=1)[0]["at"]
    end = _degrade(cat, rolled_at + 1)
    again = cat.check_monitors(at=end)
    assert again[0]["status"] == "firing" and again[0]["rolled_back"] is None
    assert len(project.calls()) == 1
    assert [h["action"] for h in cat.history(model="fraud")].count("rollback") == 2
    assert len(cat.alerts("fraud")) == 1 and cat.alerts("fraud", active=True)
    assert len([e for e in cat.events(action="alert")]) == 1


def test_alert_resolves_when_the_rule_holds_again(served):
    cat, (_, _, t3) = served
    cat.add_monitor("fraud", "mean(metrics.f1, 1h) >= 0.6")
    end = _degrade(cat, t3 + 1)
    assert cat.check_monitors(at=end)[0]["status"] == "fired"
    end = _degrade(cat, end, n=300, value=0.95)
    assert cat.check_monitors(at=end)[0]["status"] == "resolved"
    assert cat.check_monitors(at=end)[0]["status"] == "ok"
    assert not cat.alerts("fraud", active=True) and len(cat.events(action="alert-resolved")) == 1


def test_count_rule_fires_when_traffic_stops(served, catalog_path):
    cat, (_, _, t3) = served
    cat.add_monitor("fraud", "count(1h) >= 100")
    end = _degrade(cat, t3 + 1, n=10)
    result = run_cli(["monitor", "check", "--at", str(end), "--format", "markdown"], catalog_path)
    assert result.exit_code == 1 and "| fired | fraud@production | count(1h) \\>= 100 | 10 |" in result.stdout


def test_monitor_list_and_remove(seeded, catalog_path):
    seeded.add_monitor("fraud", "count(1h) >= 100")
    listed = run_cli(["monitor", "list", "--json"], catalog_path)
    assert json.loads(listed.stdout)[0]["rule"] == "count(1h) >= 100"
    assert run_cli(["monitor", "remove", "fraud", "count(1h) >= 100"], catalog_path).exit_code == 0
    assert seeded.monitors() == []
    assert run_cli(["monitor", "check"], catalog_path).exit_code == 0


def test_history_shows_alerts_in_line(served, catalog_path):
    cat, (_, _, t3) = served
    cat.add_monitor("fraud", "count(1h) >= 100")
    end = _degrade(cat, t3 + 1, n=5)
    cat.check_monitors(at=end)
    text = run_cli(["history", "--model", "fraud"], catalog_path).stdout
    assert "alert (open)" in text and "count(1h) >= 100" in text

