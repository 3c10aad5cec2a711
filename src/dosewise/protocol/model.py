"""The protocol as data: registry record, arms, doses, windows, design, DLT, criteria, consent.

:class:`Protocol` is the validated, frozen form of a protocol file (``nct07070323.yaml`` is the
default). It maps the trial onto the design core (:meth:`Protocol.design_params`), screens a
candidate (:meth:`Protocol.screen`) and checks consent (:meth:`Protocol.check_consent`). Values the
registry does not give are :class:`~dosewise.protocol.base.Fact` or
:class:`~dosewise.protocol.base.Assumable` objects marked ``assumption: true``.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

from pydantic import Field, model_validator

from dosewise.clinical import dosing, schedule
from dosewise.design.params import Boin12Params
from dosewise.errors import DosewiseError, InvalidInput
from dosewise.protocol.base import Assumable, Fact, Frozen
from dosewise.protocol.checks import AgeCheck
from dosewise.protocol.consent import ConsentCheck, ConsentRecord, ConsentRules, check_consent
from dosewise.protocol.dlt import DltDefinition
from dosewise.protocol.eligibility import EligibilityCriteria, ScreeningResult, assess
from dosewise.protocol.evaluation import Evaluation
from dosewise.protocol.localized import Localized
from dosewise.protocol.phase2 import (
    ArmPhase2,
    Bop2Override,
    Bop2Plan,
    Bop2Settings,
    phase2_problems,
)
from dosewise.protocol.problems import raise_problems
from dosewise.protocol.record import RegistryRecord
from dosewise.protocol.screening import ScreeningRecord

ArmId = str


class Intervention(Frozen):
    """What an arm receives, as registered."""

    name: str
    type: str = "DRUG"
    description: str | None = None


class Arm(Localized):
    """One arm (cohort) with a stable id used everywhere (``autologous``, ``new_donor`` ...)."""

    ZH_FIELDS = ("label", "description", "cell_source")

    id: ArmId = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    group_type: str = "EXPERIMENTAL"
    description: str | None = None
    cell_source: str | None = None
    intervention: Intervention
    lymphodepletion: Fact[str] | None = None


#: How a participant given the fallback level is analysed (``dose_levels.fallback_policy``):
#: ``safety_only`` — the fallback level is outside the dose finding: the participant is followed
#: and reported for safety, is in no level's BOIN12 data, and the next patient replaces them;
#: ``analyse_at_actual`` — the fallback level is design dose 1 and its patients count there.
FallbackPolicy = Literal["safety_only", "analyse_at_actual"]
FALLBACK_POLICIES: tuple[FallbackPolicy, ...] = ("safety_only", "analyse_at_actual")
#: The design index of a level outside the dose finding (the fallback under ``safety_only``).
OUTSIDE_DESIGN = 0


class DoseLevel(Frozen):
    """A named cell dose per kg with its tolerance, and the design dose index it maps to.

    ``design_index`` is 1..n for the levels of the dose finding and :data:`OUTSIDE_DESIGN` (0)
    for a fallback level outside it; the ladder derives it from ``fallback_policy`` when the
    file leaves it out.
    """

    name: str = Field(min_length=1)
    cells_per_kg: float = Field(gt=0)
    tolerance: float = Field(gt=0, lt=1)
    role: Literal["fallback", "start", "escalation"]
    design_index: Fact[int]

    @property
    def min_per_kg(self) -> float:
        return self.cells_per_kg * (1 - self.tolerance)

    @property
    def max_per_kg(self) -> float:
        return self.cells_per_kg * (1 + self.tolerance)

    @property
    def in_design(self) -> bool:
        """True for a level of the dose finding (design index 1..n)."""
        return self.design_index.value != OUTSIDE_DESIGN


def _policy_value(data: dict[str, Any]) -> Any:
    raw = data.get("fallback_policy", "safety_only")
    if isinstance(raw, Fact):
        return raw.value
    return raw.get("value") if isinstance(raw, dict) else raw


def _design_numbers(levels: list[Any], policy: Any) -> list[int] | None:
    """Each level's design index under ``policy``: the design levels by dose, 1..n; a fallback
    level outside the design 0. None when the levels are not well-formed enough to number."""
    try:
        doses = [float(lv["cells_per_kg"]) for lv in levels]
        roles = [lv.get("role") for lv in levels]
    except (TypeError, KeyError, ValueError, AttributeError):
        return None
    inside = [
        i for i in range(len(levels)) if not (policy == "safety_only" and roles[i] == "fallback")
    ]
    ranked = sorted(inside, key=lambda i: doses[i])
    numbers = [OUTSIDE_DESIGN] * len(levels)
    for rank, i in enumerate(ranked, start=1):
        numbers[i] = rank
    return numbers


_DERIVED_WHY = {
    "analyse_at_actual": (
        "fallback_policy analyse_at_actual: every level is a design dose, numbered from the "
        "lowest dose, so the fallback level is design dose 1 and its patients count at their "
        "actual dose (boin12.md §11)."
    ),
}
#: The same reasons in Chinese.
_DERIVED_WHY_ZH = {
    "analyse_at_actual": (
        "后备剂量策略 `analyse_at_actual`：每个剂量水平都是设计剂量，从最低剂量起编号，因此后备"
        "剂量水平是设计剂量 1，其受试者按实际剂量计入（`boin12.md §11`）。"
    ),
}


#: How a participant infused outside every level's window (a recorded protocol deviation) is
#: analysed: at the level nearest the dose given (log scale), at the planned (product or
#: assigned) level, or not at all (not evaluable for the dose finding; followed for safety).
DeviationAnalysis = Literal["actual_level_nearest", "planned_level", "not_evaluable"]


def _deviation_default() -> Fact[DeviationAnalysis]:
    return Fact[DeviationAnalysis](
        value="actual_level_nearest",
        assumption=True,
        why=(
            "Not in the registry. The dose finding learns about the dose actually given, so a "
            "participant infused outside every window counts at the level nearest that dose "
            "(on the log scale); the deviation is recorded and reported."
        ),
        why_zh=(
            "注册记录未给出。剂量探索学习的是实际给予的剂量，因此输注剂量超出所有剂量水平时间窗的"
            "受试者按（对数尺度上）最接近该剂量的水平计入；该偏离被记录并报告。"
        ),
    )


class DoseLadder(Localized):
    """The dose levels, the design doses they map to, and how a fallback is analysed."""

    ZH_FIELDS = ("unit", "fallback_rule")

    unit: Fact[str]
    fallback_rule: str | None = None
    fallback_policy: Fact[FallbackPolicy] = Fact[FallbackPolicy](value="safety_only")
    levels: tuple[DoseLevel, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _number_levels(cls, data: Any) -> Any:
        """Fill in each missing ``design_index`` from ``fallback_policy`` (see DoseLevel)."""
        if not isinstance(data, dict) or not isinstance(data.get("levels"), list | tuple):
            return data
        levels = [dict(lv) if isinstance(lv, dict) else lv for lv in data["levels"]]
        if not all(isinstance(lv, dict) for lv in levels):
            return data
        policy = _policy_value(data)
        numbers = _design_numbers(levels, policy)
        if numbers is None:
            return data
        why = _DERIVED_WHY.get(str(policy))
        for lv, number in zip(levels, numbers, strict=True):
            if "design_index" not in lv:
                lv["design_index"] = (
                    {
                        "value": number,
                        "assumption": True,
                        "why": why,
                        "why_zh": _DERIVED_WHY_ZH[str(policy)],
                    }
                    if why
                    else number
                )
        return {**data, "levels": levels}

    @model_validator(mode="after")
    def _ordered(self) -> DoseLadder:
        problems: list[tuple[str, object, str]] = []
        names = [lv.name for lv in self.levels]
        for i, name in enumerate(names):
            if names.index(name) != i:
                problems.append((f"levels[{i}].name", name, "duplicate dose level name"))
        policy = self.fallback_policy.value
        for i, lv in enumerate(self.levels):
            if policy == "safety_only" and lv.role == "fallback" and lv.in_design:
                problems.append(
                    (
                        f"levels[{i}].design_index",
                        lv.design_index.value,
                        f"must be {OUTSIDE_DESIGN} or left out: under fallback_policy "
                        "safety_only the fallback level is outside the dose finding "
                        "(or set fallback_policy: analyse_at_actual)",
                    )
                )
        design = [lv for lv in self.levels if lv.in_design]
        indices = sorted(lv.design_index.value for lv in design)
        if indices != list(range(1, len(design) + 1)):
            problems.append(
                ("levels", indices, "design_index values must be 1..n, each once (0: outside)")
            )
        by_index = sorted(design, key=lambda lv: lv.design_index.value)
        for low, high in itertools.pairwise(by_index):
            if high.cells_per_kg <= low.cells_per_kg:
                problems.append(
                    (
                        f"levels[{self.levels.index(high)}].cells_per_kg",
                        high.cells_per_kg,
                        f"must exceed {low.name}'s dose (a higher design_index is a higher dose)",
                    )
                )
        starts = [lv.name for lv in self.levels if lv.role == "start"]
        if len(starts) != 1:
            problems.append(("levels", starts, "exactly one level must have role 'start'"))
        if sum(lv.role == "fallback" for lv in self.levels) > 1:
            problems.append(("levels", names, "at most one level may have role 'fallback'"))
        if not design:
            problems.append(("levels", names, "at least one level must be a design dose"))
        raise_problems(problems)
        return self

    @property
    def start(self) -> DoseLevel:
        return next(lv for lv in self.levels if lv.role == "start")

    @property
    def policy(self) -> FallbackPolicy:
        """How a fallback participant is analysed (``fallback_policy``)."""
        return self.fallback_policy.value

    def by_name(self, name: str) -> DoseLevel:
        """The level called ``name`` (``DL-1``, ``DL1`` ...)."""
        for level in self.levels:
            if level.name == name:
                return level
        raise InvalidInput("level", name, f"must be one of {', '.join(self.names)}")

    def by_index(self, index: int) -> DoseLevel:
        """The level at a design dose index (1..n; 0: the fallback level outside the design)."""
        for level in self.levels:
            if level.design_index.value == index:
                return level
        raise InvalidInput(
            "dose", index, f"must be a design dose from 1 to {len(self.design_levels)}"
        )

    @property
    def design_levels(self) -> tuple[DoseLevel, ...]:
        """The levels of the dose finding, in design order (index 1 first)."""
        inside = [lv for lv in self.levels if lv.in_design]
        return tuple(sorted(inside, key=lambda lv: lv.design_index.value))

    @property
    def outside(self) -> tuple[DoseLevel, ...]:
        """Levels given but outside the dose finding (the fallback under ``safety_only``)."""
        return tuple(lv for lv in self.levels if not lv.in_design)

    @property
    def design_names(self) -> tuple[str, ...]:
        """Names of the design doses, dose 1 first."""
        return tuple(lv.name for lv in self.design_levels)

    def clinical_levels(self) -> tuple[dosing.DoseLevel, ...]:
        """The ladder as the dosing rule's levels, in design order (a level outside the design,
        index 0, first): the one place a protocol level becomes a window to test a dose in
        (:meth:`dosewise.clinical.dosing.DoseLevel.window`)."""
        return tuple(
            dosing.DoseLevel(lv.name, lv.cells_per_kg, lv.tolerance, lv.role)
            for lv in sorted(self.levels, key=lambda lv: lv.design_index.value)
        )

    @property
    def names(self) -> tuple[str, ...]:
        """Every level's name from the lowest dose (levels outside the design included)."""
        return tuple(lv.name for lv in sorted(self.levels, key=lambda lv: lv.cells_per_kg))

    def with_policy(self, policy: FallbackPolicy) -> DoseLadder:
        """The same levels under another ``fallback_policy`` (design indices re-derived)."""
        data = self.model_dump(mode="python")
        data["fallback_policy"] = {**data["fallback_policy"], "value": policy}
        for lv in data["levels"]:
            lv.pop("design_index", None)
        return DoseLadder.model_validate(data)


