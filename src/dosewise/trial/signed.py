"""What each kind of signed record signs, recomputed from the record as it is now.

An e-signature stores the SHA-256 of the canonical JSON (sorted keys) of the content it signed
(:mod:`dosewise.trial.esign`). That proves the signature's own copy is untouched, not that the
record still says what was signed: a direct ``UPDATE dose_assignments SET dose_index=3`` leaves
the signature's copy as it was. So each signed table names here, once, the columns its
signature covers; the services sign exactly that content, and :func:`check` recomputes it from
the record's current row, so any change to a signed column makes the signature invalid wherever
it is shown (API ``signature.valid``, the participant and arm pages) and stops the arm from
assigning the next cohort (:func:`broken_in_arm`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from dosewise.errors import DosewiseError
from dosewise.store.base import Base
from dosewise.store.tables import (
    DltAdjudication,
    DoseAssignment,
    ESignature,
    Participant,
    Phase1Closure,
    Product,
    ProtocolDeviation,
)
from dosewise.trial import esign
from dosewise.trial.state.cache import records_cache


class SignatureBroken(DosewiseError):
    """A signed record no longer matches its signature (changed outside the service): the
    arm's next decision waits until the record is restored or corrected through the service."""

    http_status = 409
    code = "signature_broken"


def _study_id(session: Session, participant_id: int) -> str | None:
    return session.scalar(select(Participant.study_id).where(Participant.id == participant_id))


def dose_assignment_content(a: DoseAssignment, study_id: str | None) -> dict[str, Any]:
    """What a dose confirmation signs: the assignment and the decision behind it."""
    decision = a.decision or {}
    return {
        "dose_assignment_id": a.id,
        "study_id": study_id,
        "arm_id": a.arm_id,
        "phase": a.phase,
        "cohort": a.cohort,
        "dose_index": a.dose_index,
        "dose_level": a.dose_level,
        "rule": decision.get("rule"),
        "reason": decision.get("reason"),
        "outcomes": decision.get("outcomes"),
        "seed": decision.get("seed"),
        "rule_version": a.rule_version,
        "arm_version": a.arm_version,
    }


def product_content(p: Product, study_id: str | None) -> dict[str, Any]:
    """What a product release signs: the lot, its certificate and the level it can deliver."""
    return {
        "product_id": p.id,
        "study_id": study_id,
        "lot": p.lot,
        "certificate": p.certificate,
        "planned_level": p.planned_level,
        "assigned_level": p.assigned_level,
        "fallback": p.fallback,
    }


def dlt_content(row: DltAdjudication, study_id: str | None) -> dict[str, Any]:
    """What a DLT adjudication signs: the verdict, the rule's verdict and the rationale."""
    return {
        "dlt_adjudication_id": row.id,
        "study_id": study_id,
        "is_dlt": row.is_dlt,
        "evaluable": row.evaluable,
        "rule_status": (row.evaluation or {}).get("rule_status"),
        "definition_version": row.rule_id,
        "rationale": row.rationale,
    }


def deviation_content(row: ProtocolDeviation, study_id: str | None) -> dict[str, Any]:
    """What an investigator's signature on a protocol deviation covers."""
    return {
        "protocol_deviation_id": row.id,
        "study_id": study_id,
        "category": row.category,
        "description": row.description,
        "related": None if row.related_table is None else f"{row.related_table}:{row.related_id}",
        "occurred_on": row.occurred_on.isoformat(),
        "reason": row.reason,
    }


#: The phase 2 design values a closure signs (the rest of the design is derived from them).
PHASE2_SIGNED = ("n_max", "looks", "p0", "p1", "alpha", "lambda", "gamma")


