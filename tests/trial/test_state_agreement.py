"""Every view of the demo trial gives the same per-arm, per-dose numbers, at several data cut-offs,
on SQLite and on PostgreSQL: the arm pages and the DSMB page (web), the API arm states, the DSMB
report, the ClinicalTrials.gov results and the SDTM datasets read back from their XPORT files.
One participant with a DLT is moved to an infusion outside every dose window (the case where the
arm page and the DSMB report once disagreed).

The numbers: participants treated (infused), DLT-evaluable, with a DLT, responders (best overall
response CR/CRi) and by worst AE grade in the protocol's AE window, each at the dose the read
model analyses them at (:mod:`dosewise.trial.state`). A view shows a subset (the arm page no AE
grades); every number a view shows must equal the read model's. The pages, the API and the DSMB
report count both phases together per dose; each export is compared on what it reports:
ClinicalTrials.gov's phase 1 measures (DLTs, AEs) per phase 1 arm × dose and its phase 2 best
response per arm, SDTM per phase, arm and dose (its arm codes carry the phase), each against the
read model's counts over that phase's participants (:meth:`ArmState.phase_doses`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session
from state_views import (
    API,
    Counts,
    PhaseCounts,
    api_arm_states,
    ctgov,
    dsmb_report,
    dsmb_report_syndromes,
    materialise_cut,
    noon,
    sdtm,
    sign_in,
    web_arm_pages,
    web_dsmb_page,
)

from demo_trial import DemoTrial
from dosewise.protocol import default_protocol
from dosewise.report.trial_data import TrialData, load_trial_data
from dosewise.server import create_app
from dosewise.store import migrate
from dosewise.store.session import open_database
from dosewise.store.tables import DltAdjudication, Infusion, Participant
from pg import FakeClock, create_pg_database, drop_pg_database, make_settings, server_url


def _cut_days(demo: DemoTrial) -> list[date]:
    """Early phase 1 (outcomes pending), the middle of the trial, and its last day."""
    with demo.db.sessions() as session:
        data = load_trial_data(session, as_of=demo.today)
    infused = sorted(d for d in data.participants["infused_on"] if d is not None)
    return [infused[2] + timedelta(days=5), infused[len(infused) // 2], demo.today]


def _expected(data: TrialData) -> Counts:
    """The read model's numbers (each arm's state on the cut records): at its design doses and
    at any level outside the dose finding (the fallback under ``safety_only``, dose 0)."""
    return {
        (arm, d.dose): {
            "treated": d.treated,
            "evaluable": d.evaluable,
            "dlts": d.dlts,
            "responders": d.responders,
            **{f"grade{g}": n for g, n in enumerate(d.worst_ae, start=1)},
        }
        for arm, state in data.states.items()
        for d in (*state.doses, *state.outside_doses)
    }


def _expected_by_phase(data: TrialData) -> PhaseCounts:
    """The read model's numbers over each phase's participants, per (phase, arm, dose)."""
    return {
        (phase, arm, dose): {
            "treated": t["treated"],
            "evaluable": t["evaluable"],
            "dlts": t["dlts"],
            "responders": t["responders"],
            **{f"grade{g}": n for g, n in enumerate(t["worst_ae"], start=1)},
        }
        for phase in (1, 2)
        for arm, state in data.states.items()
        for dose, t in state.phase_doses(phase).items()
    }


def _phase2_responders(by_phase: PhaseCounts) -> dict[str, dict[str, int]]:
    """Phase 2 participants per arm: treated and responders (CR/CRi), all doses."""
    out: dict[str, dict[str, int]] = {}
    for (phase, arm, _), numbers in by_phase.items():
        if phase == 2:
            row = out.setdefault(arm, {"treated": 0, "responders": 0})
            row["treated"] += numbers["treated"]
            row["responders"] += numbers["responders"]
    return out


def _disagreements(name: str, expected: Mapping[Any, Any], seen: Mapping[Any, Any]) -> list[str]:
    shown = sum(len(v) for v in seen.values())
    assert shown >= len([k for k, v in expected.items() if v["treated"]]), f"{name}: {seen}"
    out = []
    for key, numbers in sorted(seen.items()):
        if not numbers:
            continue
        want = expected.get(key)
        assert want is not None, f"{name}: {key} is not a dose of the trial"
        for count, value in sorted(numbers.items()):
            if value != want[count]:
                out.append(f"{name} {key} {count}: {value}, read model {want[count]}")
    for key, want in expected.items():  # a view that leaves out a dose shows nobody there
        if key not in seen and any(want[c] for c in ("treated",)):
            out.append(f"{name} {key}: missing, read model treated {want['treated']}")
    return out


def _infuse_outside_every_window(engine: Engine) -> str:
    """Make the first participant with a DLT infused 1.22× their level's dose: outside every
    window (as the service stores it: no actual level), the case that once split the views."""
    with Session(engine) as session, session.begin():
        pid = session.scalars(
            select(DltAdjudication.participant_id)
            .where(DltAdjudication.is_dlt.is_(True), DltAdjudication.status == "final")
            .order_by(DltAdjudication.id)
        ).first()
        infusion = session.scalars(select(Infusion).where(Infusion.participant_id == pid)).one()
        level = default_protocol().dose_levels.by_index(infusion.actual_dose_index or 2)
        infusion.cells_per_kg = level.cells_per_kg * 1.22
        infusion.infused_cells = infusion.cells_per_kg * infusion.weight_kg
        infusion.actual_level = infusion.actual_dose_index = None
        person = session.get(Participant, pid)
        assert person is not None
        return person.study_id


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def source(
    request: pytest.FixtureRequest, demo_db: DemoTrial, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, str]]:
    """A copy of the demo trial on the back end, one infusion moved outside every window."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('agreement') / 'full.db'}"
        server = None
    else:
        server = server_url()
        url = create_pg_database(server, "dosewise_agreement_full")
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
        with demo_db.db.sessions() as session:
            materialise_cut(session, engine, demo_db.today)
        outside = _infuse_outside_every_window(engine)
        yield request.param, url, outside
    finally:
        engine.dispose()
        if server is not None:
            drop_pg_database(server, "dosewise_agreement_full")


