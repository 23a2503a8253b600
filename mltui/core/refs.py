"""References (SPEC §2): how users name versions, runs and dataset versions.

``fraud`` (latest version), ``fraud@3`` / ``fraud@v3``, ``fraud@production`` (stage or alias),
``models:/fraud/3``, ``models:/fraud@champion``, ``models:/fraud/Production``, the canonical name
(``proj_fraud_v3_20260101``), ``run:<uid or unique uid prefix>`` (the uid the tables show,
or a run's exact name; the catalog's numeric row ids are never references), ``data:<name>@2``.

Parsing is pure; resolution reads the catalog through parameterised queries only.  An unknown
or ambiguous reference raises :class:`NotFound` listing the closest matches.
"""

from __future__ import annotations

import difflib
import re
import sqlite3
from dataclasses import dataclass

from .errors import InvalidInput, NotFound

MODEL_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
STAGE_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")

# The SQL of resolution, one constant each, at module level: mutmut mutates only code inside
# functions, so it makes no letter-case mutants of these (SQLite reads keywords and names
# without regard to case: no test could tell them apart).  Values are ``?`` parameters.
MODEL_ID_BY_NAME = "SELECT id FROM models WHERE name = ?"
MODEL_NAMES_SORTED = "SELECT name FROM models ORDER BY name LIMIT 10000"
VERSION_BY_CANONICAL_NAME = "SELECT id FROM model_versions WHERE canonical_name = ?"
MODEL_EXISTS = "SELECT 1 FROM models WHERE name = ?"
MODEL_NAMES = "SELECT name FROM models LIMIT 10000"
CANONICAL_NAMES_LIKE = ("SELECT canonical_name FROM model_versions WHERE canonical_name LIKE ? "
                        "LIMIT 200")
LATEST_VERSION = "SELECT id FROM model_versions WHERE model_id = ? ORDER BY version DESC LIMIT 1"
VERSION_BY_NUMBER = "SELECT id FROM model_versions WHERE model_id = ? AND version = ?"
NEAREST_VERSIONS = ("SELECT version FROM model_versions WHERE model_id = ? "
                    "ORDER BY ABS(version - ?) LIMIT 3")
STAGE_HOLDER = "SELECT version_id FROM stages WHERE model_id = ? AND stage = ?"
HELD_STAGES = "SELECT stage FROM stages WHERE model_id = ? AND version_id IS NOT NULL"
RUN_BY_UID = "SELECT id FROM runs WHERE uid = ?"
RUNS_BY_UID_PREFIX = "SELECT id, uid FROM runs WHERE uid LIKE ? ESCAPE '\\' LIMIT 6"
RUNS_BY_NAME = "SELECT id, uid FROM runs WHERE name = ? LIMIT 2"
RUN_NAMES = "SELECT name FROM runs WHERE name IS NOT NULL LIMIT 20000"
LATEST_DATASET = "SELECT id FROM dataset_versions WHERE name = ? ORDER BY version DESC LIMIT 1"
DATASET_BY_NUMBER = "SELECT id FROM dataset_versions WHERE name = ? AND version = ?"
DATASET_NAMES = "SELECT name FROM dataset_versions LIMIT 10000"


@dataclass(frozen=True)
class Ref:
    """A parsed reference.

    ``kind`` is ``version`` (``model`` + ``selector``: None for latest, an int, or a stage),
    ``run`` (``selector`` is the id or prefix), ``data`` (``model`` is the dataset name,
    ``selector`` the version or None) or ``name`` (a canonical version name, or a bare model
    name: decided at resolution).
    """

    kind: str
    text: str
    model: str | None = None
    selector: int | str | None = None


