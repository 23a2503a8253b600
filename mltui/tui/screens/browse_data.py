"""What Browse shows, read in one catalog call: the model list and a model's first page.

Each ``await`` of a database thread costs the UI a turn of its event loop, and while the first
frame is being mounted and painted a turn is tens of milliseconds: reading models, alerts,
columns, key metrics, the first ids and their rows one call at a time put six such turns
between the screen's mount and its first row.  These functions read them in one call on a
database thread.  The app also starts that call before Textual has mounted anything
(``MltuiApp(prefetch=True)``, the CLI's start), so the first frame can carry the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...core.errors import MltuiError
from ..columns import configured_columns

if TYPE_CHECKING:  # pragma: no cover
    from ...core.catalog import Catalog

FIRST_PAGE = 200  # ids read before the first paint; the rest follow
ROWS_AHEAD = 200  # rows read with them: the grid's own page (widgets.grid.PAGE)
ALL = "*"  # the "all versions" entry of the model list ('*' is never a model name)


@dataclass
class VersionPage:
    """A model's (or every model's) metric columns, first ids, and the rows of the first ids."""

    keys: list[str]
    first: list[int]
    rows: list[dict[str, Any]]
    column_error: MltuiError | None = None  # an invalid config file: reported, then ignored
    params: list[str] = field(default_factory=list)  # chosen param columns (``lr``)

    @property
    def partial(self) -> bool:
        """More ids than the first page: the rest are read after the first paint."""
        return len(self.first) == FIRST_PAGE


@dataclass
class BrowseData:
    """The model list, which entry is chosen, and the chosen entry's first page."""

    models: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    choice: str | None  # a model name or ALL; None when the catalog has no model
    page: VersionPage | None = None


def version_page(catalog: "Catalog", model: str | None, filter_text: str | None = None,
                 sort_text: str | None = None) -> VersionPage:
    """Columns, first ids and their rows for ``model`` (None: every model). Database thread."""
    errors: list[MltuiError] = []
    keys, params = configured_columns(catalog.path, model,
                                      lambda _report, exc: errors.append(exc),
                                      None) if model else (None, [])  # type: ignore[arg-type]
    if keys is None:
        keys = catalog.listing_metric_keys(model)
    first = catalog.version_ids(model=model, filter=filter_text or None, sort=sort_text or None,
                                limit=FIRST_PAGE)
    rows = catalog.versions(first[:ROWS_AHEAD], metric_keys=keys, param_keys=params) \
        if first else []
    return VersionPage(keys, first, rows, errors[0] if errors else None, params)


def browse_data(catalog: "Catalog", wanted: str | None, filter_text: str = "",
                sort_text: str = "") -> BrowseData:
    """Models, active alerts and the first page of ``wanted`` (else the first model).

    One call on a database thread: everything Browse needs before its first row.
    """
    models = catalog.models()
    alerts = catalog.alerts(active=True)
    if not models:
        return BrowseData(models, alerts, None)
    names = [ALL] + [m["name"] for m in models]
    choice = wanted if wanted in names else names[1]
    page = version_page(catalog, None if choice == ALL else choice, filter_text, sort_text)
    return BrowseData(models, alerts, choice, page)
