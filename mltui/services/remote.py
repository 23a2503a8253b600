"""Working with a team's MLflow tracking server: ``pull`` and the write-through of stage moves.

``pull`` asks the server what changed since the last pull (its search listings), fetches only
the metric histories and registry versions of what changed, maps them to the importers'
records (:mod:`.remote_map`) and hands them to :meth:`Catalog.write_pull`, which writes them
with the one import writer in one transaction: a pull lands whole or not at all.

``apply_write`` is a catalog's write-through (the front ends set ``Catalog.write_through`` to
it): a promotion or rollback of a synced model moves the server's alias (stage name = alias
name) inside the local change's transaction, after checking that nobody moved it since the
last pull; a doc saved on a synced version becomes its description; an archive tags the
version `mltui.archived`; a registration from a pulled run creates the version there.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..core.config import load_config
from ..core.errors import Conflict, InvalidInput, NotFound, RemoteFailed
from ..core.records import ImportSummary
from ..core.records import ImportBatch
from ..core.remote_writes import (ARCHIVED_TAG, STAGE_TAG_PREFIX, ArchiveWrite, DocWrite, PullState,
                           RegisterWrite, ServerModel, StageWrite)
from . import remote_fetch as fetch
from .lock import import_lock

if TYPE_CHECKING:  # pragma: no cover
    from ..core.catalog import Catalog

# Runs are found by start time: a run whose client clock lagged by up to this much behind the
# newest run already pulled is still found (re-listed runs that did not change cost nothing).
OVERLAP_MS = 3_600_000

Progress = Callable[[int, int, str], None]


def remote_url(cat: "Catalog", remote: str | None) -> tuple[str, str]:
    """``(name, url)`` of a configured remote; with no name, the only one configured."""
    remotes = load_config(cat.path).remotes
    if not remotes:
        raise NotFound("no remote configured", hint="add one: mltui remote add NAME URL")
    if remote is None:
        if len(remotes) > 1:
            raise InvalidInput(f"{len(remotes)} remotes are configured; name one",
                               hint=f"one of: {', '.join(sorted(remotes))}")
        remote = next(iter(remotes))
    if remote not in remotes:
        raise NotFound(f"no remote {remote!r}", hint=f"configured: {', '.join(sorted(remotes))}")
    return remote, remotes[remote]


def pull(cat: "Catalog", remote: str | None = None, *, experiment: str | None = None,
         model: str | None = None, full: bool = False,
         on_progress: Progress | None = None) -> ImportSummary:
    """Bring what changed on the remote since the last pull into the catalog, all or nothing.

    ``experiment`` / ``model`` limit the pull (a limited pull leaves the watermark alone);
    ``full`` lists every run again (fingerprints still skip the unchanged ones).
    """
    name, url = remote_url(cat, remote)
    # One pull of a remote at a time: a second one waits, then finds nothing new.
    with import_lock(cat.path, [Path(cat.path).parent / f"remote-{name}"], wait=300.0):
        return _pull(cat, name, url, experiment, model, full, on_progress)


def _pull(cat: "Catalog", name: str, url: str, experiment: str | None, model: str | None,
          full: bool, on_progress: Progress | None) -> ImportSummary:
    started = time.perf_counter()
    mlflow = fetch.client(url)
    known = cat.remote_state(name) or {}
    if known and known["url"] != url:
        # Its synced models, version numbers and aliases are another server's: mixing them
        # would write one server's history onto the other's.
        raise InvalidInput(f"remote {name!r} was pulled from {known['url']} and now points at "
                           f"{url}", hint=f"add the new server under another name "
                                          f"(mltui remote add NAME {url})")
    summary = ImportSummary(formats={"mlflow-server": 0})
    progress = on_progress or (lambda done, total, label: None)
    from ..importers.common import ImportContext
    from ..importers.mlflow_files import ArtifactResolver

    ctx = ImportContext(root=Path(cat.path).resolve().parent.parent)
    resolver = ArtifactResolver(ctx)
    limited = experiment is not None or model is not None
    experiments, runs, watermark = {}, [], None
    if model is None or experiment is not None:  # --model alone: the registry only
        with fetch.talking_to(name, url, "listing experiments and runs"):
            experiments = _experiments(mlflow, experiment)
            runs, watermark = _changed_runs(
                cat, mlflow, experiments, url,
                None if (full or experiment) else known.get("runs_watermark"))
    listed = len(runs)
    stored = cat.run_fingerprints([r.info.run_id for r in runs])
    from .remote_map import listing_fingerprint, model_record, run_record, version_record

    changed = [r for r in runs if stored.get(r.info.run_id) != listing_fingerprint(r)]
    summary.runs_unchanged += listed - len(changed)
    wanted = [(r.info.run_id, key) for r in changed for key in sorted(r.data.metrics)]
    done = [0]

    def one_done() -> None:
        done[0] += 1
        progress(done[0], len(wanted), "metric histories")

    with fetch.talking_to(name, url, "fetching metric histories"):
        history = fetch.histories(mlflow, wanted, one_done)
    records = []
    for run in changed:
        per_key = {key: history[(run.info.run_id, key)] for key in run.data.metrics}
        records.append(run_record(run, project=experiments.get(run.info.experiment_id),
                                  history=per_key, resolver=resolver, url=url))
    with fetch.talking_to(name, url, "reading the model registry"):
        models, model_records = _registry(cat, mlflow, name, model, full, resolver, url,
                                          version_record, model_record)
    summary.formats["mlflow-server"] = len(records)
    summary.warnings.extend(ctx.warnings)
    batch = ImportBatch(source_format="mlflow-server", source_path=url, runs=records,
                        models=model_records)
    state = PullState(remote=name, url=url,
                      runs_watermark=known.get("runs_watermark") if limited else watermark,
                      experiments=experiments if not limited else known.get("experiments", {}),
                      models=models)
    cat.write_pull(state, [batch], summary)
    summary.seconds = time.perf_counter() - started
    return summary


def _experiments(mlflow: Any, wanted: str | None) -> dict[str, str]:
    """Active experiments by id (one, by name or id, when ``wanted``)."""
    found = {e.experiment_id: e.name for e in fetch.paged(mlflow.search_experiments)}
    if wanted is None:
        return found
    chosen = {i: n for i, n in found.items() if wanted in (i, n)}
    if not chosen:
        raise RemoteFailed(f"no experiment {wanted!r} on the server",
                           hint=f"there: {', '.join(sorted(found.values())[:10])}")
    return chosen


def _changed_runs(cat: "Catalog", mlflow: Any, experiments: dict[str, str], url: str,
                  watermark: int | None) -> tuple[list[Any], int | None]:
    """Runs started since the watermark, plus those unfinished at the last pull.

    MLflow's run search has no update-time attribute, so new runs are found by start time and
    runs that may still change (running at the last pull) are asked for by id.
    """
    if not experiments:
        return [], watermark
    ids = sorted(experiments)
    if watermark is None:
        runs = fetch.paged(mlflow.search_runs, experiment_ids=ids)
    else:
        runs = fetch.paged(mlflow.search_runs, experiment_ids=ids,
                           filter_string=f"attributes.start_time >= {watermark - OVERLAP_MS}")
        have = {r.info.run_id for r in runs}
        unfinished = [uid for uid in cat.unfinished_runs("mlflow-server", url) if uid not in have]
        for start in range(0, len(unfinished), 100):
            chunk = ", ".join(f"'{uid}'" for uid in unfinished[start:start + 100])
            runs += fetch.paged(mlflow.search_runs, experiment_ids=ids,
                                filter_string=f"attributes.run_id IN ({chunk})")
    starts = [r.info.start_time for r in runs if r.info.start_time is not None]
    newest = max(starts + ([watermark] if watermark is not None else []), default=None)
    return runs, newest


def _registry(cat: "Catalog", mlflow: Any, remote: str, only: str | None, full: bool,
              resolver: Any, url: str, version_record: Callable, model_record: Callable
              ) -> tuple[list[ServerModel], list[Any]]:
    """Every registered model with its aliases; versions only of those that changed."""
    kwargs = {"filter_string": f"name = {_quoted(only)}"} if only else {}
    listed = fetch.paged(mlflow.search_registered_models, **kwargs)
    if only and not listed:
        raise RemoteFailed(f"no registered model {only!r} on the server")
    updates = cat.remote_model_updates(remote)
    seen = {(link["server_name"]): link["aliases"] for link in cat.remote_links()
            if link["remote"] == remote}
    models, records = [], []
    for found in listed:
        aliases = {alias: int(number) for alias, number in (found.aliases or {}).items()}
        server = ServerModel(found.name, found.last_updated_timestamp, aliases)
        models.append(server)
        if (not full and found.name in updates and updates[found.name] == server.updated_ms
                and seen.get(found.name, {}) == aliases):
            continue
        versions = fetch.paged(mlflow.search_model_versions,
                               filter_string=f"name = {_quoted(found.name)}")
        by_number = {int(v.version): v for v in versions}
        for alias, number in aliases.items():
            note = (by_number.get(number).tags or {}).get(STAGE_TAG_PREFIX + alias) \
                if number in by_number else None
            if note:
                try:
                    server.notes[alias] = json.loads(note)
                except ValueError:
                    pass
        kept = [r for r in (version_record(v, resolver, url) for v in versions) if r is not None]
        records.append(model_record(found, kept))
    return models, records


def _quoted(name: str) -> str:
    """A model name as an MLflow filter string literal (MLflow takes either quote)."""
    return f'"{name}"' if "'" in name else f"'{name}'"


# -- write-through ------------------------------------------------------------------------------


def push(cat: "Catalog", remote: str | None = None) -> list[dict[str, Any]]:
    """Apply stage moves made here without write-through (the Python API) to the server.

    Each one is checked like a write-through (refused when the server's alias moved since the
    last pull) and applied on its own; the first refusal stops the push with what was done
    before it kept.
    """
    name, _url = remote_url(cat, remote)
    done = []
    for write, label in cat.pending_stage_writes(name):
        apply_stage_write(cat, write)
        cat.remember_alias(write.remote, write.server_name, write.alias, write.new)
        done.append({"stage": label, "from": write.expected, "to": write.new})
    return done


def apply_write(cat: "Catalog", write: StageWrite | DocWrite | ArchiveWrite | RegisterWrite
                ) -> Any:
    """Apply one write-through (a stage move, a version's doc as its description, an archive,
    a registration: that one returns the server's version number and its source uid)."""
    if isinstance(write, RegisterWrite):
        return apply_register_write(cat, write)
    if isinstance(write, ArchiveWrite):
        apply_archive_write(cat, write)
        return
    if isinstance(write, DocWrite):
        name, url = remote_url(cat, write.remote)
        mlflow = fetch.client(url)
        with fetch.talking_to(name, url, f"describing {write.server_name} "
                                         f"v{write.server_version}"):
            mlflow.update_model_version(write.server_name, str(write.server_version),
                                        description=write.text)
        return
    apply_stage_write(cat, write)


def apply_stage_write(cat: "Catalog", write: StageWrite) -> None:
    """Move the server's alias as ``write`` says, or refuse with both values (nothing applied).

    The alias is checked first: if the server no longer has what the last pull saw, someone
    else moved it, and overwriting their change silently would lose it.  The version it lands
    on gets the history entry as a tag (who, why, gates), so other machines' pulls show it.
    """
    name, url = remote_url(cat, write.remote)
    mlflow = fetch.client(url)
    label = f"{write.server_name}@{write.alias}"
    with fetch.talking_to(name, url, f"checking {label}"):
        now = mlflow.get_registered_model(write.server_name).aliases or {}
    current = int(now[write.alias]) if write.alias in now else None
    if current != write.expected:
        def show(number: int | None) -> str:
            return f"v{number}" if number is not None else "unset"
        raise Conflict(f"{label} on remote {name!r} is {show(current)}, but this catalog last saw "
                       f"{show(write.expected)}: someone moved it since the last pull",
                       hint=f"mltui pull {name}, then decide; nothing was changed")
    with fetch.talking_to(name, url, f"moving {label}"):
        if write.new is None:
            mlflow.delete_registered_model_alias(write.server_name, write.alias)
            return
        mlflow.set_registered_model_alias(write.server_name, write.alias, write.new)
        try:
            mlflow.set_model_version_tag(write.server_name, str(write.new),
                                         STAGE_TAG_PREFIX + write.alias,
                                         json.dumps(write.note, sort_keys=True, default=str))
        except Exception:
            # Put the alias back so nothing is half-applied, then report the failure.
            if write.expected is None:
                mlflow.delete_registered_model_alias(write.server_name, write.alias)
            else:
                mlflow.set_registered_model_alias(write.server_name, write.alias, write.expected)
            raise


def apply_archive_write(cat: "Catalog", write: ArchiveWrite) -> None:
    """Tag (archive) or untag (unarchive) the server's version, or refuse (nothing applied).

    The version's aliases are checked first: if a stage moved onto or off it since the last
    pull, archiving here would be decided on stale facts.  One tag write is the whole change,
    so there is nothing to put back when it fails.
    """
    name, url = remote_url(cat, write.remote)
    mlflow = fetch.client(url)
    label = f"{write.server_name} v{write.server_version}"
    with fetch.talking_to(name, url, f"checking {label}"):
        found = mlflow.get_model_version(write.server_name, str(write.server_version))
    now = sorted(found.aliases or [])
    if now != sorted(write.expected_aliases):
        def show(aliases: list[str]) -> str:
            return ", ".join(aliases) if aliases else "no alias"
        raise Conflict(f"{label} on remote {name!r} holds {show(now)}, but this catalog last saw "
                       f"{show(write.expected_aliases)}: a stage moved since the last pull",
                       hint=f"mltui pull {name}, then decide; nothing was changed")
    with fetch.talking_to(name, url, f"{write.note['action']} of {label}"):
        if write.archived:
            mlflow.set_model_version_tag(write.server_name, str(write.server_version),
                                         ARCHIVED_TAG,
                                         json.dumps(write.note, sort_keys=True, default=str))
        elif ARCHIVED_TAG in (found.tags or {}):
            mlflow.delete_model_version_tag(write.server_name, str(write.server_version),
                                            ARCHIVED_TAG)


def apply_register_write(cat: "Catalog", write: RegisterWrite) -> tuple[int, str]:
    """``create_model_version`` on the server; returns its number and the source uid a pull
    of it would compute (so the next pull finds the version already in the catalog)."""
    from ..core.registry_import import version_source_uid
    from ..importers.common import ImportContext
    from ..importers.mlflow_files import ArtifactResolver, registry_model
    from .remote_map import version_record

    name, url = remote_url(cat, write.remote)
    mlflow = fetch.client(url)
    with fetch.talking_to(name, url, f"registering a version of {write.server_name}"):
        made = mlflow.create_model_version(write.server_name, write.source,
                                           run_id=write.run_uid, tags=write.tags)
    resolver = ArtifactResolver(ImportContext(root=Path(cat.path).resolve().parent.parent))
    record = version_record(made, resolver, url)
    model = registry_model(name=write.server_name, description=None, tags={}, created_ms=None,
                           versions=[], aliases={})
    return int(made.version), version_source_uid(model, record)
