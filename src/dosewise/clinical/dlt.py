"""Dose-limiting toxicity: a declarative, versioned definition and the classifier that applies it.

The DLT list of NCT07070323 is not public (clinical.md §2.2, §8.3); :data:`DEFAULT_DLT_DEFINITION`
is the typical CAR-T template of §2.2 and a protocol replaces it with its own. A rule names the
events it covers (a category, optionally narrowed to terms), the lowest grade that counts and its
exceptions: improvement to a lower grade within a time limit, recovery of a cytopenia by a study
day, presence before lymphodepletion, explanation by the disease, listed exception terms. The
attribution gate and the evaluability rule belong to the same object, so every decision can cite
the version it used.

Study day 0 is the infusion day; the window is the closed interval [0, window_days]. An event
counts when it reaches the rule's grade inside the window (a persistence rule — a cytopenia still
grade 4 beyond day 28 — counts an event that began after lymphodepletion, even before day 0).
Dates are whole days, so "within 72 h" is "within 3 days".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal, get_args

from dosewise.clinical.ctcae import (
    ATTRIBUTIONS,
    TERMS,
    AdverseEvent,
    Attribution,
    Scale,
    find_term,
)
from dosewise.clinical.dlt_reasons import Why, event_text, render
from dosewise.errors import InvalidInput, InvalidParameter

Category = Literal["crs", "icans", "gvhd", "haematological", "non_haematological", "death", "any"]
CATEGORIES: tuple[Category, ...] = get_args(Category)
EventStatus = Literal["dlt", "not_dlt", "pending", "indeterminate"]
PatientStatus = Literal["dlt", "no_dlt", "pending", "not_evaluable"]

#: Exception phrases a rule may list besides terms and SOCs (clinical.md §2.2: "transient
#: laboratory abnormalities, fever, and infections with neutropenia are often excluded").
INFECTION_WITH_NEUTROPENIA = "infection with neutropenia"
TRANSIENT_LAB = "transient laboratory abnormality"
#: A grade ≥ 3 laboratory abnormality is transient when it improves to ≤ 2 within 72 h — the
#: shortest resolution limit of the §2.2 template (an interpretation; the protocol must confirm).
TRANSIENT_LAB_HOURS = 72.0
SPECIAL_EXCEPTIONS = (INFECTION_WITH_NEUTROPENIA, TRANSIENT_LAB)
_SOCS = frozenset(t.soc.casefold() for t in TERMS)


def _canonical_term(name: str) -> str:
    term = find_term(name)
    return name.strip() if term is None else term.name


@dataclass(frozen=True)
class Resolution:
    """An event that improves to ``to_grade`` or lower within ``within_hours`` is not a DLT."""

    to_grade: int
    within_hours: float


@dataclass(frozen=True)
class DltRule:
    """One kind of dose-limiting toxicity and its exceptions (field names as in the protocol)."""

    id: str
    description: str
    category: Category
    min_grade: int = 3
    max_grade: int | None = None
    terms: tuple[str, ...] = ()
    scale: Scale | None = None
    requires_attribution: bool = True
    not_dlt_if_resolves: Resolution | None = None
    persists_beyond_day: int | None = None
    exclude_if_present_at_baseline: bool = False
    exclude_if_due_to_disease: bool = False
    exceptions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        where = f"rule {self.id}"
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.id):
            raise InvalidParameter("id", self.id, "a rule id is lower_snake_case")
        if self.category not in CATEGORIES:
            raise InvalidParameter(
                f"{where}.category", self.category, f"one of {', '.join(CATEGORIES)}"
            )
        if not 1 <= self.min_grade <= 5:
            raise InvalidParameter(f"{where}.min_grade", self.min_grade, "must be in [1, 5]")
        if self.max_grade is not None and not self.min_grade <= self.max_grade <= 5:
            raise InvalidParameter(f"{where}.max_grade", self.max_grade, "must be in [min, 5]")
        res = self.not_dlt_if_resolves
        if res is not None and not (0 <= res.to_grade < self.min_grade and res.within_hours > 0):
            raise InvalidParameter(
                f"{where}.not_dlt_if_resolves",
                res,
                "to_grade must be below min_grade and within_hours > 0",
            )
        if self.persists_beyond_day is not None and self.persists_beyond_day < 0:
            raise InvalidParameter(
                f"{where}.persists_beyond_day", self.persists_beyond_day, "must be >= 0"
            )
        object.__setattr__(self, "terms", tuple(_canonical_term(t) for t in self.terms))
        for i, exc in enumerate(self.exceptions):
            if not (
                find_term(exc) or exc.casefold() in _SOCS or exc.casefold() in SPECIAL_EXCEPTIONS
            ):
                raise InvalidParameter(
                    f"{where}.exceptions[{i}]",
                    exc,
                    "not a known term, SOC or one of: " + ", ".join(SPECIAL_EXCEPTIONS),
                )

    def covers(self, event: AdverseEvent) -> bool:
        """Whether the event is of this rule's category (and terms) and within its max grade."""
        if self.max_grade is not None and event.grade > self.max_grade:
            return False
        if self.terms and event.term.casefold() not in (t.casefold() for t in self.terms):
            return False
        if self.category == "any":
            return True
        if self.category == "death":
            return event.grade == 5
        return event.kind == self.category

    def grades(self) -> str:
        """``grade >= 3``, ``grade 3`` or ``grade 3-4``."""
        if self.max_grade == self.min_grade:
            return f"grade {self.min_grade}"
        if self.max_grade is None:
            return f"grade >= {self.min_grade}"
        return f"grade {self.min_grade}-{self.max_grade}"


