"""Which metric and param columns the versions table shows per model, in the project config.

``C`` in browse picks them; they are written to ``.mltui/config.yaml`` next to the catalog
(``columns: {model: {metrics: [...], params: [...]}}``) and read on the next open.  Only the ``columns:``
block of that file is rewritten: every other line (``hooks:``, comments) stays byte for byte.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable

from ..core.config_file import config_path, load_sections
from ..core.errors import MltuiError

_TOP_LEVEL = re.compile(r"^\S")  # a top-level key or comment: the block ends there
_COLUMNS_KEY = re.compile(r"^columns\s*:")


def configured_columns(catalog_path: Path | None, model: str, call: Callable[..., Any],
                       report: Callable[[MltuiError], None]) -> tuple[list[str] | None, list[str]]:
    """The metric columns chosen for ``model`` (None when none were chosen) and its param
    columns (``lr`` for ``params.lr``; none unless chosen).

    Runs on a database thread: an invalid config file is reported with ``call(report, error)``
    (``app.call_from_thread``) and ignored, so the table still opens with its key metrics.
    """
    if catalog_path is None:
        return None, []
    try:
        config = load_sections(Path(catalog_path), ("columns",))
    except MltuiError as exc:
        call(report, exc)
        return None, []
    if config is None:
        return None, []  # no columns chosen (and the config's validators not imported)
    metrics = list(config.columns[model]) if model in config.columns else None
    return metrics, list(config.param_columns.get(model, ()))


def save_columns(catalog_path: Path, model: str, metrics: list[str],
                 params: list[str] | None = None) -> Path:
    """Write ``model``'s metric (and param) columns into the config file; returns its path.

    The file is validated first (an invalid one is never rewritten) and replaced atomically.
    """
    import yaml

    from ..core.config import load_config

    config = load_config(Path(catalog_path))  # raises on an invalid file: nothing is written
    columns: dict[str, dict[str, list[str]]] = {}
    for name, keys in config.columns.items():
        columns[name] = {"metrics": list(keys)}
        if config.param_columns.get(name):
            columns[name]["params"] = list(config.param_columns[name])
    columns[model] = {"metrics": list(metrics)}
    if params:
        columns[model]["params"] = list(params)
    block = yaml.safe_dump({"columns": columns}, sort_keys=False, allow_unicode=True)
    path = config_path(Path(catalog_path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(_replace_block(text, block), encoding="utf-8")
    os.replace(tmp, path)
    return path


def _replace_block(text: str, block: str) -> str:
    """``text`` with its top-level ``columns:`` block replaced by ``block`` (or appended)."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _COLUMNS_KEY.match(line)), None)
    if start is None:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        return "".join(lines) + block
    end = next((i for i in range(start + 1, len(lines)) if _TOP_LEVEL.match(lines[i])),
               len(lines))
    return "".join(lines[:start]) + block + "".join(lines[end:])
