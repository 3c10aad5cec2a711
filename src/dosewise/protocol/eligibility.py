"""Eligibility: the protocol's inclusion and exclusion criteria applied to a screening record.

Each criterion is data (its registry text, the arms it applies to, and the checks it is made of,
combined with *all* or *any*); :func:`assess` applies them with three-valued logic, so missing
data make a criterion *not assessed* rather than failed. For an exclusion criterion *met* means
the excluding condition is present. The overall answer for an arm is *ineligible* when any
criterion fails, *incomplete* when none fails but some could not be assessed, else *eligible*.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Literal

from pydantic import Field, model_validator

from dosewise.errors import InvalidInput
from dosewise.protocol.base import Assumable, Frozen
from dosewise.protocol.checks import Check, Context, EvidenceItem, FindingCheck, Outcome, item
from dosewise.protocol.consent import ConsentRules
from dosewise.protocol.localized import Localized, LocalText
from dosewise.protocol.problems import raise_problems
from dosewise.protocol.screening import ScreeningRecord

Kind = Literal["inclusion", "exclusion"]
Status = Literal["met", "not_met", "not_assessed", "not_applicable"]
Verdict = Literal["pass", "fail", "unknown"]
Overall = Literal["eligible", "ineligible", "incomplete"]


def kleene(values: Sequence[bool | None], combine: Literal["all", "any"]) -> bool | None:
    """Three-valued AND / OR: a known answer wins over a missing one when it decides the result."""
    decisive = combine == "any"  # True decides "any"; False decides "all"
    if any(v is decisive for v in values):
        return decisive
    if any(v is None for v in values):
        return None
    return not decisive


class Criterion(Assumable, Localized):
    """One inclusion or exclusion criterion: registry text plus the checks that decide it."""

    ZH_FIELDS = ("title", "text")

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
    kind: Kind
    number: int = Field(ge=1)
    title: str | None = None
    text: str = Field(min_length=1)
    arms: tuple[str, ...] | None = None
    combine: Literal["all", "any"] = "all"
    checks: tuple[Check, ...] = Field(min_length=1)

    def applies_to(self, arm: str) -> bool:
        return self.arms is None or arm in self.arms

    def describe(self) -> str:
        joiner = " and " if self.combine == "all" else " or "
        return joiner.join(check.describe() for check in self.checks)


class EligibilityCriteria(Frozen):
    """All criteria of a protocol, numbered as in the registry."""

    criteria: tuple[Criterion, ...] = Field(min_length=1)
    #: Each finding's name in words, in English and Chinese (default: the code).
    finding_names: dict[str, LocalText] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique(self) -> EligibilityCriteria:
        problems: list[tuple[str, object, str]] = []
        # Which finding a name belongs to is checked with the arm requirements too (the
        # protocol's cross-section check: ``unread_finding_names``).
        ids: set[str] = set()
        numbers: set[tuple[str, int]] = set()
        for i, crit in enumerate(self.criteria):
            if crit.id in ids:
                problems.append((f"criteria[{i}].id", crit.id, "duplicate criterion id"))
            if (crit.kind, crit.number) in numbers:
                problems.append(
                    (f"criteria[{i}].number", crit.number, f"duplicate {crit.kind} number")
                )
            ids.add(crit.id)
            numbers.add((crit.kind, crit.number))
        raise_problems(problems)
        return self

    def unread_finding_names(self, *more: Criterion) -> list[str]:
        """Names in ``finding_names`` that no criterion (of these or ``more``) reads."""
        known = set(self.findings) | {
            check.name for crit in more for check in crit.checks if isinstance(check, FindingCheck)
        }
        return [name for name in self.finding_names if name not in known]

    def finding_name(self, name: str, lang: str | None = "en") -> str:
        """A finding in words, in ``lang``; the code when the file names it nowhere."""
        named = self.finding_names.get(name)
        return named.text(lang) if named is not None else name.replace("_", " ")

    @property
    def findings(self) -> tuple[str, ...]:
        """Every finding name a criterion reads, in file order."""
        names = [
            check.name
            for crit in self.criteria
            for check in crit.checks
            if isinstance(check, FindingCheck)
        ]
        return tuple(dict.fromkeys(names))


class CriterionResult(Frozen):
    """How one criterion came out for one candidate and arm, with the evidence used."""

    id: str
    kind: Kind
    number: int
    title: str
    text: str
    status: Status
    verdict: Verdict
    evidence: tuple[str, ...]
    missing: tuple[str, ...]
    assumption: bool
    #: The evidence as data (code + values), for pages and reports in any language.
    evidence_items: tuple[EvidenceItem, ...] = ()


class ScreeningResult(Frozen):
    """Every criterion's result and the overall answer for one arm."""

    subject_id: str | None
    arm: str
    screening_date: str
    overall: Overall
    failed: tuple[str, ...]
    not_assessed: tuple[str, ...]
    missing: tuple[str, ...]
    criteria: tuple[CriterionResult, ...]


