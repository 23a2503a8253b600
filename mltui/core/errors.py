"""Typed errors raised by the core.

The command line maps each to one readable line and an exit code; the app maps each to a
notification.  Nothing in the core prints or exits.
"""

from __future__ import annotations


class MltuiError(Exception):
    """Base of every error the core raises on purpose.

    ``exit_code`` is what the command line exits with: 2 for bad input or usage, 1 for a check
    or gate that failed.
    """

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The error as one line: what went wrong and, when known, how to fix it."""
        text = " ".join(self.message.split())
        if self.hint:
            text = f"{text}; {' '.join(self.hint.split())}"
        return text


class InvalidInput(MltuiError):
    """Malformed input: a bad filter, a bad file, a bad argument."""


class NotFound(MltuiError):
    """An unknown reference, model, stage, run, dataset or catalog."""

    def __init__(self, message: str, *, hint: str | None = None, candidates: list[str] | None = None):
        super().__init__(message, hint=hint)
        self.candidates = list(candidates or [])


class Conflict(MltuiError):
    """A write that would overwrite someone else's change (e.g. a doc revision that moved on)."""

    def __init__(self, message: str, *, hint: str | None = None, current_rev: int | None = None,
                 current_text: str | None = None):
        super().__init__(message, hint=hint)
        self.current_rev = current_rev
        self.current_text = current_text


class CatalogLocked(MltuiError):
    """Another process held the catalog's write lock for longer than the busy timeout."""


class GateFailed(MltuiError):
    """A quality gate failed; the promotion was refused and nothing was written."""

    exit_code = 1

    def __init__(self, message: str, *, results: list | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.results = list(results or [])


class ImportFailed(InvalidInput):
    """A run log could not be read; names the file, line and field."""

    def __init__(self, path: str, message: str, *, line: int | None = None, field: str | None = None,
                 hint: str | None = None):
        where = str(path)
        if line is not None:
            where += f":{line}"
        if field:
            where += f" (field {field!r})"
        super().__init__(f"{where}: {message}", hint=hint)
        self.path = str(path)
        self.line = line
        self.field = field
        self.reason = message


class CatalogUnreadable(InvalidInput):
    """The catalog file cannot be used as it is: empty, not a catalog, or damaged.

    Raised with a message that says which, so the advice fits: only a damaged file is a reason
    to reach for a backup.
    """


class StorageError(MltuiError):
    """The operating system refused the write or the read: disk full, permission denied,
    read-only file or file system.  The catalog itself is intact."""


class QueryTooLarge(InvalidInput):
    """User input (a filter, a reference prefix) exceeds one of SQLite's limits."""


class HistoryBroken(MltuiError):
    """The audit trail's hash chain does not hold: a row was rewritten, removed or inserted."""

    exit_code = 1


class RemoteFailed(MltuiError):
    """An MLflow tracking server was unreachable, refused a request or answered with an error.

    Raised before anything is written (a pull writes all or nothing; a write-through is
    checked and applied before the local change commits), so the catalog is unchanged.
    """
