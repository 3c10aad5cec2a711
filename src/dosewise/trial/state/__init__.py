"""The read model: the ONLY code that derives clinical facts from the stored records.

Services, the API, the web pages, the reports and the exports read it; nothing else counts
clinical rows. Everything is computed from the records and the protocol the arms run under,
once per unit of work, at any day (a data cut-off passes the session of the cut records).

- :mod:`.status` — a participant's status: one transition table, used by the services to move a
  participant and by :func:`trial_state` to re-derive it at a cut-off;
- :mod:`.dose` — the dose a participant is analysed at (planned, received, outside every window);
- :mod:`.adjudication` — the DLT adjudication lifecycle: provisional, final, reopened;
- :mod:`.participant` — per participant: DLT status and why, efficacy by the protocol's
  endpoint, best overall response, worst AE grade per category;
- :mod:`.arm` — per arm: the design's data and decision, and per dose treated, evaluable, DLTs,
  responders and worst AE grades;
- :mod:`.cache` — each arm's state kept until a write changes the records (keyed by the
  database-maintained records' version, ``data_version``), shared by every reader of a
  read-only unit of work;
- :mod:`.trial` — all arms and participants at once (:class:`TrialState`);
- :mod:`.schedule` — the protocol's visit schedule with its windows, and each participant's
  visits due, overdue or done.
"""

from dosewise.trial.state.adjudication import (
    Adjudication,
    Reopening,
    adjudication_rules,
    clinical_events,
    dlt_definition,
    event_versions,
    reopening,
)
from dosewise.trial.state.arm import (
    ArmState,
    DoseRow,
    NextStep,
    arm_state,
    category_tally,
    compute_arm_state,
    decide_args,
    decide_command,
    decision_seed,
    dose_tally,
    outcome_notation,
    phase2_counts,
    phase2_population,
    seeded,
)
from dosewise.trial.state.dose import DoseReceived, dose_received, level_for_cells
from dosewise.trial.state.participant import (
    ANY_AE,
    DltStatus,
    PatientOutcome,
    bor_settings,
    clinical_assessments,
    dlt_status,
    efficacy_rule,
    participant_outcome,
    patient_outcomes,
    worst_grades,
)
from dosewise.trial.state.schedule import (
    VisitRecords,
    participant_visits,
    recorded_visits,
    visit_schedule,
)
from dosewise.trial.state.sources import arm_protocol, death_date, protocol_of
from dosewise.trial.state.status import (
    TRANSITIONS,
    ParticipantStatus,
    Step,
    next_status,
    screening_event,
    screening_result,
    status_from_steps,
)
from dosewise.trial.state.trial import (
    TrialState,
    participant_statuses,
    participant_steps,
    trial_state,
)

__all__ = [
    "ANY_AE",
    "TRANSITIONS",
    "Adjudication",
    "ArmState",
    "DltStatus",
    "DoseReceived",
    "DoseRow",
    "NextStep",
    "ParticipantStatus",
    "PatientOutcome",
    "Reopening",
    "Step",
    "TrialState",
    "VisitRecords",
    "adjudication_rules",
    "arm_protocol",
    "arm_state",
    "bor_settings",
    "category_tally",
    "clinical_assessments",
    "clinical_events",
    "compute_arm_state",
    "death_date",
    "decide_args",
    "decide_command",
    "decision_seed",
    "dlt_definition",
    "dlt_status",
    "dose_received",
    "dose_tally",
    "efficacy_rule",
    "event_versions",
    "level_for_cells",
    "next_status",
    "outcome_notation",
    "participant_outcome",
    "participant_statuses",
    "participant_steps",
    "participant_visits",
    "patient_outcomes",
    "phase2_counts",
    "phase2_population",
    "protocol_of",
    "recorded_visits",
    "reopening",
    "screening_event",
    "screening_result",
    "seeded",
    "status_from_steps",
    "trial_state",
    "visit_schedule",
    "worst_grades",
]
