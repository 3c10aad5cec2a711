"""The screening checklist that helps (issue 17 item 6): each criterion's title and text from
the protocol file, the evidence in words, a correctly absent exclusion green "Not present" and
only real failures red; a re-screen starts from the last screening's values."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from web_forms import consent_form, screening_form

from pg import FakeClock


def _rows(html: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-criterion="([A-Z]\d+)" data-result="([a-z_]+)">', html))


def test_checklist_in_words_and_a_prefilled_rescreen(
    client: TestClient, signed_in: Callable[[str], str], clock: FakeClock
) -> None:
    today = clock().date()
    csrf = signed_in("coord1")
    r = client.post("/participants", data={"csrf_token": csrf, "site_id": "S01"})
    sid = r.headers["location"].split("/")[2].split("?")[0]
    client.post(f"/participants/{sid}/consent", data={"csrf_token": csrf, **consent_form(today)})
    form = {**screening_form(today), "finding__other_malignancy": "yes"}
    r = client.post(f"/participants/{sid}/screen", data={"csrf_token": csrf, **form})
    assert r.status_code == 303, r.text
    page = client.get(f"/participants/{sid}").text
    rows = _rows(page)
    assert rows["E1"] == "not_present" and rows["I5"] == "met"
    assert rows["E4"] == "present"  # the one real failure
    table = page[
        page.index('class="checklist"') : page.index("</table>", page.index('class="checklist"'))
    ]
    assert table.count('class="status bad"') == 1
    assert "Not met" not in table
    # the evidence as sentences in the page's language (web/evidence.py): a finding by its name
    assert "<li>Impaired consciousness: No</li>" in table
    assert "impaired_consciousness" not in table  # no machine keys
    assert "Heart failure or severe arrhythmia" in table  # the protocol's words
    # the re-screen form starts from what was entered last time
    assert "Screen again (filled in from the last screening)" in page
    assert re.search(r'id="ecog" name="ecog" type="number" value="1"', page)
    assert re.search(
        r'<select id="finding__other_malignancy"[^>]*>.*?value="yes" selected', page, re.S
    )
    assert re.search(r'id="screening_date" name="screening_date" type="date" value=""', page)
