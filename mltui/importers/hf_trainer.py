"""Hugging Face ``Trainer`` output directories (FORMATS.md §1).

An output dir holds ``trainer_state.json`` (at the root after ``save_state()``, and in every
``checkpoint-N/``), the ``*_results.json`` companions of ``save_metrics``, the final model files
(``config.json`` + weights, or a PEFT adapter) and a model card ``README.md``.  One output dir is
one run: when only checkpoints hold a state, the latest checkpoint's state is used (it contains
the whole log history up to that step), never one run per checkpoint.

``training_args.bin`` is a pickle and is never loaded.  Params come from the TrainingArguments
JSON of a TensorBoard ``args/text_summary`` when ``runs/`` holds event files, then the model
card's "Training hyperparameters" list.  trainer_state's own fields (``num_train_epochs`` is the
*computed* epoch count, 2 where the argument said 3.0) are state: tags ``trainer_state.<field>``;
only without TrainingArguments do they stand in as params.

Metrics are log_history as the writer wrote it: every entry's numbers, in order, repeated steps
kept, so point counts equal ``trainer_state.json``.  The ``save_metrics`` files
(``eval_results.json`` …) hold the post-training evaluation: recorded once per key as
``final/<key>`` (axis ``final``), never as another point of the training curve.  The TensorBoard
files under ``runs/`` are float32 copies of log_history: only the arguments are taken from them,
and the import summary says so.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..core.errors import ImportFailed
from ..core.records import (ArtifactRecord, DatasetRecord, ImportBatch, MetricColumns,
                            MetricPoint, RunRecord)
from . import tensorboard
from .hf_card import ModelCard, read_model_card
from .common import (ImportContext, resolved, open_log, artifact_for, as_param_text, fingerprint, flatten,
                     is_number_like, load_json, point, read_text, redact_secret_params,
                     resolve_foreign_path, stable_uid, to_float)

FORMAT = "hf"
KIND = "dir"
CONSUMES_SUBTREE = True

STATE_FILE = "trainer_state.json"
RESULT_FILES = ("all_results.json", "train_results.json", "eval_results.json",
                "test_results.json", "predict_results.json")
# Weight files of a saved model, in the order we prefer them as "the" model file.
WEIGHT_FILES = ("model.safetensors", "adapter_model.safetensors", "pytorch_model.bin",
                "adapter_model.bin", "tf_model.h5", "flax_model.msgpack")
_SHARD_RE = re.compile(r"^(model|pytorch_model)-\d+-of-\d+\.(safetensors|bin)$")
_CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
# trainer_state fields that describe the configuration rather than the outcome.
STATE_PARAM_FIELDS = ("train_batch_size", "num_train_epochs", "max_steps", "logging_steps",
                      "eval_steps", "save_steps", "is_hyper_param_search")
# Counts that save_metrics writes next to the metrics; they describe the data, not the model.
SAMPLE_COUNT_KEYS = ("train_samples", "eval_samples", "test_samples", "predict_samples")
FINAL_PREFIX = "final/"  # keys of the post-training results (save_metrics files)
STATE_TAG_PREFIX = "trainer_state."
_HEAD_BYTES = 1 << 16


# ---------------------------------------------------------------------------------------------
# Detection


def detect(path: Path) -> bool:
    """True for a folder with a ``trainer_state.json`` holding ``log_history`` (at its root or
    in a ``checkpoint-N/`` subfolder)."""
    try:
        if not path.is_dir():
            return False
        state = _state_file(path)
        return state is not None and _looks_like_state(state)
    except OSError:
        return False


def owns(file: Path) -> bool:
    """True for the Trainer's own files: named on the command line, the output dir is read."""
    return Path(file).name in (STATE_FILE, *RESULT_FILES)


def _looks_like_state(file: Path) -> bool:
    try:
        with open_log(file) as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError:
        return False
    # save_to_json sorts keys, so "log_history" comes early (after best_*/epoch/global_step).
    # It rewrites the file in place (truncate, then write): an empty file or an unfinished
    # opening is a state being written, still this run's; read() says it is not ready yet.
    head = head.strip()
    if not head:
        return True
    unfinished = len(head) < 512 and not head.endswith(b"}")
    return head.startswith(b"{") and (b'"log_history"' in head or unfinished)


