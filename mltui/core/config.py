"""The project config: ``.mltui/config.yaml`` next to the catalog.

It holds what belongs to the project rather than to the catalog's data, today the stage hooks::

    hooks:
      timeout: 60                 # seconds, default for every hook
      stages:
        production:
          before:                 # may veto: a non-zero exit refuses the stage change
            - command: [python, smoke_test.py]
              timeout: 30
          after:                  # run once the change is committed
            - [sh, deploy.sh]     # a command is an argv list (or a string split like a shell
      on_alert:                   # would, but never run by one)
        - [python, notify.py]
    remotes:                      # MLflow tracking servers (`mltui remote add`): NAME -> URL
      team: https://mlflow.example.com

and what the app follows while it is open (``mltui watch`` in the app)::

    watch:
      paths: [runs/, lightning_logs/]   # relative to the project folder
      model: fraud                      # compare runs with fraud's production, check its gates
      stall_after: 600                  # seconds without new data: a run shows as stalled

Every key is checked; a bad one is an ``InvalidInput`` that names it
(``config.yaml: hooks.stages.production.after[0].timeout: must be a positive number``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config_file import config_path, may_hold, read_config_text  # noqa: F401 - re-exported
from .errors import InvalidInput
from .refs import MODEL_NAME_RE, STAGE_NAME_RE

DEFAULT_TIMEOUT = 60.0
PHASES = ("before", "after")
# Top-level sections this mltui knows; anything else is a typo to report, not to ignore.
KNOWN_SECTIONS = ("hooks", "columns", "watch", "remotes")
DEFAULT_STALL_AFTER = 300.0
REMOTE_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
REMOTE_SCHEMES = ("http://", "https://")


@dataclass(frozen=True)
class Hook:
    """One hook: the argv it runs (never through a shell) and its timeout in seconds."""

    argv: tuple[str, ...]
    timeout: float
    name: str

    def describe(self) -> str:
        """The command as one readable line (quoted like a shell would need, for display only)."""
        import shlex  # hooks' commands only: the app reads the config's watch block at start

        return shlex.join(self.argv)


@dataclass(frozen=True)
class WatchConfig:
    """``watch:``: run folders the app follows while it is open (paths relative to the project
    folder), the model whose production they are compared with, when a quiet run is stalled."""

    paths: tuple[Path, ...]
    model: str | None = None
    stall_after: float = DEFAULT_STALL_AFTER


@dataclass(frozen=True)
class ProjectConfig:
    """The validated project config; empty when there is no file."""

    path: Path | None = None
    stage_hooks: dict[str, dict[str, tuple[Hook, ...]]] = field(default_factory=dict)
    on_alert: tuple[Hook, ...] = ()
    # The metric columns the app's versions table shows per model (``columns:`` in the file).
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The param columns shown after them (``columns: {model: {params: [...]}}``).
    param_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    watch: WatchConfig | None = None  # ``watch:``; None when the app follows nothing
    # MLflow tracking servers by name (``remotes:``): URLs only, never credentials.
    remotes: dict[str, str] = field(default_factory=dict)

    def hooks_for(self, stage: str, phase: str) -> tuple[Hook, ...]:
        """The hooks of one stage and phase (``before`` or ``after``), in order."""
        return self.stage_hooks.get(stage, {}).get(phase, ())

    @property
    def project_dir(self) -> Path | None:
        """The folder holding ``.mltui`` (hooks run there)."""
        return self.path.parent.parent if self.path else None


def load_config(catalog_path: Path) -> ProjectConfig:
    """Read and validate the project config of a catalog (an empty config when absent).

    The app's start reads only the sections it needs, through ``config_file.load_sections``
    (no parse, no YAML import, when the file cannot hold them); what it passed over is
    validated by :func:`check_unread`.
    """
    path = config_path(catalog_path)
    text = read_config_text(path)
    if text is None:
        return ProjectConfig()
    return parse_config(text, path)


def check_unread(catalog_path: Path, read: tuple[str, ...]) -> None:
    """Validate the config (``InvalidInput`` when it is bad) if ``config_file.load_sections(...,
    read)`` passed it over unparsed; nothing when it was parsed then or is absent."""
    path = config_path(catalog_path)
    text = read_config_text(path)
    if text is not None and not may_hold(text, read):
        parse_config(text, path)


def parse_config(text: str, path: Path) -> ProjectConfig:
    """Validate config text; errors name the file and the bad key."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise InvalidInput(f"{path}{where}: {problem}") from None
    if data is None:
        return ProjectConfig(path=path)

    def bad(key: str, message: str) -> InvalidInput:
        return InvalidInput(f"{path.name}: {key}: {message}", hint=f"fix {path}")

    _mapping(data, "(top level)", bad)
    for key in data:
        if key not in KNOWN_SECTIONS:
            raise bad(str(key), f"unknown section (known: {', '.join(KNOWN_SECTIONS)})")
    hooks = data.get("hooks") or {}
    _mapping(hooks, "hooks", bad)
    for key in hooks:
        if key not in ("timeout", "stages", "on_alert"):
            raise bad(f"hooks.{key}", "unknown key (known: timeout, stages, on_alert)")
    default = _timeout(hooks.get("timeout", DEFAULT_TIMEOUT), "hooks.timeout", bad)
    stages: dict[str, dict[str, tuple[Hook, ...]]] = {}
    stage_map = hooks.get("stages") or {}
    _mapping(stage_map, "hooks.stages", bad)
    for stage, phases in stage_map.items():
        where = f"hooks.stages.{stage}"
        if not isinstance(stage, str) or not STAGE_NAME_RE.match(stage):
            raise bad(where, "not a stage name (letters, digits, '_' or '-', starting with a letter)")
        phases = phases or {}
        _mapping(phases, where, bad)
        for phase in phases:
            if phase not in PHASES:
                raise bad(f"{where}.{phase}", "unknown phase (use before or after)")
        stages[stage.lower()] = {phase: _hook_list(phases.get(phase), f"{where}.{phase}", default, bad)
                                 for phase in PHASES}
    on_alert = _hook_list(hooks.get("on_alert"), "hooks.on_alert", default, bad)
    return ProjectConfig(path=path, stage_hooks=stages, on_alert=on_alert,
                         columns=_columns(data.get("columns"), "metrics", bad),
                         param_columns=_columns(data.get("columns"), "params", bad),
                         watch=_watch(data.get("watch"), path.parent.parent, bad),
                         remotes=_remotes(data.get("remotes"), bad))


