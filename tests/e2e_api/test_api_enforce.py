"""Through the API, on SQLite and PostgreSQL: the service enforces the protocol's limits and the
participant's timeline (issue 14, items 4 and 5): 20 concurrent enrolments into an arm whose
phase 1 maximum is 12 give 12 enrolments and 8 refusals naming the limit; impossible dates are
refused with a 422 naming the field and the rule."""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from datetime import date, timedelta

import pandas as pd
import pytest
from api_helpers import API, as_of, call, login, recruit, together
from fastapi.testclient import TestClient
from sqlalchemy import text

from dosewise.settings import Settings
from dosewise.store.session import Database
from dosewise.trial.demo import plan
from pg import PASSWORD, backend_params

pytestmark = pytest.mark.parametrize("backend", backend_params(), indirect=True)


def _screened(client: TestClient, coord: dict[str, str], day: date, arm: str) -> str:
    """A registered, consented participant screened eligible for ``arm`` (not enrolled)."""
    return recruit(client, coord, "S01", arm, day.isoformat(), enroll=False)


def test_twenty_concurrent_enrolments_stop_at_the_phase1_maximum(client: TestClient) -> None:
    coord = login(client, "coord1")
    day = as_of(client, coord)
    waiting = iter([_screened(client, coord, day, "autologous") for _ in range(20)])
    lock = __import__("threading").Lock()

    def enrol() -> object:
        with lock:
            sid = next(waiting)
        return client.post(
            f"{API}/participants/{sid}/enrollment", json={"arm_id": "autologous"}, headers=coord
        )

    codes = together(20, enrol)  # type: ignore[arg-type]
    assert Counter(codes) == Counter({201: 12, 409: 8})
    late = _screened(client, coord, day, "autologous")
    r = client.post(
        f"{API}/participants/{late}/enrollment", json={"arm_id": "autologous"}, headers=coord
    )
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "limit_reached"
    assert "phase 1 maximum" in error["message"] and "12 of 12" in error["message"]


def _refused(r: object, field: str, words: str) -> None:
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == field, error
    assert words in error["message"], error


def test_impossible_dates_name_the_field_and_the_rule(client: TestClient) -> None:
    coord = login(client, "coord1")
    day = as_of(client, coord)
    sid = call(client, coord, "POST", "/participants", {"site_id": "S01", "year_of_birth": 1990})[
        "study_id"
    ]
    # consent before the year of birth
    early = plan.consent_record(date(1985, 5, 1), 34)
    early.pop("date_of_birth", None)
    r = client.post(
        f"{API}/participants/{sid}/consents",
        json={"consent_version": "v1", "record": early},
        headers=coord,
    )
    _refused(r, "consent_date", "before the participant's year of birth (1990)")
    # tomorrow at the site (Asia/Shanghai)
    r = client.post(
        f"{API}/participants/{sid}/consents",
        json={"consent_version": "v1", "record": plan.consent_record(day + timedelta(days=2), 34)},
        headers=coord,
    )
    _refused(r, "consent_date", "is in the future")
    assert "Asia/Shanghai" in r.json()["error"]["message"]
    body = {"consent_version": "v1", "record": plan.consent_record(day, 34)}
    call(client, coord, "POST", f"/participants/{sid}/consents", body)
    # screening before the registration
    record = plan.screening_record(day - timedelta(days=3), 34, "male")
    r = client.post(
        f"{API}/participants/{sid}/screenings",
        json={"arm_id": "autologous", "record": record},
        headers=coord,
    )
    _refused(r, "screening_date", "before the participant's registration")
    record = plan.screening_record(day, 34, "male")
    call(
        client,
        coord,
        "POST",
        f"/participants/{sid}/screenings",
        {"arm_id": "autologous", "record": record},
    )
    call(client, coord, "POST", f"/participants/{sid}/enrollment", {"arm_id": "autologous"})
    # an adverse event in year 1
    r = client.post(
        f"{API}/participants/{sid}/adverse-events",
        json={"term": "Nausea", "grade": 1, "onset_on": "0001-01-01"},
        headers=coord,
    )
    _refused(r, "onset_on", "before the participant's year of birth (1990)")


def _depleted(client: TestClient, coord: dict[str, str], day: date) -> tuple[str, float]:
    """A participant with a released DL1 product and lymphodepletion; the release volume."""
    stat = login(client, "stat")
    sid = _screened(client, coord, day, "autologous")
    call(client, coord, "POST", f"/participants/{sid}/enrollment", {"arm_id": "autologous"})
    call(client, coord, "POST", f"/participants/{sid}/dose-assignment", {})
    call(
        client, stat, "POST", f"/participants/{sid}/dose-assignment/confirm", {"password": PASSWORD}
    )
    body = {
        "lot": "M-1",
        "certificate": plan.certificate(1e6, 60.0, False),
        "weight_kg": 60.0,
        "released_on": day.isoformat(),
    }
    product = call(client, coord, "POST", f"/participants/{sid}/products", body)
    ld = {"regimen": "Flu/Cy", "start_on": day.isoformat(), "end_on": day.isoformat()}
    call(client, coord, "POST", f"/participants/{sid}/lymphodepletion", ld)
    return sid, float(product["volume_ml"])