@dataclass(frozen=True)
class Evaluability:
    """Who counts in the DLT denominator: infused and followed long enough, or a DLT earlier."""

    requires_infusion: bool = True
    min_follow_up_days: int | None = None
    dlt_before_end_counts: bool = True


@dataclass(frozen=True)
class DltDefinition:
    """A versioned DLT definition: window, attribution gate, evaluability and rules."""

    version: str
    window_days: int
    rules: tuple[DltRule, ...]
    related_attributions: tuple[Attribution, ...] = ("possible", "probable", "definite")
    evaluability: Evaluability = field(default_factory=Evaluability)
    effective_date: date | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not self.version.strip():
            raise InvalidParameter("version", self.version, "a DLT definition needs a version")
        if isinstance(self.window_days, bool) or not 1 <= self.window_days <= 365:
            raise InvalidParameter("window_days", self.window_days, "must be in [1, 365]")
        if not self.rules:
            raise InvalidParameter("rules", self.rules, "at least one rule")
        ids = [r.id for r in self.rules]
        for i, rule_id in enumerate(ids):
            if ids.index(rule_id) != i:
                raise InvalidParameter(f"rules[{i}].id", rule_id, "duplicate rule id")
        if not self.related_attributions or any(
            a not in ATTRIBUTIONS for a in self.related_attributions
        ):
            raise InvalidParameter(
                "related_attributions",
                self.related_attributions,
                f"a non-empty subset of {', '.join(ATTRIBUTIONS)}",
            )
        follow = self.evaluability.min_follow_up_days
        if follow is not None and not 0 <= follow <= self.window_days:
            raise InvalidParameter(
                "evaluability.min_follow_up_days", follow, f"must be in [0, {self.window_days}]"
            )

    @property
    def min_follow_up_days(self) -> int:
        """Follow-up that makes a patient without DLT evaluable (default: the whole window)."""
        follow = self.evaluability.min_follow_up_days
        return self.window_days if follow is None else follow


_CRS = ("Cytokine release syndrome",)
_ICANS = ("Immune effector cell-associated neurotoxicity syndrome",)