def check_remote(name: Any, url: Any) -> str | None:
    """Why ``name: url`` is not a usable remote (None when it is).

    A URL with a user or password in it is refused: credentials come only from MLflow's own
    environment variables and are never written to disk.
    """
    if not isinstance(name, str) or not REMOTE_NAME_RE.match(name):
        return "not a remote name (letters, digits, '_' or '-', starting with a letter)"
    host = url.split("://", 1)[1].split("/", 1)[0] if isinstance(url, str) and "://" in url else ""
    if not isinstance(url, str) or not url.startswith(REMOTE_SCHEMES) or not host or \
            any(c.isspace() or ord(c) < 32 for c in url):
        return "must be an http:// or https:// URL of an MLflow tracking server"
    if "@" in host:
        return ("must not hold credentials; set MLFLOW_TRACKING_TOKEN or "
                "MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD instead")
    return None


def _remotes(value: Any, bad) -> dict[str, str]:
    """``remotes: {name: url}``, every entry checked by :func:`check_remote`."""
    value = value or {}
    _mapping(value, "remotes", bad)
    out: dict[str, str] = {}
    for name, url in value.items():
        problem = check_remote(name, url)
        if problem:
            raise bad(f"remotes.{name}", problem)
        out[name] = url.rstrip("/")
    return out


def save_remote(catalog_path: Path, name: str, url: str) -> Path:
    """Add or replace one remote in the project config; returns the config's path.

    Only the ``remotes:`` block is rewritten (the rest of the file, comments included, is kept
    as it is); the file is validated before and after, and replaced atomically.
    """
    import os

    problem = check_remote(name, url)
    if problem:
        raise InvalidInput(f"remote {name!r}: {problem}")
    path = config_path(catalog_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot be read: {exc}") from None
    remotes = dict(parse_config(text, path).remotes)
    remotes[name] = url.rstrip("/")
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(r"^remotes\s*:", line)), None)
    if start is None:
        kept_before, kept_after = lines, []
    else:
        end = start + 1
        while end < len(lines) and (not lines[end].strip() or lines[end][:1] in (" ", "\t")):
            end += 1
        kept_before, kept_after = lines[:start], lines[end:]
    import json

    block = ["remotes:"] + [f"  {key}: {json.dumps(value)}" for key, value in remotes.items()]
    new_text = "\n".join(kept_before + block + kept_after) + "\n"
    parse_config(new_text, path)  # never write a config this mltui would refuse to read
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(new_text, encoding="utf-8")
    os.replace(temp, path)
    return path


