"""Corrections of the release, lymphodepletion, infusion and consent through the pages (issue
14 item 6): a second record is refused with the service's message; the correction form, filled
from the record, saves the change with its reason (audited), all its errors shown at once."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from test_participant_flow import post, register
from web_forms import consent_form, screening_form

from dosewise.store.session import Database
from dosewise.store.tables import Infusion, Lymphodepletion, Product
from dosewise.trial import Actor, UnitOfWork
from pg import PASSWORD, FakeClock

#: A 70 kg adult's product with 6.84×10⁷ CAR+ viable T cells: DL1 (8e5-1.2e6/kg) at 50 mL.
DL1_PRODUCT = {
    "weight_kg": "70",
    "tnc": "2e8",
    "viability": "90",
    "cd3": "95",
    "car": "40",
    "volume_ml": "50",
}


def _reasons(db: Database, action: str) -> list[str]:
    with db.engine.connect() as c:
        rows = c.execute(
            text("SELECT DISTINCT txn, reason FROM audit_records WHERE action = :a"), {"a": action}
        ).all()
    return [r[1] for r in rows]


def _released(client: TestClient, signed_in: Callable[[str], str], clock: FakeClock) -> str:
    """A participant with a confirmed DL1 and its released product (lot LOT-001)."""
    today = clock().date()
    csrf = signed_in("coord1")
    sid = register(client, csrf)
    for path, data in (
        ("consent", consent_form(today)),
        ("screen", screening_form(today)),
        ("enroll", {"enroll_arm_id": "autologous"}),
        ("assign", {}),
    ):
        assert post(client, f"/participants/{sid}/{path}", csrf, data).status_code == 303, path
    csrf = signed_in("inv1")
    r = post(client, f"/participants/{sid}/confirm", csrf, {"confirm_password": PASSWORD})
    assert r.status_code == 303, r.text
    release = {"lot": "LOT-001", "released_on": today.isoformat(), **DL1_PRODUCT}
    r = post(
        client, f"/participants/{sid}/release", csrf, {**release, "release_password": PASSWORD}
    )
    assert r.status_code == 303, r.text
    return sid


def _one(db: Database, model: type) -> object:
    with UnitOfWork(db, Actor.system("test"), readonly=True) as uow:
        rows = list(uow.session.scalars(select(model)))
        assert len(rows) == 1, rows
        uow.session.expunge_all()
        return rows[0]


def test_release_lymphodepletion_and_infusion_are_corrected_through_their_forms(
    client: TestClient, signed_in: Callable[[str], str], clock: FakeClock, db: Database
) -> None:
    today = clock().date().isoformat()
    sid = _released(client, signed_in, clock)
    csrf = signed_in("inv1")
    page = client.get(f"/participants/{sid}").text
    fix = page[page.index('id="release_correct"') :]
    assert 'name="lot" type="text" value="LOT-001"' in fix  # filled from the record
    assert 'name="viability" type="number" value="90"' in fix  # fraction back to percent

    # a second release without a reason: the service's refusal, above the form
    release = {"lot": "LOT-002", "released_on": today, **DL1_PRODUCT}
    r = post(
        client, f"/participants/{sid}/release", csrf, {**release, "release_password": PASSWORD}
    )
    assert r.status_code == 409 and "correct it with a reason" in r.text
    # the correction form: every missing field at once (reason, signature)
    r = post(
        client,
        f"/participants/{sid}/release",
        csrf,
        {**release, "release_correction_reason": "", "release_password": ""},
    )
    assert r.status_code == 422
    for field in ("release_correction_reason", "release_password"):
        assert f'id="{field}-error"' in r.text, field
    assert re.search(r'<details class="correction" id="release_correct" open>', r.text)
    fixed = {**release, "release_correction_reason": "Lot mistyped", "release_password": PASSWORD}
    r = post(client, f"/participants/{sid}/release", csrf, fixed)
    assert r.status_code == 303, r.text
    assert r.headers["location"].endswith("#release_correct")
    assert _one(db, Product).lot == "LOT-002"  # type: ignore[attr-defined]
    assert _reasons(db, "product.correct") == ["Lot mistyped"]

    ld = {"regimen": "Flu/Cy", "ld_start_on": today, "fludarabine_dose": "30"}
    assert post(client, f"/participants/{sid}/lymphodepletion", csrf, ld).status_code == 303
    page = client.get(f"/participants/{sid}").text
    assert 'id="lymphodepletion_correct"' in page and 'value="Flu/Cy"' in page
    r = post(client, f"/participants/{sid}/lymphodepletion", csrf, ld)
    assert r.status_code == 409 and "correct that record with a reason" in r.text
    fixed_ld = {**ld, "regimen": "Flu/Cy 30/500", "lymphodepletion_correction_reason": "Regimen"}
    r = post(client, f"/participants/{sid}/lymphodepletion", csrf, fixed_ld)
    assert r.status_code == 303, r.text
    assert _one(db, Lymphodepletion).regimen == "Flu/Cy 30/500"  # type: ignore[attr-defined]
    assert _reasons(db, "lymphodepletion.correct") == ["Regimen"]

    infusion = {"infused_on": today, "infused_volume_ml": "50"}
    r = post(client, f"/participants/{sid}/infusion", csrf, infusion)
    assert r.status_code == 303, r.text
    page = client.get(f"/participants/{sid}").text
    assert 'id="release_correct"' not in page  # infused: the release can no longer change
    assert 'name="infused_volume_ml" type="number" value="50"' in page
    r = post(client, f"/participants/{sid}/infusion", csrf, infusion)
    assert r.status_code == 409 and "already infused: correct it with a reason" in r.text
    # a corrected volume outside every window needs the signed deviation, as a new record would
    low = {**infusion, "infused_volume_ml": "20", "infusion_correction_reason": "Pump log"}
    r = post(client, f"/participants/{sid}/infusion", csrf, low)
    assert r.status_code == 422 and "outside every dose level" in r.text
    assert '<details class="correction" id="infusion_correct" open>' in r.text
    r = post(client, f"/participants/{sid}/infusion", csrf, {**low, "infused_volume_ml": "48"})
    assert r.status_code == 303, r.text
    assert _one(db, Infusion).infused_volume_ml == 48.0  # type: ignore[attr-defined]
    assert _reasons(db, "infusion.correct") == ["Pump log"]

    client.get("/lang/zh_CN", params={"next": "/trial"})
    page = client.get(f"/participants/{sid}").text
    assert "更正回输记录" in page and "更正清淋记录" in page


def test_a_second_consent_of_a_version_is_corrected_with_a_reason(
    client: TestClient, signed_in: Callable[[str], str], clock: FakeClock, db: Database
) -> None:
    today = clock().date()
    csrf = signed_in("coord1")
    sid = register(client, csrf)
    assert (
        post(client, f"/participants/{sid}/consent", csrf, consent_form(today)).status_code == 303
    )
    page = client.get(f"/participants/{sid}").text
    assert 'id="consent-correction"' in page
    again = {**consent_form(today), "consent_age_years": "35"}
    r = post(client, f"/participants/{sid}/consent", csrf, again)
    assert r.status_code == 409
    assert re.search(
        r'id="consent_version-error"[^>]*>[^<]*already has consent version 1.0', r.text
    )
    r = post(
        client,
        f"/participants/{sid}/consent",
        csrf,
        {**again, "consent_correction_reason": "Age mistyped"},
    )
    assert r.status_code == 303, r.text
    assert _reasons(db, "consent.correct") == ["Age mistyped"]
    assert 'data-state="complete"' in client.get(f"/participants/{sid}").text
