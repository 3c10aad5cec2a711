"""The phase 2 (BOP2) part of the protocol: its settings, an arm's resolved plan, and its checks.

Every reader of the phase 2 design — the trial service that signs it at the phase 1 closure and
runs the interim looks, and the design report — builds it here, with :meth:`Bop2Plan.design`, so
they cannot disagree. The file gives the rates, the type I error, the interim looks and the
toxicity monitoring once under ``design.phase2``; an arm may override any of them under
``design.per_arm.<arm>.phase2``.

The BOP2 population is every participant infused at the RP2D, in phases 1 and 2 alike, so an
arm's N is (its phase 1 participants at the RP2D) + (its phase 2 expansion). ``interim_looks``
counts expansion participants: look k is at (phase 1 participants at the RP2D) +
``interim_looks[k]`` evaluable participants, and the final analysis is always at N.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, fields, replace
from typing import Any

from dosewise.design.bop2_model import Bop2Design, ToxicityMonitoring
from dosewise.errors import DosewiseError, InvalidParameter
from dosewise.protocol.base import Fact, Frozen


class Bop2Settings(Frozen):
    """The BOP2 settings every arm shares (``design.phase2``).

    ``phi_t0`` (the DLT rate deemed unacceptable) defaults to the arm's BOIN12 φT; ``phi_t1``
    (the DLT rate of a good treatment) is required when ``monitor_toxicity`` is true.
    """

    p0: Fact[float]
    p1: Fact[float]
    alpha: Fact[float]
    interim_looks: Fact[tuple[int, ...]]
    monitor_toxicity: Fact[bool]
    phi_t0: Fact[float] | None = None
    phi_t1: Fact[float] | None = None


class Bop2Override(Frozen):
    """One arm's departures from the shared BOP2 settings (a missing key keeps the shared one)."""

    p0: Fact[float] | None = None
    p1: Fact[float] | None = None
    alpha: Fact[float] | None = None
    interim_looks: Fact[tuple[int, ...]] | None = None
    monitor_toxicity: Fact[bool] | None = None
    phi_t0: Fact[float] | None = None
    phi_t1: Fact[float] | None = None


#: The names a phase 2 block may set, in file order.
BOP2_FIELDS: tuple[str, ...] = tuple(Bop2Settings.model_fields)


@dataclass(frozen=True, slots=True)
class Bop2Plan:
    """One arm's BOP2 settings, resolved, and the one rule that turns them into its design.

    ``interim_looks`` counts expansion participants (see the module doc); ``phi_t0`` is already
    the arm's φT when the file leaves it out.
    """

    p0: float
    p1: float
    alpha: float
    interim_looks: tuple[int, ...]
    expansion: int
    monitor_toxicity: bool
    phi_t0: float
    phi_t1: float | None

    def with_(self, **changes: Any) -> Bop2Plan:
        """The plan with some settings replaced (``None`` keeps the protocol's value)."""
        known = {f.name for f in fields(self)}
        for name in changes:
            if name not in known:
                raise InvalidParameter(name, changes[name], "not a phase 2 (BOP2) setting")
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def looks(self, n_phase1_at_rp2d: int) -> tuple[int, ...]:
        """The cumulative evaluable counts of every analysis, interim looks then N."""
        n_max = n_phase1_at_rp2d + self.expansion
        interim = (n_phase1_at_rp2d + k for k in self.interim_looks if k < self.expansion)
        return (*interim, n_max)

    def toxicity(self) -> ToxicityMonitoring | None:
        """Joint DLT monitoring as the design core takes it, or None when it is off."""
        if not self.monitor_toxicity:
            return None
        if self.phi_t1 is None:
            raise InvalidParameter("phi_t1", None, "required when monitor_toxicity is true")
        return ToxicityMonitoring(phi_t0=self.phi_t0, phi_t1=self.phi_t1)

    def design(self, n_phase1_at_rp2d: int) -> Bop2Design:
        """The arm's BOP2 design once ``n_phase1_at_rp2d`` phase 1 participants had the RP2D."""
        if isinstance(n_phase1_at_rp2d, bool) or n_phase1_at_rp2d < 0:
            raise InvalidParameter("n_phase1_at_rp2d", n_phase1_at_rp2d, "must be >= 0")
        looks = self.looks(n_phase1_at_rp2d)
        return Bop2Design(
            n_max=looks[-1],
            looks=looks,
            p0=self.p0,
            p1=self.p1,
            alpha=self.alpha,
            toxicity=self.toxicity(),
        )


Problem = tuple[str, Any, str]


