"""The model card (``README.md``) that the Hugging Face ``Trainer`` generates (FORMATS.md §1.1):
YAML front-matter (``base_model``, ``datasets``) and a "Training hyperparameters" list."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..core.errors import ImportFailed
from .common import ImportContext, load_yaml, read_text


class ModelCard:
    """What the generated README.md says: front-matter fields and the hyperparameter list."""

    def __init__(self, front: dict, params: dict[str, str]):
        self.front = front
        self.params = params

    @property
    def datasets(self) -> list[str]:
        """Dataset names from the front-matter ``datasets:`` (a list or one string)."""
        return _names(self.front.get("datasets"))

    @property
    def base_model(self) -> str | None:
        """The front-matter ``base_model`` (the first one when it is a list)."""
        names = _names(self.front.get("base_model"))
        return names[0] if names else None


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [str(item) for item in value if isinstance(item, (str, int, float)) and str(item).strip()]
    return []


_HYPER_HEADING = re.compile(r"^#+\s*Training hyperparameters\s*$", re.IGNORECASE)
_HYPER_ITEM = re.compile(r"^\s*[-*]\s+([A-Za-z0-9_.\- ]+?)\s*:\s*(.*?)\s*$")


def read_model_card(path: Path, ctx: ImportContext) -> ModelCard | None:
    """Parse README.md's YAML front-matter and its "Training hyperparameters" list."""
    file = path / "README.md"
    if not file.is_file():
        return None
    text = read_text(file)
    front: dict = {}
    lines = text.split("\n")
    body_start = 0
    if lines and lines[0].strip() == "---":
        for index in range(1, len(lines)):
            if lines[index].strip() == "---":
                block = "\n".join(lines[1:index])
                try:
                    loaded = load_yaml(file, block)
                except ImportFailed as exc:
                    # Line numbers of the block are off by the opening '---'.
                    raise ImportFailed(str(file), f"model card front-matter: {exc.reason}",
                                       line=(exc.line + 1) if exc.line else None) from None
                if isinstance(loaded, dict):
                    front = loaded
                body_start = index + 1
                break
    params: dict[str, str] = {}
    in_list = False
    for line in lines[body_start:]:
        if _HYPER_HEADING.match(line.strip()):
            in_list = True
            continue
        if in_list:
            if line.lstrip().startswith("#"):
                break
            match = _HYPER_ITEM.match(line)
            if match:
                params[match.group(1).strip()] = match.group(2)
    if not front and not params:
        ctx.warn(f"{file}: not a Trainer model card (no front-matter, no hyperparameters)")
    return ModelCard(front, params)
