"""SDTM datasets from the scripted whole-trial run: values, SDTMIG naming rules, XPT round trip.

Rules checked (SDTMIG v3.4 §4.1; SAS XPORT v5 / FDA Study Data Technical Conformance Guide
§3.3): dataset and variable names ≤ 8 characters, labels ≤ 40, character values ≤ 200, ASCII;
``USUBJID`` unique across the study and ``--SEQ`` unique within a subject; dates ISO 8601; no
study day 0.
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from hypothesis import given
from hypothesis import strategies as st

from demo_trial import DemoTrial
from dosewise.protocol import default_protocol
from dosewise.report.sdtm import DOMAINS, Dataset, Variable, build_sdtm, check_rules, study_day
from dosewise.report.trial_data import TrialData

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@pytest.fixture(scope="module")
def sdtm(trial: TrialData) -> dict[str, Dataset]:
    return build_sdtm(trial)


@pytest.fixture(scope="module")
def folder(sdtm: dict[str, Dataset], tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dosewise.report.sdtm import write_sdtm

    out = tmp_path_factory.mktemp("sdtm")
    write_sdtm(sdtm, out, "NCT07070323")
    return out


def test_all_domains_written(sdtm: dict[str, Dataset], folder: Path) -> None:
    assert set(DOMAINS) - set(sdtm) <= {"DV"}  # the scripted run has no deviation
    for name in sdtm:
        assert (folder / f"{name.lower()}.xpt").is_file()
        assert (folder / f"{name.lower()}.csv").is_file()
    for name in ("define.xml", "define.html", "define.csv"):
        assert (folder / name).is_file()


def test_xpt_reads_back_the_same_values_and_labels(sdtm: dict[str, Dataset], folder: Path) -> None:
    for name, dataset in sdtm.items():
        frame, meta = pyreadstat.read_xport(str(folder / f"{name.lower()}.xpt"))
        assert meta.table_name == name
        assert list(frame.columns) == [v.name for v in dataset.variables]
        assert meta.column_labels == [v.label for v in dataset.variables]
        assert len(frame) == len(dataset.frame) > 0
        for v in dataset.variables:
            ours, back = dataset.frame[v.name], frame[v.name]
            if v.type == "Num":
                pd.testing.assert_series_equal(
                    ours.astype(float), back.astype(float), check_names=False
                )
            else:
                assert [str(x) for x in ours] == [str(x) for x in back], f"{name}.{v.name}"


def test_names_labels_and_lengths_follow_sdtmig(sdtm: dict[str, Dataset], folder: Path) -> None:
    for name, dataset in sdtm.items():
        assert check_rules(dataset) == []
        assert len(name) <= 8 and name.isupper()
        assert len(dataset.label) <= 40
        _, meta = pyreadstat.read_xport(str(folder / f"{name.lower()}.xpt"), metadataonly=True)
        for column in meta.column_names:
            assert len(column) <= 8 and column.isupper(), column
        for label in meta.column_labels:
            assert len(label) <= 40, label
        for v in dataset.variables:
            if v.type == "Char":
                assert dataset.frame[v.name].map(len).max() <= 200
    define = pd.read_csv(folder / "define.csv")
    assert set(define["dataset"]) == set(sdtm)
    assert (define["variable"].str.len() <= 8).all() and (define["label"].str.len() <= 40).all()


def test_rule_check_catches_bad_names() -> None:
    frame = pd.DataFrame({"TOOLONGNAME": ["x" * 201]})
    bad = Dataset("AE", "x", "s", (Variable("TOOLONGNAME", "L" * 41),), frame)
    rules = {rule for _, rule in check_rules(bad)}
    assert any("8 characters" in r for r in rules)
    assert any("40 characters" in r for r in rules)
    assert any("200 characters" in r for r in rules)


def test_dm_subjects_match_the_run(sdtm: dict[str, Dataset], demo_db: DemoTrial) -> None:
    dm = sdtm["DM"].frame
    result = demo_db.result
    assert (dm["STUDYID"] == "NCT07070323").all()
    assert (dm["USUBJID"] == dm["STUDYID"] + "-" + dm["SUBJID"]).all()
    assert dm["USUBJID"].is_unique
    treated = {p.study_id for p in result.patients}
    failed = {f["study_id"] for f in result.screen_failures}
    assert set(dm["SUBJID"]) == treated | failed
    assert set(dm.loc[dm["ARMNRS"] == "SCREEN FAILURE", "SUBJID"]) == failed
    assert (dm.loc[dm["ARMNRS"] == "SCREEN FAILURE", ["ARMCD", "ACTARMCD"]] == "").all().all()
    assert dm["SEX"].isin(["M", "F"]).all()
    for column in ("RFSTDTC", "RFICDTC"):
        filled = dm.loc[dm[column] != "", column]
        assert filled.map(lambda s: bool(ISO_DATE.match(s))).all()
    for p in result.patients:
        row = dm[dm["SUBJID"] == p.study_id].iloc[0]
        assert row["RFSTDTC"] == p.infused_on.isoformat()
        assert row["AGE"] == p.age


def test_ex_dose_in_cells_per_kg_with_planned_and_actual_level(
    sdtm: dict[str, Dataset], demo_db: DemoTrial
) -> None:
    ex, supp = sdtm["EX"].frame, sdtm["SUPPEX"].frame
    ex = ex[ex["EXCAT"] == "CAR-T INFUSION"]
    cells = {"DL-1": 5e5, "DL1": 1e6, "DL2": 2e6}  # registry dose levels, cells/kg
    assert len(ex) == len(demo_db.result.patients) == 55
    ladder = default_protocol().dose_levels
    assert (ex["EXDOSU"] == "cells/kg").all()
    for p in demo_db.result.patients:
        row = ex[ex["USUBJID"] == f"NCT07070323-{p.study_id}"].iloc[0]
        assert p.analysed_dose is not None
        level = ladder.by_index(p.analysed_dose).name
        assert row["EXDOSTXT"] == level
        assert math.isclose(row["EXDOSE"], cells[level], rel_tol=0.2)  # ±20 % tolerance
        q = supp[supp["USUBJID"] == row["USUBJID"]].set_index("QNAM")["QVAL"]
        assert q["FALLBKFL"] == ("Y" if p.fallback else "N")
        if p.fallback:
            assert q["PLANLVL"] != level and row["EXADJ"]
        else:
            assert q["PLANLVL"] == level and row["EXADJ"] == ""
    assert sum(p.fallback for p in demo_db.result.patients) == 1


def test_ae_and_suppae(sdtm: dict[str, Dataset], trial: TrialData, demo_db: DemoTrial) -> None:
    ae, supp = sdtm["AE"].frame, sdtm["SUPPAE"].frame
    assert len(ae) == len(trial.adverse_events) > 0
    assert not ae.duplicated(["USUBJID", "AESEQ"]).any()
    for _, group in ae.groupby("USUBJID"):
        assert sorted(group["AESEQ"]) == list(range(1, len(group) + 1))
    assert ae["AESER"].isin(["Y", "N"]).all()
    assert ae["AETOXGR"].isin([str(g) for g in range(1, 6)]).all()
    assert (ae["AEBODSYS"] != "").all() and (ae["AEDECOD"] != "").all()
    assert (ae["AESTDY"] != 0).all()
    scales = supp[supp["QNAM"] == "AETOXGRS"]
    assert len(scales) == len(ae)
    assert set(scales["QVAL"]) <= {"CTCAE v5", "ASTCT 2019"}
    dlt = supp[(supp["QNAM"] == "AEDLT") & (supp["QVAL"] == "Y")]
    adjudicated = [a for a in demo_db.result.adjudications if a["is_dlt"]]
    assert (
        len({u for u in dlt["USUBJID"]})
        == len(adjudicated)
        == sum(p.dlt for p in demo_db.result.patients)
    )
    # Each DLT event is a grade >= 3 CRS/ICANS/GVHD (the protocol's DLT definition)
    keys = dlt[["USUBJID", "IDVARVAL"]].astype(str).agg("/".join, axis=1)
    rows = ae[(ae["USUBJID"] + "/" + ae["AESEQ"].map(lambda s: f"{s:g}")).isin(keys)]
    assert (rows["AETOXGR"].astype(int) >= 3).all() and len(rows) == len(dlt)


def test_rs_overall_and_best_response(sdtm: dict[str, Dataset], demo_db: DemoTrial) -> None:
    rs = sdtm["RS"].frame
    assert set(rs["RSTESTCD"]) == {"OVRLRESP", "BESTRSP"}
    best = rs[rs["RSTESTCD"] == "BESTRSP"].set_index("USUBJID")
    assert best.index.is_unique
    for p in demo_db.result.patients:
        bor = best.loc[f"NCT07070323-{p.study_id}"]
        assert (bor["RSSTRESC"] in ("CR", "CRi")) == p.responder or p.phase == 2
    assert rs["RSSTRESC"].isin(["CR", "CRi", "PR", "SD", "PD", "NE", "MLFS"]).all()
    # CRi keeps its controlled-term case; every assessment has its planned visit number
    assert set(rs.loc[rs["RSORRES"] == "CRi", "RSSTRESC"]) <= {"CRi"}
    over = rs[rs["RSTESTCD"] == "OVRLRESP"]
    # day 28, month 2 and month 3: the protocol's response visits (``visits:``), each in TV
    assert set(over["VISITNUM"]) == {4.0, 5.0, 6.0}
    assert set(sdtm["TV"].frame["VISITNUM"]) >= {4.0, 5.0, 6.0}
    assert not rs.duplicated(["USUBJID", "RSSEQ"]).any()


def test_ds_milestones(sdtm: dict[str, Dataset], demo_db: DemoTrial) -> None:
    ds = sdtm["DS"].frame
    consent = ds[ds["DSDECOD"] == "INFORMED CONSENT OBTAINED"]
    assert len(consent) == len(sdtm["DM"].frame)
    assert len(ds[ds["DSDECOD"] == "ENROLLED"]) == 55
    assert len(ds[ds["DSDECOD"] == "SCREEN FAILURE"]) == len(demo_db.result.screen_failures)
    assert ds["DSSTDTC"].map(lambda s: bool(ISO_DATE.match(s))).all()


@given(st.dates(date(1900, 1, 1), date(2100, 12, 31)), st.integers(-400, 400))
def test_study_day_has_no_day_zero(reference: date, offset: int) -> None:
    day = study_day(reference + timedelta(days=offset), reference)
    assert day != 0
    assert day == (offset + 1 if offset >= 0 else offset)
