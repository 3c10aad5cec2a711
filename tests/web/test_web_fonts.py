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
