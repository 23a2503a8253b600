"""Talking to an MLflow tracking server: the client, its errors, paged searches.

MLflow is imported here, inside functions, and only when a command talks to a server: the
command line's start-up does not pay for it (tests/cli/test_import_budget.py).  Credentials
come only from MLflow's own environment variables (``MLFLOW_TRACKING_TOKEN``,
``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD``, ``MLFLOW_TRACKING_INSECURE_TLS``),
which MLflow reads itself; mltui never stores them.  Every failure becomes one
:class:`RemoteFailed` line.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from ..core.errors import RemoteFailed

# MLflow retries a failed request 7 times with exponential backoff (minutes against a server
# that is down); a terminal user wants to know in seconds.  The user's own settings win.
_HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
                  "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}
PAGE = 1000  # the largest page MLflow's search endpoints serve
HISTORY_THREADS = 4  # metric histories are one request per (run, key): a few in flight


def client(url: str) -> Any:
    """An ``MlflowClient`` for the server at ``url`` (tracking and registry)."""
    for key, value in _HTTP_DEFAULTS.items():
        os.environ.setdefault(key, value)
    try:
        from mlflow import MlflowClient
    except ImportError:
        raise RemoteFailed("talking to an MLflow server needs the MLflow client",
                           hint='pip install "mltui[mlflow]"') from None
    return MlflowClient(tracking_uri=url, registry_uri=url)


@contextmanager
def talking_to(remote: str, url: str, doing: str) -> Iterator[None]:
    """Turn whatever the MLflow client raises while ``doing`` into one RemoteFailed line."""
    try:
        yield
    except RemoteFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - the client raises many kinds; each is one line
        raise RemoteFailed(f"remote {remote!r} ({url}): {doing}: {describe(exc)}",
                           hint=_hint(exc)) from None


def http_status(exc: BaseException) -> int | None:
    """The HTTP status an MLflow client error carries, when it carries one."""
    status = getattr(exc, "get_http_status_code", None)
    try:
        return int(status()) if callable(status) else None
    except (TypeError, ValueError):
        return None


def error_code(exc: BaseException) -> str:
    """MLflow's error code (``RESOURCE_DOES_NOT_EXIST`` ...) or the exception's class name."""
    return str(getattr(exc, "error_code", "") or type(exc).__name__)


def describe(exc: BaseException) -> str:
    """A short reason: the first line of the client's message, without the response dump."""
    code = error_code(exc)
    full = str(getattr(exc, "message", None) or exc)
    text = full.strip().splitlines()
    first = text[0] if text else code
    for marker in (" Response body", "(Caused by", "with exception"):
        if marker in first and len(first) > 160:
            first = first[:first.index(marker)].rstrip(" .:")
    if "timed out" in full.lower() or "Timeout" in code:
        return "timed out"
    if "Max retries exceeded" in full or "Connection refused" in full \
            or "NewConnectionError" in full or "ConnectionError" in code:
        return "cannot connect (server down or wrong URL)"
    status = http_status(exc)
    if status in (401, 403) or code in ("UNAUTHENTICATED", "PERMISSION_DENIED") \
            or " 401 " in first or " 403 " in first:
        return f"access refused ({status or code})"
    return (first[:200] + "…") if len(first) > 200 else first


def _hint(exc: BaseException) -> str:
    reason = describe(exc)
    if reason.startswith("access refused"):
        return ("set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and "
                "MLFLOW_TRACKING_PASSWORD; nothing was changed")
    if reason.startswith("cannot connect") or reason == "timed out":
        return "check the URL (mltui remote ls) and that the server runs; nothing was changed"
    return "nothing was changed"


def paged(search: Callable[..., Any], **kwargs: Any) -> list[Any]:
    """Every item of an MLflow paged search (``search_runs``, ``search_model_versions`` ...)."""
    items: list[Any] = []
    token = None
    while True:
        page = search(max_results=PAGE, page_token=token, **kwargs)
        items.extend(page)
        token = getattr(page, "token", None)
        if not token:
            return items


def histories(mlflow: Any, wanted: list[tuple[str, str]],
              on_done: Callable[[], None] | None = None) -> dict[tuple[str, str], list[Any]]:
    """The full history of each (run id, metric key), a few requests in flight."""

    def one(item: tuple[str, str]) -> tuple[tuple[str, str], list[Any]]:
        found = mlflow.get_metric_history(*item)
        if on_done:
            on_done()
        return item, list(found)

    if not wanted:
        return {}
    with ThreadPoolExecutor(max_workers=HISTORY_THREADS) as pool:
        return dict(pool.map(one, wanted))
