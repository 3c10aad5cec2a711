"""DLT definitions and patient DLT cases to and from JSON/YAML mappings.

A definition mapping has the shape of the protocol file's ``dlt`` block (``version``,
``window_days``, ``related_attributions``, ``evaluability``, ``rules`` with ``not_dlt_if_resolves:
{to_grade, within_hours}`` ...). Provenance keys a protocol file adds (``assumption``, ``why``,
``source``, ``grading``, ``study_day_zero``) are accepted and not needed to classify.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

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
from dosewise.clinical.ctcae import ATTRIBUTIONS, AdverseEvent, canonical_scale
from dosewise.clinical.dlt import (
    CATEGORIES,
    DEFAULT_DLT_DEFINITION,
    DltAssessment,
    DltDefinition,
    DltRule,
    Evaluability,
    Resolution,
    classify_dlts,
)
from dosewise.errors import InvalidInput, InvalidParameter

_PROVENANCE = ("assumption", "why", "why_zh", "source")
DEFINITION_KEYS = (
    "version",
    "window_days",
    "rules",
    "related_attributions",
    "evaluability",
    "effective_date",
    "description",
    "grading",
    "study_day_zero",
    *_PROVENANCE,
)
RULE_KEYS = (
    "id",
    "description",
    "category",
    "min_grade",
    "max_grade",
    "terms",
    "scale",
    "requires_attribution",
    "not_dlt_if_resolves",
    "persists_beyond_day",
    "exclude_if_present_at_baseline",
    "exclude_if_due_to_disease",
    "exceptions",
    "zh",  # the rule's Chinese texts (dosewise.protocol.localized); not read by the classifier
    *_PROVENANCE,
)


def definition_from_mapping(data: Mapping[str, Any], where: str = "definition") -> DltDefinition:
    """Build a :class:`DltDefinition`; every error names its path (``definition.rules[2]...``)."""
    data = as_mapping(data, where)
    reject_unknown(data, DEFINITION_KEYS, where)
    zero = data.get("study_day_zero", "infusion")
    if isinstance(zero, Mapping):  # a protocol Fact: {value: ..., assumption: ...}
        zero = zero.get("value")
    if zero != "infusion":
        raise InvalidInput(path(where, "study_day_zero"), zero, "only 'infusion' is supported")
    version = get_str(data, "version", where)
    window = get_int(data, "window_days", where, lo=1, hi=365)
    if not version or window is None:
        missing = "version" if not version else "window_days"
        raise InvalidInput(path(where, missing), None, "required")
    rules = tuple(
        _rule(r, path(path(where, "rules"), i))
        for i, r in enumerate(as_list(data.get("rules") or [], path(where, "rules")))
    )
    related = tuple(
        check_choice(a, path(path(where, "related_attributions"), i), ATTRIBUTIONS)
        for i, a in enumerate(
            as_list(
                data.get("related_attributions") or ["possible", "probable", "definite"],
                path(where, "related_attributions"),
            )
        )
    )
    ev_where = path(where, "evaluability")
    ev = as_mapping(data.get("evaluability") or {}, ev_where)
    reject_unknown(
        ev, ("requires_infusion", "min_follow_up_days", "dlt_before_end_counts"), ev_where
    )
    evaluability = Evaluability(
        requires_infusion=get_bool(ev, "requires_infusion", ev_where, True),
        min_follow_up_days=get_int(ev, "min_follow_up_days", ev_where, lo=0, hi=365),
        dlt_before_end_counts=get_bool(ev, "dlt_before_end_counts", ev_where, True),
    )
    try:
        return DltDefinition(
            version=version,
            window_days=window,
            rules=rules,
            related_attributions=related,
            evaluability=evaluability,
            effective_date=get_date(data, "effective_date", where),
            description=get_str(data, "description", where) or "",
        )
    except InvalidParameter as exc:
        raise InvalidInput(path(where, exc.field), exc.value, exc.rule) from None


def _rule(data: Any, where: str) -> DltRule:
    data = as_mapping(data, where)
    reject_unknown(data, RULE_KEYS, where)
    res = data.get("not_dlt_if_resolves")
    resolution = None
    if res is not None:
        res_where = path(where, "not_dlt_if_resolves")
        res = as_mapping(res, res_where)
        reject_unknown(res, ("to_grade", "within_hours"), res_where)
        to_grade = get_int(res, "to_grade", res_where, lo=0, hi=4)
        hours = get_number(res, "within_hours", res_where, lo=0)
        if to_grade is None or hours is None:
            raise InvalidInput(res_where, dict(res), "needs to_grade and within_hours")
        resolution = Resolution(to_grade, hours)
    scale = get_str(data, "scale", where)
    min_grade = get_int(data, "min_grade", where, lo=1, hi=5)
    try:
        return DltRule(
            id=get_str(data, "id", where) or "",
            description=get_str(data, "description", where) or "",
            category=get_choice(data, "category", CATEGORIES, "any", where),
            min_grade=3 if min_grade is None else min_grade,
            max_grade=get_int(data, "max_grade", where, lo=1, hi=5),
            terms=_strings(data, "terms", where),
            scale=None if scale is None else canonical_scale(scale, path(where, "scale")),
            requires_attribution=get_bool(data, "requires_attribution", where, True),
            not_dlt_if_resolves=resolution,
            persists_beyond_day=get_int(data, "persists_beyond_day", where, lo=0, hi=365),
            exclude_if_present_at_baseline=get_bool(data, "exclude_if_present_at_baseline", where),
            exclude_if_due_to_disease=get_bool(data, "exclude_if_due_to_disease", where),
            exceptions=_strings(data, "exceptions", where),
        )
    except InvalidParameter as exc:
        field = exc.field.split(".", 1)[1] if exc.field.startswith("rule ") else exc.field
        raise InvalidInput(path(where, field), exc.value, exc.rule) from None


def _strings(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    items = as_list(data.get(key) or [], path(where, key))
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            raise InvalidInput(path(path(where, key), i), item, "must be a non-empty string")
    return tuple(item.strip() for item in items)


def definition_to_dict(d: DltDefinition) -> dict[str, Any]:
    """The JSON-ready mapping :func:`definition_from_mapping` reads back."""
    return {
        "version": d.version,
        "window_days": d.window_days,
        "description": d.description,
        "effective_date": None if d.effective_date is None else d.effective_date.isoformat(),
        "related_attributions": list(d.related_attributions),
        "evaluability": {
            "requires_infusion": d.evaluability.requires_infusion,
            "min_follow_up_days": d.min_follow_up_days,
            "dlt_before_end_counts": d.evaluability.dlt_before_end_counts,
        },
        "rules": [
            {
                "id": r.id,
                "description": r.description,
                "category": r.category,
                "min_grade": r.min_grade,
                "max_grade": r.max_grade,
                "terms": list(r.terms),
                "scale": r.scale,
                "requires_attribution": r.requires_attribution,
                "not_dlt_if_resolves": None
                if r.not_dlt_if_resolves is None
                else {
                    "to_grade": r.not_dlt_if_resolves.to_grade,
                    "within_hours": r.not_dlt_if_resolves.within_hours,
                },
                "persists_beyond_day": r.persists_beyond_day,
                "exclude_if_present_at_baseline": r.exclude_if_present_at_baseline,
                "exclude_if_due_to_disease": r.exclude_if_due_to_disease,
                "exceptions": list(r.exceptions),
            }
            for r in d.rules
        ],
    }


CASE_KEYS = (
    "infusion_date",
    "assessed_on",
    "death_date",
    "off_study_date",
    "infused",
    "events",
    "definition",
    "patient_id",
)


@dataclass(frozen=True)
class DltCase:
    """One patient's DLT input: infusion, observation dates and adverse events."""

    infusion_date: date
    assessed_on: date
    events: tuple[AdverseEvent, ...]
    definition: DltDefinition = DEFAULT_DLT_DEFINITION
    death_date: date | None = None
    off_study_date: date | None = None
    infused: bool = True
    patient_id: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> DltCase:
        """Read the ``dosewise dlt --input`` object (see docs/clinical.md for the shape)."""
        data = as_mapping(data, "input")
        reject_unknown(data, CASE_KEYS)
        infusion = get_date(data, "infusion_date", required=True)
        assessed = get_date(data, "assessed_on", required=True)
        assert infusion is not None and assessed is not None
        events = tuple(
            AdverseEvent.from_mapping(e, path("events", i))
            for i, e in enumerate(as_list(data.get("events") or [], "events"))
        )
        definition = DEFAULT_DLT_DEFINITION
        if data.get("definition") is not None:
            definition = definition_from_mapping(data["definition"])
        return cls(
            infusion,
            assessed,
            events,
            definition,
            get_date(data, "death_date"),
            get_date(data, "off_study_date"),
            get_bool(data, "infused", default=True),
            get_str(data, "patient_id"),
        )

    def classify(self) -> DltAssessment:
        return classify_dlts(
            self.events,
            self.definition,
            self.infusion_date,
            assessed_on=self.assessed_on,
            death_date=self.death_date,
            off_study_date=self.off_study_date,
            infused=self.infused,
        )
