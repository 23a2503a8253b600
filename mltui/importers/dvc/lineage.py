"""DVC lineage: which deps are data and which are code, model artifacts, ``.dvc`` files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ...core.errors import ImportFailed
from ...core.records import ArtifactRecord, DatasetRecord, RunRecord
from ..common import artifact_for
from .base import (CODE_DIRS, CODE_NAMES, CODE_SUFFIXES, DEFAULT_PARAMS, _WALK_SKIP, _Entry, _is_modelish, _is_url,
                   _inside_key, _norm_key, _ReaderBase, _Stage, _stem, _suffix, detect)


class LineageMixin(_ReaderBase):
    """Datasets, code deps and model artifacts of a pipeline run."""


    def _lineage(self, run: RunRecord, stages: dict[str, _Stage], order: list[str],
                 dvc_files: list[tuple[Path, dict]], artifacts_decl: dict[str, dict],
                 declared_reports: set[str], live_dirs: list[Path]) -> None:
        producers = [(out.key, out) for name in order for out in stages[name].outs]
        tracked = {key: (entry, upstream) for key, entry, upstream in self._tracked(dvc_files)}
        memo: dict[str, DatasetRecord] = {}
        code_deps: dict[str, str | None] = {}

        def producer_of(key: str, consumer: str) -> _Entry | None:
            for out_key, out in producers:
                if out.stage != consumer and _inside_key(key, out_key):
                    return out
            return None

        artifacts = self._artifacts(run, stages, order, artifacts_decl, tracked)
        artifact_keys = {key for key, _ in artifacts}
        run.artifacts = [artifact for _, artifact in artifacts]
        model_stages = {out.stage for _, out in producers
                        if out.key in artifact_keys or _is_modelish(out)}

        def is_product(entry: _Entry) -> bool:
            """A dep made by a stage that makes the model: the run's product, not its data.

            Only true inputs (from outside the pipeline, or outputs of a data stage) are
            datasets; the model an evaluate stage reads is the artifact it evaluates.
            """
            source = producer_of(entry.key, entry.stage)
            return source is not None and (source.stage in model_stages
                                           or any(_inside_key(entry.key, k) for k in artifact_keys))

        def data_deps(stage: _Stage) -> list[_Entry]:
            return [d for d in stage.deps if not self._is_code(d, stage) and not is_product(d)]

        def record_for(entry: _Entry) -> DatasetRecord:
            if entry.key in memo:
                return memo[entry.key]
            record = self._dataset(entry)
            memo[entry.key] = record  # before recursing: a malformed cycle must end
            source = producer_of(entry.key, entry.stage)
            if source is not None:
                record.derived_from = [record_for(d) for d in data_deps(stages[source.stage])]
            elif entry.key in tracked:
                tracked_entry, upstream = tracked[entry.key]
                if record.hash is None:
                    self._copy_hash(record, tracked_entry)
                if upstream is not None:
                    record.derived_from = [upstream]
            return record

        listed: set[int] = set()
        for name in order:
            stage = stages[name]
            for dep in stage.deps:
                if self._is_code(dep, stage):
                    code_deps[dep.key] = dep.hash
                    continue
                if is_product(dep):
                    continue
                record = record_for(dep)
                if id(record) not in listed:  # one record per path, however many stages use it
                    listed.add(id(record))
                    run.datasets.append(record)

        consumed = {d.key for s in stages.values() for d in s.deps}
        here = self.folder.resolve()
        live_keys = {_norm_key("", os.path.relpath(d, here)) for d in live_dirs}
        for name in order:
            for out in stages[name].outs:
                if (out.key in artifact_keys or out.key in declared_reports or out.key in consumed
                        or any(_inside_key(out.key, k) for k in live_keys)
                        or any(_inside_key(c, out.key) for c in consumed)):
                    continue
                record = self._dataset(out, role="output")
                record.derived_from = [record_for(d) for d in data_deps(stages[name])]
                run.datasets.append(record)

        # Data that `dvc add` / `dvc import` track but no stage uses is still the project's data.
        for key, (entry, upstream) in tracked.items():
            if key in memo or key in artifact_keys or any(_inside_key(key, k) for k in memo):
                continue
            record = self._dataset(entry)
            if upstream is not None:
                record.derived_from = [upstream]
            memo[key] = record
            run.datasets.append(record)
        if code_deps:
            run.environment["code_deps"] = code_deps

    def _is_code(self, entry: _Entry, stage: _Stage) -> bool:
        """Code and configuration deps (scripts, notebooks, params files), not data."""
        key = entry.key
        if _is_url(key):
            return False
        name = key.rsplit("/", 1)[-1].lower()
        if key in stage.params_files or name == DEFAULT_PARAMS:
            return True  # params files declared as deps
        if _suffix(key) in CODE_SUFFIXES or name in CODE_NAMES:
            return True
        return key.split("/", 1)[0].lower() in CODE_DIRS

    def _dataset(self, entry: _Entry, role: str = "input") -> DatasetRecord:
        local = self._local(entry.key)
        record = DatasetRecord(name=_stem(entry.key), uri_raw=entry.raw,
                               path=str(local) if local else None, role=role)
        self._copy_hash(record, entry)
        return record

    @staticmethod
    def _copy_hash(record: DatasetRecord, entry: _Entry) -> None:
        record.hash_algo, record.hash, record.size = entry.algo, entry.hash, entry.size
        if entry.algo == "md5.dir":
            record.file_count = entry.nfiles
        elif entry.hash is not None:
            record.file_count = 1

    def _artifacts(self, run: RunRecord, stages: dict[str, _Stage], order: list[str],
                   declared: dict[str, dict], tracked: dict[str, tuple[_Entry, Any]]
                   ) -> list[tuple[str, ArtifactRecord]]:
        """Model artifacts: ``artifacts:`` entries of type model, else model-like last outs."""
        outs_by_key = {out.key: out for name in order for out in stages[name].outs}
        found: list[tuple[str, ArtifactRecord]] = []
        for name, spec in declared.items():
            if spec.get("desc") is not None:
                run.tags[f"artifact.{name}.desc"] = str(spec["desc"])
            labels = spec.get("labels")
            if isinstance(labels, list) and labels:
                run.tags[f"artifact.{name}.labels"] = ", ".join(str(label) for label in labels)
            if spec.get("type") is not None:
                run.tags[f"artifact.{name}.type"] = str(spec["type"])
            if str(spec.get("type", "")).lower() != "model":
                continue
            key = _norm_key("", spec["path"])
            entry = outs_by_key.get(key) or (tracked[key][0] if key in tracked else None)
            found.append((key, self._artifact(spec["path"], key, entry, name)))
        if found:
            return found
        reports = self.declared_metrics | self.declared_plots

        def modelish(name: str) -> list[_Entry]:
            return [out for out in stages[name].outs
                    if _is_modelish(out) and out.key not in reports]

        for name in reversed(order):
            if modelish(name):
                # A foreach/matrix stage (train@small, train@big) is one stage for this purpose.
                group = name.split("@", 1)[0]
                return [(out.key, self._artifact(out.raw, out.key, out, None))
                        for other in order if other.split("@", 1)[0] == group
                        for out in modelish(other)]
        return []

    def _artifact(self, raw: str, key: str, entry: _Entry | None,
                  name: str | None) -> ArtifactRecord:
        local = self._local(key)
        if entry is not None and entry.hash is not None:
            return ArtifactRecord(path_raw=raw, path=str(local) if local else None,
                                  hash_algo=entry.algo, hash=entry.hash, size=entry.size,
                                  kind="model", name=name)
        if local is not None:
            # Neither the lock nor a .dvc file has a hash for it: hash what is on disk.
            return artifact_for(local, path_raw=raw, name=name)
        return ArtifactRecord(path_raw=raw, kind="model", name=name,
                              size=entry.size if entry else None)

    # --- .dvc files ----------------------------------------------------------------------------

    def _dvc_files(self, out_keys: set[str]) -> list[tuple[Path, dict]]:
        """``*.dvc`` files of this pipeline (not those of a nested pipeline folder).

        Stage outputs and ``dvc add``-ed dirs are not searched: DVC tracks nothing inside what
        it already tracks, and data dirs can hold millions of files.
        """
        found = []
        top = str(self.folder)
        for directory, subdirs, files in os.walk(self.folder):
            here = Path(directory)
            rel = os.path.relpath(directory, top).replace(os.sep, "/")
            prefix = "" if rel == "." else f"{rel}/"
            subdirs[:] = sorted(d for d in subdirs if d not in _WALK_SKIP
                                and f"{prefix}{d}" not in out_keys
                                and not (here / f"{d}.dvc").is_file() and not detect(here / d))
            for name in sorted(files):
                if not name.endswith(".dvc") or name == ".dvc":
                    continue
                path = here / name
                data = self._load(path)
                if not isinstance(data, dict):
                    raise ImportFailed(str(path), "expected a mapping with 'outs'", line=1)
                found.append((path, data))
        return found

    def _tracked(self, dvc_files: list[tuple[Path, dict]]):
        """``(key, entry, upstream record or None)`` for each out of each .dvc file."""
        for path, data in dvc_files:
            base = _norm_key("", os.path.relpath(path.parent, self.folder))
            base = "" if base == "." else base
            wdir = data.get("wdir")
            if isinstance(wdir, str):
                base = _norm_key(base, wdir)
            outs = data.get("outs") or []
            deps = data.get("deps") or []
            if not isinstance(outs, list) or not isinstance(deps, list):
                raise self._fail(path, ["outs" if not isinstance(outs, list) else "deps"],
                                 "expected a list")
            upstream = self._upstream(path, deps)
            for index, item in enumerate(outs):
                if not isinstance(item, dict) or not isinstance(item.get("path"), str):
                    raise self._fail(path, ["outs", index], "expected an entry with a 'path'")
                entry = _Entry(stage=path.name, raw=item["path"], key=_norm_key(base, item["path"]))
                self._hash_info(path, entry, item, ["outs", index])
                entry.raw = entry.key if not _is_url(entry.key) else entry.raw
                if upstream is not None and upstream.hash is None:
                    # DVC checked the imported bytes: the upstream file at rev_lock has them too.
                    self._copy_hash(upstream, entry)
                yield entry.key, entry, upstream

    def _upstream(self, path: Path, deps: list) -> DatasetRecord | None:
        """Where ``dvc import`` / ``import-url`` data came from, as a dataset record."""
        for index, item in enumerate(deps):
            if not isinstance(item, dict) or not isinstance(item.get("path"), str):
                raise self._fail(path, ["deps", index], "expected an entry with a 'path'")
            repo = item.get("repo")
            if isinstance(repo, dict) and isinstance(repo.get("url"), str):
                url = repo["url"].rstrip("/")
                rev = repo.get("rev_lock") or repo.get("rev")
                repo_name = url.rsplit("/", 1)[-1].removesuffix(".git") or url
                return DatasetRecord(name=f"{repo_name}/{item['path']}",
                                     uri_raw=f"{url}/{item['path']}" + (f"@{rev}" if rev else ""))
            entry = _Entry(stage=path.name, raw=item["path"], key=item["path"])
            self._hash_info(path, entry, item, ["deps", index])
            if _is_url(item["path"]):  # dvc import-url
                record = DatasetRecord(name=_stem(item["path"]), uri_raw=item["path"])
                self._copy_hash(record, entry)
                return record
        return None
