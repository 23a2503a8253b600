"""MLflow server entities → the importers' plain records, through the MLflow readers' builders.

A run pulled from a server goes through the same ``build_run_record``, ``dataset_record``,
``registry_version`` and ``registry_model`` as the same run read from ``mlruns/`` or
``mlflow.db``, so it yields the same records (the tests compare them).  The entities are used
by their attributes only; this module never imports MLflow.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..core.records import MetricPoint, RegistryModelRecord, RegistryVersionRecord, RunRecord
from ..importers.common import to_float
from ..importers.mlflow_files import (SQL_INF, ArtifactResolver, build_run_record, dataset_record,
                                      registry_model, registry_version, run_artifacts,
                                      status_text, text_or_none)

FORMAT = "mlflow-server"


def listing_fingerprint(run: Any) -> str:
    """What changes when a run on the server changes, from its search listing alone.

    The listing carries the run's info, params, tags, latest metrics (value, step, time) and
    inputs, so comparing this with the stored fingerprint tells whether the run's metric
    histories must be fetched at all.
    """
    info, data = run.info, run.data
    metrics = sorted((m.key, repr(m.value), m.step, m.timestamp)
                     for m in getattr(data, "_metric_objs", None) or [])
    inputs = sorted((d.dataset.name, d.dataset.digest, tuple(sorted((t.key, t.value)
                                                                    for t in d.tags or [])))
                    for d in getattr(getattr(run, "inputs", None), "dataset_inputs", None) or [])
    text = repr((info.run_id, info.run_name, info.status, info.start_time, info.end_time,
                 info.lifecycle_stage, info.artifact_uri, info.user_id,
                 sorted(data.params.items()), sorted(data.tags.items()), metrics, inputs))
    return "srv:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def metric_points(history: dict[str, list[Any]]) -> list[MetricPoint]:
    """A run's points from its metric histories, key by key in the order the server logged."""
    points: list[MetricPoint] = []
    for key in sorted(history):
        for seq, metric in enumerate(history[key]):
            value, raw = to_float(metric.value)
            if value is not None and abs(value) >= SQL_INF:  # a SQL store's stand-in for inf
                value, raw = None, "inf" if value > 0 else "-inf"
            wall = metric.timestamp / 1000.0 if metric.timestamp is not None else None
            points.append(MetricPoint(key, value, int(metric.step or 0), None, "step", wall, raw,
                                      seq))
    return points


def run_record(run: Any, *, project: str | None, history: dict[str, list[Any]],
               resolver: ArtifactResolver, url: str) -> RunRecord:
    """One RunRecord from a server run and its full metric histories."""
    info, data = run.info, run.data
    tags = dict(data.tags)
    warnings: list[str] = []
    datasets = []
    for given in getattr(getattr(run, "inputs", None), "dataset_inputs", None) or []:
        dataset = given.dataset
        context = next((t.value for t in given.tags or [] if t.key == "mlflow.data.context"),
                       None)
        datasets.append(dataset_record(
            name=str(dataset.name), digest=text_or_none(dataset.digest),
            source_type=text_or_none(dataset.source_type), source=text_or_none(dataset.source),
            schema=text_or_none(dataset.schema), profile=text_or_none(dataset.profile),
            resolver=resolver, context=text_or_none(context)))
    artifacts = run_artifacts(resolver, run_id=info.run_id,
                              artifact_uri=text_or_none(info.artifact_uri), near=None,
                              logged_models=[], history_tag=tags.get("mlflow.log-model.history"),
                              warnings=warnings)
    return build_run_record(
        run_id=info.run_id, name=text_or_none(info.run_name), project=project,
        status=status_text(info.status), start_ms=info.start_time, end_ms=info.end_time,
        user_id=text_or_none(info.user_id), params=dict(sorted(data.params.items())),
        tags=dict(sorted(tags.items())), metrics=metric_points(history), datasets=datasets,
        artifacts=artifacts, source_format=FORMAT, source_path=url,
        fingerprint_value=listing_fingerprint(run), warnings=warnings)


def version_record(version: Any, resolver: ArtifactResolver, url: str
                   ) -> RegistryVersionRecord | None:
    """One registry version record from a server ModelVersion (None when deleted)."""
    return registry_version(
        resolver, model_name=version.name, version=version.version,
        source=text_or_none(version.source),
        storage_location=text_or_none(getattr(version, "storage_location", None)),
        run_id=text_or_none(version.run_id), description=text_or_none(version.description),
        tags=dict(version.tags or {}), stage=text_or_none(version.current_stage),
        status=text_or_none(version.status), created_ms=version.creation_timestamp,
        user_id=text_or_none(version.user_id), path=f"{url} ({version.name!r} v{version.version})")


def model_record(model: Any, versions: list[RegistryVersionRecord]) -> RegistryModelRecord:
    """One registered model record; its aliases are mirrored by the pull itself (observed)."""
    return registry_model(name=model.name, description=text_or_none(model.description),
                          tags=dict(sorted((model.tags or {}).items())),
                          created_ms=model.creation_timestamp, versions=versions, aliases={})
