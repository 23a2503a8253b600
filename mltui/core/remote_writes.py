"""What a pull saw on a tracking server, and the writes a synced change hands to the server.

The dataclasses of ``core/remote.py``'s mixin, apart so they load at the first pull or synced
change (``mltui.services.remote`` builds and applies them), not with the Catalog class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The version tag mltui writes on the server for each stage it moves there: the history
# entry as JSON, so other machines' pulls can show who moved it and why.
STAGE_TAG_PREFIX = "mltui.stage."
# The version tag an archive writes on the server (the archive event as JSON); an unarchive
# deletes it.  MLflow has no archived state of its own for a version.
ARCHIVED_TAG = "mltui.archived"


@dataclass
class ServerModel:
    """A registered model as the server lists it: its update time and its aliases."""

    name: str
    updated_ms: int | None
    aliases: dict[str, int]
    # alias -> the mltui history note (``mltui.stage.<alias>`` tag) on the version it points at
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class PullState:
    """What a pull saw on the server besides the records it writes."""

    remote: str
    url: str
    runs_watermark: int | None
    experiments: dict[str, str]
    models: list[ServerModel]


@dataclass
class StageWrite:
    """One stage change to apply to the server as an alias move (for ``write_through``)."""

    remote: str
    server_name: str
    alias: str
    expected: int | None  # the server version the alias held at the last pull (None: unset)
    new: int | None  # the server version it must hold now (None: delete the alias)
    note: dict[str, Any]  # the history entry: id, action, reason, actor, gates


@dataclass
class DocWrite:
    """A version's new documentation, to become its description on the server."""

    remote: str
    server_name: str
    server_version: int
    text: str


@dataclass
class ArchiveWrite:
    """A version archived (or unarchived) here, to be tagged (or untagged) on the server."""

    remote: str
    server_name: str
    server_version: int
    archived: bool
    # the aliases on that version as of the last pull: if the server's differ, someone moved
    # a stage onto or off it since, and the archive is refused (``mltui pull`` first)
    expected_aliases: list[str]
    note: dict[str, Any]  # the archive event: id, action, reason, actor, at


@dataclass
class RegisterWrite:
    """A version registered here from a run the server has: ``create_model_version`` there.

    ``write_through`` returns ``(server version number, source uid)`` for it: the uid is the
    one a later pull computes for that server version, so the pull finds it already here.
    """

    remote: str
    server_name: str
    run_uid: str
    source: str  # runs:/<run id>/<path>: an artifact the server can reach
    tags: dict[str, str]
