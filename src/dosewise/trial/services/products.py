"""Release the product, record lymphodepletion and the infusion (study day 0).

Release turns the certificate values into CAR-positive viable T cells, checks each level's
window for the participant's weight and assigns the planned level or, when the product falls
short, the protocol's fallback level (``clinical.plan_dose``, policy ``fallback_level``: DL-1).
A product that reaches no window is recorded as *rejected* with the reason (remanufacture or
withdrawal is then the site's decision). The infusion records the volume given; the dose and
the level actually infused are computed back from it (``clinical.actual_dose``), and the design
analyses the participant at that level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from dosewise.clinical import ReleaseCertificate, actual_dose, plan_dose
from dosewise.errors import InvalidInput
from dosewise.protocol.model import Protocol
from dosewise.store.tables import AdverseEvent, Infusion, Lymphodepletion, Product
from dosewise.trial import signed
from dosewise.trial.refusals import refusal
from dosewise.trial.services._common import (
    Signing,
    WrongState,
    arm_protocol,
    as_json,
    clinical_levels,
    current_assignment,
    infusion_of,
    level_index,
    not_before,
    participant,
    released_product,
    require_enrollment,
    sign,
    user_id,
)
from dosewise.trial.services.deviations import DeviationIn, add_deviation
from dosewise.trial.services.timeline import check_date
from dosewise.trial.state import next_status
from dosewise.trial.uow import UnitOfWork

CERTIFICATE_KEYS = ("tnc", "viability", "cd3", "car", "volume_ml")


def certificate_from(values: Mapping[str, Any]) -> ReleaseCertificate:
    """The release certificate (fractions in [0, 1]; the volume is needed to dose by volume)."""
    unknown = sorted(set(values) - set(CERTIFICATE_KEYS))
    if unknown:
        raise refusal(
            InvalidInput, f"certificate.{unknown[0]}", values[unknown[0]], "unknown_value"
        )
    missing = [k for k in CERTIFICATE_KEYS if values.get(k) is None]
    if missing:
        raise refusal(InvalidInput, f"certificate.{missing[0]}", None, "required")
    try:
        return ReleaseCertificate(**{k: float(values[k]) for k in CERTIFICATE_KEYS})
    except InvalidInput as exc:
        raise InvalidInput(
            f"certificate.{exc.field}",
            exc.value,
            exc.rule,
            reason_code=exc.reason_code,
            reason_params=exc.reason_params,
            template=exc.template,
        ) from None


def release_product(
    uow: UnitOfWork,
    study_id: str,
    *,
    lot: str,
    certificate: Mapping[str, Any],
    weight_kg: float,
    released_on: date,
    signing: Signing | None = None,
    correction_reason: str | None = None,
) -> Product:
    """Release (or reject) a product for the participant's confirmed dose assignment.

    One released product per participant: a second release is refused unless it corrects the
    first before the infusion (``correction_reason``, audited as ``product.correct``; a signed
    release is corrected with a new signature)."""
    p = participant(uow, study_id, "product.release")
    enrollment = require_enrollment(uow.session, p)
    assignment = current_assignment(uow.session, p.id)
    if assignment is None or assignment.status != "confirmed":
        raise refusal(WrongState, "study_id", study_id, "needs_confirmed_dose")
    existing = released_product(uow.session, p.id)
    reason = correction(correction_reason, existing, "released product")
    if existing is not None and reason is None:
        raise refusal(WrongState, "study_id", study_id, "product_released")
    if existing is not None:
        if infusion_of(uow.session, p.id) is not None:
            raise refusal(WrongState, "study_id", study_id, "release_fixed")
        if existing.signature_id is not None and signing is None:
            raise refusal(InvalidInput, "password", None, "sign_correction")
    check_date(uow, p, "released_on", released_on, after=("enrollment",))
    not_before("released_on", released_on, assignment.assigned_at.date(), "the dose assignment")
    cert = certificate_from(certificate)
    arm = uow.claim_arm(enrollment.arm_id)
    protocol = arm_protocol(uow.session, arm)
    plan = plan_dose(weight_kg, assignment.dose_level, cert, levels=clinical_levels(protocol))
    assigned = plan.assigned_level
    values: dict[str, Any] = {
        "dose_assignment_id": assignment.id,
        "lot": lot,
        "certificate": as_json({k: certificate[k] for k in CERTIFICATE_KEYS}),
        "weight_kg": float(weight_kg),
        "planned_level": assignment.dose_level,
        "planned_dose_index": assignment.dose_index,
        "assigned_level": assigned,
        "assigned_dose_index": None if assigned is None else level_index(protocol, assigned),
        "fallback": plan.fallback,
        "feasibility": as_json(plan.to_dict()),
        "status": "released" if assigned is not None else "rejected",
        "released_on": released_on,
    }
    if existing is not None:
        uow.act("product.correct", reason=reason, site_id=p.site_id)
        for key, value in values.items():
            setattr(existing, key, value)
        product = existing
    else:
        uow.act("product.release", site_id=p.site_id)
        product = uow.add(
            Product(participant_id=p.id, released_at=uow.now(), released_by=user_id(uow), **values)
        )
    uow.flush()
    if signing is not None:
        content = signed.product_content(product, study_id)
        product.signature_id = sign(uow, signing, "products", product.id, content).id
    uow.commit()
    return product


def record_lymphodepletion(
    uow: UnitOfWork,
    study_id: str,
    *,
    regimen: str,
    agents: Sequence[Mapping[str, Any]],
    start_on: date,
    end_on: date | None = None,
    correction_reason: str | None = None,
) -> Lymphodepletion:
    """Record the lymphodepleting regimen (agents with dose, unit and days); one per
    participant, so a second is refused unless it corrects the first (``correction_reason``,
    audited as ``lymphodepletion.correct``)."""
    p = participant(uow, study_id, "participant.write")
    assignment = current_assignment(uow.session, p.id)
    if assignment is None or assignment.status != "confirmed":
        raise refusal(WrongState, "study_id", study_id, "needs_confirmed_dose")
    done = uow.session.scalar(select(Lymphodepletion).where(Lymphodepletion.participant_id == p.id))
    reason = correction(correction_reason, done, "lymphodepleting regimen")
    infusion = infusion_of(uow.session, p.id)
    if infusion is not None and reason is None:
        raise refusal(WrongState, "study_id", study_id, "already_infused")
    if done is not None and reason is None:
        raise refusal(
            WrongState, "study_id", study_id, "regimen_recorded", date=done.start_on.isoformat()
        )
    if not regimen.strip():
        raise refusal(InvalidInput, "regimen", regimen, "required")
    check_date(uow, p, "start_on", start_on, after=("birth", "registration", "enrollment"))
    if end_on is not None:
        not_before("end_on", end_on, start_on, "start_on")
        check_date(uow, p, "end_on", end_on, after=("enrollment",))
    last = end_on or start_on
    if infusion is not None and last > infusion.infused_on:
        raise refusal(
            InvalidInput,
            "end_on" if end_on is not None else "start_on",
            last.isoformat(),
            "regimen_after_infusion",
            date=infusion.infused_on.isoformat(),
        )
    values: dict[str, Any] = {
        "regimen": regimen.strip(),
        "agents": as_json([dict(a) for a in agents]),
        "start_on": start_on,
        "end_on": end_on,
    }
    if done is not None:
        uow.act("lymphodepletion.correct", reason=reason, site_id=p.site_id)
        for key, value in values.items():
            setattr(done, key, value)
        uow.commit()
        return done
    uow.act("lymphodepletion.record", site_id=p.site_id)
    row = uow.add(
        Lymphodepletion(
            participant_id=p.id, recorded_at=uow.now(), recorded_by=user_id(uow), **values
        )
    )
    uow.commit()
    return row


def correction(reason: str | None, existing: object | None, what: str) -> str | None:
    """The stripped correction reason, or None when the act is not a correction; a correction
    needs a reason and an existing record (422 on ``correction_reason``)."""
    if reason is None:
        return None
    if not reason.strip():
        raise refusal(InvalidInput, "correction_reason", reason, "required_for_correction")
    if existing is None:
        raise refusal(InvalidInput, "correction_reason", reason, "nothing_to_correct", record=what)
    return reason.strip()


def record_infusion(
    uow: UnitOfWork,
    study_id: str,
    *,
    infused_on: date,
    infused_volume_ml: float,
    weight_kg: float | None = None,
    deviation: DeviationIn | None = None,
    correction_reason: str | None = None,
) -> Infusion:
    """Record the infusion (study day 0) and the dose actually given, from the volume.

    A dose outside every level's window is refused (422 naming the windows) unless
    ``deviation`` carries the reason and the investigator's signature: then the infusion and
    its protocol deviation (category ``dose_outside_windows``) are recorded together. One
    infusion per participant: a second is refused unless it corrects the first
    (``correction_reason``, audited as ``infusion.correct``; the events' study days follow).
    """
    p = participant(uow, study_id, "participant.write")
    enrollment = require_enrollment(uow.session, p)
    product = released_product(uow.session, p.id)
    if product is None:
        raise refusal(WrongState, "study_id", study_id, "no_released_product")
    existing = infusion_of(uow.session, p.id)
    reason = correction(correction_reason, existing, "infusion")
    if existing is not None and reason is None:
        raise refusal(WrongState, "study_id", study_id, "infused_correct")
    if p.off_study_on is not None and reason is None:
        raise refusal(WrongState, "study_id", study_id, "off_study")
    ld = uow.session.scalar(
        select(Lymphodepletion)
        .where(Lymphodepletion.participant_id == p.id)
        .order_by(Lymphodepletion.id.desc())
        .limit(1)
    )
    if ld is None:
        raise refusal(WrongState, "study_id", study_id, "regimen_first")
    check_date(uow, p, "infused_on", infused_on, after=("enrollment", "lymphodepletion"))
    not_before("infused_on", infused_on, product.released_on, "the product release")
    weight = float(weight_kg if weight_kg is not None else product.weight_kg)
    arm = uow.claim_arm(enrollment.arm_id)
    protocol = arm_protocol(uow.session, arm)
    cert = certificate_from(product.certificate)
    given = actual_dose(weight, cert, infused_volume_ml, clinical_levels(protocol))
    level = given.actual_level
    if level is None and deviation is None:
        raise refusal(
            InvalidInput,
            "infused_volume_ml",
            float(infused_volume_ml),
            "outside_windows",
            dose=f"{given.dose_per_kg:.3g}",
            windows=windows_text(protocol),
        )
    values: dict[str, Any] = {
        "product_id": product.id,
        "infused_on": infused_on,
        "weight_kg": weight,
        "infused_volume_ml": float(infused_volume_ml),
        "infused_cells": given.infused_cells,
        "cells_per_kg": given.dose_per_kg,
        "actual_level": level,
        "actual_dose_index": None if level is None else level_index(protocol, level),
    }
    if existing is not None:
        uow.act("infusion.correct", reason=reason, site_id=p.site_id)
        for key, value in values.items():
            setattr(existing, key, value)
        for event in uow.session.scalars(
            select(AdverseEvent).where(AdverseEvent.participant_id == p.id)
        ):
            event.study_day = (event.onset_on - infused_on).days
        row = existing
    else:
        uow.act("infusion.record", site_id=p.site_id, reason=deviation_reason(deviation, level))
        row = uow.add(
            Infusion(participant_id=p.id, recorded_at=uow.now(), recorded_by=user_id(uow), **values)
        )
        p.status = next_status(p.status, "infuse")
    if level is None and deviation is not None:
        uow.flush()
        add_deviation(
            uow,
            p,
            category="dose_outside_windows",
            description=(
                f"infused {given.dose_per_kg:.3g} cells/kg ({float(infused_volume_ml):g} mL), "
                f"outside every dose level's window ({windows_text(protocol)})"
            ),
            occurred_on=infused_on,
            deviation=deviation,
            related=("infusions", row.id),
        )
    uow.commit()
    return row


def windows_text(protocol: Protocol) -> str:
    """The dose levels' windows per kg, for messages (``DL-1 4e+05-6e+05/kg, ...``)."""
    return ", ".join(
        f"{lv.name} {lv.min_per_kg:.3g}-{lv.max_per_kg:.3g}/kg"
        for lv in sorted(protocol.dose_levels.levels, key=lambda lv: lv.design_index.value)
    )


def deviation_reason(deviation: DeviationIn | None, level: str | None) -> str | None:
    """The audited reason of an infusion recorded with a deviation."""
    return None if deviation is None or level is not None else deviation.reason
