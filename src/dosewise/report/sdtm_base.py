"""The building blocks of the SDTM datasets: variables, datasets, dates, study days, SUPP rows.

Shared by :mod:`dosewise.report.sdtm` (the subject domains), :mod:`dosewise.report.sdtm_design`
(the trial design domains) and :mod:`dosewise.report.sdtm_events` (IE, DV), so each rule —
``--DY`` without day 0, ``--SEQ`` per subject, the SUPP shape — is written once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Variable:
    """One SDTM variable: name, label, type (``Char``/``Num``), origin, core and codelist."""

    name: str
    label: str
    type: str = "Char"
    origin: str = "Collected"
    core: str = "Req"
    codelist: str | None = None


@dataclass(frozen=True)
class Dataset:
    """An SDTM dataset: name, label, structure, variables, rows and its SDTM class."""

    name: str
    label: str
    structure: str
    variables: tuple[Variable, ...]
    frame: pd.DataFrame
    klass: str = ""
    keys: tuple[str, ...] = ()


def V(
    name: str,
    label: str,
    kind: str = "Char",
    origin: str = "Collected",
    core: str = "Req",
    codelist: str | None = None,
) -> Variable:
    """Shorthand for :class:`Variable`."""
    return Variable(name, label, kind, origin, core, codelist)


STUDY = (
    V("STUDYID", "Study Identifier", origin="Assigned"),
    V("DOMAIN", "Domain Abbreviation", origin="Assigned"),
    V("USUBJID", "Unique Subject Identifier", origin="Derived"),
)
SUPP = (
    V("STUDYID", "Study Identifier", origin="Assigned"),
    V("RDOMAIN", "Related Domain Abbreviation", origin="Assigned"),
    V("USUBJID", "Unique Subject Identifier", origin="Derived"),
    V("IDVAR", "Identifying Variable", origin="Assigned", core="Exp"),
    V("IDVARVAL", "Identifying Variable Value", origin="Derived", core="Exp"),
    V("QNAM", "Qualifier Variable Name", origin="Assigned"),
    V("QLABEL", "Qualifier Variable Label", origin="Assigned"),
    V("QVAL", "Data Value"),
    V("QORIG", "Origin", origin="Assigned"),
    V("QEVAL", "Evaluator", origin="Assigned", core="Exp"),
)
EPOCH = V("EPOCH", "Epoch", origin="Derived", core="Perm", codelist="EPOCH")


def iso(day: Any) -> str:
    """ISO 8601 date text ('' when missing)."""
    return day.isoformat() if isinstance(day, date) else ""


def study_day(day: Any, reference: Any) -> float:
    """SDTM ``--DY``: day 1 is the reference date, the day before is -1 (no day 0)."""
    if not isinstance(day, date) or not isinstance(reference, date):
        return float("nan")
    delta = (day - reference).days
    return float(delta + 1 if delta >= 0 else delta)


def usubjid(nct_id: str, study_id: str) -> str:
    """``USUBJID``: the registry id and the study's subject id."""
    return f"{nct_id}-{study_id}"


def text(value: Any) -> str:
    """A character value: '' for None/NaN."""
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def num(value: Any) -> float:
    """A numeric value: NaN for None."""
    return float("nan") if value is None or pd.isna(value) else float(value)


def sequence(rows: list[dict[str, Any]], seq: str) -> list[dict[str, Any]]:
    """Number each subject's rows 1, 2, … in their current order."""
    counter: dict[str, int] = {}
    for row in rows:
        counter[row["USUBJID"]] = counter.get(row["USUBJID"], 0) + 1
        row[seq] = float(counter[row["USUBJID"]])
    return rows


def frame_of(rows: Iterable[Mapping[str, Any]], variables: Sequence[Variable]) -> pd.DataFrame:
    """Rows as a frame with exactly ``variables``' columns: Num as float, Char as text."""
    names = [v.name for v in variables]
    frame = pd.DataFrame(list(rows), columns=names)
    for v in variables:
        if v.type == "Num":
            frame[v.name] = frame[v.name].astype(float)
        else:
            frame[v.name] = frame[v.name].map(text).astype(object)
    return frame


def supp_row(
    nct_id: str,
    domain: str,
    subject: str,
    idvar: str,
    idval: float | str,
    qnam: str,
    qval: str,
    *,
    origin: str = "Collected",
    evaluator: str = "",
) -> dict[str, Any]:
    """One SUPP-- record (QLABEL is filled by :func:`supp_dataset`)."""
    return {
        "STUDYID": nct_id,
        "RDOMAIN": domain,
        "USUBJID": subject,
        "IDVAR": idvar,
        "IDVARVAL": f"{idval:g}" if isinstance(idval, float) else idval,
        "QNAM": qnam,
        "QVAL": qval,
        "QORIG": origin,
        "QEVAL": evaluator,
    }


def supp_dataset(
    name: str, label: str, rows: list[dict[str, Any]], labels: Mapping[str, str]
) -> Dataset:
    """A SUPP-- dataset; ``labels`` gives each QNAM its QLABEL."""
    for row in rows:
        row["QLABEL"] = labels[row["QNAM"]]
    return Dataset(
        name,
        label,
        "One record per IDVAR, IDVARVAL, and QNAM value per subject",
        SUPP,
        frame_of(rows, SUPP),
        "RELATIONSHIP",
        ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"),
    )


_ASCII = {
    "≥": ">=",
    "≤": "<=",
    "×": "x",
    "µ": "u",
    "μ": "u",
    "±": "+/-",
    "–": "-",
    "—": "-",
    "’": "'",
    "‘": "'",
    "“": '"',
    "”": '"',
    "²": "2",
    "³": "3",
    "⁹": "9",
    "⁶": "6",
    "⁵": "5",
    "°": " deg",
}


def ascii_text(value: str, limit: int = 200) -> str:
    """Protocol text as XPORT v5 allows it: ASCII (common symbols spelled out), ≤ ``limit``.

    Longer text is cut at a word boundary and ends in ``...``; the full text stays in the
    protocol file.
    """
    import unicodedata

    out = "".join(_ASCII.get(ch, ch) for ch in " ".join(value.split()))
    out = unicodedata.normalize("NFKD", out).encode("ascii", "ignore").decode("ascii")
    if len(out) > limit:
        out = out[: limit - 3].rsplit(" ", 1)[0] + "..."
    return out