class BorWindow(Localized):
    """When best overall response is read: a target study day and a closed window around it."""

    ZH_FIELDS = ("label",)

    label: str
    target_day: Fact[int]
    minus_days: int = Field(ge=0)
    plus_days: int = Field(ge=0)

    @property
    def first_day(self) -> int:
        return self.target_day.value - self.minus_days

    @property
    def last_day(self) -> int:
        return self.target_day.value + self.plus_days


class Windows(Frozen):
    """Observation windows in days from infusion (study day 0)."""

    study_day_zero: Fact[str]
    dlt_days: int = Field(gt=0)
    ae_days: int = Field(gt=0)
    efficacy_days: Fact[int]
    bor: BorWindow

    @model_validator(mode="after")
    def _efficacy_day(self) -> Windows:
        day = self.efficacy_days.value
        if not 0 < day <= self.bor.last_day:
            rule = f"must be from 1 to the end of the BOR window (study day {self.bor.last_day})"
            raise_problems([("efficacy_days", day, rule)])
        return self


class ScheduledVisit(Assumable, Localized):
    """A visit of the schedule: target study day (0 = infusion), window and assessments."""

    ZH_FIELDS = ("label",)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)
    day: int
    before: int = Field(ge=0)
    after: int = Field(ge=0)
    assessments: tuple[str, ...] = Field(min_length=1)

    @property
    def first_day(self) -> int:
        return self.day - self.before

    @property
    def last_day(self) -> int:
        return self.day + self.after

    def clinical_visit(self) -> schedule.Visit:
        """This visit as the schedule rule's :class:`~dosewise.clinical.schedule.Visit`."""
        return schedule.Visit(
            self.name,
            self.label,
            self.day,
            self.before,
            self.after,
            self.assessments,
            self.why or "",
            zh=self.in_lang("label", "zh") if "label" in self.zh else "",
        )


