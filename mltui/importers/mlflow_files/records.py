"""Run and dataset records shared by the MLflow file store and SQLite store readers."""

from __future__ import annotations

from ...core.records import ArtifactRecord, DatasetRecord, MetricColumns, MetricPoint, RunRecord
from ..common import as_param_text, looks_like_email, scrub_pii
from .artifacts import ArtifactResolver
from .meta import _json_or_none


# Records shared by the file store and the SQLite store


def build_run_record(*, run_id: str, name: str | None, project: str | None, status: str,
                     start_ms: int | None, end_ms: int | None, user_id: str | None,
                     params: dict[str, str], tags: dict[str, str], metrics: list[MetricPoint],
                     datasets: list[DatasetRecord], artifacts: list[ArtifactRecord],
                     source_format: str, source_path: str, fingerprint_value: str,
                     warnings: list[str],
                     metric_columns: list[MetricColumns] | None = None) -> RunRecord:
    """One RunRecord from an MLflow run, whichever store it came from.

    Personal data is dropped here: an e-mail ``mlflow.user`` (tag and user) is not imported and
    e-mail addresses inside other tags and params are redacted.
    """
    clean_tags: dict[str, str] = {}
    for key, value in tags.items():
        value = "" if value is None else str(value)
        if looks_like_email(value):
            if key == "mlflow.user":
                continue
            value = scrub_pii(value) or ""
        clean_tags[key] = value
    clean_params: dict[str, str] = {}
    for key, value in params.items():
        value = as_param_text(value)
        clean_params[key] = scrub_pii(value) if looks_like_email(value) else value
    user = tags.get("mlflow.user") or user_id
    if not user or looks_like_email(user) or user == "unknown":
        user = None  # "unknown" is what MLflow writes when it did not know the user
    return RunRecord(
        uid=run_id,
        source_format=source_format,
        source_path=source_path,
        name=name or tags.get("mlflow.runName") or None,
        project=project,
        status=status,
        start_time=start_ms / 1000.0 if start_ms is not None else None,
        end_time=end_ms / 1000.0 if end_ms is not None else None,
        user=user,
        git_commit=tags.get("mlflow.source.git.commit") or None,
        git_branch=tags.get("mlflow.source.git.branch") or None,
        params=clean_params,
        tags=clean_tags,
        metrics=metrics,
        metric_columns=metric_columns or [],
        datasets=sorted(datasets, key=lambda d: (d.name, d.hash or "", d.uri_raw or "")),
        artifacts=artifacts,
        fingerprint=fingerprint_value,
        warnings=warnings,
    )


def dataset_record(*, name: str, digest: str | None, source_type: str | None,
                   source: str | None, schema: str | None, profile: str | None,
                   resolver: ArtifactResolver, context: str | None = None) -> DatasetRecord:
    """A DatasetRecord from an MLflow dataset entity (name, digest, source JSON, schema, profile).

    The digest is MLflow's own (``mlflow-digest``), so it compares only with other MLflow
    digests; the source URI is kept raw and resolved inside the imported tree when local.
    ``context`` (``mlflow.data.context``: training, evaluation ...) becomes the dataset's role
    in the run's lineage.
    """
    uri = source_uri(source)
    local = resolver.resolve(uri, None) if uri and source_type in (None, "local", "") else None
    rows, columns = None, None
    profile_data = _json_or_none(profile)
    if isinstance(profile_data, dict) and isinstance(profile_data.get("num_rows"), int):
        rows = profile_data["num_rows"]
    schema_data = _json_or_none(schema)
    if isinstance(schema_data, dict) and isinstance(schema_data.get("mlflow_colspec"), list):
        columns = [str(col.get("name")) for col in schema_data["mlflow_colspec"]
                   if isinstance(col, dict) and col.get("name") is not None] or None
    return DatasetRecord(name=name, hash_algo="mlflow-digest" if digest else None, hash=digest,
                         uri_raw=uri, path=str(local) if local else None, row_count=rows,
                         columns=columns, role=context.strip().lower() if context else "input")


def source_uri(source: str | None) -> str | None:
    """The location inside an MLflow dataset ``source`` JSON (``{"uri": ...}`` and friends)."""
    if not source:
        return None
    data = _json_or_none(source)
    if isinstance(data, dict):
        for key in ("uri", "url", "path", "delta_table_name", "table_name", "dataset_name"):
            if isinstance(data.get(key), str) and data[key]:
                return data[key]
        return None
    return source
