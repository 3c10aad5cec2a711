"""Reasons in the web pages: the arm page shows the next step's reason in the page's language,
from the reason catalogs (no English statistician's text left on a Chinese page)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from dosewise.errors import InvalidInput
from dosewise.trial.services._common import MustWait
from dosewise.web.render import FormErrors, error_words


def test_the_arm_page_shows_the_reason_in_chinese(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    signed_in("stat")
    english = client.get("/trial/arms/autologous").text
    assert "No patient yet: start at dose 1." in english
    client.get("/lang/zh_CN", params={"next": "/trial"})
    chinese = client.get("/trial/arms/autologous").text
    assert "尚无受试者：从剂量 1 开始。" in chinese
    assert "No patient yet" not in chinese
    assert 'data-code="start"' in chinese
    # Plain words first: the clinicians' summary in the protocol's dose names.
    assert "下一队列：DL1（1×10⁶/kg）。依据：尚无受试者" in chinese
    assert "Next cohort: DL1 (1×10⁶/kg). Basis: no participant yet" in english


def test_a_refusal_is_shown_in_the_pages_language() -> None:
    params = {"cohort": 2, "until": None, "count": 1, "pending": []}
    exc = MustWait(
        "wait_until", None, "English rule", reason_code="wait_pending", reason_params=params
    )
    assert error_words(exc, "zh_CN").startswith("下一位受试者须等待直到待定受试者完成回输")
    assert error_words(exc, "en").startswith("The next patient must wait until the pending")
    # A rule without a code goes through the web catalog by its English text.
    required = InvalidInput("weight_kg", None, "is required")
    assert error_words(required, "zh_CN") == "为必填项"
    errors = FormErrors()
    errors.add(required, ("weight_kg",))
    errors.add(exc, ("weight_kg",))
    shown = errors.localized(lambda e: error_words(e, "zh_CN"))
    assert shown.fields == {"weight_kg": "为必填项"}
    assert shown.general[0].startswith("wait_until: 下一位受试者须等待")
    assert errors.fields == {"weight_kg": "is required"}  # the English errors are kept