def parse_ref(text: str) -> Ref:
    """Parse a reference; malformed text raises InvalidInput."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidInput("empty reference", hint="name a version like fraud@3 or fraud@production")
    if any(ord(ch) < 32 for ch in raw):
        raise InvalidInput(f"reference {raw!r} contains control characters")
    if raw.startswith("run:"):
        prefix = raw[4:].strip()
        if not prefix:
            raise InvalidInput("run: needs a run id or prefix", hint="e.g. run:3f2a")
        return Ref("run", raw, selector=prefix)
    if raw.startswith("data:"):
        body = raw[5:]
        name, sep, version = body.partition("@")
        if not name:
            raise InvalidInput(f"bad dataset reference {raw!r}", hint="write data:<name>@<version>")
        return Ref("data", raw, model=name, selector=_version_number(version, raw) if sep else None)
    if raw.startswith("models:/"):
        body = raw[len("models:/"):]
        if "@" in body:
            name, _, alias = body.partition("@")
            _check_model(name, raw)
            return Ref("version", raw, model=name, selector=_stage(alias, raw))
        name, _, selector = body.partition("/")
        _check_model(name, raw)
        if not selector or selector.lower() == "latest":
            return Ref("version", raw, model=name, selector=None)  # pragma: no mutate - selector's default is None
        if selector.isascii() and selector.isdigit():
            return Ref("version", raw, model=name, selector=_version_number(selector, raw))
        return Ref("version", raw, model=name, selector=_stage(selector, raw))
    if "@" in raw:
        name, _, selector = raw.partition("@")
        _check_model(name, raw)
        if re.fullmatch(r"[vV]?\d+", selector):
            return Ref("version", raw, model=name, selector=_version_number(selector, raw))
        if selector.lower() == "latest":
            return Ref("version", raw, model=name, selector=None)  # pragma: no mutate - selector's default is None
        return Ref("version", raw, model=name, selector=_stage(selector, raw))
    if MODEL_NAME_RE.match(raw):
        return Ref("name", raw, model=raw)
    raise InvalidInput(f"bad reference {raw!r}",
                       hint="write a model name, model@3, model@production or run:<uid>")


def _check_model(name: str, raw: str) -> None:
    if not MODEL_NAME_RE.match(name or ""):
        raise InvalidInput(f"bad model name in reference {raw!r}",
                           hint="model names use letters, digits, '_', '.', '-' and start with a "
                                "letter or digit")


def _version_number(text: str, raw: str) -> int:
    digits = text[1:] if text[:1] in "vV" else text
    if not (digits.isascii() and digits.isdigit()) or int(digits) < 1:
        raise InvalidInput(f"bad version number in reference {raw!r}", hint="versions start at 1")
    if len(digits) > 18:  # SQLite integers stop at 2^63; no catalog holds that many versions
        raise InvalidInput(f"version number too large in reference {raw[:40]!r}",
                           hint="versions are numbered from 1 up to 18 digits")
    return int(digits)


def _stage(text: str, raw: str) -> str:
    stage = text.strip().lower()
    if not STAGE_NAME_RE.match(stage):
        raise InvalidInput(f"bad stage or alias in reference {raw!r}",
                           hint="stages and aliases are words like production or champion")
    return stage


def normalize_stage(text: str) -> str:
    """Stage names are case-insensitive words (MLflow's ``Production`` is ``production``)."""
    return _stage(text, text)


# --------------------------------------------------------------------------------------------
# Resolution


def _closest(word: str, options: list[str], n: int = 3) -> list[str]:
    return difflib.get_close_matches(word, options, n=n, cutoff=0.5)  # pragma: no mutate - n is always difflib's default 3


def _did_you_mean(candidates: list[str]) -> str | None:
    return f"did you mean {', '.join(candidates)}?" if candidates else None


def model_id(conn: sqlite3.Connection, name: str) -> int:
    """The id of a model by name, or NotFound listing similar names."""
    row = conn.execute(MODEL_ID_BY_NAME, (name,)).fetchone()
    if row:
        return row[0]
    names = [r[0] for r in conn.execute(MODEL_NAMES_SORTED)]
    candidates = _closest(name, names)
    raise NotFound(f"no model named {name!r}",
                   hint=_did_you_mean(candidates) or ("the catalog has no models yet" if not names
                                                       else "list them with: mltui ls models"),
                   candidates=candidates)


def resolve_version(conn: sqlite3.Connection, ref: Ref) -> int:
    """The model_versions id a reference names (kind ``version`` or ``name``)."""
    if ref.kind == "name":
        row = conn.execute(VERSION_BY_CANONICAL_NAME, (ref.text,)).fetchone()
        if row:
            return row[0]
        exists = conn.execute(MODEL_EXISTS, (ref.text,)).fetchone()
        if not exists:
            names = [r[0] for r in conn.execute(MODEL_NAMES)]
            canon = [r[0] for r in conn.execute(CANONICAL_NAMES_LIKE, (ref.text[:3] + "%",))]
            candidates = _closest(ref.text, names + canon)
            raise NotFound(f"no model or version named {ref.text!r}",
                           hint=_did_you_mean(candidates) or "list models with: mltui ls models",
                           candidates=candidates)
        ref = Ref("version", ref.text, model=ref.text, selector=None)  # pragma: no mutate - only model is read below
    if ref.kind != "version":
        raise InvalidInput(f"{ref.text!r} names a {ref.kind}, not a model version")
    mid = model_id(conn, ref.model or "")  # pragma: no mutate - a version ref always has a model
    selector = ref.selector
    if selector is None:
        row = conn.execute(LATEST_VERSION, (mid,)).fetchone()
        if not row:
            raise NotFound(f"model {ref.model!r} has no versions yet",
                           hint=f"register one: mltui import … --model {ref.model}")
        return row[0]
    if isinstance(selector, int):
        row = conn.execute(VERSION_BY_NUMBER, (mid, selector)).fetchone()
        if row:
            return row[0]
        have = [f"{ref.model}@{r[0]}" for r in conn.execute(NEAREST_VERSIONS, (mid, selector))]
        raise NotFound(f"model {ref.model!r} has no version {selector}",
                       hint=_did_you_mean(have) or "it has no versions yet", candidates=have)
    row = conn.execute(STAGE_HOLDER, (mid, selector)).fetchone()
    if row and row[0] is not None:
        return row[0]
    stages = [r[0] for r in conn.execute(HELD_STAGES, (mid,))]
    candidates = [f"{ref.model}@{s}" for s in _closest(str(selector), stages)] or \
                 [f"{ref.model}@{s}" for s in stages[:3]]
    raise NotFound(f"no version of {ref.model!r} holds stage {selector!r}",
                   hint=_did_you_mean(candidates) or f"promote one: mltui promote "
                        f"{ref.model}@<N> --stage {selector}", candidates=candidates)


def resolve_run(conn: sqlite3.Connection, ref: Ref) -> int:
    """The runs row id of ``run:<uid or unique uid prefix>`` (also a run's exact name).

    One meaning only: the selector is compared with run uids (the ``run`` column of
    ``mltui ls runs``, the ``uid`` of ``--json``), never with the catalog's numeric row ids.
    """
    prefix = str(ref.selector)
    row = conn.execute(RUN_BY_UID, (prefix,)).fetchone()
    if row:
        return row[0]
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = conn.execute(RUNS_BY_UID_PREFIX, (escaped + "%",)).fetchall()
    if len(rows) == 1:
        return rows[0][0]
    if rows:  # more than one
        candidates = [f"run:{r[1][:12]}" for r in rows[:5]]
        raise NotFound(f"run prefix {prefix!r} is ambiguous", hint=f"it matches {', '.join(candidates)}",
                       candidates=candidates)
    rows = conn.execute(RUNS_BY_NAME, (prefix,)).fetchall()
    if len(rows) == 1:
        return rows[0][0]
    names = [r[0] for r in conn.execute(RUN_NAMES)]
    candidates = _closest(prefix, names)
    hint = _did_you_mean(candidates) or "list runs with: mltui ls runs"
    if prefix.isdigit():
        hint = ("run:<x> names a run by its uid as `mltui ls runs` shows it, not by a row "
                "number; " + hint)
    raise NotFound(f"no run matches {prefix!r}", hint=hint,
                   candidates=candidates)


def resolve_dataset(conn: sqlite3.Connection, ref: Ref) -> int:
    """The dataset_versions id of ``data:<name>[@N]`` (latest version when N is omitted)."""
    if ref.selector is None:
        row = conn.execute(LATEST_DATASET, (ref.model,)).fetchone()
    else:
        row = conn.execute(DATASET_BY_NUMBER, (ref.model, ref.selector)).fetchone()
    if row:
        return row[0]
    names = sorted({r[0] for r in conn.execute(DATASET_NAMES)})
    if ref.model in names:
        raise NotFound(f"dataset {ref.model!r} has no version {ref.selector}",
                       hint="list them with: mltui ls datasets")
    candidates = [f"data:{n}" for n in _closest(ref.model or "", names)]  # pragma: no mutate - a data ref always has a name
    raise NotFound(f"no dataset named {ref.model!r}",
                   hint=_did_you_mean(candidates) or "list them with: mltui ls datasets",
                   candidates=candidates)
