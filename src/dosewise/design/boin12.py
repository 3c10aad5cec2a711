"""BOIN12 for one trial: replay the data, keep eliminations permanent, decide, select the OBD.

``Boin12(params).decide("1NNE 2TBN")`` returns a :class:`Decision` with the next dose (1-based),
whether the trial stops, the admissible doses, every dose's desirability, any tie and the reason
in words. The rule itself is :func:`dosewise.design.rule.decide_batch`, shared with the
simulation engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from dosewise.design.admissibility import futile, too_toxic
from dosewise.design.boin import BoinBoundaries, boin_boundaries
from dosewise.design.obd import ObdResult, select_obd
from dosewise.design.outcomes import Cohort, DoseCounts, parse_outcomes
from dosewise.design.params import Boin12Params
from dosewise.design.reasons import Param, ReasonCode, Why
from dosewise.design.rule import NO_DOSE, BatchDecision, Reason, decide_batch
from dosewise.design.utility import benchmark_utility, desirability, score
from dosewise.errors import InvalidOutcomes

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class TrialState:
    """Per-dose counts and permanent eliminations after replaying every cohort (0-based)."""

    counts: DoseCounts
    points: FloatArray
    tox_eliminated: BoolArray  # propagated upward
    futility_eliminated: BoolArray
    lowest_too_toxic: bool
    current: int | None  # 0-based current dose, None before the first cohort
    total_n: int

    @property
    def eliminated(self) -> BoolArray:
        """Doses eliminated for either reason."""
        return self.tox_eliminated | self.futility_eliminated


@dataclass(frozen=True, slots=True)
class Decision:
    """The design's answer after the data so far (doses 1-based)."""

    next_dose: int | None
    stop: bool
    admissible: tuple[int, ...]
    desirability: dict[int, float]
    tied: tuple[int, ...]
    why: Why
    rule: str
    current_dose: int | None
    select_obd: bool
    candidates: tuple[int, ...] = ()
    obd: ObdResult | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        """The reason in English (the text ``dosewise decide`` prints)."""
        return self.why.text("en")

    @property
    def reason_code(self) -> ReasonCode:
        """The stable code of the reason."""
        return self.why.code

    @property
    def reason_params(self) -> dict[str, Any]:
        """The numbers behind the reason (doses 1-based), as JSON values."""
        return self.why.params_dict()

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """The JSON shape of ``dosewise decide`` (extra keys beyond the contract are allowed).

        ``reason`` is in ``lang``; ``reason_code`` and ``reason_params`` are the same in both.
        """
        out: dict[str, Any] = {
            "next_dose": self.next_dose,
            "stop": self.stop,
            "admissible": list(self.admissible),
            "desirability": {str(k): round(v, 10) for k, v in self.desirability.items()},
            "tied": list(self.tied),
            "reason": self.why.text(lang),
            "reason_code": str(self.why.code),
            "reason_params": self.why.params_dict(),
            "rule": self.rule,
            "current_dose": self.current_dose,
            "candidates": list(self.candidates),
            "select_obd": self.select_obd,
        }
        if self.obd is not None:
            out["obd"] = self.obd.obd
        out.update(self.details)
        return out


