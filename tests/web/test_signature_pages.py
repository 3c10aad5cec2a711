"""The pages show a signature as no longer valid once the signed record is edited in the
database (issue 15, item 3): the participant's dose and the arm's decision history."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import text
from test_participant_flow import post, register
from web_forms import consent_form, screening_form

from dosewise.store.session import Database
from pg import PASSWORD, FakeClock

BROKEN = "Signature no longer valid"


def test_an_edited_signed_dose_shows_as_an_invalid_signature(
    client: TestClient, signed_in: Callable[[str], str], clock: FakeClock, db: Database
) -> None:
    today = clock().date()
    csrf = signed_in("coord1")
    sid = register(client, csrf)
    for url, form in (
        ("consent", consent_form(today)),
        ("screen", screening_form(today)),
        ("enroll", {"enroll_arm_id": "autologous"}),
        ("assign", {}),
    ):
        assert post(client, f"/participants/{sid}/{url}", csrf, form).status_code == 303
    csrf = signed_in("inv1")
    r = post(client, f"/participants/{sid}/confirm", csrf, {"confirm_password": PASSWORD})
    assert r.status_code == 303, r.text
    assert BROKEN not in client.get(f"/participants/{sid}").text
    assert BROKEN not in client.get("/trial/arms/autologous").text

    with db.engine.begin() as c:
        c.execute(text("UPDATE dose_assignments SET dose_index = 2"))

    assert BROKEN in client.get(f"/participants/{sid}").text
    assert BROKEN in client.get("/trial/arms/autologous").text
    assert 'id="broken-signatures"' in client.get("/trial/arms/autologous").text
