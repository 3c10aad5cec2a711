"""Data queries through the pages (issue 17 item 1): a monitor raises a query on a field of a
participant's record, the site's coordinator answers it, the monitor re-opens and closes it;
open queries are flagged by the record's section, counted in the participant list and by age on
the overview; refusals come back next to the field; another site's staff cannot answer."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from pg import FakeClock


def post(client: TestClient, url: str, csrf: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": csrf, **data})


def _register(client: TestClient, csrf: str) -> str:
    r = post(client, "/participants", csrf, {"site_id": "S01", "year_of_birth": "1990"})
    assert r.status_code == 303, r.text
    match = re.match(r"/participants/(S01-\d{4})", r.headers["location"])
    assert match
    return match.group(1)


def test_raise_answer_reopen_close_through_the_pages(
    client: TestClient, signed_in: Callable[[str], str], clock: FakeClock
) -> None:
    sid = _register(client, signed_in("coord1"))
    csrf = signed_in("mon1")
    page = client.get(f"/participants/{sid}").text
    assert "Raise a query" in page and 'value="participants:"' in page
    r = post(
        client,
        f"/participants/{sid}/queries",
        csrf,
        {"record": "participants:", "field": "no_such_field", "question": "Year?"},
    )
    assert r.status_code == 422
    assert 'id="field-error"' in r.text and "is not a field of participants" in r.text
    assert 'value="Year?"' not in r.text and "Year?</textarea>" in r.text  # what was typed is kept
    r = post(
        client,
        f"/participants/{sid}/queries",
        csrf,
        {"record": "participants:", "field": "year_of_birth", "question": "1990 or 1991?"},
    )
    assert r.status_code == 303, r.text
    page = client.get(f"/participants/{sid}").text
    qid = re.search(r'data-query="(\d+)"', page).group(1)  # type: ignore[union-attr]
    assert 'class="status wait">Open queries: 1</a>' in page
    assert "Send the answer" not in page  # the monitor does not answer

    csrf = signed_in("coord2")  # another site's coordinator
    assert post(client, f"/queries/{qid}/answer", csrf, {"text": "x"}).status_code == 403
    csrf = signed_in("coord1")
    listing = client.get("/participants").text
    assert 'data-open-queries="1"' in listing
    r = post(client, f"/queries/{qid}/answer", csrf, {"text": ""})
    assert r.status_code == 422 and f'id="query-{qid}-text-error"' in r.text
    r = post(client, f"/queries/{qid}/answer", csrf, {"text": "1991: corrected"})
    assert r.status_code == 303 and r.headers["location"].endswith(f"#query-{qid}")

    csrf = signed_in("mon1")
    r = post(client, f"/queries/{qid}/reopen", csrf, {"text": "Please attach the source"})
    assert r.status_code == 303
    csrf = signed_in("coord1")
    post(client, f"/queries/{qid}/answer", csrf, {"text": "Attached"})
    csrf = signed_in("mon1")
    r = post(client, f"/queries/{qid}/close", csrf, {"text": ""})
    assert r.status_code == 303, r.text
    page = client.get(f"/participants/{sid}").text
    assert 'data-status="closed"' in page and "Open queries:" not in page
    assert page.count('data-kind="answer"') == 2 and 'data-kind="reopen"' in page


def test_the_overview_and_the_query_list_count_by_age(
    client: TestClient, signed_in: Callable[[str], str], clock: FakeClock
) -> None:
    sid = _register(client, signed_in("coord1"))
    for field in ("year_of_birth", "registered_on"):
        csrf = signed_in("dm1")  # a new session each time: the last one has expired
        r = post(
            client,
            f"/participants/{sid}/queries",
            csrf,
            {"record": "participants:", "field": field, "question": "?"},
        )
        assert r.status_code == 303, r.text
        clock.advance(days=25)
    csrf = signed_in("dm1")
    overview = client.get("/trial").text
    assert 'data-unresolved="2"' in overview
    assert re.search(r'data-age="7to30">1<', overview) and re.search(
        r'data-age="gt30">1<', overview
    )
    listing = client.get("/queries").text
    assert listing.count("<tr data-query=") == 2
    assert client.get("/queries?status=closed").text.count("<tr data-query=") == 0
    signed_in("dsmb")
    assert client.get("/queries").status_code == 403
    assert "open-queries" not in client.get("/trial").text