#: The typical CAR-T DLT template of clinical.md §2.2 [K], 28-day window of NCT07070323.
DEFAULT_DLT_DEFINITION = DltDefinition(
    version="0.1-template",
    window_days=28,
    evaluability=Evaluability(min_follow_up_days=28),
    description="Typical CAR-T DLT template (clinical.md §2.2); the protocol must confirm it.",
    rules=(
        DltRule(
            "crs_grade_4_or_5",
            "Any grade 4 or 5 cytokine release syndrome",
            "crs",
            min_grade=4,
            terms=_CRS,
            scale="ASTCT 2019",
        ),
        DltRule(
            "crs_grade_3_persisting",
            "Grade 3 CRS that does not improve to grade 2 or lower within 72 hours",
            "crs",
            min_grade=3,
            max_grade=3,
            terms=_CRS,
            scale="ASTCT 2019",
            not_dlt_if_resolves=Resolution(2, 72),
        ),
        DltRule(
            "icans_grade_4_or_5",
            "Any grade 4 or 5 ICANS",
            "icans",
            min_grade=4,
            terms=_ICANS,
            scale="ASTCT 2019",
        ),
        DltRule(
            "icans_grade_3_persisting",
            "Grade 3 ICANS that does not improve to grade 2 or lower within 72 hours",
            "icans",
            min_grade=3,
            max_grade=3,
            terms=_ICANS,
            scale="ASTCT 2019",
            not_dlt_if_resolves=Resolution(2, 72),
        ),
        DltRule(
            "acute_gvhd_grade_3_plus",
            "Grade 3 or higher acute graft-versus-host disease",
            "gvhd",
            min_grade=3,
            terms=("Graft versus host disease",),
            scale="CTCAE v5",
        ),
        DltRule(
            "cytopenia_grade_4_persisting",
            "Grade 4 neutropenia or thrombocytopenia not present before lymphodepletion that "
            "persists beyond day 28 and is not explained by the disease",
            "haematological",
            min_grade=4,
            terms=("Neutrophil count decreased", "Platelet count decreased"),
            scale="CTCAE v5",
            persists_beyond_day=28,
            exclude_if_present_at_baseline=True,
            exclude_if_due_to_disease=True,
        ),
        DltRule(
            "other_non_haematological_grade_3_plus",
            "Any other grade 3 or higher non-haematological toxicity related to the product "
            "that does not improve to grade 2 or lower within 7 days",
            "non_haematological",
            min_grade=3,
            scale="CTCAE v5",
            not_dlt_if_resolves=Resolution(2, 168),
            exceptions=("Fever", "Febrile neutropenia", INFECTION_WITH_NEUTROPENIA, TRANSIENT_LAB),
        ),
        DltRule(
            "related_death",
            "Any death related to the product",
            "death",
            min_grade=5,
            scale="CTCAE v5",
        ),
    ),
)


@dataclass(frozen=True)
class EventDlt:
    """How one event was classified, under which rules and why."""

    index: int
    term: str
    grade: int
    onset_day: int
    status: EventStatus
    rules: tuple[str, ...]
    reason: str
    #: The reason as data: per rule, its reasons (:mod:`~dosewise.clinical.dlt_reasons`);
    #: empty with ``no_rule`` when no rule covers the event.
    parts: tuple[tuple[str, tuple[Why, ...]], ...] = ()
    reason_code: str = ""
    reason_params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "term": self.term,
            "grade": self.grade,
            "onset_day": self.onset_day,
            "status": self.status,
            "is_dlt": self.status == "dlt",
            "rules": list(self.rules),
            "reason": self.reason,
            "reason_parts": [[rid, [list(w) for w in whys]] for rid, whys in self.parts],
            "reason_code": self.reason_code or None,
            "reason_params": self.reason_params,
        }


