"""Where a participant stands, for the top of the participant page: the steps from consent to
the best overall response, each done, current, failed or still to come, and the next step.

Only the order of the acts the services enforce is shown here (consent before screening, as
criterion I8 requires; the infusion after the release and the lymphodepletion ...): every
"done" is read from a record the page already holds, so nothing here decides anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: (step, the page section that records it).
STEPS: tuple[tuple[str, str], ...] = (
    ("consent", "consent"),
    ("screening", "screening"),
    ("enrollment", "enroll"),
    ("dose", "assign"),
    ("product", "release"),
    ("lymphodepletion", "lymphodepletion"),
    ("infusion", "infusion"),
    ("dlt_window", "dlt"),
    ("response", "response"),
    ("bor", "response"),
)


@dataclass(frozen=True)
class Step:
    key: str
    section: str
    #: done, current, failed (screen failure), todo, stopped (off study).
    state: str


def _done(record: Mapping[str, Any]) -> dict[str, bool]:
    assignments = record["dose_assignments"]
    return {
        "consent": any(c.get("valid") for c in record["consents"]),
        "screening": any(s.get("eligible") for s in record["screenings"]),
        "enrollment": record.get("enrollment") is not None,
        "dose": any(a.get("status") == "confirmed" for a in assignments),
        "product": any(p.get("status") == "released" for p in record["products"]),
        "lymphodepletion": bool(record["lymphodepletions"]),
        "infusion": record.get("infusion") is not None,
        "dlt_window": any(d.get("status") == "final" for d in record["dlt_adjudications"]),
        "response": bool(record["response_assessments"]),
        "bor": record.get("best_response") is not None,
    }


def steps(record: Mapping[str, Any]) -> list[Step]:
    """Every step in order, with its state; the first step not done is the current one."""
    done = _done(record)
    off = record.get("off_study_on") is not None
    failed = record.get("status") == "screen_failed"
    out: list[Step] = []
    current_seen = False
    for key, section in STEPS:
        if done[key]:
            state = "done"
        elif current_seen:
            state = "stopped" if off else "todo"
        else:
            current_seen = True
            state = "stopped" if off else ("failed" if failed and key == "screening" else "current")
        out.append(Step(key, section, state))
    return out


def next_step(record: Mapping[str, Any]) -> Step | None:
    """The step to do next (None when every step is done or the participant is off study)."""
    return next((s for s in steps(record) if s.state in ("current", "failed")), None)


#: Page sections and the forms (``active``) that belong to them.
SECTION_FORMS: dict[str, tuple[str, ...]] = {
    "consent": ("consent",),
    "screening": ("screening",),
    "enroll": ("enroll",),
    "dose": ("assign", "confirm"),
    "product": ("release", "lymphodepletion", "infusion"),
    "visits": (),
    "ae": ("ae", "ae_update"),
    "dlt": ("dlt",),
    "response": ("response",),
    "queries": ("query",),
}


def section_has_data(
    record: Mapping[str, Any], visits: bool, queries: bool = False
) -> dict[str, bool]:
    """Which page sections hold a record (the others are shown folded); ``queries``: the
    participant has data queries."""
    return {
        "consent": bool(record["consents"]),
        "screening": bool(record["screenings"]),
        "enroll": record.get("enrollment") is not None,
        "dose": bool(record["dose_assignments"]),
        "product": bool(record["products"] or record["lymphodepletions"] or record.get("infusion")),
        "visits": visits,
        "ae": bool(record["adverse_events"]),
        "dlt": bool(record["dlt_adjudications"]),
        "response": bool(record["response_assessments"] or record.get("best_response")),
        "queries": queries,
    }


def folded(
    record: Mapping[str, Any],
    visits: bool,
    active: str | None,
    extra_open: frozenset[str],
    queries: bool = False,
) -> frozenset[str]:
    """The sections to fold: no record, not the next step's, no form of theirs just posted."""
    data = section_has_data(record, visits, queries)
    upcoming = next_step(record)
    current = {
        "assign": "dose",
        "release": "product",
        "lymphodepletion": "product",
        "infusion": "product",
    }.get(upcoming.section if upcoming else "", upcoming.section if upcoming else "")
    out = set()
    for section, forms in SECTION_FORMS.items():
        posted = active is not None and any(active.startswith(f) for f in forms)
        if not data[section] and section != current and not posted and section not in extra_open:
            out.add(section)
    return frozenset(out)
