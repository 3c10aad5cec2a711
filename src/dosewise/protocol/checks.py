"""The checks an eligibility criterion is made of: each one rule, its thresholds read from the file.

A check looks at one part of a :class:`~dosewise.protocol.screening.ScreeningRecord` and answers
True, False or None (data missing), with the evidence it used. Criteria combine checks; the
thresholds (age 1–70, ECOG ≤ 2, > 80% CD5 by flow ...) live in the protocol file, and the way each
threshold is applied lives here, once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field

from dosewise.protocol.base import Frozen
from dosewise.protocol.consent import ConsentRules, check_consent
from dosewise.protocol.screening import Cd5Assay, ScreeningRecord, Sex, Specimen


class EvidenceItem(Frozen):
    """One piece of evidence as data: a code and its values (JSON), so a page can say it in any
    language; ``Outcome.evidence`` keeps the same in English words."""

    code: str
    params: dict[str, Any] = Field(default_factory=dict)


def item(code: str, **params: Any) -> EvidenceItem:
    """An evidence item; dates become ISO text so the item is JSON as it is."""
    return EvidenceItem(
        code=code,
        params={k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in params.items()},
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    """A check's answer: True / False / None (not assessable), the evidence in English and as
    data (``items``), and what is missing."""

    value: bool | None
    evidence: str
    missing: tuple[str, ...] = ()
    items: tuple[EvidenceItem, ...] = ()


@dataclass(frozen=True, slots=True)
class Context:
    """What a check may need besides the record: the protocol's consent rules."""

    consent_rules: ConsentRules


def _close(a: float, b: float) -> bool:
    # Unit conversions and decimal inputs (1.65 / 1.1, 0.8 × 100) are not exact in binary
    # floating point; values this close are the same value for every threshold.
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def greater(a: float, b: float) -> bool:
    """a > b, with values equal up to rounding counted as equal."""
    return a > b and not _close(a, b)


def at_least(a: float, b: float) -> bool:
    """a >= b, with values equal up to rounding counted as equal."""
    return a >= b or _close(a, b)


def _missing(field: str, what: str) -> Outcome:
    return Outcome(None, f"{what}: not recorded", (field,), (item("missing", field=field),))


class FindingCheck(Frozen):
    """A yes/no finding must have the given value (``findings.<name>`` in the record)."""

    check: Literal["finding"] = "finding"
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    value: bool

    def assess(self, record: ScreeningRecord, ctx: Context) -> Outcome:
        seen = record.findings.get(self.name)
        if seen is None:
            return _missing(f"findings.{self.name}", self.name)
        return Outcome(
            seen == self.value,
            f"{self.name} = {str(seen).lower()}",
            items=(item("finding", name=self.name, seen=seen),),
        )

    def describe(self) -> str:
        return f"{self.name} is {str(self.value).lower()}"


class SexCheck(Frozen):
    """The candidate's sex is one of ``allowed`` (e.g. pregnancy applies to females)."""

    check: Literal["sex"] = "sex"
    allowed: tuple[Sex, ...] = Field(min_length=1)

    def assess(self, record: ScreeningRecord, ctx: Context) -> Outcome:
        if record.sex is None:
            return _missing("sex", "sex")
        return Outcome(
            record.sex in self.allowed, f"sex {record.sex}", items=(item("sex", sex=record.sex),)
        )

    def describe(self) -> str:
        return f"sex is {' or '.join(self.allowed)}"


class AgeCheck(Frozen):
    """Age in completed years on the screening date lies in [min_years, max_years]."""

    check: Literal["age"] = "age"
    min_years: int = Field(ge=0)
    max_years: int = Field(ge=0)

    def assess(self, record: ScreeningRecord, ctx: Context) -> Outcome:
        age = record.age
        if age is None:
            return _missing("date_of_birth", "age (date_of_birth or age_years)")
        ok = self.min_years <= age <= self.max_years
        return Outcome(
            ok,
            f"age {age} on {record.screening_date} (rule: {self.min_years}-{self.max_years})",
            items=(
                item(
                    "age",
                    age=age,
                    on=record.screening_date,
                    min=self.min_years,
                    max=self.max_years,
                ),
            ),
        )

    def describe(self) -> str:
        return f"age {self.min_years}-{self.max_years} years"


