"""The protocol page (assumptions, decision tables, simulation, design report) and the live
calculators (htmx fragments) show exactly what the pure rules compute."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from dosewise.design.table_format import decision_tables
from dosewise.protocol import assumptions, default_protocol
from dosewise.report.design_oc import for_design, with_protocol_windows
from dosewise.simulate.run import simulate
from dosewise.simulate.scenario import builtin_scenario

HTMX = {"HX-Request": "true"}


def cells(html: str, table_class: str) -> list[list[str]]:
    table = re.search(rf'<table class="{table_class}">(.*?)</table>', html, re.S)
    assert table, table_class
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
        ]
        for r in rows
    ]


def test_protocol_page_marks_every_assumption(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    signed_in("coord1")
    page = client.get("/protocol").text
    notes = assumptions(default_protocol())
    assert len(notes) == 48  # docs/protocol.md, "Assumptions made for NCT07070323"
    for i, note in enumerate(notes, start=1):
        assert f'<li id="A{i}"><strong>A{i}</strong> <code>{note.path}</code>' in page
    # a tagged value where it appears: cohort size 3 is assumption A8 (docs/protocol.md)
    assert re.search(r'<span class="assumption">3</span> <a class="tag" href="#A8"', page)


def test_protocol_page_prints_the_designs_boundaries(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    signed_in("stat")
    page = client.get("/protocol").text
    params = default_protocol().design_params("autologous")
    expected = decision_tables(params, params.max_n).boundaries
    shown = cells(page, "boundaries")[1:]
    assert len(shown) == len(expected)
    for row, want in zip(shown, expected.to_dict(orient="records"), strict=True):
        assert int(row[0]) == int(want["n"])
        assert int(row[1]) == int(want["escalate_if_tox_le"])
        assert int(row[2]) == int(want["deescalate_if_tox_ge"])
    # One design for all three arms, named by their labels.
    assert "Arms: Autologous CD5 CAR T-cells, Prior stem-cell transplantation" in page


def test_simulation_shows_the_engines_operating_characteristics(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    csrf = signed_in("stat")
    form = {
        "csrf_token": csrf,
        "scenario": "nct07070323-dl1-best",
        "arm": "autologous",
        "trials": "200",
        "seed": "7",
    }
    r = client.post("/protocol/simulate", data=form, headers=HTMX)
    assert r.status_code == 200
    protocol = default_protocol()
    truth = for_design(builtin_scenario("nct07070323-dl1-best"), protocol)  # DL1, DL2 only
    scenario = with_protocol_windows(truth, protocol)
    summary = simulate(scenario, protocol.design_params("autologous"), 200, 7).to_dict()
    correct = f"{summary['pct_select_true_obd']:g}"
    assert f"<dt>Correct selection</dt><dd>{correct}%" in r.text
    r = client.post("/protocol/simulate", data={**form, "trials": "999999"}, headers=HTMX)
    assert "trials: must be from 1 to 2,000" in r.text


def test_design_report_opens_in_the_chosen_language(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    signed_in("stat")
    client.get("/lang/zh_CN")
    r = client.get("/protocol/report")
    assert r.status_code == 200 and r.text.startswith("<!DOCTYPE html>")
    assert "操作特征" in r.text  # the report's Chinese text (report/locale/zh)


def test_crs_grade_is_computed_live_with_its_determining_component(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    """clinical.md §2 (ASTCT 2019): one pressor plus vasopressin is grade 3, not 4; exactly
    6 L/min by nasal cannula is grade 2 (low flow); fever alone is grade 1."""
    csrf = signed_in("coord1")

    def grade(**values: str) -> tuple[str, str]:
        r = client.post("/tools/crs", data={"csrf_token": csrf, **values}, headers=HTMX)
        g = re.search(r'data-grade="(\d)"', r.text)
        by = re.search(r'data-determined-by="([a-z_]+)"', r.text)
        return (g.group(1) if g else "?", by.group(1) if by else "")

    assert grade(fever="yes") == ("1", "fever")
    assert grade(fever="yes", oxygen_device="nasal_cannula", oxygen_l_min="6") == ("2", "hypoxia")
    assert grade(fever="yes", hypotension="yes", vasopressors="1", vasopressin="yes") == (
        "3",
        "hypotension",
    )
    r = client.post("/tools/crs", data={"csrf_token": csrf, "vasopressors": "many"}, headers=HTMX)
    assert "vasopressors: must be a number" in r.text


def test_icans_grade_follows_the_age_rule(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    """clinical.md §2: ICE 0 in an awake patient is grade 3 set by ICE; below 12 the CAPD."""
    csrf = signed_in("coord1")
    r = client.post("/tools/icans", data={"csrf_token": csrf, "age_years": "30", "ice_score": "0"})
    assert 'data-grade="3"' in r.text and 'data-determined-by="ice"' in r.text
    r = client.post("/tools/icans", data={"csrf_token": csrf, "age_years": "8", "ice_score": "5"})
    assert "ICE is not used below age 12" in r.text


def test_dose_calculator_shows_feasibility_and_the_fallback(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    """clinical.md §1 worked example: 6.84×10⁷ CAR+ cells; for 70 kg DL2 is not feasible and
    the planned DL2 falls back to DL-1; for 25 kg DL2 is feasible (73% of the bag)."""
    csrf = signed_in("coord1")
    product = {"tnc": "2.0e8", "viability": "90", "cd3": "95", "car": "40", "volume_ml": "50"}
    r = client.post(
        "/tools/dose",
        data={"csrf_token": csrf, "weight_kg": "70", "level": "DL2", **product},
        headers=HTMX,
    )
    assert "6.84×10⁷" in r.text
    assert 'data-level="DL2" data-feasible="false"' in r.text
    assert 'id="assigned-level" data-level="DL-1" data-fallback="true"' in r.text
    r = client.post(
        "/tools/dose",
        data={"csrf_token": csrf, "weight_kg": "25", "level": "DL2", **product},
        headers=HTMX,
    )
    assert 'id="assigned-level" data-level="DL2" data-fallback="false"' in r.text
    assert re.search(r'data-level="DL2" data-feasible="true">.*?73%', r.text, re.S)


def test_chinese_protocol_page_gives_every_assumption_its_chinese_reason(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    signed_in("coord1")
    client.get("/lang/zh_CN")
    page = client.get("/protocol").text
    listed = page.split('<ol class="assumptions">', 1)[1].split("</ol>", 1)[0]
    items = re.findall(r'<li id="A\d+">(.*?)</li>', listed, re.S)
    notes = assumptions(default_protocol())
    assert len(items) == len(notes)
    for item, note in zip(items, notes, strict=True):
        words = re.sub(r"<[^>]+>", "", item).replace("`", "")
        assert note.why_zh.replace("`", "") in words, note.path
        assert note.why not in words and "英文原文" not in words
    # the registry's file references as code, an English name quoted as English
    assert "<code>clinical.md §4.1</code>" in listed
    assert '“<span lang="en" class="en-source">Liquan</span>”' in listed
