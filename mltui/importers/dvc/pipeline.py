"""DVC pipeline files: ``dvc.lock`` and ``dvc.yaml`` into stages, and the reader that puts a run together."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ...core.errors import ImportFailed
from ...core.records import ImportBatch, RunRecord
from ..common import ImportContext, fingerprint, stable_uid
from .base import (DEFAULT_PARAMS, DVCLIVE_DIR, FORMAT, LOCK_FILE, PIPELINE_FILE, _INTERPOLATION, _Entry,
                   _field_name, _int_or_none,
                   _norm_key, _Stage, _topological)
from .lineage import LineageMixin
from .metrics import MetricsMixin


def read(path: Path, ctx: ImportContext) -> ImportBatch:
    """Read one DVC pipeline folder into one run."""
    return _PipelineReader(Path(path), ctx).read()


class _PipelineReader(LineageMixin, MetricsMixin):
    """Reads one pipeline folder; collects the files it read for the fingerprint and the walk."""

    # --- main --------------------------------------------------------------------------------

    def read(self) -> ImportBatch:
        """Read the folder's pipeline files into one run; raise ImportFailed when malformed."""
        folder = self.folder
        lock_path, yaml_path = folder / LOCK_FILE, folder / PIPELINE_FILE
        if not lock_path.is_file() and not yaml_path.is_file():
            raise ImportFailed(str(folder), "neither dvc.lock nor dvc.yaml is here")
        lock = self._load(lock_path) if lock_path.is_file() else None
        pipeline = self._load(yaml_path) if yaml_path.is_file() else None
        for path, data in ((lock_path, lock), (yaml_path, pipeline)):
            if data is not None and not isinstance(data, dict):
                raise ImportFailed(str(path), f"expected a mapping at the top level, found "
                                              f"{type(data).__name__}", line=1)

        run = RunRecord(uid=stable_uid(FORMAT, folder), source_format=FORMAT,
                        source_path=str(folder))
        here = folder.resolve()
        run.name = run.project = here.name
        if here.name == DVCLIVE_DIR and here.parent.name:
            run.name = run.project = here.parent.name  # a DVCLive dir outside any pipeline

        stages, schema = self._lock_stages(lock_path, lock) if lock is not None else ({}, None)
        yaml_stages = self._yaml_stages(yaml_path, pipeline or {})
        if lock_path.is_file() and lock is None:
            self.ctx.warn(f"{lock_path}: empty file")
        if not lock_path.is_file() and yaml_stages:
            self.ctx.warn(f"{folder}: no dvc.lock (the pipeline was not run here, or the lock was "
                          "not committed): no hashes for deps and outs")
        stages = self._merge_stage_views(stages, yaml_stages, lock is not None)
        order = _topological(stages)
        run.tags["dvc.lock_schema"] = schema or ("none" if lock is None else "unknown")
        self._describe_stages(run, stages, order, yaml_stages, lock_path if lock else None)

        dvc_files = self._dvc_files({out.key for stage in stages.values() for out in stage.outs})
        artifacts_decl = self._artifacts_section(yaml_path, pipeline or {})
        self._top_level_reports(yaml_path, pipeline or {})
        live_dirs = self._dvclive_dirs()

        self._params(run, stages, pipeline or {}, yaml_path, live_dirs)
        self._lineage(run, stages, order, dvc_files, artifacts_decl,
                      self.declared_metrics | self.declared_plots, live_dirs)
        self._metrics(run, live_dirs)

        run.fingerprint = fingerprint(self.files_read)
        batch = ImportBatch(source_format=FORMAT, source_path=str(folder), runs=[run])
        seen: set[str] = set()
        for path in [*self.files_read, *self.consumed]:
            text = str(path.resolve())
            if text not in seen:
                seen.add(text)
                batch.consumed_paths.append(text)
        return batch

    def _describe_stages(self, run: RunRecord, stages: dict[str, _Stage], order: list[str],
                         declared: dict[str, _Stage], lock_path: Path | None) -> None:
        """Stage names and commands as tags; FINISHED when the lock has every declared stage."""
        if order:
            run.tags["dvc.stages"] = ",".join(order)
        for name in order:
            if stages[name].cmd:
                run.tags[f"dvc.cmd.{name}"] = stages[name].cmd
        if lock_path is None:
            return
        unlocked = [name for name in declared
                    if not any(n == name or n.startswith(f"{name}@") for n in stages)]
        if unlocked:
            self.ctx.warn(f"{lock_path}: stage(s) {', '.join(unlocked)} of dvc.yaml are not in "
                          "the lock (never run)")
        elif stages:
            run.status = "FINISHED"

    # --- dvc.lock ------------------------------------------------------------------------------

    def _lock_stages(self, path: Path, lock: dict) -> tuple[dict[str, _Stage], str]:
        """Stages of a lock file: schema 2.0 (``stages:``) or DVC 1.x (stages at the top)."""
        schema = lock.get("schema")
        if schema is None and "stages" not in lock:
            body, prefix, label = lock, [], "1.x"
        else:
            body, prefix, label = lock.get("stages") or {}, ["stages"], str(schema)
            if str(schema) != "2.0":
                self.ctx.warn(f"{path}: unknown lock schema {schema!r}; read as 2.0")
            if not isinstance(body, dict):
                raise self._fail(path, ["stages"], "expected a mapping of stage names")
        stages: dict[str, _Stage] = {}
        for name, entry in body.items():
            where = [*prefix, name]
            if not isinstance(entry, dict):
                raise self._fail(path, where, f"stage {name!r} is not a mapping")
            stage = _Stage(name=str(name), wdir=self._wdir(path, entry, where))
            stage.cmd = self._cmd(path, entry.get("cmd"), [*where, "cmd"])
            stage.deps = self._lock_entries(path, stage, entry.get("deps"), [*where, "deps"])
            stage.outs = self._lock_entries(path, stage, entry.get("outs"), [*where, "outs"])
            params = entry.get("params") or {}
            if not isinstance(params, dict):
                raise self._fail(path, [*where, "params"], "expected a mapping of params files")
            for file, values in params.items():
                if not isinstance(values, dict):
                    raise self._fail(path, [*where, "params", file],
                                     "expected a mapping of param keys to values")
                stage.params[str(file)] = values
                stage.params_files.add(_norm_key(stage.wdir, str(file)))
            stages[stage.name] = stage
        return stages, label

    def _wdir(self, path: Path, entry: dict, where: list[Any]) -> str:
        wdir = entry.get("wdir")
        if wdir is None:
            return ""
        if not isinstance(wdir, str):
            raise self._fail(path, [*where, "wdir"], "expected a path")
        key = _norm_key("", wdir)
        return "" if key == "." else key

    def _cmd(self, path: Path, cmd: Any, where: list[Any]) -> str | None:
        if cmd is None:
            return None
        if isinstance(cmd, str):
            return cmd
        if isinstance(cmd, list) and all(isinstance(c, str) for c in cmd):
            return " && ".join(cmd)  # DVC runs a list of commands one after another
        raise self._fail(path, where, "expected a command or a list of commands")

    def _lock_entries(self, path: Path, stage: _Stage, items: Any,
                      where: list[Any]) -> list[_Entry]:
        if items is None:
            return []
        if not isinstance(items, list):
            raise self._fail(path, where, "expected a list")
        entries = []
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("path"), str):
                raise self._fail(path, [*where, index], "expected an entry with a 'path'")
            entry = _Entry(stage=stage.name, raw=item["path"],
                           key=_norm_key(stage.wdir, item["path"]))
            self._hash_info(path, entry, item, [*where, index])
            entries.append(entry)
        return entries

    def _hash_info(self, path: Path, entry: _Entry, item: dict, where: list[Any]) -> None:
        """Fill the hash algorithm, hash, size and file count of a lock or .dvc entry."""
        entry.size = _int_or_none(item.get("size"))
        entry.nfiles = _int_or_none(item.get("nfiles"))
        for name in ("md5", "etag", "checksum"):
            value = item.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise self._fail(path, [*where, name], "expected a hash string")
            text = value if isinstance(value, str) else str(value).zfill(32)
            if name == "md5":
                if text.endswith(".dir"):
                    entry.algo, entry.hash = "md5.dir", text[: -len(".dir")]
                else:
                    # DVC 3 writes ``hash: md5`` (raw bytes); without it the value is DVC 2's
                    # md5 of the file with CRLF turned into LF: the two never compare equal.
                    entry.algo = "md5" if item.get("hash") == "md5" else "md5-dos2unix"
                    entry.hash = text
            else:
                entry.algo, entry.hash = name, text.strip('"')
            break

    # --- dvc.yaml ------------------------------------------------------------------------------

    def _yaml_stages(self, path: Path, pipeline: dict) -> dict[str, _Stage]:
        """Stages declared in dvc.yaml (paths only; hashes come from the lock)."""
        body = pipeline.get("stages") or {}
        if not isinstance(body, dict):
            raise self._fail(path, ["stages"], "expected a mapping of stage names")
        context = self._interpolation_context(path, pipeline)
        reports = {"metrics": self.declared_metrics, "plots": self.declared_plots}
        stages: dict[str, _Stage] = {}
        for name, entry in body.items():
            where = ["stages", name]
            if not isinstance(entry, dict):
                raise self._fail(path, where, f"stage {name!r} is not a mapping")
            if "foreach" in entry or "matrix" in entry:
                # Templated stages expand to name@item in the lock, which carries their paths.
                entry = entry.get("do") if isinstance(entry.get("do"), dict) else entry
                templated = True
            else:
                templated = False
            stage = _Stage(name=str(name), wdir=self._wdir(path, entry, where))
            stage.cmd = self._cmd(path, entry.get("cmd"), [*where, "cmd"])
            if templated:
                stage.cmd = None
                stages[stage.name] = stage
                continue
            for kind in ("deps", "outs", "metrics", "plots"):
                items = entry.get(kind) if kind != "plots" else _plot_paths(entry.get(kind))
                for raw in self._declared_paths(path, items, [*where, kind], context):
                    item = _Entry(stage=stage.name, raw=raw, key=_norm_key(stage.wdir, raw))
                    (stage.deps if kind == "deps" else stage.outs).append(item)
                    if kind in reports:
                        reports[kind].add(item.key)
            for file in self._declared_params_files(path, entry.get("params"), [*where, "params"]):
                stage.params_files.add(_norm_key(stage.wdir, file))
            stages[stage.name] = stage
        return stages

    def _declared_paths(self, path: Path, items: Any, where: list[Any],
                        context: dict[str, Any]) -> list[str]:
        """Paths of a dvc.yaml list whose items are ``path`` or ``{path: {options}}``."""
        if items is None:
            return []
        if not isinstance(items, list):
            raise self._fail(path, where, "expected a list")
        out = []
        for index, item in enumerate(items):
            if isinstance(item, dict) and len(item) == 1:
                item = next(iter(item))
            if not isinstance(item, str):
                raise self._fail(path, [*where, index], "expected a path")
            resolved = self._interpolate(item, context)
            if resolved is None:
                self.ctx.warn(f"{path}: cannot resolve {item!r} ({_field_name([*where, index])}); "
                              "skipped")
                continue
            out.append(resolved)
        return out

    def _declared_params_files(self, path: Path, items: Any, where: list[Any]) -> list[str]:
        if items is None:
            return []
        if not isinstance(items, list):
            raise self._fail(path, where, "expected a list")
        files = []
        for index, item in enumerate(items):
            if isinstance(item, dict):
                files.extend(str(k) for k in item)
            elif isinstance(item, str):
                files.append(DEFAULT_PARAMS)
            else:
                raise self._fail(path, [*where, index], "expected a param key or {file: keys}")
        return files

    def _interpolation_context(self, path: Path, pipeline: dict) -> dict[str, Any]:
        """Values ``${...}`` in dvc.yaml may refer to: params.yaml and the ``vars:`` section."""
        if self.context is not None:
            return self.context
        context: dict[str, Any] = {}
        self.context = context
        if "${" not in self.texts.get(path, ""):
            return context
        sources: list[Any] = [DEFAULT_PARAMS, *(pipeline.get("vars") or [])]
        for item in sources:
            if isinstance(item, dict):
                context.update(item)
            elif isinstance(item, str):
                local = self._local(_norm_key("", item.split(":", 1)[0]))
                if local is not None and local.is_file():
                    data = self._load(local)
                    if isinstance(data, dict):
                        context.update(data)
        return context

    @staticmethod
    def _interpolate(text: str, context: dict[str, Any]) -> str | None:
        if "${" not in text:
            return text
        failed = False

        def replace(match: re.Match) -> str:
            nonlocal failed
            value: Any = context
            for part in match.group(1).split("."):
                if isinstance(value, dict) and part in value:
                    value = value[part]
                else:
                    failed = True
                    return ""
            if isinstance(value, (dict, list)):
                failed = True
                return ""
            return str(value)

        result = _INTERPOLATION.sub(replace, text)
        return None if failed else result

    def _merge_stage_views(self, locked: dict[str, _Stage], declared: dict[str, _Stage],
                           have_lock: bool) -> dict[str, _Stage]:
        """Lock stages (with hashes) in dvc.yaml order; dvc.yaml alone when there is no lock."""
        if not have_lock:
            return declared
        merged: dict[str, _Stage] = {}
        for name in declared:
            for locked_name in locked:
                if locked_name == name or locked_name.startswith(f"{name}@"):
                    merged.setdefault(locked_name, locked[locked_name])
        for name, stage in locked.items():
            merged.setdefault(name, stage)
        for name, stage in merged.items():
            base = declared.get(name.split("@", 1)[0])
            if base is not None:
                stage.params_files |= base.params_files
        return merged

    def _artifacts_section(self, path: Path, pipeline: dict) -> dict[str, dict]:
        section = pipeline.get("artifacts") or {}
        if not isinstance(section, dict):
            raise self._fail(path, ["artifacts"], "expected a mapping of artifact names")
        out = {}
        for name, spec in section.items():
            if not isinstance(spec, dict) or not isinstance(spec.get("path"), str):
                raise self._fail(path, ["artifacts", name], "expected {path, type, desc, labels}")
            out[str(name)] = spec
        return out

    def _top_level_reports(self, path: Path, pipeline: dict) -> None:
        """Add the top-level ``metrics:`` and ``plots:`` of dvc.yaml to the declared reports."""
        context = self._interpolation_context(path, pipeline)
        for raw in self._declared_paths(path, pipeline.get("metrics"), ["metrics"], context):
            self.declared_metrics.add(_norm_key("", raw))
        plots = _plot_paths(pipeline.get("plots"))
        for raw in self._declared_paths(path, plots, ["plots"], context):
            self.declared_plots.add(_norm_key("", raw))


def _plot_paths(items: Any) -> Any:
    """Top-level ``plots:`` items that name files or dirs (not templated plot definitions)."""
    if not isinstance(items, list):
        return items
    out = []
    for item in items:
        if isinstance(item, dict) and len(item) == 1:
            name, spec = next(iter(item.items()))
            # {plot id: {y: {file: column}}} defines a plot over other files: not a path.
            if isinstance(spec, dict) and isinstance(spec.get("y"), dict):
                continue
            out.append(str(name))
        elif isinstance(item, str):
            out.append(item)
    return out
