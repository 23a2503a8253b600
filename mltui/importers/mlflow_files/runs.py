"""The MLflow file store reader: experiments, run folders, params, tags, metrics, inputs."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ...core.errors import ImportFailed
from ...core.safefile import note_folders
from ...core.records import DatasetRecord, ImportBatch, MetricColumns, MetricPoint, RegistryModelRecord, RunRecord
from ..common import ImportContext, fingerprint, read_text
from .artifacts import ArtifactResolver, LoggedModel, run_artifacts
from .meta import (FORMAT, META, _RESERVED_EXPERIMENT_FOLDERS, _folder_kind, _meta_kind, meta_int, read_meta,
                   status_text, text_or_none)
from .metrics import walk_values
from . import follow
from .. import prefetch
from .records import build_run_record, dataset_record
from .registry import read_registry



def read(path: Path, ctx: ImportContext) -> ImportBatch:
    """Read an ``mlruns/`` store (or one experiment / run folder of it) into records."""
    path = Path(path)
    if not path.is_dir():
        raise ImportFailed(str(path), "not a folder: an MLflow file store is a directory")
    try:
        kind = _folder_kind(path)
    except OSError as exc:
        raise ImportFailed(str(path), f"cannot list: {exc.strerror or exc}") from None
    reader = _FileStoreReader(path, ctx)
    try:
        runs, models = _read_kind(reader, path, kind)
    except OSError as exc:
        raise ImportFailed(getattr(exc, "filename", None) or str(path),
                           f"cannot read: {exc.strerror or exc}") from None
    return ImportBatch(source_format=FORMAT, source_path=str(path),
                       runs=sorted(runs, key=run_order), models=models)


def _read_kind(reader: _FileStoreReader, path: Path,
               kind: str | None) -> tuple[list[RunRecord], list[RegistryModelRecord]]:
    """Read a run folder, an experiment folder or a whole store."""
    if kind == "run":
        return reader.read_single_run(path), []
    if kind == "experiment":
        return reader.read_experiment(path), []
    runs = reader.read_store(path)
    models = read_registry(reader, path / "models")
    if not runs and not models and not reader.saw_experiment:
        raise ImportFailed(str(path), "no MLflow experiments or registered models found",
                           hint="point at the mlruns/ folder")
    return runs, models


def run_order(run: RunRecord) -> tuple:
    """Runs in the order they started (then by id), whichever store they came from."""
    return (run.start_time if run.start_time is not None else float("-inf"), run.uid)


class _FileStoreReader:
    """State for one read of a file store: the artifact resolver, caches and the warnings."""

    def __init__(self, path: Path, ctx: ImportContext):
        self.path = path
        self.ctx = ctx
        self.resolver = ArtifactResolver(ctx)
        self.saw_experiment = False
        self._datasets: dict[Path, dict | None] = {}
        self._ready: Callable[[str], None] | None = None  # the forked reader's, while reading

    def warn(self, message: str, run_warnings: list[str] | None = None) -> None:
        """A store-level warning, or a run-level one (reported when the run is done)."""
        if run_warnings is not None:
            run_warnings.append(message)
        else:
            self.ctx.warn(message)

    # -- experiments --------------------------------------------------------------------------

    def read_store(self, root: Path) -> list[RunRecord]:
        """Every active run of every active experiment under a store root."""
        runs: list[RunRecord] = []
        entries = [entry for entry in sorted(os.scandir(root), key=lambda e: e.name)
                   if not (entry.name.startswith(".") or entry.name == "models"
                           or not entry.is_dir())]  # .trash: deleted experiments; the registry
        with self._reading_ahead(_store_run_dirs(entries)):
            for entry in entries:
                folder = Path(entry.path)
                if not (folder / META).is_file():
                    if entry.name.isdigit():
                        self.warn(f"{folder}: experiment folder without meta.yaml; skipped")
                    continue
                runs.extend(self.read_experiment(folder))
        return runs

    @contextmanager
    def _reading_ahead(self, run_dirs: list[str]) -> Iterator[None]:
        """While active, the runs of ``run_dirs`` (the store's, in reading order) are read
        ahead by one forked reader when that pays (:mod:`..prefetch`); one for a whole store,
        however its runs are spread over experiments."""
        if self._ready is not None or follow.active() or not prefetch.wanted(len(run_dirs)):
            yield
            return
        with prefetch.read_ahead(run_dirs, _small_files) as ready:
            self._ready = ready
            try:
                yield
            finally:
                self._ready = None

    def read_experiment(self, folder: Path) -> list[RunRecord]:
        """Every active run of one experiment folder (none when the experiment is deleted)."""
        meta_path = folder / META
        meta = read_meta(meta_path)
        experiment_id = text_or_none(meta.get("experiment_id"))
        if experiment_id is None:
            raise ImportFailed(str(meta_path), "missing experiment_id", field="experiment_id")
        self.saw_experiment = True
        if str(meta.get("lifecycle_stage") or "active") == "deleted":
            return []
        project = text_or_none(meta.get("name")) or folder.name
        logged = self._logged_models(folder)
        runs = []
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
        note_folders(os.fspath(folder), entries)  # no lstat per run folder when its files are read
        run_dirs = _run_dirs(entries)
        with self._reading_ahead(run_dirs):  # an experiment read alone; a store's is under way
            for run_dir in run_dirs:
                if self._ready is not None:
                    self._ready(run_dir)  # this run's small files, read by the forked reader
                run = self._read_run(run_dir, experiment_id, project, folder, logged)
                if run is not None:
                    runs.append(run)
        return runs

    def read_single_run(self, run_dir: Path) -> list[RunRecord]:
        """A run folder on its own; its experiment's name comes from the parent when present."""
        experiment = run_dir.parent
        project, experiment_id = None, None
        if (experiment / META).is_file() and _meta_kind(experiment / META) == "experiment":
            meta = read_meta(experiment / META)
            project = text_or_none(meta.get("name"))
            experiment_id = text_or_none(meta.get("experiment_id"))
        run = self._read_run(run_dir, experiment_id, project, experiment,
                             self._logged_models(experiment))
        return [run] if run is not None else []

    def _logged_models(self, experiment: Path) -> dict[str, list[LoggedModel]]:
        """MLflow 3 LoggedModels of an experiment, by source run id (deleted ones left out)."""
        folder = experiment / "models"
        by_run: dict[str, list[LoggedModel]] = {}
        if not folder.is_dir():
            return by_run
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            meta_path = Path(entry.path) / META
            if not entry.is_dir() or not meta_path.is_file():
                continue
            meta = read_meta(meta_path)
            if str(meta.get("lifecycle_stage") or "active") == "deleted":
                continue
            model = LoggedModel(model_id=text_or_none(meta.get("model_id")) or entry.name,
                                name=text_or_none(meta.get("name")),
                                artifact_location=text_or_none(meta.get("artifact_location")),
                                source_run_id=text_or_none(meta.get("source_run_id")),
                                near=Path(entry.path), meta_path=meta_path)
            by_run.setdefault(model.source_run_id or "", []).append(model)
            by_run.setdefault("id:" + model.model_id, []).append(model)
        return by_run

    # -- runs ---------------------------------------------------------------------------------

    def _read_run(self, run_dir: Path | str, experiment_id: str | None, project: str | None,
                  experiment: Path, logged: dict[str, list[LoggedModel]]) -> RunRecord | None:
        with os.scandir(run_dir) as scan:
            entries = list(scan)
        children = {entry.name for entry in entries}
        note_folders(os.fspath(run_dir), entries)  # params/, tags/, metrics/: no lstat each
        run_text = os.fspath(run_dir)  # joined as text: no Path built per file of the run
        meta_path = os.path.join(run_text, META)
        if META not in children:
            self.warn(f"{run_dir}: no meta.yaml, not an MLflow run; skipped")
            return None
        sides = None
        if follow.active():  # a watch: only what the metric files appended, if it can
            appended = follow.read_appended(Path(run_text), children)
            if appended is not None:
                return appended
            sides = follow.side_stat(Path(run_text), children)  # before the read: appendlog
        meta = read_meta(meta_path)
        run_id = text_or_none(meta.get("run_id")) or text_or_none(meta.get("run_uuid"))
        if run_id is None:
            raise ImportFailed(str(meta_path), "missing run_id", field="run_id")
        if str(meta.get("lifecycle_stage") or "active") == "deleted":
            return None
        meta_experiment = text_or_none(meta.get("experiment_id"))
        if experiment_id is not None and meta_experiment not in (None, experiment_id):
            # MLflow's own reader ignores such a run (moved by hand); so do we.
            self.warn(f"{meta_path}: run records experiment {meta_experiment} but sits in "
                      f"experiment {experiment_id}; skipped")
            return None
        warnings: list[str] = []
        files = [meta_path]
        reads = [] if follow.active() else None
        start_ms = meta_int(meta, "start_time", meta_path)
        end_ms = meta_int(meta, "end_time", meta_path)
        params = (self.read_values(os.path.join(run_text, "params"), files)
                  if "params" in children else {})
        tags = self.read_values(os.path.join(run_text, "tags"), files) if "tags" in children else {}
        metrics, metric_columns = (self._read_metrics(os.path.join(run_text, "metrics"), files,
                                                      warnings, reads)
                                   if "metrics" in children else ([], []))
        datasets = (self._read_inputs(Path(run_text, "inputs"), experiment, files, warnings)
                    if "inputs" in children else [])
        models: dict[str, LoggedModel] = {m.model_id: m for m in logged.get(run_id, ())}
        if "outputs" in children:
            for entry in os.scandir(os.path.join(run_text, "outputs")):
                if entry.is_dir() and entry.name not in models:
                    found = logged.get("id:" + entry.name)
                    if found:
                        models[entry.name] = found[0]
                    else:
                        self.warn(f"{run_dir}: output model {entry.name} has no "
                                  f"{experiment.name}/models/{entry.name}/meta.yaml", warnings)
        files.extend(str(m.meta_path) for m in models.values() if m.meta_path)
        artifacts = run_artifacts(self.resolver, run_id=run_id,
                                  artifact_uri=text_or_none(meta.get("artifact_uri")),
                                  near=experiment, logged_models=list(models.values()),
                                  history_tag=tags.get("mlflow.log-model.history"),
                                  warnings=warnings,
                                  listed=os.path.join(run_text, "artifacts")
                                  if "artifacts" in children else None)
        for message in warnings:
            self.ctx.warn(message)
        record = build_run_record(
            run_id=run_id, name=text_or_none(meta.get("run_name")), project=project,
            status=status_text(meta.get("status")), start_ms=start_ms, end_ms=end_ms,
            user_id=text_or_none(meta.get("user_id")), params=params, tags=tags,
            metrics=metrics, metric_columns=metric_columns, datasets=datasets,
            artifacts=artifacts, source_format=FORMAT,
            source_path=run_text, fingerprint_value=fingerprint(files), warnings=warnings)
        if reads is not None:
            follow.remember(Path(run_text), record, reads, sides)
        return record

    @staticmethod
    def _walk_values(folder: str) -> list[tuple[str, str]]:
        """:func:`walk_values` of ``folder``, as the forked reader listed it when it did."""
        found = prefetch.listed(folder)
        return found if found is not None else walk_values(folder)

    def read_values(self, folder: Path | str, files: list[str]) -> dict[str, str]:
        values = {}
        for key, path in self._walk_values(folder):
            values[key] = read_text(path)
            files.append(path)
        return values

    def _read_metrics(self, folder: Path | str, files: list[str], warnings: list[str],
                      reads: list[tuple[str, bytes, int, int | None]] | None
                      ) -> tuple[list[MetricPoint], list[MetricColumns]]:
        """Every metric file of a run, whole; with ``reads`` (a watch), each file's bytes and
        inode are added to it, for follow.remember."""
        points: list[MetricPoint] = []
        columns: list[MetricColumns] = []
        for key, path in self._walk_values(folder):
            files.append(path)
            read = follow.read_whole(path, key, warnings, reads)
            if isinstance(read, MetricColumns):
                columns.append(read)
            else:
                points.extend(read)
        return points, columns

    def _read_inputs(self, folder: Path, experiment: Path, files: list[str],
                     warnings: list[str]) -> list[DatasetRecord]:
        datasets = []
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            meta_path = Path(entry.path) / META
            if not entry.is_dir():
                continue
            if not meta_path.is_file():
                self.warn(f"{entry.path}: input without meta.yaml; skipped", warnings)
                continue
            files.append(str(meta_path))
            link = read_meta(meta_path)
            if str(link.get("source_type") or "DATASET").upper() != "DATASET":
                continue  # MODEL inputs: a run that consumed a logged model
            dataset_id = text_or_none(link.get("source_id"))
            dataset_meta_path = experiment / "datasets" / (dataset_id or "?") / META
            if dataset_meta_path not in self._datasets:
                self._datasets[dataset_meta_path] = (read_meta(dataset_meta_path)
                                                     if dataset_meta_path.is_file() else None)
            meta = self._datasets[dataset_meta_path]
            if meta is None:
                self.warn(f"{meta_path}: dataset {dataset_id} has no "
                          f"{experiment.name}/datasets/{dataset_id}/meta.yaml; skipped", warnings)
                continue
            files.append(str(dataset_meta_path))
            name = text_or_none(meta.get("name"))
            if name is None:
                raise ImportFailed(str(dataset_meta_path), "dataset without a name", field="name")
            datasets.append(dataset_record(
                name=name, digest=text_or_none(meta.get("digest")),
                source_type=text_or_none(meta.get("source_type")),
                source=text_or_none(meta.get("source")), schema=text_or_none(meta.get("schema")),
                profile=text_or_none(meta.get("profile")), resolver=self.resolver,
                context=_context(link)))
        return datasets


def _context(link: dict) -> str | None:
    """``mlflow.data.context`` of a dataset input (``training``, ``evaluation`` ...)."""
    tags = link.get("tags")
    if isinstance(tags, dict):
        return text_or_none(tags.get("mlflow.data.context"))
    if isinstance(tags, list):  # older writers: [{key, value}]
        for tag in tags:
            if isinstance(tag, dict) and tag.get("key") == "mlflow.data.context":
                return text_or_none(tag.get("value"))
    return None


def _run_dirs(entries: list[os.DirEntry]) -> list[str]:
    """The run folders among an experiment folder's (sorted) entries, as the reader reads them."""
    return [entry.path for entry in entries
            if not (entry.name in _RESERVED_EXPERIMENT_FOLDERS or entry.name.startswith(".")
                    or not entry.is_dir())]


def _store_run_dirs(experiments: list[os.DirEntry]) -> list[str]:
    """Every run folder of a store's experiment folders, in the order the reader reads them
    (what one forked reader reads ahead; a folder it cannot list is the reader's to report)."""
    found: list[str] = []
    for experiment in experiments:
        try:
            with os.scandir(experiment.path) as scan:
                found.extend(_run_dirs(sorted(scan, key=lambda e: e.name)))
        except OSError:
            continue
    return found


def _small_files(run_dir: str, listings: dict[str, list]) -> list[str]:
    """The files of a run folder that its reading opens whole, spelled as ``_read_run`` spells
    them (what :mod:`..prefetch` reads ahead): meta.yaml, params, tags and metrics; the
    listings of those three folders and of artifacts/ go in ``listings``."""
    paths = [os.path.join(run_dir, META)]
    artifacts = os.path.join(run_dir, "artifacts")
    try:
        listings[artifacts] = prefetch.entries_of(artifacts)
    except OSError:
        pass  # not there (or not listable): run_artifacts says what it makes of it
    for sub in ("params", "tags", "metrics"):
        folder = os.path.join(run_dir, sub)
        try:
            found = listings[folder] = walk_values(folder)
        except OSError:
            continue  # not there (or not listable): the reader says so itself
        paths.extend(path for _key, path in found)
    return paths
