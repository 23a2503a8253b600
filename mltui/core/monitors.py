"""Monitors: rules over production observations that raise alerts, and may roll back.

A rule says what should hold for the version serving a stage, over a window that ends now::

    mean(metrics.f1, 1h) >= 0.80          (also avg, min, max, sum; count(metrics.f1, 1h))
    metrics.f1 >= eval.f1 - 0.05          (production mean over the default window against
                                           the version's own logged evaluation)
    count(1h) >= 100                      (observations of any metric: traffic stopped)

Only observations of the current holder since it took the stage count, so a rollback starts
its window afresh.  A rule that does not hold *fires*: ``check`` opens one alert (an ``alert``
event), runs the ``on_alert`` hooks once and, when the monitor says so, rolls the stage back
with the alert as the reason, also once.  While it keeps firing nothing more happens; when it
holds again the alert is resolved (an ``alert-resolved`` event).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import refs as refs_mod
from .errors import InvalidInput, NotFound

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog

# The rule grammar (its regular expressions and the MonitorRule dataclass) is in
# core/monitor_rules.py, loaded when a monitor is added or checked, not with the Catalog class.


class MonitorMixin:
    """Monitors, their check and alerts (mixed into Catalog)."""

    def add_monitor(self: "Catalog", model: str, rule: str, *, stage: str = "production",
                    auto_rollback: bool = False) -> dict[str, Any]:
        """Add a monitor on ``model``'s ``stage``; with ``auto_rollback`` a firing rule rolls
        the stage back (once per alert).  A duplicate is an error."""
        from .monitor_rules import parse_monitor_rule

        parsed = parse_monitor_rule(rule)
        stage = refs_mod.normalize_stage(stage)
        mid = self.model_id(model)
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM monitors WHERE model_id = ? AND stage = ? AND rule = ?",
                            (mid, stage, parsed.text)).fetchone():
                raise InvalidInput(f"{model}@{stage} already has the monitor {parsed.text!r}")
            cursor = conn.execute(
                "INSERT INTO monitors (model_id, stage, rule, auto_rollback, created_at, "
                "created_by) VALUES (?,?,?,?,?,?)",
                (mid, stage, parsed.text, int(auto_rollback), self.now(), self.actor))
            self._event(conn, "monitor-add", "model", mid, f"{model}@{stage}",
                        after={"rule": parsed.text, "auto_rollback": auto_rollback})
        return {"id": cursor.lastrowid, "model": model, "stage": stage, "rule": parsed.text,
                "auto_rollback": auto_rollback}

    def monitors(self: "Catalog", model: str | None = None) -> list[dict[str, Any]]:
        """Monitors (of one model, or all), oldest first."""
        where, params = ("WHERE mo.name = ?", [model]) if model else ("", [])
        if model:
            self.model_id(model)
        rows = self._read("SELECT m.id, mo.name AS model, m.stage, m.rule, m.auto_rollback, "
                          "m.created_at, m.created_by FROM monitors m JOIN models mo ON "
                          f"mo.id = m.model_id {where} ORDER BY m.id", params)
        for row in rows:
            row["auto_rollback"] = bool(row["auto_rollback"])
        return rows

    def remove_monitor(self: "Catalog", model: str, monitor: str | int) -> None:
        """Remove a monitor by id or exact rule text (its alerts stay in the history)."""
        mid = self.model_id(model)
        text = str(monitor).strip()
        with self._write() as conn:
            if text.isdigit() and len(text) <= 18:
                row = conn.execute("SELECT id, rule, stage FROM monitors WHERE model_id = ? AND "
                                   "id = ?", (mid, int(text))).fetchone()
            else:
                row = conn.execute("SELECT id, rule, stage FROM monitors WHERE model_id = ? AND "
                                   "rule = ?", (mid, " ".join(text.split()))).fetchone()
            if not row:
                raise NotFound(f"{model} has no monitor {text!r}",
                               hint=f"list them: mltui monitor list {model}")
            conn.execute("UPDATE alerts SET resolved_at = ? WHERE monitor_id = ? AND "
                         "resolved_at IS NULL", (self.now(), row[0]))
            conn.execute("DELETE FROM monitors WHERE id = ?", (row[0],))
            self._event(conn, "monitor-remove", "model", mid, f"{model}@{row[2]}",
                        before={"rule": row[1]})

    def evaluate_monitor(self: "Catalog", monitor: dict[str, Any], at: float) -> dict[str, Any]:
        """Evaluate one monitor at time ``at``: ``{"value", "target", "fires", "detail",
        "version_id"}`` (``fires`` None when there is nothing to judge)."""
        from .monitor_rules import SQL_AGGREGATES, parse_monitor_rule

        rule = parse_monitor_rule(monitor["rule"])
        conn = self._conn()
        mid = self.model_id(monitor["model"])
        holder = conn.execute("SELECT version_id, since FROM stages WHERE model_id = ? AND "
                              "stage = ?", (mid, monitor["stage"])).fetchone()
        out = {"value": None, "target": None, "fires": None, "version_id": None, "detail": ""}
        if holder is None:
            return dict(out, detail=f"no version holds {monitor['stage']}")
        vid, since = holder
        start = max(at - rule.window, since or 0.0)
        series = conn.execute(
            "SELECT id FROM obs_series WHERE model_id = ? AND stage = ?"
            + (" AND metric = ?" if rule.key else ""),
            (mid, monitor["stage"], *([rule.key] if rule.key else []))).fetchall()
        count, value = 0, None
        for (sid,) in series:  # one range of the (series, ts) key each
            n, agg = conn.execute(
                f"SELECT count(*), {SQL_AGGREGATES[rule.func]}(value) FROM observations WHERE "
                "series_id = ? AND ts >= ? AND ts <= ? AND version_id = ?",
                (sid, start, at, vid)).fetchone()
            count += n
            if n and rule.func not in ("count",):
                value = agg if value is None else _combine(rule.func, value, agg, count - n, n)
        if rule.func == "count":
            value = float(count)
        out["version_id"] = vid
        if value is None:
            return dict(out, detail=f"no observations of {rule.key} in the window")
        if rule.eval_key is not None:
            reference = self._metric_value(conn, vid, rule.eval_key, "last")
            if reference is None:
                return dict(out, value=value, detail=f"{self.ref_of(vid)} logged no {rule.eval_key}")
            target = reference + rule.offset
        else:
            target = rule.threshold
        from .gates import _OPS  # the comparison operators; gates load on first use

        holds = _OPS[rule.op](value, target)
        return dict(out, value=value, target=target, fires=not holds,
                    detail=f"{value:.6g} {'is' if holds else 'is not'} {rule.op} {target:.6g} "
                           f"over {count} observation(s) of {self.ref_of(vid)}")

    def check_monitors(self: "Catalog", model: str | None = None, *, at: float | None = None
                       ) -> list[dict[str, Any]]:
        """Evaluate every monitor; open, keep or resolve alerts; run ``on_alert`` hooks and
        auto-rollbacks for new alerts.  One result per monitor, with ``status`` one of
        ``ok``, ``no-data``, ``fired`` (a new alert), ``firing`` (still) or ``resolved``."""
        at = self.now() if at is None else at
        results = []
        for monitor in self.monitors(model):
            outcome = self.evaluate_monitor(monitor, at)
            result = dict(monitor, **{k: outcome[k] for k in ("value", "target", "fires", "detail")},
                          version=self.ref_of(outcome["version_id"]) if outcome["version_id"] else None,
                          alert_id=None, rolled_back=None, hooks=[], hooks_failed=[])
            with self._write() as conn:
                open_row = conn.execute("SELECT id FROM alerts WHERE monitor_id = ? AND "
                                        "resolved_at IS NULL", (monitor["id"],)).fetchone()
                if outcome["fires"] and open_row:
                    result.update(status="firing", alert_id=open_row[0])
                elif outcome["fires"]:
                    result.update(status="fired",
                                  alert_id=self._open_alert(conn, monitor, outcome, at))
                elif open_row and outcome["fires"] is False:
                    conn.execute("UPDATE alerts SET resolved_at = ? WHERE id = ?", (at, open_row[0]))
                    self._event(conn, "alert-resolved", "alert", open_row[0],
                                f"{monitor['model']}@{monitor['stage']}", detail=outcome["detail"])
                    result.update(status="resolved", alert_id=open_row[0])
                else:
                    result["status"] = "ok" if outcome["fires"] is False else "no-data"
            if result["status"] == "fired":
                self._after_alert(monitor, result)
            results.append(result)
        return results

    def _open_alert(self: "Catalog", conn, monitor: dict[str, Any], outcome: dict[str, Any],
                    at: float) -> int:
        mid = self.model_id(monitor["model"])
        alert_id = conn.execute(
            "INSERT INTO alerts (monitor_id, model_id, stage, version_id, rule, value, detail, "
            "opened_at) VALUES (?,?,?,?,?,?,?,?)",
            (monitor["id"], mid, monitor["stage"], outcome["version_id"], monitor["rule"],
             outcome["value"], outcome["detail"], at)).lastrowid
        self._event(conn, "alert", "alert", alert_id, f"{monitor['model']}@{monitor['stage']}",
                    after={"rule": monitor["rule"], "value": outcome["value"],
                           "target": outcome["target"],
                           "version": self.ref_of(outcome["version_id"])},
                    detail=outcome["detail"])
        return alert_id

    def _after_alert(self: "Catalog", monitor: dict[str, Any], result: dict[str, Any]) -> None:
        """A new alert's auto-rollback (when the monitor asks for it), then its on_alert hooks."""
        alert_id = result["alert_id"]
        if monitor["auto_rollback"]:
            reason = f"alert {alert_id}: {monitor['rule']} ({result['detail']})"
            change = self.rollback(monitor["model"], monitor["stage"], reason=reason)
            result["rolled_back"] = change
            with self._write() as conn:
                conn.execute("UPDATE alerts SET rollback_history_id = ? WHERE id = ?",
                             (change["history_id"], alert_id))
        hooks = self.project_config().on_alert
        if not hooks:
            return
        config = self.project_config()
        from .hook_runs import failure_line, hook_env, run_hooks  # hooks load when one runs

        env = hook_env({"action": "alert", "phase": "on_alert", "alert_id": alert_id,
                        "model": monitor["model"], "stage": monitor["stage"],
                        "ref": result["version"], "rule": monitor["rule"],
                        "value": result["value"], "target": result["target"],
                        "detail": result["detail"],
                        "rolled_back_to": (result["rolled_back"] or {}).get("to")},
                       str(self.path))
        runs = run_hooks(hooks, "on_alert", env, str(config.project_dir))
        with self._write() as conn:
            for run in runs:
                self._hook_event(conn, run, "alert", alert_id,
                                 f"{monitor['model']}@{monitor['stage']}")
        result["hooks"] = [r.as_dict() for r in runs]
        result["hooks_failed"] = [failure_line(r) for r in runs if not r.ok]

    def alerts(self: "Catalog", model: str | None = None, *, active: bool = False,
               limit: int = 200) -> list[dict[str, Any]]:
        """Alerts, newest first (only open ones with ``active``): rule, value, version, when
        opened and resolved, and the rollback it led to."""
        where, params = ["1"], []
        if model:
            where.append("a.model_id = ?")
            params.append(self.model_id(model))
        if active:
            where.append("a.resolved_at IS NULL")
        rows = self._read(
            "SELECT a.id, mo.name AS model, a.stage, a.rule, a.value, a.detail, a.opened_at, "
            "a.resolved_at, a.version_id, a.rollback_history_id, a.monitor_id FROM alerts a "
            f"JOIN models mo ON mo.id = a.model_id WHERE {' AND '.join(where)} "
            "ORDER BY a.id DESC LIMIT ?", params + [limit])
        for row in rows:
            row["version"] = self.ref_of(row.pop("version_id")) if row["version_id"] else None
            row["active"] = row["resolved_at"] is None
        return rows


def _combine(func: str, a: float, b: float, count_a: int, count_b: int) -> float:
    """Merge two series' aggregates (a window over several metrics' series)."""
    if func in ("mean", "avg"):
        return (a * count_a + b * count_b) / (count_a + count_b)
    if func == "min":
        return min(a, b)
    if func == "max":
        return max(a, b)
    return a + b