def _checkpoints(path: Path) -> list[tuple[int, Path]]:
    """``[(global step, checkpoint dir)]`` sorted by step."""
    found = []
    try:
        children = list(path.iterdir())
    except OSError:
        return []
    for child in children:
        match = _CHECKPOINT_RE.match(child.name)
        if match and child.is_dir():
            found.append((int(match.group(1)), child))
    return sorted(found)


def _state_file(path: Path) -> Path | None:
    """The root state, else the state of the latest checkpoint that has one."""
    root_state = path / STATE_FILE
    if root_state.is_file():
        return root_state
    for _, checkpoint in reversed(_checkpoints(path)):
        state = checkpoint / STATE_FILE
        if state.is_file():
            return state
    return None


# ---------------------------------------------------------------------------------------------
# Reading


def read(path: Path, ctx: ImportContext) -> ImportBatch:
    """Read one output dir into one run: log history, final metrics, params, data, models."""
    path = Path(path)
    state_path = _state_file(path)
    if state_path is None:
        raise ImportFailed(str(path), f"no {STATE_FILE} at the root or in any checkpoint-N/",
                           hint="point mltui import at the Trainer's output_dir")
    if state_path.parent != path:
        ctx.warn(f"{path}: no {STATE_FILE} at the root; using {state_path.relative_to(path)}")
    files_read = [state_path]
    state_text = read_text(state_path)
    state = load_json(state_path, state_text)
    if not isinstance(state, dict):
        raise ImportFailed(str(state_path), "expected a JSON object", line=1)
    history = state.get("log_history")
    if not isinstance(history, list):
        raise ImportFailed(str(state_path), "expected a list", field="log_history")

    global_step = _optional_int(state, "global_step", state_path)
    final_epoch = _optional_number(state, "epoch", state_path)
    run = RunRecord(uid=stable_uid(FORMAT, path), source_format=FORMAT, source_path=str(path),
                    name=path.name)
    columns = _history_columns(history, state_path, state_text)
    if any(isinstance(entry, dict) and "train_runtime" in entry for entry in history):
        run.status = "FINISHED"  # the final summary entry is logged only when train() returns

    results_points, sample_counts, results_files = _results_points(
        path, global_step, final_epoch, start_seq=sum(len(c.values) for c in columns), ctx=ctx)
    if {p.key for p in results_points} & {c.key for c in columns}:
        # A history key named like a final result: one series, the history's points first.
        run.metrics = [p for column in columns for p in column.points()] + results_points
    else:
        run.metric_columns, run.metrics = columns, results_points
    files_read += results_files

    card = read_model_card(path, ctx)
    if card is not None:
        files_read.append(path / "README.md")
        run.params.update(card.params)
        run.datasets.extend(DatasetRecord(name=name) for name in card.datasets)
    state_config = {key: as_param_text(state[key]) for key in STATE_PARAM_FIELDS
                    if state.get(key) is not None}
    trial_params = state.get("trial_params")
    if isinstance(trial_params, dict):
        for key, value in flatten(trial_params).items():
            run.params[f"trial_params.{key}"] = as_param_text(value)
    for key, value in sample_counts.items():
        run.params[key] = as_param_text(value)
    for key in ("trial_name", "best_metric", "best_global_step", "best_model_checkpoint"):
        if state.get(key) is not None:
            run.tags[key] = as_param_text(state[key])
    if global_step is not None:
        run.tags["global_step"] = str(global_step)

    tb_args, tb_files, merged = _tensorboard_args(path, ctx)
    files_read += tb_files
    # TrainingArguments are what the user asked for; the card's list is a rendering of them.
    run.params = redact_secret_params({**run.params, **tb_args})
    for key, value in state_config.items():
        if tb_args:
            run.tags[STATE_TAG_PREFIX + key] = value
        else:
            run.params.setdefault(key, value)
    merged += _older_states(path, state_path)

    base_model, base_files = _base_model(path, card, state, ctx)
    files_read += base_files
    run.artifacts = _artifacts(path, state, base_model, ctx)
    run.start_time = _tensorboard_start_time(path, ctx)
    if not run.metrics and not run.metric_columns:
        ctx.warn(f"{state_path}: log_history holds no metrics")
    run.fingerprint = fingerprint(files_read)
    run.warnings = list(ctx.warnings)
    return ImportBatch(source_format=FORMAT, source_path=str(path), runs=[run],
                       consumed_paths=[resolved(p) for p in files_read], merged=merged)


