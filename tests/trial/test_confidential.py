"""The site-confidentiality rule (``dosewise.trial.confidential``) on the scripted trial's arm
states: a user of one site keeps the decision and the counts and loses every other site's
participant; the object form (pages, API) and the dict form (stored snapshots, audit rows)
apply the same rule; users over every site get the state unchanged."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date

import pytest

from demo_trial import DemoTrial
from dosewise.trial.audit import Actor
from dosewise.trial.confidential import (
    PLACEHOLDER,
    audit_filter,
    redact_audit_row,
    redact_for,
    redact_state_dict,
)
from dosewise.trial.state import NextStep, arm_state

SITES = ("S01", "S02", "S03", "S04")
STUDY_ID = re.compile(r"\b(S0[1-4])-\d{4}\b")
#: A day when every arm waits for pending outcomes of several sites (the reason names them).
WAITING = date(2026, 3, 1)


def site_user(site: str) -> Actor:
    return Actor(user_id=5, username=f"coord.{site}", role="coordinator", site_id=site)


def others(text: str, own: str) -> set[str]:
    return {m.group(0) for m in STUDY_ID.finditer(text) if m.group(1) != own}


@pytest.mark.parametrize("arm", ["autologous", "prior_sct_donor", "new_donor"])
@pytest.mark.parametrize("on", [WAITING, date(2026, 12, 27)])
def test_a_site_user_keeps_the_decision_and_counts_and_no_other_sites_participant(
    demo_db: DemoTrial, arm: str, on: date
) -> None:
    with demo_db.db.sessions() as session:
        state = arm_state(session, arm, as_of=on)
    full = json.dumps(state.to_dict())
    assert others(full, "S01")  # there is something to hide
    for site in SITES:
        shown = redact_for(site_user(site), state)
        text = json.dumps(shown.to_dict())
        assert others(text, site) == set(), (site, others(text, site))
        assert shown.doses == state.doses and shown.outcomes == state.outcomes
        assert shown.next.action == state.next.action and shown.next.dose == state.next.dose
        assert [p.study_id for p in shown.patients] == [
            p.study_id for p in state.patients if p.site_id == site
        ]
        assert shown.other_sites is not None
        assert shown.other_sites["participants"] + len(shown.patients) == len(state.patients)
        assert len(shown.pending) + shown.other_sites["pending"] == len(state.pending)
        # the stored-snapshot form follows the same rule
        assert redact_state_dict(site_user(site), state.to_dict()) == shown.to_dict()
    for everyone in (Actor.system(), Actor(1, "stat", "statistician", None)):
        assert redact_for(everyone, state) is state
        assert redact_state_dict(everyone, state.to_dict()) == state.to_dict()


def test_the_waiting_reason_names_only_own_participants(demo_db: DemoTrial) -> None:
    """The design's wait names the pending participants (as in ``state.arm``); the live case is
    caught by the per-role schemathesis run (tests/e2e_api/test_schemathesis_trial.py)."""
    with demo_db.db.sessions() as session:
        closed = arm_state(session, "autologous", as_of=WAITING)
    names = "; ".join(f"{p.study_id} (dlt, response)" for p in closed.pending)
    state = replace(closed, next=NextStep("wait", f"The next patient must wait: {names}."))
    assert others(state.next.reason, "S01")
    reason = redact_for(site_user("S01"), state).next.reason
    assert PLACEHOLDER in reason and others(reason, "S01") == set()
    own = [p.study_id for p in closed.pending if p.site_id == "S01"]
    assert own and all(o in reason for o in own)  # the site's own pending are still named


def test_an_audit_row_loses_other_sites_ids_but_not_dates_or_own_ids(demo_db: DemoTrial) -> None:
    with demo_db.db.sessions() as session:
        snapshot = arm_state(session, "new_donor", as_of=WAITING).snapshot()
        shown = audit_filter(session, site_user("S02"))
        assert audit_filter(session, Actor(1, "monall", "monitor", None)) is None
    assert shown is not None
    row = {
        "seq": 7,
        "before": None,
        "after": {"state": snapshot, "note": "S01-0003 and S02-0008 on 2026-01-11"},
        "context": {"via": "api"},
        "reason": "S03-0001 withdrew",
    }
    out = shown(row)
    assert out["redacted"] is True
    assert others(json.dumps(out), "S02") == set()
    assert out["after"]["note"] == f"{PLACEHOLDER} and S02-0008 on 2026-01-11"
    assert out["reason"] == f"{PLACEHOLDER} withdrew"
    assert out["after"]["state"]["other_sites"]["participants"] > 0
    plain = {"seq": 8, "before": None, "after": {"x": 1}, "context": None, "reason": None}
    assert redact_audit_row(site_user("S02"), plain, SITES)["redacted"] is False
