"""Site confidentiality: what of other sites' participants a site user may receive (issue 15).

The rule, in one place: a user who belongs to a site (investigator, coordinator, a monitor of one
site) never receives participant-level data of another site — no study ID, infusion date, DLT,
response or status row — from any endpoint, page, report, export or audit row. They see their
arm's dose decision and its aggregate counts: the dose rows (treated, evaluable, DLTs,
responders, worst AE grades), the outcome notation and the design's input without study IDs
(``outcomes``, ``tite_input``, which reproduce the decision), the next step, and other sites'
participants as counts (``other_sites``). Users over every site (statistician, DSMB, a monitor
without a site) and system actors see everything.

Redaction happens where data leaves the service, after any cache, as pure functions of the
actor and the value:

- :func:`redact_for` — an :class:`~dosewise.trial.state.ArmState` (API, pages);
- :func:`redact_state_dict` — an arm state's dict form, as stored in a dose assignment's
  snapshot;
- :func:`audit_filter` — audit rows (``audit.as_dict``), which carry those snapshots and may
  name participants in free text: arm-state snapshots are redacted, and any remaining study ID
  of another site is replaced by :data:`PLACEHOLDER`.

Reports of every site (DSMB, ClinicalTrials.gov, SDTM, ODM) are refused to site users
(``report.exports.authorize_export``); they get no own-site version.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dosewise.store.tables import Site
from dosewise.trial.audit import Actor
from dosewise.trial.state import ArmState, PatientOutcome

#: What stands in for another site's study ID in free text.
PLACEHOLDER = "(another site)"
#: The parts of an audit row that hold recorded values.
_AUDIT_VALUES = ("before", "after", "context")


def confined_site(actor: Actor) -> str | None:
    """The site whose participants are the only ones ``actor`` may see (None: every site)."""
    return actor.site_id or None


def _tally(rows: Iterable[tuple[object, bool]]) -> dict[str, int]:
    """Participants as counts, from (status, treated) pairs: enrolled, pending, treated."""
    pairs = list(rows)
    return {
        "participants": len(pairs),
        "pending": sum(1 for status, _ in pairs if status == "pending"),
        "treated": sum(1 for _, treated in pairs if treated),
    }


def other_sites(hidden: Iterable[PatientOutcome]) -> dict[str, int]:
    """Other sites' participants of an arm as counts: enrolled, pending an outcome, treated."""
    return _tally((p.status, p.treated) for p in hidden)


