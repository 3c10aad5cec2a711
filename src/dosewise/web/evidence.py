"""Eligibility evidence in words on the participant page, in the page's language.

The rule and the catalog live in :mod:`dosewise.protocol.evidence_words` (the casebook renders
from them too); the page adds only its own way of writing dates and numbers (Babel, the
locale's form) and arm names. A screening stored before evidence items existed has none; the
page then shows the English evidence, marked as English.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dosewise.protocol import Protocol
from dosewise.protocol import evidence_words as ew
from dosewise.web.i18n import Formatter


class EvidenceWords:
    """Says evidence items for one protocol and locale."""

    def __init__(self, protocol: Protocol, locale: str, arm_name: Callable[[str], str]) -> None:
        self.protocol = protocol
        self.lang = ew.lang_of(locale)
        fmt = Formatter(locale)
        self.style = ew.Style(date=fmt.date, number=fmt.number, arm=arm_name)

    def field(self, field: str) -> str:
        """A record field in words (a finding by its name)."""
        return ew.field_name(self.protocol, field, self.lang, self.style)

    def say(self, item: Mapping[str, Any]) -> str | None:
        """One item as a sentence, or None for a code this version does not know."""
        return ew.say(item, self.protocol, self.lang, self.style)

    def sentences(self, items: Iterable[Mapping[str, Any]] | None) -> list[str] | None:
        """Every item as a sentence; None when there are no items or one cannot be said (the
        page then shows the stored English evidence)."""
        return ew.sentences(items, self.protocol, self.lang, self.style)
