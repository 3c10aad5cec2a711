"""Through the API, on SQLite and PostgreSQL: the DLT adjudication lifecycle, the final BOR and
incomplete screenings (issue 14 items 1, 7 and 8).

An early final "no DLT" is refused (409 ``dlt_window_open``) and recorded as provisional
instead; after the window it becomes final; a grade 4 CRS recorded later with onset inside the
window reopens it: the participant and the arm show "needs re-adjudication", the arm's next
dose assignment is refused (409 ``needs_readjudication`` naming the participant) until an
investigator re-adjudicates with an e-signature; every step is audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from api_helpers import API, as_of, call, login, recruit
from fastapi.testclient import TestClient

from dosewise.server import create_app
from dosewise.store.session import open_database
from dosewise.trial.demo import plan
from pg import PASSWORD, FakeClock, backend, backend_params, db_url, make_settings  # noqa: F401

pytestmark = pytest.mark.parametrize("backend", backend_params(), indirect=True)


@pytest.fixture
def env(db_url: str) -> Iterator[tuple[TestClient, FakeClock]]:  # noqa: F811
    settings = make_settings(db_url)
    db = open_database(settings)
    clock = FakeClock()
    with TestClient(create_app(settings, clock=clock, db=db)) as c:
        yield c, clock
    db.dispose()


class Users:
    """Logged-in users; moving the clock logs them in again (tokens expire)."""

    def __init__(self, client: TestClient, clock: FakeClock) -> None:
        self.client, self.clock = client, clock
        self.h: dict[str, dict[str, str]] = {}
        self.advance(0)

    def advance(self, days: int) -> None:
        self.clock.advance(days=days)
        self.h = {u: login(self.client, u) for u in ("coord1", "stat", "inv1")}

    def __getitem__(self, user: str) -> dict[str, str]:
        return self.h[user]


def treat(client: TestClient, u: Users) -> str:
    """Recruit, assign, confirm, release, lymphodeplete and infuse one autologous participant."""
    coord, stat = u["coord1"], u["stat"]
    sid = recruit(client, coord, "S01", "autologous", as_of(client, coord).isoformat())
    call(client, coord, "POST", f"/participants/{sid}/dose-assignment", {})
    call(
        client, stat, "POST", f"/participants/{sid}/dose-assignment/confirm", {"password": PASSWORD}
    )
    start = as_of(client, coord)
    prod = call(
        client,
        coord,
        "POST",
        f"/participants/{sid}/products",
        {
            "lot": f"CD5-{sid}",
            "certificate": plan.certificate(1e6, 60.0, False),
            "weight_kg": 60.0,
            "released_on": start.isoformat(),
        },
    )
    u.advance(3)
    coord = u["coord1"]
    call(
        client,
        coord,
        "POST",
        f"/participants/{sid}/lymphodepletion",
        {
            "regimen": "Flu/Cy",
            "agents": [dict(a) for a in plan.LYMPHODEPLETION_AGENTS],
            "start_on": (start + timedelta(days=1)).isoformat(),
            "end_on": (start + timedelta(days=3)).isoformat(),
        },
    )
    u.advance(2)
    coord = u["coord1"]
    body = {"infused_on": as_of(client, coord).isoformat(), "infused_volume_ml": prod["volume_ml"]}
    call(client, coord, "POST", f"/participants/{sid}/infusion", body)
    return sid


def grade4_crs(d0: date, day: int) -> dict[str, Any]:
    """A grade 4 CRS with onset on study day ``day`` (a DLT under the protocol's rule)."""
    on = d0 + timedelta(days=day)
    return {
        "term": "Cytokine release syndrome",
        "onset_on": on.isoformat(),
        "crs": plan.crs(fever=True, hypotension=True, vasopressors=2),
        "course": [
            {"date": on.isoformat(), "grade": 4},
            {"date": (on + timedelta(days=4)).isoformat(), "grade": 2},
        ],
        "resolved_on": (on + timedelta(days=8)).isoformat(),
        "serious": True,
        "attribution": "definite",
    }


def post(client: TestClient, h: dict[str, str], path: str, body: Any) -> Any:
    return client.post(API + path, json=body, headers=h)


def test_provisional_final_reopened_readjudicated(env: tuple[TestClient, FakeClock]) -> None:
    client, clock = env
    u = Users(client, clock)
    sid = treat(client, u)
    d0 = as_of(client, u["coord1"])
    adjudicate = f"/participants/{sid}/dlt-adjudications"

    # Day 5: a final "no DLT" is refused; without "final" it is recorded as provisional.
    u.advance(5)
    inv = u["inv1"]
    r = post(client, inv, adjudicate, {"is_dlt": False, "final": True})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "dlt_window_open"
    early = post(client, inv, adjudicate, {"is_dlt": False})
    assert early.status_code == 201, early.text
    assert early.json()["status"] == "provisional"
    outcome = call(client, inv, "GET", f"/participants/{sid}")["outcome"]
    assert outcome["toxicity_status"] == "pending"
    assert outcome["provisional_no_dlt"] == as_of(client, inv).isoformat()
    assert "no DLT so far" in outcome["toxicity_reason"]
    # "Not evaluable" needs one of the protocol's reasons.
    r = post(client, inv, adjudicate, {"evaluable": False, "rationale": "withdrew"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "not_evaluable_reason"

    # After the window the rule's "no DLT" is final.
    u.advance(25)
    coord, inv = u["coord1"], u["inv1"]
    final = call(client, inv, "POST", adjudicate, {})
    assert (final["status"], final["is_dlt"], final["evaluable"]) == ("final", False, True)
    state = call(client, inv, "GET", "/arms/autologous/state")
    assert state["needs_readjudication"] == []

    # A grade 4 CRS with onset on day 8, recorded now, reopens it.
    call(client, coord, "POST", f"/participants/{sid}/adverse-events", grade4_crs(d0, 8))
    record = call(client, inv, "GET", f"/participants/{sid}")
    assert record["needs_readjudication"] is True
    assert record["outcome"]["toxicity_status"] == "pending"
    assert "needs re-adjudication" in record["outcome"]["toxicity_reason"]
    state = call(client, inv, "GET", "/arms/autologous/state")
    assert state["needs_readjudication"] == [sid]

    # The arm's next dose is refused, naming the participant.
    other = recruit(client, coord, "S01", "autologous", as_of(client, coord).isoformat())
    r = post(client, coord, f"/participants/{other}/dose-assignment", {})
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert (error["code"], error["field"]) == ("needs_readjudication", "study_id")
    assert sid in error["message"]

    # Re-adjudication needs a rationale and the investigator's e-signature.
    r = post(client, inv, adjudicate, {"rationale": "grade 4 CRS on day 8"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "password"
    again = call(
        client, inv, "POST", adjudicate, {"rationale": "grade 4 CRS on day 8", "password": PASSWORD}
    )
    assert (again["status"], again["is_dlt"]) == ("final", True)
    assert again["signature"] is not None and again["reopened"]["events"]
    assert call(client, inv, "GET", f"/participants/{sid}")["needs_readjudication"] is False
    call(client, coord, "POST", f"/participants/{other}/dose-assignment", {})

    # Every step is in the audit trail.
    trail = call(client, inv, "GET", "/audit?entity=dlt_adjudications&limit=1000")
    actions = {e["action"] for e in trail["records"]}
    for act in ("dlt.adjudicate_provisional", "dlt.adjudicate", "dlt.reopened"):
        assert act in actions, (act, actions)


def test_bor_is_final_only_after_the_month_3_assessment(env: tuple[TestClient, FakeClock]) -> None:
    client, clock = env
    u = Users(client, clock)
    sid, other = treat(client, u), treat(client, u)
    d0 = as_of(client, u["coord1"])
    u.advance(40)
    coord = u["coord1"]
    for who in (sid, other):
        body = {
            "assessed_on": (d0 + timedelta(days=28)).isoformat(),
            "timepoint": "day_28",
            "marrow": plan.marrow(True, 0),
        }
        call(client, coord, "POST", f"/participants/{who}/response-assessments", body)
    u.advance(70)  # past the BOR window (day 97) with only the day-28 assessment
    coord = u["coord1"]
    outcome = call(client, coord, "GET", f"/participants/{sid}")["outcome"]
    assert (outcome["bor"], outcome["bor_final"]) == ("CR", False)
    assert "no evaluable" in outcome["bor_reason"]
    body = {
        "assessed_on": (d0 + timedelta(days=90)).isoformat(),
        "timepoint": "month_3",
        "marrow": plan.marrow(True, 0),
    }
    call(client, coord, "POST", f"/participants/{sid}/response-assessments", body)
    outcome = call(client, coord, "GET", f"/participants/{sid}")["outcome"]
    assert (outcome["bor"], outcome["bor_final"]) == ("CR", True)
    # A censoring event (stem-cell transplantation) makes the other's BOR final too.
    leave = {"off_study_on": as_of(client, coord).isoformat(), "reason_code": "sct"}
    call(client, coord, "POST", f"/participants/{other}/off-study", {**leave, "reason": "SCT"})
    outcome = call(client, coord, "GET", f"/participants/{other}")["outcome"]
    assert outcome["bor_final"] is True and "censored" in outcome["bor_reason"]


def test_a_criterion_not_assessed_leaves_the_screening_incomplete(
    env: tuple[TestClient, FakeClock],
) -> None:
    client, clock = env
    coord = Users(client, clock)["coord1"]
    day = as_of(client, coord)
    sid = call(client, coord, "POST", "/participants", {"site_id": "S01"})["study_id"]
    call(
        client,
        coord,
        "POST",
        f"/participants/{sid}/consents",
        {"consent_version": "v1", "record": plan.consent_record(day, 34)},
    )
    record = plan.screening_record(day, 34, "male")
    findings = dict(record["findings"])
    del findings["prior_sct_donor_available"]  # the arm requirement A1, not assessed
    record["findings"] = findings
    body = {"arm_id": "prior_sct_donor", "record": record}
    out = call(client, coord, "POST", f"/participants/{sid}/screenings", body)
    assert (out["eligible"], out["status"], out["missing_criteria"]) == (
        False,
        "incomplete",
        ["A1"],
    )
    p = call(client, coord, "GET", f"/participants/{sid}")
    assert p["status"] == "consented"  # not a screen failure
    assert p["screenings"][0]["result"] == "incomplete"
    findings["prior_allogeneic_sct"] = False  # no prior allogeneic SCT: not eligible
    record["findings"] = findings
    out = call(client, coord, "POST", f"/participants/{sid}/screenings", body)
    assert out["status"] == "ineligible" and "A1" in out["failed_criteria"]
