"""The worklist page (issue 17 item 2): the landing page after sign-in for everyone who reads
participants; site staff see their site and "mine", all-site roles every site with a site
filter and the overview one click away; each item links to where it is done; both languages."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from dosewise.settings import Settings
from dosewise.store.session import Database
from pg import FakeClock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services"))
from svc_helpers import Acts


def _rows(html: str) -> list[tuple[str, str, str]]:
    """(kind, study ID, overdue yes/no) of each row of the worklist table."""
    return re.findall(
        r'<tr data-kind="([a-z_]+)" data-study="([A-Z0-9-]+)" data-overdue="(yes|no)"', html
    )


def test_landing_page_is_the_worklist_with_an_overdue_visit(
    client: TestClient,
    signed_in: Callable[[str], str],
    db: Database,
    settings: Settings,
    clock: FakeClock,
) -> None:
    acts = Acts(db, settings, clock)
    a = acts.recruit("S01")
    b = acts.recruit("S02")
    acts.treat(a)
    acts.advance(31)  # the day-28 response visit (26-30) is overdue, so is the adjudication
    signed_in("coord1")
    landing = client.get("/", follow_redirects=False)
    assert landing.headers["location"] == "/worklist"
    page = client.get("/worklist").text
    rows = _rows(page)
    assert ("visit", a, "yes") in rows and ("dlt_adjudication", a, "yes") in rows
    assert all(sid != b for _, sid, _ in rows)  # another site's participant is not shown
    assert f'href="/participants/{a}#visits"' in page and f'href="/participants/{a}#dlt"' in page
    assert 'id="site"' not in page  # a site user has no site filter
    mine = client.get("/worklist?mine=1").text
    assert ("visit", a, "yes") in _rows(mine) and ("dlt_adjudication", a, "yes") not in _rows(mine)
    only = _rows(client.get("/worklist?kind=dlt_adjudication&overdue=1").text)
    assert only == [("dlt_adjudication", a, "yes")]

    signed_in("stat")
    every = client.get("/worklist").text
    assert 'id="overview-link"' in every and 'id="site"' in every
    assert {sid for _, sid, _ in _rows(every)} == {a, b}
    assert {sid for _, sid, _ in _rows(client.get("/worklist?site=S02").text)} == {b}
    client.cookies.set("dosewise_lang", "zh_CN")
    zh = client.get("/worklist").text
    assert "待办事项" in zh and "逾期" in zh


def test_the_administrator_still_lands_on_users(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    signed_in("admin1")
    assert client.get("/", follow_redirects=False).headers["location"] == "/admin/users"
    assert client.get("/worklist").status_code == 403


def test_empty_query_section_is_folded_until_a_query_is_raised(
    client: TestClient,
    signed_in: Callable[[str], str],
    db: Database,
    settings: Settings,
    clock: FakeClock,
) -> None:
    from dosewise.trial.services import queries

    acts = Acts(db, settings, clock)
    sid = acts.register("S01")
    signed_in("mon1")

    def folds() -> set[str]:
        page = client.get(f"/participants/{sid}").text
        assert 'id="queries"' in page and 'id="next-step"' in page and 'id="stepper"' in page
        return set(re.findall(r'<details class="fold" data-section="([a-z]+)"', page))

    assert "queries" in folds()
    acts.run(
        "mon1",
        queries.raise_query,
        sid,
        record_type="participants",
        record_id=None,
        field="year_of_birth",
        question="Is the year right?",
    )
    assert "queries" not in folds()
