"""Conformance of the SDTM export read back from its XPT files, rule by rule.

Each rule below is one test (``test_rule[<id>]``), written here for dosewise from the SDTMIG
3.4 text and the families of checks SDTM validators apply (presence, consistency, referential
integrity, controlled terminology, format); the source column names where the rule comes from.
The datasets are read with ``pyreadstat`` from the files the export wrote, so a rule sees what
a reviewer's tool sees, not the frames in memory.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from demo_trial import DemoTrial
from dosewise.report.sdtm import build_sdtm, write_sdtm
from dosewise.report.sdtm_define import q
from dosewise.report.sdtm_terms import CODELISTS
from dosewise.report.trial_data import TrialData, load_trial_data

Data = dict[str, pd.DataFrame]
ISO = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2})?)?)?)?$")
SUBJECT_DOMAINS = ("DM", "SE", "EX", "AE", "DS", "DV", "IE", "RS")
EVENTS_INTERVENTIONS_FINDINGS = ("EX", "AE", "DS", "DV", "IE", "RS")
#: SDTMIG 3.4 Required variables of each domain the export writes (checked for presence).
REQUIRED = {
    "TS": ("STUDYID", "DOMAIN", "TSSEQ", "TSPARMCD", "TSPARM"),
    "TE": ("STUDYID", "DOMAIN", "ETCD", "ELEMENT", "TESTRL"),
    "TA": ("STUDYID", "DOMAIN", "ARMCD", "ARM", "TAETORD", "ETCD", "EPOCH"),
    "TV": ("STUDYID", "DOMAIN", "VISITNUM", "TVSTRL"),
    "TI": ("STUDYID", "DOMAIN", "IETESTCD", "IETEST", "IECAT"),
    "DM": ("STUDYID", "DOMAIN", "USUBJID", "SUBJID", "SITEID", "SEX", "COUNTRY"),
    "SE": ("STUDYID", "DOMAIN", "USUBJID", "SESEQ", "ETCD", "SESTDTC"),
    "EX": ("STUDYID", "DOMAIN", "USUBJID", "EXSEQ", "EXTRT"),
    "AE": ("STUDYID", "DOMAIN", "USUBJID", "AESEQ", "AETERM", "AEDECOD"),
    "DS": ("STUDYID", "DOMAIN", "USUBJID", "DSSEQ", "DSTERM", "DSDECOD"),
    "DV": ("STUDYID", "DOMAIN", "USUBJID", "DVSEQ", "DVTERM"),
    "IE": ("STUDYID", "DOMAIN", "USUBJID", "IESEQ", "IETESTCD", "IETEST", "IECAT"),
    "RS": ("STUDYID", "DOMAIN", "USUBJID", "RSSEQ", "RSTESTCD", "RSTEST"),
}
#: SDTMIG 3.4 Expected variables (present even when empty).
EXPECTED = {
    "DM": (
        "RFSTDTC",
        "RFENDTC",
        "RFXSTDTC",
        "RFXENDTC",
        "RFICDTC",
        "RFPENDTC",
        "DTHDTC",
        "DTHFL",
        "AGE",
        "AGEU",
        "RACE",
        "ARMCD",
        "ARM",
        "ACTARMCD",
        "ACTARM",
        "ARMNRS",
        "ACTARMUD",
    ),
    "AE": (
        "AEBODSYS",
        "AESER",
        "AEREL",
        "AESTDTC",
        "AEENDTC",
        "AEACN",
        "AETOXGR",
        "AELLT",
        "AELLTCD",
        "AEPTCD",
        "AESOC",
    ),
    "EX": ("EXDOSE", "EXDOSU", "EXDOSFRM", "EXSTDTC"),
    "RS": ("RSORRES", "RSSTRESC", "VISITNUM", "RSDTC"),
    "DS": ("DSCAT", "DSSTDTC"),
    "SE": ("SEENDTC",),
    "TA": ("TABRANCH", "TATRANS"),
    "TS": ("TSVAL", "TSVCDREF", "TSVCDVER"),
    "TV": ("ARMCD",),
    "IE": ("VISITNUM",),
}


@dataclass(frozen=True)
class Rule:
    """A conformance rule: id, what it asks, where it comes from, and its check."""

    id: str
    text: str
    source: str
    check: Callable[[Data, Path], list[str]]


@pytest.fixture(scope="module")
def folder(trial: TrialData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("conformance")
    write_sdtm(build_sdtm(trial), out, trial.nct_id, trial)
    return out


@pytest.fixture(scope="module")
def data(folder: Path) -> Data:
    out: Data = {}
    for path in sorted(folder.glob("*.xpt")):
        frame, meta = pyreadstat.read_xport(str(path))
        out[meta.table_name] = frame
    return out


def _seq(name: str) -> str:
    return f"{name}SEQ"


def _dtc(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.endswith("DTC")]


def _filled(value: object) -> bool:
    return not (value is None or value == "" or (isinstance(value, float) and math.isnan(value)))


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


# --------------------------------------------------------------------------- the rules


def r_required_present(d: Data, _: Path) -> list[str]:
    return [f"{n}.{v}" for n, vs in REQUIRED.items() if n in d for v in vs if v not in d[n]]


def r_expected_present(d: Data, _: Path) -> list[str]:
    return [f"{n}.{v}" for n, vs in EXPECTED.items() if n in d for v in vs if v not in d[n]]


def r_required_not_null(d: Data, _: Path) -> list[str]:
    return [
        f"{n}.{v}"
        for n, vs in REQUIRED.items()
        if n in d
        for v in vs
        if not d[n][v].map(_filled).all()
    ]


def r_domain_value(d: Data, _: Path) -> list[str]:
    out = []
    for n, f in d.items():
        if "DOMAIN" in f and not (f["DOMAIN"] == n).all():
            out.append(n)
        if "RDOMAIN" in f and not (f["RDOMAIN"] == n[4:]).all():
            out.append(n)
    return out


def r_one_studyid(d: Data, _: Path) -> list[str]:
    ts = d["TS"]
    regid = ts.loc[ts["TSPARMCD"] == "REGID", "TSVAL"].item()
    return [n for n, f in d.items() if set(f["STUDYID"]) != {regid}]


def r_dm_one_record_per_subject(d: Data, _: Path) -> list[str]:
    dm = d["DM"]
    return list(dm.loc[dm["USUBJID"].duplicated(), "USUBJID"])


def r_usubjid_in_dm(d: Data, _: Path) -> list[str]:
    known = set(d["DM"]["USUBJID"])
    return [f"{n}:{u}" for n, f in d.items() if "USUBJID" in f for u in set(f["USUBJID"]) - known]


def r_seq_unique(d: Data, _: Path) -> list[str]:
    return [
        n
        for n in SUBJECT_DOMAINS
        if n in d and n != "DM" and d[n].duplicated(["USUBJID", _seq(n)]).any()
    ]


def r_seq_positive_integer(d: Data, _: Path) -> list[str]:
    return [
        n
        for n in (*SUBJECT_DOMAINS, "TS")
        if n in d and n != "DM" and not all(x >= 1 and float(x).is_integer() for x in d[n][_seq(n)])
    ]


def r_dates_iso8601(d: Data, _: Path) -> list[str]:
    return [
        f"{n}.{c}={v}"
        for n, f in d.items()
        for c in _dtc(f)
        for v in f[c]
        if v and not ISO.match(v)
    ]


def r_end_not_before_start(d: Data, _: Path) -> list[str]:
    out = []
    for n, (start, end) in {
        "AE": ("AESTDTC", "AEENDTC"),
        "EX": ("EXSTDTC", "EXENDTC"),
        "SE": ("SESTDTC", "SEENDTC"),
    }.items():
        if n in d:
            f = d[n]
            bad = f[(f[start] != "") & (f[end] != "") & (f[end] < f[start])]
            out += [f"{n}:{u}" for u in bad["USUBJID"]]
    return out


def r_no_study_day_zero(d: Data, _: Path) -> list[str]:
    return [
        f"{n}.{c}"
        for n, f in d.items()
        for c in f.columns
        if c.endswith("DY") and c != "VISITDY" and (f[c] == 0).any()
    ]


def r_study_day_matches_dates(d: Data, _: Path) -> list[str]:
    ref = dict(zip(d["DM"]["USUBJID"], d["DM"]["RFSTDTC"], strict=True))
    out = []
    for n in EVENTS_INTERVENTIONS_FINDINGS:
        if n not in d:
            continue
        f = d[n]
        for c in f.columns:
            if not (c.endswith("DY") and c != "VISITDY"):
                continue
            dtc = c[:-2] + "DTC" if c[:-2] + "DTC" in f else f"{n}DTC"
            for u, day, text in zip(f["USUBJID"], f[c], f[dtc], strict=True):
                if not ref.get(u) or not ISO.match(text or "-"):
                    if not math.isnan(day) and not ref.get(u):
                        out.append(f"{n}.{c}:{u} has a day without RFSTDTC")
                    continue  # a bad date is SD10's finding
                delta = (_day(text) - _day(ref[u])).days
                if day != (delta + 1 if delta >= 0 else delta):
                    out.append(f"{n}.{c}:{u}")
    return out


def r_epoch_from_trial_design(d: Data, _: Path) -> list[str]:
    epochs = set(d["TA"]["EPOCH"])
    return [
        f"{n}:{e}" for n, f in d.items() if "EPOCH" in f for e in set(f["EPOCH"]) - epochs - {""}
    ]


def r_epoch_populated(d: Data, _: Path) -> list[str]:
    if "SE" not in d:  # an empty dataset is not delivered
        return []
    with_elements = set(d["SE"]["USUBJID"])
    return [
        f"{n}:{u}"
        for n in EVENTS_INTERVENTIONS_FINDINGS
        if n in d
        for u, e in zip(d[n]["USUBJID"], d[n]["EPOCH"], strict=True)
        if u in with_elements and not e
    ]


def r_epoch_matches_se(d: Data, _: Path) -> list[str]:
    if "SE" not in d:  # an empty dataset is not delivered
        return []
    se = d["SE"]
    spans: dict[str, list[tuple[str, str, str]]] = {}
    for r in se.itertuples():
        spans.setdefault(r.USUBJID, []).append((r.SESTDTC, r.SEENDTC, r.EPOCH))
    out = []
    for n, dtc in (("EX", "EXSTDTC"), ("AE", "AESTDTC"), ("RS", "RSDTC"), ("DS", "DSSTDTC")):
        if n not in d:
            continue
        for u, when, epoch in zip(d[n]["USUBJID"], d[n][dtc], d[n]["EPOCH"], strict=True):
            own = spans.get(u, [])
            if not when or not own:
                continue
            found = own[0][2]
            for start, _end, e in own:
                if when >= start:
                    found = e
            if found != epoch:
                out.append(f"{n}:{u}:{when}")
    return out


def r_armcd_in_ta(d: Data, _: Path) -> list[str]:
    arms = set(d["TA"]["ARMCD"])
    dm = d["DM"]
    return [f"{c}={v}" for c in ("ARMCD", "ACTARMCD") for v in set(dm[c]) - {""} if v not in arms]


def r_arm_matches_armcd(d: Data, _: Path) -> list[str]:
    names = dict(zip(d["TA"]["ARMCD"], d["TA"]["ARM"], strict=False))
    dm = d["DM"]
    return [
        u
        for u, cd, arm, acd, aarm in zip(
            dm["USUBJID"], dm["ARMCD"], dm["ARM"], dm["ACTARMCD"], dm["ACTARM"], strict=True
        )
        if (cd and names.get(cd) != arm) or (acd and names.get(acd) != aarm)
    ]


def r_armnrs_when_arm_null(d: Data, _: Path) -> list[str]:
    dm = d["DM"]
    return [
        u
        for u, cd, acd, nrs in zip(
            dm["USUBJID"], dm["ARMCD"], dm["ACTARMCD"], dm["ARMNRS"], strict=True
        )
        if bool(nrs) != (not cd or not acd)
    ]


def r_actarmud_only_unplanned(d: Data, _: Path) -> list[str]:
    dm = d["DM"]
    return list(
        dm.loc[(dm["ACTARMUD"] != "") != (dm["ARMNRS"] == "UNPLANNED TREATMENT"), "USUBJID"]
    )


def r_armcd_length(d: Data, _: Path) -> list[str]:
    return [v for f in (d["TA"], d["DM"]) for v in set(f["ARMCD"]) if len(v) > 20]


def r_se_elements_in_te(d: Data, _: Path) -> list[str]:
    if "SE" not in d:  # an empty dataset is not delivered
        return []
    return sorted(set(d["SE"]["ETCD"]) - set(d["TE"]["ETCD"]))


def r_se_contiguous(d: Data, _: Path) -> list[str]:
    if "SE" not in d:  # an empty dataset is not delivered
        return []
    out = []
    for u, g in d["SE"].sort_values(["USUBJID", "SESEQ"]).groupby("USUBJID"):
        starts, ends = list(g["SESTDTC"]), list(g["SEENDTC"])
        if any(ends[i] != starts[i + 1] for i in range(len(starts) - 1)):
            out.append(str(u))
    return out


def r_visits_in_tv(d: Data, _: Path) -> list[str]:
    tv = dict(zip(d["TV"]["VISITNUM"], d["TV"]["VISIT"], strict=True))
    out = []
    for n in ("RS", "IE"):
        if n not in d:
            continue
        for num, name in zip(d[n]["VISITNUM"], d[n]["VISIT"], strict=True):
            if math.isnan(num):
                continue
            if num not in tv or tv[num] != name:
                out.append(f"{n}:{num}:{name}")
    return out


def r_supp_idvar_is_parent_variable(d: Data, _: Path) -> list[str]:
    return [
        f"{n}.{v}"
        for n, f in d.items()
        if n.startswith("SUPP")
        for v in set(f["IDVAR"]) - {""}
        if v not in d[n[4:]]
    ]


def r_supp_resolves_to_parent(d: Data, _: Path) -> list[str]:
    out = []
    for n, f in d.items():
        if not n.startswith("SUPP"):
            continue
        parent = d[n[4:]]
        for u, var, val in zip(f["USUBJID"], f["IDVAR"], f["IDVARVAL"], strict=True):
            rows = parent[parent["USUBJID"] == u]
            if var:
                column = rows[var].map(lambda x: f"{x:g}" if isinstance(x, float) else str(x))
                rows = rows[column == val]
            if len(rows) != 1:
                out.append(f"{n}:{u}:{var}={val}")
    return out


def r_supp_qnam_unique(d: Data, _: Path) -> list[str]:
    return [
        n
        for n, f in d.items()
        if n.startswith("SUPP") and f.duplicated(["USUBJID", "IDVAR", "IDVARVAL", "QNAM"]).any()
    ]


def r_supp_qnam_format(d: Data, _: Path) -> list[str]:
    return [
        f"{n}:{qn}"
        for n, f in d.items()
        if n.startswith("SUPP")
        for qn, ql in zip(f["QNAM"], f["QLABEL"], strict=True)
        if len(qn) > 8 or not re.fullmatch(r"[A-Z][A-Z0-9]*", qn) or len(ql) > 40
    ]


def r_controlled_terms(d: Data, folder: Path) -> list[str]:
    define = ET.parse(folder / "define.xml").getroot()
    out = []
    for item in define.iter(q("ItemDef")):
        ref = item.find(q("CodeListRef"))
        oid = ref.get("CodeListOID", "") if ref is not None else ""
        if not oid.startswith("CL.") or oid == "CL.MEDDRA":
            continue
        dataset, variable = item.get("OID", "").split(".")[1:]
        allowed = set(CODELISTS[oid[3:]].values)
        out += [f"{dataset}.{variable}={v}" for v in set(d[dataset][variable]) - allowed - {""}]
    return out


def r_reference_dates(d: Data, _: Path) -> list[str]:
    if "EX" not in d:  # an empty dataset is not delivered
        return []
    dm, ex = d["DM"].set_index("USUBJID"), d["EX"]
    out = []
    for u, g in ex.groupby("USUBJID"):
        car_t = g[g["EXCAT"] == "CAR-T INFUSION"]
        row = dm.loc[u]
        if row["RFXSTDTC"] != g["EXSTDTC"].min() or row["RFXENDTC"] != g["EXENDTC"].max():
            out.append(str(u))
        if len(car_t) and row["RFSTDTC"] != car_t["EXSTDTC"].min():
            out.append(str(u))
    return out


def r_death_consistent(d: Data, _: Path) -> list[str]:
    if "DS" not in d:  # an empty dataset is not delivered
        return []
    dm, ds = d["DM"], d["DS"]
    dead = set(ds.loc[ds["DSDECOD"] == "DEATH", "USUBJID"])
    out = list(dm.loc[(dm["DTHFL"] == "Y") != (dm["DTHDTC"] != ""), "USUBJID"])
    return out + sorted(dead - set(dm.loc[dm["DTHFL"] == "Y", "USUBJID"]))


def r_fatal_outcome(d: Data, _: Path) -> list[str]:
    if "AE" not in d:  # an empty dataset is not delivered
        return []
    ae = d["AE"]
    fatal = ae["AEOUT"] == "FATAL"
    return list(ae.loc[(ae["AESDTH"] == "Y") != fatal, "USUBJID"]) + list(
        ae.loc[(ae["AETOXGR"] == "5") & ~fatal, "USUBJID"]
    )


def r_meddra_coding(d: Data, _: Path) -> list[str]:
    if "AE" not in d:  # an empty dataset is not delivered
        return []
    ae = d["AE"]
    bad = ae[(ae["AEDECOD"] == "") | (ae["AEBODSYS"] == "")]
    coded = ae[ae["AEPTCD"].notna()]
    bad = pd.concat([bad, coded[coded["AELLT"] == ""]])
    return list(bad["USUBJID"])


def r_trial_summary(d: Data, _: Path) -> list[str]:
    ts = d["TS"]
    out = [
        p
        for p in (
            "TITLE",
            "TPHASE",
            "STYPE",
            "REGID",
            "SPONSOR",
            "PLANSUB",
            "SDTIGVER",
            "AGEMIN",
            "AGEMAX",
            "SEXPOP",
            "TBLIND",
            "RANDOM",
            "STSTDTC",
            "INDIC",
        )
        if p not in set(ts["TSPARMCD"])
    ]
    both = ts[(ts["TSVAL"] != "") == (ts["TSVALNF"] != "")]
    return out + list(both["TSPARMCD"])


def r_criteria_in_ti(d: Data, _: Path) -> list[str]:
    ti = d["TI"]
    out = list(ti.loc[ti["IETESTCD"].duplicated(), "IETESTCD"])
    if "IE" in d:
        out += sorted(set(d["IE"]["IETESTCD"]) - set(ti["IETESTCD"]))
        cats = dict(zip(ti["IETESTCD"], ti["IECAT"], strict=True))
        out += [
            c
            for c, cat in zip(d["IE"]["IETESTCD"], d["IE"]["IECAT"], strict=True)
            if cats.get(c) != cat
        ]
    return out


def r_ie_result_direction(d: Data, _: Path) -> list[str]:
    if "IE" not in d:
        return []
    ie = d["IE"]
    wrong = ie[
        ((ie["IECAT"] == "INCLUSION") & (ie["IEORRES"] != "N"))
        | ((ie["IECAT"] == "EXCLUSION") & (ie["IEORRES"] != "Y"))
    ]
    return list(wrong["USUBJID"])


def r_one_end_of_study(d: Data, _: Path) -> list[str]:
    if "DS" not in d:  # an empty dataset is not delivered
        return []
    ds = d["DS"]
    end = ds[ds["DSSCAT"] == "END OF STUDY"]
    return list(end.loc[end["USUBJID"].duplicated(), "USUBJID"])


def r_within_participation(d: Data, _: Path) -> list[str]:
    last = dict(zip(d["DM"]["USUBJID"], d["DM"]["RFPENDTC"], strict=True))
    out = []
    for n in SUBJECT_DOMAINS:
        if n not in d or n == "DM":
            continue
        f = d[n]
        for c in _dtc(f):
            out += [
                f"{n}.{c}:{u}"
                for u, v in zip(f["USUBJID"], f[c], strict=True)
                if v and v[:10] > last[u]
            ]
    return out


def r_screen_failures_explained(d: Data, _: Path) -> list[str]:
    if "DS" not in d:  # an empty dataset is not delivered
        return []
    dm, ds = d["DM"], d["DS"]
    failed = set(dm.loc[dm["ARMNRS"] == "SCREEN FAILURE", "USUBJID"])
    shown = set(ds.loc[ds["DSDECOD"] == "SCREEN FAILURE", "USUBJID"])
    shown &= set(d["IE"]["USUBJID"]) if "IE" in d else set()
    return sorted(failed - shown)


def r_xpt_format(d: Data, folder: Path) -> list[str]:
    out = []
    for path in folder.glob("*.xpt"):
        _, meta = pyreadstat.read_xport(str(path), metadataonly=True)
        if len(meta.table_name) > 8 or len(meta.file_label or "") > 40:
            out.append(meta.table_name)
        out += [c for c in meta.column_names if len(c) > 8 or not c.isupper()]
        out += [lab for lab in meta.column_labels if len(lab) > 40]
    for n, f in d.items():
        for c in f.columns:
            if f[c].dtype == object:
                out += [f"{n}.{c}" for v in f[c] if len(v) > 200 or not v.isascii()]
    return out


def r_define_matches_files(d: Data, folder: Path) -> list[str]:
    define = ET.parse(folder / "define.xml").getroot()
    described = {g.get("Name") for g in define.iter(q("ItemGroupDef"))}
    return sorted(described ^ set(d))


RULES = (
    Rule(
        "SD01",
        "Required variables are present",
        "SDTMIG 3.4 domain models (Core = Req)",
        r_required_present,
    ),
    Rule(
        "SD02",
        "Expected variables are present",
        "SDTMIG 3.4 domain models (Core = Exp)",
        r_expected_present,
    ),
    Rule(
        "SD03",
        "Required variables are never null",
        "SDTMIG 3.4 §4.1 core designations",
        r_required_not_null,
    ),
    Rule(
        "SD04",
        "DOMAIN/RDOMAIN equal the dataset name",
        "SDTM v2.0 identifiers; validator family: dataset/domain consistency",
        r_domain_value,
    ),
    Rule(
        "SD05",
        "One STUDYID, equal to the registry id in TS",
        "SDTMIG 3.4 §4.1; TS REGID",
        r_one_studyid,
    ),
    Rule(
        "SD06",
        "DM has one record per subject",
        "SDTMIG 3.4 §5.2 (DM structure)",
        r_dm_one_record_per_subject,
    ),
    Rule(
        "SD07",
        "Every USUBJID is in DM",
        "validator family: referential integrity (subject in DM)",
        r_usubjid_in_dm,
    ),
    Rule("SD08", "--SEQ is unique within a subject", "SDTMIG 3.4 §4.1 (--SEQ)", r_seq_unique),
    Rule("SD09", "--SEQ is a positive integer", "SDTMIG 3.4 §4.1 (--SEQ)", r_seq_positive_integer),
    Rule(
        "SD10", "--DTC values are ISO 8601", "SDTMIG 3.4 §4.4 (date/time format)", r_dates_iso8601
    ),
    Rule(
        "SD11",
        "End dates are not before start dates",
        "validator family: date order",
        r_end_not_before_start,
    ),
    Rule("SD12", "No study day 0", "SDTMIG 3.4 §4.4 (study day variables)", r_no_study_day_zero),
    Rule(
        "SD13",
        "--DY is computed from --DTC and RFSTDTC",
        "SDTMIG 3.4 §4.4 (study day variables)",
        r_study_day_matches_dates,
    ),
    Rule(
        "SD14",
        "EPOCH values are epochs of TA",
        "SDTMIG 3.4 §7.2 (TA/TE) and EPOCH CT",
        r_epoch_from_trial_design,
    ),
    Rule(
        "SD15",
        "EPOCH is populated on subject records",
        "SDTMIG 3.4 §4.1 (EPOCH assumptions)",
        r_epoch_populated,
    ),
    Rule(
        "SD16",
        "EPOCH agrees with the subject's elements in SE",
        "SDTMIG 3.4 §5.3 (SE)",
        r_epoch_matches_se,
    ),
    Rule("SD17", "ARMCD and ACTARMCD are arms of TA", "SDTMIG 3.4 §5.2 and §7.2", r_armcd_in_ta),
    Rule(
        "SD18",
        "ARM/ACTARM match TA for their code",
        "SDTMIG 3.4 §5.2 and §7.2",
        r_arm_matches_armcd,
    ),
    Rule(
        "SD19",
        "ARMNRS is populated exactly when an arm code is null",
        "SDTMIG 3.4 §5.2 (ARMNRS)",
        r_armnrs_when_arm_null,
    ),
    Rule(
        "SD20",
        "ACTARMUD only for an unplanned treatment",
        "SDTMIG 3.4 §5.2 (ACTARMUD)",
        r_actarmud_only_unplanned,
    ),
    Rule("SD21", "ARMCD is at most 20 characters", "SDTMIG 3.4 §5.2 (ARMCD)", r_armcd_length),
    Rule("SD22", "SE elements are elements of TE", "SDTMIG 3.4 §5.3 and §7.2", r_se_elements_in_te),
    Rule(
        "SD23",
        "A subject's elements are contiguous",
        "SDTMIG 3.4 §5.3 (SE assumptions)",
        r_se_contiguous,
    ),
    Rule("SD24", "VISITNUM/VISIT are visits of TV", "SDTMIG 3.4 §7.3 (TV)", r_visits_in_tv),
    Rule(
        "SD25",
        "SUPP-- IDVAR is a variable of the parent",
        "SDTMIG 3.4 §8.4 (SUPPQUAL)",
        r_supp_idvar_is_parent_variable,
    ),
    Rule(
        "SD26",
        "SUPP-- IDVAR/IDVARVAL resolve to one parent record",
        "SDTMIG 3.4 §8.4",
        r_supp_resolves_to_parent,
    ),
    Rule("SD27", "QNAM is unique per parent record", "SDTMIG 3.4 §8.4", r_supp_qnam_unique),
    Rule("SD28", "QNAM ≤ 8 upper-case, QLABEL ≤ 40", "SDTMIG 3.4 §8.4", r_supp_qnam_format),
    Rule(
        "SD29",
        "Coded values are in their define codelist",
        "validator family: controlled terminology",
        r_controlled_terms,
    ),
    Rule(
        "SD30",
        "RFSTDTC/RFXSTDTC/RFXENDTC agree with EX",
        "SDTMIG 3.4 §5.2 (reference dates)",
        r_reference_dates,
    ),
    Rule(
        "SD31",
        "DTHFL, DTHDTC and a DS death agree",
        "SDTMIG 3.4 §5.2 (death variables)",
        r_death_consistent,
    ),
    Rule(
        "SD32",
        "AESDTH and grade 5 mean a fatal outcome",
        "validator family: AE consistency",
        r_fatal_outcome,
    ),
    Rule(
        "SD33",
        "AE is coded (AEDECOD, AEBODSYS; a code has its term)",
        "SDTMIG 3.4 AE (MedDRA)",
        r_meddra_coding,
    ),
    Rule(
        "SD34",
        "TS has the key parameters, TSVAL or TSVALNF",
        "SDTMIG 3.4 §7.4 (TS)",
        r_trial_summary,
    ),
    Rule(
        "SD35",
        "IE criteria are criteria of TI, with their category",
        "SDTMIG 3.4 §7.4 (TI) and IE",
        r_criteria_in_ti,
    ),
    Rule(
        "SD36",
        "IE results point the right way (incl. N, excl. Y)",
        "SDTMIG 3.4 IE assumptions",
        r_ie_result_direction,
    ),
    Rule(
        "SD37",
        "At most one end-of-study disposition per subject",
        "SDTMIG 3.4 DS assumptions",
        r_one_end_of_study,
    ),
    Rule("SD38", "No record after RFPENDTC", "SDTMIG 3.4 §5.2 (RFPENDTC)", r_within_participation),
    Rule(
        "SD39",
        "Screen failures have their DS record and failed criteria",
        "SDTMIG 3.4 §5.2 (screen failures), DS and IE",
        r_screen_failures_explained,
    ),
    Rule(
        "SD40",
        "XPT v5 names, labels, lengths and ASCII",
        "FDA Study Data Technical Conformance Guide (SAS XPORT v5)",
        r_xpt_format,
    ),
    Rule(
        "SD41",
        "define.xml describes exactly the datasets delivered",
        "Define-XML 2.1 (ItemGroupDef per dataset)",
        r_define_matches_files,
    ),
)


def test_enough_named_rules() -> None:
    assert len(RULES) >= 30
    assert len({r.id for r in RULES}) == len(RULES)
    assert all(r.source and r.text for r in RULES)


@pytest.mark.parametrize("rule", RULES, ids=[f"{r.id}-{r.text}" for r in RULES])
def test_rule(rule: Rule, data: Data, folder: Path) -> None:
    assert rule.check(data, folder) == [], f"{rule.id} {rule.text} ({rule.source})"


def test_every_rule_holds_at_mid_trial_cut_offs(
    demo_db: DemoTrial, trial: TrialData, tmp_path: Path
) -> None:
    """A delivery on data cut mid-trial (a regimen running, infusions pending, follow-up
    ongoing) is as conformant as the whole trial."""
    running = min(trial.lymphodepletions["start_on"]) + timedelta(days=1)
    infused = sorted(trial.treated["infused_on"])
    for day in (running, infused[len(infused) // 2]):
        with demo_db.db.sessions() as session:
            cut = load_trial_data(session, as_of=day)
        folder = tmp_path / day.isoformat()
        folder.mkdir()
        write_sdtm(build_sdtm(cut), folder, cut.nct_id, cut)
        data: Data = {}
        for path in folder.glob("*.xpt"):
            frame, meta = pyreadstat.read_xport(str(path))
            data[meta.table_name] = frame
        failed = {r.id: r.check(data, folder)[:3] for r in RULES}
        assert {k: v for k, v in failed.items() if v} == {}, day


def test_rules_catch_broken_data(data: Data, folder: Path) -> None:
    """The rules fail on data that breaks them (each check can fail)."""
    broken = {k: v.copy() for k, v in data.items()}
    broken["AE"].loc[0, "AESEQ"] = broken["AE"].loc[1, "AESEQ"]
    broken["AE"].loc[0, "USUBJID"] = broken["AE"].loc[1, "USUBJID"]
    broken["AE"].loc[2, "AESTDY"] = 0.0
    broken["AE"].loc[3, "EPOCH"] = "RUN-IN"
    broken["RS"].loc[0, "RSSTRESC"] = "CRI"
    broken["DM"].loc[0, "ARMCD"] = "P9-NONE"
    broken["SUPPAE"].loc[0, "IDVARVAL"] = "999"
    broken["EX"].loc[0, "EXSTDTC"] = "2026/01/06"
    failing = {r.id for r in RULES if r.check(broken, folder)}
    assert {"SD08", "SD10", "SD12", "SD14", "SD17", "SD26", "SD29"} <= failing