def closure_content(c: Phase1Closure) -> dict[str, Any]:
    """What closing phase 1 signs: OBD, RP2D, the outcomes and rule, the phase 2 design."""
    basis = c.basis or {}
    design = basis.get("phase2_design")
    return {
        "arm_id": c.arm_id,
        "obd_index": c.obd_index,
        "obd_level": c.obd_level,
        "rp2d_index": c.rp2d_index,
        "rp2d_level": c.rp2d_level,
        "outcomes": basis.get("outcomes"),
        "reason": basis.get("reason"),
        "rule_version": c.rule_version,
        "phase2_design": None if design is None else {k: design[k] for k in PHASE2_SIGNED},
    }


@dataclass(frozen=True)
class SignedKind:
    """A signed table: its model, the column ``e_signatures.entity_id`` names, the content
    (from the row and, for a participant's record, the participant's study ID)."""

    model: type[Base]
    key: str
    content: Callable[[Any, str | None], dict[str, Any]]


#: Every table whose rows carry an e-signature, by ``e_signatures.entity``.
SIGNED: Mapping[str, SignedKind] = {
    "dose_assignments": SignedKind(DoseAssignment, "id", dose_assignment_content),
    "products": SignedKind(Product, "id", product_content),
    "dlt_adjudications": SignedKind(DltAdjudication, "id", dlt_content),
    "protocol_deviations": SignedKind(ProtocolDeviation, "id", deviation_content),
    "phase1_closures": SignedKind(Phase1Closure, "arm_id", lambda r, _sid: closure_content(r)),
}


def content_of(
    session: Session, entity: str, row: Base, study_id: str | None = None
) -> dict[str, Any]:
    """The content a signature on ``row`` (of table ``entity``) covers, as the row is now
    (``study_id``: the participant's, when the caller has it at hand)."""
    pid = getattr(row, "participant_id", None)
    if study_id is None and pid is not None:
        study_id = _study_id(session, pid)
    return SIGNED[entity].content(row, study_id)


def signed_row(session: Session, sig: ESignature) -> Base | None:
    """The record ``sig`` signs that points back at it (None if there is none)."""
    kind = SIGNED.get(sig.entity)
    if kind is None:
        return None
    column = getattr(kind.model, kind.key)
    value: Any = sig.entity_id
    if kind.key == "id":
        if not sig.entity_id.isdigit():
            return None
        value = int(sig.entity_id)
    row = session.scalar(select(kind.model).where(column == value))
    if row is None or getattr(row, "signature_id", None) != sig.id:
        return None
    return row


def check(session: Session, sig: ESignature) -> esign.SignatureCheck:
    """Whether ``sig`` still binds: its own hashes and the signed record's current content."""
    if sig.entity not in SIGNED:  # a kind of record this version does not sign: hashes only
        return esign.verify(sig)
    row = signed_row(session, sig)
    if row is None:
        base = esign.verify(sig)
        return esign.SignatureCheck(
            False, (*base.problems, "no record carries this signature any more")
        )
    return esign.verify(sig, content_of(session, sig.entity, row))


def status(session: Session, sig: ESignature) -> dict[str, Any]:
    """The §11.50 manifestation of ``sig`` with ``valid`` and the problems found."""
    result = check(session, sig)
    return {**esign.manifestation(sig), "valid": result.ok, "problems": list(result.problems)}


@dataclass(frozen=True)
class RecordCheck:
    """One signed record of an arm and whether its signature still binds it."""

    entity: str
    id: int
    signature_id: int | None
    result: esign.SignatureCheck


def _arm_checks(session: Session, arm_id: str) -> list[RecordCheck]:
    """Every signed record of the arm with its check, shared by readers until the records
    change (:mod:`dosewise.trial.state.cache`: the version the database raises on any change of
    a record, a direct ``UPDATE`` included, so a change made outside the service shows at once)."""
    return records_cache(session).get(
        session, ("arm_checks", arm_id), lambda: _compute_arm_checks(session, arm_id)
    )