class EcogCheck(Frozen):
    """ECOG performance status is at most ``max``."""

    check: Literal["ecog"] = "ecog"
    max: int = Field(ge=0, le=5)

    def assess(self, record: ScreeningRecord, ctx: Context) -> Outcome:
        if record.ecog is None:
            return _missing("ecog", "ECOG")
        return Outcome(
            record.ecog <= self.max,
            f"ECOG {record.ecog} (rule: 0-{self.max})",
            items=(item("ecog", ecog=record.ecog, max=self.max),),
        )

    def describe(self) -> str:
        return f"ECOG 0-{self.max}"


class LifeExpectancyCheck(Frozen):
    """Expected survival is at least ``min_days``."""

    check: Literal["life_expectancy"] = "life_expectancy"
    min_days: float = Field(gt=0)

    def assess(self, record: ScreeningRecord, ctx: Context) -> Outcome:
        if record.life_expectancy is None:
            return _missing("life_expectancy", "life expectancy")
        days = record.life_expectancy.canonical
        return Outcome(
            at_least(days, self.min_days),
            f"life expectancy {record.life_expectancy} = {days:.0f} days "
            f"(rule: >= {self.min_days:g})",
            items=(item("life_expectancy", days=round(days), min=self.min_days),),
        )

    def describe(self) -> str:
        return f"life expectancy >= {self.min_days:g} days"


class BloodBlastsCheck(Frozen):
    """Tumour burden in peripheral blood (blasts, % of leukocytes) is below ``below_pct``."""

    check: Literal["peripheral_blood_blasts"] = "peripheral_blood_blasts"
    below_pct: float = Field(gt=0, le=100)

    def assess(self, record: ScreeningRecord, ctx: Context) -> Outcome:
        blasts = record.peripheral_blood_blasts
        if blasts is None:
            return _missing("peripheral_blood_blasts", "peripheral blood tumour burden")
        return Outcome(
            not at_least(blasts.canonical, self.below_pct),
            f"peripheral blood blasts {blasts.canonical:g}% (rule: < {self.below_pct:g}%)",
            items=(item("blasts", pct=blasts.canonical, below=self.below_pct),),
        )

    def describe(self) -> str:
        return f"peripheral blood tumour burden < {self.below_pct:g}%"


class TherapyWashoutCheck(Frozen):
    """More than ``more_than_days`` days between the last anti-neoplastic therapy and screening."""

    check: Literal["therapy_washout"] = "therapy_washout"
    more_than_days: int = Field(ge=0)

    def assess(self, record: ScreeningRecord, ctx: Context) -> Outcome:
        last = record.last_antineoplastic_therapy_date
        if last is None:
            return _missing("last_antineoplastic_therapy_date", "last anti-neoplastic therapy")
        gap = (record.screening_date - last).days
        return Outcome(
            gap > self.more_than_days,
            f"last anti-neoplastic therapy {last}, {gap} days before screening "
            f"(rule: > {self.more_than_days})",
            items=(item("washout", last=last, days=gap, more_than=self.more_than_days),),
        )

    def describe(self) -> str:
        return f"off anti-neoplastic therapy > {self.more_than_days} days"