@dataclass(frozen=True)
class DltAssessment:
    """A patient's DLT status under one definition: DLT, no DLT, pending or not evaluable."""

    status: PatientStatus
    reason: str
    definition_version: str
    window_start: date
    window_end: date
    observed_until: date
    events: tuple[EventDlt, ...] = ()
    #: The reason as data (:mod:`~dosewise.clinical.dlt_reasons`).
    reason_code: str = ""
    reason_params: dict[str, Any] = field(default_factory=dict)

    @property
    def has_dlt(self) -> bool:
        return self.status == "dlt"

    @property
    def evaluable(self) -> bool | None:
        """True (DLT or full follow-up), False (not evaluable), None (not known yet)."""
        return {"dlt": True, "no_dlt": True, "not_evaluable": False}.get(self.status)

    @property
    def toxicity(self) -> bool | None:
        """The binary toxicity outcome that feeds BOIN12 (None when not evaluable or pending)."""
        return None if self.evaluable is not True else self.has_dlt

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "has_dlt": self.has_dlt,
            "evaluable": self.evaluable,
            "toxicity": self.toxicity,
            "reason": self.reason,
            "reason_code": self.reason_code or None,
            "reason_params": self.reason_params,
            "definition_version": self.definition_version,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "observed_until": self.observed_until.isoformat(),
            "follow_up_days": (self.observed_until - self.window_start).days,
            "dlt_events": [e.index for e in self.events if e.status == "dlt"],
            "events": [e.to_dict() for e in self.events],
        }


@dataclass(frozen=True)
class _Context:
    infusion: date
    window_end: date
    observed_until: date
    open: bool
    related: tuple[Attribution, ...]
    events: tuple[AdverseEvent, ...]


def classify_dlts(
    events: Iterable[AdverseEvent],
    definition: DltDefinition = DEFAULT_DLT_DEFINITION,
    infusion_date: date | None = None,
    *,
    assessed_on: date,
    death_date: date | None = None,
    off_study_date: date | None = None,
    infused: bool = True,
) -> DltAssessment:
    """Which events are DLTs and why, and whether the patient is DLT-evaluable.

    Observation runs from the infusion to the earliest of ``assessed_on`` (the day of this
    assessment), ``death_date`` and ``off_study_date`` (withdrawal or loss to follow-up). A
    patient who dies or leaves before the minimum follow-up without a DLT is not evaluable
    (e.g. died of disease before day 28, clinical.md §2.2); one still being followed is pending.
    """
    if infusion_date is None:
        raise InvalidInput("infusion_date", None, "required: study day 0 is the infusion day")
    evs = tuple(events)
    ends = [d for d in (death_date, off_study_date) if d is not None]
    observed = min([assessed_on, *ends])
    for name, when in (
        ("assessed_on", assessed_on),
        ("death_date", death_date),
        ("off_study_date", off_study_date),
    ):
        if when is not None and when < infusion_date:
            raise InvalidInput(name, when.isoformat(), "before the infusion date")
    _check_event_dates(evs, observed, death_date)
    window_end = infusion_date + timedelta(days=definition.window_days)
    base = (definition.version, infusion_date, window_end, observed)
    if not infused and definition.evaluability.requires_infusion:
        return DltAssessment("not_evaluable", "not infused", *base)
    ctx = _Context(
        infusion_date,
        window_end,
        observed,
        observed == assessed_on and not ends,
        definition.related_attributions,
        evs,
    )
    classified = tuple(_classify_event(i, e, definition, ctx) for i, e in enumerate(evs))
    status, why = _patient_status(classified, definition, ctx, death_date, off_study_date)
    code, params = why
    return DltAssessment(
        status, render(why), *base, classified, reason_code=code, reason_params=params
    )


def _check_event_dates(
    events: Sequence[AdverseEvent], observed: date, death_date: date | None
) -> None:
    for i, event in enumerate(events):
        if death_date is not None and event.onset > death_date:
            raise InvalidInput(f"events[{i}].onset", event.onset.isoformat(), "after death")
        if event.onset > observed:
            raise InvalidInput(
                f"events[{i}].onset", event.onset.isoformat(), "after the end of observation"
            )


