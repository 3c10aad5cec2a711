"""Eligibility evidence in words: every check's evidence item is said in Chinese and English from
the catalog (no ``findings.x = false``), missing data names the field, and an old screening
without items falls back to its stored English."""

from __future__ import annotations

import re

from dosewise.protocol import default_protocol, parse_screening
from dosewise.web.protocol_texts import ProtocolTexts

PROTOCOL = default_protocol()
RECORD = {
    "subject_id": "T-001",
    "screening_date": "2025-09-15",
    "date_of_birth": "1991-04-02",
    "sex": "female",
    "ecog": 1,
    "life_expectancy": {"value": 4, "unit": "months"},
    "peripheral_blood_blasts": {"value": 6, "unit": "%"},
    "last_antineoplastic_therapy_date": "2025-08-20",
    "cd5": [
        {
            "method": "flow_cytometry",
            "specimen": "bone_marrow",
            "positive": {"value": 94, "unit": "%"},
            "blast_mfi": 8200,
            "normal_t_cell_mfi": 15400,
        }
    ],
    "labs": {"creatinine": {"value": 0.8, "unit": "mg/dL", "uln": 1.1}},
    "findings": {"pregnant": False, "t_cell_malignancy": True},
}


def _said(locale: str, arm: str = "autologous") -> dict[str, list[str] | None]:
    result = PROTOCOL.screen(parse_screening(RECORD), arm)
    texts = ProtocolTexts(PROTOCOL, locale)
    return {
        c.id: texts.evidence([i.model_dump(mode="json") for i in c.evidence_items])
        for c in result.criteria
    }


def test_every_criterion_is_said_in_chinese_words() -> None:
    said = _said("zh_CN")
    assert all(said.values()), [k for k, v in said.items() if not v]
    text = "\n".join(s for v in said.values() for s in v or ())
    assert "findings." not in text and "= false" not in text and "_" not in text
    assert "妊娠：否" in said["E12"][1] and "性别：女" in said["E12"][0]  # type: ignore[index]
    assert said["I3"] == ["2025年9月15日 时年龄 34 岁（规则：1–70 岁）"]
    assert "骨髓" in said["I7"][0] and "流式细胞术" in said["I7"][0]  # type: ignore[index]
    assert said["I8"] == ["知情同意：未记录", "愿意遵守访视安排：未记录"]
    assert said["E6"] is not None and "血尿素氮：未记录" in said["E6"]
    na = _said("zh_CN", "new_donor")["I2"]
    assert na == ["不适用：本标准仅适用于自体 CD5 CAR-T 细胞"]


def test_english_words_too() -> None:
    said = _said("en")
    assert said["E12"] == ["Sex: Female", "Pregnant: No"]  # each item starts with a capital
    assert said["I5"] == ["ECOG 1 (rule: 0–2)"]
    assert re.match(r"Peripheral blood blasts 6(\.0)?% \(rule: below 20(\.0)?%\)", said["I2"][0])  # type: ignore[index]


def test_a_screening_without_items_shows_its_english() -> None:
    texts = ProtocolTexts(PROTOCOL, "zh_CN")
    assert texts.evidence([]) is None and texts.evidence(None) is None
    assert texts.evidence([{"code": "from_a_later_version", "params": {}}]) is None
