"""Signatures bound to the record as it is now: a direct edit of a signed column breaks the
signature wherever it is shown, and the arm assigns no dose while a signed record is tampered.

The finding (issue 15): after ``UPDATE dose_assignments SET dose_index=3`` on a signed
assignment, the API still said ``signature.valid: true`` and the arm used the new dose.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from svc_helpers import LEVEL_CELLS, Acts

from dosewise.store.tables import DoseAssignment, Product
from dosewise.trial import signed
from dosewise.trial.arm_state import arm_state
from dosewise.trial.demo import plan
from dosewise.trial.services import dosing, products, reads
from dosewise.trial.signed import SignatureBroken
from pg import backend_params

pytestmark = pytest.mark.parametrize("backend", backend_params(), indirect=True)


def _sql(acts: Acts, statement: str) -> None:
    """An edit made straight in the database, outside the service (and its audit trail)."""
    with acts.db.engine.begin() as c:
        c.execute(text(statement))


def _record(acts: Acts, sid: str) -> dict[str, Any]:
    with acts.uow("stat", readonly=True) as uow:
        return reads.participant_record(uow, sid)


def _signed_release(acts: Acts, sid: str, dose: int) -> Product:
    return acts.run(
        "coord1",
        products.release_product,
        sid,
        lot=f"LOT-{sid}",
        certificate=plan.certificate(LEVEL_CELLS[dose], 60.0, False),
        weight_kg=60.0,
        released_on=acts.today,
        signing=acts.signing(),
    )


def test_an_edited_dose_index_breaks_the_signature_and_stops_the_arm(acts: Acts) -> None:
    sid = acts.recruit("S01")
    a = acts.assign(sid)
    acts.confirm(sid)
    shown = _record(acts, sid)["dose_assignments"][0]["signature"]
    assert shown["valid"] is True and shown["problems"] == []
    with acts.uow("stat", readonly=True) as uow:
        assert signed.broken_in_arm(uow.session, "autologous") == []

    _sql(acts, f"UPDATE dose_assignments SET dose_index = 2 WHERE id = {a.id}")

    shown = _record(acts, sid)["dose_assignments"][0]["signature"]
    assert shown["valid"] is False
    assert "the record differs from what was signed" in shown["problems"]
    with acts.uow("stat", readonly=True) as uow:
        broken = signed.broken_in_arm(uow.session, "autologous")
        state = arm_state(uow.session, "autologous", as_of=acts.today)
        shown_state = signed.with_signatures(uow.session, "autologous", state.to_dict())
    history = shown_state["history"]
    assert shown_state["broken_signatures"] == broken
    assert [(b["entity"], b["id"]) for b in broken] == [("dose_assignments", a.id)]
    decision = next(h for h in history if h.get("assignment_id") == a.id)
    assert decision["signature_valid"] is False and decision["signature_problems"]

    # the next participant of the arm gets no dose while the signed record is tampered
    other = acts.recruit("S01")
    with pytest.raises(SignatureBroken) as err:
        acts.assign(other)
    assert err.value.http_status == 409 and err.value.code == "signature_broken"
    assert f"dose_assignments {a.id}" in err.value.rule
    with acts.uow("coord1", readonly=True) as uow, pytest.raises(SignatureBroken):
        dosing.check_assignable(uow, other)

    # restoring the signed value restores the signature (the content, not the row, is bound)
    _sql(acts, f"UPDATE dose_assignments SET dose_index = {a.dose_index} WHERE id = {a.id}")
    assert _record(acts, sid)["dose_assignments"][0]["signature"]["valid"] is True


def test_an_edited_certificate_breaks_the_release_signature(acts: Acts) -> None:
    sid = acts.recruit("S01")
    dose = acts.assign(sid).dose_index
    acts.confirm(sid)
    prod = _signed_release(acts, sid, dose)
    assert prod.signature_id is not None
    assert _record(acts, sid)["products"][0]["signature"]["valid"] is True
    _sql(acts, f"UPDATE products SET lot = 'LOT-OTHER' WHERE id = {prod.id}")
    assert _record(acts, sid)["products"][0]["signature"]["valid"] is False
    with acts.uow("stat", readonly=True) as uow:
        broken = signed.broken_in_arm(uow.session, "autologous")
    assert [(b["entity"], b["id"]) for b in broken] == [("products", prod.id)]


def test_a_signature_moved_to_another_record_does_not_bind(acts: Acts) -> None:
    first = acts.recruit("S01")
    a1 = acts.assign(first)
    acts.confirm(first)
    with acts.uow("stat", readonly=True) as uow:
        sig_id = uow.get(DoseAssignment, a1.id).signature_id
    _sql(acts, f"UPDATE dose_assignments SET signature_id = NULL WHERE id = {a1.id}")
    with acts.uow("stat", readonly=True) as uow:
        assert reads.signature_of(uow, sig_id)["valid"] is False  # type: ignore[index]