def _patient_status(
    events: tuple[EventDlt, ...],
    definition: DltDefinition,
    ctx: _Context,
    death_date: date | None,
    off_study_date: date | None,
) -> tuple[PatientStatus, Why]:
    days = (ctx.observed_until - ctx.infusion).days
    need = definition.min_follow_up_days
    complete = days >= need
    counts = {"days": days, "need": need}
    dlts = [e for e in events if e.status == "dlt"]
    if dlts and (complete or definition.evaluability.dlt_before_end_counts):
        names = [{"term": e.term, "grade": e.grade, "day": e.onset_day} for e in dlts]
        return "dlt", ("dlt", {"events": names})
    pending = [e for e in events if e.status == "pending"]
    if pending and ctx.open:
        return "pending", ("pending_event", _nested(pending[0]))
    unknown = [e for e in events if e.status in ("indeterminate", "pending")]
    if unknown:
        return "not_evaluable", ("unknown_event", _nested(unknown[0]))
    if dlts:  # a DLT that does not count before the end of follow-up
        if ctx.open:
            return "pending", ("dlt_in_follow_up", counts)
        return "not_evaluable", ("dlt_follow_up_ended", counts)
    if complete:
        return "no_dlt", ("no_dlt", counts)
    if ctx.open:
        return "pending", ("no_dlt_so_far", counts)
    died = death_date is not None and death_date == ctx.observed_until
    return "not_evaluable", ("died_early" if died else "off_study_early", counts)


def _nested(event: EventDlt) -> dict[str, Any]:
    """An event's term and reasons, as a parameter of the participant's reason."""
    parts = [[rid, [[c, p] for c, p in whys]] for rid, whys in event.parts]
    return {"term": event.term, "event": parts}


def _classify_event(i: int, event: AdverseEvent, d: DltDefinition, ctx: _Context) -> EventDlt:
    onset_day = (event.onset - ctx.infusion).days
    results = [(rule.id, _apply(rule, event, ctx)) for rule in d.rules if rule.covers(event)]
    order: tuple[EventStatus, ...] = ("dlt", "pending", "indeterminate")
    for status in order:
        hits = tuple((rid, whys) for rid, (st, whys) in results if st == status)
        if hits:
            rules = tuple(r for r, _ in hits)
            return EventDlt(
                i, event.term, event.grade, onset_day, status, rules, event_text(hits), hits
            )
    if results:
        parts = tuple((rid, whys) for rid, (_, whys) in results)
        return EventDlt(
            i, event.term, event.grade, onset_day, "not_dlt", (), event_text(parts), parts
        )
    why: Why = ("no_rule", {"term": event.term, "grade": event.grade})
    return EventDlt(i, event.term, event.grade, onset_day, "not_dlt", (), render(why), (), *why)


def _grades(rule: DltRule) -> dict[str, Any]:
    return {"min_grade": rule.min_grade, "max_grade": rule.max_grade}


def _apply(
    rule: DltRule, event: AdverseEvent, ctx: _Context
) -> tuple[EventStatus, tuple[Why, ...]]:
    """One rule against one event: the status and its reasons (one line when rendered)."""
    if event.grade < rule.min_grade:
        return "not_dlt", (("below_grade", {"grade": event.grade, **_grades(rule)}),)
    excepted = _exception(rule, event, ctx)
    if excepted:
        return "not_dlt", (("excepted", {"exception": excepted}),)
    reached = event.first_reached(rule.min_grade)
    assert reached is not None
    day = (reached - ctx.infusion).days
    # A persistence rule is anchored on its study day, not on onset: cytopenia from
    # lymphodepletion starts before day 0 and is the very toxicity it targets (clinical.md §2.2).
    in_window = day <= (ctx.window_end - ctx.infusion).days
    if rule.persists_beyond_day is None and not (day >= 0 and in_window):
        return "not_dlt", (("outside_window", {"min_grade": rule.min_grade, "day": day}),)
    if rule.requires_attribution and event.attribution not in ctx.related:
        return "not_dlt", (("not_related", {"attribution": event.attribution}),)
    if rule.exclude_if_present_at_baseline and event.baseline_present:
        return "not_dlt", (("at_baseline", {}),)
    if rule.exclude_if_due_to_disease and event.due_to_disease:
        return "not_dlt", (("disease", {}),)
    status: EventStatus = "dlt"
    why: Why = ("on_day", {**_grades(rule), "day": day})
    if rule.not_dlt_if_resolves is not None:
        status, why = _resolution(rule.not_dlt_if_resolves, event, reached, ctx)
    if status == "dlt" and rule.persists_beyond_day is not None:
        status, why = _persistence(rule, event, ctx)
    if status == "dlt" and rule.scale is not None and event.scale != rule.scale:
        return status, (why, ("scale", {"scale": event.scale, "rule_scale": rule.scale}))
    return status, (why,)


