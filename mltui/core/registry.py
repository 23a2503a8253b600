"""Registering versions, stages, promotion, rollback, archiving, tags and gates.

Every method here is one transaction that also appends to the event log; stage changes also
append to the stage history, which is what rollback replays (like git's reflog).
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import audit
from . import refs as refs_mod
from . import registry_sql as sql
from .errors import Conflict, GateFailed, HistoryBroken, InvalidInput, NotFound

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog
    from .gates import GateResult

_SAFE_PART = re.compile(r"[^A-Za-z0-9.-]+")


def canonical_name(project: str | None, model: str, version: int, created_at: float) -> str:
    """``{project}_{model}_v{N}_{YYYYMMDD}``; parts are made filename-safe."""
    day = datetime.fromtimestamp(created_at, tz=timezone.utc).strftime("%Y%m%d")
    proj = _SAFE_PART.sub("-", project or "default").strip("-") or "default"
    name = _SAFE_PART.sub("-", model).strip("-") or "model"
    return f"{proj}_{name}_v{version}_{day}"


def stage_stack(rows: list[tuple[str, int | None]]) -> list[int | None]:
    """Replay a stage's history into the stack of holders (top = current).

    ``promote``/``import``/``clear`` push the new holder (None for clear); ``rollback`` pops.
    So after v1, v2, v3 and two rollbacks the holder is v1, as with git's reflog.
    """
    stack: list[int | None] = []
    for action, to_version in rows:
        if action == "rollback":
            if stack:
                stack.pop()
        else:
            stack.append(to_version)
    return stack


class RegistryMixin:
    """Register, promote, roll back, archive, tag and gate (mixed into Catalog)."""

    # -- models and versions ---------------------------------------------------------------

    def _ensure_model(self: "Catalog", conn: sqlite3.Connection, name: str, *,
                      project: str | None = None, description: str | None = None,
                      created_at: float | None = None) -> int:
        if not refs_mod.MODEL_NAME_RE.match(name or ""):
            raise InvalidInput(f"bad model name {name!r}",
                               hint="use letters, digits, '_', '.', '-', starting with a letter or digit")
        row = conn.execute(sql.MODEL_ID_BY_NAME, (name,)).fetchone()
        if row:
            return row[0]
        cursor = conn.execute(
            sql.INSERT_MODEL, (name, description, project, created_at or self.now()))
        self._event(conn, "create-model", "model", cursor.lastrowid, name)
        return cursor.lastrowid

    def register(self: "Catalog", model: str, run: Any = None, *, artifact: str | None = None,
                 description: str | None = None, tags: dict[str, str] | None = None,
                 base: str | None = None, project: str | None = None, doc: str | None = None,
                 actor: str | None = None) -> dict[str, Any]:
        """Register a new version of ``model`` (created if new); returns the version row.

        ``run`` is a run (dict from :meth:`log_run`, id, uid or ``run:`` prefix); ``artifact``
        a model file or folder to hash (default: the run's best model file, when it logged
        one); ``base`` the version it was fine-tuned from; ``doc`` the first documentation
        revision (else the template).
        """
        from pathlib import Path

        from .hashing import hash_path

        run_id = self.resolve_run(run) if run is not None else None
        art: dict[str, Any] = self.run_artifact(run_id) if run_id is not None else {}  # pragma: no mutate - no run has artifacts
        if artifact is not None:
            path = Path(artifact)
            if not path.exists():
                raise InvalidInput(f"artifact {artifact} does not exist",
                                   hint="pass the path of the model file or folder")
            algo, digest, size, _ = hash_path(path)
            art = {"artifact_path": str(path.resolve()), "artifact_path_raw": str(artifact),
                   "artifact_hash_algo": algo, "artifact_hash": digest, "artifact_size": size}
        base_id = self.resolve(base) if base else None
        with self._write() as conn:
            vid = self._register(conn, model, run_id=run_id, artifact=art, tags=tags,
                                 project=project, description=description, actor=actor)
            if base_id is not None:
                self._edge(conn, "version", base_id, "version", vid, "base")
            if doc is not None:
                self._save_doc(conn, "version", vid, doc, author=actor or self.actor,
                               message="initial documentation")
            # Last: a synced model's server gets the version too, or the registration rolls back.
            kept_local = self._sync_register(conn, model, vid, run_id, artifact is not None)
        row = self.versions([vid])[0]
        if kept_local:
            row["remote_note"] = kept_local
        return row

    def run_artifact(self: "Catalog", run_id: int) -> dict[str, Any]:
        """The model file a run's version should point at: its best, else its model, else the
        last one it logged (as ``model_versions`` artifact columns; empty when none)."""
        rows = self._read(sql.RUN_ARTIFACTS, (run_id,))
        if not rows:
            return {}
        chosen = next((r for kind in ("best", "model") for r in rows if r["kind"] == kind), rows[-1])
        return {"artifact_path": chosen["path"], "artifact_path_raw": chosen["path_raw"],
                "artifact_hash_algo": chosen["hash_algo"], "artifact_hash": chosen["hash"],
                "artifact_size": chosen["size"], "base_model": chosen["base_model"]}

    def _register(self: "Catalog", conn: sqlite3.Connection, model: str, *, run_id: int | None,
                  artifact: dict[str, Any] | None = None, tags: dict[str, str] | None = None,
                  project: str | None = None, description: str | None = None,
                  actor: str | None = None, created_at: float | None = None,
                  source_uid: str | None = None, status: str = "ready",
                  number: int | None = None) -> int:
        """Insert the next version inside an open transaction; returns its id."""
        if project is None and run_id is not None:
            project = conn.execute(sql.RUN_PROJECT, (run_id,)).fetchone()[0]
        mid = self._ensure_model(conn, model, project=project, description=description)
        model_project = conn.execute(sql.MODEL_PROJECT, (mid,)).fetchone()[0]
        next_number = conn.execute(sql.MODEL_NEXT_VERSION, (mid,)).fetchone()[0]
        version = number if number is not None and number >= next_number else next_number  # pragma: no mutate - equal means next_number
        created = created_at or self.now()
        name = canonical_name(model_project or project, model, version, created)
        artifact = artifact or {}
        cursor = conn.execute(
            sql.INSERT_VERSION,
            (mid, version, name, run_id, artifact.get("artifact_path"),
             artifact.get("artifact_path_raw"), artifact.get("artifact_hash_algo"),
             artifact.get("artifact_hash"), artifact.get("artifact_size"),
             artifact.get("base_model"), created, actor or self.actor, status, source_uid))
        vid = cursor.lastrowid
        conn.execute(sql.SET_NEXT_VERSION, (version + 1, mid))
        for key, value in (tags or {}).items():
            conn.execute(sql.SET_TAG, (vid, str(key), str(value)))
        if run_id is not None:
            self._edge(conn, "run", run_id, "version", vid, "output")
        self._index_version(conn, vid)
        self._event(conn, "register", "version", vid, f"{model}@{version}",
                    after={"canonical_name": name, "run_id": run_id,
                           "artifact_hash": artifact.get("artifact_hash")}, actor=actor)
        return vid

    def _index_version(self: "Catalog", conn: sqlite3.Connection, vid: int) -> None:
        """Refresh the full-text body of a version: names, tags, run name and docs."""
        row = conn.execute(sql.VERSION_SEARCH_PARTS, (vid,)).fetchone()
        if row is None:
            return
        parts = [p for p in row if p]
        parts += [f"{k} {v}" for k, v in conn.execute(sql.VERSION_TAGS, (vid,))]
        doc = conn.execute(sql.LATEST_DOC, ("version", vid)).fetchone()
        if doc:
            parts.append(doc[0])
        conn.execute(sql.SET_SEARCH_TEXT, ("version", vid, "\n".join(parts)))

    def _edge(self: "Catalog", conn: sqlite3.Connection, src_kind: str, src_id: int,
              dst_kind: str, dst_id: int, role: str) -> None:
        conn.execute(sql.INSERT_EDGE,
                     (src_kind, src_id, dst_kind, dst_id, role, self.now()))

    def set_tag(self: "Catalog", ref: str | int, key: str, value: str | None) -> None:
        """Set (or with None, remove) a tag on a version; recorded in the event log."""
        vid = self.resolve(ref)
        if not key or any(ord(c) < 32 for c in key):
            raise InvalidInput(f"bad tag key {key!r}")
        with self._write() as conn:
            before = conn.execute(sql.TAG_VALUE, (vid, key)).fetchone()
            if value is None:
                conn.execute(sql.DELETE_TAG, (vid, key))
            else:
                conn.execute(sql.SET_TAG, (vid, key, value))
            self._index_version(conn, vid)
            self._event(conn, "tag", "version", vid, self.ref_of(vid),
                        before={key: before[0] if before else None}, after={key: value})

    def archive(self: "Catalog", ref: str | int, *, reason: str | None = None,
                force: bool = False) -> dict[str, Any]:
        """Mark a version archived: kept, numbered and in the history, but no longer promotable.

        A version that holds a stage is refused unless ``force`` (its stages stay where they
        are, and ``stages`` in the result names them).  Archiving an archived version changes
        nothing and says so (``changed`` False).  Recorded as an ``archive`` event.
        """
        return self._set_status(ref, "archived", reason=reason, force=force)

    def unarchive(self: "Catalog", ref: str | int, *, reason: str | None = None) -> dict[str, Any]:
        """Make an archived version promotable again; recorded as an ``unarchive`` event."""
        return self._set_status(ref, "ready", reason=reason, force=True)  # pragma: no mutate - force only matters when archiving

    def _set_status(self: "Catalog", ref: str | int, status: str, *, reason: str | None,
                    force: bool) -> dict[str, Any]:
        reason = (reason or "").strip() or None
        action = "archive" if status == "archived" else "unarchive"
        vid = self.resolve(ref)
        with self._write() as conn:
            before = conn.execute(sql.VERSION_STATUS, (vid,)).fetchone()[0]
            label = self.ref_of(vid)
            stages = [row[0] for row in conn.execute(sql.STAGES_HELD, (vid,))]
            result = {"ref": label, "status": status, "changed": before != status, "stages": stages}
            if before == status:
                return result
            if status == "archived" and stages and not force:
                raise Conflict(f"{label} holds {', '.join(stages)}: archiving it would leave "
                               f"{'that stage' if len(stages) == 1 else 'those stages'} on a "
                               "version that can no longer be promoted",
                               hint="promote another version first, or pass --force")
            conn.execute(sql.SET_VERSION_STATUS, (status, vid))
            self._event(conn, action, "version", vid, label, before={"status": before},
                        after={"status": status}, detail=reason)
            # Last: a synced version is tagged on its server in this transaction (or rolls back).
            self._sync_status(conn, vid, status == "archived", reason)
        return result

    # -- stages ----------------------------------------------------------------------------

    def stage_holder(self: "Catalog", model: str, stage: str) -> int | None:
        """The version id holding a stage now, or None."""
        mid = self.model_id(model)
        return self._scalar(sql.STAGE_HOLDER,
                            (mid, refs_mod.normalize_stage(stage)))

    def _stack(self: "Catalog", conn: sqlite3.Connection, mid: int, stage: str) -> list[int | None]:
        rows = conn.execute(sql.STAGE_HISTORY, (mid, stage)).fetchall()
        return stage_stack(rows)

    def rollback_target(self: "Catalog", model: str, stage: str = "production"  # pragma: no mutate - stage is lower-cased
                        ) -> tuple[int | None, int | None] | None:
        """``(current holder, version a rollback would restore)``, or None when there is no
        earlier holder to go back to."""
        mid = self.model_id(model)
        stack = self._stack(self._conn(), mid, refs_mod.normalize_stage(stage))
        if len(stack) < 2:
            return None
        return stack[-1], stack[-2]

    def check(self: "Catalog", ref: str | int, *, stage: str = "production") -> dict[str, Any]:  # pragma: no mutate - stage is lower-cased
        """Evaluate the model's gates for a version; ``passed`` is False when one fails."""
        vid = self.resolve(ref)
        stage = refs_mod.normalize_stage(stage)
        mid = self._scalar(sql.VERSION_MODEL, (vid,))
        results = self._gate_results(self._conn(), mid, vid, stage)
        return {"ref": self.ref_of(vid), "stage": stage, **_outcome(results)}

    def check_run(self: "Catalog", model: str, run_id: int, *, stage: str = "production"  # pragma: no mutate - stage is lower-cased
                  ) -> dict[str, Any]:
        """The gates of ``model`` guarding ``stage``, evaluated on a run's latest values: would
        the run pass today if it were registered (a run still training, say)?"""
        stage = refs_mod.normalize_stage(stage)
        mid = self.model_id(model)
        results = self._gate_results(self._conn(), mid, None, stage, run_id=run_id)
        return {"model": model, "stage": stage, **_outcome(results)}

    def _metric_value(self: "Catalog", conn: sqlite3.Connection, vid: int | None, key: str,
                      column: str, run_id: int | None = None) -> float | None:
        if run_id is not None:  # a run's own value, registered or not
            row = conn.execute(sql.RUN_METRIC_VALUE.format(column=column), (key, run_id)).fetchone()
            return row[0] if row else None
        if vid is None:
            return None
        row = conn.execute(sql.METRIC_VALUE.format(column=column), (key, vid)).fetchone()
        return row[0] if row else None

    def _gate_results(self: "Catalog", conn: sqlite3.Connection, mid: int, vid: int | None,
                      stage: str, run_id: int | None = None) -> list[GateResult]:
        """Evaluate the gates that guard ``stage`` for version ``vid`` (or, given ``run_id``,
        for that run's values)."""
        from .gates import evaluate, parse_rule  # gates load at the first promotion, not at start

        results = []
        for (rule_text,) in conn.execute(sql.GATE_RULES, (mid, stage)).fetchall():
            rule = parse_rule(rule_text)
            candidate = self._metric_value(conn, vid, rule.key, rule.column, run_id)
            reference = label = None
            if rule.stage is not None:
                holder = conn.execute(sql.STAGE_HOLDER, (mid, rule.stage)).fetchone()
                if holder and holder[0] == vid:
                    # The candidate holds the stage itself: there is nothing to regress from.
                    results.append(evaluate(rule, candidate, None, None,  # pragma: no mutate - label defaults to None
                                            skip_reason=f"the candidate holds {rule.stage} itself"))
                    continue
                if holder and holder[0] is not None:
                    label = f"{rule.stage} ({self.ref_of(holder[0])})"
                    reference = self._metric_value(conn, holder[0], rule.key, rule.column)
            results.append(evaluate(rule, candidate, reference, label))
        return results

    def promote(self: "Catalog", ref: str | int, stage: str = "production", *,  # pragma: no mutate - stage is lower-cased
                reason: str | None = None, force: bool = False, actor: str | None = None
                ) -> dict[str, Any]:
        """Point ``stage`` at a version, after the gates guarding that stage pass (or forced
        with a reason).

        One transaction: the stage pointer, the stage history (with gate results) and the
        event.  A failing gate raises GateFailed and writes nothing.  Promoting the version
        that already holds the stage changes nothing and says so (``changed`` False).
        """
        stage = refs_mod.normalize_stage(stage)
        reason = (reason or "").strip() or None
        if force and not reason:
            raise InvalidInput("a forced promotion needs a reason",
                               hint='add --reason "why the gate is overridden"')
        vid = self.resolve(ref)
        change = self._before_promotion(vid, stage, reason, force, actor)
        with self._write() as conn:
            mid, status = conn.execute(sql.VERSION_MODEL_STATUS, (vid,)).fetchone()
            label = self.ref_of(vid)
            if status == "archived":
                raise InvalidInput(f"{label} is archived and cannot be promoted")
            current = conn.execute(sql.STAGE_HOLDER, (mid, stage)).fetchone()
            current_id = current[0] if current else None
            if current_id == vid:
                return {"ref": label, "stage": stage, "changed": False, "from": label,
                        "to": label, "gates": [], "forced": False}
            results = self._gate_results(conn, mid, vid, stage)
            failed = [r for r in results if not r.passed]
            if failed and not force:
                raise GateFailed(
                    f"promotion of {label} to {stage} refused: {len(failed)} gate(s) failed: "
                    + "; ".join(f"{r.rule} ({r.detail})" for r in failed),
                    results=[r.as_dict() for r in results],
                    hint='fix the model, or override with --force --reason "…"')
            hid = self._move_stage(conn, mid, stage, current_id, vid, "promote", reason,
                                   [r.as_dict() for r in results], bool(failed and force), actor)
            self._confirm_stage_change(conn, change, current_id, vid, hid)
        return self._after_stage_change(change, {
            "ref": label, "stage": stage, "changed": True,
            "from": self.ref_of(current_id) if current_id else None, "to": label,
            "gates": [r.as_dict() for r in results], "forced": bool(failed and force)})

    def _before_promotion(self: "Catalog", vid: int, stage: str, reason: str | None,
                          force: bool, actor: str | None):
        """Run the ``before`` hooks of a promotion that the gates (read now) would let through.

        A promotion the transaction will refuse (archived, already there, a failing gate) runs
        no hook; the transaction re-checks everything under the write lock.
        """
        conn = self._conn()
        mid, status = conn.execute(sql.VERSION_MODEL_STATUS, (vid,)).fetchone()
        current = conn.execute(sql.STAGE_HOLDER, (mid, stage)).fetchone()
        current_id = current[0] if current else None
        runnable = status != "archived" and current_id != vid and (
            force or all(r.passed for r in self._gate_results(conn, mid, vid, stage)))
        model = conn.execute(sql.MODEL_NAME, (mid,)).fetchone()[0]
        return self._before_stage_change("promote", model, stage, current_id, vid, reason, actor,
                                         run=runnable)

    def _move_stage(self: "Catalog", conn: sqlite3.Connection, mid: int, stage: str,
                    from_id: int | None, to_id: int | None, action: str, reason: str | None,
                    gate_results: list[dict] | None, forced: bool, actor: str | None,
                    at: float | None = None) -> int:
        """Move the pointer and append the history row and event; returns the history id."""
        who, when, note = self._provenance(actor, at)
        if to_id is None:
            conn.execute(sql.DELETE_STAGE, (mid, stage))
        else:
            conn.execute(sql.SET_STAGE, (mid, stage, to_id, when))
        history_id = audit.append(conn, "stage_history", {
            "model_id": mid, "stage": stage, "from_version_id": from_id, "to_version_id": to_id,
            "action": action, "reason": reason, "actor": who, "at": when,
            "gate_results": json.dumps(gate_results) if gate_results else None,
            "forced": int(forced), "override": note})
        name = conn.execute(sql.MODEL_NAME, (mid,)).fetchone()[0]
        def label(vid: int | None) -> str | None:
            if vid is None:
                return None
            return f"{name}@{conn.execute(sql.VERSION_NUMBER, (vid,)).fetchone()[0]}"
        self._event(conn, action, "stage", mid, f"{name}@{stage}",
                    before={stage: label(from_id)}, after={stage: label(to_id)},
                    detail=reason, actor=actor)
        return history_id

    def rollback(self: "Catalog", model: str, stage: str = "production", *,  # pragma: no mutate - stage is lower-cased
                 reason: str | None = None, actor: str | None = None) -> dict[str, Any]:
        """Move ``stage`` back to the version it held before the last change.

        Recorded as a ``rollback`` in the stage history; repeated rollbacks walk further back.
        With no earlier holder it raises InvalidInput and changes nothing.
        """
        stage = refs_mod.normalize_stage(stage)
        reason = (reason or "").strip() or None
        mid = self.model_id(model)
        # Nothing to roll back plans (None, None): no change, so no before hook runs.  A
        # cleared stage plans (None, vN): bringing vN back is a deployment, and its hooks run.
        planned = self.rollback_target(model, stage) or (None, None)
        change = self._before_stage_change("rollback", model, stage, *planned, reason, actor)
        with self._write() as conn:
            # Rollback replays the stage history: an edited history would restore the wrong
            # version, so it must be the one mltui wrote.
            broken = audit.verify_table(conn, "stage_history")
            if broken:
                raise HistoryBroken(f"refusing to roll back {model}@{stage}: {broken['reason']}",
                                    hint="promote the version you want explicitly, and see "
                                         "`mltui verify --history`")
            stack = self._stack(conn, mid, stage)
            if not stack:
                known = [row[0] for row in conn.execute(sql.STAGES_EVER, (mid,))]
                raise InvalidInput(f"nothing to roll back: {model} has no stage {stage!r}",
                               hint=(f"its stages: {', '.join(known)}" if known
                                     else f"nothing was ever promoted; mltui promote {model}@N --stage {stage}"))
            if len(stack) < 2:
                raise InvalidInput(f"nothing to roll back: {model}@{stage} has no earlier version",
                                   hint=f"see the history with: mltui history --model {model}")
            current = conn.execute(sql.STAGE_HOLDER, (mid, stage)).fetchone()
            current_id = current[0] if current else None
            if current_id != stack[-1]:
                raise Conflict(f"{model}@{stage} changed outside the recorded history",
                               hint="promote the version you want explicitly")
            target = stack[-2]
            hid = self._move_stage(conn, mid, stage, current_id, target, "rollback", reason,
                                   None, False, actor)
            self._confirm_stage_change(conn, change, current_id, target, hid)
        return self._after_stage_change(change, {
            "model": model, "stage": stage, "from": self.ref_of(current_id) if current_id else None,
            "to": self.ref_of(target) if target else None})

    def clear_stage(self: "Catalog", model: str, stage: str, *, reason: str | None = None,
                    actor: str | None = None) -> None:
        """Remove a stage pointer (recorded as ``clear``; a rollback restores it)."""
        stage = refs_mod.normalize_stage(stage)
        mid = self.model_id(model)
        with self._write() as conn:
            current = conn.execute(sql.STAGE_HOLDER, (mid, stage)).fetchone()
            if not current:
                raise NotFound(f"no version of {model!r} holds {stage!r}")
            self._move_stage(conn, mid, stage, current[0], None, "clear", reason, None, False, actor)

    # -- gates -----------------------------------------------------------------------------

    def gates(self: "Catalog", model: str, *, stage: str | None = None) -> list[dict[str, Any]]:
        """A model's gate rules, parsed (those guarding ``stage``, or all)."""
        from .gates import parse_rule

        mid = self.model_id(model)
        out = []
        query, params = sql.GATES_OF_MODEL, [mid]
        if stage is not None:
            query, params = sql.GATES_OF_STAGE, params + [refs_mod.normalize_stage(stage)]
        for row in self._read(query, params):
            rule = parse_rule(row["rule"])
            row.update(key=rule.key, op=rule.op, threshold=rule.threshold, stage=rule.stage,
                       offset=rule.offset)
            out.append(row)
        return out

    def add_gate(self: "Catalog", model: str, rule: str, *, stage: str = "production"  # pragma: no mutate - stage is lower-cased
                 ) -> dict[str, Any]:
        """Add a gate rule guarding promotions of ``model`` to ``stage`` (default production).

        The rule is validated first; a duplicate is an error.
        """
        from .gates import parse_rule

        parsed = parse_rule(rule)
        stage = refs_mod.normalize_stage(stage)
        mid = self.model_id(model)
        with self._write() as conn:
            if conn.execute(sql.GATE_EXISTS, (mid, stage, parsed.text)).fetchone():
                raise InvalidInput(f"{model} already has the gate {parsed.text!r} on {stage}")
            cursor = conn.execute(sql.INSERT_GATE,
                                  (mid, parsed.text, stage, self.now(), self.actor))
            self._event(conn, "gate-add", "model", mid, model,
                        after={"rule": parsed.text, "stage": stage})
        return {"id": cursor.lastrowid, "rule": parsed.text, "stage": stage}

    def remove_gate(self: "Catalog", model: str, rule: str | int) -> None:
        """Remove a gate by its id or its exact text."""
        mid = self.model_id(model)
        with self._write() as conn:
            text = str(rule)  # an id is ASCII digits that fit SQLite; anything else is rule text
            if isinstance(rule, int) or (text.isascii() and text.isdigit() and len(text) <= 18):
                row = conn.execute(sql.GATE_BY_ID, (mid, int(rule))).fetchone()
            else:
                row = conn.execute(sql.GATE_BY_RULE, (mid, str(rule).strip())).fetchone()
            if not row:
                raise NotFound(f"{model} has no gate {rule!r}", hint=f"list them: mltui gate list {model}")
            conn.execute(sql.DELETE_GATE, (row[0],))  # gates are config, not audit
            self._event(conn, "gate-remove", "model", mid, model, before={"rule": row[1]})


def _outcome(results: list[GateResult]) -> dict[str, Any]:
    """``passed`` (every gate passed) and the results, as ``check`` and ``check_run`` return."""
    return {"passed": all(r.passed for r in results),
            "results": [r.as_dict() for r in results]}
