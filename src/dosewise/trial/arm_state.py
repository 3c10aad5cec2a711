"""Kept for callers of the former module: the arm state lives in :mod:`dosewise.trial.state`."""

from dosewise.trial.state.arm import (
    CLI_OPTIONS,
    ArmState,
    DoseRow,
    NextStep,
    arm_state,
    decide_args,
    decide_command,
    outcome_notation,
    phase2_counts,
    phase2_population,
    seeded,
)

__all__ = [
    "CLI_OPTIONS",
    "ArmState",
    "DoseRow",
    "NextStep",
    "arm_state",
    "decide_args",
    "decide_command",
    "outcome_notation",
    "phase2_counts",
    "phase2_population",
    "seeded",
]
