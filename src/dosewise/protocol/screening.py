"""The screening record: what a site knows about a candidate, with units and dates.

Every field is optional except the screening date: a criterion whose data are missing is *not
assessed*, never guessed. Yes/no clinical findings (heart failure, pregnancy, a donor available
...) travel in ``findings`` under the names the protocol's criteria use, so a new trial can add a
finding without a code change; a name no criterion uses is an error, which catches typos.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from pydantic import Field, StrictBool, ValidationError, model_validator

from dosewise.protocol.base import Frozen
from dosewise.protocol.consent import ConsentRecord, completed_years
from dosewise.protocol.problems import as_input_error, problems_from, raise_problems
from dosewise.protocol.units import Bun, Creatinine, Duration, Percent, Quantity

Sex = Literal["female", "male"]
Cd5Method = Literal["flow_cytometry", "immunohistochemistry"]
Specimen = Literal["bone_marrow", "csf", "tumour_tissue", "peripheral_blood", "other"]


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _uln_in_value_unit(data: Any) -> Any:
    """Let ``uln`` be a bare number in the result's own unit."""
    if isinstance(data, dict) and isinstance(data.get("uln"), int | float):
        return {**data, "uln": {"value": data["uln"], "unit": data.get("unit")}}
    return data


def _uln_positive(uln: Quantity) -> None:
    if uln.value <= 0:
        raise_problems([("uln.value", uln.value, "the upper limit of normal must be > 0")])


class CreatinineResult(Creatinine):
    """Serum creatinine with the reporting laboratory's own upper limit of normal."""

    uln: Creatinine

    _wrap = model_validator(mode="before")(_uln_in_value_unit)

    @model_validator(mode="after")
    def _check(self) -> CreatinineResult:
        _uln_positive(self.uln)
        return self

    @property
    def times_uln(self) -> float:
        return self.canonical / self.uln.canonical


class BunResult(Bun):
    """Blood urea nitrogen (or urea, mmol/L) with the laboratory's own upper limit of normal."""

    uln: Bun

    _wrap = model_validator(mode="before")(_uln_in_value_unit)

    @model_validator(mode="after")
    def _check(self) -> BunResult:
        _uln_positive(self.uln)
        return self

    @property
    def times_uln(self) -> float:
        return self.canonical / self.uln.canonical


class Labs(Frozen):
    """Screening laboratory results used by the criteria."""

    creatinine: CreatinineResult | None = None
    bun: BunResult | None = None


class Cd5Assay(Frozen):
    """One CD5 result: method, specimen, % positive and (flow) blast vs normal T-cell MFI."""

    method: Cd5Method
    specimen: Specimen
    positive: Percent
    blast_mfi: float | None = Field(default=None, gt=0)
    normal_t_cell_mfi: float | None = Field(default=None, gt=0)


class ScreeningRecord(Frozen):
    """A candidate's screening data. ``screening_date`` is the reference day for ages and gaps."""

    subject_id: str | None = None
    screening_date: date
    date_of_birth: date | None = None
    age_years: int | None = Field(default=None, ge=0)
    sex: Sex | None = None
    diagnosis: str | None = None
    ecog: int | None = Field(default=None, ge=0, le=5)
    life_expectancy: Duration | None = None
    peripheral_blood_blasts: Percent | None = None
    last_antineoplastic_therapy_date: date | None = None
    cd5: tuple[Cd5Assay, ...] = ()
    labs: Labs = Labs()
    findings: dict[str, StrictBool] = Field(default_factory=dict)
    consent: ConsentRecord | None = None

    @model_validator(mode="before")
    @classmethod
    def _consent_inherits_age(cls, data: Any) -> Any:
        """A consent section without an age takes the record's date of birth (or age).

        A birth date after the consent date is not passed on: the record reports it (below) at
        ``consent.consent_date`` rather than at a field the user did not write.
        """
        if not isinstance(data, dict) or not isinstance(data.get("consent"), dict):
            return data
        consent = data["consent"]
        if consent.get("date_of_birth") is not None or consent.get("age_years") is not None:
            return data
        born, signed = _as_date(data.get("date_of_birth")), _as_date(consent.get("consent_date"))
        if born is not None and signed is not None and born <= signed:
            consent = {**consent, "date_of_birth": born}
        elif data.get("date_of_birth") is None and data.get("age_years") is not None:
            consent = {**consent, "age_years": data["age_years"]}
        return {**data, "consent": consent}

    @model_validator(mode="after")
    def _dates_in_order(self) -> ScreeningRecord:
        problems: list[tuple[str, Any, str]] = []
        born, screened = self.date_of_birth, self.screening_date
        if born is not None and born > screened:
            problems.append(
                ("date_of_birth", born.isoformat(), f"must not be after screening_date {screened}")
            )
        elif born is not None and self.age_years is not None:
            actual = completed_years(born, screened)
            if actual != self.age_years:
                problems.append(
                    (
                        "age_years",
                        self.age_years,
                        f"disagrees with date_of_birth (age {actual} on {screened})",
                    )
                )
        last = self.last_antineoplastic_therapy_date
        if last is not None and last > screened:
            problems.append(
                (
                    "last_antineoplastic_therapy_date",
                    last.isoformat(),
                    f"must not be after screening_date {screened}",
                )
            )
        elif last is not None and born is not None and last < born:
            problems.append(
                (
                    "last_antineoplastic_therapy_date",
                    last.isoformat(),
                    f"must not be before date_of_birth {born}",
                )
            )
        if (
            self.consent is not None
            and born is not None
            and self.consent.date_of_birth is None
            and self.consent.consent_date < born
        ):
            problems.append(
                (
                    "consent.consent_date",
                    self.consent.consent_date.isoformat(),
                    f"must not be before date_of_birth {born}",
                )
            )
        raise_problems(problems)
        return self

    @property
    def age(self) -> int | None:
        """Completed years on ``screening_date`` (from the birth date when known)."""
        if self.date_of_birth is not None:
            return completed_years(self.date_of_birth, self.screening_date)
        return self.age_years


def parse_screening(data: Mapping[str, Any]) -> ScreeningRecord:
    """Validate a screening record from JSON-like data; every problem is named in one error."""
    try:
        return ScreeningRecord.model_validate(data)
    except ValidationError as exc:
        raise as_input_error(problems_from(exc, data)) from None


def parse_consent(data: Mapping[str, Any]) -> ConsentRecord:
    """Validate a consent record (or the ``consent`` section of a screening record)."""
    if isinstance(data.get("consent"), dict):
        return parse_screening(data).consent  # type: ignore[return-value]
    try:
        return ConsentRecord.model_validate(data)
    except ValidationError as exc:
        raise as_input_error(problems_from(exc, data)) from None