class Boin12Settings(Frozen):
    """BOIN12 parameters the protocol fixes (names as in :class:`Boin12Params`)."""

    phi_t: Fact[float]
    phi_e: Fact[float]
    u11: Fact[float]
    u00: Fact[float]
    c_t: Fact[float]
    c_e: Fact[float]
    n_star: Fact[int]
    n2: Fact[int]
    n_earlystop: Fact[int]
    tie_break: Fact[str]


class ArmDesign(Frozen):
    """Per-arm departures from the shared design (sample sizes, BOIN12 and BOP2 settings)."""

    phase1_max_n: Fact[int] | None = None
    phase2_expansion: Fact[int] | None = None
    boin12: dict[str, Fact[int] | Fact[float] | Fact[str]] = Field(default_factory=dict)
    phase2: Bop2Override | None = None

    @model_validator(mode="after")
    def _known_settings(self) -> ArmDesign:
        raise_problems(
            [
                (f"boin12.{k}", k, "not a BOIN12 setting")
                for k in self.boin12
                if k not in Boin12Settings.model_fields
            ]
        )
        return self


class Design(Localized):
    """How doses are found and how many patients each stage takes."""

    ZH_FIELDS = ("toxicity_endpoint", "efficacy_endpoint")

    method: Literal["BOIN12", "TITE-BOIN12"]
    toxicity_endpoint: Fact[str]
    efficacy_endpoint: Fact[str]
    arms_independent: Fact[bool]
    cohort_size: Fact[int]
    phase1_max_n_per_arm: Fact[int]
    phase2_expansion_per_arm: Fact[int]
    total_enrollment: int = Field(gt=0)
    boin12: Boin12Settings
    phase2: Bop2Settings
    per_arm: dict[ArmId, ArmDesign] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _phase2_valid(self) -> Design:
        found = [p for arm in (None, *self.per_arm) for p in phase2_problems(self._phase2_of(arm))]
        raise_problems(
            [
                (path, list(v) if isinstance(v, tuple) else v, m)
                for path, v, m in dict.fromkeys(found)
            ]
        )
        return self

    def phase1_max_n(self, arm: ArmId) -> int:
        own = self.per_arm.get(arm, ArmDesign()).phase1_max_n
        return (own or self.phase1_max_n_per_arm).value

    def phase2_expansion(self, arm: ArmId) -> int:
        own = self.per_arm.get(arm, ArmDesign()).phase2_expansion
        return (own or self.phase2_expansion_per_arm).value

    def boin12_for(self, arm: ArmId) -> dict[str, Any]:
        """The BOIN12 settings for an arm (shared values, then the arm's overrides)."""
        values = {k: getattr(self.boin12, k).value for k in Boin12Settings.model_fields}
        values.update({k: v.value for k, v in self.per_arm.get(arm, ArmDesign()).boin12.items()})
        return values

    def phase1_most_at_one_dose(self, arm: ArmId) -> int:
        """The most phase 1 patients one dose (so the RP2D) can have: N, or n_earlystop if less."""
        max_n = self.phase1_max_n(arm)
        return min(max_n, self.boin12_for(arm)["n_earlystop"] or max_n)

    def phase2_fact(self, arm: ArmId, name: str) -> Fact[Any] | None:
        """The Fact an arm's BOP2 setting ``name`` comes from (its own, else the shared one)."""
        return self._phase2_of(arm).fact(name)

    def bop2_plan(self, arm: ArmId) -> Bop2Plan:
        """The arm's BOP2 settings, resolved: the one source of every phase 2 design."""
        return self._phase2_of(arm).plan()

    def _phase2_of(self, arm: ArmId | None) -> ArmPhase2:
        key = "" if arm is None else arm
        own = self.per_arm.get(key)
        expansion_path = (
            f"per_arm.{arm}.phase2_expansion"
            if own is not None and own.phase2_expansion is not None
            else "phase2_expansion_per_arm"
        )
        return ArmPhase2(
            arm=arm,
            shared=self.phase2,
            own=None if own is None else own.phase2,
            expansion=self.phase2_expansion(key),
            expansion_path=expansion_path,
            phi_t=float(self.boin12_for(key)["phi_t"]),
            n_phase1_at_rp2d=self.phase1_most_at_one_dose(key),
        )


