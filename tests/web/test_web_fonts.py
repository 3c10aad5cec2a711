"""The arm page's chart in Chinese: drawn with the packaged CJK font, or, when the server has no
CJK font at all, replaced by a message that says why (never a chart of empty boxes)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from dosewise.report import fonts

ARM = "/trial/arms/autologous"
MESSAGE = "服务器上没有安装中文 (CJK) 字体，无法以中文绘制此图。"


def test_chinese_arm_page_says_when_no_cjk_font_exists(
    client: TestClient, signed_in: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in("inv1")
    client.get("/lang/zh_CN", params={"next": "/trial"})
    assert MESSAGE not in client.get(ARM).text  # the packaged font is there
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    page = client.get(ARM)
    assert page.status_code == 200 and MESSAGE in page.text
    assert '<img src="data:image/png' not in page.text
    client.get("/lang/en", params={"next": "/trial"})
    assert "no Chinese (CJK) font" not in client.get(ARM).text  # English charts need none


def test_the_pages_offer_the_packaged_font_to_browsers_without_one(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    font = client.get("/fonts/cjk")
    assert font.status_code == 200 and font.headers["content-type"] == "font/otf"
    assert font.content[:4] == b"OTTO"  # an OpenType (CFF) font file
    css = client.get("/static/style.css").text
    assert 'url("/fonts/cjk") format("opentype")' in css and "unicode-range: U+3000-303F" in css
    # First in the list: after a Latin-only local font Chromium keeps boxes (tests/e2e).
    assert 'font-family: "dosewise CJK", system-ui' in css
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    assert client.get("/fonts/cjk").status_code == 404
