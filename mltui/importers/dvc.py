"""DVC pipelines: ``dvc.lock``, ``dvc.yaml``, ``params.yaml``, metrics files, DVCLive, ``.dvc``.

See ``shared/FORMATS.md`` §4.  A folder holding ``dvc.lock`` and/or ``dvc.yaml`` is one run (the
last ``dvc repro`` of that pipeline).  Its identity is the folder, not the lock's content, so a
re-run of the pipeline updates the run; the fingerprint covers every file read.

What a run yields:

* params: the resolved values ``dvc.lock`` recorded per stage (``params.yaml`` keys as they are,
  other files as ``file:key``); ``params.yaml`` itself only when the lock has none; DVCLive's
  ``params.yaml``.
* metrics: metrics files named in ``dvc.yaml`` (JSON/YAML/TOML, flattened with ``.``, step
  None); DVCLive's ``plots/metrics/**/<name>.tsv`` (stepped, key = path under
  ``plots/metrics`` such as ``train/loss``) and ``metrics.json`` (latest values at its ``step``,
  for keys without a TSV).
* datasets: stage deps that are data (code and config deps go to
  ``environment["code_deps"]``), with the lock's hash: ``md5`` (DVC 3, ``hash: md5``),
  ``md5-dos2unix`` (DVC ≤ 2, no ``hash`` key), ``md5.dir`` (directories), ``etag``,
  ``checksum``.  A dep that an earlier stage produced is derived from that stage's data deps;
  outs nobody consumes are ``output`` datasets.  ``.dvc`` files (``dvc add``, ``dvc import``,
  ``dvc import-url``) add tracked data and the upstream a dataset was imported from.
* artifacts: ``artifacts:`` entries of type model, else model-like outs of the last stage that
  has any, with the lock's hash (files are not re-hashed).

Git commits are left to the walk (the work tree's HEAD); GTO tags are not read here.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from ..core.errors import ImportFailed
from ..core.records import ArtifactRecord, DatasetRecord, ImportBatch, RunRecord
from .common import (ImportContext, artifact_for, as_param_text, fingerprint, flatten,
                     is_number_like, load_json, load_yaml, looks_like_email, point, read_csv_rows,
                     read_text, resolve_foreign_path, stable_uid)

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    tomllib = None  # type: ignore[assignment]

FORMAT = "dvc"
KIND = "dir"
CONSUMES_SUBTREE = False

LOCK_FILE = "dvc.lock"
PIPELINE_FILE = "dvc.yaml"
DEFAULT_PARAMS = "params.yaml"
DVCLIVE_DIR = "dvclive"

# Deps with these suffixes are code or configuration, not data.
CODE_SUFFIXES = {".py", ".pyx", ".sh", ".bash", ".zsh", ".ps1", ".bat", ".ipynb", ".r", ".rmd",
                 ".jl", ".m", ".js", ".ts", ".java", ".scala", ".kt", ".go", ".rs", ".c", ".cc",
                 ".cpp", ".h", ".hpp", ".rb", ".pl", ".lua", ".sql", ".yaml", ".yml", ".toml",
                 ".cfg", ".ini", ".conf", ".env", ".mk", ".cmake", ".lock"}
CODE_NAMES = {"makefile", "dockerfile", "requirements.txt", "pyproject.toml", "setup.py",
              "environment.yml", "conda.yaml", "pipfile", "pipfile.lock", "poetry.lock"}
# Deps under these top-level folders are code (``src/`` as a whole-directory dep, say).
CODE_DIRS = {"src", "scripts", "code", "lib", "notebooks", "utils", "config", "configs", "conf"}
MODEL_SUFFIXES = {".pkl", ".pickle", ".pt", ".pth", ".joblib", ".onnx", ".h5", ".hdf5", ".keras",
                  ".safetensors", ".bin", ".ckpt", ".npz", ".pb", ".tflite", ".mlmodel", ".cbm",
                  ".xgb", ".lgb", ".model", ".gguf"}
MODEL_DIR_NAMES = {"models", "model"}
METRIC_SUFFIXES = {".json", ".yaml", ".yml", ".toml"}

_WALK_SKIP = {".dvc", ".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", "venv",
              ".tox", ".mypy_cache", ".pytest_cache", ".ipynb_checkpoints", ".mltui"}
_INTERPOLATION = re.compile(r"\$\{\s*([^}]+?)\s*\}")


def detect(path: Path) -> bool:
    """True for a folder that holds ``dvc.lock`` and/or ``dvc.yaml``."""
    path = Path(path)
    return path.is_dir() and ((path / LOCK_FILE).is_file() or (path / PIPELINE_FILE).is_file())


def read(path: Path, ctx: ImportContext) -> ImportBatch:
    """Read one DVC pipeline folder into one run."""
    return _PipelineReader(Path(path), ctx).read()


# ---------------------------------------------------------------------------------------------
# Small pieces


@dataclass
class _Entry:
    """A dep or out of one stage: its path key (relative to the folder) and lock hash info."""

    stage: str
    raw: str  # the path as the file wrote it
    key: str  # normalised: relative to the pipeline folder, posix, or the URL as written
    algo: str | None = None
    hash: str | None = None
    size: int | None = None
    nfiles: int | None = None


@dataclass
class _Stage:
    name: str
    wdir: str = ""  # relative to the pipeline folder
    cmd: str | None = None
    deps: list[_Entry] = field(default_factory=list)
    outs: list[_Entry] = field(default_factory=list)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # file -> {key: value}
    params_files: set[str] = field(default_factory=set)  # keys of params files it declares


def _is_url(text: str) -> bool:
    return "://" in text or text.startswith("remote://")


def _norm_key(base: str, raw: str) -> str:
    """The path key of ``raw`` written relative to ``base`` (both relative to the folder)."""
    text = raw.strip()
    if _is_url(text):
        return text
    text = text.replace("\\", "/")
    if text.startswith("/") or re.match(r"^[A-Za-z]:/", text):
        return posixpath.normpath(text)
    return posixpath.normpath(posixpath.join(base, text)) if base else posixpath.normpath(text)


def _inside_key(key: str, parent: str) -> bool:
    """True when path key ``key`` is ``parent`` or a path below it."""
    return key == parent or key.startswith(parent.rstrip("/") + "/")


def _stem(key: str) -> str:
    name = key.rstrip("/").rsplit("/", 1)[-1]
    if "://" in key:
        name = name.split("?", 1)[0] or key
    stem = posixpath.splitext(name)[0]
    return stem or name


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _suffix(key: str) -> str:
    return posixpath.splitext(key.rsplit("/", 1)[-1])[1].lower()


def _yaml_line(text: str, field_path: Iterable[Any]) -> int | None:
    """The 1-based line of the node at ``field_path`` in a YAML text, for error messages."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for step in field_path:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(step):
                    node = value_node
                    break
            else:
                return line
        elif (isinstance(node, yaml.SequenceNode) and isinstance(step, int)
              and step < len(node.value)):
            node = node.value[step]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def _field_name(field_path: Iterable[Any]) -> str:
    out = ""
    for step in field_path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


