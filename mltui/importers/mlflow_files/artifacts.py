"""Where an MLflow run's models are: LoggedModels, ``MLmodel`` folders, artifact URIs resolved locally."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

from ...core.records import ArtifactRecord
from ...core.errors import ImportFailed
from ...core.safefile import import_real_paths, real_path
from .. import prefetch
from ..common import ImportContext, artifact_for, resolve_foreign_path
from .meta import _URI_SCHEME, _json_or_none


@dataclasses.dataclass
class LoggedModel:
    """An MLflow 3 LoggedModel: what a run produced under ``<exp>/models/<model_id>/``."""

    model_id: str
    name: str | None
    artifact_location: str | None
    source_run_id: str | None
    near: Path | None = None  # its folder in a file store, to resolve artifact_location
    meta_path: Path | None = None


class ArtifactResolver:
    """Finds and hashes model folders that an MLflow store points at, inside the imported tree.

    MLflow writes absolute URIs of the machine that logged (``file:///C:/Users/...``,
    ``/home/alice/...``).  Resolution order: a known anchor (``<run_id>/artifacts`` or
    ``<model_id>/artifacts`` already found on disk), then for absolute paths the shortest tail
    of >= 2 components that exists under the log's folder or the imported root (one component,
    e.g. ``artifacts``, would match the wrong run), and :func:`resolve_foreign_path` for
    relative paths.  Non-file schemes (s3://, dbfs:/,
    gs://) are never resolved; ``mlflow-artifacts:/`` (a tracking server's proxy) is looked up
    in a committed ``mlartifacts/`` folder.  Each folder is hashed once per read.
    """

    def __init__(self, ctx: ImportContext):
        self.root = Path(ctx.root).resolve()
        self._root_text = str(self.root)
        self._root_prefix = self._root_text.rstrip(os.sep) + os.sep
        self.anchors: dict[str, Path] = {}
        self._hashed: dict[Path, ArtifactRecord] = {}
        self._real = import_real_paths()  # path → real path, for this read (safefile.real_path)

    def resolve(self, raw: str | None, near: Path | None) -> Path | None:
        """The local folder/file for a raw path or URI, or None (never outside the root)."""
        if not raw:
            return None
        text = str(raw).strip()
        if text.startswith("runs:/") or text.startswith("models:/"):
            parts = [p for p in text.split(":/", 1)[1].split("/") if p]
            if parts and parts[0] in self.anchors:
                return self._existing(self.anchors[parts[0]].joinpath(*parts[1:]))
            return None
        if text.startswith("mlflow-artifacts:"):
            # Proxied by `mlflow server`, which stores them under ./mlartifacts/ by default.
            path = re.sub(r"^mlflow-artifacts:(//[^/]*)?", "", text).strip("/")
            parts = [p for p in path.split("/") if p]
            if not parts:
                return None
            for base in (self.root, near):
                if base is not None:
                    found = self._existing(base.joinpath("mlartifacts", *parts))
                    if found:
                        return found
            text = "/" + path  # then the tail search below
        elif text.startswith("file:"):
            text = re.sub(r"^file:(//)?", "", text)
            if re.match(r"^/[A-Za-z]:[\\/]", text):
                text = text[1:]  # file:///C:/Users/... -> C:/Users/...
        elif _URI_SCHEME.match(text) and not re.match(r"^[A-Za-z]:[\\/]", text):
            return None  # s3://, gs://, dbfs:/, mlflow-artifacts:/ ...
        parts = [p for p in re.split(r"[\\/]+", text) if p not in ("", ".")]
        if not parts:
            return None
        for index, part in enumerate(parts[:-1]):
            if parts[index + 1] == "artifacts" and part in self.anchors:
                found = self._existing(self.anchors[part].joinpath(*parts[index + 2:]))
                if found:
                    return found
        absolute = text.startswith(("/", "\\")) or bool(re.match(r"^[A-Za-z]:", text))
        if not absolute:
            return resolve_foreign_path(text, self.root, near=near)
        if not re.match(r"^[A-Za-z]:", text):  # a drive path is never this machine's
            found = self._existing(text)
            if found:
                return found
        for size in range(2, len(parts)):
            tail = parts[-size:]
            for base in (near, self.root):
                if base is not None:
                    found = self._existing(base.joinpath(*tail))
                    if found:
                        return found
        return None

    def listed_folder(self, raw: str | None, folder: str) -> Path | None:
        """``folder`` when ``raw`` is the ``file://`` URI of exactly it and the reader found it
        as a plain (not symlinked) subfolder of a folder it listed; None otherwise (then
        :meth:`resolve` decides).

        The usual run of a file store names its own ``<run>/artifacts`` folder.  The listing
        already put that folder's real path in the import's cache, so it is resolved and checked
        against the root without a system call, a regular expression or an ancestor walk.
        """
        if not raw or raw[:7] != "file://":
            return None
        if raw[7:] != folder:
            if os.path.isabs(folder):
                return None
            folder = os.path.abspath(folder)  # a store named by a relative path
            if raw[7:] != folder:
                return None
        if os.path.basename(os.path.dirname(folder)) in self.anchors:
            return None  # another run of that id was found first: resolve() picks its anchor
        real = self._real.get(folder)
        return Path(real) if real is not None and self._in_root(real) else None

    def _in_root(self, real: str) -> bool:
        # Both are real, normalised paths: containment is a prefix test (once per run: no
        # Path built for each of the ancestors).
        return real == self._root_text or real.startswith(self._root_prefix)

    def _existing(self, candidate: Path | str) -> Path | None:
        # Strings, not Paths, on the way: one call per run; real_path normalises as Path would.
        text = os.fspath(candidate)
        try:
            if not os.path.exists(text):
                return None
            if not os.path.isabs(text):
                text = os.path.join(os.getcwd(), text)
            resolved = real_path(text, self._real)
        except (OSError, RuntimeError, ValueError):
            return None
        return Path(resolved) if self._in_root(resolved) else None

    def record(self, raw: str, *, name: str | None, near: Path | None = None,
               local: Path | None = None) -> ArtifactRecord:
        """An ArtifactRecord for ``raw``: hashed when it is on disk, else the raw path only."""
        local = local or self.resolve(raw, near)
        if local is None:
            return ArtifactRecord(path_raw=raw, name=name, kind="model")
        hashed = self._hashed.get(local)
        if hashed is None:
            try:
                hashed = artifact_for(local, path_raw=raw, name=name)
            except OSError as exc:
                raise ImportFailed(str(local), f"cannot hash model artifact: "
                                               f"{exc.strerror or exc}") from None
            self._hashed[local] = hashed
        return dataclasses.replace(hashed, path_raw=raw, name=name)


def listing(folder: Path) -> list[os.DirEntry] | None:
    """The entries of ``folder``, or None when it is not a folder one can list."""
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError:
        return None


def mlmodel_dirs(folder: Path, depth: int = 2, top: list[os.DirEntry] | None = None) -> list[str]:
    """Relative paths (posix) of the folders under ``folder`` that hold an ``MLmodel`` file
    (``top``: ``folder``'s entries when the caller has listed it already)."""
    found: list[str] = []
    stack = [(folder, "", 0)]
    while stack:
        current, prefix, level = stack.pop()
        entries = top if top is not None and current is folder else listing(current)
        if entries is None:
            continue
        names = {entry.name for entry in entries}
        if "MLmodel" in names:
            found.append(prefix or ".")
            continue
        if level < depth:
            for entry in entries:
                if entry.is_dir():
                    stack.append((Path(entry.path), f"{prefix}{entry.name}/", level + 1))
    return sorted(p.rstrip("/") for p in found)


def run_artifacts(resolver: ArtifactResolver, *, run_id: str, artifact_uri: str | None,
                  near: Path | None, logged_models: list[LoggedModel],
                  history_tag: str | None, warnings: list[str],
                  listed: str | None = None) -> list[ArtifactRecord]:
    """A run's model artifacts: MLflow 3 LoggedModels, then MLflow 2 ``artifacts/<dir>/MLmodel``.

    ``near`` is where the store keeps the run (its experiment folder), used to resolve foreign
    absolute URIs; ``listed`` is the run's ``artifacts`` folder when the reader listed it as a
    plain folder (see :meth:`ArtifactResolver.listed_folder`).  Models named in
    ``mlflow.log-model.history`` but not on disk are recorded by their raw path.
    """
    artifacts: list[ArtifactRecord] = []
    for model in sorted(logged_models, key=lambda m: m.model_id):
        if not model.artifact_location:
            warnings.append(f"logged model {model.model_id} has no artifact_location")
            continue
        local = resolver.resolve(model.artifact_location, model.near)
        if local is not None:
            resolver.anchors.setdefault(model.model_id, local)
        artifacts.append(resolver.record(model.artifact_location, name=model.name or
                                         model.model_id, local=local))
    if not artifact_uri:
        return artifacts
    local_root = resolver.listed_folder(artifact_uri, listed) if listed else None
    # Its entries as the forked reader listed them (prefetch), when it did: the same folder.
    top = prefetch.listed(listed) if local_root is not None else None
    if local_root is None:
        local_root = resolver.resolve(artifact_uri, near)
    base = artifact_uri.rstrip("/\\")
    seen: set[str] = set()
    # A listing first, is_dir() only when it fails (a folder one may not list is still an
    # anchor): one system call fewer per run.
    if top is None and local_root is not None:
        top = listing(local_root)
    if top is not None or (local_root is not None and local_root.is_dir()):
        resolver.anchors.setdefault(run_id, local_root)
        for rel in mlmodel_dirs(local_root, top=top):
            seen.add(rel)
            raw = base if rel == "." else f"{base}/{rel}"
            artifacts.append(resolver.record(raw, name=None if rel == "." else rel,
                                             local=local_root / rel))
    for rel in _history_paths(history_tag, warnings):
        if rel not in seen:
            seen.add(rel)
            artifacts.append(ArtifactRecord(path_raw=f"{base}/{rel}", name=rel, kind="model"))
    return artifacts


def _history_paths(history_tag: str | None, warnings: list[str]) -> list[str]:
    """Artifact paths listed in MLflow 2's ``mlflow.log-model.history`` tag (a JSON list)."""
    if not history_tag:
        return []
    data = _json_or_none(history_tag)
    if not isinstance(data, list):
        warnings.append("tag mlflow.log-model.history is not a JSON list; ignored")
        return []
    paths = []
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("artifact_path"), str):
            path = item["artifact_path"].strip("/")
            if path and "://" not in path and path not in paths:
                paths.append(path)
    return paths