def test_an_infusion_outside_every_window_needs_a_signed_deviation(client: TestClient) -> None:
    coord, inv, mon = login(client, "coord1"), login(client, "inv1"), login(client, "monall")
    day = as_of(client, coord)
    sid, volume = _depleted(client, coord, day)
    body = {"infused_on": day.isoformat(), "infused_volume_ml": round(volume * 0.7, 2)}
    r = client.post(f"{API}/participants/{sid}/infusion", json=body, headers=coord)
    _refused(r, "infused_volume_ml", "outside every dose level's window")
    assert "DL1 8e+05-1.2e+06/kg" in r.json()["error"]["message"]
    assert "protocol deviation" in r.json()["error"]["message"]

    signed = {**body, "deviation": {"reason": "Part of the bag lost at thaw", "password": PASSWORD}}
    r = client.post(f"{API}/participants/{sid}/infusion", json=signed, headers=coord)
    assert r.status_code == 403, r.text  # a coordinator cannot sign a deviation
    r = client.post(
        f"{API}/participants/{sid}/infusion",
        json={**signed, "deviation": {"reason": "lost", "password": "wrong-password-1"}},
        headers=inv,
    )
    assert r.status_code in (401, 403), r.text
    assert call(client, mon, "GET", "/deviations") == []

    infused = call(client, inv, "POST", f"/participants/{sid}/infusion", signed)
    assert infused["actual_level"] is None and infused["deviation_id"] is not None
    listed = call(client, mon, "GET", "/deviations")
    assert [(d["study_id"], d["category"], d["related_table"]) for d in listed] == [
        (sid, "dose_outside_windows", "infusions")
    ]
    assert listed[0]["reason"] == "Part of the bag lost at thaw"
    assert listed[0]["signature_id"] is not None
    assert call(client, coord, "GET", f"/participants/{sid}/deviations") == listed
    # analysed at the nearest level (7e5/kg is nearer 5e5 than 1e6 on the log scale)
    state = call(client, coord, "GET", "/arms/autologous/state")
    text_ = str(state)
    assert "nearest level DL-1" in text_, text_[:2000]

    # the DSMB report lists it; SDTM DV carries it
    stat = login(client, "stat")
    r = client.get(f"{API}/reports/dsmb?format=html&lang=en", headers=stat)
    assert r.status_code == 200, r.text[:500]
    assert 'class="deviation-row"><td>' + sid in r.text
    assert "Part of the bag lost at thaw" in r.text
    r = client.get(f"{API}/reports/sdtm", headers=stat)
    assert r.status_code == 200, r.text[:500]
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = [n for n in z.namelist() if n.lower().endswith("dv.xpt")]
        assert names, z.namelist()
        frame = pd.read_sas(io.BytesIO(z.read(names[0])), format="xport", encoding="utf-8")
    assert list(frame["DVDECOD"]) == ["DOSE OUTSIDE PROTOCOL RANGE"]
    assert list(frame["DVCAT"]) == ["TREATMENT DEVIATION"]


def _actions(app_db: tuple[Database, Settings], action: str) -> list[str | None]:
    """The reasons of the audited acts ``action`` (one per act)."""
    db, _settings = app_db
    with db.engine.connect() as c:
        rows = c.execute(
            text("SELECT DISTINCT txn, reason FROM audit_records WHERE action = :a"),
            {"a": action},
        ).all()
    return [r[1] for r in rows]


