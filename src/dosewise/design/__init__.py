"""The statistical core: BOIN boundaries, BOIN12 and TITE-BOIN12 decisions, OBD, tables, BOP2.

Pure functions and frozen values; doses are 1-based in every public result.
"""

from dosewise.design.boin import BoinBoundaries, boin_boundaries, boundary_table
from dosewise.design.boin12 import Boin12, Decision, TrialState
from dosewise.design.obd import ObdResult, select_obd
from dosewise.design.outcomes import Cohort, Patient, format_outcomes, parse_outcomes
from dosewise.design.params import Boin12Params
from dosewise.design.rule import Reason, decide_batch
from dosewise.design.tables import RdsTable, boundary_frame, rds_table
from dosewise.design.tite import TiteBoin12, TiteDecision, TitePatient
from dosewise.design.utility import benchmark_utility, desirability

__all__ = [
    "Boin12",
    "Boin12Params",
    "BoinBoundaries",
    "Cohort",
    "Decision",
    "ObdResult",
    "Patient",
    "RdsTable",
    "Reason",
    "TiteBoin12",
    "TiteDecision",
    "TitePatient",
    "TrialState",
    "benchmark_utility",
    "boin_boundaries",
    "boundary_frame",
    "boundary_table",
    "decide_batch",
    "desirability",
    "format_outcomes",
    "parse_outcomes",
    "rds_table",
    "select_obd",
]