def _cut_database(backend: str, tmp: Path, name: str) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / (name + '.db')}"
        return
    server = server_url()
    url = create_pg_database(server, name)
    try:
        yield url
    finally:
        drop_pg_database(server, name)


def test_every_view_gives_the_read_models_numbers_at_each_cut_off(
    source: tuple[str, str, str], demo_db: DemoTrial, tmp_path: Path
) -> None:
    backend, url, outside = source
    engine = create_engine(url)
    days = _cut_days(demo_db)
    problems: list[str] = []
    shown_pending = False
    try:
        for i, day in enumerate(days):
            with Session(engine) as session:
                data = load_trial_data(session, as_of=day)
                expected = _expected(data)
                arms = list(data.states)
                protocol = data.protocol
                problems += _disagreements(f"{day} DSMB report", expected, dsmb_report(data))
                syndromes = dsmb_report_syndromes(data)
                by_phase = _expected_by_phase(data)
                pooled = {
                    (arm, dose): {c: sum(by_phase[(ph, arm, dose)][c] for ph in (1, 2)) for c in v}
                    for (arm, dose), v in expected.items()
                }
                assert pooled == expected, "the per-phase counts do not add up to the doses'"
                registry, responders = ctgov(data, protocol)
                phase1 = {k: v for k, v in by_phase.items() if k[0] == 1}
                problems += _disagreements(f"{day} ctgov phase 1", phase1, registry)
                problems += _disagreements(
                    f"{day} ctgov phase 2",
                    _phase2_responders(by_phase),
                    {arm: {"responders": n} for arm, n in responders.items()},
                )
                folder = tmp_path / f"sdtm{i}"
                folder.mkdir()
                problems += _disagreements(f"{day} SDTM", by_phase, sdtm(data, folder, protocol))
                shown_pending |= any(d.treated > d.n for s in data.states.values() for d in s.doses)
            for cut_url in _cut_database(backend, tmp_path, f"dosewise_cut_{i}"):
                cut = create_engine(cut_url)
                migrate.upgrade(cut)
                with Session(engine) as session:
                    materialise_cut(session, cut, day)
                cut.dispose()
                settings = make_settings(cut_url)
                db = open_database(settings)
                app = create_app(settings, clock=FakeClock(noon(day)), db=db)
                try:
                    with TestClient(app, follow_redirects=False) as client:
                        login = client.post(
                            f"{API}/auth/login",
                            json={"username": "stat.demo", "password": demo_db.result.password},
                        )
                        assert login.status_code == 200, login.text
                        token = login.json()["access_token"]
                        client.cookies.clear()
                        api = api_arm_states(client, token, arms)
                        sign_in(client, "dsmb.demo", demo_db.result.password)
                        pages = web_arm_pages(client, arms)
                        dsmb, categories = web_dsmb_page(client, arms)
                finally:
                    db.dispose()
                problems += _disagreements(f"{day} API arm state", expected, api)
                problems += _disagreements(f"{day} web arm page", expected, pages)
                problems += _disagreements(f"{day} web DSMB page", expected, dsmb)
                for key, grades in syndromes.items():
                    if grades != categories.get(key, [0] * 5):
                        problems.append(
                            f"{day} {key} by worst grade: DSMB report {grades}, "
                            f"web DSMB page {categories.get(key)}"
                        )
            totals = {c: sum(v[c] for v in expected.values()) for c in ("treated", "dlts")}
            assert totals["treated"] > 0, f"{backend} {day}: nobody treated at the cut-off"
        assert not problems, "\n".join(problems)
        final = _expected(data)
        row = data.participants.set_index("study_id").loc[outside]
        assert (row["dose_basis"], row["dose_in_window"]) == ("infused_outside_windows", False)
        assert row["actual_level"] is not None and row["dlt"] is True
        assert sum(v["dlts"] for v in final.values()) > 0
        assert sum(v["responders"] for v in final.values()) > 0
        assert sum(v["grade3"] + v["grade4"] for v in final.values()) > 0
        phase2 = _phase2_responders(_expected_by_phase(data))
        assert sum(v["treated"] for v in phase2.values()) > 0, "no phase 2 participant compared"
    finally:
        engine.dispose()
    assert shown_pending, "no cut-off with treated participants whose outcomes are pending"


def test_the_stored_status_is_the_one_the_table_derives(demo_db: DemoTrial) -> None:
    """Every participant of the demo trial: the status the services stored equals the status
    the read model derives from their steps (the one transition table)."""
    from dosewise.store.tables import Participant
    from dosewise.trial.state import participant_statuses

    with demo_db.db.sessions() as session:
        stored = {p.id: p.status for p in session.query(Participant)}
        derived = participant_statuses(session)
    assert "treated" in set(stored.values()) and len(set(stored.values())) >= 2
    assert derived == stored