def test_one_record_unless_an_audited_correction(
    client: TestClient, app_db: tuple[Database, Settings]
) -> None:
    coord = login(client, "coord1")
    day = as_of(client, coord)
    sid, volume = _depleted(client, coord, day)
    ld = {"regimen": "Flu/Cy", "start_on": day.isoformat(), "end_on": day.isoformat()}
    r = client.post(f"{API}/participants/{sid}/lymphodepletion", json=ld, headers=coord)
    assert r.status_code == 409 and "correct that record" in r.json()["error"]["message"]
    fixed = {**ld, "regimen": "Flu/Cy (corrected)", "correction_reason": "Typo in the regimen"}
    assert (
        call(client, coord, "POST", f"/participants/{sid}/lymphodepletion", fixed)["regimen"]
        == "Flu/Cy (corrected)"
    )
    assert _actions(app_db, "lymphodepletion.correct") == ["Typo in the regimen"]

    # a second release: refused, unless it corrects the first before the infusion
    release = {
        "lot": "M-1b",
        "certificate": plan.certificate(1e6, 60.0, False),
        "weight_kg": 60.0,
        "released_on": day.isoformat(),
    }
    r = client.post(f"{API}/participants/{sid}/products", json=release, headers=coord)
    assert r.status_code == 409 and "correct it with a reason" in r.json()["error"]["message"]
    release["correction_reason"] = "Lot number mistyped"
    assert call(client, coord, "POST", f"/participants/{sid}/products", release)["lot"] == "M-1b"
    assert _actions(app_db, "product.correct") == ["Lot number mistyped"]
    assert len(call(client, coord, "GET", f"/participants/{sid}")["products"]) == 1

    body = {"infused_on": day.isoformat(), "infused_volume_ml": volume}
    call(client, coord, "POST", f"/participants/{sid}/infusion", body)
    r = client.post(f"{API}/participants/{sid}/products", json=release, headers=coord)
    assert r.status_code == 409 and "can no longer change" in r.json()["error"]["message"]
    r = client.post(f"{API}/participants/{sid}/infusion", json=body, headers=coord)
    assert r.status_code == 409 and "correct it with a reason" in r.json()["error"]["message"]
    # a lymphodepletion ending after the infusion is refused, even as a correction
    late = {**fixed, "end_on": (day + timedelta(days=1)).isoformat()}
    r = client.post(f"{API}/participants/{sid}/lymphodepletion", json=late, headers=coord)
    assert r.status_code == 422
    body2 = {**body, "infused_volume_ml": round(volume * 0.95, 2), "correction_reason": "Pump log"}
    fixed_inf = call(client, coord, "POST", f"/participants/{sid}/infusion", body2)
    assert fixed_inf["infused_volume_ml"] == round(volume * 0.95, 2)
    assert _actions(app_db, "infusion.correct") == ["Pump log"]
    record = call(client, coord, "GET", f"/participants/{sid}")
    assert record["infusion"]["infused_volume_ml"] == round(volume * 0.95, 2)
    assert len(record["lymphodepletions"]) == 1

    # consent: one record per version; re-consent on a new version is allowed once enrolled
    again = {"consent_version": "v1", "record": plan.consent_record(day, 34)}
    r = client.post(f"{API}/participants/{sid}/consents", json=again, headers=coord)
    assert r.status_code == 409
    assert r.json()["error"]["field"] == "consent_version"
    body_v2 = {"consent_version": "v2", "record": plan.consent_record(day, 34)}
    assert call(client, coord, "POST", f"/participants/{sid}/consents", body_v2)["status"] == (
        "complete"
    )
    fix = {
        "consent_version": "v1",
        "record": plan.consent_record(day - timedelta(days=1), 34),
        "correction_reason": "Wrong date entered",
    }
    call(client, coord, "POST", f"/participants/{sid}/consents", fix)
    assert _actions(app_db, "consent.correct") == ["Wrong date entered"]


def test_an_incomplete_consent_is_kept_as_incomplete_and_can_be_voided(
    client: TestClient,
) -> None:
    coord = login(client, "coord1")
    day = as_of(client, coord)
    sid = call(client, coord, "POST", "/participants", {"site_id": "S01"})["study_id"]
    unsigned = {**plan.consent_record(day, 34), "signatures": []}
    c = call(
        client,
        coord,
        "POST",
        f"/participants/{sid}/consents",
        {"consent_version": "v1", "record": unsigned},
    )
    assert c["status"] == "incomplete" and c["valid"] is False and c["missing"]
    assert call(client, coord, "GET", f"/participants/{sid}")["status"] == "registered"
    path = f"/participants/{sid}/consents/{c['id']}/void"
    r = client.post(API + path, json={"reason": " "}, headers=coord)
    assert r.status_code == 422
    voided = call(client, coord, "POST", path, {"reason": "Signatures not collected"})
    assert voided["status"] == "voided" and voided["void_reason"] == "Signatures not collected"
    assert client.post(API + path, json={"reason": "again"}, headers=coord).status_code == 409
    # the version is free again: a complete consent of v1 is recorded, and cannot be voided
    good = call(
        client,
        coord,
        "POST",
        f"/participants/{sid}/consents",
        {"consent_version": "v1", "record": plan.consent_record(day, 34)},
    )
    assert good["status"] == "complete"
    r = client.post(
        f"{API}/participants/{sid}/consents/{good['id']}/void", json={"reason": "x"}, headers=coord
    )
    assert r.status_code == 409
