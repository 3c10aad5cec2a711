"""Data queries (issue 17 item 1): raised by a monitor, data manager or the statistician on a
field of a participant's record, answered by that participant's site, closed or re-opened by the
raiser or a data manager; every step audited; site staff see only their site's queries; counts
by age band. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from svc_helpers import Acts

from dosewise.errors import InvalidInput
from dosewise.store.tables import AdverseEvent, AuditRecord, DataQuery
from dosewise.trial.access import Forbidden
from dosewise.trial.audit import Actor
from dosewise.trial.services import adverse_events, queries
from dosewise.trial.services._common import WrongState
from dosewise.trial.uow import NotFound, UnitOfWork
from pg import backend_params

BOTH = pytest.mark.parametrize("backend", backend_params(), indirect=True)


def _raise(acts: Acts, who: str, sid: str, **kw: object) -> DataQuery:
    args = {"record_type": "participants", "record_id": None, "field": "year_of_birth"}
    args.update(kw)
    return acts.run(who, queries.raise_query, sid, question="Is the year right?", **args)


@BOTH
def test_raise_answer_close_reopen_is_one_audited_thread(acts: Acts) -> None:
    sid = acts.register("S01")
    q = _raise(acts, "mon1", sid)
    assert q.status == "open" and q.site_id == "S01"
    acts.run("coord1", queries.answer_query, q.id, "Checked against the source: 1992")
    with pytest.raises(Forbidden, match="only who raised"):
        acts.run("stat", queries.close_query, q.id)
    acts.run("mon1", queries.reopen_query, q.id, "Source says 1991")
    acts.run("inv1", queries.answer_query, q.id, "Corrected")
    closed = acts.run("dm1", queries.close_query, q.id, "ok")
    assert closed.status == "closed"
    with acts.uow("mon1", readonly=True) as uow:
        thread = queries.read_query(uow, q.id)
        actions = [
            r.action
            for r in uow.session.scalars(
                select(AuditRecord)
                .where(AuditRecord.action.like("query.%"))
                .order_by(AuditRecord.seq)
            )
        ]
    assert thread["raised_by"] == "mon1" and thread["study_id"] == sid
    assert [(m["kind"], m["posted_by"]) for m in thread["messages"]] == [
        ("answer", "coord1"),
        ("reopen", "mon1"),
        ("answer", "inv1"),
        ("close", "dm1"),
    ]
    assert {"query.raise", "query.answer", "query.reopen", "query.close"} == set(actions)


@BOTH
def test_who_may_do_what(acts: Acts) -> None:
    sid = acts.register("S01")
    for who in ("coord1", "inv1", "dsmb", "admin1"):
        with pytest.raises(Forbidden):
            _raise(acts, who, sid)
    q = _raise(acts, "stat", sid)
    for who in ("coord2", "inv2", "mon1", "stat", "dm1"):
        with pytest.raises(Forbidden):
            acts.run(who, queries.answer_query, q.id, "x")
    # a site monitor raises only at its site: another site's participant is answered as an
    # unused study ID is (the site scope reveals no other site's study IDs)
    other = acts.register("S02")
    with pytest.raises(NotFound) as elsewhere:
        _raise(acts, "mon1", other)
    with pytest.raises(NotFound) as unused:
        _raise(acts, "mon1", "S02-0999")
    assert str(elsewhere.value).replace(other, "S02-0999") == str(unused.value)


@BOTH
def test_the_record_and_the_field_must_exist(acts: Acts) -> None:
    sid = acts.register("S01")
    with pytest.raises(InvalidInput, match="record_type"):
        _raise(acts, "dm1", sid, record_type="users")
    with pytest.raises(InvalidInput) as info:
        _raise(acts, "dm1", sid, field="password_hash")
    assert info.value.field == "field"
    with pytest.raises(NotFound):
        _raise(acts, "dm1", sid, record_type="adverse_events", record_id=999, field="grade")
    with pytest.raises(InvalidInput, match="no parts"):
        _raise(acts, "dm1", sid, field="year_of_birth.x")
    with pytest.raises(InvalidInput, match="question"):
        acts.run(
            "dm1",
            queries.raise_query,
            sid,
            record_type="participants",
            record_id=None,
            field="status",
            question="   ",
        )


@BOTH
def test_a_query_on_an_event_and_a_closed_one_cannot_be_answered(acts: Acts) -> None:
    sid = acts.recruit("S01")
    acts.treat(sid)
    event = acts.run(
        "coord1",
        adverse_events.record_adverse_event,
        sid,
        term="Nausea",
        onset_on=acts.today,
        grade=1,
    )
    q = _raise(acts, "dm1", sid, record_type="adverse_events", record_id=event.id, field="grade")
    q2 = _raise(
        acts, "dm1", sid, record_type="products", record_id=1, field="certificate.volume_ml"
    )
    assert q2.field == "certificate.volume_ml"
    acts.run("dm1", queries.close_query, q.id)
    with pytest.raises(WrongState):
        acts.run("coord1", queries.answer_query, q.id, "late")
    with acts.uow("coord1", readonly=True) as uow:
        on_event = queries.list_queries(
            uow, queries.QueryFilter(record_type="adverse_events", record_id=event.id)
        )
    assert [x["id"] for x in on_event] == [q.id]
    assert isinstance(acts.count(AdverseEvent), int)


@BOTH
def test_site_staff_see_their_site_and_counts_by_age(acts: Acts) -> None:
    s1, s2 = acts.register("S01"), acts.register("S02")
    old = _raise(acts, "monall", s1)
    acts.clock.advance(days=10)
    _raise(acts, "monall", s2)
    acts.clock.advance(days=25)
    _raise(acts, "monall", s1, field="registered_on")
    with acts.uow("coord2", readonly=True) as uow:
        seen = queries.list_queries(uow)
        assert {x["study_id"] for x in seen} == {s2}
        with pytest.raises(Forbidden):
            queries.read_query(uow, old.id)
        assert queries.summary(uow)["by_age"] == {"lt7": 0, "7to30": 1, "gt30": 0}
    with acts.uow("dm1", readonly=True) as uow:
        everything = queries.summary(uow)
        by_participant = queries.unresolved_by_participant(uow)
    assert everything["by_age"] == {"lt7": 1, "7to30": 1, "gt30": 1}
    assert everything["unresolved"] == 3 == sum(by_participant.values())
    with UnitOfWork(acts.db, Actor.system("t"), readonly=True) as uow:
        assert uow.session.scalar(select(DataQuery.status).where(DataQuery.id == old.id)) == "open"


def test_pure_rules() -> None:
    on = date(2026, 3, 31)
    assert queries.age_bucket(date(2026, 3, 25), on) == "lt7"
    assert queries.age_bucket(date(2026, 3, 24), on) == "7to30"
    assert queries.age_bucket(date(2026, 3, 1), on) == "7to30"
    assert queries.age_bucket(date(2026, 2, 28), on) == "gt30"
    assert queries.next_status("open", "answer") == "answered"
    assert queries.next_status("answered", "reopen") == "open"
    with pytest.raises(WrongState):
        queries.next_status("open", "reopen")
    with pytest.raises(WrongState):
        queries.next_status("closed", "close")