class Protocol(Frozen):
    """A whole trial protocol, validated. Build with :func:`dosewise.protocol.load_protocol`."""

    schema_version: Literal[1] = 1
    registry: RegistryRecord
    arms: tuple[Arm, ...] = Field(min_length=1)
    dose_levels: DoseLadder
    windows: Windows
    design: Design
    dlt: DltDefinition
    eligibility: EligibilityCriteria
    consent: ConsentRules
    visits: tuple[ScheduledVisit, ...] = Field(min_length=1)
    #: How a participant infused outside every dose level's window is analysed (issue 14).
    deviation_analysis: Fact[DeviationAnalysis] = Field(default_factory=_deviation_default)
    #: When outcomes are final, not-evaluable reasons, censoring, arm requirements (issue 14).
    evaluation: Evaluation | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Protocol:
        raise_problems(_cross_problems(self))
        return self

    def visit_schedule(self) -> tuple[schedule.Visit, ...]:
        """Every visit of ``visits`` with its window, for ``clinical.visit_status``: the only
        visit schedule (the CLI's ``dosewise visits`` reads the embedded protocol's)."""
        return tuple(v.clinical_visit() for v in self.visits)

    @property
    def arm_ids(self) -> tuple[ArmId, ...]:
        return tuple(arm.id for arm in self.arms)

    def arm(self, arm_id: ArmId) -> Arm:
        """The arm with this id; an unknown id is an error naming ``arm``."""
        for arm in self.arms:
            if arm.id == arm_id:
                return arm
        raise InvalidInput("arm", arm_id, f"must be one of {', '.join(self.arm_ids)}")

    def design_params(self, arm_id: ArmId) -> Boin12Params:
        """The arm's design as :class:`Boin12Params` (dose indices 1..n, start at DL1's index)."""
        self.arm(arm_id)
        settings = self.design.boin12_for(arm_id)
        ladder = self.dose_levels
        design = ladder.design_levels
        return Boin12Params(
            n_doses=len(design),
            start_dose=ladder.start.design_index.value,
            cohort_size=self.design.cohort_size.value,
            max_n=self.design.phase1_max_n(arm_id),
            **settings,
            extra={
                "protocol": self.registry.nct_id,
                "arm": arm_id,
                "dose_labels": [lv.name for lv in design],
                "cells_per_kg": [lv.cells_per_kg for lv in design],
            },
        )

    def with_fallback_policy(self, policy: FallbackPolicy) -> Protocol:
        """This protocol read under another ``dose_levels.fallback_policy`` (the design report
        compares both readings)."""
        if policy == self.dose_levels.policy:
            return self
        return self.model_copy(update={"dose_levels": self.dose_levels.with_policy(policy)})

    def bop2_plan(self, arm_id: ArmId) -> Bop2Plan:
        """The arm's phase 2 (BOP2) settings from ``design.phase2`` and its overrides.

        The trial service (at the phase 1 closure) and the design report both build the arm's
        :class:`~dosewise.design.bop2_model.Bop2Design` from it with :meth:`Bop2Plan.design`.
        """
        self.arm(arm_id)
        return self.design.bop2_plan(arm_id)

    def screen(self, record: ScreeningRecord, arm_id: ArmId) -> ScreeningResult:
        """Every criterion for ``arm_id`` applied to ``record``, and the overall answer."""
        return assess(self.screening_criteria, record, arm_id, self.arm_ids, self.consent)

    @property
    def screening_criteria(self) -> EligibilityCriteria:
        """The eligibility criteria and ``evaluation.arm_requirements``, screened together."""
        extra = () if self.evaluation is None else self.evaluation.arm_requirements
        if not extra:
            return self.eligibility
        return EligibilityCriteria(
            criteria=(*self.eligibility.criteria, *extra),
            finding_names=self.eligibility.finding_names,
        )

    def check_consent(self, record: ConsentRecord) -> ConsentCheck:
        """What the patient's age band requires and what is missing."""
        return check_consent(record, self.consent)