def _older_states(path: Path, used: Path) -> list[str]:
    """Checkpoints' trainer_state.json files: earlier prefixes of the log_history we read."""
    return [f"{checkpoint / STATE_FILE}: merged into the {FORMAT} run of {path}: an earlier "
            f"copy of the log history in {used.relative_to(path)}"
            for _, checkpoint in _checkpoints(path)
            if (checkpoint / STATE_FILE).is_file() and checkpoint / STATE_FILE != used]


def _optional_int(mapping: dict, key: str, file: Path) -> int | None:
    value = mapping.get(key)
    if value is None:
        return None
    try:
        return _as_int(value)
    except ValueError:
        raise ImportFailed(str(file), f"expected an integer, got {value!r}", field=key) from None


def _optional_number(mapping: dict, key: str, file: Path) -> float | None:
    value = mapping.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ImportFailed(str(file), f"expected a number, got {value!r}", field=key)
    return float(value)


def _as_int(value: Any) -> int:
    """An int from an int or an integral float (never a bool); ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError(value)


def _history_columns(history: list, state_path: Path, text: str) -> list[MetricColumns]:
    """One column per numeric key of log_history, in log order (train, eval and summary entries
    are separate dicts that share ``step``; no key is expected in every entry)."""
    by_key: dict[str, tuple[list, list, list, dict[int, str]]] = {}
    for index, entry in enumerate(history):
        if not isinstance(entry, dict):
            raise ImportFailed(str(state_path), "expected an object",
                               line=_entry_line(text, index), field=f"log_history[{index}]")
        try:
            step = _as_int(entry.get("step"))
        except ValueError:
            raise ImportFailed(str(state_path), f"expected an integer step, got {entry.get('step')!r}",
                               line=_entry_line(text, index), field=f"log_history[{index}].step") from None
        epoch = entry.get("epoch")
        if epoch is not None:
            if isinstance(epoch, bool) or not isinstance(epoch, (int, float)):
                raise ImportFailed(str(state_path), f"expected a number, got {epoch!r}",
                                   line=_entry_line(text, index), field=f"log_history[{index}].epoch")
            epoch = float(epoch)  # 4.2x writes an int 0 at the start, later floats with noise
        for key, value in entry.items():
            if key == "step" or key == "epoch":
                continue
            raw = None
            if type(value) is not float or value - value != 0.0:  # the common case: a finite float
                if isinstance(value, (dict, list, str, bool)) or value is None:
                    continue  # e.g. a classification report dict: not a scalar metric
                try:
                    value, raw = to_float(value)  # ints, NaN and infinities, as ``point`` reads them
                except (TypeError, ValueError):
                    raise ImportFailed(str(state_path), f"not a number: {value!r}",
                                       line=_entry_line(text, index), field=f"log_history[{index}].{key}") from None
            column = by_key.get(key)
            if column is None:
                column = by_key[key] = ([], [], [], {})
            if raw is not None:
                column[3][len(column[0])] = raw
            column[0].append(value)
            column[1].append(step)
            column[2].append(epoch)
    return [MetricColumns(key, values, steps, None, raws or None, "step", epochs)
            for key, (values, steps, epochs, raws) in by_key.items()]


def _entry_line(text: str, index: int) -> int | None:
    """The line where ``log_history[index]`` starts (computed only when reporting an error)."""
    match = re.search(r'"log_history"\s*:\s*\[', text)
    if not match:
        return None
    decoder = json.JSONDecoder()
    position = match.end()
    for current in range(index + 1):
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if current == index:
            return text.count("\n", 0, position) + 1
        try:
            _, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            return None
    return None


def _results_points(path: Path, global_step: int | None, final_epoch: float | None, *,
                    start_seq: int, ctx: ImportContext
                    ) -> tuple[list[MetricPoint], dict[str, Any], list[Path]]:
    """The post-training results of the ``save_metrics`` files as one ``final/<key>`` point
    per key, at step = global_step.

    ``all_results.json`` merges the split files, so a key usually appears in two files: it is
    recorded once.  Sample counts are returned apart: they describe the data.
    """
    by_key: dict[str, MetricPoint] = {}
    counts: dict[str, Any] = {}
    files: list[Path] = []
    for name in RESULT_FILES:
        file = path / name
        if not file.is_file():
            continue
        data = load_json(file)
        if not isinstance(data, dict):
            raise ImportFailed(str(file), "expected a JSON object of metrics", line=1)
        files.append(file)
        epoch = data.get("epoch", final_epoch)
        if isinstance(epoch, bool) or not isinstance(epoch, (int, float, type(None))):
            raise ImportFailed(str(file), f"expected a number, got {epoch!r}", field="epoch")
        epoch = float(epoch) if epoch is not None else None
        for key, value in data.items():
            if key == "epoch":
                continue
            if key in SAMPLE_COUNT_KEYS:
                counts[key] = value
                continue
            if isinstance(value, bool) or not is_number_like(value):
                ctx.warn(f"{file}: skipped non-numeric value of {key!r}")
                continue
            # Later files are the per-split ones, which all_results.json only copies.
            by_key[FINAL_PREFIX + key] = point(FINAL_PREFIX + key, value, step=global_step,
                                               epoch=epoch, axis="final")
    points = list(by_key.values())
    for index, metric in enumerate(points):
        metric.seq = start_seq + index
    return points, counts, files


# ---------------------------------------------------------------------------------------------
# Models


def _base_model(path: Path, card: ModelCard | None, state: dict, ctx: ImportContext
                ) -> tuple[str | None, list[Path]]:
    """What the run was fine-tuned from: adapter config, then config.json, then the card."""
    folders = [path]
    best = _resolve_best(path, state, ctx, quiet=True)
    if best is not None:
        folders.append(best)
    folders += [checkpoint for _, checkpoint in reversed(_checkpoints(path))]
    files: list[Path] = []
    for folder in folders:
        adapter = folder / "adapter_config.json"
        if adapter.is_file():
            data = load_json(adapter)
            files.append(adapter)
            name = data.get("base_model_name_or_path") if isinstance(data, dict) else None
            if isinstance(name, str) and name.strip():
                return name, files
    for folder in folders:
        config = folder / "config.json"
        if config.is_file():
            data = load_json(config)
            files.append(config)
            name = data.get("_name_or_path") if isinstance(data, dict) else None
            if isinstance(name, str) and name.strip() and not _is_self(name, path):
                return name, files
            break
    if card is not None and card.base_model:
        return card.base_model, files
    return None, files


def _is_self(name: str, path: Path) -> bool:
    """True when ``_name_or_path`` points back at this output dir or one of its checkpoints
    (a model reloaded from its own checkpoint), which is not a base model."""
    tail = re.split(r"[\\/]+", name.rstrip("/\\"))[-1]
    return bool(_CHECKPOINT_RE.match(tail)) or tail == path.name


def _resolve_best(path: Path, state: dict, ctx: ImportContext, *, quiet: bool = False) -> Path | None:
    """``best_model_checkpoint`` is an absolute path on the training host: find it here."""
    raw = state.get("best_model_checkpoint")
    if not isinstance(raw, str) or not raw.strip():
        return None
    resolved = resolve_foreign_path(raw, ctx.root, near=path)
    if resolved is None or not resolved.is_dir():
        # Fall back to the basename alone (checkpoint-N), which is what the Trainer names.
        tail = re.split(r"[\\/]+", raw.rstrip("/\\"))[-1]
        candidate = path / tail
        resolved = candidate if _CHECKPOINT_RE.match(tail) and candidate.is_dir() else None
    if resolved is None and not quiet:
        ctx.warn(f"{path}: best_model_checkpoint {raw!r} is not in the imported folder")
    return resolved


def _weight_files(folder: Path) -> list[Path]:
    """The model weight files of a saved model folder: one file, or all shards."""
    for name in WEIGHT_FILES:
        if (folder / name).is_file():
            return [folder / name]
    try:
        shards = sorted(p for p in folder.iterdir() if _SHARD_RE.match(p.name) and p.is_file())
    except OSError:
        return []
    return shards


def _artifacts(path: Path, state: dict, base_model: str | None, ctx: ImportContext
               ) -> list[ArtifactRecord]:
    """The final model at the root and the best checkpoint (weights hashed, LFS by oid)."""
    artifacts: list[ArtifactRecord] = []
    for file in _weight_files(path):
        artifacts.append(artifact_for(file, kind="model", base_model=base_model, name=file.name))
    best = _resolve_best(path, state, ctx)
    if best is not None:
        weights = _weight_files(best)
        if not weights:
            ctx.warn(f"{best}: best checkpoint holds no model weights")
        raw = state.get("best_model_checkpoint")
        for file in weights:
            artifacts.append(artifact_for(file, path_raw=f"{raw}/{file.name}", kind="best",
                                          base_model=base_model, name=f"{best.name}/{file.name}"))
    if not artifacts:
        checkpoints = _checkpoints(path)
        for _, checkpoint in reversed(checkpoints):
            weights = _weight_files(checkpoint)
            if weights:
                for file in weights:
                    artifacts.append(artifact_for(file, kind="checkpoint", base_model=base_model,
                                                  name=f"{checkpoint.name}/{file.name}"))
                break
        if not artifacts:
            ctx.warn(f"{path}: no model weights found (partial output dir)")
    return artifacts


def _tensorboard_start_time(path: Path, ctx: ImportContext) -> float | None:
    """The start time from ``runs/<date>_<host>/events.out.tfevents.<unix time>.<host>...``.

    Only the file name is read: the events themselves are the TensorBoard reader's business,
    and the host name in it is personal data we do not import.
    """
    runs = path / "runs"
    if not runs.is_dir():
        return None
    times = []
    for file in runs.glob("*/events.out.tfevents.*"):
        parts = file.name.split(".")
        if len(parts) > 3 and parts[3].isdigit():
            times.append(float(parts[3]))
    return min(times) if times else None


# ---------------------------------------------------------------------------------------------
# TrainingArguments from the TensorBoard text summary

_PII_KEYS = ("logging_dir",)  # runs/<date>_<hostname>: the host name is personal data


def _tensorboard_args(path: Path, ctx: ImportContext
                      ) -> tuple[dict[str, str], list[Path], list[str]]:
    """Params from the first ``args/text_summary`` found under ``runs/``, else ``{}``; also the
    event files read and one "merged" line per event file.

    The TrainingArguments JSON in the TensorBoard text summary is the only readable copy of
    the arguments (``training_args.bin`` is a pickle we never open); the scalars are float32
    copies of log_history, so only that record is read.
    """
    runs = path / "runs"
    if not runs.is_dir():
        return {}, [], []
    files = [f for f in sorted(runs.glob("**/events.out.tfevents.*")) if f.is_file()]
    params: dict[str, str] = {}
    source = None
    for file in files:
        params = tensorboard.hf_training_args(file, ctx)
        params = {k: v for k, v in params.items() if k not in _PII_KEYS}
        if params:
            source = file
            break
    merged = [f"{file}: merged into the {FORMAT} run of {path}: "
              + ("TrainingArguments taken as params; " if file == source else "")
              + "its scalars are float32 copies of trainer_state.json's log_history, which is "
                "imported instead" for file in files]
    return params, files, merged
