"""What each view of the trial says per arm and dose, read back as a user or a system would.

Helpers of ``test_state_agreement.py``: a data cut-off of the demo trial is *materialised* as a
database of its own (every table copied, the clinical tables replaced by the rows as they stood
at the end of the day, :mod:`dosewise.report.cutoff`), so that the web pages and the API, which
show the trial "now", show it at the cut-off when their clock is set to that day. Each reader
returns ``{(arm_id, dose): {"treated": n, "evaluable": n, "dlts": n, "responders": n,
"grade1".."grade5": n}}`` with only the numbers that view shows; the exports that report by phase
(ClinicalTrials.gov, SDTM) key them ``(phase, arm_id, dose)``, and the registry's phase 2
response is by arm.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pyreadstat
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.orm import Session

from dosewise.protocol import Protocol
from dosewise.report.ctgov import BOR_TITLES, build_ctgov
from dosewise.report.cutoff import _cut_rows
from dosewise.report.dsmb import build_dsmb
from dosewise.report.sdtm import arm_code, build_sdtm, write_sdtm
from dosewise.report.trial_data import TrialData
from dosewise.store.base import Base

Key = tuple[str, int]
Counts = dict[Key, dict[str, int]]
PhaseKey = tuple[int, str, int]
PhaseCounts = dict[PhaseKey, dict[str, int]]
GRADES = ("grade1", "grade2", "grade3", "grade4", "grade5")
API = "/api/v1"


# --------------------------------------------------------------------------- the cut database


def materialise_cut(source: Session, target: Engine, as_of: date) -> None:
    """Copy ``source`` into the migrated, empty ``target`` as it stood at the end of ``as_of``.

    Clinical tables hold the cut rows; every other table is copied whole, less rows that
    point at a clinical row absent at the cut.
    """
    cut = _cut_rows(source, as_of)
    present: dict[str, set[Any]] = {}
    with target.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):  # rows the migration wrote
            conn.execute(table.delete())
        for table in Base.metadata.sorted_tables:
            if table.name in cut:
                rows = cut[table.name]
            else:
                rows = [dict(r) for r in source.execute(select(table)).mappings()]
            for fk in table.foreign_keys:
                parent = fk.column.table.name
                if parent in present and fk.column.name == "id":
                    keep = present[parent]
                    col = fk.parent.name
                    rows = [r for r in rows if r[col] is None or r[col] in keep]
            if rows:
                conn.execute(insert(table), rows)
            if "id" in table.c:
                present[table.name] = {r["id"] for r in rows}
        if target.dialect.name == "postgresql":
            for table in Base.metadata.sorted_tables:
                pk = list(table.primary_key.columns)
                if len(pk) == 1 and pk[0].autoincrement and pk[0].type.python_type is int:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                            f"'{pk[0].name}'), COALESCE((SELECT MAX({pk[0].name}) "
                            f"FROM {table.name}), 0) + 1, false)"
                        )
                    )


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(client: TestClient, username: str, password: str) -> None:
    """Sign in through the form, as a person would."""
    client.cookies.clear()
    page = client.get("/login")
    token = CSRF.search(page.text)
    assert token, "no csrf_token on the sign-in page"
    form = {"username": username, "password": password, "csrf_token": token.group(1)}
    response = client.post("/login", data=form)
    assert response.status_code == 303, response.text


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


# --------------------------------------------------------------------------- HTML tables


class _Rows(HTMLParser):
    """Rows (``data-dose``) of one table (by id), with each cell's ``data-*`` key and text."""

    def __init__(self, table_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.table_id = table_id
        self.inside = False
        self.rows: dict[int, dict[str, int]] = {}
        self.dose: int | None = None
        self.cell: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self.inside = a.get("id") == self.table_id
        if not self.inside:
            return
        if tag == "tr" and a.get("data-dose"):
            self.dose = int(str(a["data-dose"]))
            self.rows[self.dose] = {}
        if tag == "td" and self.dose is not None:
            count, grade = a.get("data-count"), a.get("data-grade")
            self.cell = count or (f"grade{grade}" if grade else None)
            self.text = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None and self.dose is not None:
            self.rows[self.dose][self.cell] = int(self.text.strip() or 0)
            self.cell = None
        if tag == "tr":
            self.dose = None
        if tag == "table":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.text += data


def table_rows(html: str, table_id: str) -> dict[int, dict[str, int]]:
    parser = _Rows(table_id)
    parser.feed(html)
    assert parser.rows, f"no table {table_id!r} with dose rows on the page"
    return parser.rows


# --------------------------------------------------------------------------- readers


def web_arm_pages(client: TestClient, arms: list[str]) -> Counts:
    out: Counts = {}
    for arm in arms:
        page = client.get(f"/trial/arms/{arm}")
        assert page.status_code == 200, page.text
        for dose, cells in table_rows(page.text, "dose-counts").items():
            out[(arm, dose)] = {k: v for k, v in cells.items() if k != "pending"}
    return out


def web_dsmb_page(client: TestClient, arms: list[str]) -> tuple[Counts, dict[Any, list[int]]]:
    """Per dose counts, and participants by category and worst grade per arm (arm, category)."""
    page = client.get("/dsmb")
    assert page.status_code == 200, page.text
    out: Counts = {}
    categories: dict[Any, list[int]] = {}
    for arm in arms:
        for dose, cells in table_rows(page.text, f"dsmb-doses-{arm}").items():
            out[(arm, dose)] = cells
        table = re.search(rf'<table id="dsmb-categories-{arm}">(.*?)</table>', page.text, re.S)
        assert table is not None
        for cat, row in re.findall(r'<tr data-category="(\w+)">(.*?)</tr>', table.group(1), re.S):
            cells = re.findall(r'data-grade="\d">(\d*)<', row)
            categories[(arm, cat)] = [int(c or 0) for c in cells]
    return out, categories


def dsmb_report_syndromes(data: TrialData) -> dict[Any, list[int]]:
    """The DSMB report's CRS and ICANS table: (arm, category) → participants by worst grade."""
    return {
        (r["arm_id"], r["syndrome"].lower()): [r["grades"][g] for g in range(1, 6)]
        for r in build_dsmb(data).syndromes
        if r["arm_id"] != "all"
    }


def api_arm_states(client: TestClient, token: str, arms: list[str]) -> Counts:
    out: Counts = {}
    for arm in arms:
        r = client.get(f"{API}/arms/{arm}/state", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        body = r.json()
        for d in [*body["doses"], *body.get("outside_doses", [])]:
            out[(arm, d["dose"])] = {
                "treated": d["treated"],
                "evaluable": d["evaluable"],
                "dlts": d["dlts"],
                "responders": d["responders"],
                **{f"grade{g}": n for g, n in d["worst_ae"].items()},
            }
    return out


def dsmb_report(data: TrialData) -> Counts:
    out: Counts = {}
    for r in build_dsmb(data).dlt_rates:
        out[(r["arm_id"], r["dose"])] = {
            "treated": r["treated"],
            "evaluable": r["evaluable"],
            "dlts": r["dlt"],
            "responders": r["responders"],
            **{f"grade{g}": n for g, n in enumerate(r["worst_ae"], start=1)},
        }
    return out


def _value(measurement: Mapping[str, Any]) -> int:
    return 0 if measurement["value"] == "NA" else int(measurement["value"])


def ctgov(data: TrialData, protocol: Protocol) -> tuple[PhaseCounts, dict[str, int]]:
    """The registry's outcome measures as it reports them (issue 18): the phase 1 measures
    (DLTs, adverse events) by (phase 1, arm, dose level infused), and the phase 2 measure (best
    response) by arm → responders (CR + CRi)."""
    doc = build_ctgov(data)
    index = {lv.name: lv.design_index.value for lv in protocol.dose_levels.levels}
    groups = {gid: k for gid, k in doc["groupKeys"].items() if gid.startswith("OG")}
    assert {k["phase"] for k in groups.values()} <= {1, 2}, groups
    phase1 = {
        gid: (1, k["armId"], index[k["doseLevel"]]) for gid, k in groups.items() if k["phase"] == 1
    }
    phase2 = {gid: k["armId"] for gid, k in groups.items() if k["phase"] == 2}
    out: PhaseCounts = {key: {} for key in phase1.values()}
    responders: dict[str, int] = {}
    seen: set[str] = set()
    for m in doc["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"]:
        title = m["title"].lower()
        denoms = {c["groupId"]: int(c["value"]) for c in m["denoms"][0]["counts"]}
        cats = {
            (cl.get("title"), cat.get("title")): {
                x["groupId"]: _value(x) for x in cat["measurements"]
            }
            for cl in m["classes"]
            for cat in cl["categories"]
        }
        if "response" in title:
            seen.add("response")
            assert set(denoms) == set(phase2), f"best response is not by phase 2 arm: {denoms}"
            for gid, arm in phase2.items():
                responders[arm] = sum(
                    cats.get((None, BOR_TITLES[c]), {}).get(gid, 0) for c in ("CR", "CRi")
                )
            continue
        assert set(denoms) == set(phase1), f"{title!r} is not by phase 1 arm x dose: {denoms}"
        for gid, key in phase1.items():
            row = out[key]
            if "dose-limiting" in title:
                seen.add("dlt")
                row["evaluable"] = denoms[gid]
                row["dlts"] = cats[(None, "Any DLT")][gid]
            elif "adverse event" in title:
                seen.add("ae")
                row["treated"] = denoms[gid]
                for g in range(1, 6):
                    row[f"grade{g}"] = cats[("Any adverse event", f"Grade {g}")][gid]
    assert seen == {"dlt", "ae", "response"}, f"outcome measures found: {seen}"
    return out, responders


def sdtm(data: TrialData, folder: Path, protocol: Protocol) -> PhaseCounts:
    """By (phase, arm, dose) from the phase-aware actual arm code (DM ``ACTARMCD``,
    ``P1-AUTO-DL1``): treated; DLT-evaluable and DLT from SUPPDM (``DLTEVAL``, ``DLTFL``, the
    final adjudication); worst AE grade in the AE window (AE); best response (RS), read back
    from the SAS XPORT files written by the export."""
    write_sdtm(build_sdtm(data), folder, data.nct_id)

    def read(name: str) -> Any:
        """The dataset's records (none when the export wrote no file: an empty dataset)."""
        path = folder / f"{name}.xpt"
        if name != "dm" and not path.exists():
            return ()
        frame, _ = pyreadstat.read_xport(str(path))
        return list(frame.itertuples())

    dm, ae, suppdm, rs = read("dm"), read("ae"), read("suppdm"), read("rs")
    levels = {lv.name: lv.design_index.value for lv in protocol.dose_levels.levels}
    codes = {
        arm_code(a, lv, phase): (phase, a, d)
        for phase in (1, 2)
        for a in protocol.arm_ids
        for lv, d in levels.items()
    }
    subject: dict[str, PhaseKey] = {
        str(r.USUBJID): codes[str(r.ACTARMCD)] for r in dm if r.ACTARMCD in codes
    }
    out: PhaseCounts = {}
    for key in subject.values():
        out.setdefault(key, {"treated": 0, "evaluable": 0, "dlts": 0, "responders": 0})
        out[key]["treated"] += 1
        out[key].update({g: out[key].get(g, 0) for g in GRADES})
    flags = {(str(r.USUBJID), str(r.QNAM)): str(r.QVAL) for r in suppdm}
    last_day = protocol.windows.ae_days + 1  # SDTM has no day 0: study day 0 is AESTDY 1
    worst: dict[str, int] = {}
    for r in ae:
        if r.AESTDY == r.AESTDY and 1 <= r.AESTDY <= last_day and str(r.AETOXGR).strip():
            s = str(r.USUBJID)
            worst[s] = max(worst.get(s, 0), int(float(r.AETOXGR)))
    responders = {
        str(r.USUBJID) for r in rs if r.RSTESTCD == "BESTRSP" and r.RSSTRESC in ("CR", "CRI", "CRi")
    }
    for s, key in subject.items():
        out[key]["evaluable"] += flags.get((s, "DLTEVAL")) == "Y"
        out[key]["dlts"] += flags.get((s, "DLTFL")) == "Y"
        out[key]["responders"] += s in responders
        if s in worst:
            out[key][f"grade{worst[s]}"] += 1
    return out
