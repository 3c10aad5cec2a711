"""Reports and exports through the API, on a copy of the scripted NCT07070323 trial.

The expectations are written out by hand from the permission matrix's rules, not derived from
``EXPORT_KINDS`` or ``PERMISSIONS``: the DSMB report and the ClinicalTrials.gov section need
``report.read`` over every site (statisticians, DSMB members, a monitor without a site: every
report holds every site's participants, so site users get 403, issue 15); SDTM also needs
``participant.read`` over every site (statistician, DSMB, a monitor without
a site); ODM needs ``participant.read`` and ``audit.export`` over every site (a monitor without a
site only). The design report holds no trial data: every signed-in user may take it.
"""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from demo_trial import DemoTrial
from dosewise.report import downloads
from dosewise.report.exports import EXPORT_KINDS
from dosewise.server import create_app
from dosewise.settings import Settings
from dosewise.store.session import Database, open_database
from pg import PASSWORD, USERS, FakeClock, add_test_users, make_settings

API = "/api/v1"
#: Who may take each export (one user per role and site; inv2, coord2 are like inv1, coord1).
ALLOWED: dict[str, frozenset[str]] = {
    "dsmb": frozenset({"stat", "dsmb", "monall"}),
    "ctgov": frozenset({"stat", "dsmb", "monall"}),
    "sdtm": frozenset({"stat", "dsmb", "monall"}),
    "odm": frozenset({"monall"}),
}
MATRIX_USERS = ("admin1", "inv1", "coord1", "stat", "dsmb", "mon1", "monall")
#: The cheapest format of each export (the matrix renders one file per allowed user).
MATRIX_FORMAT = {"dsmb": "html", "ctgov": "json", "sdtm": "zip", "odm": "xml"}
MEDIA = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
    "xml": "application/xml",
    "zip": "application/zip",
}


def _copy_sqlite(source: str, target: Path) -> None:
    """A consistent copy of the loaded trial (SQLite's backup API, safe with WAL)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


@pytest.fixture(scope="module")
def trial_db(
    demo_db: DemoTrial, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, Database]]:
    """A copy of the loaded trial with the test users (``pg.USERS``), so exports and logins
    written here never reach the other modules' trial."""
    path = tmp_path_factory.mktemp("reports-api") / "trial.db"
    _copy_sqlite(demo_db.url.removeprefix("sqlite:///"), path)
    settings = make_settings(f"sqlite:///{path}")
    db = open_database(settings)
    add_test_users(db, settings)
    yield settings, db
    db.dispose()


