"""When a participant's best overall response is final (issue 14 item 7).

The BOR window closing is not enough: a BOR is final only after

- an evaluable assessment inside the protocol's BOR window (``windows.bor``, the month-3
  assessment, study days 83-97 for NCT07070323),
- progression (an assessment classified PD),
- death, or
- a censoring event (``evaluation.bor.censoring_events``: stem-cell transplantation or a new
  anti-cancer therapy), recorded as leaving the study with that reason code,

each as ``evaluation.bor.final_after`` lists. A participant with only a day-28 assessment keeps
a provisional BOR, and the phase 2 (BOP2) looks leave them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dosewise.clinical import BestResponse
from dosewise.protocol import Protocol
from dosewise.store.tables import Participant

#: Without an ``evaluation`` block: every way to a final BOR, SCT and new therapy censor.
_FINAL_AFTER = ("month3_assessment", "progression", "death", "censoring")
_CENSORING = ("sct", "new_therapy")


@dataclass(frozen=True)
class Censoring:
    """A participant's censoring events for the BOR (from the off-study reason code)."""

    sct_on: date | None = None
    new_therapy_on: date | None = None

    @property
    def on(self) -> date | None:
        days = [d for d in (self.sct_on, self.new_therapy_on) if d is not None]
        return min(days) if days else None


def censoring_codes(protocol: Protocol) -> tuple[str, ...]:
    """The protocol's censoring event codes (``evaluation.bor.censoring_events``)."""
    if protocol.evaluation is None:
        return _CENSORING
    return tuple(c.code for c in protocol.evaluation.bor.censoring_events)


def censoring(p: Participant, protocol: Protocol) -> Censoring:
    """The censoring event a participant left the study for, if any."""
    if p.off_study_on is None:
        return Censoring()
    code = (p.off_study_reason or "").split(":", 1)[0].strip()
    if code not in censoring_codes(protocol):
        return Censoring()
    if code == "sct":
        return Censoring(sct_on=p.off_study_on)
    return Censoring(new_therapy_on=p.off_study_on)


def bor_final(
    best: BestResponse,
    infused_on: date,
    protocol: Protocol,
    *,
    died_on: date | None,
    censored: Censoring,
    as_of: date,
) -> tuple[bool, str]:
    """Whether ``best`` is final on ``as_of``, and why (or what it waits for)."""
    ways = _FINAL_AFTER if protocol.evaluation is None else protocol.evaluation.bor.final_after
    window = protocol.windows.bor
    first = infused_on + timedelta(days=window.first_day)
    last = infused_on + timedelta(days=window.last_day)
    if "death" in ways and died_on is not None and died_on <= as_of:
        return True, f"final: died on {died_on.isoformat()}"
    if "censoring" in ways and censored.on is not None and censored.on <= as_of:
        return True, f"final: censored on {censored.on.isoformat()}"
    seen = [r for r in best.responses if r.on <= as_of]
    if "progression" in ways and any(r.category == "PD" for r in seen):
        return True, "final: progression"
    if "month3_assessment" in ways and any(
        first <= r.on <= last and r.category != "NE" for r in seen
    ):
        return True, f"final: {window.label} assessment"
    if as_of > last:
        return False, f"not final: no evaluable {window.label} assessment was recorded"
    return False, f"not final: awaiting the {window.label} assessment (by {last.isoformat()})"