def _cross_problems(p: Protocol) -> list[tuple[str, Any, str]]:
    """Problems that involve more than one section, each at the path to fix."""
    out: list[tuple[str, Any, str]] = []
    ids = p.arm_ids
    for i, arm_id in enumerate(ids):
        if ids.index(arm_id) != i:
            out.append((f"arms[{i}].id", arm_id, "duplicate arm id"))
    for arm_id in p.design.per_arm:
        if arm_id not in ids:
            out.append((f"design.per_arm.{arm_id}", arm_id, f"no such arm ({', '.join(ids)})"))
    read = set(p.screening_criteria.findings)
    for name in p.eligibility.finding_names:
        if name not in read:
            where = f"eligibility.finding_names.{name}"
            out.append((where, name, "no criterion reads this finding"))
    for i, crit in enumerate(p.eligibility.criteria):
        for arm_id in crit.arms or ():
            if arm_id not in ids:
                where = f"eligibility.criteria[{i}].arms"
                out.append((where, arm_id, f"no such arm ({', '.join(ids)})"))
        for j, check in enumerate(crit.checks):
            age = p.registry.eligibility
            if isinstance(check, AgeCheck) and (check.min_years, check.max_years) != (
                age.min_age_years,
                age.max_age_years,
            ):
                out.append(
                    (
                        f"eligibility.criteria[{i}].checks[{j}]",
                        f"{check.min_years}-{check.max_years}",
                        f"disagrees with registry.eligibility ages "
                        f"{age.min_age_years}-{age.max_age_years}",
                    )
                )
    if p.dlt.window_days != p.windows.dlt_days:
        out.append(
            (
                "dlt.window_days",
                p.dlt.window_days,
                f"must equal windows.dlt_days {p.windows.dlt_days}",
            )
        )
    names = [v.name for v in p.visits]
    for i, name in enumerate(names):
        if names.index(name) != i:
            out.append((f"visits[{i}].name", name, "duplicate visit name"))
    bor = p.windows.bor
    if not any(
        (v.first_day, v.last_day) == (bor.first_day, bor.last_day) and "response" in v.assessments
        for v in p.visits
    ):
        out.append(
            (
                "visits",
                names,
                f"need a visit with a response assessment over the BOR window "
                f"(study days {bor.first_day}-{bor.last_day}, windows.bor)",
            )
        )
    if p.design.total_enrollment != p.registry.target_enrollment:
        out.append(
            (
                "design.total_enrollment",
                p.design.total_enrollment,
                f"must equal registry.target_enrollment {p.registry.target_enrollment}",
            )
        )
    for arm_id in ids:
        if p.design.phase2_expansion(arm_id) < 0:
            own = p.design.per_arm.get(arm_id)
            where = (
                f"design.per_arm.{arm_id}.phase2_expansion"
                if own is not None and own.phase2_expansion is not None
                else "design.phase2_expansion_per_arm"
            )
            out.append((where, p.design.phase2_expansion(arm_id), "must be >= 0"))
    planned = sum(p.design.phase1_max_n(a) + p.design.phase2_expansion(a) for a in ids)
    if planned != p.design.total_enrollment:
        out.append(
            (
                "design.phase1_max_n_per_arm",
                planned,
                f"phase 1 maxima plus phase 2 expansions over {len(ids)} arms total {planned}, "
                f"not design.total_enrollment {p.design.total_enrollment}",
            )
        )
    reg = p.registry.eligibility
    if (p.consent.min_age, p.consent.max_age) != (reg.min_age_years, reg.max_age_years):
        out.append(
            (
                "consent.bands",
                f"{p.consent.min_age}-{p.consent.max_age}",
                f"must cover exactly the registry ages {reg.min_age_years}-{reg.max_age_years}",
            )
        )
    out.extend(_design_problems(p))
    return out


