"""Form fields → the inputs of the pure clinical rules (dose plan, ASTCT CRS and ICANS grades).

Only parsing lives here: text to numbers, checkboxes to booleans, empty to "not given". The
rules themselves are :func:`dosewise.clinical.dosing.plan_dose`,
:func:`dosewise.clinical.astct.grade_crs` and :func:`dosewise.clinical.astct.grade_icans`, and
their errors name the field the form shows them next to.
"""

from __future__ import annotations

import math
from typing import Any

from dosewise.clinical import dosing
from dosewise.clinical.astct import (
    AstctGrade,
    CrsAssessment,
    IcansAssessment,
    grade_crs,
    grade_icans,
)
from dosewise.errors import InvalidInput
from dosewise.web.render import Form

CRS_FIELDS = (
    "fever",
    "fever_masked",
    "hypotension",
    "vasopressors",
    "vasopressin",
    "oxygen_device",
    "oxygen_l_min",
    "died",
)
ICANS_FIELDS = (
    "age_years",
    "ice_score",
    "capd_score",
    "ice_unable",
    "capd_unable",
    "consciousness",
    "seizure",
    "motor_weakness",
    "cerebral_edema",
    "icans_died",
    "developmental_delay",
)
DOSE_FIELDS = ("weight_kg", "level", "tnc", "viability", "cd3", "car", "volume_ml", "policy")
_CRS_FLAGS = ("fever", "fever_masked", "hypotension", "vasopressin", "died")
_ICANS_FLAGS = ("ice_unable", "capd_unable", "motor_weakness", "developmental_delay")


def number(form: Form, name: str, *, as_int: bool = False) -> float | int | None:
    """A typed number, None when left empty; words, NaN and infinity name the field."""
    text = form.get(name).strip().replace(",", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(name, text, "must be a number") from None
    if not math.isfinite(value):
        raise InvalidInput(name, text, "must be a finite number")
    if as_int:
        if not value.is_integer():
            raise InvalidInput(name, text, "must be a whole number")
        return int(value)
    return value


def crs_input(form: Form) -> dict[str, Any]:
    """The ``dosewise grade crs`` input from the form (unticked boxes are "not present")."""
    data: dict[str, Any] = {flag: True for flag in _CRS_FLAGS if form.flag(flag)}
    data["vasopressors"] = number(form, "vasopressors", as_int=True) or 0
    data["oxygen_device"] = form.get("oxygen_device") or "none"
    flow = number(form, "oxygen_l_min")
    if flow is not None:
        data["oxygen_l_min"] = flow
    return data


def icans_input(form: Form) -> dict[str, Any]:
    """The ``dosewise grade icans`` input from the form."""
    data: dict[str, Any] = {flag: True for flag in _ICANS_FLAGS if form.flag(flag)}
    if form.flag("icans_died"):  # "died" is the CRS form's field; one page holds both
        data["died"] = True
    for name in ("age_years",):
        value = number(form, name)
        if value is not None:
            data[name] = value
    for name in ("ice_score", "capd_score"):
        value = number(form, name, as_int=True)
        if value is not None:
            data[name] = value
    for name in ("consciousness", "seizure", "cerebral_edema"):
        if form.get(name):
            data[name] = form.get(name)
    return data


def crs_grade(form: Form) -> AstctGrade:
    return grade_crs(CrsAssessment.from_mapping(crs_input(form)))


def icans_grade(form: Form) -> AstctGrade:
    return grade_icans(IcansAssessment.from_mapping(icans_input(form)))


def certificate(form: Form) -> dosing.ReleaseCertificate | None:
    """The release certificate (percentages as typed), or None until all four values are in."""
    values = {name: number(form, name) for name in ("tnc", "viability", "cd3", "car")}
    if any(v is None for v in values.values()):
        return None
    return dosing.ReleaseCertificate.from_values(
        float(values["tnc"] or 0),
        float(values["viability"] or 0),
        float(values["cd3"] or 0),
        float(values["car"] or 0),
        number(form, "volume_ml"),
        unit="percent",
    )


def dose_plan(
    form: Form, levels: tuple[dosing.DoseLevel, ...], planned: str | None = None
) -> dosing.DosePlan | None:
    """The dose plan for the typed weight and certificate (None until a weight is typed)."""
    weight = number(form, "weight_kg")
    if weight is None:
        return None
    level = planned or form.get("level") or next(lv.name for lv in levels if lv.role == "start")
    policy = form.get("policy") or "fallback_level"
    if policy not in dosing.FALLBACK_POLICIES:
        raise InvalidInput(
            "policy", policy, f"must be one of {', '.join(dosing.FALLBACK_POLICIES)}"
        )
    return dosing.plan_dose(
        float(weight),
        level,
        certificate(form),
        levels=levels,
        policy=policy,  # type: ignore[arg-type]
    )