# ---------------------------------------------------------------------------------------------
# The reader


class _PipelineReader:
    """Reads one pipeline folder; collects the files it read for the fingerprint and the walk."""

    def __init__(self, folder: Path, ctx: ImportContext):
        self.folder = folder
        self.ctx = ctx
        self.root = ctx.root.resolve() if ctx.root.is_dir() else ctx.root.resolve().parent
        self.files_read: list[Path] = []
        self.consumed: list[Path] = []
        self.texts: dict[Path, str] = {}
        self.loaded: dict[Path, Any] = {}
        self.context: dict[str, Any] | None = None
        self.declared_metrics: set[str] = set()
        self.declared_plots: set[str] = set()
        self.seq = 0

    # --- files -------------------------------------------------------------------------------

    def _load(self, path: Path) -> Any:
        """Parse a YAML/JSON/TOML file once, and remember it as read."""
        if path in self.loaded:
            return self.loaded[path]
        text = read_text(path)
        self.texts[path] = text
        self.files_read.append(path)
        suffix = path.suffix.lower()
        if suffix == ".json":
            data = load_json(path, text)
        elif suffix == ".toml":
            data = self._load_toml(path, text)
        else:
            data = load_yaml(path, text)
        self.loaded[path] = data
        return data

    def _load_toml(self, path: Path, text: str) -> Any:
        if tomllib is None:  # pragma: no cover - Python 3.10
            self.ctx.warn(f"{path}: reading TOML needs Python 3.11; skipped")
            return None
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ImportFailed(str(path), f"invalid TOML: {exc}") from None

    def _fail(self, path: Path, field_path: list[Any], message: str) -> ImportFailed:
        line = _yaml_line(self.texts.get(path, ""), field_path)
        return ImportFailed(str(path), message, line=line,
                            field=_field_name(field_path) or None)

    def _local(self, key: str) -> Path | None:
        """Where a path key is on this machine, inside the imported tree; None otherwise."""
        if _is_url(key):
            return None
        if key.startswith("/") or re.match(r"^[A-Za-z]:/", key):
            return resolve_foreign_path(key, self.root, near=self.folder)
        candidate = (self.folder / key).resolve()
        try:
            candidate.relative_to(self.root)
        except ValueError:
            return None  # ../../elsewhere: never opened outside the tree the user named
        return candidate if candidate.exists() else None

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

    # --- params ------------------------------------------------------------------------------

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

    # --- datasets, code, artifacts -----------------------------------------------------------

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

        def data_deps(stage: _Stage) -> list[_Entry]:
            return [d for d in stage.deps if not self._is_code(d, stage)]

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
                record = record_for(dep)
                if id(record) not in listed:  # one record per path, however many stages use it
                    listed.add(id(record))
                    run.datasets.append(record)

        artifacts = self._artifacts(run, stages, order, artifacts_decl, tracked)
        artifact_keys = {key for key, _ in artifacts}
        run.artifacts = [artifact for _, artifact in artifacts]

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

    # --- metrics -------------------------------------------------------------------------------

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


