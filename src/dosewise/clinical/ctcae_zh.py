"""Adverse-event terms in Chinese: the names of ``ctcae_zh.yaml``, each with its source.

An AE is recorded under its English CTCAE v5.0 (or ASTCT 2019) term, and that stays the stored
value. Pages and reports show it through :func:`term_name`: in Chinese when the data file has the
term (looked up by its canonical name, so an alias such as "neutropenia" finds "Neutrophil count
decreased"), otherwise the English term, flagged ``english_only`` so the page can mark it as an
English CTCAE term rather than leave it looking like a missing translation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from dosewise.clinical.ctcae import find_term
from dosewise.yamlread import safe_load

_RESOURCE = "ctcae_zh.yaml"


@dataclass(frozen=True, slots=True)
class ChineseTerm:
    """One term's Chinese name and the key of the source it comes from."""

    en: str
    zh: str
    source: str


@dataclass(frozen=True, slots=True)
class TermName:
    """A term as shown in one language; ``english_only`` when Chinese was asked for but the
    term has no Chinese name (the English CTCAE term is shown, marked as such)."""

    text: str
    english: str
    english_only: bool


@lru_cache(maxsize=1)
def _raw() -> Any:
    return safe_load(
        resources.files("dosewise.clinical").joinpath(_RESOURCE).read_text(encoding="utf-8")
    )


def _rows(key: str, sources: dict[str, str]) -> dict[str, ChineseTerm]:
    """The file's ``key`` list (``terms`` or ``socs``) by case-folded English name."""
    found: dict[str, ChineseTerm] = {}
    for row in _raw().get(key) or []:
        term = ChineseTerm(str(row["en"]), str(row["zh"]), str(row["source"]))
        if term.source not in sources:
            raise ValueError(f"{_RESOURCE}: {term.en!r} cites unknown source {term.source!r}")
        found[term.en.casefold()] = term
    return found


@lru_cache(maxsize=1)
def _data() -> tuple[dict[str, ChineseTerm], dict[str, str]]:
    sources = {str(k): str(v) for k, v in _raw()["sources"].items()}
    return _rows("terms", sources), sources


@lru_cache(maxsize=1)
def _socs() -> dict[str, ChineseTerm]:
    return _rows("socs", _data()[1])


def chinese_terms() -> tuple[ChineseTerm, ...]:
    """Every term with a Chinese name, in file order."""
    return tuple(_data()[0].values())


def term_sources() -> dict[str, str]:
    """Source key → what the source is."""
    return dict(_data()[1])


def chinese_term(name: str) -> ChineseTerm | None:
    """The Chinese entry of ``name`` (a CTCAE term or a built-in alias), or None."""
    terms = _data()[0]
    known = find_term(name)
    key = (known.name if known is not None else name).strip().casefold()
    return terms.get(key)


def term_name(name: str, lang: str | None) -> TermName:
    """``name`` as shown in ``lang`` (``en``, ``zh``, ``zh_CN`` ...)."""
    english = name.strip()
    if not (lang and lang.lower().startswith("zh")):
        return TermName(english, english, False)
    entry = chinese_term(english)
    if entry is None:
        return TermName(english, english, True)
    return TermName(entry.zh, english, False)


def soc_name(name: str, lang: str | None) -> TermName:
    """A system organ class (MedDRA SOC, as CTCAE groups its terms) as shown in ``lang``; an
    SOC without a Chinese name keeps its English name, flagged ``english_only``."""
    english = name.strip()
    if not (lang and lang.lower().startswith("zh")):
        return TermName(english, english, False)
    entry = _socs().get(english.casefold())
    if entry is None:
        return TermName(english, english, True)
    return TermName(entry.zh, english, False)
