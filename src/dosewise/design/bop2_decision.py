"""Decisions in a running BOP2 trial: apply the chosen design to the data of one analysis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dosewise.design import bop2_exact as exact
from dosewise.design.bop2_model import Bop2Result
from dosewise.design.reasons import Param, ReasonCode, Why
from dosewise.errors import InvalidOutcomes

Action = Literal["continue", "stop", "promising", "not_promising"]


@dataclass(frozen=True, slots=True)
class Bop2Decision:
    """The decision at one analysis of a running trial, with the numbers behind it.

    ``action`` is "continue" or "stop" before N, and "promising" or "not_promising" at N.
    ``planned_look`` is False for an analysis at a sample size the protocol did not plan; the
    rule is then applied through its formula with the design's (lambda, gamma).
    """

    n: int
    responses: int
    toxicities: int | None
    action: Action
    futility: bool
    toxicity: bool
    pr_futile: float
    pr_toxic: float | None
    cutoff: float
    planned_look: bool
    why: Why

    @property
    def reason(self) -> str:
        """The reason in English (the text stored with each look)."""
        return self.why.text("en")


def bop2_decision(
    result: Bop2Result, n: int, responses: int, toxicities: int | None = None
) -> Bop2Decision:
    """Apply the design's rule to the data of a running trial (n evaluable patients)."""
    design = result.design
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= design.n_max:
        raise InvalidOutcomes("n", n, f"must be a whole number in [1, {design.n_max}]")
    if isinstance(responses, bool) or not isinstance(responses, int) or not 0 <= responses <= n:
        raise InvalidOutcomes("responses", responses, f"must be a whole number in [0, {n}]")
    tox = design.toxicity
    if tox is None and toxicities is not None:
        raise InvalidOutcomes("toxicities", toxicities, "the design does not monitor toxicity")
    if tox is not None:
        if toxicities is None:
            raise InvalidOutcomes("toxicities", None, "required: the design monitors toxicity")
        if isinstance(toxicities, bool) or not isinstance(toxicities, int):
            raise InvalidOutcomes("toxicities", toxicities, f"must be a whole number in [0, {n}]")
        if not 0 <= toxicities <= n:
            raise InvalidOutcomes("toxicities", toxicities, f"must be a whole number in [0, {n}]")

    cutoff = float(1.0 - result.lambda_ * (n / design.n_max) ** result.gamma)
    pr_futile = float(exact.prob_rate_at_most(design.p0, n)[responses])
    pr_toxic = None
    if tox is not None and toxicities is not None:
        pr_toxic = float(exact.prob_rate_above(tox.phi_t0, n)[toxicities])
    planned = next((b for b in result.boundaries if b.n == n), None)
    if planned is not None:
        cutoff = planned.cutoff
        k = planned.stop_if_responses_le
        futile = k is not None and responses <= k
        t = planned.stop_if_toxicities_ge
        toxic = t is not None and toxicities is not None and toxicities >= t
    else:
        futile = pr_futile > cutoff
        toxic = pr_toxic is not None and pr_toxic > cutoff

    final = n == design.n_max
    params: dict[str, Param] = {"n": n, "cutoff": float(cutoff)}
    if futile:
        params.update(p0=design.p0, pr_futile=pr_futile)
    if toxic and tox is not None and pr_toxic is not None:
        params.update(phi_t0=tox.phi_t0, pr_toxic=pr_toxic)
    code = {
        (False, False): ReasonCode.BOP2_CONTINUE,
        (True, False): ReasonCode.BOP2_FUTILITY,
        (False, True): ReasonCode.BOP2_TOXICITY,
        (True, True): ReasonCode.BOP2_FUTILITY_TOXICITY,
    }[(futile, "pr_toxic" in params)]
    stop = futile or toxic
    action: Action = ("not_promising" if stop else "promising") if final else "continue"
    if stop and not final:
        action = "stop"
    return Bop2Decision(
        n=n,
        responses=responses,
        toxicities=toxicities,
        action=action,
        futility=futile,
        toxicity=toxic,
        pr_futile=pr_futile,
        pr_toxic=pr_toxic,
        cutoff=cutoff,
        planned_look=planned is not None,
        why=Why(code, params),
    )
