"""Consent by age band at consent (NCT07070323 inclusion 8; clinical.md §7).

1-7: legal guardian (or patient advocate) only; 8-18: patient and guardian; 19-70: patient. Both
the treatment and the voluntary consent form are required. Ages are completed years on the
consent date.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dosewise.errors import InvalidInput
from dosewise.protocol import Protocol, default_protocol, parse_consent
from dosewise.protocol.consent import ConsentRecord, completed_years

FORMS = ("treatment", "voluntary")


def consent(age: int, *signers: str, **extra: Any) -> ConsentRecord:
    data: dict[str, Any] = {
        "consent_date": "2025-09-12",
        "age_years": age,
        "signatures": [{"form": f, "signer": s} for s in signers for f in FORMS],
        **extra,
    }
    return parse_consent(data)


@pytest.mark.parametrize(
    ("age", "band", "roles"),
    [
        (1, "1-7", {"guardian"}),
        (7, "1-7", {"guardian"}),
        (8, "8-18", {"patient", "guardian"}),
        (18, "8-18", {"patient", "guardian"}),
        (19, "19-70", {"patient"}),
        (70, "19-70", {"patient"}),
    ],
)
def test_band_edges_require_the_right_signers(
    protocol: Protocol, age: int, band: str, roles: set[str]
) -> None:
    nobody = protocol.check_consent(consent(age))
    assert nobody.band_label == band
    assert {(m.form, m.role) for m in nobody.missing} == {(f, r) for f in FORMS for r in roles}
    assert not nobody.complete

    everyone = protocol.check_consent(consent(age, *roles))
    assert everyone.complete, everyone.summary()
    assert everyone.missing == ()
    assert everyone.completed_on == date(2025, 9, 12)


@pytest.mark.parametrize("age", [0, 71, 90])
def test_ages_outside_1_to_70_have_no_band(protocol: Protocol, age: int) -> None:
    result = protocol.check_consent(consent(age, "patient", "guardian"))
    assert result.band is None
    assert not result.complete
    assert result.required == ()
    assert f"no consent band covers age {age}" in result.problems[0]


def test_band_7_to_8_boundary_on_the_birthday(protocol: Protocol) -> None:
    # Born 2017-09-12: 7 the day before the consent date, 8 on it.
    on_birthday = parse_consent(
        {
            "consent_date": "2025-09-12",
            "date_of_birth": "2017-09-12",
            "signatures": [{"form": f, "signer": "guardian"} for f in FORMS],
        }
    )
    result = protocol.check_consent(on_birthday)
    assert result.age_years == 8
    assert {m.role for m in result.missing} == {"patient"}
    day_before = on_birthday.model_copy(update={"consent_date": date(2025, 9, 11)})
    assert protocol.check_consent(day_before).complete


def test_patient_advocate_may_sign_for_the_guardian(protocol: Protocol) -> None:
    assert protocol.check_consent(consent(5, "patient_advocate")).complete
    assert protocol.check_consent(consent(12, "patient", "patient_advocate")).complete


def test_a_guardian_cannot_sign_for_an_adult_patient(protocol: Protocol) -> None:
    result = protocol.check_consent(consent(40, "guardian"))
    assert not result.complete
    assert {(m.form, m.role) for m in result.missing} == {(f, "patient") for f in FORMS}


def test_one_form_missing_is_named(protocol: Protocol) -> None:
    record = parse_consent(
        {
            "consent_date": "2025-09-12",
            "age_years": 30,
            "signatures": [{"form": "treatment", "signer": "patient"}],
        }
    )
    result = protocol.check_consent(record)
    assert [str(m) for m in result.missing] == ["voluntary consent form: patient"]


def test_patient_unable_to_sign(protocol: Protocol) -> None:
    result = protocol.check_consent(consent(30, "patient", patient_able_to_sign=False))
    assert not result.complete
    assert "sufficiently conscious" in result.problems[0]
    # For a child of 5 only the guardian signs, so the child's ability is not required.
    assert protocol.check_consent(consent(5, "guardian", patient_able_to_sign=False)).complete


def test_completed_on_is_the_last_required_signature(protocol: Protocol) -> None:
    record = parse_consent(
        {
            "consent_date": "2025-09-12",
            "age_years": 10,
            "signatures": [
                {"form": "treatment", "signer": "patient"},
                {"form": "voluntary", "signer": "patient"},
                {"form": "treatment", "signer": "guardian", "signed_on": "2025-09-13"},
                {"form": "voluntary", "signer": "guardian", "signed_on": "2025-09-14"},
            ],
        }
    )
    assert protocol.check_consent(record).completed_on == date(2025, 9, 14)


def test_unknown_age_is_reported_not_guessed(protocol: Protocol) -> None:
    result = protocol.check_consent(parse_consent({"consent_date": "2025-09-12"}))
    assert result.band is None
    assert "age at consent unknown" in result.problems[0]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"consent_date": "2025-09-12", "date_of_birth": "2026-01-01"}, "date_of_birth"),
        (
            {"consent_date": "2025-09-12", "date_of_birth": "2000-01-01", "age_years": 30},
            "age_years",
        ),
        (
            {
                "consent_date": "2025-09-12",
                "age_years": 30,
                "signatures": [
                    {"form": "treatment", "signer": "patient", "signed_on": "2025-09-01"}
                ],
            },
            "signatures[0].signed_on",
        ),
        ({"consent_date": "2025-09-12", "age_years": -1}, "age_years"),
        (
            {
                "consent_date": "2025-09-12",
                "signatures": [{"form": "treatment", "signer": "uncle"}],
            },
            "signatures[0].signer",
        ),
        ({"consent_date": "12/09/2025"}, "consent_date"),
    ],
)
def test_bad_consent_input_names_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_consent(data)
    assert exc.value.field == field


def test_unknown_form_names_the_signature(protocol: Protocol) -> None:
    record = parse_consent(
        {
            "consent_date": "2025-09-12",
            "age_years": 30,
            "signatures": [{"form": "biobank", "signer": "patient"}],
        }
    )
    with pytest.raises(InvalidInput) as exc:
        protocol.check_consent(record)
    assert exc.value.field == "signatures[0].form"


# ---------------------------------------------------------------- invariants


@given(st.integers(min_value=1, max_value=70))
def test_every_age_1_to_70_has_exactly_one_band(age: int) -> None:
    rules = default_protocol().consent
    assert sum(b.min_age <= age <= b.max_age for b in rules.bands) == 1


@given(st.integers(min_value=1, max_value=70), st.data())
def test_dropping_any_required_signature_names_exactly_it(age: int, data: st.DataObject) -> None:
    protocol = default_protocol()
    band = protocol.consent.band_for(age)
    assert band is not None
    signer = {"patient": "patient", "guardian": "guardian"}
    needed = [(f, r) for r in band.roles for f in FORMS]
    dropped = data.draw(st.sampled_from(needed))
    record = parse_consent(
        {
            "consent_date": "2025-09-12",
            "age_years": age,
            "signatures": [
                {"form": f, "signer": signer[r]} for f, r in needed if (f, r) != dropped
            ],
        }
    )
    result = protocol.check_consent(record)
    assert [(m.form, m.role) for m in result.missing] == [dropped]
    assert not result.complete


@given(st.dates(min_value=date(1940, 1, 1), max_value=date(2025, 1, 1)), st.integers(0, 40000))
def test_completed_years_counts_birthdays_passed(born: date, days: int) -> None:
    on = born + timedelta(days=days)
    age = completed_years(born, on)

    # The age-th birthday has happened and the next one has not (29 February → 1 March).
    def birthday(n: int) -> date:
        try:
            return born.replace(year=born.year + n)
        except ValueError:
            return date(born.year + n, 3, 1)

    assert birthday(age) <= on < birthday(age + 1)