def _ids_pattern(study_ids: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern matching exactly these study IDs in free text (None if there are none)."""
    names = sorted(set(study_ids), key=len, reverse=True)
    if not names:
        return None
    alternatives = "|".join(re.escape(n) for n in names)
    return re.compile(rf"(?<![A-Za-z0-9_-])(?:{alternatives})(?![0-9])")


def _text(value: Any, pattern: re.Pattern[str] | None) -> Any:
    """``value`` with every match of ``pattern`` in its strings replaced by the placeholder."""
    if pattern is None:
        return value
    if isinstance(value, str):
        return pattern.sub(PLACEHOLDER, value)
    if isinstance(value, Mapping):
        return {k: _text(v, pattern) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_text(v, pattern) for v in value)
    return value


def redact_for(actor: Actor, state: ArmState) -> ArmState:
    """``state`` as ``actor`` may see it: other sites' participants only as counts, and their
    study IDs out of every text (the next step's reason names pending participants)."""
    site = confined_site(actor)
    if site is None:
        return state
    own = tuple(p for p in state.patients if p.site_id == site)
    hidden = [p for p in state.patients if p.site_id != site]
    pattern = _ids_pattern(p.study_id for p in hidden)
    cohort = state.cohort
    if cohort is not None:
        own_ids = {p.study_id for p in own}
        members = [m for m in cohort.get("members", []) if m in own_ids]
        cohort = _text({**cohort, "members": members}, pattern)
    nxt = replace(
        state.next,
        reason=_text(state.next.reason, pattern),
        reason_params=_text(state.next.reason_params, pattern),
        decision=_text(state.next.decision, pattern),
    )
    return replace(
        state,
        patients=own,
        cohort=cohort,
        next=nxt,
        history=_text(state.history, pattern),
        note_codes=_text(state.note_codes, pattern),
        other_sites=other_sites(hidden),
    )


def redact_state_dict(actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """An arm state's dict form (``ArmState.to_dict()``, or a stored snapshot) as ``actor`` may
    see it; the same rule as :func:`redact_for`."""
    site = confined_site(actor)
    out = dict(data)
    if site is None:
        return out
    patients = [p for p in data.get("patients") or [] if isinstance(p, Mapping)]
    own_ids = {p.get("study_id") for p in patients if p.get("site_id") == site}
    hidden = [p for p in patients if p.get("site_id") != site]
    out["patients"] = [p for p in patients if p.get("site_id") == site]
    if "pending" in data:
        out["pending"] = [p for p in data.get("pending") or [] if p.get("study_id") in own_ids]
    cohort = data.get("cohort")
    if isinstance(cohort, Mapping):
        out["cohort"] = {
            **cohort,
            "members": [m for m in cohort.get("members", []) if m in own_ids],
        }
    out["other_sites"] = _tally((p.get("status"), bool(p.get("infused_on"))) for p in hidden)
    pattern = _ids_pattern(str(p.get("study_id")) for p in hidden if p.get("study_id"))
    return {k: v if k == "patients" else _text(v, pattern) for k, v in out.items()}


def _is_arm_state(value: Mapping[str, Any]) -> bool:
    return "arm_id" in value and isinstance(value.get("patients"), list)


def study_id_pattern(site_ids: Iterable[str], own: str) -> re.Pattern[str] | None:
    """A pattern matching the study IDs (``S02-0007``) of every site but ``own``."""
    others = sorted(s for s in site_ids if s != own)
    if not others:
        return None
    names = "|".join(re.escape(s) for s in others)
    return re.compile(rf"(?<![A-Za-z0-9_-])(?:{names})-\d+(?![0-9])")


def _scrub(actor: Actor, value: Any, pattern: re.Pattern[str] | None) -> Any:
    """``value`` with arm-state snapshots redacted and other sites' study IDs replaced."""
    if isinstance(value, Mapping):
        if _is_arm_state(value):
            value = redact_state_dict(actor, value)
        return {k: _scrub(actor, v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(actor, v, pattern) for v in value]
    if isinstance(value, str) and pattern is not None:
        return pattern.sub(PLACEHOLDER, value)
    return value


def redact_audit_row(
    actor: Actor, row: Mapping[str, Any], site_ids: Iterable[str]
) -> dict[str, Any]:
    """An audit row (``audit.as_dict``) as ``actor`` may see it; ``redacted`` says whether
    anything was taken out (the row's hash then no longer matches what is shown)."""
    out = dict(row)
    site = confined_site(actor)
    if site is None:
        return out
    pattern = study_id_pattern(site_ids, site)
    for name in _AUDIT_VALUES:
        if out.get(name) is not None:
            out[name] = _scrub(actor, out[name], pattern)
    if out.get("reason") and pattern is not None:
        out["reason"] = pattern.sub(PLACEHOLDER, out["reason"])
    out["redacted"] = any(out.get(n) != row.get(n) for n in (*_AUDIT_VALUES, "reason"))
    return out


def audit_filter(
    session: Session, actor: Actor
) -> Callable[[Mapping[str, Any]], dict[str, Any]] | None:
    """The filter every audit row shown to ``actor`` goes through (None: shown as recorded)."""
    if confined_site(actor) is None:
        return None
    site_ids = tuple(session.scalars(select(Site.id)))
    return lambda row: redact_audit_row(actor, row, site_ids)
