"""The cut view copies JSON documents as their stored text: the view holds the same documents."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from demo_trial import DemoTrial
from dosewise.report.cutoff import cut_view
from dosewise.store.tables import AdverseEvent, DoseAssignment, Screening

#: The largest documents (a dose decision's arm-state snapshot, the screening rule results) and
#: one that may be None.
_DOCUMENTS = ((DoseAssignment, "state"), (Screening, "criteria"), (AdverseEvent, "components"))


def _documents(session: Session) -> dict[str, list[tuple[int, Any]]]:
    return {
        model.__name__: [
            (row.id, getattr(row, column))
            for row in session.scalars(select(model).order_by(model.id))
        ]
        for model, column in _DOCUMENTS
    }


def test_the_view_holds_the_source_documents(demo_db: DemoTrial) -> None:
    with demo_db.db.sessions() as source:
        expected = _documents(source)
        with cut_view(source, demo_db.today) as view:
            found = _documents(view)
    assert all(expected.values())
    assert found == expected
