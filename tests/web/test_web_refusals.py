"""Refusals in the page's language: the 403 page says which rule refused, in Chinese on a
Chinese page; the API's error body adds the rule's code, parameters and words in the
request's language while its ``message`` stays the English one (issue 16 items 1 and 2)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_the_chinese_403_page_names_the_rule(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    signed_in("coord1")
    english = client.get("/dsmb")
    assert english.status_code == 403
    assert "role coordinator may not read trial reports of every site" in english.text
    client.get("/lang/zh_CN", params={"next": "/trial"})
    chinese = client.get("/dsmb")
    assert chinese.status_code == 403
    assert "角色“研究协调员”无权查看所有中心的试验报告" in chinese.text
    assert "may not" not in chinese.text


def test_a_site_monitor_is_told_in_chinese_why_the_dsmb_page_is_refused(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    signed_in("mon1")
    client.get("/lang/zh_CN", params={"next": "/trial"})
    page = client.get("/dsmb")
    assert page.status_code == 403
    assert "DSMB 视图包含所有中心的受试者" in page.text
    assert "every site" not in page.text


def test_a_404_reads_in_chinese(client: TestClient, signed_in: Callable[[str], str]) -> None:
    signed_in("inv1")
    client.get("/lang/zh_CN", params={"next": "/trial"})
    page = client.get("/participants/S01-9999")
    assert page.status_code == 404
    assert "研究编号「S01-9999」：没有该受试者" in page.text
    assert "no such participant" not in page.text


def test_the_api_refusal_has_a_code_and_words_in_the_requests_language(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    signed_in("coord1")
    csrf = {"X-CSRF-Token": signed_in("coord1")}
    english = client.get("/api/v1/reports/dsmb", headers=csrf).json()["error"]
    chinese = client.get(
        "/api/v1/reports/dsmb", headers={**csrf, "Accept-Language": "zh-CN,zh;q=0.9"}
    ).json()["error"]
    for body in (english, chinese):
        assert body["code"] == "forbidden"
        assert body["reason_code"] == "role_may_not"
        assert body["reason_params"] == {"role": "coordinator", "action": "report.read"}
        assert body["message"].startswith("action='report.read': role coordinator may not")
    assert english["reason"].startswith("role coordinator may not read trial reports")
    assert (
        chinese["reason"]
        == "角色“研究协调员”无权查看所有中心的试验报告（DSMB、ClinicalTrials.gov）"
    )
    lower_chinese = {"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"}
    preferred = client.get("/api/v1/reports/dsmb", headers={**csrf, **lower_chinese}).json()
    assert not HAN.search(preferred["error"]["reason"])
