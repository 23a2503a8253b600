"""Where the project config is and whether it could hold a section: no parser, no dataclasses.

The app asks at every start whether ``.mltui/config.yaml`` has a ``watch:`` block and a
``columns:`` choice for the model shown.  Most configs hold neither (the demo's holds a hook),
so the answer comes from the file's text alone and ``core/config.py`` — its dataclasses,
validators and the YAML parser — is imported only when a section may be there.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InvalidInput

if TYPE_CHECKING:  # pragma: no cover
    from .config import ProjectConfig

CONFIG_FILE = "config.yaml"
# A double-quoted YAML escape that can make a letter: hex codes, or an escaped line break
# (YAML 1.1 line breaks include NEL, LS and PS).
LETTER_ESCAPE = re.compile(r"\\[xuU\r\n\x85\u2028\u2029]")


def config_path(catalog_path: Path) -> Path:
    """``.mltui/config.yaml`` beside the catalog file."""
    return Path(catalog_path).parent / CONFIG_FILE


def read_config_text(path: Path) -> str | None:
    """The config file's text; None when there is none."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot be read: {exc}") from None


def may_hold(text: str, sections: tuple[str, ...]) -> bool:
    """Whether YAML ``text`` could have a top-level key named one of ``sections``.

    False only when no name appears in it and no escape could spell one: in a double-quoted
    scalar, ``\\x``, ``\\u`` and ``\\U`` make any letter (``"\\x63olumns"``) and a backslash
    before a line break joins two lines; YAML's other escapes (``\\"``, ``\\n``, ...) make
    no letter, so a hook's quoted command does not count.
    """
    return any(name in text for name in sections) or LETTER_ESCAPE.search(text) is not None


def load_sections(catalog_path: Path, sections: tuple[str, ...]) -> "ProjectConfig | None":
    """The catalog's project config, read once and parsed, when its text could hold one of
    ``sections``; None when there is no file or it cannot — then ``core/config.py`` (its
    validators and the YAML parser) is not even imported.  An unreadable or invalid file
    raises ``InvalidInput`` as ``load_config`` does."""
    path = config_path(catalog_path)
    text = read_config_text(path)
    if text is None or not may_hold(text, sections):
        return None
    from .config import parse_config  # here: config.py imports this module

    return parse_config(text, path)
