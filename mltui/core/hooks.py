"""Stage hooks: commands from the project config run around a promotion or a rollback.

``before`` hooks run before the change is written and may veto it (a non-zero exit refuses it
and nothing is written); ``after`` hooks run once it is committed (deploy, restart, notify).
Rollback runs the same hooks, so the version it restores is redeployed by the same path.

A hook is an argv run without a shell; the change reaches it only through environment
variables (``MLTUI_MODEL``, ``MLTUI_VERSION``, ``MLTUI_REASON``, …), so no model name, reason or
path a user typed is ever parsed by a shell.  Each hook runs in its own process group with a
timeout; a hook still running at its timeout is killed with its children.  Every run is
recorded as a ``hook`` event of the history entry it belongs to.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from .errors import Conflict, MltuiError

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog
    from .config import ProjectConfig
    from .hook_runs import HookRun, StageChange

# The running itself (subprocess, temporary files, the config's dataclasses) is in
# core/hook_runs.py and core/config.py, imported on the first call: the first screen runs no hook.


class HookFailed(MltuiError):
    """A ``before`` hook vetoed a stage change (nothing was written)."""

    exit_code = 1

    def __init__(self, message: str, *, runs: list[dict[str, Any]], hint: str | None = None):
        super().__init__(message, hint=hint)
        self.runs = runs


class HooksMixin:
    """Running and recording stage hooks (mixed into Catalog)."""

    def project_config(self: "Catalog") -> ProjectConfig:
        """The validated ``.mltui/config.yaml`` next to this catalog."""
        from .config import load_config

        return load_config(self.path)

    def _change_env(self: "Catalog", change: StageChange, phase: str) -> dict[str, str]:
        from .hook_runs import hook_env

        new = self.versions([change.to_id])[0] if change.to_id else {}
        old = self.versions([change.from_id])[0] if change.from_id else {}
        return hook_env({
            "action": change.action, "phase": phase, "model": change.model,
            "stage": change.stage, "version": new.get("version"),
            "ref": f"{change.model}@{new['version']}" if new else None,
            "canonical_name": new.get("canonical_name"),
            "previous_version": old.get("version"),
            "previous_ref": f"{change.model}@{old['version']}" if old else None,
            "artifact_path": new.get("artifact_path"), "artifact_hash": new.get("artifact_hash"),
            "artifact_hash_algo": new.get("artifact_hash_algo"), "reason": change.reason,
            "actor": change.actor, "history_id": change.history_id,
        }, str(self.path))

    def _before_stage_change(self: "Catalog", action: str, model: str, stage: str,
                             from_id: int | None, to_id: int | None, reason: str | None,
                             actor: str | None, *, run: bool = True) -> StageChange:
        """Run the stage's ``before`` hooks (when ``run``); a failing one raises HookFailed.

        Called before the write transaction, so a slow smoke test never holds the catalog's
        write lock.  ``run`` is False when the change will be refused anyway (a failing gate,
        nothing to change): a hook must not deploy or test what will not happen.
        """
        from .hook_runs import StageChange, failure_line, run_hooks

        change = StageChange(self.project_config(), action, model, stage, from_id, to_id,
                             reason, actor or self.actor)
        hooks = change.config.hooks_for(stage, "before")
        if not run or not hooks or from_id == to_id:
            return change
        change.before = run_hooks(hooks, "before", self._change_env(change, "before"),
                                  str(change.config.project_dir))
        failed = [r for r in change.before if not r.ok]
        if failed:
            label = self.ref_of(to_id) if to_id else "none"
            raise HookFailed(f"{action} of {model}@{stage} to {label} refused by a before hook: "
                             f"{failure_line(failed[0])}", runs=[r.as_dict() for r in change.before],
                             hint="nothing was changed")
        return change

    def _confirm_stage_change(self: "Catalog", conn: sqlite3.Connection, change: StageChange,
                              from_id: int | None, to_id: int | None, history_id: int) -> None:
        """Inside the write transaction: the change hooks saw must be the one written; the
        ``before`` runs are recorded with the new history entry."""
        if change.hooked and (from_id, to_id) != (change.from_id, change.to_id):
            raise Conflict(f"{change.model}@{change.stage} changed while its hooks ran",
                           hint="try again")
        change.history_id = history_id
        for run in change.before:
            self._hook_event(conn, run, "stage_history", history_id, f"{change.model}@{change.stage}")
        # Last: a synced model's server moves in this transaction (or the change rolls back).
        self._sync_stage(conn, change, from_id, to_id, history_id)

    def _after_stage_change(self: "Catalog", change: StageChange, result: dict[str, Any]
                            ) -> dict[str, Any]:
        """Run the ``after`` hooks of a committed change and record them; adds ``hooks`` and
        ``hooks_failed`` to the result (a failure leaves the change in place)."""
        from .hook_runs import failure_line, run_hooks

        after: list[HookRun] = []
        hooks = change.config.hooks_for(change.stage, "after")
        if hooks and change.history_id is not None:
            after = run_hooks(hooks, "after", self._change_env(change, "after"),
                              str(change.config.project_dir))
            with self._write() as conn:
                for run in after:
                    self._hook_event(conn, run, "stage_history", change.history_id,
                                     f"{change.model}@{change.stage}")
        runs = change.before + after
        result["hooks"] = [r.as_dict() for r in runs]
        result["hooks_failed"] = [failure_line(r) for r in runs if not r.ok]
        result["history_id"] = change.history_id
        return result

    def _hook_event(self: "Catalog", conn: sqlite3.Connection, run: HookRun, kind: str,
                    entity_id: int, ref: str) -> None:
        from .hook_runs import failure_line

        self._event(conn, "hook", kind, entity_id, ref, after=run.as_dict(),
                    detail=None if run.ok else failure_line(run))

    def hook_runs(self: "Catalog", kind: str, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """Recorded hook runs of history entries (``stage_history``) or alerts (``alert``), by id."""
        import json

        out: dict[int, list[dict[str, Any]]] = {}
        if not ids:
            return out
        marks = ",".join("?" for _ in ids)
        for row in self._read(f"SELECT entity_id, after, at FROM events WHERE action = 'hook' AND "
                              f"entity_kind = ? AND entity_id IN ({marks}) ORDER BY id",
                              [kind, *ids]):
            run = json.loads(row["after"])
            run["at"] = row["at"]
            out.setdefault(row["entity_id"], []).append(run)
        return out