class Cd5Check(Frozen):
    """CD5 on blasts: flow > X% with blast MFI within N log10 of normal T cells, or IHC > Y%."""

    check: Literal["cd5_expression"] = "cd5_expression"
    flow_specimens: tuple[Specimen, ...] = Field(min_length=1)
    flow_more_than_pct: float = Field(ge=0, lt=100)
    max_log10_mfi_difference: float = Field(gt=0)
    ihc_specimens: tuple[Specimen, ...] = Field(min_length=1)
    ihc_more_than_pct: float = Field(ge=0, lt=100)

    def _one(self, assay: Cd5Assay) -> Outcome | None:
        pct = assay.positive.canonical
        where = f"{assay.method} on {assay.specimen}: {pct:g}% positive"
        facts = {"method": assay.method, "specimen": assay.specimen, "pct": pct}
        if assay.method == "immunohistochemistry":
            if assay.specimen not in self.ihc_specimens:
                return None
            return Outcome(
                greater(pct, self.ihc_more_than_pct),
                f"{where} (rule: > {self.ihc_more_than_pct:g}%)",
                items=(item("cd5", **facts, rule=self.ihc_more_than_pct),),
            )
        if assay.specimen not in self.flow_specimens:
            return None
        if not greater(pct, self.flow_more_than_pct):
            return Outcome(
                False,
                f"{where} (rule: > {self.flow_more_than_pct:g}%)",
                items=(item("cd5", **facts, rule=self.flow_more_than_pct),),
            )
        if assay.blast_mfi is None or assay.normal_t_cell_mfi is None:
            return Outcome(
                None,
                f"{where}; blast and normal T-cell MFI not both recorded",
                ("cd5[].blast_mfi", "cd5[].normal_t_cell_mfi"),
                (item("cd5_no_mfi", **facts),),
            )
        diff = abs(math.log10(assay.normal_t_cell_mfi / assay.blast_mfi))
        return Outcome(
            not at_least(diff, self.max_log10_mfi_difference),
            f"{where}, MFI {diff:.2f} log from normal T cells "
            f"(rule: > {self.flow_more_than_pct:g}% and < {self.max_log10_mfi_difference:g} log)",
            items=(
                item(
                    "cd5_mfi",
                    **facts,
                    log=round(diff, 2),
                    rule=self.flow_more_than_pct,
                    max_log=self.max_log10_mfi_difference,
                ),
            ),
        )

    def assess(self, record: ScreeningRecord, ctx: Context) -> Outcome:
        results = [r for r in map(self._one, record.cd5) if r is not None]
        if not results:
            ignored = f" ({len(record.cd5)} assay(s) on specimens the criterion does not accept)"
            return Outcome(
                None,
                "CD5: no qualifying assay" + ignored * bool(record.cd5),
                ("cd5",),
                (item("cd5_none", ignored=len(record.cd5)),),
            )
        for wanted in (True, None, False):
            chosen = [r for r in results if r.value is wanted]
            if chosen:
                missing = tuple(m for r in chosen for m in r.missing)
                items = tuple(i for r in chosen for i in r.items)
                return Outcome(wanted, "; ".join(r.evidence for r in chosen), missing, items)
        raise AssertionError("unreachable")  # pragma: no cover

    def describe(self) -> str:
        return (
            f"CD5 by flow ({'/'.join(self.flow_specimens)}) > {self.flow_more_than_pct:g}% with "
            f"blast MFI < {self.max_log10_mfi_difference:g} log from normal T cells, or by IHC "
            f"({'/'.join(self.ihc_specimens)}) > {self.ihc_more_than_pct:g}%"
        )


class LabUlnCheck(Frozen):
    """A laboratory value is at least ``at_least_times_uln`` × the lab's own ULN."""

    check: Literal["lab_vs_uln"] = "lab_vs_uln"
    analyte: Literal["creatinine", "bun"]
    at_least_times_uln: float = Field(gt=0)

    def assess(self, record: ScreeningRecord, ctx: Context) -> Outcome:
        result = getattr(record.labs, self.analyte)
        if result is None:
            return _missing(f"labs.{self.analyte}", self.analyte)
        ratio = result.times_uln
        return Outcome(
            at_least(ratio, self.at_least_times_uln),
            f"{self.analyte} {result} = {ratio:.2f} x ULN {result.uln} "
            f"(rule: >= {self.at_least_times_uln:g} x ULN)",
            items=(
                item(
                    "lab",
                    analyte=self.analyte,
                    value=str(result),
                    times_uln=round(ratio, 2),
                    rule=self.at_least_times_uln,
                ),
            ),
        )

    def describe(self) -> str:
        return f"{self.analyte} >= {self.at_least_times_uln:g} x ULN"


class ConsentGiven(Frozen):
    """Consent is complete under the protocol's consent rules, and on or before screening."""

    check: Literal["consent"] = "consent"

    def assess(self, record: ScreeningRecord, ctx: Context) -> Outcome:
        if record.consent is None:
            return _missing("consent", "informed consent")
        result = check_consent(record.consent, ctx.consent_rules)
        if not result.complete:
            known = result.age_years is not None
            if known:
                return Outcome(False, result.summary(), items=(item("consent_incomplete"),))
            return Outcome(
                None,
                result.summary(),
                ("consent.date_of_birth",),
                (item("consent_incomplete"),),
            )
        done = result.completed_on
        if done is not None and done > record.screening_date:
            return Outcome(
                False,
                f"consent completed {done}, after screening on {record.screening_date}",
                items=(item("consent_late", done=done, screening=record.screening_date),),
            )
        return Outcome(True, f"consent {result.summary()}", items=(item("consent_ok"),))

    def describe(self) -> str:
        return "consent complete for the age band, before screening"


Check = Annotated[
    FindingCheck
    | SexCheck
    | AgeCheck
    | EcogCheck
    | LifeExpectancyCheck
    | BloodBlastsCheck
    | TherapyWashoutCheck
    | Cd5Check
    | LabUlnCheck
    | ConsentGiven,
    Field(discriminator="check"),
]
