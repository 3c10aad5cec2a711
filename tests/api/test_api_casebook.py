"""The casebook through the API, on a copy of the scripted trial: the participant page's reading
rule (own site for site users, 404 for another site's participant, 403 for a role that reads no
participants), PDF and HTML in English and Chinese, clear errors, and one audit record per
download naming the document."""

from __future__ import annotations

from fastapi.testclient import TestClient
from test_api_reports import audit_records, check_file, heads, trial_client, trial_db  # noqa: F401

API = "/api/v1"
OWN = "S01-0002"  # a treated participant of site S01
OTHER = "S02-0001"


def _casebook(client: TestClient, headers: dict[str, str], study_id: str, **params: str) -> object:
    return client.get(f"{API}/participants/{study_id}/casebook", params=params, headers=headers)


def test_the_participant_pages_rule(
    trial_client: TestClient,  # noqa: F811
    heads: dict[str, dict[str, str]],  # noqa: F811
) -> None:
    fmt = {"format": "html"}
    for user in ("inv1", "coord1", "mon1", "stat", "dsmb", "monall", "dm1"):
        check_file(_casebook(trial_client, heads[user], OWN, **fmt), "html")
    for user in ("inv1", "coord1", "mon1"):
        other = _casebook(trial_client, heads[user], OTHER, **fmt)
        same = trial_client.get(f"{API}/participants/{OTHER}", headers=heads[user])
        assert other.status_code == same.status_code == 404  # type: ignore[attr-defined]
        assert other.json() == same.json()  # type: ignore[attr-defined]
    assert _casebook(trial_client, heads["admin1"], OWN).status_code == 403  # type: ignore[attr-defined]
    assert _casebook(trial_client, {}, OWN).status_code == 401  # type: ignore[attr-defined]
    unknown = _casebook(trial_client, heads["monall"], "S01-9999", **fmt)
    assert unknown.status_code == 404  # type: ignore[attr-defined]
    assert _casebook(trial_client, heads["monall"], OWN, format="docx").status_code == 422  # type: ignore[attr-defined]
    assert _casebook(trial_client, heads["monall"], OWN, lang="fr").status_code == 422  # type: ignore[attr-defined]


def test_pdf_and_chinese_and_the_audit_record(
    trial_client: TestClient,  # noqa: F811
    heads: dict[str, dict[str, str]],  # noqa: F811
) -> None:
    before = len(audit_records(trial_client, heads["monall"], "report.export.casebook"))
    pdf = _casebook(trial_client, heads["mon1"], OWN)
    check_file(pdf, "pdf")
    assert f'filename="dosewise-casebook-{OWN}-en.pdf"' in pdf.headers["content-disposition"]  # type: ignore[attr-defined]
    zh = check_file(_casebook(trial_client, heads["inv1"], OWN, format="html", lang="zh"), "html")
    assert "病例册".encode() in zh and OWN.encode() in zh
    records = audit_records(trial_client, heads["monall"], "report.export.casebook")
    assert len(records) == before + 2
    newest = max(records, key=lambda r: r["seq"])
    assert newest["username"] == "inv1" and newest["site_id"] == "S01"
    assert newest["after"]["out"] == f"dosewise-casebook-{OWN}-zh.html"
    assert newest["after"]["study_id"] == OWN
    # a site monitor sees its site's exports in its trail
    own_trail = audit_records(trial_client, heads["mon1"], "report.export.casebook")
    assert newest["seq"] in {r["seq"] for r in own_trail}
