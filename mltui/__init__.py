"""mltui: version, compare, document, promote and roll back ML models from the terminal.

The public API for training scripts and CI::

    import mltui
    with mltui.open_catalog() as cat:
        run = cat.log_run(name="baseline", params={"lr": 0.01}, metrics={"f1": 0.91})
        cat.register("fraud", run=run)

Importing this package loads no Textual and opens no database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["open_catalog", "Catalog", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from .core.catalog import Catalog, open_catalog


def __getattr__(name: str) -> Any:
    # Resolved lazily so that `import mltui` stays cheap for the CLI's fast paths.
    if name in ("open_catalog", "Catalog"):
        from .core import catalog

        return getattr(catalog, name)
    raise AttributeError(f"module 'mltui' has no attribute {name!r}")
