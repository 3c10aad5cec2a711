"""The DLT adjudication lifecycle as the read model derives it: provisional, final, reopened.

- A **provisional** "no DLT so far" (recorded while the DLT window is open) leaves the
  participant pending: BOIN12 waits, TITE-BOIN12 uses the follow-up.
- A **final** adjudication decides the toxicity outcome (DLT, no DLT, not evaluable).
- A final "no DLT" or "not evaluable" is **reopened** by an adverse event recorded or corrected
  after it, with onset inside the DLT window, that the protocol's DLT rule
  (``clinical.classify_dlts``) classifies as DLT or possible DLT (``evaluation.dlt_adjudication
  .reopen_on``). The participant then *needs re-adjudication*: pending again, and the arm's next
  dose assignment is refused until an investigator adjudicates again (e-signed). A final DLT is
  not reopened: the toxicity outcome is already 1 whatever else happens.

Which events an adjudication saw is kept in its evaluation (``event_versions``: event id →
version), so "recorded or corrected after" needs no clock. The services
(``services.dlt``, ``services.adverse_events``, ``services.dosing``) enforce what this derives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from dosewise.clinical import AdverseEvent as ClinicalEvent
from dosewise.clinical import DltDefinition, classify_dlts, definition_from_mapping
from dosewise.errors import DosewiseError
from dosewise.protocol import Protocol
from dosewise.protocol.evaluation import DltAdjudicationRules
from dosewise.store.tables import AdverseEvent, DltAdjudication
from dosewise.trial.audit import canonical_json, sha256_hex
from dosewise.trial.state.reasons import reason_text

_DEFINITIONS: dict[str, DltDefinition] = {}
#: Without an ``evaluation`` block: an event the rule calls DLT or possible DLT reopens.
_REOPEN_ON = ("dlt", "pending", "indeterminate")


def dlt_definition(protocol: Protocol) -> DltDefinition:
    """The protocol's DLT block as the classifier's definition (built once per version)."""
    block = protocol.dlt.model_dump(mode="json")
    key = sha256_hex(canonical_json(block))
    if key not in _DEFINITIONS:
        _DEFINITIONS[key] = definition_from_mapping(block, "dlt")
    return _DEFINITIONS[key]


def adjudication_rules(protocol: Protocol) -> DltAdjudicationRules | None:
    """The protocol's adjudication rules (``evaluation.dlt_adjudication``), if it has them."""
    return None if protocol.evaluation is None else protocol.evaluation.dlt_adjudication


def clinical_events(rows: Sequence[AdverseEvent]) -> list[ClinicalEvent]:
    """The stored events as the DLT rule's values (exactly as recorded)."""
    return [
        ClinicalEvent.from_mapping((row.components or {}).get("event") or {}, f"events[{i}]")
        for i, row in enumerate(rows)
    ]


def event_versions(rows: Sequence[AdverseEvent]) -> dict[str, int]:
    """What an adjudication saw: each event's id and version (kept in its evaluation)."""
    return {str(row.id): int(row.version) for row in rows}


@dataclass(frozen=True)
class Adjudication:
    """A participant's DLT adjudication (final or provisional), as the read model keeps it."""

    id: int
    is_dlt: bool
    evaluable: bool
    adverse_event_id: int | None
    dlt_event_ids: tuple[int, ...]
    rule_id: str | None
    rationale: str | None
    adjudicated_on: date
    status: str = "final"
    adjudicated_at: datetime | None = None
    #: (event id, version) of every event the adjudication saw; None for older records.
    seen: tuple[tuple[int, int], ...] | None = None
    not_evaluable_reason: str | None = None

    @classmethod
    def of(cls, row: DltAdjudication) -> Adjudication:
        evaluation = row.evaluation or {}
        items = evaluation.get("dlt_event_ids")
        ids = [int(i) for i in items if isinstance(i, int)] if isinstance(items, list) else []
        versions = evaluation.get("event_versions")
        seen = (
            tuple(sorted((int(k), int(v)) for k, v in versions.items()))
            if isinstance(versions, Mapping)
            else None
        )
        reason = evaluation.get("not_evaluable_reason")
        return cls(
            id=row.id,
            is_dlt=bool(row.is_dlt),
            evaluable=bool(row.evaluable),
            adverse_event_id=row.adverse_event_id,
            dlt_event_ids=tuple(ids),
            rule_id=row.rule_id,
            rationale=row.rationale or evaluation.get("reason"),
            adjudicated_on=row.adjudicated_at.date(),
            status=row.status,
            adjudicated_at=row.adjudicated_at,
            seen=seen,
            not_evaluable_reason=reason if isinstance(reason, str) else None,
        )


