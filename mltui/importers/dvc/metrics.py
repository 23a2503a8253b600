"""DVC params and metrics: params files and lock values, metrics files, DVCLive histories."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Any

from ...core.errors import ImportFailed
from ...core.records import RunRecord
from ..common import as_param_text, flatten, is_number_like, looks_like_email, point, read_csv_rows, read_text
from .base import (DEFAULT_PARAMS, DVCLIVE_DIR, METRIC_SUFFIXES, _below, _int_or_none, _norm_key, _ReaderBase,
                   _Stage)


class MetricsMixin(_ReaderBase):
    """Params and metrics of a pipeline run."""


    def _params(self, run: RunRecord, stages: dict[str, _Stage], pipeline: dict, yaml_path: Path,
                live_dirs: list[Path]) -> None:
        for stage in stages.values():
            for file, values in stage.params.items():
                # params.yaml (of the stage's wdir) is DVC's default: its keys stay bare.
                for key, value in flatten(values).items():
                    name = key if file == DEFAULT_PARAMS else f"{file}:{key}"
                    self._set_param(run, name, value)
        if not any(stage.params for stage in stages.values()):
            # No resolved values in a lock: fall back to what the params files hold now.
            default = self.folder / DEFAULT_PARAMS
            if default.is_file():
                data = self._load(default)
                if data is not None and not isinstance(data, dict):
                    raise ImportFailed(str(default), "expected a mapping of params", line=1)
                for key, value in flatten(data or {}).items():
                    self._set_param(run, key, value)
        # Top-level params files of dvc.yaml (DVCLive's params.yaml among them): keys the lock
        # did not record.  DVCLive's are the params the script logged, so they keep bare keys.
        live_params = [d / "params.yaml" for d in live_dirs]
        declared = [self._local(_norm_key("", raw)) for raw in
                    self._declared_paths(yaml_path, pipeline.get("params"), ["params"], {})]
        done: set[Path] = set()
        for local in [*declared, *live_params]:
            if local is None or local in done or not local.is_file():
                continue
            done.add(local)
            data = self._load(local)
            if data is None:
                continue
            if not isinstance(data, dict):
                raise ImportFailed(str(local), "expected a mapping of params", line=1)
            here = self.folder.resolve()
            rel = local.relative_to(here).as_posix() if _below(local, here) else local.name
            prefix = "" if local in live_params or rel == DEFAULT_PARAMS else f"{rel}:"
            for key, value in flatten(data).items():
                if f"{prefix}{key}" not in run.params:
                    self._set_param(run, f"{prefix}{key}", value)

    @staticmethod
    def _set_param(run: RunRecord, key: str, value: Any) -> None:
        if looks_like_email(value):
            return  # personal data is not imported
        run.params[key] = as_param_text(value)


    def _dvclive_dirs(self) -> list[Path]:
        """DVCLive output dirs: ``dvclive/``, this folder when it is one, custom dirs declared."""
        candidates = [self.folder / DVCLIVE_DIR]
        if self.folder.name == DVCLIVE_DIR:
            candidates.append(self.folder)
        for key in sorted(self.declared_metrics):
            if key.endswith("/metrics.json"):
                candidates.append(self.folder / posixpath.dirname(key))
        for key in sorted(self.declared_plots):
            if key == "plots/metrics" or key.endswith("/plots/metrics"):
                parent = posixpath.dirname(posixpath.dirname(key))
                candidates.append(self.folder / parent if parent else self.folder)
        found: list[Path] = []
        for candidate in candidates:
            if not candidate.is_dir():
                continue
            has_plots = (candidate / "plots" / "metrics").is_dir()
            if not has_plots and not ((candidate / "metrics.json").is_file()
                                      and candidate.name == DVCLIVE_DIR):
                continue
            local = candidate.resolve()
            if _below(local, self.root) and local not in found:
                found.append(local)
        return found

    def _metrics(self, run: RunRecord, live_dirs: list[Path]) -> None:
        live_metrics = {(d / "metrics.json").resolve() for d in live_dirs}
        per_file: list[tuple[str, list[tuple[str, Any]]]] = []
        for key in sorted(self.declared_metrics):
            local = self._local(key)
            if local is None:
                self.ctx.warn(f"{self.folder}: metrics file {key} is not here; skipped")
                continue
            files = [local] if local.is_file() else sorted(
                p for p in local.rglob("*") if p.is_file() and p.suffix.lower() in METRIC_SUFFIXES)
            for file in files:
                if file.resolve() in live_metrics:
                    continue
                if file.suffix.lower() not in METRIC_SUFFIXES:
                    self.ctx.warn(f"{file}: metrics format {file.suffix or '(none)'} not read")
                    continue
                data = self._load(file)
                leaves = flatten(data) if isinstance(data, dict) else {file.stem: data}
                per_file.append((os.path.relpath(file, self.folder.resolve()).replace(os.sep, "/"),
                                 [(k, v) for k, v in leaves.items() if _is_metric(v)]))
        counts: dict[str, int] = {}
        for _, leaves in per_file:
            for k, _ in leaves:
                counts[k] = counts.get(k, 0) + 1
        for rel, leaves in per_file:
            for k, v in leaves:
                # The same key in two metrics files: name both by their file, as dvc does.
                self._add_point(run, f"{rel}:{k}" if counts[k] > 1 else k, v, None, None)
        for live_dir in live_dirs:
            self._dvclive(run, live_dir)
        self._plot_tables(run, live_dirs)

    def _plot_tables(self, run: RunRecord, live_dirs: list[Path]) -> None:
        """Plot files of the pipeline's stages: the run's curves, never runs of their own.

        Every declared plot and metrics file is consumed (the walk does not offer it to the
        CSV/JSON readers).  A CSV/TSV/JSON table becomes stepped series as ``dvc plots show``
        reads it: x is its ``step`` column, else the row index; every other numeric column is
        a series (key: the column, or ``<file>:<column>`` when the run has it already).  Every
        plot file (images too) is named in the ``dvc.plots`` tag.
        """
        names: list[str] = []
        for key in sorted(self.declared_plots | self.declared_metrics):
            local = self._local(key)
            if local is None:
                continue
            files = [local] if local.is_file() else sorted(p for p in local.rglob("*") if p.is_file())
            for file in files:
                self.consumed.append(file)
                if any(_below(file, d) for d in live_dirs) or key not in self.declared_plots:
                    continue
                names.append(os.path.relpath(file, self.folder.resolve()).replace(os.sep, "/"))
                if file.suffix.lower() in (".csv", ".tsv", ".json"):
                    self._plot_table(run, file, names[-1])
        if names:
            run.tags["dvc.plots"] = ",".join(names)

    def _plot_table(self, run: RunRecord, file: Path, rel: str) -> None:
        if file.suffix.lower() == ".json":
            data = self._load(file)
            if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), list):
                data = next(iter(data.values()))  # {"<plot>": [rows]}, as sklearn plots write it
            rows = [(index + 1, row) for index, row in enumerate(data or [])
                    if isinstance(row, dict)] if isinstance(data, list) else []
            header = list(rows[0][1]) if rows else []
        else:
            text = read_text(file)
            self.files_read.append(file)
            header, rows = read_csv_rows(file, text, delimiter="\t" if file.suffix.lower() == ".tsv" else ",")
        has_step = "step" in header
        known = {m.key for m in run.metrics}
        columns = [h for h in header if h not in ("step", "timestamp")]
        for index, (line, row) in enumerate(rows):
            # DVC's own rule: x is the ``step`` column, else the row's index.
            step = _int_or_none(row.get("step")) if has_step else index
            if step is None:
                raise ImportFailed(str(file), f"step {row.get('step')!r} is not an integer",
                                   line=line, field="step")
            for column in columns:
                if _is_metric(row.get(column)):
                    key = f"{rel}:{column}" if column in known else column
                    self._add_point(run, key, row[column], step, None)

    def _add_point(self, run: RunRecord, key: str, value: Any, step: int | None,
                   wall_time: float | None) -> None:
        run.metrics.append(point(key, value, step=step, wall_time=wall_time, seq=self.seq))
        self.seq += 1

    def _dvclive(self, run: RunRecord, live_dir: Path) -> None:
        """DVCLive: stepped TSVs under plots/metrics, latest values in metrics.json."""
        if live_dir != self.folder.resolve():
            self.consumed.append(live_dir)  # not a second DVC run when the walk gets there
        plots = live_dir / "plots" / "metrics"
        keys_with_history: set[str] = set()
        if plots.is_dir():
            for file in sorted(plots.rglob("*")):
                if not file.is_file() or file.suffix.lower() not in (".tsv", ".csv"):
                    continue
                key = file.relative_to(plots).with_suffix("").as_posix()
                keys_with_history.add(key)
                self._dvclive_series(run, file, key)
        summary = live_dir / "metrics.json"
        if summary.is_file():
            data = self._load(summary)
            if not isinstance(data, dict):
                raise ImportFailed(str(summary), "expected a JSON object", line=1)
            step = _int_or_none(data.get("step"))
            for key, value in flatten({k: v for k, v in data.items() if k != "step"},
                                      sep="/").items():
                if key not in keys_with_history and _is_metric(value):
                    self._add_point(run, key, value, step, None)

    def _dvclive_series(self, run: RunRecord, file: Path, key: str) -> None:
        text = read_text(file)
        self.files_read.append(file)
        header, rows = read_csv_rows(file, text, delimiter="\t" if file.suffix == ".tsv" else ",")
        if not header:
            return
        if "step" not in header:
            self.ctx.warn(f"{file}: no 'step' column, not a DVCLive metric history; skipped")
            return
        name = file.stem if file.stem in header else next(
            (h for h in reversed(header) if h not in ("step", "timestamp")), None)
        if name is None:
            raise ImportFailed(str(file), "no value column", line=1)
        for line, row in rows:
            try:
                step = int(row.get("step", ""))
            except ValueError:
                raise ImportFailed(str(file), f"step {row.get('step')!r} is not an integer",
                                   line=line, field="step") from None
            wall_time = None
            stamp = row.get("timestamp")
            if stamp:
                try:
                    wall_time = int(stamp) / 1000.0  # DVCLive writes milliseconds
                except ValueError:
                    raise ImportFailed(str(file), f"timestamp {stamp!r} is not an integer",
                                       line=line, field="timestamp") from None
            try:
                metric = point(key, row.get(name), step=step, wall_time=wall_time, seq=self.seq)
            except ValueError:
                raise ImportFailed(str(file), f"value {row.get(name)!r} is not a number",
                                   line=line, field=name) from None
            run.metrics.append(metric)
            self.seq += 1


# ---------------------------------------------------------------------------------------------


def _is_metric(value: Any) -> bool:
    """Numeric leaves (and NaN/Inf tokens) are metrics; text, lists and booleans are not."""
    if isinstance(value, bool) or value is None:
        return False
    return isinstance(value, (int, float)) or (isinstance(value, str) and is_number_like(value))