def _resolution(
    res: Resolution, event: AdverseEvent, reached: date, ctx: _Context
) -> tuple[EventStatus, Why]:
    improved = event.improved_to(res.to_grade, reached)
    limit = f"{res.within_hours:g}"
    if improved is not None:
        hours = (improved - reached).days * 24
        params = {"to_grade": res.to_grade, "hours": hours, "limit": limit}
        if hours <= res.within_hours:
            return "not_dlt", ("improved_in_time", params)
        return "dlt", ("improved_late", params)
    hours = (ctx.observed_until - reached).days * 24
    if hours > res.within_hours:
        return "dlt", ("not_improved", {"to_grade": res.to_grade, "limit": limit})
    last = reached + timedelta(hours=res.within_hours)
    if ctx.open:
        return "pending", ("pending_improvement", {"to_grade": res.to_grade, "last": str(last)})
    return "indeterminate", ("ended_before_limit", {"limit": limit})


def _persistence(rule: DltRule, event: AdverseEvent, ctx: _Context) -> tuple[EventStatus, Why]:
    assert rule.persists_beyond_day is not None
    check = ctx.infusion + timedelta(days=rule.persists_beyond_day + 1)
    params = {"min_grade": rule.min_grade, "day": rule.persists_beyond_day}
    if ctx.observed_until >= check:
        if event.grade_on(check) >= rule.min_grade:
            return "dlt", ("persisting", params)
        return "not_dlt", ("recovered_by", params)
    if event.grade_on(ctx.observed_until) < rule.min_grade:
        return "not_dlt", ("recovered", {"min_grade": rule.min_grade})
    if ctx.open:
        return "pending", ("pending_persistence", params)
    return "indeterminate", ("ended_before_day", {"day": rule.persists_beyond_day + 1})


def _exception(rule: DltRule, event: AdverseEvent, ctx: _Context) -> str | None:
    """The exception of ``rule`` that applies to ``event``, if any."""
    for exc in rule.exceptions:
        key = exc.casefold()
        term = find_term(exc)
        if term is not None and term.name == event.term:
            return exc
        if key == event.soc.casefold():
            return exc
        if key == INFECTION_WITH_NEUTROPENIA and event.infection and _neutropenic(event, ctx):
            return exc
        if key == TRANSIENT_LAB and event.laboratory:
            reached = event.first_reached(3)
            improved = None if reached is None else event.improved_to(2, reached)
            if (
                reached is not None
                and improved is not None
                and (improved - reached).days * 24 <= TRANSIENT_LAB_HOURS
            ):
                return exc
    return None


def _neutropenic(event: AdverseEvent, ctx: _Context) -> bool:
    """Whether grade ≥ 3 neutropenia or febrile neutropenia was present at the event's onset."""
    return any(
        (other.term == "Neutrophil count decreased" and other.grade_on(event.onset) >= 3)
        or (other.term == "Febrile neutropenia" and other.grade_on(event.onset) >= 1)
        for other in ctx.events
        if other is not event
    )
