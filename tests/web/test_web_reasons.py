"""Reasons in the web pages: the arm page shows the next step's reason in the page's language,
from the reason catalogs (no English statistician's text left on a Chinese page)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient


def test_the_arm_page_shows_the_reason_in_chinese(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    signed_in("stat")
    english = client.get("/trial/arms/autologous").text
    assert "No patient yet: start at dose 2." in english
    client.get("/lang/zh_CN", params={"next": "/trial"})
    chinese = client.get("/trial/arms/autologous").text
    assert "尚无受试者：从剂量 2 开始。" in chinese
    assert "No patient yet" not in chinese
    assert 'data-code="start"' in chinese
    # Plain words first: the clinicians' summary in the protocol's dose names.
    assert "下一队列：DL1（1×10⁶/kg）。依据：尚无受试者" in chinese
    assert "Next cohort: DL1 (1×10⁶/kg). Basis: no participant yet" in english
