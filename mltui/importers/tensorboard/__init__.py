"""TensorBoard event files (``events.out.tfevents.*``), read without TensorFlow.

See ``shared/FORMATS.md`` §6.  :mod:`.events` decodes the files with the standard library;
:mod:`.runs` maps what they hold to runs.  What a run yields:

* metrics: ``simple_value`` scalars (PyTorch ``SummaryWriter``, tensorboardX: HF Trainer,
  Lightning, detectron2) and single-value tensors of the ``scalars`` plugin (TF2, Keras), with
  ``step``, ``wall_time`` and axis ``"step"``; float32 values are kept exactly as stored, and
  every point TensorBoard's own reader returns is kept, repeated steps included.
* params: HF's ``args/text_summary`` (the TrainingArguments JSON, flattened) and the hparams
  plugin's ``session_start_info``; credential values are redacted.
* tags: every other ``text`` plugin tensor (``model_config/text_summary`` → tag ``model_config``).

Histograms, images, audio, graphs and other plugins' tensors are skipped.  Event files are
float32 copies of what many writers also log as exact text (detectron2's ``metrics.json``, HF's
``trainer_state.json``): ``EXACT = False`` lets such a text source win a folder both claim.
"""

from __future__ import annotations

from pathlib import Path

from ...core.records import ImportBatch
from ..common import ImportContext, resolved
from .events import crc32c, iter_records, masked_crc32c  # noqa: F401 - the decoder's API
from .follow import read_followed
from .runs import (EVENT_FILE_PREFIX, FORMAT, detect, event_files,  # noqa: F401
                   hf_training_args, nested_log_dirs, read_run)

KIND = "dir"
CONSUMES_SUBTREE = True
EXACT = False  # values are float32 copies


def owns(file: Path) -> bool:
    """True for an event file: named on the command line, its log dir is read."""
    return Path(file).name.startswith(EVENT_FILE_PREFIX)


def read(path: Path, ctx: ImportContext) -> ImportBatch:
    """Read a TensorBoard log dir into one run (plus one per nested log dir below it)."""
    path = Path(path)
    batch = ImportBatch(source_format=FORMAT, source_path=str(path))
    for log_dir in [path, *nested_log_dirs(path)]:
        run, files = read_followed(log_dir, path, ctx)  # inside a watch: appended records
        batch.consumed_paths.extend(resolved(f) for f in files)
        if run is not None:
            batch.runs.append(run)
    return batch
