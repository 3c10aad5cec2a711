"""Chinese beside English in the protocol file: an object's ``zh`` gives its texts in Chinese.

The registry is English, so every user-facing text of the protocol file (an arm's label, a site's
name, a criterion's title and text, a DLT rule's description, a consent signer's name) is English
first; the object may add ``zh``, a mapping from the field's name to its Chinese text::

    label: Autologous CD5 CAR T-cells
    zh: {label: 自体 CD5 CAR-T 细胞}

A Chinese text is a :class:`~dosewise.protocol.base.Fact`: one that is not certain (a hospital's
official Chinese name, a clinical phrase not taken from a published source) is written as
``{value: ..., assumption: true, why: "..."}`` and so appears among the protocol's assumptions.
:meth:`Localized.in_lang` picks the language; a text with no Chinese falls back to English.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from dosewise.protocol.base import Fact, Frozen
from dosewise.protocol.problems import raise_problems

#: The languages a protocol text can be shown in; English is the registry's.
LANGS = ("en", "zh")


def is_zh(lang: str | None) -> bool:
    """True for Chinese (``zh``, ``zh_CN``, ``zh-Hans`` ...)."""
    return bool(lang) and str(lang).lower().startswith("zh")


class Localized(Frozen):
    """A protocol object whose English texts may have Chinese versions in ``zh``."""

    #: The fields ``zh`` may translate (set by each subclass).
    ZH_FIELDS: ClassVar[tuple[str, ...]] = ()

    zh: dict[str, Fact[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _zh_fields_known(self) -> Localized:
        allowed = type(self).ZH_FIELDS
        raise_problems(
            [
                (f"zh.{name}", name, f"not a text to translate here ({', '.join(allowed)})")
                for name in self.zh
                if name not in allowed
            ]
            + [
                (f"zh.{name}", fact.value, "a Chinese text must not be empty")
                for name, fact in self.zh.items()
                if not fact.value.strip()
            ]
        )
        return self

    def in_lang(self, name: str, lang: str | None = "en") -> str:
        """The field ``name`` in ``lang``: its Chinese when there is one, else the English."""
        if is_zh(lang) and name in self.zh:
            return self.zh[name].value
        value = getattr(self, name)
        if isinstance(value, Fact):
            value = value.value
        return "" if value is None else str(value)

    def has_zh(self, name: str) -> bool:
        """True when the field has a Chinese text."""
        return name in self.zh


class LocalText(Frozen):
    """A standalone text in English with its Chinese (e.g. a consent signer's name)."""

    en: str = Field(min_length=1)
    zh: Fact[str] | None = None

    def text(self, lang: str | None = "en") -> str:
        return self.zh.value if is_zh(lang) and self.zh is not None else self.en