def _compute_arm_checks(session: Session, arm_id: str) -> list[RecordCheck]:
    """The checks from the records now (a handful of queries, not one per row)."""
    study_ids: dict[int, str] = {
        pid: sid
        for pid, sid in session.execute(
            select(Participant.id, Participant.study_id).where(Participant.arm_id == arm_id)
        )
    }
    rows: list[tuple[str, Any]] = []
    for entity in ("dose_assignments", "products", "dlt_adjudications"):
        model: Any = SIGNED[entity].model
        stmt = select(model).where(model.signature_id.is_not(None))
        if entity == "dose_assignments":
            # The state snapshot is the largest column and no signature covers it.
            stmt = stmt.where(model.arm_id == arm_id).options(defer(model.state))
        else:
            stmt = stmt.where(model.participant_id.in_(list(study_ids)))
        rows += [(entity, r) for r in session.scalars(stmt.order_by(model.id))]
    rows += [
        ("phase1_closures", c)
        for c in session.scalars(select(Phase1Closure).where(Phase1Closure.arm_id == arm_id))
    ]
    sig_ids = [r.signature_id for _e, r in rows]
    sigs = {s.id: s for s in session.scalars(select(ESignature).where(ESignature.id.in_(sig_ids)))}
    out = []
    for entity, row in rows:
        sig = sigs.get(row.signature_id)
        pid = getattr(row, "participant_id", None)
        content = SIGNED[entity].content(row, None if pid is None else study_ids.get(pid))
        result = (
            esign.SignatureCheck(False, ("the signature is missing",))
            if sig is None
            else esign.verify(sig, content)
        )
        out.append(RecordCheck(entity, row.id, row.signature_id, result))
    return out


def _broken(checks: list[RecordCheck]) -> list[dict[str, Any]]:
    return [
        {
            "entity": c.entity,
            "id": c.id,
            "signature_id": c.signature_id,
            "problems": list(c.result.problems),
        }
        for c in checks
        if not c.result.ok
    ]


def broken_in_arm(session: Session, arm_id: str) -> list[dict[str, Any]]:
    """Every signed record of the arm whose signature no longer binds: table, id, problems."""
    return _broken(_arm_checks(session, arm_id))


def annotate_history(
    history: list[dict[str, Any]], checks: Mapping[int, esign.SignatureCheck]
) -> list[dict[str, Any]]:
    """The arm's decision history with ``signature_valid`` on each dose decision (None: not
    signed yet) and ``signature_problems`` where the signature no longer binds; ``checks``
    holds the signed dose assignments' checks by assignment id."""
    out = []
    for item in history:
        item = dict(item)
        assignment_id = item.get("assignment_id")
        if assignment_id is not None:
            result = checks.get(assignment_id)
            item["signature_valid"] = None if result is None else result.ok
            if result is not None and not result.ok:
                item["signature_problems"] = list(result.problems)
        out.append(item)
    return out


def with_signatures(session: Session, arm_id: str, state: dict[str, Any]) -> dict[str, Any]:
    """The arm state's dict (``ArmState.to_dict()``) with what its signatures say now: the
    broken ones (``broken_signatures``) and each dose decision's ``signature_valid``. The one
    place the API and the CLI add them, so both show the same state."""
    checks = _arm_checks(session, arm_id)
    by_assignment = {c.id: c.result for c in checks if c.entity == "dose_assignments"}
    return {
        **state,
        "history": annotate_history(list(state.get("history", [])), by_assignment),
        "broken_signatures": _broken(checks),
    }


def refuse_if_broken(session: Session, arm_id: str) -> None:
    """Raise :class:`SignatureBroken` if a signed record of the arm was changed since signing.

    A real system does not dose the next cohort on data whose approval no longer holds: the
    decision would rest on a record nobody signed.
    """
    broken = broken_in_arm(session, arm_id)
    if broken:
        first = broken[0]
        raise SignatureBroken(
            "arm_id",
            arm_id,
            f"{len(broken)} signed record(s) changed since signing (first: {first['entity']} "
            f"{first['id']}: {'; '.join(first['problems'])}); restore or correct it through "
            "the service before the next decision (`dosewise audit verify --deep` names the "
            "change)",
        )
