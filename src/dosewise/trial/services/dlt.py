"""Adjudicate a participant's dose-limiting toxicity: the protocol's rule, then the investigator.

The service applies the protocol's versioned DLT definition to the recorded events
(``clinical.classify_dlts``, study day 0 = the infusion) as of today and records the evaluation
with the adjudication. The investigator accepts the rule's result or departs from it with a
written rationale. The lifecycle (``dosewise.trial.state.adjudication``):

- a DLT may be adjudicated at any time;
- while the DLT window is open, "no DLT" is only *provisional* ("no DLT so far"): the
  participant stays pending; asking for a final one is refused (409 ``dlt_window_open``);
- *not evaluable* needs one of the protocol's not-evaluable reasons
  (``evaluation.dlt_adjudication.not_evaluable_reasons``) unless the rule itself says so;
- a final adjudication reopened by a new possible DLT needs a new, e-signed adjudication.

A later adjudication supersedes the earlier one (with a rationale). Only the final
adjudication feeds the design (BOIN12's toxicity outcome).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from dosewise.clinical import DltAssessment, classify_dlts
from dosewise.errors import InvalidInput
from dosewise.protocol import Protocol
from dosewise.store.tables import DltAdjudication, Participant
from dosewise.trial import signed
from dosewise.trial.refusals import refusal
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
from dosewise.trial.services.adverse_events import events_of
from dosewise.trial.state import (
    Adjudication,
    adjudication_rules,
    clinical_events,
    dlt_definition,
    event_versions,
    reopening,
)
from dosewise.trial.uow import UnitOfWork

__all__ = ["DltWindowOpen", "adjudicate_dlt", "dlt_definition", "evaluate"]


class DltWindowOpen(WrongState):
    """A final "no DLT" asked for while the DLT window is open (it can only be provisional)."""

    code = "dlt_window_open"


def evaluate(uow: UnitOfWork, p: Participant, protocol: Protocol) -> DltAssessment:
    """The protocol's DLT rule applied to the participant's events as of today."""
    infusion = infusion_of(uow.session, p.id)
    died = death_date(p)
    left = None if died is not None else p.off_study_on
    definition = dlt_definition(protocol)
    events = clinical_events(events_of(uow, p.id))
    if infusion is None:
        if p.off_study_on is None:
            raise refusal(WrongState, "study_id", p.study_id, "not_infused_adjudicate")
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


def _not_evaluable_reason(protocol: Protocol, code: str | None, needed: bool) -> str | None:
    """Check the not-evaluable reason against the protocol's categories."""
    rules = adjudication_rules(protocol)
    if code is None:
        if needed and rules is not None:
            codes = [c.code for c in rules.not_evaluable_reasons]
            raise refusal(
                InvalidInput, "not_evaluable_reason", None, "not_evaluable_required", choices=codes
            )
        return None
    if rules is not None and rules.reason(code) is None:
        codes = [c.code for c in rules.not_evaluable_reasons]
        raise refusal(InvalidInput, "not_evaluable_reason", code, "one_of", choices=codes)
    return code


def _window_open(assessment: DltAssessment, p: Participant, on: date) -> bool:
    """The DLT window is still open and the participant is still followed."""
    return on < assessment.window_end and p.off_study_on is None


def adjudicate_dlt(
    uow: UnitOfWork,
    study_id: str,
    *,
    is_dlt: bool | None = None,
    evaluable: bool | None = None,
    rationale: str | None = None,
    signing: Signing | None = None,
    final: bool | None = None,
    not_evaluable_reason: str | None = None,
) -> DltAdjudication:
    """Record the participant's DLT status: the rule's result unless the investigator departs.

    ``final=None`` lets the service decide: a "no DLT" while the window is open is recorded as
    provisional; ``final=True`` then is refused (409 ``dlt_window_open``), ``final=False``
    records a provisional "no DLT so far" explicitly.
    """
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
            raise refusal(InvalidInput, "evaluable", False, "dlt_is_evaluable")
        decided_evaluable = True
    open_window = _window_open(assessment, p, today(uow))
    provisional = False
    if not decided_dlt and decided_evaluable is not False and open_window:
        if final is True:
            raise refusal(
                DltWindowOpen,
                "final",
                True,
                "dlt_window_open",
                study_id=study_id,
                date=assessment.window_end.isoformat(),
            )
        if is_dlt is False or final is False:
            provisional, decided_evaluable = True, True
    elif final is False:
        raise refusal(InvalidInput, "final", False, "provisional_only_in_window")
    if decided_evaluable is None:
        raise refusal(
            WrongState,
            "study_id",
            study_id,
            "dlt_pending",
            why=assessment.reason,
            date=assessment.window_end.isoformat(),
        )
    why = (rationale or "").strip() or None
    departs = not provisional and (decided_dlt != rule_dlt or decided_evaluable != rule_evaluable)
    if departs and why is None:
        raise refusal(
            InvalidInput,
            "rationale",
            None,
            "rationale_to_depart",
            status=assessment.status,
            why=assessment.reason,
        )
    reason_code = _not_evaluable_reason(
        protocol,
        not_evaluable_reason,
        needed=decided_evaluable is False and rule_evaluable is not False,
    )
    if reason_code is not None and decided_evaluable is not False:
        raise refusal(
            InvalidInput, "not_evaluable_reason", reason_code, "reason_only_not_evaluable"
        )
    rows = events_of(uow, p.id)
    previous = uow.session.scalar(
        select(DltAdjudication).where(
            DltAdjudication.participant_id == p.id, DltAdjudication.status == "final"
        )
    )
    if previous is not None and provisional:
        raise refusal(WrongState, "study_id", study_id, "final_exists")
    reopened = None
    if previous is not None:
        infusion = infusion_of(uow.session, p.id)
        if infusion is not None:
            died = death_date(p)
            reopened = reopening(
                Adjudication.of(previous),
                rows,
                infusion.infused_on,
                protocol,
                today(uow),
                death_date=died,
                off_study_date=p.off_study_on,
            )
    if previous is not None and why is None:
        raise refusal(WrongState, "study_id", study_id, "already_adjudicated")
    rules = adjudication_rules(protocol)
    if reopened is not None and signing is None and (rules is None or rules.readjudication_signed):
        raise refusal(InvalidInput, "password", None, "readjudication_signature")
    uow.act(
        "dlt.adjudicate_provisional" if provisional else "dlt.adjudicate",
        site_id=p.site_id,
        reason=why if previous is not None else None,
    )
    if previous is not None:
        previous.status = "superseded"
    for old in uow.session.scalars(
        select(DltAdjudication).where(
            DltAdjudication.participant_id == p.id, DltAdjudication.status == "provisional"
        )
    ):
        old.status = "superseded"
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
                    "dlt_event_ids": [rows[i].id for i in dlt_events],
                    "event_versions": event_versions(rows),
                    "not_evaluable_reason": reason_code,
                    "reopened": None if reopened is None else reopened.to_dict(),
                }
            ),
            rationale=why,
            status="provisional" if provisional else "final",
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
