"""The DLT definition as a declarative, versioned object: rules a classifier applies, not code.

A rule names the events it covers (a category and optionally CTCAE/ASTCT terms), the grading scale
and the lowest grade that counts, and its exceptions: an event that improves to a lower grade
within a time limit, a cytopenia that recovers by a study day, an event present before
lymphodepletion or explained by the disease. The window, the attribution gate and the
evaluability rule are part of the same object, so a DLT decision can always cite the version of
the definition it used. ``dosewise.clinical`` applies it; nothing here classifies events.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from dosewise.errors import InvalidInput
from dosewise.protocol.base import Assumable, Frozen
from dosewise.protocol.localized import Localized
from dosewise.protocol.problems import raise_problems

Category = Literal["crs", "icans", "gvhd", "haematological", "non_haematological", "death", "any"]
Attribution = Literal["unrelated", "unlikely", "possible", "probable", "definite"]


class Resolution(Frozen):
    """An event that improves to ``to_grade`` or lower within ``within_hours`` is not a DLT."""

    to_grade: int = Field(ge=0, le=4)
    within_hours: float = Field(gt=0)


class DltRule(Assumable, Localized):
    """One kind of event that is a dose-limiting toxicity, with its exceptions."""

    ZH_FIELDS = ("description",)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str
    category: Category
    terms: tuple[str, ...] = ()
    scale: str
    min_grade: int = Field(ge=1, le=5)
    max_grade: int | None = Field(default=None, ge=1, le=5)
    requires_attribution: bool = True
    not_dlt_if_resolves: Resolution | None = None
    persists_beyond_day: int | None = Field(default=None, ge=0)
    exclude_if_present_at_baseline: bool = False
    exclude_if_due_to_disease: bool = False
    exceptions: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _grades(self) -> DltRule:
        problems: list[tuple[str, object, str]] = []
        if self.max_grade is not None and self.max_grade < self.min_grade:
            problems.append(("max_grade", self.max_grade, "must be >= min_grade"))
        res = self.not_dlt_if_resolves
        if res is not None and res.to_grade >= self.min_grade:
            problems.append(
                ("not_dlt_if_resolves.to_grade", res.to_grade, "must be below min_grade")
            )
        raise_problems(problems)
        return self

    def grades(self) -> str:
        if self.max_grade == self.min_grade or self.min_grade == 5:
            return f"grade {self.min_grade}"
        if self.max_grade is None:
            return f"grade >= {self.min_grade}"
        return f"grade {self.min_grade}-{self.max_grade}"


class Evaluability(Frozen):
    """Who counts in the DLT denominator: infused and followed through the window, or a DLT."""

    requires_infusion: bool = True
    min_follow_up_days: int = Field(ge=0)
    dlt_before_end_counts: bool = True


class DltDefinition(Assumable):
    """The protocol's DLT definition, versioned; study day 0 is the infusion day."""

    version: str = Field(min_length=1)
    effective_date: date | None = None
    window_days: int = Field(gt=0)
    study_day_zero: Literal["infusion"] = "infusion"
    related_attributions: tuple[Attribution, ...] = Field(min_length=1)
    grading: dict[str, str] = Field(default_factory=dict)
    evaluability: Evaluability
    rules: tuple[DltRule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> DltDefinition:
        problems: list[tuple[str, object, str]] = []
        seen: set[str] = set()
        for i, rule in enumerate(self.rules):
            if rule.id in seen:
                problems.append((f"rules[{i}].id", rule.id, "duplicate rule id"))
            seen.add(rule.id)
        if self.evaluability.min_follow_up_days > self.window_days:
            problems.append(
                (
                    "evaluability.min_follow_up_days",
                    self.evaluability.min_follow_up_days,
                    f"must not exceed window_days {self.window_days}",
                )
            )
        raise_problems(problems)
        return self

    def rule(self, rule_id: str) -> DltRule:
        """The rule with this id (KeyError-free: raises a DosewiseError)."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise InvalidInput("rule_id", rule_id, "no such DLT rule in this definition")
