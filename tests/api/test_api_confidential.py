"""Site confidentiality (issue 15, item 1) on a copy of the scripted NCT07070323 trial: a user
who belongs to a site (investigator, coordinator, site monitor) never receives another site's
participant-level data — no study ID of another site in any arm state, decision list, phase 2
view, audit row, audit export, arm page, trial overview or DSMB page — while users over every
site still see everything. The DSMB report and the ClinicalTrials.gov export hold every site's
participants, so a site user gets 403 for them.

Each leak named in the issue is a test here that failed before the redaction
(``dosewise.trial.confidential``) was applied.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

import pytest
from fastapi.testclient import TestClient

from demo_trial import DemoTrial
from dosewise.server import create_app
from dosewise.settings import Settings
from dosewise.store.session import Database, open_database
from dosewise.trial.confidential import PLACEHOLDER
from e2e_api.api_helpers import call, recruit
from pg import PASSWORD, USERS, FakeClock, add_test_users, backend_params, make_settings

API = "/api/v1"
ARMS = ("autologous", "prior_sct_donor", "new_donor")
STUDY_ID = re.compile(r"\b(S0[1-4])-\d{4}\b")
SITE_USERS = {u: site for u, (_, site) in USERS.items() if site}
ALL_SITE_READERS = ("stat", "dsmb", "monall")


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _copy_sqlite(source: str, target: object) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def other_site_ids(text: str, own: str) -> set[str]:
    """The study IDs in ``text`` that belong to a site other than ``own``."""
    return {m.group(0) for m in STUDY_ID.finditer(text) if m.group(1) != own}


@pytest.fixture(scope="module")
def conf_client(
    demo_db: DemoTrial, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    path = tmp_path_factory.mktemp("confidential") / "trial.db"
    _copy_sqlite(demo_db.url.removeprefix("sqlite:///"), path)
    settings: Settings = make_settings(f"sqlite:///{path}")
    db: Database = open_database(settings)
    add_test_users(db, settings)
    start = datetime.combine(demo_db.today + timedelta(days=1), clock_time(9), tzinfo=UTC)
    with TestClient(create_app(settings, clock=FakeClock(start), db=db)) as client:
        yield client
    db.dispose()


@pytest.fixture(scope="module")
def heads(conf_client: TestClient) -> dict[str, dict[str, str]]:
    out = {}
    for username in USERS:
        r = conf_client.post(f"{API}/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        out[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    conf_client.cookies.clear()
    return out


def _get(client: TestClient, headers: dict[str, str], path: str, **params: object) -> str:
    r = client.get(API + path, params=params, headers=headers)
    assert r.status_code == 200, (path, r.text[:200])
    return r.text


@pytest.mark.parametrize("arm", ARMS)
def test_an_arm_state_shows_a_site_user_only_its_own_sites_participants(
    conf_client: TestClient, heads: dict[str, dict[str, str]], arm: str
) -> None:
    everyone = conf_client.get(f"{API}/arms/{arm}/state", headers=heads["stat"]).json()
    for username, site in SITE_USERS.items():
        for path in (f"/arms/{arm}/state", f"/arms/{arm}/decisions", f"/arms/{arm}/phase2"):
            text = _get(conf_client, heads[username], path)
            assert other_site_ids(text, site) == set(), (username, path)
        mine = conf_client.get(f"{API}/arms/{arm}/state", headers=heads[username]).json()
        # the decision and the counts stay: the same dose rows, outcomes and next step
        assert mine["doses"] == everyone["doses"]
        assert mine["outcomes"] == everyone["outcomes"]
        assert mine["next"]["action"] == everyone["next"]["action"]
        assert mine["next"]["dose"] == everyone["next"]["dose"]
        own = [p for p in everyone["patients"] if p["site_id"] == site]
        assert mine["patients"] == own
        assert mine["other_sites"]["participants"] == len(everyone["patients"]) - len(own)
        assert mine["other_sites"]["participants"] > 0
        if everyone["cohort"]:
            kept = [m for m in everyone["cohort"]["members"] if m.startswith(site)]
            assert mine["cohort"]["members"] == kept
            assert mine["cohort"]["filled"] == everyone["cohort"]["filled"]
    # users over every site see every site's participants, unredacted
    for username in ALL_SITE_READERS:
        data = conf_client.get(f"{API}/arms/{arm}/state", headers=heads[username]).json()
        assert data["patients"] == everyone["patients"] and data.get("other_sites") is None
    assert {p["site_id"] for p in everyone["patients"]} >= {"S01", "S02"}


def test_audit_rows_show_a_site_user_no_other_sites_study_ids(
    conf_client: TestClient, heads: dict[str, dict[str, str]]
) -> None:
    for username in ("inv1", "inv2", "mon1"):
        site = SITE_USERS[username]
        text = _get(conf_client, heads[username], "/audit", limit=1000)
        assert other_site_ids(text, site) == set(), username
        assert any(
            r["action"] == "dose.assign" and r["after"]
            for r in conf_client.get(
                f"{API}/audit", params={"limit": 1000}, headers=heads[username]
            ).json()["records"]
        )
    for fmt in ("json", "csv"):
        text = _get(conf_client, heads["mon1"], "/audit/export", format=fmt)
        assert other_site_ids(text, "S01") == set(), fmt
    # the administrator and a monitor over every site read the trail as it was written
    full = _get(conf_client, heads["monall"], "/audit", limit=1000, action="dose.assign")
    assert other_site_ids(full, "S01")


@pytest.mark.parametrize("kind", ["dsmb", "ctgov"])
def test_the_reports_of_every_site_are_refused_to_site_users(
    conf_client: TestClient, heads: dict[str, dict[str, str]], kind: str
) -> None:
    fmt = "html" if kind == "dsmb" else "json"
    for username in SITE_USERS:
        r = conf_client.get(
            f"{API}/reports/{kind}", params={"format": fmt}, headers=heads[username]
        )
        assert r.status_code == 403, (kind, username, r.status_code)
        listed = conf_client.get(f"{API}/reports", headers=heads[username]).json()["reports"]
        assert kind not in {x["kind"] for x in listed}
    for username in ALL_SITE_READERS:  # (their downloads: tests/api/test_api_reports.py)
        listed = conf_client.get(f"{API}/reports", headers=heads[username]).json()["reports"]
        assert kind in {x["kind"] for x in listed}


def _sign_in(client: TestClient, username: str) -> None:
    """Sign in through the login form, as a browser would."""
    client.cookies.clear()
    match = CSRF.search(client.get("/login").text)
    assert match
    form = {"username": username, "password": PASSWORD, "csrf_token": match.group(1)}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303


def test_pages_show_a_site_user_no_other_sites_study_ids(conf_client: TestClient) -> None:
    try:
        for username in ("coord1", "inv2", "mon1"):
            site = SITE_USERS[username]
            _sign_in(conf_client, username)
            for arm in ARMS:
                page = conf_client.get(f"/trial/arms/{arm}")
                assert page.status_code == 200
                assert other_site_ids(page.text, site) == set(), (username, arm)
                assert "data-other-sites=" in page.text  # as a count
            overview = conf_client.get("/trial")
            assert overview.status_code == 200
            assert other_site_ids(overview.text, site) == set(), username
            assert conf_client.get("/dsmb").status_code == 403
        _sign_in(conf_client, "dsmb")
        page = conf_client.get("/dsmb")
        assert page.status_code == 200 and other_site_ids(page.text, "S01")
        arm_page = conf_client.get("/trial/arms/autologous")
        assert other_site_ids(arm_page.text, "S01")
    finally:
        conf_client.cookies.clear()


@pytest.mark.parametrize("backend", backend_params(), indirect=True)
def test_on_both_back_ends_the_state_and_the_audit_rows_keep_other_sites_out(
    client: TestClient, tokens: dict[str, dict[str, str]], clock: FakeClock
) -> None:
    """A participant of S02, then one of S01, get a dose in the same arm: the S01 assignment's
    audit row stores an arm snapshot naming the S02 participant, which S01 users never see."""
    today = clock().date().isoformat()
    theirs = recruit(client, tokens["coord2"], "S02", "autologous", today)
    call(client, tokens["coord2"], "POST", f"/participants/{theirs}/dose-assignment", {})
    mine = recruit(client, tokens["coord1"], "S01", "autologous", today)
    call(client, tokens["coord1"], "POST", f"/participants/{mine}/dose-assignment", {})
    full = _get(client, tokens["stat"], "/arms/autologous/state")
    assert theirs in full and mine in full
    stored = _get(client, tokens["admin1"], "/audit", limit=1000, action="dose.assign")
    assert theirs in stored  # the snapshot of S01's assignment names S02's participant
    for user in ("coord1", "inv1", "mon1"):
        for path in ("/arms/autologous/state", "/audit"):
            if path == "/audit" and user == "coord1":
                continue  # coordinators do not read the trail
            text = _get(client, tokens[user], path, limit=1000)
            assert theirs not in text and mine in text, (user, path)
    state = client.get(f"{API}/arms/autologous/state", headers=tokens["inv1"]).json()
    assert state["other_sites"] == {"participants": 1, "pending": 1, "treated": 0}
    # the cohort's last place, then a participant who must wait: the refusal names the pending
    # participants of the site asking, and the other site's only as a placeholder
    third = recruit(client, tokens["coord1"], "S01", "autologous", today)
    call(client, tokens["coord1"], "POST", f"/participants/{third}/dose-assignment", {})
    fourth = recruit(client, tokens["coord1"], "S01", "autologous", today)
    for user, hidden, named in (("coord1", theirs, mine), ("coord2", mine, theirs)):
        site = "S01" if user == "coord1" else "S02"
        sid = fourth if site == "S01" else recruit(client, tokens[user], site, "autologous", today)
        r = client.post(f"{API}/participants/{sid}/dose-assignment", json={}, headers=tokens[user])
        assert r.status_code == 409 and r.json()["error"]["field"] == "wait_until", r.text
        assert hidden not in r.text and named in r.text and PLACEHOLDER in r.text, r.text
    # an investigator of S01 asking to close phase 1 is told to wait, in the same words
    r = client.post(
        f"{API}/arms/autologous/phase1-closure", json={"password": PASSWORD}, headers=tokens["inv1"]
    )
    assert r.status_code == 409 and theirs not in r.text and mine in r.text, r.text
