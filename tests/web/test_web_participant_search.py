"""Finding people in the pages (issue 17 item 3): search by study ID, filters, sortable columns,
25 a page; the participant page opens with the steps and the next one, empty sections folded."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from web_forms import consent_form

from pg import FakeClock


def _register(client: TestClient, csrf: str, site: str = "S01") -> str:
    r = client.post("/participants", data={"csrf_token": csrf, "site_id": site})
    assert r.status_code == 303, r.text
    return str(r.headers["location"].split("/")[2].split("?")[0])


def _listed(html: str) -> list[str]:
    return re.findall(r'<tr data-study-id="([^"]+)"', html)


def test_search_filter_sort_and_page(client: TestClient, signed_in: Callable[[str], str]) -> None:
    csrf = signed_in("coord1")
    ids = [_register(client, csrf) for _ in range(27)]
    page = client.get("/participants").text
    assert _listed(page) == ids[:25] and 'data-total="27"' in page
    assert "Page 1 of 2" in page
    nxt = re.search(r'href="([^"]+)" rel="next"', page)
    assert nxt and _listed(client.get(nxt.group(1).replace("&amp;", "&")).text) == ids[25:]
    found = client.get("/participants", params={"q": ids[9][-4:]}).text
    assert ids[9] in _listed(found)
    desc = client.get("/participants", params={"sort": "study_id", "order": "desc"}).text
    assert _listed(desc)[0] == ids[-1]
    assert 'aria-sort="descending"' in desc
    bad = client.get("/participants", params={"page": "zero"})
    assert (
        'id="page-error"' not in bad.text
        and "page" in bad.text
        and "must be a whole number" in bad.text
    )


def test_the_stepper_and_folded_sections(
    client: TestClient, signed_in: Callable[[str], str], clock: FakeClock
) -> None:
    csrf = signed_in("coord1")
    sid = _register(client, csrf)
    page = client.get(f"/participants/{sid}").text
    assert re.search(r'data-step="consent" data-state="current"', page)
    assert 'id="next-step" data-step="consent"' in page
    folded = set(re.findall(r'<details class="fold" data-section="([a-z]+)"', page))
    assert "consent" not in folded and {"screening", "ae", "dlt", "response"} <= folded
    r = client.post(
        f"/participants/{sid}/consent", data={"csrf_token": csrf, **consent_form(clock().date())}
    )
    assert r.status_code == 303, r.text
    page = client.get(f"/participants/{sid}").text
    assert re.search(r'data-step="consent" data-state="done"', page)
    assert 'id="next-step" data-step="screening"' in page
    folded = set(re.findall(r'<details class="fold" data-section="([a-z]+)"', page))
    assert "consent" not in folded and "screening" not in folded and "enroll" in folded
