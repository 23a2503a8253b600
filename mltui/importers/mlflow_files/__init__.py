"""MLflow file store importer (``mlruns/``), and the record building shared with ``mlflow_sqlite``.

Layout (mlflow-skinny 3.17.2 ``store/tracking/file_store.py`` and
``store/model_registry/file_store.py``; FORMATS.md §7)::

    mlruns/<experiment_id>/meta.yaml                 experiment: name, lifecycle_stage
    mlruns/<experiment_id>/<run_id>/meta.yaml        run: times (ms), status code, user_id ...
        params/<key>  tags/<key>                     raw values (a "/" in a key is a subfolder)
        metrics/<key>                         "<ts_ms> <value> <step>[ <ds_name> <ds_digest>]"
        inputs/<id>/meta.yaml  -> <exp>/datasets/<dataset_id>/meta.yaml (name, digest, source)
        outputs/<model_id>/    -> <exp>/models/<model_id>/meta.yaml (MLflow 3 LoggedModel)
        artifacts/<dir>/MLmodel                      MLflow 2 style logged model
    mlruns/.trash/                                   deleted experiments (skipped)
    mlruns/models/<name>/meta.yaml, aliases/, tags/, version-<n>/meta.yaml + tags/   registry

Modules, by what they read: ``meta`` (detection, ``meta.yaml``), ``runs`` (experiments and run
folders), ``metrics`` (metric files, the hot loop), ``artifacts`` (logged models and artifact
URIs), ``records`` (run and dataset records shared with the SQLite store), ``registry``.

The reader is on the import benchmark's hot path (1,000 runs x 500 points), so the per-run
``meta.yaml`` goes through a tiny parser for MLflow's flat ``safe_dump`` output (falling back to
the lenient YAML loader for anything else) and metric lines are parsed inline.
"""

from __future__ import annotations

from .artifacts import ArtifactResolver, LoggedModel, mlmodel_dirs, run_artifacts
from .meta import (
    CONSUMES_SUBTREE,
    FORMAT,
    KIND,
    META,
    RUN_STATUS,
    SQL_INF,
    detect,
    meta_int,
    parse_flat_yaml,
    read_meta,
    status_text,
    text_or_none,
)
from .metrics import read_metric_file
from .records import build_run_record, dataset_record, source_uri
from .registry import read_registry, registry_model, registry_version
from .runs import read, run_order

__all__ = ["ArtifactResolver", "CONSUMES_SUBTREE", "FORMAT", "KIND", "META", "LoggedModel",
           "RUN_STATUS", "SQL_INF", "build_run_record", "dataset_record", "detect", "meta_int",
           "mlmodel_dirs", "parse_flat_yaml", "read", "read_meta", "read_metric_file",
           "read_registry", "registry_model", "registry_version", "run_artifacts", "run_order",
           "source_uri", "status_text", "text_or_none"]
