"""Every key binding of the app, the user's keymap checked against them, and the key table.

Bindings carry ids (``browse.promote``) so that ``keymap:`` in the config can rebind them.  This
module is the one place that knows all of them: the app validates the user's keymap here before
it applies it (an unknown id, an unknown key name, or two actions on one key of one screen is a
notice naming the config line and the nearest valid id, never a crash), ``mltui keys`` prints
the effective keymap, and the README's key table is generated from it, so a test can hold the
three to the same truth.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.binding import Binding
from textual.keys import Keys

_MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
_NAMED_KEYS = {key.value for key in Keys} | {"enter", "tab", "space", "backspace", "delete",
                                             "escape", "home", "end", "pageup", "pagedown",
                                             "insert"} | {f"f{n}" for n in range(1, 25)}


@dataclass(frozen=True)
class BindingInfo:
    """One binding with an id: where it lives, its default keys and what it does."""

    id: str
    owner: str  # the screen or widget class that declares it
    keys: str  # comma-separated default keys
    action: str
    description: str
    show: bool


@dataclass(frozen=True)
class KeymapProblem:
    """One entry of the user's keymap that was not applied, and why."""

    line: int | None
    message: str

    def one_line(self, path: Path | str) -> str:
        """``config.yaml:12: …`` — what a notice shows."""
        where = f"{path}:{self.line}" if self.line else str(path)
        return f"{where}: {self.message}"


def _classes_with_bindings() -> list[type]:
    """Every class in ``mltui.tui`` that declares BINDINGS (imported here, once)."""
    from . import screens, widgets

    found: list[type] = []
    modules = [importlib.import_module(f"{__package__}.app")]
    for package in (screens, widgets):
        for info in pkgutil.iter_modules(package.__path__):
            modules.append(importlib.import_module(f"{package.__name__}.{info.name}"))
    for module in modules:
        for value in vars(module).values():
            if (isinstance(value, type) and value.__module__ == module.__name__
                    and "BINDINGS" in vars(value)):
                found.append(value)
    return found


def all_bindings() -> dict[str, BindingInfo]:
    """Binding id → its information, for every binding with an id in the app."""
    result: dict[str, BindingInfo] = {}
    for cls in _classes_with_bindings():
        for binding in vars(cls)["BINDINGS"]:
            if isinstance(binding, Binding) and binding.id:
                result[binding.id] = BindingInfo(binding.id, cls.__name__, binding.key,
                                                 binding.action, binding.description or "",
                                                 binding.show)
    return result


def is_key_name(key: str) -> bool:
    """True for a key Textual can bind: ``p``, ``P``, ``ctrl+s``, ``f5``, ``question_mark``."""
    *mods, base = key.strip().split("+")
    if not base or any(m not in _MODIFIERS for m in mods):
        return False
    if len(base) == 1 and base.isprintable():
        return True
    if base in _NAMED_KEYS:
        return True
    try:
        unicodedata.lookup(base.replace("_", " ").upper())
    except KeyError:
        return False
    return True


def _split_keys(keys: str) -> list[str]:
    return [k.strip() for k in keys.split(",") if k.strip()]


