"""DVC pipelines: ``dvc.lock``, ``dvc.yaml``, ``params.yaml``, metrics files, DVCLive, ``.dvc``.

See ``shared/FORMATS.md`` §4.  A folder holding ``dvc.lock`` and/or ``dvc.yaml`` is one run (the
last ``dvc repro`` of that pipeline).  Its identity is the folder, not the lock's content, so a
re-run of the pipeline updates the run; the fingerprint covers every file read.

What a run yields:

* params: the resolved values ``dvc.lock`` recorded per stage (``params.yaml`` keys as they are,
  other files as ``file:key``); ``params.yaml`` itself only when the lock has none; DVCLive's
  ``params.yaml``.
* metrics: metrics files named in ``dvc.yaml`` (JSON/YAML/TOML, flattened with ``.``, step
  None); DVCLive's ``plots/metrics/**/<name>.tsv`` (stepped, key = path under
  ``plots/metrics`` such as ``train/loss``) and ``metrics.json`` (latest values at its ``step``,
  for keys without a TSV).
* datasets: stage deps that are data (code and config deps go to
  ``environment["code_deps"]``), with the lock's hash: ``md5`` (DVC 3, ``hash: md5``),
  ``md5-dos2unix`` (DVC ≤ 2, no ``hash`` key), ``md5.dir`` (directories), ``etag``,
  ``checksum``.  A dep that an earlier stage produced is derived from that stage's data deps;
  outs nobody consumes are ``output`` datasets.  ``.dvc`` files (``dvc add``, ``dvc import``,
  ``dvc import-url``) add tracked data and the upstream a dataset was imported from.
* artifacts: ``artifacts:`` entries of type model, else model-like outs of the last stage that
  has any, with the lock's hash (files are not re-hashed).

Git commits are left to the walk (the work tree's HEAD); GTO tags are not read here.
"""

from __future__ import annotations

from .base import CONSUMES_SUBTREE, FORMAT, KIND, detect
from .pipeline import read

__all__ = ["CONSUMES_SUBTREE", "FORMAT", "KIND", "detect", "read"]