@dataclass(frozen=True)
class Reopening:
    """Why a final adjudication is reopened: the events that were new or changed since."""

    adjudication_id: int
    events: tuple[dict[str, Any], ...]

    @property
    def event_ids(self) -> tuple[int, ...]:
        return tuple(int(e["id"]) for e in self.events)

    #: The reason's code in the reason catalog (:mod:`dosewise.trial.state.reasons`).
    reason_code: ClassVar[str] = "reopened"

    @property
    def reason_params(self) -> dict[str, Any]:
        keys = ("term", "grade", "onset_day", "status")
        return {"events": [{k: e[k] for k in keys} for e in self.events]}

    @property
    def reason(self) -> str:
        """The reason in English (the stored and logged text)."""
        return self.text("en")

    def text(self, lang: str = "en") -> str:
        """The reason in ``lang`` ("en" or "zh")."""
        return reason_text(self.reason_code, self.reason_params, lang)

    def as_reason(self) -> dict[str, Any]:
        """The reason as a refusal's parameter: code, parameters and English text."""
        return {
            "reason_code": self.reason_code,
            "reason_params": self.reason_params,
            "reason": self.reason,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "adjudication_id": self.adjudication_id,
            "events": list(self.events),
            **self.as_reason(),
        }


def _changed(adjudication: Adjudication, row: AdverseEvent) -> bool:
    if adjudication.seen is not None:
        seen = dict(adjudication.seen)
        return row.id not in seen or int(row.version) > seen[row.id]
    at = adjudication.adjudicated_at
    return at is not None and row.recorded_at > at


def reopening(
    adjudication: Adjudication | None,
    rows: Sequence[AdverseEvent],
    infused_on: date,
    protocol: Protocol,
    as_of: date,
    *,
    death_date: date | None = None,
    off_study_date: date | None = None,
) -> Reopening | None:
    """Whether a final "no DLT" / "not evaluable" adjudication is reopened (see the module doc).

    ``rows`` are all the participant's adverse events (their ``components`` are read only when
    an event in the window is new or changed since the adjudication).
    """
    if adjudication is None or adjudication.status != "final" or adjudication.is_dlt:
        return None
    window_end = infused_on + timedelta(days=protocol.dlt.window_days)
    ends = [d for d in (death_date, off_study_date) if d is not None]
    observed = min([max(as_of, infused_on), *ends])
    usable = [r for r in rows if r.onset_on <= observed]
    changed = [
        i
        for i, r in enumerate(usable)
        if infused_on <= r.onset_on <= window_end and _changed(adjudication, r)
    ]
    if not changed:
        return None
    rules = adjudication_rules(protocol)
    reopen_on = _REOPEN_ON if rules is None else rules.reopen_on
    try:
        assessment = classify_dlts(
            clinical_events(usable),
            dlt_definition(protocol),
            infused_on,
            assessed_on=max(as_of, infused_on),
            death_date=death_date,
            off_study_date=None if death_date is not None else off_study_date,
        )
        status = {e.index: e.status for e in assessment.events}
    except DosewiseError:  # an event the rule cannot read: the investigator must look at it
        status = {i: "indeterminate" for i in changed}
    hits = [
        {
            "id": usable[i].id,
            "term": usable[i].term,
            "grade": int(usable[i].grade),
            "onset_day": (usable[i].onset_on - infused_on).days,
            "status": status.get(i, "not_dlt"),
        }
        for i in changed
        if status.get(i, "not_dlt") in reopen_on
    ]
    if not hits:
        return None
    return Reopening(adjudication.id, tuple(hits))