def _watch(value: Any, project: Path, bad) -> WatchConfig | None:
    """``watch: {paths: [runs/], model: fraud, stall_after: 600}`` → :class:`WatchConfig`."""
    if value is None:
        return None
    _mapping(value, "watch", bad)
    for key in value:
        if key not in ("paths", "model", "stall_after"):
            raise bad(f"watch.{key}", "unknown key (known: paths, model, stall_after)")
    paths = value.get("paths")
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not paths or \
            not all(isinstance(p, str) and p.strip() for p in paths):
        raise bad("watch.paths", "must be a list of folders, e.g. paths: [runs/]")
    model = value.get("model")
    if model is not None and (not isinstance(model, str) or not MODEL_NAME_RE.match(model)):
        raise bad("watch.model", "not a model name (letters, digits, '_', '.', '-')")
    stall_after = DEFAULT_STALL_AFTER
    if "stall_after" in value:
        stall_after = _timeout(value["stall_after"], "watch.stall_after", bad)
    return WatchConfig(tuple(project / Path(p).expanduser() for p in paths), model, stall_after)


def _columns(value: Any, kind: str, bad) -> dict[str, tuple[str, ...]]:
    """``columns: {model: {metrics: [key, ...], params: [key, ...]}}`` → ``{model: (key, ...)}``
    for one ``kind`` (models that list metrics only have no params entry)."""
    value = value or {}
    _mapping(value, "columns", bad)
    out: dict[str, tuple[str, ...]] = {}
    for model, spec in value.items():
        where = f"columns.{model}"
        spec = spec or {}
        _mapping(spec, where, bad)
        for key in spec:
            if key not in ("metrics", "params"):
                raise bad(f"{where}.{key}", "unknown key (known: metrics, params)")
        if kind not in spec and kind == "params":
            continue
        keys = spec.get(kind) or []
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise bad(f"{where}.{kind}", f"must be a list of {kind[:-1]} names")
        out[str(model)] = tuple(keys)
    return out


def _mapping(value: Any, key: str, bad) -> None:
    if not isinstance(value, dict):
        raise bad(key, f"must be a mapping, not {type(value).__name__}")


def _timeout(value: Any, key: str, bad) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value <= 0:
        raise bad(key, "must be a positive number of seconds")
    return float(value)


def _hook_list(value: Any, key: str, default: float, bad) -> tuple[Hook, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise bad(key, "must be a list of hooks")
    hooks = []
    for index, item in enumerate(value):
        where = f"{key}[{index}]"
        timeout = default
        if isinstance(item, dict):
            for k in item:
                if k not in ("command", "timeout"):
                    raise bad(f"{where}.{k}", "unknown key (known: command, timeout)")
            if "command" not in item:
                raise bad(f"{where}.command", "missing")
            if "timeout" in item:
                timeout = _timeout(item["timeout"], f"{where}.timeout", bad)
            item, where = item["command"], f"{where}.command"
        hooks.append(Hook(_argv(item, where, bad), timeout, where))
    return tuple(hooks)


def _argv(value: Any, key: str, bad) -> tuple[str, ...]:
    """A command as argv: a list of strings, or a string split with shell quoting rules.

    Splitting the config author's own string is safe: it happens once, here, and the result
    is run without a shell, so nothing in it (nor in any user text) is ever interpreted.
    """
    if isinstance(value, str):
        import shlex  # with the hooks section only, not when the start reads the watch block

        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise bad(key, f"cannot split the command: {exc}") from None
    elif isinstance(value, list) and all(isinstance(a, (str, int, float)) and not isinstance(a, bool)
                                         for a in value):
        argv = [str(a) for a in value]
    else:
        raise bad(key, "a command is a list of strings or one string")
    if not argv or not argv[0]:
        raise bad(key, "empty command")
    if any("\x00" in a for a in argv):
        raise bad(key, "holds a NUL character")
    return tuple(argv)
