"""The casebook through the pages: the participant page offers it in both languages, a site user
takes their own site's casebook (logged ``via: web`` with the document's name) and another site's
participant is "not found", exactly like an unused study ID."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from dosewise.store.session import Database
from dosewise.store.tables import AuditRecord


def _register(client: TestClient, csrf: str, site: str) -> str:
    r = client.post("/participants", data={"csrf_token": csrf, "site_id": site})
    assert r.status_code == 303, r.text
    match = re.match(rf"/participants/({site}-\d{{4}})", r.headers["location"])
    assert match
    return match.group(1)


def test_own_sites_casebook_and_not_another_sites(
    client: TestClient, signed_in: Callable[[str], str], db: Database
) -> None:
    other = _register(client, signed_in("coord2"), "S02")
    sid = _register(client, signed_in("coord1"), "S01")
    page = client.get(f"/participants/{sid}").text
    assert f'href="/participants/{sid}/casebook?format=pdf&amp;lang=en"' in page
    assert f'href="/participants/{sid}/casebook?format=pdf&amp;lang=zh"' in page
    assert 'data-progress="casebook-busy"' in page and 'id="casebook-busy"' in page
    r = client.get(f"/participants/{sid}/casebook", params={"format": "html", "lang": "zh"})
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    assert f'filename="dosewise-casebook-{sid}-zh.html"' in r.headers["content-disposition"]
    assert "病例册" in r.text and sid in r.text
    with db.sessions() as s:
        last = s.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
        assert last is not None and last.action == "report.export.casebook"
        assert json.loads(last.after or "{}")["out"] == f"dosewise-casebook-{sid}-zh.html"
        assert json.loads(last.context or "{}")["via"] == "web"
    theirs = client.get(f"/participants/{other}/casebook")
    unused = client.get(f"/participants/{other[:-4]}9999/casebook")
    assert theirs.status_code == unused.status_code == 404
    bad = client.get(f"/participants/{sid}/casebook", params={"format": "docx"})
    assert bad.status_code == 422 and "format" in bad.text
