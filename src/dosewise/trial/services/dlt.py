"""Adjudicate a participant's dose-limiting toxicity: the protocol's rule, then the investigator.

The service applies the protocol's versioned DLT definition to the recorded events
(``clinical.classify_dlts``, study day 0 = the infusion) as of today and records the evaluation
with the adjudication. The investigator accepts the rule's result or departs from it with a
written rationale; a participant still inside the DLT window with no DLT cannot be adjudicated
"no DLT" yet. A later adjudication supersedes the earlier one (with a rationale). Only the final
adjudication feeds the design (BOIN12's toxicity outcome).
"""

from __future__ import annotations

from sqlalchemy import select

from dosewise.clinical import DltAssessment, DltDefinition, classify_dlts, definition_from_mapping
from dosewise.errors import InvalidInput
from dosewise.protocol import Protocol
from dosewise.store.tables import DltAdjudication, Participant
from dosewise.trial import signed
from dosewise.trial.audit import canonical_json, sha256_hex
from dosewise.trial.services._common import (
    Signing,
    WrongState,
    arm_protocol,
    as_json,
    death_date,
    infusion_of,
    participant,
    require_enrollment,
    sign,
    today,
    user_id,
)
from dosewise.trial.services.adverse_events import clinical_events, events_of
from dosewise.trial.uow import UnitOfWork

_DEFINITIONS: dict[str, DltDefinition] = {}


def dlt_definition(protocol: Protocol) -> DltDefinition:
    """The protocol's DLT block as the classifier's definition (built once per version)."""
    block = protocol.dlt.model_dump(mode="json")
    key = sha256_hex(canonical_json(block))
    if key not in _DEFINITIONS:
        _DEFINITIONS[key] = definition_from_mapping(block, "dlt")
    return _DEFINITIONS[key]


def evaluate(uow: UnitOfWork, p: Participant, protocol: Protocol) -> DltAssessment:
    """The protocol's DLT rule applied to the participant's events as of today."""
    infusion = infusion_of(uow.session, p.id)
    died = death_date(p)
    left = None if died is not None else p.off_study_on
    definition = dlt_definition(protocol)
    events = clinical_events(events_of(uow, p.id))
    if infusion is None:
        if p.off_study_on is None:
            raise WrongState("study_id", p.study_id, "is not infused yet: nothing to adjudicate")
        return classify_dlts(
            events, definition, p.off_study_on, assessed_on=p.off_study_on, infused=False
        )
    return classify_dlts(
        events,
        definition,
        infusion.infused_on,
        assessed_on=max(today(uow), infusion.infused_on),
        death_date=died,
        off_study_date=left,
    )


def adjudicate_dlt(
    uow: UnitOfWork,
    study_id: str,
    *,
    is_dlt: bool | None = None,
    evaluable: bool | None = None,
    rationale: str | None = None,
    signing: Signing | None = None,
) -> DltAdjudication:
    """Record the participant's DLT status: the rule's result unless the investigator departs."""
    p = participant(uow, study_id, "dlt.adjudicate")
    enrollment = require_enrollment(uow.session, p)
    arm = uow.claim_arm(enrollment.arm_id)
    protocol = arm_protocol(uow.session, arm)
    assessment = evaluate(uow, p, protocol)
    rule_dlt, rule_evaluable = assessment.has_dlt, assessment.evaluable
    decided_dlt = rule_dlt if is_dlt is None else is_dlt
    decided_evaluable = rule_evaluable if evaluable is None else evaluable
    if decided_dlt:
        if decided_evaluable is False:
            raise InvalidInput("evaluable", False, "a participant with a DLT is DLT-evaluable")
        decided_evaluable = True
    if decided_evaluable is None:
        raise WrongState(
            "study_id",
            study_id,
            f"the DLT assessment is still pending ({assessment.reason}; window ends "
            f"{assessment.window_end.isoformat()}): adjudicate when it is known",
        )
    why = (rationale or "").strip() or None
    departs = decided_dlt != rule_dlt or decided_evaluable != rule_evaluable
    if departs and why is None:
        raise InvalidInput(
            "rationale",
            None,
            f"required to depart from the protocol's rule, which gives {assessment.status} "
            f"({assessment.reason})",
        )
    previous = uow.session.scalar(
        select(DltAdjudication).where(
            DltAdjudication.participant_id == p.id, DltAdjudication.status == "final"
        )
    )
    if previous is not None and why is None:
        raise WrongState(
            "study_id",
            study_id,
            "is already adjudicated: adjudicate again only with a rationale saying what changed",
        )
    uow.act("dlt.adjudicate", site_id=p.site_id, reason=why if previous is not None else None)
    if previous is not None:
        previous.status = "superseded"
    dlt_events = [e.index for e in assessment.events if e.status == "dlt"]
    row = uow.add(
        DltAdjudication(
            participant_id=p.id,
            adverse_event_id=None,
            is_dlt=bool(decided_dlt),
            evaluable=bool(decided_evaluable),
            rule_id=assessment.definition_version,
            evaluation=as_json(
                {
                    **assessment.to_dict(),
                    "rule_status": assessment.status,
                    "departs_from_rule": departs,
                    "dlt_event_ids": [events_of(uow, p.id)[i].id for i in dlt_events],
                }
            ),
            rationale=why,
            status="final",
            adjudicated_at=uow.now(),
            adjudicated_by=user_id(uow),
        )
    )
    uow.flush()
    if signing is not None:
        content = signed.dlt_content(row, study_id)
        row.signature_id = sign(uow, signing, "dlt_adjudications", row.id, content).id
    uow.commit()
    return row
