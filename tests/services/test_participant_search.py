"""Finding people (issue 17 item 3): the participant list searched by study ID, filtered by
site, arm, status, phase and open queries, sorted and paged, site-scoped; SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
from svc_helpers import Acts

from dosewise.errors import InvalidInput
from dosewise.trial.access import Forbidden
from dosewise.trial.services import queries, reads
from dosewise.trial.services.reads import ParticipantSearch as Search
from pg import backend_params

pytestmark = pytest.mark.parametrize("backend", backend_params(), indirect=True)


def _ids(acts: Acts, who: str, search: Search) -> tuple[list[str], int]:
    with acts.uow(who, readonly=True) as uow:
        rows, total = reads.search_participants(uow, search)
    return [r["study_id"] for r in rows], total


def test_search_filter_sort_and_page(acts: Acts) -> None:
    s1 = [acts.register("S01") for _ in range(3)]
    s2 = [acts.register("S02") for _ in range(2)]
    enrolled = acts.recruit("S01")
    acts.run(
        "dm1",
        queries.raise_query,
        s1[1],
        record_type="participants",
        record_id=None,
        field="year_of_birth",
        question="?",
    )
    everyone = s1 + s2 + [enrolled]
    assert _ids(acts, "stat", Search()) == (everyone, 6)
    assert _ids(acts, "stat", Search(text=s1[1].lower())) == ([s1[1]], 1)
    assert _ids(acts, "stat", Search(text="S02-")) == (s2, 2)
    assert _ids(acts, "stat", Search(text="%")) == ([], 0)  # no wildcards
    assert _ids(acts, "stat", Search(phase=1)) == ([enrolled], 1)
    assert _ids(acts, "stat", Search(arm_id="autologous", status="enrolled")) == ([enrolled], 1)
    assert _ids(acts, "stat", Search(open_queries=True)) == ([s1[1]], 1)
    assert len(_ids(acts, "stat", Search(open_queries=False))[0]) == 5
    assert _ids(acts, "stat", Search(sort="study_id", descending=True))[0] == sorted(
        everyone, reverse=True
    )
    page2, total = _ids(acts, "stat", Search(sort="study_id", limit=4, offset=4))
    assert page2 == sorted(everyone)[4:] and total == 6
    with acts.uow("stat", readonly=True) as uow:
        rows, _ = reads.search_participants(uow, Search(text=enrolled))
    assert rows[0]["phase"] == 1 and rows[0]["open_queries"] == 0


def test_site_scoping_and_bad_input(acts: Acts) -> None:
    a, b = acts.register("S01"), acts.register("S02")
    assert _ids(acts, "coord1", Search()) == ([a], 1)
    assert _ids(acts, "coord1", Search(text=b)) == ([], 0)
    with pytest.raises(Forbidden):
        _ids(acts, "coord1", Search(site_id="S02"))
    with pytest.raises(Forbidden):  # DSMB members read no queries
        _ids(acts, "dsmb", Search(open_queries=True))
    with acts.uow("dsmb", readonly=True) as uow:
        rows, _ = reads.search_participants(uow, Search())
    assert {r["open_queries"] for r in rows} == {None}
    for bad, field in (
        (Search(sort="name"), "sort"),
        (Search(limit=0), "limit"),
        (Search(phase=3), "phase"),
        (Search(offset=-1), "offset"),
    ):
        with pytest.raises(InvalidInput) as info:
            _ids(acts, "stat", bad)
        assert info.value.field == field
