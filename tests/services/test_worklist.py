"""Worklists (issue 17 item 2): visits due and overdue from the protocol's windows, DLT
adjudications as windows close, BOR assessments, signatures pending, open queries, participants
waiting for a dose; each with its due date in the site's calendar; site users see their site."""

from __future__ import annotations

from datetime import timedelta

import pytest
from svc_helpers import Acts

from dosewise.errors import InvalidInput
from dosewise.trial.access import Forbidden
from dosewise.trial.services import queries
from dosewise.trial.services.worklist import Worklist, WorklistFilter, worklist


def _list(acts: Acts, who: str, **flt: object) -> Worklist:
    with acts.uow(who, readonly=True) as uow:
        return worklist(uow, WorklistFilter(**flt))  # type: ignore[arg-type]


def _kinds(wl: Worklist, sid: str) -> dict[str, list[tuple[str, bool]]]:
    out: dict[str, list[tuple[str, bool]]] = {}
    for i in wl.items:
        if i.study_id == sid:
            out.setdefault(i.kind, []).append((i.due_on.isoformat(), i.overdue))
    return out


def test_a_treated_participant_moves_through_visits_dlt_and_bor(acts: Acts) -> None:
    a = acts.recruit("S01")
    b = acts.recruit("S02")
    acts.treat(a)
    infused = acts.today
    day = lambda n: (infused + timedelta(days=n)).isoformat()  # noqa: E731
    # B, enrolled at the other site, waits for a dose decision; A is infused today.
    start = _list(acts, "stat")
    assert [i.kind for i in start.items if i.study_id == b] == ["dose_decision"]
    assert _kinds(start, a) == {}  # infusion done, day 7 not yet due

    acts.advance(7)
    wl = _list(acts, "coord1")
    assert _kinds(wl, a) == {"visit": [(day(8), False)]}  # day 7 ± 1
    assert {i.site_id for i in wl.items} == {"S01"}  # coordinator of S01: not B

    acts.advance(15)  # day 22: the DLT window (28 days) closes within a week
    wl = _list(acts, "inv1")
    assert _kinds(wl, a) == {"visit": [(day(23), False)], "dlt_adjudication": [(day(28), False)]}
    mine = {i.kind for i in wl.items if i.mine}
    assert "dlt_adjudication" in mine  # the investigator adjudicates
    coord_mine = {i.kind for i in _list(acts, "coord1", mine=True).items}
    assert "dlt_adjudication" not in coord_mine and "visit" in coord_mine

    acts.advance(9)  # day 31: the day-28 response visit (26-30) and the adjudication are late
    wl = _list(acts, "coord1")
    assert _kinds(wl, a) == {"dlt_adjudication": [(day(28), True)], "visit": [(day(30), True)]}
    assert wl.items[0].overdue and wl.items[0].days_overdue == 3  # overdue first
    overdue = _list(acts, "coord1", overdue=True)
    assert overdue.items and all(i.overdue for i in overdue.items)
    assert [i.kind for i in _list(acts, "coord1", kind="visit").items] == ["visit"]

    acts.advance(54)  # day 85: month 2 missed; the BOR window (83-97) is open
    kinds = _kinds(_list(acts, "coord1"), a)
    assert kinds["bor_assessment"] == [(day(97), False)]
    assert (day(67), True) in kinds["visit"]  # month 2 (60 ± 7), a response visit: overdue
    assert (day(97), False) not in kinds["visit"]  # month 3 is the BOR item, not a second one


def test_signature_pending_and_queries_with_age(acts: Acts) -> None:
    a = acts.recruit("S01")
    acts.assign(a)
    wl = _list(acts, "stat")
    sig = [i for i in wl.items if i.study_id == a]
    assert [(i.kind, i.section, i.mine) for i in sig] == [("signature", "assign", True)]
    assert sig[0].due_on == acts.today
    assert [i.mine for i in _list(acts, "coord1").items if i.study_id == a] == [False]

    q = acts.run(
        "mon1",
        queries.raise_query,
        a,
        record_type="participants",
        record_id=None,
        field="year_of_birth",
        question="Is the year right?",
    )
    acts.advance(10)
    item = next(i for i in _list(acts, "coord1", kind="query").items)
    assert item.detail["query_id"] == q.id and item.detail["age_days"] == 10
    assert item.overdue and item.mine and item.anchor == f"query-{q.id}"
    assert not next(i for i in _list(acts, "mon1", kind="query").items).mine
    acts.run("coord1", queries.answer_query, q.id, "1992, checked")
    assert next(i for i in _list(acts, "mon1", kind="query").items).mine
    assert _list(acts, "dsmb", kind="query").items == ()  # the DSMB reads no queries


def test_site_filter_and_confidentiality(acts: Acts) -> None:
    acts.recruit("S01")
    b = acts.recruit("S02")
    assert {i.site_id for i in _list(acts, "stat", site_id="S02").items} == {"S02"}
    assert {i.study_id for i in _list(acts, "coord2").items} == {b}
    assert _list(acts, "coord1").sites == ("S01",)
    with pytest.raises(Forbidden):
        _list(acts, "coord1", site_id="S02")
    with pytest.raises(InvalidInput, match="kind") as bad_kind:
        _list(acts, "stat", kind="visits")
    with pytest.raises(InvalidInput, match="no such site") as bad_site:
        _list(acts, "stat", site_id="S99")
    # Refusals as codes (trial/refusals.py), so the pages and the API word them in zh and en.
    assert (bad_kind.value.reason_code, bad_site.value.reason_code) == (
        "one_of",
        "no_such_site_any",
    )
    with pytest.raises(Forbidden):
        _list(acts, "admin1")
    data = _list(acts, "stat").to_dict()
    assert data["counts"]["total"] == len(data["items"]) == 2
    assert data["items"][0]["kind"] == "dose_decision" and "due_on" in data["items"][0]


def test_the_cli_prints_the_same_list(
    acts: Acts, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from dosewise.cli.app import main

    b = acts.recruit("S02")
    main(["worklist", "--user", "coord2", "--json", "--database-url", db_url])
    data = json.loads(capsys.readouterr().out)
    assert data["sites"] == ["S02"]
    assert [(i["kind"], i["study_id"], i["mine"]) for i in data["items"]] == [
        ("dose_decision", b, True)
    ]
    with pytest.raises(SystemExit) as stop:
        main(["worklist", "--user", "nobody", "--database-url", db_url])
    assert stop.value.code == 2 and "no such user" in capsys.readouterr().err
