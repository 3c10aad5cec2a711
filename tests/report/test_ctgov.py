"""The ClinicalTrials.gov results section from the scripted whole-trial run: every number equals
a count made here directly from the trial's frames (and, where the script knows it, from what the
script did), every group id used is declared, the JSON round-trips, the HTML prints the same
numbers, and the CLI export writes the file and is audit-logged."""

from __future__ import annotations

import dataclasses
import json
import re
import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from demo_trial import DemoTrial
from demo_trial import run_cli as run
from dosewise.errors import InvalidParameter
from dosewise.report.ctgov import build_ctgov, ctgov_html, export_ctgov
from dosewise.report.trial_data import TrialData
from dosewise.store.tables import AdverseEvent, AuditRecord, Enrollment

CELL = re.compile(r'id="([^"]+)">([^<]*)<')
ARMS = ("autologous", "prior_sct_donor", "new_donor")


@pytest.fixture(scope="module")
def doc(trial: TrialData) -> dict[str, Any]:
    return build_ctgov(trial)


@pytest.fixture(scope="module")
def cells(doc: dict[str, Any]) -> dict[str, str]:
    return dict(CELL.findall(ctgov_html(doc)))


def module(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["resultsSection"][name]
    return found


def group_of(
    doc: dict[str, Any], prefix: str, phase: int | None = None
) -> dict[tuple[str, str | None], str]:
    """(arm, dose level or None) → group id, for the groups whose id starts with ``prefix``
    (and, for outcome groups, of ``phase``)."""
    return {
        (k["armId"], k.get("doseLevel")): gid
        for gid, k in doc["groupKeys"].items()
        if gid.startswith(prefix) and "armId" in k and (phase is None or k.get("phase") == phase)
    }


def values(items: list[dict[str, Any]], key: str = "value") -> dict[str, str]:
    return {m["groupId"]: m[key] for m in items}


def treated(trial: TrialData, phase: int | None = None) -> pd.DataFrame:
    p = trial.participants
    if phase is not None:
        p = p[p["phase"] == phase]
    return p[[d is not None for d in p["infused_on"]]]


def outcome(doc: dict[str, Any], word: str) -> tuple[int, dict[str, Any]]:
    measures = module(doc, "outcomeMeasuresModule")["outcomeMeasures"]
    return next((i, m) for i, m in enumerate(measures) if word in m["title"])


def category(measure: dict[str, Any], class_title: str | None, title: str) -> dict[str, str]:
    for c in measure["classes"]:
        if c.get("title") == class_title:
            for k in c["categories"]:
                if k.get("title") == title:
                    return values(k["measurements"])
    raise KeyError((class_title, title))


# --------------------------------------------------------------------------- participant flow


def test_flow_starts_with_the_enrolled_participants_of_each_arm(
    doc: dict[str, Any], trial: TrialData, demo_db: DemoTrial
) -> None:
    flow = module(doc, "participantFlowModule")
    period = flow["periods"][0]
    milestones = {m["type"]: values(m["achievements"], "numSubjects") for m in period["milestones"]}
    assert list(milestones) == [
        "STARTED",
        "Received CD5 CAR T-cell infusion",
        "COMPLETED",
        "NOT COMPLETED",
    ]
    groups = group_of(doc, "FG")
    t, e = treated(trial), trial.enrolled
    for arm in ARMS:
        gid = groups[(arm, None)]
        n = int((e["arm_id"] == arm).sum())
        assert milestones["STARTED"][gid] == str(n)
        assert milestones["Received CD5 CAR T-cell infusion"][gid] == str(
            int((t["arm_id"] == arm).sum())
        )
        assert n == sum(p.arm == arm for p in demo_db.result.patients)
        done, not_done = int(milestones["COMPLETED"][gid]), int(milestones["NOT COMPLETED"][gid])
        assert done + not_done == n
        reasons = sum(
            int(values(w["reasons"], "numSubjects")[gid]) for w in period["dropWithdraws"]
        )
        assert reasons == not_done
    assert sum(int(v) for v in milestones["STARTED"].values()) == 55


def test_flow_counts_deaths_withdrawals_and_ongoing_follow_up(trial: TrialData) -> None:
    """Take two participants off study inside the month-3 window and move the cut-off so that the
    last infusions are still in follow-up: each lands in its reason, the rest completed."""
    p = trial.participants.copy()
    t = treated(trial).sort_values("infused_on")
    first, second = t.index[0], t.index[1]
    died_on = p.at[first, "infused_on"] + timedelta(days=10)
    p.at[first, "off_study_on"] = died_on
    p.at[first, "off_study_reason"] = "death: progressive disease"
    p.at[first, "death_on"] = died_on
    p.at[second, "off_study_on"] = p.at[second, "infused_on"] + timedelta(days=20)
    p.at[second, "off_study_reason"] = "withdrawal: moved away"
    cutoff = max(t["infused_on"]) + timedelta(days=30)
    doc = build_ctgov(dataclasses.replace(trial, participants=p, as_of=cutoff))
    period = module(doc, "participantFlowModule")["periods"][0]
    reasons = {w["type"]: values(w["reasons"], "numSubjects") for w in period["dropWithdraws"]}
    groups = group_of(doc, "FG")
    ongoing = t[[d + timedelta(days=97) > cutoff for d in t["infused_on"]]]
    for arm in ARMS:
        gid = groups[(arm, None)]
        dead = int(t.at[first, "arm_id"] == arm)
        withdrew = int(t.at[second, "arm_id"] == arm)
        waiting = int((ongoing["arm_id"] == arm).sum())
        assert reasons["Death"][gid] == str(dead)
        assert reasons["Withdrawal by Subject"][gid] == str(withdrew)
        assert reasons["Follow-up ongoing at data cut-off"][gid] == str(waiting)
        completed = values(period["milestones"][2]["achievements"], "numSubjects")[gid]
        assert completed == str(int((t["arm_id"] == arm).sum()) - dead - withdrew - waiting)
    assert len(ongoing) > 0
    events = module(doc, "adverseEventsModule")["eventGroups"]
    deaths = {g["id"]: g["deathsNumAffected"] for g in events}
    assert sum(deaths.values()) == 1
    assert deaths[group_of(doc, "EG")[(t.at[first, "arm_id"], None)]] == 1


# --------------------------------------------------------------------------- baseline


def test_baseline_counts_equal_the_participants(doc: dict[str, Any], trial: TrialData) -> None:
    base = module(doc, "baselineCharacteristicsModule")
    t = treated(trial)
    ids = [g["id"] for g in base["groups"]]
    assert base["groups"][-1]["title"] == "Total" and len(ids) == 4
    by_arm = {**{group_of(doc, "BG")[(a, None)]: t[t["arm_id"] == a] for a in ARMS}, ids[-1]: t}
    denoms = values(base["denoms"][0]["counts"])
    measures = {m["title"]: m for m in base["measures"]}
    for gid, rows in by_arm.items():
        ages = [int(a) for a in rows["age_years"]]
        assert denoms[gid] == str(len(rows))
        age = values(measures["Age, Continuous"]["classes"][0]["categories"][0]["measurements"])
        assert float(age[gid]) == pytest.approx(statistics.median(ages), abs=0.01)
        lows = measures["Age, Continuous"]["classes"][0]["categories"][0]["measurements"]
        assert {m["groupId"]: m["lowerLimit"] for m in lows}[gid] == str(min(ages))
        categorical = measures["Age, Categorical"]
        assert category(categorical, None, "<=18 years")[gid] == str(sum(a <= 18 for a in ages))
        assert category(categorical, None, "Between 18 and 65 years")[gid] == str(
            sum(18 < a < 65 for a in ages)
        )
        assert category(categorical, None, ">=65 years")[gid] == str(sum(a >= 65 for a in ages))
        bands = measures["Age, Customized"]
        for lo, hi in ((1, 7), (8, 18), (19, 70)):
            n = sum(lo <= a <= hi for a in ages)
            assert category(bands, None, f"{lo}-{hi} years")[gid] == str(n)
        sex = measures["Sex: Female, Male"]
        assert category(sex, None, "Female")[gid] == str(int((rows["sex"] == "female").sum()))
        assert category(sex, None, "Male")[gid] == str(int((rows["sex"] == "male").sum()))
        assert category(measures["Region of Enrollment"], "China", None)[gid] == str(len(rows))
        sites = measures["Study site"]["classes"][0]["categories"]
        assert sum(int(values(c["measurements"])[gid]) for c in sites) == len(rows)


# --------------------------------------------------------------------------- outcome measures


def test_outcome_measures_are_the_registered_primary_endpoints(
    doc: dict[str, Any], trial: TrialData
) -> None:
    measures = module(doc, "outcomeMeasuresModule")["outcomeMeasures"]
    registered = trial.protocol.registry.primary_endpoints
    assert [(m["type"], m["title"], m["timeFrame"]) for m in measures] == [
        ("PRIMARY", e.measure, e.time_frame) for e in registered
    ]
    t = treated(trial, phase=1)
    given = {(a, lv, 1) for a, lv in zip(t["arm_id"], t["actual_level"], strict=True)}
    for m in measures:
        assert m["reportingStatus"] == "POSTED" and m["paramType"] == "COUNT_OF_PARTICIPANTS"
        keys = [doc["groupKeys"][g["id"]] for g in m["groups"]]
        found = {(k["armId"], k.get("doseLevel"), k["phase"]) for k in keys}
        if "response" in m["title"].lower():
            # phase 2 endpoint: one group per arm over the phase 2 participants
            assert found == {(a, None, 2) for a in ARMS}
        else:
            # phase 1 endpoints: one group per arm × dose level actually infused in phase 1
            assert found == given


def test_dlt_incidence_among_evaluable_by_arm_and_dose(
    doc: dict[str, Any], trial: TrialData, demo_db: DemoTrial
) -> None:
    _, m = outcome(doc, "dose-limiting")
    t = treated(trial, phase=1)
    evaluable = t[[e is True for e in t["dlt_evaluable"]]]
    denoms = values(m["denoms"][0]["counts"])
    anyd = category(m, None, "Any DLT")
    for (arm, level), gid in group_of(doc, "OG", 1).items():
        mine = evaluable[(evaluable["arm_id"] == arm) & (evaluable["actual_level"] == level)]
        assert denoms[gid] == str(len(mine))
        assert anyd[gid] == str(sum(d is True for d in mine["dlt"]))
    phase1 = [p for p in demo_db.result.patients if p.phase == 1]
    assert sum(int(v) for v in anyd.values()) == sum(p.dlt for p in phase1)
    # and equal to the arm pages: each arm state's DLT count by dose
    by_dose = {(a, d.level): d.dlt for a, st in trial.states.items() for d in st.doses if d.n}
    # and a fallback participant (safety only) at the level infused, outside the design's data
    states = trial.states.items()
    by_dose |= {(a, d.level): d.dlts for a, st in states for d in st.outside_doses if d.treated}
    assert {k: int(anyd[g]) for k, g in group_of(doc, "OG", 1).items()} == by_dose
    # by term: the adverse events flagged as the DLT, participants counted once
    ae = trial.adverse_events
    flagged = ae[[bool(x) for x in ae["is_dlt"]]]
    for term in set(flagged["term"]):
        row = category(m, None, f"DLT: {term}")
        for (arm, level), gid in group_of(doc, "OG", 1).items():
            people = set(flagged.loc[flagged["term"] == term, "participant_id"])
            mine = evaluable[(evaluable["arm_id"] == arm) & (evaluable["actual_level"] == level)]
            assert row[gid] == str(len(people & set(mine["participant_id"])))


def test_ae_incidence_and_worst_grade_within_30_days(doc: dict[str, Any], trial: TrialData) -> None:
    _, m = outcome(doc, "adverse events")
    t = treated(trial, phase=1)
    ae = trial.adverse_events
    ae = ae[ae["participant_id"].isin(set(t["participant_id"]))]
    window = ae[[d is not None and 0 <= d <= 30 for d in ae["study_day"]]]
    worst: dict[tuple[str, int], int] = {}
    for e in window.itertuples():
        key = (str(e.term), int(e.participant_id))
        worst[key] = max(worst.get(key, 0), int(e.grade))
    arm_level = {int(r.participant_id): (r.arm_id, r.actual_level) for r in t.itertuples()}
    groups = group_of(doc, "OG", 1)
    for term in {k[0] for k in worst}:
        counts: dict[str, list[int]] = defaultdict(list)
        for (tm, pid), grade in worst.items():
            if tm == term:
                counts[groups[arm_level[pid]]].append(grade)
        for gid in groups.values():
            assert category(m, term, "Any grade")[gid] == str(len(counts[gid]))
            for g in range(1, 6):
                assert category(m, term, f"Grade {g}")[gid] == str(counts[gid].count(g))
    assert set(values(m["denoms"][0]["counts"]).values()) == {
        str(int(((t["arm_id"] == a) & (t["actual_level"] == lv)).sum())) for a, lv in groups
    }


def test_best_overall_response_categories(doc: dict[str, Any], trial: TrialData) -> None:
    _, m = outcome(doc, "overall response")
    t = treated(trial, phase=2)
    titles = {
        "CR": "Complete remission (CR)",
        "CRi": "Complete remission with incomplete count recovery (CRi)",
        "SD/NR": "Stable disease / no response (SD/NR)",
        "PD": "Progressive disease (PD)",
    }
    assert len(t) > 0
    for (arm, level), gid in group_of(doc, "OG", 2).items():
        assert level is None
        mine = t[(t["arm_id"] == arm) & t["bor"].notna()]
        for code, title in titles.items():
            assert category(m, None, title)[gid] == str(int((mine["bor"] == code).sum()))
        total = sum(
            int(v[gid]) for v in (values(k["measurements"]) for k in m["classes"][0]["categories"])
        )
        assert total == len(mine) == int(values(m["denoms"][0]["counts"])[gid])


# --------------------------------------------------------------------------- adverse events


def test_adverse_events_by_term_equal_the_database_rows(
    doc: dict[str, Any], demo_db: DemoTrial
) -> None:
    with demo_db.db.sessions() as s:
        events = [
            (e.participant_id, e.term, e.serious, e.scale) for e in s.scalars(select(AdverseEvent))
        ]
        arm = {e.participant_id: e.arm_id for e in s.scalars(select(Enrollment))}
    ae = module(doc, "adverseEventsModule")
    groups = group_of(doc, "EG")
    n_arm = {a: sum(p.arm == a for p in demo_db.result.patients) for a in ARMS}
    for kind, serious in (("seriousEvents", True), ("otherEvents", False)):
        listed = {e["term"]: e for e in ae[kind]}
        for term in {t for _, t, s_, _ in events if s_ is serious}:
            stats = {s["groupId"]: s for s in listed[term]["stats"]}
            for a in ARMS:
                mine = [
                    pid for pid, t, s_, _ in events if t == term and s_ is serious and arm[pid] == a
                ]
                got = stats[groups[(a, None)]]
                assert (got["numEvents"], got["numAffected"], got["numAtRisk"]) == (
                    len(mine),
                    len(set(mine)),
                    n_arm[a],
                )
    vocab = {e["term"]: e["sourceVocabulary"] for e in [*ae["seriousEvents"], *ae["otherEvents"]]}
    assert vocab["Cytokine release syndrome"] == "ASTCT (2019)"
    assert vocab["Neutrophil count decreased"] == "CTCAE (5.0)"
    assert ae["frequencyThreshold"] == "5"
    for g in ae["eventGroups"]:
        a = doc["groupKeys"][g["id"]]["armId"]
        serious_people = {pid for pid, _, s_, _ in events if s_ and arm[pid] == a}
        assert g["seriousNumAffected"] == len(serious_people)
        assert g["deathsNumAffected"] == 0 and g["deathsNumAtRisk"] == n_arm[a]


# --------------------------------------------------------------------------- structure, JSON, HTML


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def test_every_group_id_used_is_declared(doc: dict[str, Any]) -> None:
    results = doc["resultsSection"]
    scopes = [
        (results["participantFlowModule"], results["participantFlowModule"]["groups"]),
        (
            results["baselineCharacteristicsModule"],
            results["baselineCharacteristicsModule"]["groups"],
        ),
        (results["adverseEventsModule"], results["adverseEventsModule"]["eventGroups"]),
        *[(m, m["groups"]) for m in results["outcomeMeasuresModule"]["outcomeMeasures"]],
    ]
    for scope, declared in scopes:
        ids = {g["id"] for g in declared}
        assert len(ids) == len(declared) > 0
        used = {n["groupId"] for n in _walk(scope) if "groupId" in n}
        assert used == ids
    assert set(doc["groupKeys"]) == {g["id"] for _, declared in scopes for g in declared}


def test_json_round_trip(doc: dict[str, Any], trial: TrialData, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    detail = export_ctgov(trial, out, "zh")  # the language is ignored: the registry is English
    text = out.read_text(encoding="utf-8")
    assert text.startswith('{\n  "nctId": "NCT07070323"')
    assert json.loads(text) == doc
    assert doc["dataCutoffDate"] == trial.as_of.isoformat()
    assert detail == {
        "format": "json",
        "groups": 3,
        "outcome_groups": len(group_of(doc, "OG")),
        "outcome_measures": 3,
        "treated": 55,
        "serious_terms": len(module(doc, "adverseEventsModule")["seriousEvents"]),
        "other_terms": len(module(doc, "adverseEventsModule")["otherEvents"]),
    }
    with pytest.raises(InvalidParameter) as bad:
        export_ctgov(trial, tmp_path / "results.pdf", "en")
    assert bad.value.field == "out"


def test_html_prints_the_same_numbers(doc: dict[str, Any], cells: dict[str, str]) -> None:
    checked = 0
    for p, period in enumerate(module(doc, "participantFlowModule")["periods"]):
        for i, m in enumerate(period["milestones"]):
            for a in m["achievements"]:
                assert cells[f"flow-p{p}-m{i}-{a['groupId']}"] == a["numSubjects"]
                checked += 1
    for prefix, measures in (
        ("bl", module(doc, "baselineCharacteristicsModule")["measures"]),
        ("om", module(doc, "outcomeMeasuresModule")["outcomeMeasures"]),
    ):
        for i, m in enumerate(measures):
            for ci, c in enumerate(m["classes"]):
                for ki, k in enumerate(c["categories"]):
                    for x in k["measurements"]:
                        assert cells[f"{prefix}{i}-c{ci}-k{ki}-{x['groupId']}"] == x["value"]
                        checked += 1
    for i, m in enumerate(module(doc, "outcomeMeasuresModule")["outcomeMeasures"]):
        for c in m["denoms"][0]["counts"]:
            assert cells[f"om{i}-n-{c['groupId']}"] == c["value"]
    ae = module(doc, "adverseEventsModule")
    for g in ae["eventGroups"]:
        for kind in ("deaths", "serious", "other"):
            assert cells[f"ae-{kind}-{g['id']}-affected"] == str(g[f"{kind}NumAffected"])
            assert cells[f"ae-{kind}-{g['id']}-atrisk"] == str(g[f"{kind}NumAtRisk"])
    for prefix, events in (("ae-s", ae["seriousEvents"]), ("ae-o", ae["otherEvents"])):
        for i, e in enumerate(events):
            for s in e["stats"]:
                for key, field in (("affected", "numAffected"), ("events", "numEvents")):
                    assert cells[f"{prefix}{i}-{s['groupId']}-{key}"] == str(s[field])
                    checked += 1
    assert checked > 300


# --------------------------------------------------------------------------- the CLI


def test_cli_writes_the_file_and_audits_the_export(
    demo_db: DemoTrial, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ctgov.json"
    args = ["report", "ctgov", "--out", str(out), "--database-url", demo_db.url]
    assert run([*args, "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert (said["report"], said["format"], said["outcome_measures"]) == ("ctgov", "json", 3)
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["nctId"] == "NCT07070323" and written["dataCutoffDate"] == said["as_of"]
    with demo_db.db.sessions() as s:
        last = s.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
        assert last is not None and last.action == "report.export.ctgov"
    html = tmp_path / "ctgov.html"
    assert run(["report", "ctgov", "--out", str(html), "--database-url", demo_db.url]) == 0
    assert "wrote ctgov (html)" in capsys.readouterr().out
    assert "Serious Adverse Events" in html.read_text(encoding="utf-8")
    assert (
        run(["report", "ctgov", "--out", str(tmp_path / "x.pdf"), "--database-url", demo_db.url])
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: out=") and "\n" not in err


# --------------------------------------------------------------------------- issue 18


def test_a_product_failure_stays_in_the_flow(trial: TrialData) -> None:
    """An enrolled participant whose product was rejected and who was never infused has
    STARTED and is NOT COMPLETED with the reason product failure."""
    p = trial.participants.copy()
    row = treated(trial).index[0]
    arm = p.at[row, "arm_id"]
    p.at[row, "infused_on"] = None
    p.at[row, "product_rejected"] = True
    doc = build_ctgov(dataclasses.replace(trial, participants=p))
    period = module(doc, "participantFlowModule")["periods"][0]
    milestones = {m["type"]: values(m["achievements"], "numSubjects") for m in period["milestones"]}
    reasons = {w["type"]: values(w["reasons"], "numSubjects") for w in period["dropWithdraws"]}
    gid = group_of(doc, "FG")[(arm, None)]
    assert sum(int(v) for v in milestones["STARTED"].values()) == 55
    assert sum(int(v) for v in milestones["Received CD5 CAR T-cell infusion"].values()) == 54
    assert reasons["Product failure (not infused)"][gid] == "1"
    assert sum(int(v) for v in reasons["Product failure (not infused)"].values()) == 1


def test_more_information_from_the_protocol_file(
    doc: dict[str, Any], trial: TrialData, cells: dict[str, str]
) -> None:
    more = doc["resultsSection"]["moreInfoModule"]
    reg = trial.protocol.registry
    assert more["pointOfContact"] == {
        "title": "Shaocong Miao",
        "organization": "Beijing GoBroad Hospital",
        "phone": "86+18831006667",
    }
    assert reg.limitations_and_caveats is not None
    assert more["limitationsAndCaveats"]["description"] == " ".join(
        reg.limitations_and_caveats.split()
    )
    assert cells["limitations"] == more["limitationsAndCaveats"]["description"]
    bare = reg.model_copy(update={"contacts": (), "limitations_and_caveats": None})
    protocol = trial.protocol.model_copy(update={"registry": bare})
    assert (
        "moreInfoModule"
        not in build_ctgov(dataclasses.replace(trial, protocol=protocol))["resultsSection"]
    )


def test_the_default_cut_off_is_the_last_clinical_day_and_is_printed(
    demo_db: DemoTrial, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dosewise.report.cutoff import latest_clinical_day

    with demo_db.db.sessions() as s:
        clinical = latest_clinical_day(s)
    assert clinical is not None
    out = tmp_path / "ctgov.json"
    for _ in range(2):  # the first export's audit record does not move the second's default
        assert run(["report", "ctgov", "--out", str(out), "--database-url", demo_db.url]) == 0
        said = capsys.readouterr().out
        assert f"(data cut-off {clinical.isoformat()})" in said
        assert json.loads(out.read_text("utf-8"))["dataCutoffDate"] == clinical.isoformat()