@dataclass(frozen=True, slots=True)
class ArmPhase2:
    """What the checks need to know about one arm (or about the shared settings: ``arm=None``)."""

    arm: str | None
    shared: Bop2Settings
    own: Bop2Override | None
    expansion: int
    expansion_path: str  # where the arm's expansion is written, relative to ``design``
    phi_t: float
    n_phase1_at_rp2d: int

    def fact(self, name: str) -> Fact[Any] | None:
        """The arm's own value of ``name`` if it sets one, else the shared one."""
        own = None if self.own is None else getattr(self.own, name)
        found: Fact[Any] | None = own if own is not None else getattr(self.shared, name)
        return found

    def value(self, name: str) -> Any:
        """The value of :meth:`fact`, or None when neither the arm nor the shared block sets it."""
        fact = self.fact(name)
        return None if fact is None else fact.value

    def path(self, name: str) -> str:
        """Where ``name`` is written for this arm, relative to ``design``."""
        if self.arm is not None and self.own is not None and getattr(self.own, name) is not None:
            return f"per_arm.{self.arm}.phase2.{name}"
        return f"phase2.{name}"

    def plan(self) -> Bop2Plan:
        """The resolved settings (call only once :func:`phase2_problems` found nothing)."""
        value = self.value
        phi_t0 = value("phi_t0")
        return Bop2Plan(
            p0=float(value("p0")),
            p1=float(value("p1")),
            alpha=float(value("alpha")),
            interim_looks=tuple(value("interim_looks")),
            expansion=self.expansion,
            monitor_toxicity=bool(value("monitor_toxicity")),
            phi_t0=self.phi_t if phi_t0 is None else float(phi_t0),
            phi_t1=value("phi_t1"),
        )


def _unit(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and 0.0 < x < 1.0


def phase2_problems(arm: ArmPhase2) -> list[Problem]:
    """Every rule one arm's phase 2 settings break, each at the path to fix (under ``design``).

    0 < p0 < p1 < 1; alpha in (0, 1); interim looks whole, >= 1, strictly increasing and at
    most the arm's expansion; with toxicity monitoring phi_t1 given and 0 < phi_t1 < phi_t0 < 1.
    When each value is fine the whole design is built once, so the design core's own limits
    (N at most 100 with toxicity monitoring ...) are reported too.
    """
    out: list[Problem] = []
    of_arm = "" if arm.arm is None else f" of arm {arm.arm}"
    value = arm.value
    for name in ("p0", "p1", "alpha"):
        if not _unit(value(name)):
            out.append((arm.path(name), value(name), "must be a number in (0, 1)"))
    p0, p1 = value("p0"), value("p1")
    if _unit(p0) and _unit(p1) and p1 <= p0:
        out.append((arm.path("p1"), p1, f"must be greater than p0{of_arm} ({p0:g})"))
    looks = tuple(value("interim_looks") or ())
    where = arm.path("interim_looks")
    if any(k < 1 for k in looks):
        out.append((where, looks, "must be whole numbers >= 1"))
    elif any(b <= a for a, b in itertools.pairwise(looks)):
        out.append((where, looks, "must be strictly increasing"))
    elif arm.expansion > 0 and looks and looks[-1] > arm.expansion:
        out.append(
            (
                where,
                looks,
                f"must be at most the phase 2 expansion{of_arm} ({arm.expansion}, "
                f"design.{arm.expansion_path}): they count expansion participants",
            )
        )
    if value("monitor_toxicity"):
        out.extend(_toxicity_problems(arm, of_arm))
        if arm.fact("phi_t0") is None and not _unit(arm.phi_t):
            return out  # the BOIN12 checks report phi_t itself
    if out or arm.expansion <= 0:
        return out
    try:
        arm.plan().design(arm.n_phase1_at_rp2d)
    except DosewiseError as exc:
        n_max = arm.n_phase1_at_rp2d + arm.expansion
        design_note = f"(the BOP2 design{of_arm}, N = {n_max})"
        if exc.field == "n_max":  # N = the phase 1 patients at the RP2D + the expansion
            out.append((arm.expansion_path, arm.expansion, f"N {exc.rule} {design_note}"))
        else:
            path = arm.path(exc.field) if exc.field in BOP2_FIELDS else "phase2"
            out.append((path, exc.value, f"{exc.rule} {design_note}"))
    return out


def _toxicity_problems(arm: ArmPhase2, of_arm: str) -> list[Problem]:
    out: list[Problem] = []
    phi_t1 = arm.fact("phi_t1")
    own_t0 = arm.fact("phi_t0")
    phi_t0 = arm.phi_t if own_t0 is None else own_t0.value
    if own_t0 is not None and not _unit(phi_t0):
        out.append((arm.path("phi_t0"), phi_t0, "must be a number in (0, 1)"))
    if phi_t1 is None:
        out.append((arm.path("phi_t1"), None, "required when monitor_toxicity is true"))
    elif not _unit(phi_t1.value):
        out.append((arm.path("phi_t1"), phi_t1.value, "must be a number in (0, 1)"))
    elif _unit(phi_t0) and phi_t1.value >= phi_t0:
        source = "" if own_t0 is not None else ", the BOIN12 phi_t"
        out.append(
            (
                arm.path("phi_t1"),
                phi_t1.value,
                f"must be below phi_t0{of_arm} ({phi_t0:g}{source}): an acceptable DLT rate is "
                "below the unacceptable one",
            )
        )
    return out