def _verdict(kind: Kind, status: Status) -> Verdict:
    if status == "not_assessed":
        return "unknown"
    if status == "not_applicable":
        return "pass"
    return "pass" if (status == "met") == (kind == "inclusion") else "fail"


def _check_findings(record: ScreeningRecord, known: Sequence[str]) -> None:
    for name, value in record.findings.items():
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InvalidInput(
                f"findings.{name}", value, f"is not a finding this protocol's criteria use{hint}"
            )


def assess_criterion(
    crit: Criterion, record: ScreeningRecord, arm: str, ctx: Context
) -> CriterionResult:
    """Apply one criterion to a record for an arm."""
    if not crit.applies_to(arm):
        arms = ", ".join(crit.arms or ())
        outcomes = [
            Outcome(
                None,
                f"not applicable: applies to arm(s) {arms} only",
                items=(item("not_applicable", arms=list(crit.arms or ())),),
            )
        ]
        status: Status = "not_applicable"
    else:
        outcomes = [check.assess(record, ctx) for check in crit.checks]
        value = kleene([o.value for o in outcomes], crit.combine)
        status = "not_assessed" if value is None else ("met" if value else "not_met")
    missing = () if status != "not_assessed" else tuple(m for o in outcomes for m in o.missing)
    return CriterionResult(
        id=crit.id,
        kind=crit.kind,
        number=crit.number,
        title=crit.title or crit.text,
        text=crit.text,
        status=status,
        verdict=_verdict(crit.kind, status),
        evidence=tuple(o.evidence for o in outcomes),
        missing=tuple(dict.fromkeys(missing)),
        assumption=crit.assumption,
        evidence_items=tuple(i for o in outcomes for i in o.items),
    )


def assess(
    criteria: EligibilityCriteria,
    record: ScreeningRecord,
    arm: str,
    arms: Sequence[str],
    consent_rules: ConsentRules,
) -> ScreeningResult:
    """Screen ``record`` for ``arm`` (one of ``arms``) against every criterion.

    Raises :class:`InvalidInput` for an unknown arm or a finding no criterion uses.
    """
    if arm not in arms:
        raise InvalidInput("arm", arm, f"must be one of {', '.join(arms)}")
    _check_findings(record, criteria.findings)
    ctx = Context(consent_rules=consent_rules)
    results = tuple(assess_criterion(c, record, arm, ctx) for c in criteria.criteria)
    failed = tuple(r.id for r in results if r.verdict == "fail")
    unknown = tuple(r.id for r in results if r.verdict == "unknown")
    overall: Overall = "ineligible" if failed else ("incomplete" if unknown else "eligible")
    missing = tuple(dict.fromkeys(m for r in results for m in r.missing))
    return ScreeningResult(
        subject_id=record.subject_id,
        arm=arm,
        screening_date=record.screening_date.isoformat(),
        overall=overall,
        failed=failed,
        not_assessed=unknown,
        missing=missing,
        criteria=results,
    )
