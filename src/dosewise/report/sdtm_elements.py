"""Each subject's elements (SDTM SE), the epoch of a record, the end of study and of
participation.

A subject passes the elements of :func:`dosewise.report.sdtm_design.elements` in order:
screening from consent or screening, lymphodepletion from the regimen's first dose (its last
dose given by the cut-off bounds participation), CAR-T from the infusion, follow-up from the end
of the DLT window. An element ends on the day the next one starts; a record's epoch is the
element its date falls in (an element's first day belongs to it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dosewise.report.sdtm_base import (
    Dataset,
    V,
    frame_of,
    iso,
    sequence,
    text,
    usubjid,
)
from dosewise.report.sdtm_design import Element, elements
from dosewise.report.trial_data import TrialData, records


@dataclass(frozen=True)
class Timeline:
    """A subject's elements: (element, start) in order, and the last day of participation."""

    steps: tuple[tuple[Element, date], ...]
    end: date

    def epoch(self, day: Any) -> str:
        """The epoch ``day`` falls in ('' without a date); before the first, the first."""
        if not isinstance(day, date) or not self.steps:
            return ""
        found = self.steps[0][0]
        for element, start in self.steps:
            if day >= start:
                found = element
        return found.epoch


#: Off-study reason codes (``trial.services``) → DSDECOD.
_OFF_STUDY = {
    "death": "DEATH",
    "withdrawal": "WITHDRAWAL BY SUBJECT",
    "lost_to_follow_up": "LOST TO FOLLOW-UP",
    "investigator_decision": "PHYSICIAN DECISION",
    "other": "OTHER",
    "sct": "OTHER",
    "new_therapy": "OTHER",
}


def end_of_study(data: TrialData, p: Any) -> tuple[str, str, date] | None:
    """(DSTERM, DSDECOD, date) of the subject's end of study, or None while on study.

    Death, leaving the study (its reason) and screen failure end participation; a treated
    subject on study at the end of the BOR window (``bor.last_day``) has
    COMPLETED the protocol's primary follow-up, dated the later of the window's end and their
    last record.
    """
    if p.death_on is not None:
        return "DEATH", "DEATH", p.death_on
    if p.off_study_on is not None:
        reason = text(p.off_study_reason)
        code = reason.split(":", 1)[0].strip()
        return (reason[:200] or code.upper(), _OFF_STUDY.get(code, "OTHER"), p.off_study_on)
    if p.enrolled_on is None and p.eligible is False and p.screened_on is not None:
        return "SCREEN FAILURE", "SCREEN FAILURE", p.screened_on
    bor = data.protocol.windows.bor
    if p.infused_on is not None:
        end = p.infused_on + timedelta(days=bor.last_day)
        if data.as_of >= end:
            last = max(d for d in (p.last_on, end) if isinstance(d, date))
            return "COMPLETED PRIMARY FOLLOW-UP (MONTH 3 RESPONSE)", "COMPLETED", last
    return None


def epoch_of(lines: Mapping[str, Timeline], study_id: str, day: Any) -> str:
    """The epoch of ``day`` in ``study_id``'s elements ('' without elements or a date)."""
    line = lines.get(study_id)
    return line.epoch(day) if line else ""


def end_of_participation(data: TrialData, p: Any) -> date | None:
    """``RFPENDTC``: the last day the subject is known to take part (any record, the end of
    study included)."""
    ended = end_of_study(data, p)
    days = [
        d
        for d in (
            p.last_on,
            p.screened_on,
            p.consent_on,
            p.off_study_on,
            p.death_on,
            ended[2] if ended else None,
        )
        if isinstance(d, date)
    ]
    return max(days) if days else None


def timelines(data: TrialData) -> dict[str, Timeline]:
    """Each subject's elements from their records (see the module doc)."""
    steps = {e.code: e for e in elements(data.protocol)}
    lymph: dict[str, tuple[date, date]] = {}
    for r in records(data.lymphodepletions):
        days = [int(d) for a in r.agents for d in a.get("days", [])]
        span = max(days) - min(days) if days else 0
        lymph[r.study_id] = (r.start_on, min(r.start_on + timedelta(days=span), data.as_of))
    out: dict[str, Timeline] = {}
    for p in records(data.participants):
        first = [d for d in (p.consent_on, p.screened_on) if isinstance(d, date)]
        end = end_of_participation(data, p)
        if not first or end is None:
            continue
        path: list[tuple[Element, date]] = [(steps["SCRN"], min(first))]
        if p.study_id in lymph:
            path.append((steps["LD"], lymph[p.study_id][0]))
            end = max(end, lymph[p.study_id][1])
        if isinstance(p.infused_on, date):
            path.append((steps["CART"], p.infused_on))
            follow = p.infused_on + timedelta(days=data.protocol.windows.dlt_days)
            if follow <= end:
                path.append((steps["FU"], follow))
        out[p.study_id] = Timeline(tuple(path), max(end, path[-1][1]))
    return out


SE_VARS = (
    V("STUDYID", "Study Identifier", origin="Assigned"),
    V("DOMAIN", "Domain Abbreviation", origin="Assigned"),
    V("USUBJID", "Unique Subject Identifier", origin="Derived"),
    V("SESEQ", "Sequence Number", "Num", origin="Derived"),
    V("ETCD", "Element Code", origin="Derived"),
    V("ELEMENT", "Description of Element", origin="Derived", core="Perm"),
    V("TAETORD", "Planned Order of Element within Arm", "Num", origin="Derived", core="Perm"),
    V("EPOCH", "Epoch", origin="Derived", core="Perm", codelist="EPOCH"),
    V("SESTDTC", "Start Date/Time of Element", origin="Derived"),
    V("SEENDTC", "End Date/Time of Element", origin="Derived", core="Exp"),
)


def se(data: TrialData, lines: dict[str, Timeline]) -> Dataset:
    """Subject Elements: an element ends on the day the next one starts (SDTMIG 3.4 §5.3)."""
    order = {e.code: float(i) for i, e in enumerate(elements(data.protocol), start=1)}
    rows = []
    for study_id in sorted(lines):
        line = lines[study_id]
        for i, (element, start) in enumerate(line.steps):
            end = line.steps[i + 1][1] if i + 1 < len(line.steps) else line.end
            rows.append(
                {
                    "STUDYID": data.nct_id,
                    "DOMAIN": "SE",
                    "USUBJID": usubjid(data.nct_id, study_id),
                    "ETCD": element.code,
                    "ELEMENT": element.name,
                    "TAETORD": order[element.code],
                    "EPOCH": element.epoch,
                    "SESTDTC": iso(start),
                    "SEENDTC": iso(end),
                }
            )
    return Dataset(
        "SE",
        "Subject Elements",
        "One record per actual Element per subject",
        SE_VARS,
        frame_of(sequence(rows, "SESEQ"), SE_VARS),
        "SPECIAL PURPOSE",
        ("STUDYID", "USUBJID", "ETCD", "SESTDTC"),
    )
