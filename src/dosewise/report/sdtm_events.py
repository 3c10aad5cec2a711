"""SDTM IE (criteria not met at screening) and DV (protocol deviations derived from the records).

IE follows SDTMIG 3.4 §6.3.4: one record per criterion **not met** per screening — an inclusion
criterion failed (``IEORRES`` N) or an exclusion criterion met (``IEORRES`` Y) — with the
criterion's code and text as in TI.

DV: the deviations the sites recorded (``protocol_deviations``, each signed by an investigator:
:func:`recorded_deviations`), then those the records themselves show
(:func:`derived_deviations`): an infused dose outside its level's ± tolerance, and a response
assessment at the BOR visit outside the protocol's window. :func:`deviations` joins them (a
derived one the log already holds is not repeated); DV, the define and the conformance test take
them as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from dosewise.report.sdtm_base import (
    EPOCH,
    STUDY,
    Dataset,
    V,
    frame_of,
    iso,
    sequence,
    study_day,
    usubjid,
)
from dosewise.report.sdtm_design import criterion_test, visit_names
from dosewise.report.sdtm_elements import Timeline
from dosewise.report.trial_data import TrialData, records

IE_VARS = (
    *STUDY,
    V("IESEQ", "Sequence Number", "Num", origin="Derived"),
    V("IESPID", "Sponsor-Defined Identifier", origin="Assigned", core="Perm"),
    V("IETESTCD", "Incl/Excl Criterion Short Name", origin="Assigned"),
    V("IETEST", "Inclusion/Exclusion Criterion", origin="Assigned"),
    V("IECAT", "Inclusion/Exclusion Category", origin="Assigned", codelist="IECAT"),
    V("IEORRES", "I/E Criterion Original Result", origin="Derived", codelist="NY"),
    V("IESTRESC", "I/E Criterion Result in Std Format", origin="Derived", codelist="NY"),
    V("VISITNUM", "Visit Number", "Num", origin="Assigned", core="Exp"),
    V("VISIT", "Visit Name", origin="Assigned", core="Perm"),
    EPOCH,
    V("IEDTC", "Date/Time of Collection", core="Perm"),
    V("IEDY", "Study Day of Collection", "Num", origin="Derived", core="Perm"),
)


def ie(data: TrialData) -> Dataset:
    """Inclusion/Exclusion criteria not met, from every stored screening."""
    criteria = {c.id: c for c in data.protocol.screening_criteria.criteria}
    reference = dict(
        zip(data.participants["study_id"], data.participants["infused_on"], strict=True)
    )
    screening_visit = visit_names(data.protocol)[1.0]
    rows = []
    ordered = data.screenings.sort_values(["study_id", "screened_on", "screening_id"])
    for s in records(ordered):
        for cid in s.failed_criteria:
            c = criteria.get(cid)
            kind = (
                str(c.kind).upper() if c else ("EXCLUSION" if cid.startswith("E") else "INCLUSION")
            )
            result = "N" if kind == "INCLUSION" else "Y"
            rows.append(
                {
                    "STUDYID": data.nct_id,
                    "DOMAIN": "IE",
                    "USUBJID": usubjid(data.nct_id, s.study_id),
                    "IESPID": f"SCREENING {s.screening_id}",
                    "IETESTCD": cid.upper()[:8],
                    "IETEST": criterion_test(c) if c else cid,
                    "IECAT": kind,
                    "IEORRES": result,
                    "IESTRESC": result,
                    "VISITNUM": 1.0,
                    "VISIT": screening_visit,
                    "EPOCH": "SCREENING",
                    "IEDTC": iso(s.screened_on),
                    "IEDY": study_day(s.screened_on, reference.get(s.study_id)),
                }
            )
    return Dataset(
        "IE",
        "Inclusion/Exclusion Criteria Not Met",
        "One record per I/E criterion not met per subject",
        IE_VARS,
        frame_of(sequence(rows, "IESEQ"), IE_VARS),
        "FINDINGS",
        ("STUDYID", "USUBJID", "IETESTCD"),
    )


@dataclass(frozen=True)
class Deviation:
    """One protocol deviation: who, what, its category, when."""

    study_id: str
    term: str
    decod: str
    category: str
    on: date


def derived_deviations(data: TrialData) -> list[Deviation]:
    """Deviations the records show: dose out of tolerance, BOR assessment out of window."""
    out: list[Deviation] = []
    levels = {lv.name: lv for lv in data.protocol.dose_levels.levels}
    for p in records(data.treated):
        level = levels.get(str(p.actual_level))
        if level is None or p.cells_per_kg is None:
            continue
        ratio = float(p.cells_per_kg) / level.cells_per_kg
        if abs(ratio - 1) > level.tolerance + 1e-9:
            out.append(
                Deviation(
                    p.study_id,
                    f"Infused {float(p.cells_per_kg):g} cells/kg, outside {level.name} "
                    f"+/-{level.tolerance:.0%}",
                    "DOSE OUTSIDE PROTOCOL RANGE",
                    "TREATMENT DEVIATION",
                    p.infused_on,
                )
            )
    bor = data.protocol.windows.bor
    target = int(bor.target_day.value)
    infused = dict(zip(data.participants["study_id"], data.participants["infused_on"], strict=True))
    for r in records(data.responses):
        start = infused.get(r.study_id)
        if str(r.timepoint) != "month_3" or not isinstance(start, date):
            continue
        low = start + timedelta(days=bor.first_day)
        high = start + timedelta(days=bor.last_day)
        if not low <= r.assessed_on <= high:
            out.append(
                Deviation(
                    r.study_id,
                    f"Month 3 response assessed on protocol day {(r.assessed_on - start).days}, "
                    f"outside day {target} -{bor.minus_days}/+{bor.plus_days}",
                    "VISIT OUT OF WINDOW",
                    "VISIT WINDOW DEVIATION",
                    r.assessed_on,
                )
            )
    return out


#: A recorded deviation's category (``protocol_deviations.category``) → DVDECOD, DVCAT.
RECORDED_TERMS: Mapping[str, tuple[str, str]] = {
    "dose_outside_windows": ("DOSE OUTSIDE PROTOCOL RANGE", "TREATMENT DEVIATION"),
    "visit_window": ("VISIT OUT OF WINDOW", "VISIT WINDOW DEVIATION"),
    "eligibility": ("ELIGIBILITY CRITERIA NOT MET", "ELIGIBILITY DEVIATION"),
    "consent": ("INFORMED CONSENT DEVIATION", "INFORMED CONSENT DEVIATION"),
    "procedure": ("PROCEDURE NOT PERFORMED PER PROTOCOL", "PROCEDURE DEVIATION"),
    "other": ("OTHER PROTOCOL DEVIATION", "OTHER DEVIATION"),
}


def recorded_deviations(data: TrialData) -> list[Deviation]:
    """The deviations the sites recorded (``protocol_deviations``, signed by an investigator)."""
    out = []
    for d in records(data.deviations):
        decod, category = RECORDED_TERMS.get(str(d.category), RECORDED_TERMS["other"])
        out.append(Deviation(str(d.study_id), str(d.description), decod, category, d.occurred_on))
    return out


def deviations(data: TrialData) -> list[Deviation]:
    """Every deviation DV reports: the recorded ones, then those the records show."""
    recorded = recorded_deviations(data)
    seen = {(d.study_id, d.decod, d.on) for d in recorded}
    derived = [d for d in derived_deviations(data) if (d.study_id, d.decod, d.on) not in seen]
    return recorded + derived


DV_VARS = (
    *STUDY,
    V("DVSEQ", "Sequence Number", "Num", origin="Derived"),
    V("DVTERM", "Protocol Deviation Term", origin="Derived"),
    V("DVDECOD", "Protocol Deviation Coded Term", origin="Derived", core="Perm"),
    V("DVCAT", "Category for Protocol Deviation", origin="Derived", core="Perm", codelist="DVCAT"),
    EPOCH,
    V("DVSTDTC", "Start Date/Time of Deviation", origin="Derived", core="Exp"),
    V("DVSTDY", "Study Day of Start of Deviation", "Num", origin="Derived", core="Perm"),
)


def dv(data: TrialData, lines: Mapping[str, Timeline]) -> Dataset:
    """Protocol Deviations (see the module doc for what is derived and the hook)."""
    reference = dict(
        zip(data.participants["study_id"], data.participants["infused_on"], strict=True)
    )
    rows = []
    for d in sorted(deviations(data), key=lambda d: (d.study_id, d.on, d.term)):
        line = lines.get(d.study_id)
        rows.append(
            {
                "STUDYID": data.nct_id,
                "DOMAIN": "DV",
                "USUBJID": usubjid(data.nct_id, d.study_id),
                "DVTERM": d.term[:200],
                "DVDECOD": d.decod,
                "DVCAT": d.category,
                "EPOCH": line.epoch(d.on) if line else "",
                "DVSTDTC": iso(d.on),
                "DVSTDY": study_day(d.on, reference.get(d.study_id)),
            }
        )
    return Dataset(
        "DV",
        "Protocol Deviations",
        "One record per protocol deviation",
        DV_VARS,
        frame_of(sequence(rows, "DVSEQ"), DV_VARS),
        "EVENTS",
        ("STUDYID", "USUBJID", "DVTERM", "DVSTDTC"),
    )
