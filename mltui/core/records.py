"""Plain records: what importers produce and what the catalog writes.

Importers know nothing of SQLite; they yield these dataclasses and the catalog writes a whole
batch in one transaction.  Every field that a source may lack is optional.  An import's
``ImportSummary`` (what it wrote, skipped or merged) is here too: this module loads with the
first import, not with the Catalog class at every start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class MetricPoint:
    """One logged value of one metric.

    ``value`` is a finite float or None; ``raw`` keeps the source text when the value was NaN,
    Infinity or otherwise not a finite number.  ``seq`` is the order in the source; it breaks
    ties between points that share a step (resumed or appended logs).
    """

    key: str
    value: float | None
    step: int | None = None
    epoch: float | None = None
    axis: str = "step"
    wall_time: float | None = None
    raw: str | None = None
    seq: int = 0


@dataclass(slots=True)
class MetricColumns:
    """One metric's points as parallel columns, in log order.

    A fast path for readers that parse whole files at once (MLflow metric files): the catalog
    packs the columns as they are instead of going point by point.  ``raws`` maps a position
    to the raw text of a value that was not a finite number (its value is None there).
    ``steps`` may be a ``range`` (MLflow's 0, 1, 2 ...: stored as a progression without a look
    at each step); whoever reads it must not assume a list.
    """

    key: str
    values: list[float | None]
    steps: list[int | None] | range
    wall_times: list[float | None] | None = None
    raws: dict[int, str] | None = None
    axis: str = "step"
    epochs: list[float | None] | None = None

    def points(self) -> list[MetricPoint]:
        """The same points as MetricPoint records (``seq`` is the position)."""
        walls = self.wall_times or [None] * len(self.values)
        epochs = self.epochs or [None] * len(self.values)
        raws = self.raws or {}
        return [MetricPoint(self.key, value, step, epoch, self.axis, wall, raws.get(index), index)
                for index, (value, step, epoch, wall)
                in enumerate(zip(self.values, self.steps, epochs, walls))]


@dataclass(slots=True)
class DatasetRecord:
    """A dataset at one content state, as a log or the user names it.

    ``hash_algo`` is one of ``sha256``, ``sha256-dir``, ``md5``, ``md5-dos2unix``, ``md5.dir``,
    ``sha256-lfs``, ``etag``, ``mlflow-digest``; hashes compare only within one algorithm.
    ``uri_raw`` is the path or URI exactly as the source wrote it; ``path`` is where it was
    resolved on this machine (None when it could not be).
    """

    name: str
    hash_algo: str | None = None
    hash: str | None = None
    uri_raw: str | None = None
    path: str | None = None
    size: int | None = None
    file_count: int | None = None
    row_count: int | None = None
    columns: list[str] | None = None
    derived_from: list["DatasetRecord"] = field(default_factory=list)
    # "output" (produced by the run), else how the run consumed it: "input", or the source's
    # own context such as MLflow's "training" / "evaluation" (the lineage edge's role).
    role: str = "input"


@dataclass(slots=True)
class ArtifactRecord:
    """A model file or directory a run produced.

    ``base_model`` names what it was fine-tuned from (a hub id, a path or a URL), when known.
    """

    path_raw: str
    path: str | None = None
    hash_algo: str | None = None
    hash: str | None = None
    size: int | None = None
    kind: str = "model"  # "model", "checkpoint", "best"
    base_model: str | None = None
    name: str | None = None


@dataclass(slots=True)
class RunRecord:
    """One training run, as read from a log.

    ``uid`` is stable across re-imports: the source's own id when it has one (an MLflow run id),
    else a hash of the source kind and the resolved path.  ``fingerprint`` changes when the log
    changes (grew, was resumed), so an unchanged log is skipped and a grown one is re-read.
    """

    uid: str
    source_format: str
    source_path: str
    name: str | None = None
    project: str | None = None
    status: str | None = None
    start_time: float | None = None
    end_time: float | None = None
    user: str | None = None
    host: str | None = None
    git_commit: str | None = None
    git_commit_inferred: bool = False  # not in the log: its work tree's HEAD, see services/git
    git_branch: str | None = None
    git_dirty: bool | None = None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    metrics: list[MetricPoint] = field(default_factory=list)
    metric_columns: list[MetricColumns] = field(default_factory=list)  # fast path, see above
    datasets: list[DatasetRecord] = field(default_factory=list)
    artifacts: list[ArtifactRecord] = field(default_factory=list)
    fingerprint: str | None = None
    warnings: list[str] = field(default_factory=list)
    # Set when ``metrics`` are only the points of bytes appended to a log: the fingerprint the
    # catalog's run must still hold for them to be appended (core/series_append.py).
    appends_to: str | None = None
    # With appends_to: the format keeps a point that exactly repeats an earlier one (TensorBoard's
    # reader does), so an appended point is never dropped as a repeat of a stored one.
    keeps_repeats: bool = False

    def all_points(self) -> list[MetricPoint]:
        """Every point of the run, whether read point by point or as columns."""
        points = list(self.metrics)
        for columns in self.metric_columns:
            points.extend(columns.points())
        return points


@dataclass(slots=True)
class RegistryVersionRecord:
    """A registered model version from a source registry (MLflow's, GTO tags)."""

    source_version: int
    run_uid: str | None = None
    artifact: ArtifactRecord | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    stage: str | None = None  # MLflow's legacy current_stage: Staging / Production / Archived
    status: str = "ready"
    created_at: float | None = None
    created_by: str | None = None


@dataclass(slots=True)
class RegistryModelRecord:
    """A registered model with its versions and aliases from a source registry."""

    name: str
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    versions: list[RegistryVersionRecord] = field(default_factory=list)
    aliases: dict[str, int] = field(default_factory=dict)  # alias -> source_version
    created_at: float | None = None
    source: str = "mlflow"


@dataclass(slots=True)
class ImportBatch:
    """Everything one importer read from one source: runs and, when present, a registry."""

    source_format: str
    source_path: str
    runs: list[RunRecord] = field(default_factory=list)
    models: list[RegistryModelRecord] = field(default_factory=list)
    # Files this importer read, so the walk does not offer them to another format.
    consumed_paths: list[str] = field(default_factory=list)
    # True when source_path is a folder this reader read whole: an earlier run of another
    # format from inside it is a leftover the new runs replace (see core/ingest.py).
    claims_folder: bool = False
    # Other sources of the same runs that the reader merged or left out, one line each with
    # the reason (an events file holding float32 copies of metrics.json, say).
    merged: list[str] = field(default_factory=list)


@dataclass
class ImportSummary:
    """What an import did (or, with ``dry_run``, would do)."""

    runs_new: int = 0
    runs_updated: int = 0
    runs_unchanged: int = 0
    runs_replaced: int = 0  # leftover runs of another reader merged into a newer, richer run
    points: int = 0
    datasets_new: int = 0
    versions_new: int = 0
    models_new: int = 0
    stages_set: int = 0
    seconds: float = 0.0
    dry_run: bool = False
    formats: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # one line per invalid log skipped
    not_ready: list[str] = field(default_factory=list)  # logs caught mid-write: next time
    # One line per source merged into another's run or left out for a better one, and per
    # registry version or stage not taken as it was (a second store's fraud v1 kept as
    # fraud@4, a stage another source's version holds), each with why.
    merged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    run_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``mltui import --json``)."""
        return dict(self.__dict__)

    def nothing_new(self) -> bool:
        """True when the import changed nothing: every log it read was already in the catalog."""
        return not (self.runs_new or self.runs_updated or self.runs_replaced or self.versions_new
                    or self.models_new or self.stages_set or self.datasets_new)

    def one_line(self) -> str:
        """The summary line printed at the end of an import."""
        if self.nothing_new() and not self.skipped:
            text = (f"nothing new: {self.runs_unchanged} run{'s' * (self.runs_unchanged != 1)} "
                    f"unchanged in {self.seconds:.2f}s")
            if self.not_ready:
                text += f"; {len(self.not_ready)} not ready yet (read again next time)"
            return text
        verb = "would import" if self.dry_run else "imported"
        runs = self.runs_new + self.runs_updated
        text = (f"{verb} {runs} run{'s' * (runs != 1)} ({self.runs_new} new, {self.runs_updated} "
                f"updated, {self.runs_unchanged} unchanged), {self.points:,} points, "
                f"{self.datasets_new} dataset versions, {self.versions_new} model versions "
                f"in {self.seconds:.2f}s")
        if self.runs_replaced:
            text += f"; replaced {self.runs_replaced} leftover run{'s' * (self.runs_replaced != 1)}"
        if self.skipped:
            text += f"; skipped {len(self.skipped)} invalid"
        if self.not_ready:
            text += f"; {len(self.not_ready)} not ready yet (read again next time)"
        if self.merged:
            text += f"; merged or left out {len(self.merged)} source(s), renumbered or kept (listed above)"
        return text
