"""The statistician's views on the arm page (issue 17 item 7): the dose trajectory, the Beta
posteriors with 95% credible intervals and the isotonic estimates, and the OBD utility table at
the end of dose finding — each number equal to what the design's functions return."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy import stats

from dosewise.design import Boin12
from dosewise.design.admissibility import rate_posterior
from dosewise.design.obd import isotonic_toxicity
from dosewise.protocol import default_protocol
from dosewise.trial.arm_state import arm_state, seeded

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services"))
from svc_helpers import Acts, outcome

from dosewise.settings import Settings
from dosewise.store.session import Database
from pg import FakeClock

ARM = "new_donor"
PROTOCOL = default_protocol()
ROW = re.compile(
    r'<tr data-dose="(\d)" data-tox="([^"]+)" data-eff="([^"]+)" data-isotonic="([^"]*)"'
)
TRAJ = re.compile(
    r'<tr data-order="(\d+)" data-level="([^"]+)" data-dlt="([^"]*)" data-response="([^"]*)"'
)
UTIL = re.compile(
    r'<tr data-dose="(\d)" data-utility="([^"]+)" data-isotonic="([^"]+)" data-eligible="(\w+)"'
)


@pytest.fixture
def acts(db: Database, settings: Settings, clock: FakeClock) -> Acts:
    return Acts(db, settings, clock)


def _cohort(acts: Acts, letters: str) -> list[str]:
    """One cohort at the design's dose with outcomes ``letters`` (N, E, T, B), all known."""
    done = []
    for k, letter in enumerate(letters):
        site = ("S01", "S02")[k % 2]
        sid = acts.recruit(site, ARM)
        done.append((sid, site, acts.treat(sid, site).infused_on, letter))
    acts.advance(31)
    for sid, site, day0, letter in done:
        outcome(acts, sid, letter, day0, site)
    return [sid for sid, *_ in done]


def _section(html: str, ident: str) -> str:
    start = html.index(f'id="{ident}"')
    return html[start : html.index("</table>", start)]


def test_posteriors_and_trajectory_are_the_designs(
    acts: Acts, client: TestClient, signed_in: object
) -> None:
    first = _cohort(acts, "NEN")
    second = _cohort(acts, "TBE")
    signed_in("stat")  # type: ignore[operator]
    html = client.get(f"/trial/arms/{ARM}").text
    with acts.uow("stat", readonly=True) as uow:
        state = arm_state(uow.session, ARM, as_of=acts.today)
    n = np.array([d.n for d in state.doses])
    tox = np.array([d.dlt for d in state.doses])
    eff = np.array([d.responses for d in state.doses])
    assert n.sum() == 6 and tox.sum() == 2
    t_mean, t_lo, t_hi = rate_posterior(n, tox)
    e_mean, e_lo, e_hi = rate_posterior(n, eff)
    iso = isotonic_toxicity(n, tox, state.params["phi_t"])
    rows = ROW.findall(_section(html, "posteriors"))
    assert [int(r[0]) for r in rows] == [d.dose for d in state.doses]
    for j, (_dose, t, e, i) in enumerate(rows):
        assert [float(v) for v in t.split()] == pytest.approx(
            [t_mean[j], t_lo[j], t_hi[j]], abs=1e-9
        )
        assert [float(v) for v in e.split()] == pytest.approx(
            [e_mean[j], e_lo[j], e_hi[j]], abs=1e-9
        )
        # Beta(1 + y, 1 + n - y), checked against SciPy's distribution as well.
        lo, hi = stats.beta.interval(0.95, 1 + tox[j], 1 + n[j] - tox[j])
        assert (t_lo[j], t_hi[j]) == pytest.approx((lo, hi), abs=1e-9)
        assert (float(i) if i else None) == (pytest.approx(iso[j], abs=1e-9) if n[j] else None)
    assert "prior Beta(1, 1)" in html  # the design's elimination prior, RATE_PRIOR
    assert 'id="posterior-chart"' in html and "data:image/svg+xml;base64," in html

    traj = TRAJ.findall(_section(html, "trajectory"))
    assert [int(t[0]) for t in traj] == list(range(1, 7))
    levels = {d.dose: d.level for d in state.doses}
    by_sid = {p.study_id: p for p in state.patients}
    for (_order, level, dlt, response), sid in zip(traj, first + second, strict=True):
        p = by_sid[sid]
        assert level == levels[p.analysed_dose or 0]
        assert dlt == str(p.toxicity) and response == str(p.efficacy)
    assert [t[2] for t in traj[3:]] == ["True", "True", "False"]  # T and B are DLTs
    assert 'id="trajectory-chart"' in html
    assert "Shown when the design ends dose finding" in html  # no utility table yet


def test_the_utility_table_is_select_obd_before_and_after_closure(
    acts: Acts, client: TestClient, signed_in: object, clock: FakeClock
) -> None:
    for _ in range(6):
        with acts.uow("stat", readonly=True) as uow:
            state = arm_state(uow.session, ARM, as_of=acts.today)
        if state.next.action != "assign":
            break
        _cohort(acts, "NEB")
    outcomes = state.outcomes
    design = Boin12(seeded(PROTOCOL.design_params(ARM), PROTOCOL, ARM, len(outcomes.split()) + 1))
    obd = design.decide(outcomes).obd
    assert obd is not None and obd.obd is not None
    csrf = signed_in("stat")  # type: ignore[operator]

    def check() -> str:
        html = client.get(f"/trial/arms/{ARM}").text
        rows = UTIL.findall(_section(html, "utility"))
        assert [int(r[0]) for r in rows] == [d.dose for d in obd.doses]
        for (_dose, utility, isotonic, eligible), d in zip(rows, obd.doses, strict=True):
            assert float(utility) == pytest.approx(d.utility_mean, abs=1e-9)
            assert float(isotonic) == pytest.approx(d.tox_isotonic, abs=1e-9)
            assert eligible == str(d.eligible)
        level = PROTOCOL.dose_levels.by_index(obd.obd).name
        assert f'<span id="utility-obd">{level}</span>' in html
        return html

    assert "to be recorded when phase 1 is closed" in check()
    r = client.post(
        f"/trial/arms/{ARM}/close",
        data={"csrf_token": csrf, "arm_version": str(state.version), "close_password": "x" * 3},
    )
    assert r.status_code in (401, 403, 422) and "utility-obd" in r.text  # wrong password
    from pg import PASSWORD

    r = client.post(
        f"/trial/arms/{ARM}/close",
        data={"csrf_token": csrf, "arm_version": str(state.version), "close_password": PASSWORD},
    )
    assert r.status_code == 303, r.text
    assert "The selection recorded when phase 1 was closed." in check()


def test_the_chinese_section_has_no_english_words(
    acts: Acts, client: TestClient, signed_in: object
) -> None:
    _cohort(acts, "NEN")
    signed_in("stat")  # type: ignore[operator]
    client.cookies.set("dosewise_lang", "zh_CN")
    html = client.get(f"/trial/arms/{ARM}").text
    start = html.index('id="stat-views"')
    section = html[start : html.index("</section>", start)]
    section = re.sub(r'(src|data-[a-z]+|id|class|href|scope|width)="[^"]*"', "", section)
    text = re.sub(r"<[^>]+>|φ[TE]|\bS0\d-\d{4}\b", " ", section)  # targets, study IDs
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9-]*", text))
    assert words <= {"DLT", "OBD", "DL1", "DL2", "DL-1", "n"}, words
