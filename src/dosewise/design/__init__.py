"""The statistical core: BOIN boundaries, BOIN12 and TITE-BOIN12 decisions, OBD, tables, BOP2.

Pure functions and frozen values; doses are 1-based in every public result.

Names load on first use (PEP 562), so ``from dosewise.design.params import Boin12Params`` does
not import SciPy's statistics, pandas or Numba for a command that needs none of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dosewise.design.boin import BoinBoundaries, boin_boundaries, boundary_table
    from dosewise.design.boin12 import Boin12, Decision, TrialState
    from dosewise.design.obd import ObdResult, select_obd
    from dosewise.design.outcomes import Cohort, Patient, format_outcomes, parse_outcomes
    from dosewise.design.params import Boin12Params
    from dosewise.design.rule import Reason, decide_batch
    from dosewise.design.tables import RdsTable, boundary_frame, rds_table
    from dosewise.design.tite import TiteBoin12, TiteDecision, TitePatient
    from dosewise.design.utility import benchmark_utility, desirability

_HOME = {
    "BoinBoundaries": "dosewise.design.boin",
    "boin_boundaries": "dosewise.design.boin",
    "boundary_table": "dosewise.design.boin",
    "Boin12": "dosewise.design.boin12",
    "Decision": "dosewise.design.boin12",
    "TrialState": "dosewise.design.boin12",
    "ObdResult": "dosewise.design.obd",
    "select_obd": "dosewise.design.obd",
    "Cohort": "dosewise.design.outcomes",
    "Patient": "dosewise.design.outcomes",
    "format_outcomes": "dosewise.design.outcomes",
    "parse_outcomes": "dosewise.design.outcomes",
    "Boin12Params": "dosewise.design.params",
    "Reason": "dosewise.design.rule",
    "decide_batch": "dosewise.design.rule",
    "RdsTable": "dosewise.design.tables",
    "boundary_frame": "dosewise.design.tables",
    "rds_table": "dosewise.design.tables",
    "TiteBoin12": "dosewise.design.tite",
    "TiteDecision": "dosewise.design.tite",
    "TitePatient": "dosewise.design.tite",
    "benchmark_utility": "dosewise.design.utility",
    "desirability": "dosewise.design.utility",
}

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


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first access."""
    try:
        module = _HOME[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
