"""SDTM trial design, epochs, phases, lymphodepletion, IE, DV and the phase 1 DLT counts.

The done-when check of issue 18: the phase 1 DLT counts by arm and dose rebuilt from the XPT
files alone (DM's ARMCD/ACTARMCD and SUPPDM's final adjudication) equal the arm state's.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from dosewise.report.sdtm import Dataset, build_sdtm, write_sdtm
from dosewise.report.sdtm_design import planned_arms
from dosewise.report.sdtm_events import ie
from dosewise.report.sdtm_terms import meddra_mapping
from dosewise.report.trial_data import TrialData


@pytest.fixture(scope="module")
def sdtm(trial: TrialData) -> dict[str, Dataset]:
    return build_sdtm(trial)


@pytest.fixture(scope="module")
def xpt(sdtm: dict[str, Dataset], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sdtm-design")
    write_sdtm(sdtm, out, "NCT07070323")
    return out


def read(folder: Path, name: str) -> pd.DataFrame:
    frame, _ = pyreadstat.read_xport(str(folder / f"{name.lower()}.xpt"))
    return frame


def test_phase1_dlt_counts_by_arm_and_dose_from_sdtm_equal_the_arm_state(
    xpt: Path, trial: TrialData
) -> None:
    dm, supp = read(xpt, "DM"), read(xpt, "SUPPDM")
    flags = supp.pivot(index="USUBJID", columns="QNAM", values="QVAL")
    arms = {
        code: (phase, arm_id, level)
        for code, _, phase, arm_id, level in planned_arms(trial.protocol)
    }
    counted: dict[tuple[str, str], list[int]] = {}
    for row in dm.itertuples():
        if not row.ACTARMCD or arms[row.ACTARMCD][0] != 1 or row.USUBJID not in flags.index:
            continue
        if flags.loc[row.USUBJID, "DLTEVAL"] != "Y":
            continue
        _, arm_id, level = arms[row.ACTARMCD]
        slot = counted.setdefault((arm_id, level), [0, 0])
        slot[0] += 1
        slot[1] += flags.loc[row.USUBJID, "DLTFL"] == "Y"
    expected = {
        (arm_id, d.level): [d.n, d.dlt]
        for arm_id, state in trial.states.items()
        for d in state.doses
        if d.n
    }
    # A fallback participant (outside the dose finding) is in no design data, but still in SDTM
    # at the level infused: the arm state's safety counts at that level.
    for arm_id, state in trial.states.items():
        for d in state.outside_doses:
            if d.evaluable:
                expected[(arm_id, d.level)] = [d.evaluable, d.dlts]
    assert ("autologous", "DL-1") in expected
    assert counted == expected
    assert sum(n for n, _ in expected.values()) > 0 and sum(x for _, x in expected.values()) > 0


def test_phase_in_armcd_rebuilds_both_populations(
    sdtm: dict[str, Dataset], trial: TrialData
) -> None:
    dm = sdtm["DM"].frame
    enrolled = trial.enrolled
    for phase in (1, 2):
        ids = set(enrolled.loc[enrolled["phase"] == phase, "study_id"])
        assert set(dm.loc[dm["ARMCD"].str.startswith(f"P{phase}-"), "SUBJID"]) == ids
    assert set(dm.loc[dm["ARMCD"] != "", "ARMCD"]) <= set(sdtm["TA"].frame["ARMCD"])
    assert set(dm.loc[dm["ACTARMCD"] != "", "ACTARMCD"]) <= set(sdtm["TA"].frame["ARMCD"])
    # the one fallback product: planned DL2, treated at DL-1 (a planned arm, so no ACTARMUD)
    fallback = dm[dm["ARMCD"] != dm["ACTARMCD"]]
    fallback = fallback[fallback["ACTARMCD"] != ""]
    assert len(fallback) == 1 and fallback.iloc[0]["ACTARMCD"].endswith("DL-1")


def test_epoch_on_every_subject_record_and_from_te(sdtm: dict[str, Dataset]) -> None:
    epochs = set(sdtm["TA"].frame["EPOCH"])
    assert epochs == {"SCREENING", "LYMPHODEPLETION", "TREATMENT", "FOLLOW-UP"}
    for name in ("EX", "AE", "RS", "DS", "IE", "SE"):
        frame = sdtm[name].frame
        assert frame["EPOCH"].isin(epochs).all(), name
    ex = sdtm["EX"].frame
    assert (ex.loc[ex["EXCAT"] == "LYMPHODEPLETION", "EPOCH"] == "LYMPHODEPLETION").all()
    assert (ex.loc[ex["EXCAT"] == "CAR-T INFUSION", "EPOCH"] == "TREATMENT").all()
    ae = sdtm["AE"].frame
    assert (ae.loc[ae["AESTDY"] <= 28, "EPOCH"] == "TREATMENT").all()


def test_lymphodepletion_agents_doses_and_dates(sdtm: dict[str, Dataset], trial: TrialData) -> None:
    ex = sdtm["EX"].frame
    ld = ex[ex["EXCAT"] == "LYMPHODEPLETION"]
    assert set(ld["EXTRT"]) == {"FLUDARABINE", "CYCLOPHOSPHAMIDE"}
    assert len(ld) == sum(len(r) for r in trial.lymphodepletions["agents"])
    for r in trial.lymphodepletions.itertuples():
        own = ld[ld["USUBJID"] == f"NCT07070323-{r.study_id}"]
        assert own["EXSTDTC"].min() == r.start_on.isoformat()
        for agent in r.agents:
            row = own[own["EXTRT"] == agent["agent"].upper()].iloc[0]
            assert row["EXDOSE"] == agent["dose"] and row["EXDOSU"] == "mg/m2"
            span = max(agent["days"]) - min(agent["days"])
            assert row["EXSTDY"] == min(agent["days"]) and row["EXENDY"] == row["EXSTDY"] + span
    dm = sdtm["DM"].frame.set_index("USUBJID")
    first = ex.groupby("USUBJID")["EXSTDTC"].min()
    assert (dm.loc[first.index, "RFXSTDTC"] == first).all()


def test_trial_design_domains_from_the_protocol(sdtm: dict[str, Dataset], trial: TrialData) -> None:
    protocol = trial.protocol
    te, ta, tv, ti, ts = (sdtm[n].frame for n in ("TE", "TA", "TV", "TI", "TS"))
    assert list(te["ETCD"]) == ["SCRN", "LD", "CART", "FU"]
    assert te.loc[te["ETCD"] == "CART", "TEDUR"].item() == f"P{protocol.windows.dlt_days}D"
    assert ta["ARMCD"].nunique() == 2 * len(protocol.arms) * len(protocol.dose_levels.levels)
    assert set(ta["ETCD"]) == set(te["ETCD"])
    # infusion, day 28, the protocol's month-2 response visit (day 60 ± 7), month 3
    assert list(tv["VISITDY"].dropna()) == [1.0, 29.0, 61.0, 91.0]
    month2 = tv[tv["VISIT"] == "MONTH 2"]
    assert list(month2[["VISITNUM", "TVSTRL", "TVENRL"]].itertuples(index=False, name=None)) == [
        (5.0, "Protocol day 53", "Protocol day 67")
    ]
    assert set(ti["IETESTCD"]) == {c.id for c in protocol.screening_criteria.criteria}
    params = dict(zip(ts["TSPARMCD"], ts["TSVAL"], strict=False))
    assert params["REGID"] == "NCT07070323" and params["TPHASE"] == "PHASE I/II TRIAL"
    assert params["PLANSUB"] == "54" and params["SDTIGVER"] == "3.4"
    assert params["DCUTDTC"] == trial.as_of.isoformat()


def test_ie_holds_every_failed_criterion(sdtm: dict[str, Dataset], trial: TrialData) -> None:
    frame = sdtm["IE"].frame
    failed = [
        (f"NCT07070323-{s.study_id}", c)
        for s in trial.screenings.itertuples()
        for c in s.failed_criteria
    ]
    assert sorted(zip(frame["USUBJID"], frame["IETESTCD"], strict=True)) == sorted(failed)
    assert len(failed) > 0
    inclusion = frame["IECAT"] == "INCLUSION"
    assert (frame.loc[inclusion, "IEORRES"] == "N").all()
    assert (frame.loc[~inclusion, "IEORRES"] == "Y").all()


def test_ie_without_screenings_is_empty(trial: TrialData) -> None:
    empty = dataclasses.replace(trial, screenings=trial.screenings.iloc[0:0])
    assert ie(empty).frame.empty


def test_dv_derives_out_of_window_and_out_of_range_deviations(trial: TrialData) -> None:
    responses = trial.responses.copy()
    late = responses.index[responses["timepoint"] == "month_3"][0]
    responses.loc[late, "assessed_on"] = responses.loc[late, "assessed_on"] + timedelta(days=30)
    people = trial.participants.copy()
    treated = people.index[people["infused_on"].notna()][0]
    people.loc[treated, "cells_per_kg"] = float(people.loc[treated, "cells_per_kg"]) * 1.5
    changed = dataclasses.replace(trial, responses=responses, participants=people)
    dv = build_sdtm(changed)["DV"].frame
    assert set(dv["DVCAT"]) == {"VISIT WINDOW DEVIATION", "TREATMENT DEVIATION"}
    assert len(dv) == 2 and dv["EPOCH"].isin(["TREATMENT", "FOLLOW-UP"]).all()
    assert "DV" not in build_sdtm(trial)  # the scripted run keeps the protocol: no empty DV


def test_ae_meddra_codes_from_the_shipped_mapping(sdtm: dict[str, Dataset]) -> None:
    ae = sdtm["AE"].frame
    mapping = meddra_mapping()
    assert "CTCAE" in mapping.source and mapping.ctcae_version == "5.0"
    for row in ae.itertuples():
        found = mapping.lookup(row.AETERM)
        if found is None:
            assert row.AELLT == "" and pd.isna(row.AELLTCD) and row.AEDECOD == row.AETERM
        else:
            assert float(found.llt_code) == row.AELLTCD and found.soc == row.AEBODSYS
    assert ae["AELLTCD"].notna().any()
    assert ae["AEACN"].isin(["NOT APPLICABLE", "UNKNOWN"]).all()
    assert ((ae["AESDTH"] == "Y") == (ae["AEOUT"] == "FATAL")).all()
    assert ((ae["AESLIFE"] == "Y") == (ae["AETOXGR"] == "4")).all()


def test_dm_race_armnrs_and_end_of_participation(sdtm: dict[str, Dataset]) -> None:
    dm, ds = sdtm["DM"].frame, sdtm["DS"].frame
    assert (dm["RACE"] == "NOT REPORTED").all() and (dm["ETHNIC"] == "NOT REPORTED").all()
    assert ((dm["ARMCD"] == "") == (dm["ARMNRS"] != "")).all() or (dm["ACTARMUD"] != "").any()
    assert (dm["RFPENDTC"] != "").all()
    end = ds[ds["DSSCAT"] == "END OF STUDY"].set_index("USUBJID")
    assert end.index.is_unique
    for row in dm.itertuples():
        if row.USUBJID in end.index:
            assert end.loc[row.USUBJID, "DSSTDTC"] <= row.RFPENDTC
