"""Record response assessments and derive the best overall response (BOR).

An assessment is a marrow/blood evaluation (with MRD and extramedullary status) or a category
the investigator already decided; ``clinical.classify`` gives its response. Recording one also
re-derives the participant's BOR (``clinical.best_overall_response``: day 0 to the end of the
protocol's BOR window ``windows.bor``, censored at SCT or new therapy, death without response =
SD/NR, with the read model's settings :func:`dosewise.trial.state.bor_settings`) in the same
transaction; the BOR can be re-derived on its own too (e.g. once the window has closed, so it
becomes final).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select

from dosewise.clinical import best_overall_response, classify
from dosewise.clinical.response_io import assessment_from_mapping
from dosewise.errors import InvalidInput
from dosewise.store.tables import Arm, BestResponse, Participant, ResponseAssessment
from dosewise.trial.refusals import refusal
from dosewise.trial.services._common import (
    WrongState,
    arm_protocol,
    as_json,
    death_date,
    infusion_of,
    participant,
    require_enrollment,
    study_day,
    today,
    user_id,
)
from dosewise.trial.services.timeline import check_date
from dosewise.trial.state import bor_settings, clinical_assessments, efficacy_rule
from dosewise.trial.uow import UnitOfWork


def record_response(
    uow: UnitOfWork,
    study_id: str,
    *,
    assessed_on: date,
    marrow: Mapping[str, Any] | None = None,
    category: str | None = None,
    extramedullary: str = "none",
    mrd: Mapping[str, Any] | None = None,
    timepoint: str | None = None,
    notes: str | None = None,
) -> ResponseAssessment:
    """Record one response assessment (after infusion) and re-derive the BOR."""
    p = participant(uow, study_id, "participant.write")
    enrollment = require_enrollment(uow.session, p)
    infusion = infusion_of(uow.session, p.id)
    if infusion is None:
        raise refusal(WrongState, "study_id", study_id, "not_infused_response")
    check_date(uow, p, "assessed_on", assessed_on, after=("infusion",))
    died = death_date(p)
    if died is not None and assessed_on > died:
        raise refusal(
            InvalidInput, "assessed_on", assessed_on.isoformat(), "after_death", date=str(died)
        )
    if marrow is None and category is None and extramedullary == "none":
        raise refusal(InvalidInput, "marrow", None, "marrow_or_category")
    components: dict[str, Any] = {"extramedullary": extramedullary}
    if marrow is not None:
        components["marrow"] = dict(marrow)
    if category is not None:
        components["category"] = category
    if mrd is not None:
        components["mrd"] = dict(mrd)
    components = as_json(components)
    response = classify(
        assessment_from_mapping({**components, "date": assessed_on.isoformat()}, "assessment")
    )
    uow.claim_arm(enrollment.arm_id)
    uow.act("response.record", site_id=p.site_id)
    row = uow.add(
        ResponseAssessment(
            participant_id=p.id,
            assessed_on=assessed_on,
            study_day=study_day(assessed_on, infusion.infused_on),
            timepoint=timepoint,
            response=response.category,
            mrd_negative=response.mrd_negative,
            components=components,
            notes=notes,
            recorded_at=uow.now(),
            recorded_by=user_id(uow),
        )
    )
    _derive(uow, p, infusion.infused_on, enrollment.arm_id)
    uow.commit()
    return row


def derive_best_response(uow: UnitOfWork, study_id: str) -> BestResponse:
    """(Re-)derive the participant's BOR from every assessment, as of today."""
    p = participant(uow, study_id, "participant.write")
    infusion = infusion_of(uow.session, p.id)
    if infusion is None:
        raise refusal(WrongState, "study_id", study_id, "not_infused_derive")
    enrollment = require_enrollment(uow.session, p)
    row = _derive(uow, p, infusion.infused_on, enrollment.arm_id)
    uow.commit()
    return row


def _derive(uow: UnitOfWork, p: Participant, infused_on: date, arm_id: str) -> BestResponse:
    uow.flush()
    arm = uow.session.get(Arm, arm_id)
    assert arm is not None
    protocol = arm_protocol(uow.session, arm)
    rule = efficacy_rule(protocol)
    rows = list(
        uow.session.scalars(
            select(ResponseAssessment)
            .where(ResponseAssessment.participant_id == p.id)
            .order_by(ResponseAssessment.assessed_on, ResponseAssessment.id)
        )
    )
    best = best_overall_response(
        clinical_assessments(rows),
        infused_on,
        settings=bor_settings(protocol),
        death_date=death_date(p),
        as_of=today(uow),
    )
    basis = as_json(
        {
            **best.to_dict(infused_on),
            "assessment_ids": [r.id for r in rows],
            "responses_counted_as_response": list(rule.responses),
            "as_of": today(uow).isoformat(),
        }
    )
    responder = best.category in rule.responses
    existing = uow.session.scalar(select(BestResponse).where(BestResponse.participant_id == p.id))
    if existing is None:
        uow.act("bor.derive", site_id=p.site_id)
        return uow.add(
            BestResponse(
                participant_id=p.id,
                bor=best.category,
                responder=responder,
                basis=basis,
                derived_at=uow.now(),
                derived_by=user_id(uow),
            )
        )
    why = f"re-derived from {len(rows)} assessment(s) as of {today(uow).isoformat()}"
    uow.act("bor.derive", site_id=p.site_id, reason=why)
    existing.bor = best.category
    existing.responder = responder
    existing.basis = basis
    existing.derived_at = uow.now()
    existing.derived_by = user_id(uow)
    return existing
