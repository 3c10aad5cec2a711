"""AE terms in Chinese: at least 60 with a source, every term the protocol's DLT rules name and
every built-in CAR-T term covered, aliases found, any other term shown in English and marked."""

from __future__ import annotations

import re

from dosewise.clinical.ctcae import TERMS
from dosewise.clinical.ctcae_zh import chinese_term, chinese_terms, term_name, term_sources
from dosewise.protocol import default_protocol

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_at_least_sixty_terms_each_chinese_with_a_known_source() -> None:
    terms = chinese_terms()
    assert len(terms) >= 60
    sources = term_sources()
    assert set(sources) == {"ctcae", "astct"}
    for term in terms:
        assert HAN.search(term.zh), term
        assert term.source in sources
    assert len({t.en.casefold() for t in terms}) == len(terms)  # no term twice


def test_dlt_rule_terms_and_builtin_terms_all_have_chinese() -> None:
    named = {t for rule in default_protocol().dlt.rules for t in rule.terms}
    named |= {term.name for term in TERMS}
    assert named and not [t for t in named if chinese_term(t) is None]


def test_term_names_by_language() -> None:
    assert term_name("Cytokine release syndrome", "zh_CN").text == "细胞因子释放综合征"
    assert term_name("neutropenia", "zh").text == "中性粒细胞计数降低"  # an alias
    english = term_name("Cytokine release syndrome", "en")
    assert english.text == "Cytokine release syndrome" and not english.english_only
    other = term_name("Hiccups", "zh")
    assert other.text == "Hiccups" and other.english_only
