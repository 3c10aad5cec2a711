"""How outcomes become final: DLT adjudication, best overall response, arm requirements.

The registry names the outcomes (DLT in 28 days, BOR at 3 months) but not when an adjudication
or a response is final, which reasons make a participant not evaluable for DLT, which events
censor a response, or which response criteria are used. The protocol file's ``evaluation``
block supplies them, each marked as an assumption with its reason; the trial service's read
model (``dosewise.trial.state``) applies them. Nothing here reads records.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from dosewise.protocol.base import Assumable, Fact, Frozen
from dosewise.protocol.eligibility import Criterion
from dosewise.protocol.problems import raise_problems

CODE = r"^[a-z][a-z0-9_]*$"
#: What a phase 2 participant given the fallback level does to the phase 2 count.
Phase2Fallback = Literal["replace", "count"]


class Category(Assumable):
    """A coded category (a not-evaluable reason, a censoring event) with its label."""

    code: str = Field(pattern=CODE)
    label: str = Field(min_length=1)


class DltAdjudicationRules(Assumable):
    """When a DLT adjudication may be final, and why a participant may be not evaluable.

    A "no DLT" adjudication is final only once the DLT window has closed; before that it is
    provisional ("no DLT so far") unless the participant is adjudicated not evaluable for one
    of ``not_evaluable_reasons``. A DLT may be adjudicated at any time. An adverse event
    recorded or corrected after a final adjudication, with onset inside the window, that the
    DLT rule classifies as DLT or possible DLT reopens it (``reopen_on``).
    """

    not_evaluable_reasons: tuple[Category, ...] = Field(min_length=1)
    reopen_on: tuple[str, ...] = ("dlt", "pending", "indeterminate")
    readjudication_signed: bool = True

    @model_validator(mode="after")
    def _unique(self) -> DltAdjudicationRules:
        codes = [c.code for c in self.not_evaluable_reasons]
        raise_problems(
            [
                (f"not_evaluable_reasons[{i}].code", c, "duplicate code")
                for i, c in enumerate(codes)
                if codes.index(c) != i
            ]
        )
        allowed = {"dlt", "pending", "indeterminate"}
        raise_problems(
            [
                (f"reopen_on[{i}]", s, f"must be one of {', '.join(sorted(allowed))}")
                for i, s in enumerate(self.reopen_on)
                if s not in allowed
            ]
        )
        return self

    def reason(self, code: str) -> Category | None:
        """The not-evaluable reason with this code, if the protocol has it."""
        return next((c for c in self.not_evaluable_reasons if c.code == code), None)


class ResponseCriteria(Assumable):
    """The response criteria named for each disease site."""

    marrow: str = Field(min_length=1)
    extramedullary: str = Field(min_length=1)


class BorRules(Assumable):
    """When the best overall response is final.

    Final after an evaluable assessment inside the BOR window (the month-3 assessment,
    ``windows.bor``), or after progression, death or a censoring event; not merely because
    the window has passed.
    """

    final_after: tuple[str, ...] = ("month3_assessment", "progression", "death", "censoring")
    censoring_events: tuple[Category, ...] = Field(min_length=1)
    criteria: ResponseCriteria

    @model_validator(mode="after")
    def _known(self) -> BorRules:
        allowed = ("month3_assessment", "progression", "death", "censoring")
        raise_problems(
            [
                (f"final_after[{i}]", s, f"must be one of {', '.join(allowed)}")
                for i, s in enumerate(self.final_after)
                if s not in allowed
            ]
        )
        return self


class Evaluation(Frozen):
    """The protocol's ``evaluation`` block (see the module doc)."""

    dlt_adjudication: DltAdjudicationRules
    bor: BorRules
    #: Criteria each arm's cell source implies (screened with ``eligibility.criteria``).
    arm_requirements: tuple[Criterion, ...] = ()
    #: A phase 2 participant given a level outside the dose finding (the fallback under
    #: ``dose_levels.fallback_policy: safety_only``): ``replace`` — followed for safety, not in
    #: the phase 2 (BOP2) count, and a replacement is enrolled into the phase 2 place;
    #: ``count`` — takes a phase 2 place like any other participant (no replacement).
    phase2_fallback: Fact[Phase2Fallback] = Fact[Phase2Fallback](value="replace")
