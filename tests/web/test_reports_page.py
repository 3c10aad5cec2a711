"""The reports page: each role sees the reports its permissions allow, with links that download
them through the same service as the API (audit-logged ``via: web``); the DSMB page links to it.

Expected lists are written by hand from the rules (see tests/api/test_api_reports.py): the
design report for everyone; DSMB and ClinicalTrials.gov for ``report.read``; SDTM also needs
participants of every site; ODM also the audit export of every site.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

import pytest
from fastapi.testclient import TestClient

from dosewise.store.session import Database
from dosewise.trial import audit
from dosewise.trial.audit import Actor
from dosewise.trial.uow import UnitOfWork

EXPECTED = {
    "admin1": ["design"],
    "inv1": ["design"],
    "coord1": ["design"],
    "stat": ["design", "dsmb", "ctgov", "sdtm"],
    "dsmb": ["design", "dsmb", "ctgov", "sdtm"],
    "mon1": ["design"],
    "monall": ["design", "dsmb", "ctgov", "sdtm", "odm"],
}
SECTION = re.compile(r'<section class="card" id="report-[a-z]+" data-kind="([a-z]+)"')
LINK = re.compile(r'<a href="(/reports/[^"]+)" data-format="([a-z]+)" data-lang="([a-z]+)"')


def links(html: str) -> list[tuple[str, str, str]]:
    return [(unescape(href), fmt, lang) for href, fmt, lang in LINK.findall(html)]


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_each_role_sees_the_reports_it_may_take(
    client: TestClient, signed_in: Callable[[str], str], username: str
) -> None:
    signed_in(username)
    page = client.get("/reports")
    assert page.status_code == 200
    assert SECTION.findall(page.text) == EXPECTED[username]
    assert '<a href="/reports"' in page.text  # in the menu
    kinds = {href.split("/")[2] for href, _, _ in links(page.text)}
    assert kinds == set(EXPECTED[username])


def test_links_cover_every_format_and_language_in_the_page_language_first(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    signed_in("monall")
    found = links(client.get("/reports").text)
    dsmb = [(fmt, lang) for href, fmt, lang in found if href.startswith("/reports/dsmb/")]
    assert dsmb == [("pdf", "en"), ("pdf", "zh"), ("html", "en"), ("html", "zh")]
    assert ("/reports/sdtm/download?format=zip", "zip", "en") in found
    assert ("/reports/odm/download?format=xml", "xml", "en") in found
    client.get("/lang/zh_CN")
    page = client.get("/reports")
    assert "报告" in page.text and "数据截止日期" in page.text
    dsmb = [(f, lang) for href, f, lang in links(page.text) if href.startswith("/reports/dsmb/")]
    assert dsmb[:2] == [("pdf", "zh"), ("pdf", "en")]


def test_a_link_downloads_the_file_and_the_export_is_logged_via_web(
    client: TestClient, signed_in: Callable[[str], str], db: Database
) -> None:
    signed_in("stat")
    (href,) = [
        h
        for h, f, lang in links(client.get("/reports").text)
        if h.endswith("html&lang=en") and h.startswith("/reports/dsmb/")
    ]
    r = client.get(href)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-disposition"].startswith('attachment; filename="dosewise-dsmb-')
    assert b"<html" in r.content[:500].lower()
    with UnitOfWork(db, Actor.system("test"), readonly=True) as uow:
        (record,) = audit.query(uow.session, audit.AuditQuery(action="report.export.dsmb"))
        logged = audit.as_dict(record)
    assert logged["username"] == "stat" and logged["context"]["via"] == "web"
    assert logged["after"]["format"] == "html" and logged["after"]["lang"] == "en"


def test_downloads_keep_the_access_rules_and_explain_bad_input(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    signed_in("mon1")
    r = client.get("/reports/sdtm/download")
    assert r.status_code == 403 and "site S01" in unescape(r.text)
    signed_in("stat")
    r = client.get("/reports/dsmb/download?format=docx")
    assert r.status_code == 422 and "format=" in unescape(r.text)
    assert client.get("/reports/nothing/download").status_code == 404
    client.cookies.clear()
    r = client.get("/reports/dsmb/download?format=pdf")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/reports/dsmb")


def test_the_dsmb_page_links_to_its_report_and_to_all_reports(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    signed_in("dsmb")
    page = client.get("/dsmb")
    assert page.status_code == 200
    found = [(h, f, lang) for h, f, lang in links(page.text) if h.startswith("/reports/dsmb/")]
    assert found[0] == ("/reports/dsmb/download?format=pdf&lang=en", "pdf", "en")
    assert {f for _, f, _ in found} == {"pdf", "html"}
    assert '<a href="/reports">' in page.text
