"""The audit page for monitors (issue 17 item 5): filtered by study ID, user, act and days;
newest first, 50 a page with older pages behind a link; ids shown as names; sign-ins name the
person signing in."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from pg import FakeClock


def _register(client: TestClient, csrf: str) -> str:
    r = client.post("/participants", data={"csrf_token": csrf, "site_id": "S01"})
    assert r.status_code == 303, r.text
    return str(r.headers["location"].split("/")[2].split("?")[0])


def _seqs(html: str) -> list[int]:
    return [int(s) for s in re.findall(r'<tr data-seq="(\d+)"', html)]


def test_filter_by_study_id_with_names_and_sign_ins(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    csrf = signed_in("coord1")
    sid = _register(client, csrf)
    _register(client, csrf)
    signed_in("mon1")
    page = client.get("/audit", params={"study_id": sid}).text
    rows = _seqs(page)
    assert len(rows) == 1 and 'data-total="1"' in page
    assert "participant.register" in page and f"Participant {sid}" in page
    assert re.search(
        r"<strong><code>created_by</code></strong>: <code>coord1</code>", page
    )  # not the user id
    signins = client.get("/audit", params={"username": "coord1", "action": "auth.login"}).text
    who = re.findall(r'<td class="who">([^<]+)<br>', signins)
    assert who and set(who) == {"coord1"} and "anonymous" not in who
    assert "signing in" in signins
    bad = client.get("/audit", params={"study_id": "S01-9999"})
    assert 'id="study_id-error"' in bad.text and "no such participant" in bad.text
    assert "newest records are shown" not in page


def test_newest_first_fifty_a_page(
    client: TestClient, signed_in: Callable[[str], str], clock: FakeClock
) -> None:
    csrf = signed_in("coord1")
    for _ in range(30):
        _register(client, csrf)
    signed_in("admin1")
    first = client.get("/audit").text
    seqs = _seqs(first)
    assert len(seqs) == 50 and seqs == sorted(seqs, reverse=True)
    older = re.search(r'id="audit-older" href="([^"]+)"', first)
    assert older
    second = client.get(older.group(1).replace("&amp;", "&")).text
    assert _seqs(second)[0] == seqs[-1] - 1
    assert "Back to the newest" in second
    today = clock().date().isoformat()
    ranged = client.get(
        "/audit", params={"date_from": today, "date_to": today, "action": "participant.register"}
    ).text
    assert 'data-total="30"' in ranged
