"""CDISC SDTM datasets from the trial's records (SDTMIG 3.4).

Built from :class:`dosewise.report.trial_data.TrialData` (never from the database directly) and
written as SAS XPORT v5 (``pyreadstat``) and CSV with a Define-XML 2.1 document and its HTML
view (:mod:`dosewise.report.sdtm_define`). This module builds, checks and writes them; DM and EX
are in :mod:`dosewise.report.sdtm_subject`, AE, RS and DS in :mod:`dosewise.report.sdtm_clinical`,
the trial design domains, the subject elements and epochs in :mod:`dosewise.report.sdtm_design`,
IE and DV in :mod:`dosewise.report.sdtm_events`. Conventions (each with its reason in
``docs/reports.md``):

- ``STUDYID`` is the registry id (NCT07070323); ``USUBJID`` is ``STUDYID-SUBJID``;
- dates are ISO 8601 text; ``--DY`` counts from ``RFSTDTC`` (the CAR-T infusion) with no day
  0 (the protocol's study day 0 is SDTM day 1); ``--SEQ`` numbers each subject's records;
- ``EPOCH`` on every events, interventions and findings record, from the subject's elements;
- ``ARMCD`` carries the phase, the arm and the dose (``P1-AUTO-DL1``); ``ACTARMCD`` the level
  actually infused; screen failures and subjects not assigned or not treated have null arm
  codes and ``ARMNRS``;
- EX holds the CAR-T infusion (cells/kg) and the lymphodepleting agents (mg/m2/day), both
  protocol-specified treatments given as recorded (``EXCAT``);
- AE: ``AEDECOD`` is the CTCAE v5.0 term, with its MedDRA LLT/PT code where the shipped mapping
  has one; the grading scale and the investigator's DLT flag are in SUPPAE;
- SUPPDM holds each subject's final DLT adjudication (evaluable, DLT), so the phase 1 DLT
  counts by arm and dose are rebuilt from SDTM alone.

Names are ≤ 8 characters, labels ≤ 40, character values ≤ 200 and ASCII
(:func:`check_rules`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from dosewise.errors import InvalidParameter
from dosewise.report.sdtm_base import (
    Dataset,
    Variable,
    study_day,
    usubjid,
)
from dosewise.report.sdtm_clinical import ae, ds, rs
from dosewise.report.sdtm_design import (
    arm_code,
    ta,
    te,
    ti,
    ts,
    tv,
)
from dosewise.report.sdtm_elements import se, timelines
from dosewise.report.sdtm_subject import dm, ex
from dosewise.report.trial_data import TrialData

__all__ = [
    "DOMAINS",
    "Dataset",
    "Variable",
    "arm_code",
    "build_sdtm",
    "check_rules",
    "export_sdtm",
    "study_day",
    "usubjid",
    "write_sdtm",
]

#: The SDTM datasets this module writes, in order.
DOMAINS = (
    "TS",
    "TE",
    "TA",
    "TV",
    "TI",
    "DM",
    "SUPPDM",
    "SE",
    "EX",
    "SUPPEX",
    "AE",
    "SUPPAE",
    "DS",
    "DV",
    "IE",
    "RS",
)
# --------------------------------------------------------------------------- all, rules, files


_ALWAYS = frozenset({"TS", "TE", "TA", "TV", "TI", "DM"})


def build_sdtm(data: TrialData) -> dict[str, Dataset]:
    """The datasets of :data:`DOMAINS` that have records (the design domains and DM always),
    checked against the naming and length rules."""
    from dosewise.report.sdtm_events import dv, ie

    lines = timelines(data)
    ex_ds, suppex = ex(data, lines)
    doses: dict[str, tuple[date, date]] = {}
    frame = ex_ds.frame
    for subject, start, end in zip(
        frame["USUBJID"], frame["EXSTDTC"], frame["EXENDTC"], strict=True
    ):
        sid = subject[len(data.nct_id) + 1 :]
        first, last = date.fromisoformat(start), date.fromisoformat(end or start)
        seen = doses.get(sid, (first, last))
        doses[sid] = (min(seen[0], first), max(seen[1], last))
    dm_ds, suppdm = dm(data, doses, lines)
    ae_ds, suppae = ae(data, lines)
    built = (
        ts(data),
        te(data),
        ta(data),
        tv(data),
        ti(data),
        dm_ds,
        suppdm,
        se(data, lines),
        ex_ds,
        suppex,
        ae_ds,
        suppae,
        ds(data, lines),
        dv(data, lines),
        ie(data),
        rs(data, lines),
    )
    # An empty dataset is not submitted (FDA Study Data Technical Conformance Guide); the
    # trial design domains and DM always have rows.
    out = {d.name: d for d in built if len(d.frame) or d.name in _ALWAYS}
    problems = [p for d in out.values() for p in check_rules(d)]
    if problems:
        raise InvalidParameter("sdtm", problems[0][0], problems[0][1])
    return out


def check_rules(dataset: Dataset) -> list[tuple[str, str]]:
    """SDTMIG/XPORT v5 rules broken by ``dataset``: (where, rule) pairs; empty when clean."""
    problems: list[tuple[str, str]] = []
    if len(dataset.name) > 8 or not dataset.name.isalnum() or not dataset.name.isupper():
        problems.append((dataset.name, "dataset names are at most 8 upper-case letters/digits"))
    if len(dataset.label) > 40:
        problems.append((dataset.name, "dataset labels are at most 40 characters"))
    for v in dataset.variables:
        where = f"{dataset.name}.{v.name}"
        if len(v.name) > 8 or not v.name[0].isalpha() or not v.name.replace("_", "").isalnum():
            problems.append((where, "variable names are at most 8 characters, starting a letter"))
        if not v.name.isupper():
            problems.append((where, "variable names are upper case"))
        if len(v.label) > 40:
            problems.append((where, "variable labels are at most 40 characters"))
        if v.type == "Char":
            longest = dataset.frame[v.name].map(len).max() if len(dataset.frame) else 0
            if longest > 200:
                problems.append((where, "character values are at most 200 characters"))
            if any(not str(x).isascii() for x in dataset.frame[v.name]):
                problems.append((where, "values are ASCII (XPORT v5)"))
    if list(dataset.frame.columns) != [v.name for v in dataset.variables]:
        problems.append((dataset.name, "columns follow the variable list"))
    return problems


def write_sdtm(
    datasets: Mapping[str, Dataset], folder: str | Path, study: str, data: TrialData | None = None
) -> list[Path]:
    """Write each dataset as ``<name>.xpt`` (SAS XPORT v5) and ``<name>.csv``, plus the
    define (``define.xml``, ``define.html``, ``define.csv``); the paths written."""
    import pyreadstat

    from dosewise.report.sdtm_define import write_define

    path = Path(folder)
    if not path.is_dir():
        raise InvalidParameter("out", str(path), "the folder does not exist")
    written: list[Path] = []
    for d in datasets.values():
        xpt = path / f"{d.name.lower()}.xpt"
        pyreadstat.write_xport(
            d.frame,
            str(xpt),
            file_format_version=5,
            table_name=d.name,
            file_label=d.label,
            column_labels=[v.label for v in d.variables],
        )
        csv = path / f"{d.name.lower()}.csv"
        d.frame.to_csv(csv, index=False)
        written += [xpt, csv]
    title = data.protocol.registry.title if data is not None else ""
    written += write_define(datasets, path, study, title)
    return written


def export_sdtm(data: TrialData, out: Path, lang: str) -> dict[str, Any]:
    """The export writer (:mod:`dosewise.report.exports`): every dataset into the folder."""
    datasets = build_sdtm(data)
    files = write_sdtm(datasets, out, data.nct_id, data)
    return {
        "format": "sdtm",
        "datasets": {name: len(d.frame) for name, d in datasets.items()},
        "files": [f.name for f in files],
    }