class Boin12:
    """A BOIN12 design: frozen parameters plus pure decision functions."""

    def __init__(self, params: Boin12Params | None = None) -> None:
        self.params = params or Boin12Params()
        self.bounds: BoinBoundaries = boin_boundaries(
            self.params.phi_t, self.params.phi1, self.params.phi2
        )
        self.u_b = benchmark_utility(self.params)
        # Elimination verdicts by (n, count): the rules of admissibility.py, memoised per design.
        self._too_toxic: dict[tuple[int, int], bool] = {}
        self._futile: dict[tuple[int, int], bool] = {}

    def is_too_toxic(self, n: int, tox: int) -> bool:
        """The toxicity-elimination rule for one dose's counts (memoised)."""
        key = (n, tox)
        if key not in self._too_toxic:
            self._too_toxic[key] = bool(too_toxic(n, tox, self.params))
        return self._too_toxic[key]

    def is_futile(self, n: int, eff: int) -> bool:
        """The futility-elimination rule for one dose's counts (memoised)."""
        key = (n, eff)
        if key not in self._futile:
            self._futile[key] = bool(futile(n, eff, self.params))
        return self._futile[key]

    # -- data -------------------------------------------------------------------------------
    def cohorts(self, outcomes: str | Sequence[Cohort]) -> tuple[Cohort, ...]:
        """Parse the notation (or accept cohorts), checking doses against the design."""
        if isinstance(outcomes, str):
            return parse_outcomes(outcomes, self.params.n_doses)
        for cohort in outcomes:
            if not 1 <= cohort.dose <= self.params.n_doses:
                raise InvalidOutcomes(
                    "dose", cohort.dose, f"must be from 1 to n_doses={self.params.n_doses}"
                )
        return tuple(outcomes)

    def state(self, outcomes: str | Sequence[Cohort]) -> TrialState:
        """Replay cohorts in order, updating eliminations after each one (§4)."""
        p = self.params
        n_doses = p.n_doses
        joint = [[0, 0, 0, 0] for _ in range(n_doses)]  # m00, m01, m10, m11 per dose
        tox_elim = [False] * n_doses
        fut_elim = [False] * n_doses
        lowest_toxic = False
        current: int | None = None
        for cohort in self.cohorts(outcomes):
            d = cohort.dose - 1
            cell = joint[d]
            for patient in cohort.patients:
                cell[2 * patient.tox + patient.eff] += 1
            n_d = cell[0] + cell[1] + cell[2] + cell[3]
            if self.is_too_toxic(n_d, cell[2] + cell[3]):
                tox_elim[d:] = [True] * (n_doses - d)
                lowest_toxic = lowest_toxic or d == 0
            if self.is_futile(n_d, cell[1] + cell[3]):
                fut_elim[d] = True
            current = d
        table = np.array(joint, dtype=np.int64)
        counts = DoseCounts(table[:, 0], table[:, 1], table[:, 2], table[:, 3])
        points = np.asarray(
            score(counts.m00, counts.m01, counts.m10, counts.m11, p), dtype=np.float64
        )
        return TrialState(
            counts,
            points,
            np.array(tox_elim, dtype=np.bool_),
            np.array(fut_elim, dtype=np.bool_),
            lowest_toxic,
            current,
            int(table.sum()),
        )

    def desirabilities(self, state: TrialState) -> FloatArray:
        """Pr(U > u_b) per dose: the data, the prior if untried, 0 if eliminated (§3.4)."""
        values = np.asarray(desirability(state.counts.n, state.points, self.params))
        return np.where(state.eliminated, 0.0, values)

    # -- decisions --------------------------------------------------------------------------
    def decide(
        self, outcomes: str | Sequence[Cohort], rng: np.random.Generator | None = None
    ) -> Decision:
        """The next dose after the data so far, or a stop, with the reason in words."""
        return self.decide_state(self.state(outcomes), rng)

    def decide_state(self, state: TrialState, rng: np.random.Generator | None = None) -> Decision:
        """:meth:`decide` on a replayed state."""
        p = self.params
        prob = self.desirabilities(state)
        admissible = tuple(int(j) + 1 for j in np.flatnonzero(~state.eliminated))
        desir = {j + 1: float(prob[j]) for j in range(p.n_doses)}
        if state.current is None:
            return Decision(
                next_dose=p.start_dose,
                stop=False,
                admissible=admissible,
                desirability=desir,
                tied=(),
                why=Why(ReasonCode.START, {"dose": p.start_dose}),
                rule="START",
                current_dose=None,
                select_obd=False,
                candidates=(p.start_dose,),
            )
        n = state.counts.n
        cur = state.current
        p_hat = float(state.counts.tox[cur]) / float(n[cur])
        tie_u = None
        if p.tie_break == "random":
            generator = rng if rng is not None else np.random.default_rng(p.seed)
            tie_u = np.array([generator.random()])
        batch = decide_batch(
            n=n[None, :],
            p_hat=np.array([p_hat]),
            desirability=prob[None, :],
            eliminated=state.eliminated[None, :],
            tox_eliminated_lowest=np.array([state.lowest_too_toxic]),
            current=np.array([cur]),
            total_n=np.array([state.total_n]),
            params=p,
            lambda_e=self.bounds.lambda_e,
            lambda_d=self.bounds.lambda_d,
            tie_u=tie_u,
        )
        return self.decision_from_batch(state, prob, p_hat, batch, admissible, desir)

    def decision_from_batch(
        self,
        state: TrialState,
        prob: FloatArray,
        p_hat: float,
        batch: BatchDecision,
        admissible: tuple[int, ...],
        desir: dict[int, float],
        ess_tox: float | None = None,
    ) -> Decision:
        """Turn a one-trial batch result into a :class:`Decision` (shared with TITE)."""
        reason = Reason(int(batch.reason[0]))
        next_index = int(batch.next_dose[0])
        candidates = tuple(int(j) + 1 for j in np.flatnonzero(batch.candidates[0]))
        tied_doses = tuple(int(j) + 1 for j in np.flatnonzero(batch.tied[0]))
        tied = tied_doses if len(tied_doses) > 1 and reason is not Reason.DEESCALATE else ()
        obd = self.select_obd_from_state(state) if reason.selects_obd else None
        why = self._why(state, prob, p_hat, batch, reason, candidates, tied, ess_tox)
        next_dose = None if reason.stops or next_index == NO_DOSE else next_index + 1
        cur = state.current if state.current is not None else 0
        return Decision(
            next_dose=next_dose,
            stop=reason.stops,
            admissible=admissible,
            desirability=desir,
            tied=tied,
            why=why,
            rule=reason.name,
            current_dose=cur + 1,
            select_obd=reason.selects_obd,
            candidates=candidates,
            obd=obd,
            details={
                "p_hat": round(p_hat, 10),
                "lambda_e": round(self.bounds.lambda_e, 10),
                "lambda_d": round(self.bounds.lambda_d, 10),
                "u_b": round(self.u_b, 10),
                "n_total": state.total_n,
                "tie_break": self.params.tie_break,
                "rule_dose": None if next_index == NO_DOSE else next_index + 1,
            },
        )

    def _why(
        self,
        state: TrialState,
        prob: FloatArray,
        p_hat: float,
        batch: BatchDecision,
        reason: Reason,
        candidates: tuple[int, ...],
        tied: tuple[int, ...],
        ess_tox: float | None = None,
    ) -> Why:
        """The reason as data: its code and the numbers behind it (doses 1-based)."""
        p, b = self.params, self.bounds
        code = ReasonCode(reason.name.lower())
        cur = state.current if state.current is not None else 0
        n_cur = int(state.counts.n[cur])
        # The DLT-rate clause (count based, or ESS based for TITE) and the boundary it meets.
        rate: dict[str, Param] = {
            "current": cur + 1,
            "dlt": int(state.counts.tox[cur]),
            "n": n_cur,
            "p_hat": float(p_hat),
            "lambda_d": float(b.lambda_d),
        }
        if ess_tox is not None:
            rate["ess"] = float(ess_tox)
        dose = int(batch.next_dose[0]) + 1
        params: dict[str, Param]
        if reason in (Reason.STOP_LOWEST_TOXIC, Reason.STOP_ALL_ELIMINATED):
            params = {}
        elif reason is Reason.STOP_NO_LOWER_ELIMINATED:
            params = rate
        elif reason is Reason.STOP_CHOSEN_ELIMINATED:
            params = {"dose": int(batch.chosen[0]) + 1}
        elif reason is Reason.END_EARLYSTOP:
            params = {"current": cur + 1, "n": n_cur, "n_earlystop": p.n_earlystop}
        elif reason is Reason.END_MAX_N:
            params = {"total_n": state.total_n, "max_n": p.max_n, "dose": dose}
        elif reason in (Reason.DEESCALATE, Reason.STAY_NO_LOWER):
            params = {**rate, "dose": dose}
        elif reason is Reason.EXPLORE:
            params = {**rate, "dose": dose, "n2": p.n2}
        else:
            move = "stay" if dose == cur + 1 else ("escalate" if dose > cur + 1 else "deescalate")
            params = {
                **rate,
                "lambda_e": float(b.lambda_e),
                "dose": dose,
                "move": move,
                "zone": "escalation" if p_hat <= b.lambda_e else "stay",
                "n_star": p.n_star,
                "candidates": candidates,
                "values": tuple(float(prob[j - 1]) for j in candidates),
                "u_b": float(self.u_b),
                "tied": tied,
                "tie_break": p.tie_break,
            }
        return Why(code, params)

    # -- OBD --------------------------------------------------------------------------------
    def select_obd_from_state(self, state: TrialState) -> ObdResult:
        """OBD selection (§7) on a replayed state."""
        c = state.counts
        return select_obd(c.n, c.tox, c.eff, state.points, state.eliminated, self.params)

    def select_obd(
        self, outcomes: str | Sequence[Cohort], rng: np.random.Generator | None = None
    ) -> ObdResult:
        """OBD selection (§7) on the final data of a trial, in agreement with :meth:`decide`.

        When the design's decision on these data is a stop without an OBD (§4 a-d: the lowest
        dose too toxic, every dose eliminated, de-escalation with no eligible lower dose, the
        chosen dose eliminated), there is no OBD and the reason is that decision's reason.
        """
        state = self.state(outcomes)
        result = self.select_obd_from_state(state)
        decision = self.decide_state(state, rng)
        if decision.stop and not decision.select_obd:
            return replace(result, obd=None, why=decision.why)
        return result
