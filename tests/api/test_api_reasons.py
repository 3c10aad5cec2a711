"""Reasons in the API: the arm's next step carries ``reason_code`` and ``reason_params`` and its
``reason`` in the request's language (``Accept-Language``, else the user's stored language,
else English); refusals carry the same code and parameters in the error body."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

API = "/api/v1"
HAN = re.compile(r"[\u4e00-\u9fff]")


def test_the_next_step_reason_follows_the_requests_language(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    stat = tokens["stat"]
    english = client.get(f"{API}/arms/autologous/state", headers=stat).json()["next"]
    assert english["reason_code"] == "start" and english["reason_params"] == {"dose": 1}
    assert english["reason"].startswith("No patient yet") and not HAN.search(english["reason"])

    zh = {**stat, "Accept-Language": "zh-CN,zh;q=0.9"}
    chinese = client.get(f"{API}/arms/autologous/state", headers=zh).json()["next"]
    assert chinese["reason_code"] == "start" and chinese["reason_params"] == {"dose": 1}
    assert chinese["reason"] == "尚无受试者：从剂量 1 开始。"

    # No Accept-Language: the user's stored language decides.
    assert client.patch(f"{API}/users/me", json={"locale": "zh_CN"}, headers=stat).is_success
    stored = client.get(f"{API}/arms/autologous/state", headers=stat).json()["next"]
    assert stored["reason"] == chinese["reason"]
    # An explicit header still wins.
    en = {**stat, "Accept-Language": "en"}
    assert (
        client.get(f"{API}/arms/autologous/state", headers=en).json()["next"]["reason"]
        == (english["reason"])
    )


def test_the_arm_notes_are_codes_with_words_in_the_requests_language(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    """``notes`` keeps its English strings (in the request's language) and ``note_codes`` adds
    each note's code and parameters; the words come from the one catalog."""
    stat = tokens["stat"]
    english = client.get(f"{API}/arms/autologous/state", headers=stat).json()
    codes = {n["reason_code"]: n for n in english["note_codes"]}
    assert set(codes) == {"note_fallback_safety_only", "note_calendar"}
    assert codes["note_fallback_safety_only"]["reason_params"] == {"level": "DL-1"}
    assert codes["note_calendar"]["reason_params"] == {"zone": "Asia/Shanghai"}
    assert english["notes"] == [n["reason"] for n in english["note_codes"]]
    assert "Asia/Shanghai" in english["notes"][1] and not HAN.search(" ".join(english["notes"]))

    zh = {**stat, "Accept-Language": "zh-CN"}
    chinese = client.get(f"{API}/arms/autologous/state", headers=zh).json()
    assert chinese["note_codes"] == english["note_codes"]
    assert chinese["notes"][1] == "日历日期为试验时区（Asia/Shanghai）的日期；时间以 UTC 存储。"
    assert all(HAN.search(n) for n in chinese["notes"])