def _design_problems(p: Protocol) -> list[tuple[str, Any, str]]:
    """Each arm's design checked by :class:`Boin12Params` itself (the rules live there).

    Every setting is first tried alone (so each bad value is reported), then all together.
    """
    out: list[tuple[str, Any, str]] = []
    for arm_id in p.arm_ids:
        single = dict(p.design.boin12_for(arm_id))
        single["cohort_size"] = p.design.cohort_size.value
        single["max_n"] = p.design.phase1_max_n(arm_id)
        found = False
        for name, value in single.items():
            try:
                Boin12Params(**{name: value})
            except DosewiseError as exc:
                out.append((_design_path(p, arm_id, exc.field), exc.value, exc.rule))
                found = True
        if found:
            continue
        try:
            p.design_params(arm_id)
        except DosewiseError as exc:
            out.append((_design_path(p, arm_id, exc.field), exc.value, exc.rule))
    return list(dict.fromkeys(out))


def _design_path(p: Protocol, arm_id: ArmId, field: str) -> str:
    """Where in the file a :class:`Boin12Params` field comes from."""
    own = p.design.per_arm.get(arm_id)
    if field in ("phi1_ratio", "phi2_ratio"):
        field = "phi_t"  # the ratios are fixed; the bound they break is set by phi_t
    if field in Boin12Settings.model_fields:
        if own is not None and field in own.boin12:
            return f"design.per_arm.{arm_id}.boin12.{field}"
        return f"design.boin12.{field}"
    if field == "max_n":
        if own is not None and own.phase1_max_n is not None:
            return f"design.per_arm.{arm_id}.phase1_max_n"
        return "design.phase1_max_n_per_arm"
    if field == "cohort_size":
        return "design.cohort_size"
    if field in ("n_doses", "start_dose"):
        return "dose_levels.levels"
    return "design"