@pytest.fixture(scope="module")
def trial_client(trial_db: tuple[Settings, Database], demo_db: DemoTrial) -> Iterator[TestClient]:
    settings, db = trial_db
    start = datetime.combine(demo_db.today + timedelta(days=1), clock_time(9), tzinfo=UTC)
    app = create_app(settings, clock=FakeClock(start), db=db)
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def heads(trial_client: TestClient) -> dict[str, dict[str, str]]:
    """Bearer headers of every test user on the trial copy."""
    out = {}
    for username in USERS:
        r = trial_client.post(
            f"{API}/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        out[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    trial_client.cookies.clear()
    return out


def check_file(response: Any, fmt: str) -> bytes:
    """A download of ``fmt``: status, media type, attachment name, and the bytes are that format."""
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == MEDIA[fmt]
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and f'.{fmt}"' in disposition, disposition
    body: bytes = response.content
    if fmt == "pdf":
        assert body.startswith(b"%PDF-")
    elif fmt == "html":
        assert b"<html" in body[:500].lower()
    elif fmt == "json":
        assert isinstance(json.loads(body), dict)
    elif fmt == "xml":
        assert body.lstrip().startswith(b"<?xml")
    else:
        names = zipfile.ZipFile(io.BytesIO(body)).namelist()
        assert any(n.endswith("/dm.xpt") for n in names), names
    return body


def audit_records(client: TestClient, headers: dict[str, str], action: str) -> list[dict[str, Any]]:
    page = client.get(f"{API}/audit", params={"action": action, "limit": 1000}, headers=headers)
    assert page.status_code == 200, page.text
    records: list[dict[str, Any]] = page.json()["records"]
    return records


def test_the_list_holds_what_each_user_may_take(
    trial_client: TestClient, heads: dict[str, dict[str, str]]
) -> None:
    for username in USERS:
        like = {"inv2": "inv1", "coord2": "coord1"}.get(username, username)
        r = trial_client.get(f"{API}/reports", headers=heads[username])
        assert r.status_code == 200
        reports = r.json()["reports"]
        kinds = [k for k in ("dsmb", "ctgov", "sdtm", "odm") if like in ALLOWED[k]]
        assert [x["kind"] for x in reports] == ["design", *kinds], username
    dsmb = {
        x["kind"]: x
        for x in trial_client.get(f"{API}/reports", headers=heads["stat"]).json()["reports"]
    }
    assert dsmb["dsmb"]["languages"] == ["en", "zh"] and dsmb["dsmb"]["trial_data"] is True
    assert [f["format"] for f in dsmb["dsmb"]["formats"]] == ["pdf", "html"]
    assert dsmb["dsmb"]["formats"][0]["href"] == f"{API}/reports/dsmb?format=pdf"
    assert dsmb["sdtm"]["formats"] == [
        {"format": "zip", "media_type": "application/zip", "href": f"{API}/reports/sdtm?format=zip"}
    ]
    assert dsmb["sdtm"]["languages"] == ["en"] and dsmb["design"]["trial_data"] is False
    assert dsmb["design"]["href"] == f"{API}/reports/design"


@pytest.mark.parametrize("kind", sorted(EXPORT_KINDS))
def test_every_role_against_every_export(
    trial_client: TestClient, heads: dict[str, dict[str, str]], kind: str
) -> None:
    assert kind in ALLOWED, f"a new export {kind!r}: write down who may take it"
    fmt = MATRIX_FORMAT[kind]
    for username in MATRIX_USERS:
        r = trial_client.get(
            f"{API}/reports/{kind}", params={"format": fmt}, headers=heads[username]
        )
        if username in ALLOWED[kind]:
            check_file(r, fmt)
        else:
            assert r.status_code == 403, (kind, username, r.text[:200])
            assert r.json()["error"]["code"] == "forbidden"


def test_the_listed_link_downloads_the_default_format(
    trial_client: TestClient, heads: dict[str, dict[str, str]]
) -> None:
    """Each export's ``href`` (no query) gives its first format; the file names the cut-off."""
    listed = trial_client.get(f"{API}/reports", headers=heads["monall"]).json()["reports"]
    for report in listed[1:]:
        if report["kind"] == "dsmb":
            continue  # its default is PDF: see the next test
        r = trial_client.get(report["href"], headers=heads["monall"])
        check_file(r, report["formats"][0]["format"])
        assert "dosewise-" in r.headers["content-disposition"]


def test_dsmb_report_in_chinese_as_pdf_and_html(
    trial_client: TestClient, heads: dict[str, dict[str, str]]
) -> None:
    r = trial_client.get(f"{API}/reports/dsmb", params={"lang": "zh"}, headers=heads["dsmb"])
    check_file(r, "pdf")
    assert r.headers["content-disposition"].endswith('-zh.pdf"')
    r = trial_client.get(
        f"{API}/reports/dsmb", params={"format": "html", "lang": "zh"}, headers=heads["dsmb"]
    )
    html = check_file(r, "html").decode("utf-8")
    assert "安全" in html  # the Chinese report, not the English one


def test_a_site_scoped_user_cannot_take_an_export_of_every_site(
    trial_client: TestClient, heads: dict[str, dict[str, str]]
) -> None:
    r = trial_client.get(f"{API}/reports/sdtm", headers=heads["inv1"])
    assert r.status_code == 403
    r = trial_client.get(f"{API}/reports/dsmb", headers=heads["mon1"])
    assert r.status_code == 403
    error = r.json()["error"]
    assert error["field"] == "kind" and "site S01" in error["message"]
    r = trial_client.get(f"{API}/reports/odm", headers=heads["mon1"])
    assert r.status_code == 403 and "site S01" in r.json()["error"]["message"]


def test_without_a_login_every_report_route_is_401(trial_client: TestClient) -> None:
    trial_client.cookies.clear()
    for path in ("/reports", "/reports/design", "/reports/dsmb", "/reports/sdtm", "/reports/x"):
        r = trial_client.get(f"{API}{path}")
        assert r.status_code == 401, path
        assert r.json()["error"]["code"] == "not_authenticated"


def test_an_export_is_audit_logged_with_its_cut_off_and_via_api(
    trial_client: TestClient, heads: dict[str, dict[str, str]]
) -> None:
    before = audit_records(trial_client, heads["admin1"], "report.export.sdtm")
    r = trial_client.get(f"{API}/reports/sdtm", headers=heads["monall"])
    check_file(r, "zip")
    (default,) = audit_records(trial_client, heads["admin1"], "report.export.sdtm")[len(before) :]
    last_day = date.fromisoformat(default["after"]["as_of"])  # the last record's day
    assert f"dosewise-sdtm-{last_day}.zip" in r.headers["content-disposition"]
    assert default["username"] == "monall" and default["context"]["via"] == "api"
    cutoff = (last_day - timedelta(days=30)).isoformat()  # a cut-off in the past
    r = trial_client.get(f"{API}/reports/sdtm", params={"as_of": cutoff}, headers=heads["stat"])
    check_file(r, "zip")
    assert f"dosewise-sdtm-{cutoff}.zip" in r.headers["content-disposition"]
    records = audit_records(trial_client, heads["admin1"], "report.export.sdtm")
    assert len(records) == len(before) + 2
    record = records[-1]
    assert record["username"] == "stat" and record["role"] == "statistician"
    assert record["context"]["via"] == "api"
    assert record["after"]["as_of"] == cutoff and record["after"]["format"] == "sdtm"
    assert record["after"]["out"] == f"dosewise-sdtm-{cutoff}.zip"  # the document, not a temp path
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    written = {Path(n).name for n in archive.namelist()}
    assert set(record["after"]["files"]) == written
    # the temporary folder the export was written to is gone once the file was sent
    assert not list(Path(tempfile.gettempdir()).glob("dosewise-sdtm-*"))


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/reports/dsmb", {"format": "docx"}, "format"),
        ("/reports/dsmb", {"format": "zip"}, "format"),
        ("/reports/sdtm", {"format": "pdf"}, "format"),
        ("/reports/dsmb", {"lang": "fr"}, "lang"),
        ("/reports/sdtm", {"lang": "zh"}, "lang"),  # CDISC datasets are English only
        ("/reports/dsmb", {"as_of": "2026-13-01"}, "as_of"),
        ("/reports/dsmb", {"as_of": "yesterday"}, "as_of"),
        ("/reports/design", {"format": "xml"}, "format"),
        ("/reports/design", {"lang": "de"}, "lang"),
    ],
)
def test_bad_inputs_are_422_naming_the_field_and_nothing_is_logged(
    trial_client: TestClient,
    heads: dict[str, dict[str, str]],
    path: str,
    params: dict[str, str],
    field: str,
) -> None:
    kind = path.rsplit("/", 1)[1]
    action = f"report.export.{kind}"
    before = len(audit_records(trial_client, heads["admin1"], action))
    r = trial_client.get(f"{API}{path}", params=params, headers=heads["stat"])
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == field and error["message"].startswith(f"{field}="), error
    assert len(audit_records(trial_client, heads["admin1"], action)) == before


def test_an_unknown_report_is_404_naming_the_reports_there_are(
    trial_client: TestClient, heads: dict[str, dict[str, str]]
) -> None:
    r = trial_client.get(f"{API}/reports/define", headers=heads["stat"])
    assert r.status_code == 404
    error = r.json()["error"]
    assert error["field"] == "kind" and "design, dsmb, ctgov, sdtm, odm" in error["message"]


def test_the_design_report_is_for_everyone_and_computed_once(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    """No trial data: any role, even an administrator; the second request comes from memory."""
    first = client.get(f"{API}/reports/design", params={"format": "html"}, headers=tokens["coord1"])
    html = check_file(first, "html").decode("utf-8")
    assert "NCT07070323" in html and "--trials 1000" in html
    assert first.headers["content-disposition"].endswith('dosewise-design-NCT07070323-en.html"')
    computed = downloads._design_bytes.cache_info().misses
    again = client.get(f"{API}/reports/design?format=html&lang=en", headers=tokens["admin1"])
    assert again.content == first.content
    assert downloads._design_bytes.cache_info().misses == computed
