"""A participant from registration to response through the pages (TestClient, SQLite): every
form posts to its service, refusals come back next to the field with what was typed kept."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from web_forms import FALLBACK_PRODUCT, consent_form, screening_form

from dosewise.store.session import Database
from dosewise.store.tables import AdverseEvent, Participant, Product
from dosewise.trial import Actor, UnitOfWork
from pg import FakeClock


def post(client: TestClient, url: str, csrf: str, data: dict[str, str]) -> object:
    return client.post(url, data={"csrf_token": csrf, **data})


def register(client: TestClient, csrf: str) -> str:
    response = post(client, "/participants", csrf, {"site_id": "S01"})
    assert response.status_code == 303, response.text
    match = re.match(r"/participants/(S01-\d{4})", response.headers["location"])
    assert match
    return match.group(1)


def test_register_consent_screen_enroll_assign_confirm_release_fallback(
    client: TestClient, signed_in: Callable[[str], str], clock: FakeClock, db: Database
) -> None:
    today = clock().date()
    csrf = signed_in("coord1")
    sid = register(client, csrf)
    page = client.get(f"/participants/{sid}")
    assert page.status_code == 200 and sid in page.text

    r = post(client, f"/participants/{sid}/consent", csrf, consent_form(today))
    assert r.status_code == 303, r.text
    r = post(client, f"/participants/{sid}/screen", csrf, screening_form(today))
    assert r.status_code == 303, r.text
    page = client.get(f"/participants/{sid}").text
    assert 'data-eligible="true"' in page

    r = post(client, f"/participants/{sid}/enroll", csrf, {"enroll_arm_id": "autologous"})
    assert r.status_code == 303, r.text
    r = post(client, f"/participants/{sid}/assign", csrf, {})
    assert r.status_code == 303, r.text
    page = client.get(f"/participants/{sid}").text
    assert 'data-level="DL1" data-status="proposed"' in page  # the design's start dose

    # A coordinator may not confirm a dose: the form is not offered to them.
    assert "confirm_password" not in page
    csrf = signed_in("inv1")
    r = post(client, f"/participants/{sid}/confirm", csrf, {"confirm_password": "wrong one"})
    assert r.status_code == 403
    assert "re-enter your own password to sign" in r.text  # the service's message, by the field
    r = post(
        client,
        f"/participants/{sid}/confirm",
        csrf,
        {"confirm_password": "correct horse battery staple"},
    )
    assert r.status_code == 303, r.text

    release = {"lot": "LOT-001", "released_on": today.isoformat(), **FALLBACK_PRODUCT}
    # every mistake of the form at once: two fields left empty, one not a number
    incomplete = {**release, "lot": "", "volume_ml": "", "tnc": "lots"}
    r = post(client, f"/participants/{sid}/release", csrf, {**incomplete, "release_password": ""})
    assert r.status_code == 422
    for field in ("lot", "volume_ml", "tnc", "release_password"):
        assert f'id="{field}-error"' in r.text, field
    assert re.search(r'<label for="volume_ml">Product volume <span class="req"', r.text)
    r = post(
        client,
        f"/participants/{sid}/release",
        csrf,
        {**release, "release_password": "correct horse battery staple"},
    )
    assert r.status_code == 303, r.text
    with UnitOfWork(db, Actor.system("test"), readonly=True) as uow:
        product = uow.session.scalar(select(Product))
        assert product is not None
        assert (product.planned_level, product.assigned_level, product.fallback) == (
            "DL1",
            "DL-1",
            True,
        )
    page = client.get(f"/participants/{sid}").text
    assert 'data-assigned="DL-1" data-fallback="true"' in page

    # lymphodepletion, infusion (study day 0) and a response assessment through their forms
    ld = {
        "regimen": "Flu/Cy",
        "ld_start_on": today.isoformat(),
        "fludarabine_dose": "30",
        "fludarabine_unit": "mg/m2/day",
        "fludarabine_days": "3",
    }
    assert post(client, f"/participants/{sid}/lymphodepletion", csrf, ld).status_code == 303
    # the volume the release's dose plan gave for DL-1: 50 mL × 3.5×10⁷ / 5.13×10⁷ cells
    assert "<strong>34.1 mL</strong>" in client.get(f"/participants/{sid}").text
    infusion = {"infused_on": today.isoformat(), "infused_volume_ml": "34.1"}
    assert post(client, f"/participants/{sid}/infusion", csrf, infusion).status_code == 303
    response = {
        "assessed_on": today.isoformat(),
        "blasts_pct": "2",
        "anc": "1.5",
        "platelets": "120",
    }
    assert post(client, f"/participants/{sid}/response", csrf, response).status_code == 303
    page = client.get(f"/participants/{sid}").text
    infused = re.search(r'id="infusion-record"[^>]*>([^<]*)<', page)
    assert infused, page[page.index('id="infusion"') :][:1500]
    assert "level DL-1" in infused.group(1), infused.group(1)
    assert 'id="bor" data-bor="CR"' in page  # blasts < 5%, counts recovered (clinical.md §5)

    # the arm page: the decision that opened cohort 1, who assigned and who confirmed it
    arm = client.get("/trial/arms/autologous").text
    history = arm[arm.index('id="history"') :]
    assert "Cohort 1: DL1" in history and "dose 1 (DL1)" not in history  # one numbering on pages
    assert "Test coord1 (coord1)" in history and "Test inv1 (inv1)" in history
    assert "Electronically signed by Test inv1 (inv1)" in history
    # the participant is analysed at the level actually given (the fallback): outside the dose
    # finding, followed for safety only, shown in its own row
    assert re.search(rf"{sid}</a></th>.*?DL-1 <span class=\"status wait\">fallback", arm, re.S)
    assert re.search(r'<tr class="outside" data-dose="0" data-level="DL-1">', arm)


def test_refusal_shows_the_message_next_to_the_field_and_keeps_the_values(
    client: TestClient, signed_in: Callable[[str], str], clock: FakeClock
) -> None:
    today = clock().date()
    csrf = signed_in("coord1")
    sid = register(client, csrf)
    future = (today + timedelta(days=2)).isoformat()
    data = {**consent_form(today), "consent_date": future}
    r = post(client, f"/participants/{sid}/consent", csrf, data)
    assert r.status_code == 422
    # next to the consent date, in the service's words, and the age typed is still there
    assert re.search(r'id="consent_date-error"[^>]*>is in the future', r.text)
    assert 'name="consent_age_years" type="number" value="34"' in r.text


def test_site_coordinator_cannot_open_or_detect_another_sites_participant(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    csrf = signed_in("coord2")  # site S02
    r = post(client, "/participants", csrf, {"site_id": "S02"})
    sid = r.headers["location"].split("/")[2].split("?")[0]
    signed_in("coord1")  # site S01
    r = client.get(f"/participants/{sid}")
    unused = client.get(f"/participants/{sid[:-4]}9999")
    # Another site's participant reads like an unused ID (issue 15): nothing to count or probe.
    assert r.status_code == unused.status_code == 404
    assert sid not in client.get("/participants").text


def test_grade_3_crs_recorded_from_components(
    client: TestClient, signed_in: Callable[[str], str], clock: FakeClock, db: Database
) -> None:
    """The CRS grade is computed from the ASTCT components (one vasopressor → grade 3)."""
    today = clock().date()
    csrf = signed_in("coord1")
    sid = register(client, csrf)
    for url, data in (
        ("consent", consent_form(today)),
        ("screen", screening_form(today)),
        ("enroll", {"enroll_arm_id": "autologous"}),
    ):
        assert post(client, f"/participants/{sid}/{url}", csrf, data).status_code == 303
    crs = {
        "ae_kind": "crs",
        "onset_on": today.isoformat(),
        "fever": "yes",
        "hypotension": "yes",
        "vasopressors": "1",
        "oxygen_device": "nasal_cannula",
        "oxygen_l_min": "4",
    }
    r = post(client, f"/participants/{sid}/ae", csrf, crs)
    assert r.status_code == 303, r.text
    with UnitOfWork(db, Actor.system("test"), readonly=True) as uow:
        ae = uow.session.scalar(select(AdverseEvent))
        assert ae is not None and (ae.category, ae.grade, ae.scale) == ("crs", 3, "ASTCT 2019")
        assert uow.session.scalar(select(Participant.study_id)) == sid
    page = client.get(f"/participants/{sid}").text
    assert 'data-category="crs" data-grade="3"' in page


def test_correcting_a_saved_event_asks_for_a_reason(
    client: TestClient, signed_in: Callable[[str], str], clock: FakeClock, db: Database
) -> None:
    today = clock().date()
    csrf = signed_in("coord1")
    sid = register(client, csrf)
    for url, data in (
        ("consent", consent_form(today)),
        ("screen", screening_form(today)),
        ("enroll", {"enroll_arm_id": "autologous"}),
    ):
        assert post(client, f"/participants/{sid}/{url}", csrf, data).status_code == 303
    event = {
        "ae_kind": "ctcae",
        "onset_on": today.isoformat(),
        "term": "Headache",
        "grade": "2",
        "attribution": "possible",
    }
    assert post(client, f"/participants/{sid}/ae", csrf, event).status_code == 303
    with UnitOfWork(db, Actor.system("test"), readonly=True) as uow:
        ae = uow.session.scalar(select(AdverseEvent))
        assert ae is not None
        event_id, version = ae.id, ae.version
    change = {"version": str(version), "update_attribution": "unlikely", "reason": ""}
    r = post(client, f"/participants/{sid}/ae/{event_id}", csrf, change)
    assert r.status_code == 422
    assert re.search(rf'id="upd-{event_id}-reason-error"[^>]*>required for adverse_events', r.text)
    change["reason"] = "attribution reviewed with the investigator"
    assert post(client, f"/participants/{sid}/ae/{event_id}", csrf, change).status_code == 303
    with UnitOfWork(db, Actor.system("test"), readonly=True) as uow:
        ae = uow.session.get(AdverseEvent, event_id)
        assert ae is not None and ae.attribution == "unlikely"
    signed_in("admin1")
    trail = client.get("/audit", params={"action": "ae.update"}).text
    assert "attribution reviewed with the investigator" in trail
