"""Response assessments and BOR cases from JSON mappings (the ``dosewise bor --input`` shape).

MRD values are fractions of cells (``1e-4`` = 0.01 %); blasts are percentages; ANC and
platelets are ×10⁹/L. Every error names its path, e.g. ``assessments[1].marrow.anc``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from dosewise.clinical._input import (
    as_list,
    as_mapping,
    check_choice,
    get_bool,
    get_choice,
    get_date,
    get_int,
    get_number,
    get_str,
    path,
    reject_unknown,
)
from dosewise.clinical.response import (
    CATEGORIES,
    EMDS,
    Assessment,
    BestResponse,
    BorSettings,
    Category,
    EfficacyRule,
    Marrow,
    Mrd,
    best_overall_response,
    efficacy_outcome,
)
from dosewise.errors import InvalidInput, InvalidParameter

T = TypeVar("T")

CASE_KEYS = (
    "infusion_date",
    "assessments",
    "sct_date",
    "new_therapy_date",
    "death_date",
    "as_of",
    "settings",
    "efficacy",
    "patient_id",
)
MARROW_KEYS = (
    "blasts_pct",
    "circulating_blasts",
    "anc",
    "platelets",
    "transfusion_independent",
    "baseline_blasts_pct",
    "mrd",
)


def mrd_from_mapping(data: Any, where: str) -> Mrd:
    data = as_mapping(data, where)
    reject_unknown(data, ("value", "sensitivity", "assay"), where)
    value = get_number(data, "value", where, lo=0, hi=1)
    sensitivity = get_number(data, "sensitivity", where, lo=0, hi=0.1)
    if value is None or sensitivity is None:
        missing = "value" if value is None else "sensitivity"
        raise InvalidInput(path(where, missing), None, "required (a fraction; 1e-4 = 0.01%)")
    return _wrap(where, lambda: Mrd(value, sensitivity, get_str(data, "assay", where) or "flow"))


def marrow_from_mapping(data: Any, where: str) -> Marrow:
    data = as_mapping(data, where)
    reject_unknown(data, MARROW_KEYS, where)
    blasts = get_number(data, "blasts_pct", where, lo=0, hi=100)
    if blasts is None:
        raise InvalidInput(path(where, "blasts_pct"), None, "required: marrow blasts in %")
    mrd = data.get("mrd")
    return Marrow(
        blasts,
        get_bool(data, "circulating_blasts", where),
        get_number(data, "anc", where, lo=0, hi=2000),
        get_number(data, "platelets", where, lo=0, hi=2000),
        get_bool(data, "transfusion_independent", where, True),
        get_number(data, "baseline_blasts_pct", where, lo=0, hi=100),
        None if mrd is None else mrd_from_mapping(mrd, path(where, "mrd")),
    )


def assessment_from_mapping(data: Any, where: str) -> Assessment:
    data = as_mapping(data, where)
    reject_unknown(data, ("date", "marrow", "extramedullary", "category", "mrd"), where)
    on = get_date(data, "date", where, required=True)
    assert on is not None
    marrow = data.get("marrow")
    mrd = data.get("mrd")
    category: Category | None = get_choice(data, "category", CATEGORIES, None, where)
    return _wrap(
        where,
        lambda: Assessment(
            on,
            None if marrow is None else marrow_from_mapping(marrow, path(where, "marrow")),
            get_choice(data, "extramedullary", EMDS, "none", where),
            category,
            None if mrd is None else mrd_from_mapping(mrd, path(where, "mrd")),
        ),
    )


@dataclass(frozen=True)
class BorCase:
    """One patient's response data and the BOR / efficacy settings."""

    infusion_date: date
    assessments: tuple[Assessment, ...]
    sct_date: date | None = None
    new_therapy_date: date | None = None
    death_date: date | None = None
    as_of: date | None = None
    settings: BorSettings = field(default_factory=BorSettings)
    efficacy: EfficacyRule = field(default_factory=EfficacyRule)
    patient_id: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> BorCase:
        """Read the ``dosewise bor --input`` object (see docs/clinical.md for the shape)."""
        data = as_mapping(data, "input")
        reject_unknown(data, CASE_KEYS)
        infusion = get_date(data, "infusion_date", required=True)
        assert infusion is not None
        items = as_list(data.get("assessments") or [], "assessments")
        assessments = tuple(
            assessment_from_mapping(a, path("assessments", i)) for i, a in enumerate(items)
        )
        raw = as_mapping(data.get("settings") or {}, "settings")
        reject_unknown(raw, ("by_day", "death_as_non_response", "confirm_cr_days"), "settings")
        settings = _wrap(
            "settings",
            lambda: BorSettings(
                get_int(raw, "by_day", "settings", lo=0, hi=400, default=97) or 0,
                get_bool(raw, "death_as_non_response", "settings", True),
                get_int(raw, "confirm_cr_days", "settings", lo=1, hi=365),
            ),
        )
        eff = as_mapping(data.get("efficacy") or {}, "efficacy")
        reject_unknown(eff, ("responses", "by_day", "require_mrd_negative"), "efficacy")
        responses = as_list(eff.get("responses") or ["CR", "CRi"], "efficacy.responses")
        efficacy = _wrap(
            "efficacy",
            lambda: EfficacyRule(
                tuple(
                    check_choice(r, f"efficacy.responses[{i}]", CATEGORIES)
                    for i, r in enumerate(responses)
                ),
                get_int(eff, "by_day", "efficacy", lo=0, hi=400, default=30) or 0,
                get_bool(eff, "require_mrd_negative", "efficacy"),
            ),
        )
        return cls(
            infusion,
            assessments,
            get_date(data, "sct_date"),
            get_date(data, "new_therapy_date"),
            get_date(data, "death_date"),
            get_date(data, "as_of"),
            settings,
            efficacy,
            get_str(data, "patient_id"),
        )

    def best(self) -> BestResponse:
        return best_overall_response(
            self.assessments,
            self.infusion_date,
            sct_date=self.sct_date,
            new_therapy_date=self.new_therapy_date,
            death_date=self.death_date,
            as_of=self.as_of,
            settings=self.settings,
        )

    def efficacy_outcome(self) -> tuple[bool | None, BestResponse]:
        return efficacy_outcome(
            self.assessments,
            self.infusion_date,
            self.efficacy,
            sct_date=self.sct_date,
            new_therapy_date=self.new_therapy_date,
            death_date=self.death_date,
            as_of=self.as_of,
        )


def _wrap(where: str, build: Callable[[], T]) -> T:
    """Call ``build``; prefix the field of a rule error with ``where`` (the input path)."""
    try:
        return build()
    except (InvalidInput, InvalidParameter) as exc:
        if exc.field.startswith(where):
            raise
        field = exc.field.split(".")[-1]
        raise InvalidInput(path(where, field), exc.value, exc.rule) from None
