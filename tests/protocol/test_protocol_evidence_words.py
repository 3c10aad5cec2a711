"""Eligibility evidence in words from one rule and one catalog (issue 16): every evidence code
has English and Chinese sentences with the same placeholders, the participant page and the
casebook say the same item alike (only dates and numbers are written their own way), and
neither keeps a catalog of its own."""

from __future__ import annotations

import string
from zoneinfo import ZoneInfo

import pytest

from dosewise.protocol import default_protocol, evidence_words, parse_screening
from dosewise.report import casebook_words
from dosewise.web import evidence as web_evidence
from dosewise.web.protocol_texts import ProtocolTexts

PROTOCOL = default_protocol()


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("code", sorted(evidence_words.SENTENCES))
def test_both_languages_have_the_same_placeholders(code: str) -> None:
    sentence = evidence_words.SENTENCES[code]
    assert _fields(sentence["en"]) == _fields(sentence["zh"])


def test_the_page_and_the_casebook_say_an_item_alike() -> None:
    items = [
        {"code": "finding", "params": {"name": "pregnant", "seen": False}},
        {"code": "sex", "params": {"sex": "female"}},
        {"code": "ecog", "params": {"ecog": 1, "max": 2}},
        {"code": "missing", "params": {"field": "labs.bun"}},
    ]
    book = casebook_words.Words("zh", PROTOCOL, ZoneInfo("Asia/Shanghai"))
    page = ProtocolTexts(PROTOCOL, "zh_CN")
    said = book.evidence({"evidence_items": items, "evidence": ["stored"]})
    assert said == page.evidence(items)
    assert said == ["妊娠：否", "性别：女", "ECOG 1 分（规则：0–2 分）", "血尿素氮：未记录"]
    english = casebook_words.Words("en", PROTOCOL, ZoneInfo("Asia/Shanghai"))
    assert english.evidence({"evidence_items": items}) == ProtocolTexts(PROTOCOL, "en").evidence(
        items
    )


def test_an_unknown_item_falls_back_to_the_stored_english() -> None:
    book = casebook_words.Words("zh", PROTOCOL, ZoneInfo("Asia/Shanghai"))
    criterion = {"evidence_items": [{"code": "later", "params": {}}], "evidence": ["x = 1"]}
    assert book.evidence(criterion) == ["x = 1"]
    assert evidence_words.sentences([{"code": "later"}], PROTOCOL, "zh") is None


def test_every_check_of_the_default_protocol_is_said() -> None:
    record = {
        "subject_id": "T-1",
        "screening_date": "2025-09-15",
        "date_of_birth": "1991-04-02",
        "sex": "male",
        "findings": {"pregnant": False},
    }
    result = PROTOCOL.screen(parse_screening(record), "autologous")
    for c in result.criteria:
        items = [i.model_dump(mode="json") for i in c.evidence_items]
        for lang in ("en", "zh"):
            assert evidence_words.sentences(items, PROTOCOL, lang) is not None, (c.id, lang)


def test_no_second_catalog_is_left() -> None:
    assert not hasattr(casebook_words, "EVIDENCE") and not hasattr(web_evidence, "SENTENCES")