def _is_metric(value: Any) -> bool:
    """Numeric leaves (and NaN/Inf tokens) are metrics; text, lists and booleans are not."""
    if isinstance(value, bool) or value is None:
        return False
    return isinstance(value, (int, float)) or (isinstance(value, str) and is_number_like(value))


def _is_modelish(entry: _Entry) -> bool:
    """Model files by suffix, and ``models/`` folders (or anything inside one)."""
    if _is_url(entry.key):
        return _suffix(entry.key) in MODEL_SUFFIXES
    return (_suffix(entry.key) in MODEL_SUFFIXES
            or any(part.lower() in MODEL_DIR_NAMES for part in entry.key.split("/")))


def _below(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _topological(stages: dict[str, _Stage]) -> list[str]:
    """Stage names so that a stage comes after the stages whose outs it uses (stable)."""
    names = list(stages)
    after: dict[str, set[str]] = {name: set() for name in names}
    for name, stage in stages.items():
        for dep in stage.deps:
            for other, other_stage in stages.items():
                if other != name and any(_inside_key(dep.key, out.key) for out in other_stage.outs):
                    after[name].add(other)
    order: list[str] = []
    remaining = list(names)
    while remaining:
        ready = [n for n in remaining if after[n] <= set(order)]
        if not ready:  # a cycle cannot be a valid pipeline; keep the file order for the rest
            order.extend(remaining)
            break
        order.append(ready[0])
        remaining.remove(ready[0])
    return order

