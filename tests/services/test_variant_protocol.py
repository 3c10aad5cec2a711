"""The service reads every clinical number from the protocol file: a variant of NCT07070323 with
efficacy by study day 35, a 21-day DLT window, ±15% dose windows and a day-7 visit window of
±3 days runs through the services, and the decisions, the pages and the reports follow the
variant, not the built-in values."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from babel.dates import format_date
from fastapi.testclient import TestClient
from svc_helpers import COORD, INV, Acts

from dosewise.design import Boin12
from dosewise.protocol import default_protocol, load_protocol
from dosewise.protocol.loader import default_text
from dosewise.report.ctgov import build_ctgov
from dosewise.report.dsmb import build_dsmb
from dosewise.report.trial_data import load_trial_data
from dosewise.server import create_app
from dosewise.settings import Settings
from dosewise.store import migrate
from dosewise.store.session import Database, open_database
from dosewise.trial import bootstrap
from dosewise.trial.audit import Actor
from dosewise.trial.demo import plan
from dosewise.trial.services import adverse_events, dlt, products, responses
from dosewise.trial.services.deviations import DeviationIn
from dosewise.trial.state import arm_state, seeded
from dosewise.trial.uow import UnitOfWork
from pg import PASSWORD, FakeClock, add_test_users, make_settings

ARM = "autologous"


def variant_text() -> str:
    """NCT07070323 with efficacy by day 35, a 21-day DLT window and ±15% dose windows."""
    text = default_text()
    for old, new, count in (
        ("  dlt_days: 28\n", "  dlt_days: 21\n", 1),
        ("  window_days: 28\n", "  window_days: 21\n", 1),
        ("    min_follow_up_days: 28\n", "    min_follow_up_days: 21\n", 1),
        ("  efficacy_days:\n    value: 28\n", "  efficacy_days:\n    value: 35\n", 1),
        ("      tolerance: 0.2\n", "      tolerance: 0.15\n", 3),
        (
            "    day: 7\n    before: 1\n    after: 1\n",
            "    day: 7\n    before: 3\n    after: 3\n",
            1,
        ),
    ):
        assert text.count(old) == count, old
        text = text.replace(old, new)
    return text


@pytest.fixture
def variant(tmp_path: Path) -> Iterator[tuple[Acts, Settings]]:
    path = tmp_path / "variant.yaml"
    path.write_text(variant_text(), encoding="utf-8")
    base = make_settings(f"sqlite:///{tmp_path / 'variant.db'}")
    settings = base.replace(protocol_path=str(path))
    db: Database = open_database(settings)
    migrate.upgrade(db.engine)
    with UnitOfWork(db, Actor.system("test-setup")) as uow:
        bootstrap.ensure_reference_data(uow, bootstrap.protocol_for(settings))
    add_test_users(db, settings)
    try:
        yield Acts(db, settings, FakeClock()), settings
    finally:
        db.dispose()


def _treat(
    acts: Acts, sid: str, site: str, *, weight: float | None = None, share: float = 1.0
) -> date:
    a = acts.assign(sid, site)
    acts.confirm(sid)
    prod = acts.release(sid, a.dose_index, site)
    coord = COORD[site]
    acts.run(
        coord,
        products.record_lymphodepletion,
        sid,
        regimen="Flu/Cy",
        agents=[{"agent": "fludarabine", "dose": 30, "unit": "mg/m2/day"}],
        start_on=acts.today,
        end_on=acts.today,
    )
    # A share other than 1 gives a dose outside every window: the investigator records it
    # with a protocol deviation (issue 14 item 2), as the service requires.
    deviation = (
        None
        if share == 1.0
        else DeviationIn(reason="Volume infused differed from plan", signing=acts.signing())
    )
    acts.run(
        coord if deviation is None else INV[site],
        products.record_infusion,
        sid,
        infused_on=acts.today,
        infused_volume_ml=prod.feasibility["volume_ml"] * share,
        weight_kg=weight,
        deviation=deviation,
    )
    return acts.today


def test_decisions_pages_and_reports_follow_the_protocol_file(
    variant: tuple[Acts, Settings],
) -> None:
    acts, settings = variant
    protocol = load_protocol(Path(settings.protocol_path))
    assert protocol.windows.efficacy_days.value == 35 and protocol.dlt.window_days == 21
    sites = ("S01", "S02", "S01")
    sids = [acts.recruit(site) for site in sites]
    # The first participant is infused 1.17×10⁶/kg: inside DL1's ±20% window, outside ±15%.
    day0 = _treat(acts, sids[0], sites[0], weight=58.5, share=1.14)
    for sid, site in zip(sids[1:], sites[1:], strict=True):
        _treat(acts, sid, site)

    acts.advance(10)
    with acts.uow("stat", readonly=True) as uow:
        state = arm_state(uow.session, ARM, as_of=acts.today)
        builtin = arm_state(uow.session, ARM, as_of=acts.today, protocol=default_protocol())
    first = state.patients[0]
    assert first.dose is not None and first.dose.in_window is False
    assert first.analysed_level == "DL1" and "outside every level's window" in first.notes[0]
    assert builtin.patients[0].dose is not None and builtin.patients[0].dose.in_window is True
    assert first.toxicity_reason == f"in the 21-day DLT window until {day0 + timedelta(21)}"
    # Both outcomes are known at the later of the DLT window (21) and the read-out (35).
    assert state.next.action == "wait" and state.next.wait_until == day0 + timedelta(35)
    assert builtin.next.wait_until == day0 + timedelta(28)

    # A CR on study day 32: a response by day 35 (the variant), none by day 28 (built in).
    acts.advance(23)
    for sid, site in zip(sids, sites, strict=True):
        acts.run(
            COORD[site],
            adverse_events.record_adverse_event,
            sid,
            term="Cytokine release syndrome",
            onset_on=day0 + timedelta(days=2),
            crs={"fever": True, "hypotension": False},
            resolved_on=day0 + timedelta(days=5),
            attribution="definite",
        )
        acts.run(
            COORD[site],
            responses.record_response,
            sid,
            assessed_on=day0 + timedelta(days=32),
            marrow=plan.marrow(True, 0),
        )
        acts.run(INV[site], dlt.adjudicate_dlt, sid)
    acts.advance(3)  # day 36: past both read-out days
    with acts.uow("stat", readonly=True) as uow:
        state = arm_state(uow.session, ARM, as_of=acts.today)
        builtin = arm_state(uow.session, ARM, as_of=acts.today, protocol=default_protocol())
    assert state.outcomes == "1EEE" and builtin.outcomes == "1NNN"
    params = seeded(protocol.design_params(ARM), protocol, ARM, 2)
    decision = Boin12(params).decide("1EEE")
    assert state.next.action == "assign" and state.next.dose == decision.next_dose
    assert state.next.reason == decision.reason
    dl1 = state.doses[0]
    assert (dl1.treated, dl1.evaluable, dl1.dlts, dl1.n, dl1.responses) == (3, 3, 0, 3, 3)

    # The pages show the variant's state.
    app = create_app(settings, clock=acts.clock, db=acts.db)
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        form = {"username": "stat", "password": PASSWORD, "csrf_token": token.group(1)}
        assert client.post("/login", data=form).status_code == 303
        arm_page = client.get(f"/trial/arms/{ARM}").text
        client.cookies.clear()
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        form = {"username": "coord1", "password": PASSWORD, "csrf_token": token.group(1)}
        assert client.post("/login", data=form).status_code == 303
        participant_page = client.get(f"/participants/{sids[0]}").text
    # The visit timeline: day 7's window is the variant's ±3 days.
    day7 = re.search(r">Day 7</th>(.*?)</tr>", participant_page, re.S)
    assert day7 is not None
    first, last = (format_date(day0 + timedelta(d), "medium", locale="en") for d in (4, 10))
    assert f"{first} – {last}" in day7.group(1)
    row = re.search(r'<tr[^>]*data-dose="1"[^>]*>(.*?)</tr>', arm_page, re.S)
    assert row is not None, arm_page
    cells = dict(re.findall(r'data-count="(\w+)">(\d+)<', row.group(1)))
    assert cells == {
        "treated": "3",
        "evaluable": "3",
        "dlts": "0",
        "responders": "3",
        "pending": "0",
    }
    assert 'data-design="3 0 3"' in row.group(1)

    # The reports: the DLT window and the dose windows of the variant.
    with acts.db.sessions() as session:
        data = load_trial_data(session, as_of=acts.today)
    people = data.participants.set_index("study_id")
    assert people.loc[sids[0], "dose_in_window"] is False
    assert people.loc[sids[0], "actual_level"] == "DL1"
    report = build_dsmb(data)
    rates = {(r["arm_id"], r["level"]): r for r in report.dlt_rates}
    assert (rates[(ARM, "DL1")]["treated"], rates[(ARM, "DL1")]["evaluable"]) == (3, 3)
    doc = build_ctgov(data)
    measures = doc["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"]
    dlt_measure = next(m for m in measures if "dose-limiting" in m["title"].lower())
    assert "within 21 days" in dlt_measure["description"]
    groups = [k for g, k in doc["groupKeys"].items() if g.startswith("OG")]
    # phase 1 measures by arm x dose infused (the deviation counted at DL1); BOR by phase 2 arm
    assert [k for k in groups if k["phase"] == 1] == [
        {"armId": ARM, "doseLevel": "DL1", "phase": 1}
    ]
    assert [k for k in groups if k["phase"] == 2] == [
        {"armId": a, "phase": 2} for a in data.protocol.arm_ids
    ]