def validate_keymap(keymap: dict[str, Any], lines: dict[str, int] | None = None
                    ) -> tuple[dict[str, str], list[KeymapProblem]]:
    """The entries that can be applied, and a problem for each that cannot.

    ``lines`` maps a binding id to its line in the config file, for the notice.
    """
    lines = lines or {}
    bindings = all_bindings()
    good: dict[str, str] = {}
    problems: list[KeymapProblem] = []
    for binding_id, keys in keymap.items():
        line = lines.get(str(binding_id))
        if binding_id not in bindings:
            near = difflib.get_close_matches(str(binding_id), list(bindings), n=1, cutoff=0.5)
            hint = f"; did you mean {near[0]}?" if near else "; `mltui keys` lists them"
            problems.append(KeymapProblem(line, f"unknown binding id {binding_id!r}{hint}"))
            continue
        if not isinstance(keys, str) or not _split_keys(keys):
            problems.append(KeymapProblem(line, f"{binding_id}: give keys as text, e.g. "
                                                f"{binding_id}: {bindings[binding_id].keys}"))
            continue
        bad = [k for k in _split_keys(keys) if not is_key_name(k)]
        if bad:
            problems.append(KeymapProblem(line, f"{binding_id}: unknown key name {bad[0]!r} "
                                                "(use e.g. p, P, ctrl+s, f5, question_mark)"))
            continue
        good[binding_id] = keys
    # Two actions on one key in one screen: the later entry of the config loses.
    taken: dict[tuple[str, str], str] = {}
    for binding_id, info in bindings.items():
        if binding_id not in good:
            for key in _split_keys(info.keys):
                taken.setdefault((info.owner, key), binding_id)
    for binding_id in list(good):
        info = bindings[binding_id]
        for key in _split_keys(good[binding_id]):
            other = taken.get((info.owner, key))
            if other is not None and other != binding_id:
                problems.append(KeymapProblem(
                    lines.get(binding_id), f"{binding_id}: {key!r} already does {other} on "
                                           f"{info.owner}; choose another key"))
                del good[binding_id]
                break
        else:
            for key in _split_keys(good[binding_id]):
                taken[(info.owner, key)] = binding_id
    return good, problems


def load_keymap(path: Path) -> tuple[dict[str, str], list[str]]:
    """The applicable ``keymap:`` entries of the config file, and one notice per problem.

    A broken config never stops the app: what cannot be applied keeps its default key.
    """
    if not path.is_file():
        return {}, []
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
        root = yaml.compose(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return {}, [f"{path}: not read ({type(exc).__name__}); using the default keys"]
    keymap = data.get("keymap") if isinstance(data, dict) else None
    if keymap is None:
        return {}, []
    if not isinstance(keymap, dict):
        return {}, [f"{path}: keymap must map binding ids to keys, e.g. browse.promote: P"]
    lines: dict[str, int] = {}
    if isinstance(root, yaml.MappingNode):
        for key_node, value_node in root.value:
            if key_node.value == "keymap" and isinstance(value_node, yaml.MappingNode):
                lines = {k.value: k.start_mark.line + 1 for k, _ in value_node.value}
    good, problems = validate_keymap(keymap, lines)
    return good, [problem.one_line(path) for problem in problems]


def effective_keymap(keymap: dict[str, str] | None = None) -> list[dict[str, str]]:
    """Every binding with the keys in force (the user's where given), in screen order."""
    keymap = keymap or {}
    rows = []
    # Grouped by screen (the id's prefix), in the order the screen declares its keys.
    for info in sorted(all_bindings().values(), key=lambda b: b.id.split(".")[0]):
        rows.append({"id": info.id, "screen": info.owner, "keys": keymap.get(info.id, info.keys),
                     "default": info.keys, "action": info.description or info.action})
    return rows


def display_key(key: str) -> str:
    """A key as people read it: ``?`` for question_mark, ``esc``, ``pgdn``; ``enter`` stays."""
    from textual.keys import format_key

    return key if key == "enter" else format_key(key)


def markdown_table(keymap: dict[str, str] | None = None) -> str:
    """The README's key table, one row per screen (``python -m mltui.tui.keymap``)."""
    screens: dict[str, list[str]] = {}
    for row in effective_keymap(keymap):
        keys = "/".join(f"`{display_key(k)}`" for k in _split_keys(row["keys"]))
        screens.setdefault(row["id"].split(".")[0], []).append(f"{keys} {row['action'].lower()}")
    out = ["| screen | keys (binding ids: `mltui keys`) |", "|---|---|"]
    out += [f"| {name} | {' · '.join(items)} |" for name, items in screens.items()]
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover - regenerates the README's table
    print(markdown_table(), end="")
