"""Who must sign which consent form, by age band at consent, and what is still missing.

NCT07070323 (inclusion 8): aged 19–70 the patient signs; aged 8–18 the patient *and* a legal
guardian or patient advocate sign; aged 1–7 the guardian or advocate signs alone. Both the
treatment consent form and the voluntary consent form are required. The bands, forms and roles
are protocol data (:class:`ConsentRules`); :func:`check_consent` is the one rule that applies them.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any, Literal

from pydantic import Field, model_validator

from dosewise.errors import InvalidInput
from dosewise.protocol.base import Fact, Frozen
from dosewise.protocol.localized import Localized, LocalText
from dosewise.protocol.problems import raise_problems

Role = Literal["patient", "guardian"]
Signer = Literal["patient", "guardian", "patient_advocate"]


def completed_years(born: date, on: date) -> int:
    """Age in completed years on a date (a 29 February birthday counts from 1 March)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


class ConsentBand(Frozen):
    """An inclusive age band (completed years) and the roles that must sign every form."""

    min_age: int = Field(ge=0)
    max_age: int = Field(ge=0)
    roles: tuple[Role, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> ConsentBand:
        if self.min_age > self.max_age:
            raise ValueError(f"min_age {self.min_age} is above max_age {self.max_age}")
        if len(set(self.roles)) != len(self.roles):
            raise ValueError("a role is listed twice")
        return self

    def label(self) -> str:
        return f"{self.min_age}-{self.max_age}"


def _own_role_only() -> dict[Role, tuple[Signer, ...]]:
    return {"patient": ("patient",), "guardian": ("guardian",)}


class ConsentRules(Localized):
    """The protocol's consent rules: forms, age bands and who may act in each role."""

    ZH_FIELDS = ("age_basis",)

    forms: tuple[str, ...] = Field(min_length=1)
    bands: tuple[ConsentBand, ...] = Field(min_length=1)
    role_signers: dict[Role, tuple[Signer, ...]] = Field(default_factory=_own_role_only)
    age_basis: Fact[str] = Fact[str](value="completed years on consent_date")
    patient_must_be_able_to_sign: bool = True
    #: How a signer is called on pages and reports, in English and Chinese (default: the code).
    signer_names: dict[Signer, LocalText] = Field(default_factory=dict)
    #: How each form is called, in English and Chinese (default: the code).
    form_names: dict[str, LocalText] = Field(default_factory=dict)

    def form_name(self, form: str, lang: str | None = "en") -> str:
        """A consent form (``treatment`` …) in words, in ``lang``."""
        named = self.form_names.get(form)
        return named.text(lang) if named is not None else f"{form} consent form"

    def signer_name(self, signer: str, lang: str | None = "en") -> str:
        """A signer (``guardian`` ...) in words, in ``lang``; the code when the file names none."""
        named = self.signer_names.get(signer)  # type: ignore[call-overload]
        return named.text(lang) if named is not None else signer.replace("_", " ")

    @model_validator(mode="after")
    def _bands_contiguous(self) -> ConsentRules:
        problems: list[tuple[str, Any, str]] = []
        for i, (before, after) in enumerate(itertools.pairwise(self.bands), start=1):
            if after.min_age != before.max_age + 1:
                problems.append(
                    (
                        f"bands[{i}].min_age",
                        after.min_age,
                        f"must be {before.max_age + 1}: bands are ordered and contiguous",
                    )
                )
        used = {role for band in self.bands for role in band.roles}
        for role in sorted(used):
            if not self.role_signers.get(role):
                problems.append(("role_signers", role, "no signer may act in this role"))
        if len(set(self.forms)) != len(self.forms):
            problems.append(("forms", list(self.forms), "a form is listed twice"))
        raise_problems(problems)
        return self

    @property
    def min_age(self) -> int:
        return self.bands[0].min_age

    @property
    def max_age(self) -> int:
        return self.bands[-1].max_age

    def band_for(self, age: int) -> ConsentBand | None:
        """The band that covers ``age`` (completed years), or None outside every band."""
        return next((b for b in self.bands if b.min_age <= age <= b.max_age), None)


class Signature(Frozen):
    """One signed form: which form, who signed it (in what capacity), and when."""

    form: str
    signer: Signer
    name: str | None = None
    signed_on: date | None = None


class ConsentRecord(Frozen):
    """The consent as documented: its date, the patient's age, and the signatures collected.

    ``consent_date`` is the day consent was taken; the age band is read on that day. Give
    ``date_of_birth`` (preferred) or ``age_years`` (completed years on ``consent_date``).
    """

    consent_date: date
    date_of_birth: date | None = None
    age_years: int | None = Field(default=None, ge=0)
    patient_able_to_sign: bool | None = None
    signatures: tuple[Signature, ...] = ()

    @model_validator(mode="after")
    def _dates_in_order(self) -> ConsentRecord:
        problems: list[tuple[str, Any, str]] = []
        if self.date_of_birth is not None:
            if self.date_of_birth > self.consent_date:
                problems.append(
                    (
                        "date_of_birth",
                        self.date_of_birth.isoformat(),
                        f"must not be after consent_date {self.consent_date}",
                    )
                )
            elif self.age_years is not None:
                actual = completed_years(self.date_of_birth, self.consent_date)
                if actual != self.age_years:
                    problems.append(
                        (
                            "age_years",
                            self.age_years,
                            f"disagrees with date_of_birth (age {actual} on {self.consent_date})",
                        )
                    )
        for i, sig in enumerate(self.signatures):
            if sig.signed_on is not None and sig.signed_on < self.consent_date:
                problems.append(
                    (
                        f"signatures[{i}].signed_on",
                        sig.signed_on.isoformat(),
                        f"must not be before consent_date {self.consent_date}",
                    )
                )
        raise_problems(problems)
        return self

    @property
    def age_at_consent(self) -> int | None:
        """Completed years on ``consent_date``, or None when neither age nor birth date is known."""
        if self.date_of_birth is not None:
            return completed_years(self.date_of_birth, self.consent_date)
        return self.age_years


class MissingSignature(Frozen):
    """A form that still needs a signature in a role."""

    form: str
    role: Role

    def __str__(self) -> str:
        return f"{self.form} consent form: {self.role}"


class ConsentCheck(Frozen):
    """The outcome of :func:`check_consent`: the band, what is required and what is missing."""

    age_years: int | None
    band: ConsentBand | None
    required: tuple[MissingSignature, ...]
    missing: tuple[MissingSignature, ...]
    problems: tuple[str, ...]
    complete: bool
    completed_on: date | None

    def summary(self) -> str:
        if self.complete:
            return f"complete on {self.completed_on} (age {self.age_years}, band {self.band_label})"
        parts = [f"missing {m}" for m in self.missing] + list(self.problems)
        return "incomplete: " + "; ".join(parts)

    @property
    def band_label(self) -> str | None:
        return self.band.label() if self.band else None


def check_consent(record: ConsentRecord, rules: ConsentRules) -> ConsentCheck:
    """Which signatures the patient's age band requires, which are missing, and other problems.

    Raises :class:`InvalidInput` for a signature on a form the protocol does not define.
    """
    for i, sig in enumerate(record.signatures):
        if sig.form not in rules.forms:
            raise InvalidInput(
                f"signatures[{i}].form", sig.form, f"must be one of {', '.join(rules.forms)}"
            )
    age = record.age_at_consent
    problems: list[str] = []
    band = None
    if age is None:
        problems.append("age at consent unknown: give date_of_birth or age_years")
    else:
        band = rules.band_for(age)
        if band is None:
            problems.append(
                f"no consent band covers age {age} "
                f"(the protocol consents ages {rules.min_age}-{rules.max_age})"
            )
    required: list[MissingSignature] = []
    missing: list[MissingSignature] = []
    dates: list[date] = []
    for role in band.roles if band else ():
        for form in rules.forms:
            need = MissingSignature(form=form, role=role)
            required.append(need)
            accepted = rules.role_signers[role]
            found = [s for s in record.signatures if s.form == form and s.signer in accepted]
            if found:
                dates.append(min(s.signed_on or record.consent_date for s in found))
            else:
                missing.append(need)
    if (
        band is not None
        and "patient" in band.roles
        and rules.patient_must_be_able_to_sign
        and record.patient_able_to_sign is False
    ):
        problems.append("the patient must be sufficiently conscious and able to sign")
    complete = band is not None and not missing and not problems
    return ConsentCheck(
        age_years=age,
        band=band,
        required=tuple(required),
        missing=tuple(missing),
        problems=tuple(problems),
        complete=complete,
        completed_on=max(dates) if complete and dates else None,
    )
