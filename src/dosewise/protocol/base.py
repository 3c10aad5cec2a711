"""Building blocks of the protocol file: frozen models, assumed values and where they are.

A trial registry never says everything a system needs (BOIN12 utilities, the DLT list, how a
month becomes days). Every value the protocol file supplies beyond the registry carries
``assumption: true`` and a one-sentence ``why``, either on the object it belongs to
(:class:`Assumable`) or on a single value (:class:`Fact`), and the reason in Chinese beside it
(``why_zh``) for the Chinese pages and reports. :func:`assumptions` finds them all, so every view
of a protocol can show them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, model_serializer, model_validator
from pydantic_core.core_schema import SerializerFunctionWrapHandler

T = TypeVar("T")


class Frozen(BaseModel):
    """An immutable model that refuses unknown keys (a typo in a protocol file is an error)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Assumable(Frozen):
    """An object whose content may be an assumption rather than a registry fact."""

    assumption: bool = False
    why: str | None = None
    #: The reason in Chinese (the Chinese pages and reports show it instead of ``why``).
    why_zh: str | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _assumption_has_reason(self) -> Assumable:
        if self.assumption and not (self.why and self.why.strip()):
            raise ValueError("an assumption needs a one-sentence 'why'")
        if self.why_zh is not None and not (self.why_zh.strip() and self.why):
            raise ValueError("'why_zh' is the Chinese of a non-empty 'why' and must not be empty")
        return self

    def why_in(self, lang: str | None = "en") -> str:
        """The reason in ``lang``: its Chinese when there is one, else the English."""
        return _reason(self.why or "", self.why_zh, lang)


class Fact(Assumable, Generic[T]):
    """One value, either from the registry (written plainly) or assumed (written as a mapping).

    In a protocol file ``cohort_size: 3`` is a registry fact and
    ``cohort_size: {value: 3, assumption: true, why: "..."}`` an assumption. A plain fact is
    written back as the bare value, so files round-trip.
    """

    value: T

    @model_validator(mode="before")
    @classmethod
    def _wrap_plain(cls, data: Any) -> Any:
        if isinstance(data, dict) and "value" in data:
            return data
        return {"value": data}

    @model_serializer(mode="wrap")
    def _plain_when_fact(self, handler: SerializerFunctionWrapHandler) -> Any:
        dumped = handler(self)
        if not self.assumption and self.why is None and self.source is None and not self.why_zh:
            return dumped["value"]
        return {k: v for k, v in dumped.items() if v is not None}


@dataclass(frozen=True, slots=True)
class AssumptionNote:
    """Where an assumption sits in the protocol (a dotted path), what it says, and why (in
    English, and in Chinese when the file gives it; ``value_zh``: the value's own Chinese text
    when the object translates that field)."""

    path: str
    value: str
    why: str
    why_zh: str = ""
    value_zh: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "value": self.value, "why": self.why, "why_zh": self.why_zh}

    def why_in(self, lang: str | None = "en") -> str:
        """The reason in ``lang`` (the English when it has no Chinese)."""
        return _reason(self.why, self.why_zh, lang)

    def value_in(self, lang: str | None = "en") -> str:
        """The value in ``lang`` (the English when it has no Chinese)."""
        return _reason(self.value, self.value_zh, lang)


def _reason(en: str, zh: str | None, lang: str | None) -> str:
    """``zh`` for a Chinese ``lang`` when there is one, else ``en``."""
    return zh if zh and bool(lang) and str(lang).lower().startswith("zh") else en


def _summary(obj: Assumable) -> str:
    if isinstance(obj, Fact):
        return str(obj.value)
    for name in ("name", "id", "label", "version", "description"):
        value = getattr(obj, name, None)
        if isinstance(value, str) and value:
            return value
    return type(obj).__name__


def _zh_text(owner: Any, name: str) -> str:
    """The Chinese of ``owner``'s field ``name`` from its ``zh`` mapping (empty when none)."""
    zh = getattr(owner, "zh", None)
    fact = zh.get(name) if isinstance(zh, dict) else None
    return str(fact.value) if isinstance(fact, Fact) else ""


def _walk(obj: Any, path: str, translations: bool, value_zh: str = "") -> Iterator[AssumptionNote]:
    """Assumptions under ``obj``: the clinical ones, or (``translations``) those in ``zh`` texts."""
    inside_zh = path.endswith(".zh") or ".zh." in path
    if isinstance(obj, Assumable) and obj.assumption and inside_zh == translations:
        yield AssumptionNote(
            path or "(protocol)", _summary(obj), obj.why or "", obj.why_zh or "", value_zh
        )
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            if name in ("assumption", "why", "why_zh", "source"):
                continue
            yield from _walk(
                getattr(obj, name),
                f"{path}.{name}" if path else name,
                translations,
                _zh_text(obj, name),
            )
    elif isinstance(obj, list | tuple):
        for i, item in enumerate(obj):
            yield from _walk(item, f"{path}[{i}]", translations)
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key), translations)


def assumptions(model: BaseModel) -> list[AssumptionNote]:
    """Every assumption in ``model``, each with its dotted path: the trial's own in file order,
    then the uncertain Chinese translations (``….zh.…``), so adding a translation never
    renumbers the trial's assumptions."""
    return list(_walk(model, "", False)) + list(_walk(model, "", True))


def is_assumed(obj: Any) -> bool:
    """True when ``obj`` is a value or object marked as an assumption."""
    return isinstance(obj, Assumable) and obj.assumption
