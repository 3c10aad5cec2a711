"""Response of T-ALL / T-LBL after CAR-T: per assessment, best overall response, efficacy.

Marrow categories follow the ALL tables of clinical.md §3.1 (CR, CRi, PR, SD/NR, PD; MRD kept as
value + assay sensitivity); extramedullary disease follows Lugano 2014 (§3.2). A patient with both
has the *worse* of the two (§3.2). Best overall response (BOR) is the best response from infusion
to the end of the month-3 window, day 97 (§3.3), ranked CR MRD-negative > CR > CRi > PR > SD/NR >
PD; assessments on or after SCT or a new anti-leukaemic therapy do not count (censoring), and
"not evaluable" stays apart from non-response. The binary efficacy outcome that feeds BOIN12 is
"CR or CRi by day 30" by default (the predecessor's read-out, §0 and §3.3) — a setting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, get_args

from dosewise.errors import InvalidInput, InvalidParameter

Category = Literal["CR", "CRi", "PR", "SD/NR", "PD", "NE"]
CATEGORIES: tuple[Category, ...] = get_args(Category)
#: Extramedullary response (Lugano); ``none`` = no extramedullary disease at baseline or now.
Emd = Literal["none", "CR", "PR", "SD", "PD", "NE"]
EMDS: tuple[Emd, ...] = get_args(Emd)
_RANK: dict[str, int] = {"PD": 1, "SD/NR": 2, "PR": 3, "CRi": 4, "CR": 5}
_EMD_AS: dict[str, Category] = {"CR": "CR", "PR": "PR", "SD": "SD/NR", "PD": "PD", "NE": "NE"}
#: MRD above 10⁻⁴ (0.01 %) is MRD failure (clinical.md §3.1); negativity needs an assay at least
#: that sensitive.
MRD_THRESHOLD = 1e-4


@dataclass(frozen=True)
class Mrd:
    """Measurable residual disease: a value and the assay's sensitivity, both as fractions.

    ``value`` 0 means not detected; 1e-4 is 0.01 % of cells. Negative means not detected (below
    the sensitivity) by an assay at least as sensitive as 10⁻⁴.
    """

    value: float
    sensitivity: float
    assay: str = "flow"

    def __post_init__(self) -> None:
        if not 0 <= self.value <= 1:
            raise InvalidInput("mrd.value", self.value, "a fraction in [0, 1] (1e-4 = 0.01%)")
        if not 0 < self.sensitivity <= 0.1:
            raise InvalidInput("mrd.sensitivity", self.sensitivity, "a fraction in (0, 0.1]")

    @property
    def negative(self) -> bool | None:
        """True (negative), False (positive), None (not detected, but assay too insensitive)."""
        if self.value >= self.sensitivity:
            return False
        return True if self.sensitivity <= MRD_THRESHOLD else None


@dataclass(frozen=True)
class Marrow:
    """A marrow and blood assessment (blasts in %, counts in ×10⁹/L)."""

    blasts_pct: float
    circulating_blasts: bool = False
    anc: float | None = None
    platelets: float | None = None
    transfusion_independent: bool = True
    baseline_blasts_pct: float | None = None
    mrd: Mrd | None = None

    def __post_init__(self) -> None:
        for name in ("blasts_pct", "baseline_blasts_pct"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 100:
                raise InvalidInput(name, value, "a percentage in [0, 100]")
        for name in ("anc", "platelets"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 2000:
                raise InvalidInput(name, value, "a count in ×10⁹/L, >= 0")

    @property
    def counts_recovered(self) -> bool:
        """ANC ≥ 1.0, platelets ≥ 100 ×10⁹/L and transfusion independent (missing = not)."""
        return (
            self.anc is not None
            and self.anc >= 1.0
            and self.platelets is not None
            and self.platelets >= 100
            and self.transfusion_independent
        )


def marrow_response(m: Marrow) -> tuple[Category, str]:
    """CR / CRi / PR / SD/NR / PD of the marrow and blood (clinical.md §3.1)."""
    base = m.baseline_blasts_pct
    if base is not None and base > 0 and m.blasts_pct >= 5 and m.blasts_pct >= 1.25 * base:
        return "PD", f"marrow blasts {m.blasts_pct:g}% rose >= 25% from {base:g}%"
    if m.blasts_pct < 5 and not m.circulating_blasts:
        if m.counts_recovered:
            return "CR", f"marrow blasts {m.blasts_pct:g}% < 5%, counts recovered"
        return "CRi", f"marrow blasts {m.blasts_pct:g}% < 5%, counts not recovered"
    if (
        5 <= m.blasts_pct <= 25
        and base is not None
        and m.blasts_pct <= 0.5 * base
        and not m.circulating_blasts
        and m.counts_recovered
    ):
        return "PR", f"marrow blasts {m.blasts_pct:g}% (5-25%, >= 50% fall from {base:g}%)"
    return "SD/NR", "criteria for CR, CRi, PR or PD not met"


@dataclass(frozen=True)
class Assessment:
    """One response assessment: marrow and/or extramedullary, or a category already decided."""

    on: date
    marrow: Marrow | None = None
    extramedullary: Emd = "none"
    category: Category | None = None
    mrd: Mrd | None = None

    def __post_init__(self) -> None:
        if self.extramedullary not in EMDS:
            raise InvalidInput("extramedullary", self.extramedullary, f"one of {', '.join(EMDS)}")
        if self.category is not None and self.category not in CATEGORIES:
            raise InvalidInput("category", self.category, f"one of {', '.join(CATEGORIES)}")
        if self.category is not None and self.marrow is not None:
            raise InvalidInput("category", self.category, "give marrow or category, not both")


@dataclass(frozen=True)
class Response:
    """The response of one assessment, with its MRD status and why."""

    on: date
    category: Category
    mrd_negative: bool | None
    reason: str

    @property
    def rank(self) -> float:
        """Higher is better; a CR that is MRD-negative outranks one that is not."""
        rank = _RANK.get(self.category, 0)
        return rank + (0.5 if self.category == "CR" and self.mrd_negative else 0.0)


def classify(a: Assessment) -> Response:
    """Overall response of one assessment: the worse of marrow and extramedullary (§3.2)."""
    mrd = a.mrd or (a.marrow.mrd if a.marrow else None)
    mrd_negative = None if mrd is None else mrd.negative
    if a.category is not None:
        return Response(a.on, a.category, mrd_negative, "category recorded by the investigator")
    emd = _EMD_AS.get(a.extramedullary)
    if a.marrow is None:
        if emd == "PD":
            return Response(a.on, "PD", mrd_negative, "extramedullary progression")
        return Response(a.on, "NE", mrd_negative, "marrow not assessed")
    marrow, why = marrow_response(a.marrow)
    if emd is None:  # no extramedullary disease
        return Response(a.on, marrow, mrd_negative, why)
    if "PD" in (marrow, emd):
        return Response(a.on, "PD", mrd_negative, f"{why}; extramedullary {a.extramedullary}")
    if emd == "NE":
        return Response(a.on, "NE", mrd_negative, f"{why}; extramedullary disease not assessed")
    worse = min((marrow, emd), key=lambda c: _RANK[c])
    return Response(a.on, worse, mrd_negative, f"{why}; extramedullary {a.extramedullary}")


@dataclass(frozen=True)
class BorSettings:
    """Open decisions of clinical.md §3.3, as settings with the proposed defaults."""

    by_day: int = 97
    death_as_non_response: bool = True
    confirm_cr_days: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.by_day <= 400:
            raise InvalidParameter("by_day", self.by_day, "must be in [0, 400]")
        if self.confirm_cr_days is not None and self.confirm_cr_days < 1:
            raise InvalidParameter("confirm_cr_days", self.confirm_cr_days, "must be >= 1")


@dataclass(frozen=True)
class BestResponse:
    """Best overall response by the cut-off day, and what was counted."""

    category: Category
    mrd_negative: bool | None
    on: date | None
    study_day: int | None
    censored: bool
    censor_reason: str | None
    final: bool
    reason: str
    responses: tuple[Response, ...]
    counted: tuple[bool, ...]

    @property
    def evaluable(self) -> bool:
        return self.category != "NE"

    def to_dict(self, infusion: date) -> dict[str, Any]:
        return {
            "best_response": self.category,
            "mrd_negative": self.mrd_negative,
            "date": None if self.on is None else self.on.isoformat(),
            "study_day": self.study_day,
            "evaluable": self.evaluable,
            "censored": self.censored,
            "censor_reason": self.censor_reason,
            "final": self.final,
            "reason": self.reason,
            "assessments": [
                {
                    "date": r.on.isoformat(),
                    "study_day": (r.on - infusion).days,
                    "category": r.category,
                    "mrd_negative": r.mrd_negative,
                    "counted": c,
                    "reason": r.reason,
                }
                for r, c in zip(self.responses, self.counted, strict=True)
            ],
        }


def best_overall_response(
    assessments: Iterable[Assessment],
    infusion_date: date,
    *,
    sct_date: date | None = None,
    new_therapy_date: date | None = None,
    death_date: date | None = None,
    as_of: date | None = None,
    settings: BorSettings | None = None,
) -> BestResponse:
    """BOR from infusion to day ``settings.by_day``, censored at SCT or new therapy.

    Only assessments in [day 0, by_day] and strictly before the censoring date count; NE
    assessments never count. Without a counted response, a death by the cut-off is a
    non-response (SD/NR) by default, otherwise the BOR is NE. ``final`` is False while the
    patient is alive, uncensored and ``as_of`` is before the cut-off.
    """
    s = settings or BorSettings()
    items = sorted(assessments, key=lambda a: a.on)
    cutoff = infusion_date + timedelta(days=s.by_day)
    censor_on, censor_reason = _censoring(infusion_date, sct_date, new_therapy_date, cutoff)
    for i, a in enumerate(items):
        if death_date is not None and a.on > death_date:
            raise InvalidInput(f"assessments[{i}].date", a.on.isoformat(), "after death")
    responses = tuple(classify(a) for a in items)
    counted = [
        r.category != "NE"
        and infusion_date <= r.on <= cutoff
        and (censor_on is None or r.on < censor_on)
        for r in responses
    ]
    notes = []
    if s.confirm_cr_days is not None:
        for i, r in enumerate(responses):
            if counted[i] and r.category in ("CR", "CRi") and not _confirmed(i, responses, s):
                counted[i] = False
                notes.append(f"{r.category} on {r.on} not confirmed after {s.confirm_cr_days} d")
    died_by_cutoff = (
        death_date is not None
        and death_date <= cutoff
        and (censor_on is None or death_date < censor_on)
    )
    final = as_of is None or as_of >= cutoff or censor_on is not None or death_date is not None
    candidates = [r for r, c in zip(responses, counted, strict=True) if c]
    extra = "; ".join(notes)
    if candidates:
        best = max(candidates, key=lambda r: (r.rank, -r.on.toordinal()))
        day = (best.on - infusion_date).days
        reason = f"best response {best.category} on study day {day}" + (
            f"; {extra}" if extra else ""
        )
        return BestResponse(
            best.category,
            best.mrd_negative,
            best.on,
            day,
            censor_on is not None,
            censor_reason,
            final,
            reason,
            responses,
            tuple(counted),
        )
    day_of: int | None = None
    if died_by_cutoff and s.death_as_non_response:
        assert death_date is not None
        day_of = (death_date - infusion_date).days
        category: Category = "SD/NR"
        reason = f"died on study day {day_of} without a response (counted as non-response)"
    else:
        category = "NE"
        reason = f"no evaluable assessment by study day {s.by_day}"
        if censor_reason:
            reason += f" before censoring ({censor_reason})"
    if extra:
        reason += f"; {extra}"
    on = death_date if category == "SD/NR" else None
    return BestResponse(
        category,
        None,
        on,
        day_of,
        censor_on is not None,
        censor_reason,
        final,
        reason,
        responses,
        tuple(counted),
    )


def _censoring(
    infusion: date, sct: date | None, therapy: date | None, cutoff: date
) -> tuple[date | None, str | None]:
    """The earliest of SCT and new therapy, if it falls on or before the cut-off."""
    events = [(d, name) for d, name in ((sct, "SCT"), (therapy, "new therapy")) if d is not None]
    for d, name in events:
        if d < infusion:
            raise InvalidInput(
                "sct_date" if name == "SCT" else "new_therapy_date",
                d.isoformat(),
                "before infusion",
            )
    events = [(d, n) for d, n in events if d <= cutoff]
    if not events:
        return None, None
    d, name = min(events)
    return d, f"{name} on study day {(d - infusion).days}"


def _confirmed(i: int, responses: tuple[Response, ...], s: BorSettings) -> bool:
    """A CR/CRi is confirmed by a later CR/CRi at least ``confirm_cr_days`` after it."""
    assert s.confirm_cr_days is not None
    first = responses[i]
    return any(
        r.category in ("CR", "CRi") and (r.on - first.on).days >= s.confirm_cr_days
        for r in responses[i + 1 :]
    )


@dataclass(frozen=True)
class EfficacyRule:
    """Which responses count as efficacy for BOIN12, and by which study day (a setting)."""

    responses: tuple[Category, ...] = ("CR", "CRi")
    by_day: int = 30
    require_mrd_negative: bool = False

    def __post_init__(self) -> None:
        bad = [r for r in self.responses if r not in CATEGORIES or r == "NE"]
        if not self.responses or bad:
            raise InvalidParameter("responses", self.responses, "non-empty; CR, CRi, PR, ...")


def efficacy_outcome(
    assessments: Iterable[Assessment],
    infusion_date: date,
    rule: EfficacyRule | None = None,
    **kwargs: Any,
) -> tuple[bool | None, BestResponse]:
    """The binary efficacy outcome (None when not evaluable or not yet known) and its basis."""
    rule = rule or EfficacyRule()
    best = best_overall_response(
        assessments, infusion_date, settings=BorSettings(by_day=rule.by_day), **kwargs
    )
    if best.category == "NE" or (not best.final and best.category not in rule.responses):
        return None, best
    responded = best.category in rule.responses and (
        not rule.require_mrd_negative or best.mrd_negative is True
    )
    return responded, best
