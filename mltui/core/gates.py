"""Quality gates: rules checked before a promotion and by ``mltui check``.

A rule compares one metric of the candidate with a threshold or with the version that holds a
stage now::

    metrics.f1 >= 0.85
    metrics.latency_ms <= 40
    metrics.f1 >= production - 0.01      (no regression of more than 0.01 against production)
    metrics.loss.min <= staging           (compare the best logged value)

Rules reuse the filter language's tokenizer, so keys with odd characters are written the same
way (``metrics.`mAP50(B)` >= 0.5``).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any, Callable

from .errors import InvalidInput
from .filter_parse import ENTITY_ALIASES, FilterError, tokenize
from .refs import STAGE_NAME_RE

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, "=": lambda a, b: math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12),
    "!=": lambda a, b: not math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12),
}


@dataclass(frozen=True)
class Rule:
    """A parsed gate rule."""

    text: str
    key: str
    column: str  # last, min or max
    op: str
    threshold: float | None = None  # absolute threshold
    stage: str | None = None  # compare against this stage's holder
    offset: float = 0.0  # added to the stage holder's value

    def describe_expected(self, reference: float | None, label: str | None = None) -> str:
        """The expected side in words, e.g. '>= 0.85' or '>= 0.9 (production 0.91 - 0.01)'."""
        if self.stage is None:
            return f"{self.op} {self.threshold:g}"
        if reference is None:
            return f"{self.op} {self.stage}"
        target = reference + self.offset
        # No mutation here: '> 0' for '>= 0' is equivalent, an offset of 0 has no tail.
        sign = "+" if self.offset >= 0 else "-"  # pragma: no mutate
        tail = f" {sign} {abs(self.offset):g}" if self.offset else ""
        return f"{self.op} {target:.6g} ({label or self.stage} {reference:.6g}{tail})"


@dataclass
class GateResult:
    """The outcome of one rule for one candidate version."""

    rule: str
    passed: bool
    actual: float | None
    expected: str
    detail: str
    skipped: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored with the stage history)."""
        return asdict(self)


def parse_rule(text: str) -> Rule:
    """Parse a gate rule; a bad rule raises InvalidInput pointing at the problem."""
    source = (text or "").strip()
    if not source:
        raise InvalidInput("empty gate rule", hint="write e.g. 'metrics.f1 >= 0.85'")
    try:
        tokens = tokenize(source)
    except FilterError as exc:
        raise InvalidInput(f"bad gate rule {source!r}: {exc.reason} at column {exc.column}") from None
    tokens = [t for t in tokens if t.kind != "END"]

    def bad(message: str) -> InvalidInput:
        return InvalidInput(f"bad gate rule {source!r}: {message}",
                            hint="write 'metrics.KEY OP NUMBER' or 'metrics.KEY OP STAGE [- NUMBER]'")

    if len(tokens) < 3 or tokens[0].kind != "IDENT" or tokens[1].kind != "OP":
        raise bad("expected a metric, an operator and a value")
    entity, _, key = str(tokens[0].value).partition(".")
    if ENTITY_ALIASES.get(entity.lower()) != "metrics" or not key:
        raise bad("gates compare metrics: start with metrics.<key>")
    column = "last"
    for suffix in (".min", ".max", ".last"):
        if key.endswith(suffix) and len(key) > len(suffix):
            key, column = key[: -len(suffix)], suffix[1:]
    op = tokens[1].value
    if op not in _OPS:
        raise bad(f"unknown operator {tokens[1].text!r}")
    rest = source[tokens[2].pos:].strip()
    if len(tokens) == 3 and tokens[2].kind == "NUMBER":
        return Rule(source, key, column, op, threshold=float(tokens[2].value))
    match = _STAGE_SIDE_RE.match(rest)
    if not match or not STAGE_NAME_RE.match(match["stage"]):
        raise bad(f"expected a number, or a stage with an optional '- NUMBER', after {op}")
    offset = 0.0
    if match["number"]:
        offset = -float(match["number"]) if match["sign"] == "-" else float(match["number"])
    return Rule(source, key, column, op, stage=match["stage"].lower(), offset=offset)


# "production", "production - 0.01", "staging+0.5": the stage side of a regression rule.
_STAGE_SIDE_RE = re.compile(
    r"^(?P<stage>[A-Za-z][A-Za-z0-9_]*)\s*(?:(?P<sign>[+-])\s*"
    r"(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))?$")


def evaluate(rule: Rule, candidate: float | None, reference: float | None,
             reference_label: str | None = None, *, skip_reason: str | None = None) -> GateResult:
    """Evaluate a rule for a candidate value (and the stage holder's value for regressions).

    A candidate without the metric fails.  A regression rule whose stage has no holder (or
    whose holder lacks the metric) is skipped and passes: there is nothing to regress from.
    """
    if rule.stage is not None and reference is None:
        detail = skip_reason or (f"no version holds {rule.stage}" if reference_label is None
                                 else f"{reference_label} has no {rule.key}")
        return GateResult(rule.text, True, candidate, rule.describe_expected(None),
                          f"skipped: {detail}", skipped=True)
    expected = rule.describe_expected(reference, reference_label)
    if candidate is None:
        return GateResult(rule.text, False, None, expected,
                          f"the candidate has no value for metrics.{rule.key}")
    target = rule.threshold if rule.stage is None else reference + rule.offset  # type: ignore[operator]
    passed = _OPS[rule.op](candidate, target)  # type: ignore[arg-type]
    detail = f"{candidate:.6g} {rule.op} {target:.6g}" if passed else \
        f"{candidate:.6g} is not {rule.op} {target:.6g}"
    return GateResult(rule.text, passed, candidate, expected, detail)
