"""Bad screening input is a clear DosewiseError naming the field; units convert correctly."""

from __future__ import annotations

from typing import Any

import pytest
from protocol_helpers import passing_record

from dosewise.errors import DosewiseError, InvalidInput
from dosewise.protocol import parse_screening
from dosewise.protocol.units import Bun, Creatinine, Duration, Percent


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    node: Any = data
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node[key]
    node[keys[-1]] = value


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        # unknown units
        ("labs.creatinine.unit", "mg/dl", "labs.creatinine.unit"),
        ("labs.bun.unit", "mg%", "labs.bun.unit"),
        ("life_expectancy.unit", "fortnights", "life_expectancy.unit"),
        ("peripheral_blood_blasts.unit", "per mille", "peripheral_blood_blasts.unit"),
        ("cd5.0.positive.unit", "pct", "cd5.0.positive.unit"),
        ("labs.creatinine.uln", {"value": 1.1, "unit": "g/L"}, "labs.creatinine.uln.unit"),
        # negative and impossible values
        ("labs.creatinine.value", -0.1, "labs.creatinine.value"),
        ("life_expectancy.value", -3, "life_expectancy.value"),
        ("peripheral_blood_blasts.value", 120, "peripheral_blood_blasts.value"),
        (
            "peripheral_blood_blasts",
            {"value": 1.2, "unit": "fraction"},
            "peripheral_blood_blasts.value",
        ),
        ("labs.bun.uln", 0, "labs.bun.uln.value"),
        ("cd5.0.blast_mfi", -5, "cd5.0.blast_mfi"),
        ("ecog", 6, "ecog"),
        ("age_years", -1, "age_years"),
        # dates out of order
        ("date_of_birth", "2025-09-16", "date_of_birth"),
        ("last_antineoplastic_therapy_date", "2025-09-20", "last_antineoplastic_therapy_date"),
        ("last_antineoplastic_therapy_date", "1980-01-01", "last_antineoplastic_therapy_date"),
        ("consent.consent_date", "1990-01-01", "consent.consent_date"),
        ("age_years", 20, "age_years"),  # disagrees with the date of birth (34)
        # wrong types and unknown keys
        ("screening_date", "yesterday", "screening_date"),
        ("sex", "F", "sex"),
        ("weight", 70, "weight"),
        ("findings.sepsis", "no", "findings.sepsis"),
        ("cd5.0.method", "pcr", "cd5.0.method"),
    ],
)
def test_bad_input_names_the_field(path: str, value: Any, field: str) -> None:
    data = passing_record()
    _set(data, path, value)
    with pytest.raises(InvalidInput) as exc:
        parse_screening(data)
    assert exc.value.field == field.replace(".0.", "[0].").replace("cd5.0", "cd5[0]")
    assert str(exc.value).startswith(f"{exc.value.field}=")


def test_screening_date_is_required() -> None:
    data = passing_record()
    del data["screening_date"]
    with pytest.raises(InvalidInput) as exc:
        parse_screening(data)
    assert exc.value.field == "screening_date"
    assert "required" in exc.value.rule


def test_every_problem_is_named_in_one_error() -> None:
    data = passing_record()
    data["ecog"] = 9
    data["labs"]["creatinine"]["unit"] = "mg/dl"
    with pytest.raises(DosewiseError) as exc:
        parse_screening(data)
    message = str(exc.value)
    assert "ecog" in message and "labs.creatinine.unit" in message


def test_unknown_unit_message_lists_the_accepted_units() -> None:
    data = passing_record()
    data["labs"]["creatinine"]["unit"] = "mg/dl"
    with pytest.raises(InvalidInput) as exc:
        parse_screening(data)
    assert exc.value.value == "mg/dl"
    assert "mg/dL" in exc.value.rule and "µmol/L" in exc.value.rule


# ---------------------------------------------------------------- conversions


def test_creatinine_conversions() -> None:
    # 1 mg/dL creatinine = 88.4 µmol/L (molar mass 113.12 g/mol).
    assert Creatinine(value=88.4, unit="µmol/L").canonical == pytest.approx(1.0)
    assert Creatinine(value=88.4, unit="umol/L").canonical == pytest.approx(1.0)
    assert Creatinine(value=0.0884, unit="mmol/L").canonical == pytest.approx(1.0)


def test_bun_conversion_from_urea_mmol() -> None:
    # 1 mmol/L urea carries 2 N atoms: 2 × 14.007 mg/L = 2.8014 mg/dL urea nitrogen.
    assert Bun(value=1, unit="mmol/L").canonical == pytest.approx(2.8014)


def test_percent_and_duration_conversions() -> None:
    assert Percent(value=0.25, unit="fraction").canonical == pytest.approx(25)
    assert Duration(value=2, unit="weeks").canonical == 14
    assert Duration(value=3, unit="months").canonical == pytest.approx(91.3125)


def test_uln_as_a_bare_number_takes_the_value_unit() -> None:
    record = parse_screening(passing_record())
    assert record.labs.creatinine is not None
    assert record.labs.creatinine.uln.unit == "mg/dL"
    assert record.labs.creatinine.times_uln == pytest.approx(0.8 / 1.1)
