"""The interface language is kept per user: choosing 中文 while signed in is stored on the account
(an audited ``user.set_locale``), so another browser shows Chinese after signing in and the
Reports page offers Chinese first; a user who has not chosen keeps the cookie and the browser's
``Accept-Language``, and nothing is written for them; visitors have the cookie only."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_client import csrf_of, sign_in

from dosewise.store.session import Database
from dosewise.store.tables import AuditRecord, User
from dosewise.web.render import LANG_COOKIE
from pg import PASSWORD

REPORT_LINK = re.compile(
    r'<a href="/reports/([a-z]+)/[^"]*" data-format="[a-z]+" data-lang="([a-z]+)"'
)


@pytest.fixture
def other_browser(app: FastAPI) -> Iterator[TestClient]:
    """A second browser: its own, empty cookie jar."""
    with TestClient(app, follow_redirects=False) as c:
        yield c


def stored_locale(db: Database, username: str) -> str | None:
    with db.engine.connect() as c:
        return c.scalar(select(User.locale).where(User.username == username))


def set_locale_records(db: Database) -> list[AuditRecord]:
    with db.sessions() as s:
        return list(
            s.scalars(
                select(AuditRecord)
                .where(AuditRecord.action == "user.set_locale")
                .order_by(AuditRecord.seq)
            )
        )


def html_lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)">', html)
    assert match, html[:200]
    return match.group(1)


def test_choosing_chinese_is_stored_audited_and_follows_the_user_to_another_browser(
    client: TestClient, other_browser: TestClient, db: Database
) -> None:
    sign_in(client, "coord1")
    r = client.get("/lang/zh_CN", params={"next": "/participants"})
    assert r.status_code == 303 and r.headers["location"] == "/participants"
    assert stored_locale(db, "coord1") == "zh_CN"
    [record] = set_locale_records(db)
    assert record.username == "coord1" and record.site_id == "S01"
    assert record.entity == "users" and record.operation == "update"
    assert json.loads(record.before or "{}") == {"locale": None}
    assert json.loads(record.after or "{}") == {"locale": "zh_CN"}
    assert json.loads(record.context or "{}")["via"] == "web"

    # Another device: no cookie, an English browser; the sign-in page is English ...
    login_page = other_browser.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert html_lang(login_page.text) == "en"
    sign_in(other_browser, "coord1")
    # ... and after signing in every page is Chinese.
    for path in ("/trial", "/participants", "/reports"):
        page = other_browser.get(path, headers={"Accept-Language": "en-US,en;q=0.9"})
        assert page.status_code == 200, path
        assert html_lang(page.text) == "zh-CN" and "研究协调员" in page.text
    # The switch, still there, now offers English.
    assert 'href="/lang/en?next=' in page.text


def test_the_reports_page_offers_the_users_language_first(
    client: TestClient, other_browser: TestClient
) -> None:
    sign_in(client, "monall")  # a monitor over every site: the DSMB report is theirs
    client.get("/lang/zh_CN")
    sign_in(other_browser, "monall")
    page = other_browser.get("/reports").text
    dsmb = [lang for kind, lang in REPORT_LINK.findall(page) if kind == "dsmb"]
    assert dsmb[0] == "zh" and set(dsmb) == {"zh", "en"}
    assert '<option value="zh" lang="zh" selected>' in page


def test_the_stored_choice_wins_over_the_browsers_cookie_and_resets_it(
    client: TestClient, other_browser: TestClient, db: Database
) -> None:
    sign_in(client, "inv1")
    client.get("/lang/zh_CN")
    other_browser.cookies.set(LANG_COOKIE, "en")
    token = csrf_of(other_browser.get("/login").text)
    r = other_browser.post(
        "/login",
        data={"username": "inv1", "password": PASSWORD, "csrf_token": token},
    )
    assert r.status_code == 303
    assert f"{LANG_COOKIE}=zh_CN" in r.headers["set-cookie"]
    trial = other_browser.get("/trial").text
    assert html_lang(trial) == "zh-CN"
    # Signed out, this browser's sign-in page now speaks the user's language too.
    out = other_browser.post("/logout", data={"csrf_token": csrf_of(trial)})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert html_lang(other_browser.get("/login").text) == "zh-CN"
    assert stored_locale(db, "inv1") == "zh_CN"


def test_switching_back_to_english_is_stored_too(client: TestClient, db: Database) -> None:
    sign_in(client, "stat")
    client.get("/lang/zh_CN")
    client.get("/lang/en")
    client.cookies.delete(LANG_COOKIE)
    assert stored_locale(db, "stat") == "en"
    page = client.get("/trial", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert html_lang(page.text) == "en"  # the stored English beats a Chinese browser
    changes = [json.loads(r.after or "{}")["locale"] for r in set_locale_records(db)]
    assert changes == ["zh_CN", "en"]


def test_a_user_who_has_not_chosen_keeps_the_browsers_language_and_nothing_is_written(
    client: TestClient, db: Database
) -> None:
    chinese = {"Accept-Language": "zh-CN,zh;q=0.9"}
    token = csrf_of(client.get("/login", headers=chinese).text)
    r = client.post(
        "/login",
        data={"username": "dsmb", "password": PASSWORD, "csrf_token": token},
        headers=chinese,
    )
    assert r.status_code == 303 and LANG_COOKIE not in r.headers.get("set-cookie", "")
    assert html_lang(client.get("/trial", headers=chinese).text) == "zh-CN"
    assert html_lang(client.get("/trial").text) == "en"  # follows the browser, page by page
    client.cookies.set(LANG_COOKIE, "zh_CN")  # a choice made before signing in
    assert html_lang(client.get("/trial").text) == "zh-CN"
    assert stored_locale(db, "dsmb") is None
    assert set_locale_records(db) == []


def test_a_visitor_chooses_with_the_cookie_only(client: TestClient, db: Database) -> None:
    r = client.get("/lang/zh_CN", params={"next": "/login"})
    assert r.status_code == 303 and f"{LANG_COOKIE}=zh_CN" in r.headers["set-cookie"]
    assert html_lang(client.get("/login").text) == "zh-CN"
    client.get("/lang/xx")  # not a language: ignored
    assert html_lang(client.get("/login").text) == "zh-CN"
    assert set_locale_records(db) == []
    with db.engine.connect() as c:
        assert set(c.scalars(select(User.locale))) == {None}


def test_an_administrator_sets_and_clears_a_users_language_with_a_reason(
    client: TestClient, db: Database
) -> None:
    csrf = sign_in(client, "admin1")
    page = client.get("/admin/users/coord2").text
    assert 'data-locale=""' in page and "Not chosen (the browser&#39;s language)" in page
    form = {
        "csrf_token": csrf,
        "full_name": "Test coord2",
        "role": "coordinator",
        "site_id": "S02",
        "active": "yes",
        "locale": "zh_CN",
        "reason": "asked for Chinese at the site initiation visit",
    }
    r = client.post("/admin/users/coord2", data=form)
    assert r.status_code == 303, r.text
    assert stored_locale(db, "coord2") == "zh_CN"
    assert 'data-locale="zh_CN"' in client.get("/admin/users/coord2").text
    r = client.post("/admin/users/coord2", data={**form, "locale": "", "reason": "undo"})
    assert r.status_code == 303
    assert stored_locale(db, "coord2") is None
    with db.sessions() as s:
        updates = s.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "user.update", AuditRecord.entity == "users")
            .order_by(AuditRecord.seq)
        ).all()
        changes = [(json.loads(u.after or "{}"), u.reason) for u in updates]
    assert changes == [
        ({"locale": "zh_CN"}, "asked for Chinese at the site initiation visit"),
        ({"locale": None}, "undo"),
    ]
    bad = client.post("/admin/users/coord2", data={**form, "locale": "fr"})
    assert bad.status_code == 422 and "must be one of zh_CN, en" in bad.text
    assert stored_locale(db, "coord2") is None
