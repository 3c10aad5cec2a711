"""The DSMB page in both languages: the DLT-definition cell names the rules a DLT met (and the
definition's version once), and every dose decision has its plain-words line, as on the arm
page."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dosewise.protocol import default_protocol
from dosewise.settings import Settings
from dosewise.store.session import Database
from dosewise.web.routes.trial import dlt_rules
from pg import FakeClock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services"))
from svc_helpers import Acts, outcome


def _cells(html: str) -> list[str]:
    """The DLT-definition cells of the adjudication table, tags removed."""
    found = re.findall(r'<td class="dlt-definition">(.*?)</td>', html, re.S)
    return [re.sub(r"<[^>]+>", " ", c) for c in found]


def test_dlt_rules_are_the_dlt_events_rules_once_each() -> None:
    events = [
        {"status": "dlt", "rules": ["crs", "icans"]},
        {"status": "not_dlt", "rules": ["other"]},
        {"status": "dlt", "rules": ["crs"]},
    ]
    assert dlt_rules({"events": events}) == ["crs", "icans"]
    assert dlt_rules(None) == [] and dlt_rules({"events": "?"}) == []


@pytest.mark.parametrize(
    ("lang", "plain", "version"),
    [("en", "Next cohort: DL1", "Definition version"), ("zh_CN", "下一队列：DL1", "定义版本")],
)
def test_dsmb_page_names_the_dlt_rule_and_says_each_decision_in_plain_words(
    client: TestClient,
    signed_in: Callable[[str], str],
    db: Database,
    settings: Settings,
    clock: FakeClock,
    lang: str,
    plain: str,
    version: str,
) -> None:
    acts = Acts(db, settings, clock)
    sid = acts.recruit("S01")
    acts.treat(sid)
    infused_on = acts.today
    acts.advance(31)
    outcome(acts, sid, "T", infused_on)  # a DLT-grade CRS, adjudicated
    signed_in("dsmb")
    client.get(f"/lang/{lang}")
    page = client.get("/dsmb").text
    protocol = default_protocol()
    (cell,) = _cells(page)
    crs = next(r for r in protocol.dlt.rules if "crs" in r.id.lower())
    assert crs.in_lang("description", lang) in cell and crs.id in cell
    assert cell.count(protocol.dlt.version) == 1 and version in cell
    lines = re.findall(r'<span class="plain">(.*?)</span>', page)
    assert any(line.startswith(plain) for line in lines), lines
