"""``mltui demo``: build the sample project's catalog once, outside the repository, and reuse it.

The catalog lives in ``$MLTUI_DEMO_HOME`` (default ``~/.cache/mltui/demo``).  It is rebuilt only
when the sample project changed (a hash of its scripts and data) or on ``--rebuild``.  The build
happens in place (the catalog records absolute paths of the logs and data it imported, which
``verify`` checks) and the marker is written last, so an interrupted build is simply redone.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
from pathlib import Path
from typing import Callable

from .core.errors import NotFound


def sample_project_dir() -> Path:
    """The sample project folder: next to the package in a checkout, else in the cwd."""
    for candidate in (Path(__file__).resolve().parents[1] / "sample_project",
                      Path.cwd() / "sample_project"):
        if (candidate / "build_demo.py").is_file():
            return candidate
    raise NotFound("the sample project (sample_project/build_demo.py) was not found",
                   hint="run `mltui demo` from the mltui repository, installed with pip install -e .")


def demo_home() -> Path:
    """Where the demo catalog is kept (never inside the repository)."""
    if os.environ.get("MLTUI_DEMO_HOME"):
        return Path(os.environ["MLTUI_DEMO_HOME"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "mltui" / "demo"


def _fingerprint(project: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(project.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(project).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_demo_catalog(*, rebuild: bool = False, progress: Callable[[str], None] = print) -> Path:
    """The demo catalog's path, building it first when missing, stale or ``rebuild``."""
    project = sample_project_dir()
    home = demo_home()
    catalog = home / ".mltui" / "catalog.db"
    marker = home / "demo.json"
    stamp = _fingerprint(project)
    if not rebuild and catalog.is_file() and marker.is_file():
        try:
            if json.loads(marker.read_text()).get("fingerprint") == stamp:
                return catalog
        except (OSError, ValueError):
            pass
    progress(f"building the demo catalog in {home} (once; a few seconds)…")
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    spec = importlib.util.spec_from_file_location("mltui_sample_build_demo",
                                                  project / "build_demo.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    module.build(home, progress=progress)
    marker.write_text(json.dumps({"fingerprint": stamp}))
    return catalog
