"""DVC importer pieces shared by every part of the reader: constants, path keys, entries and
stages, file loading and error positions."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from ...core.errors import ImportFailed
from ..common import ImportContext, load_json, load_yaml, read_text, resolve_foreign_path


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


class _ReaderBase:
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
