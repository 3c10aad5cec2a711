"""The DSMB safety report from the scripted whole-trial run: its numbers equal counts made
directly from the database rows, it renders to PDF (pdftoppm page 1 → PNG), and the CLI export is
audit-logged."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import select

from demo_trial import DemoTrial
from demo_trial import run_cli as run
from dosewise.protocol import default_protocol
from dosewise.report.dsmb import DsmbReport, build_dsmb, dsmb_html, write_dsmb
from dosewise.report.trial_data import TrialData
from dosewise.store.tables import AdverseEvent, AuditRecord, DltAdjudication, Enrollment
from pdf_checks import is_cjk_font, pdf_font_rows

CELL = re.compile(r'id="([^"]+)">([^<]*)<')


@pytest.fixture(scope="module")
def report(trial: TrialData) -> DsmbReport:
    return build_dsmb(trial)


@pytest.fixture(scope="module")
def cells(report: DsmbReport) -> dict[str, str]:
    return dict(CELL.findall(dsmb_html(report, "en")))


def _rows(demo_db: DemoTrial) -> tuple[list[AdverseEvent], dict[int, str], list[DltAdjudication]]:
    with demo_db.db.sessions() as s:
        events = list(s.scalars(select(AdverseEvent)))
        arm = {e.participant_id: e.arm_id for e in s.scalars(select(Enrollment))}
        adjudications = list(
            s.scalars(select(DltAdjudication).where(DltAdjudication.status == "final"))
        )
        s.expunge_all()
    return events, arm, adjudications


def test_summary_counts_equal_the_records(cells: dict[str, str], demo_db: DemoTrial) -> None:
    events, arm, adjudications = _rows(demo_db)
    result = demo_db.result
    assert cells["summary-all-treated"] == str(len(result.patients)) == "55"
    assert cells["summary-all-dlt"] == str(sum(a.is_dlt for a in adjudications))
    assert cells["summary-all-dlt"] == str(sum(p.dlt for p in result.patients))
    serious = {e.participant_id for e in events if e.serious}
    assert cells["summary-all-sae"] == str(len(serious))
    for arm_id in ("autologous", "prior_sct_donor", "new_donor"):
        mine = [p for p in result.patients if p.arm == arm_id]
        assert cells[f"summary-{arm_id}-treated"] == str(len(mine))
        assert cells[f"summary-{arm_id}-dlt"] == str(sum(p.dlt for p in mine))
        assert cells[f"summary-{arm_id}-sae"] == str(len({p for p in serious if arm[p] == arm_id}))
        failed = [f for f in result.screen_failures if f["arm"] == arm_id]
        assert cells[f"flow-{arm_id}-screen_failed"] == str(len(failed))
        for site in ("S01", "S02", "S03", "S04"):
            n = sum(p.site == site for p in mine)
            assert cells[f"site-{arm_id}-{site}"] == str(n)


def test_crs_and_icans_worst_grade_by_arm(cells: dict[str, str], demo_db: DemoTrial) -> None:
    events, arm, _ = _rows(demo_db)
    for kind, name in (("crs", "CRS"), ("icans", "ICANS")):
        worst: dict[int, int] = {}
        for e in events:
            if e.category == kind:
                worst[e.participant_id] = max(worst.get(e.participant_id, 0), e.grade)
        for arm_id in ("autologous", "prior_sct_donor", "new_donor", "all"):
            grades = [g for p, g in worst.items() if arm_id == "all" or arm[p] == arm_id]
            assert cells[f"{name}-{arm_id}-any"] == str(len(grades))
            for g in range(1, 6):
                assert cells[f"{name}-{arm_id}-g{g}"] == str(grades.count(g))
    onsets = sorted(e.study_day for e in events if e.category == "crs")
    assert cells["CRS-all-onset"].endswith(f"({onsets[0]}–{onsets[-1]})")


def test_ae_terms_and_dlts_by_dose(cells: dict[str, str], demo_db: DemoTrial) -> None:
    events, _, _ = _rows(demo_db)
    by_term: dict[str, set[int]] = defaultdict(set)
    for e in events:
        by_term[e.term].add(e.participant_id)
    for term, people in by_term.items():
        assert cells[f"ae-{term.replace(' ', '_')}-any"] == str(len(people))
    ladder = default_protocol().dose_levels
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for p in demo_db.result.patients:
        assert p.analysed_dose is not None
        counts[(p.arm, ladder.by_index(p.analysed_dose).name)] += p.dlt
    for (arm_id, level), n in counts.items():
        assert cells[f"dlt-{arm_id}-{level}"] == str(n)


def test_decisions_come_from_the_arm_state(report: DsmbReport, demo_db: DemoTrial) -> None:
    decided = [d for d in report.decisions if d["kind"] == "dose_decision"]
    # one decision opens each phase 1 cohort the script ran (the assignments that opened one)
    opened = {(a["arm_id"], a["cohort"]) for a in demo_db.result.assignments if a["phase"] == 1}
    assert {(d["arm_id"], d["cohort"]) for d in decided} == opened
    closures = [d for d in report.decisions if d["kind"] == "phase1_closure"]
    assert {d["arm_id"] for d in closures} == set(demo_db.result.closures)
    for d in closures:
        assert demo_db.result.closures[d["arm_id"]]["obd_level"] in d["dose"]


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_pdf_renders_in_chinese(report: DsmbReport, tmp_path: Path) -> None:
    path, kind = write_dsmb(report, tmp_path / "dsmb-zh.pdf", "zh")
    assert kind == "pdf" and path.read_bytes().startswith(b"%PDF")
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")],
        check=True,
    )
    png = next(tmp_path.glob("p*.png"))
    assert png.stat().st_size > 1000
    assert "数据安全监查委员会" in dsmb_html(report, "zh")
    if shutil.which("pdffonts") is not None:  # the Chinese is drawn with a CJK font, not boxes
        rows = pdf_font_rows(path)
        assert any(is_cjk_font(row[0]) for row in rows), rows
        assert all(row[-5] == "yes" for row in rows), rows


def test_cli_writes_html_and_audits_the_export(
    demo_db: DemoTrial, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dsmb.html"
    args = ["report", "dsmb", "--out", str(out), "--database-url", demo_db.url]
    assert run([*args, "--user", "dsmb.demo", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["report"] == "dsmb" and doc["treated"] == 55 and out.is_file()
    with demo_db.db.sessions() as s:
        last = s.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
        assert last is not None
        assert (last.action, last.username) == ("report.export.dsmb", "dsmb.demo")
    for bad in (
        ["--out", str(tmp_path / "x.doc")],
        ["--out", str(out), "--user", "nobody"],
        ["--out", str(out), "--as-of", "2026-13-01"],
    ):
        assert run(["report", "dsmb", "--database-url", demo_db.url, *bad]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err
        assert "as-of" not in bad or err.startswith("error: as_of=")
    # A cut-off before the trial started is a report of an empty trial, not an error.
    assert run([*args, "--as-of", "2000-01-01", "--json"]) == 0
    early = json.loads(capsys.readouterr().out)
    assert early["as_of"] == "2000-01-01" and early["treated"] == 0 and out.is_file()


def test_chinese_report_names_arms_terms_phases_and_steps(report: DsmbReport) -> None:
    html = dsmb_html(report, "zh")
    head = re.search(r"@top-left \{ content: \"([^\"]*)\"", html)
    assert head and "数据安全监查委员会 (DSMB) 安全性报告" in head.group(1)
    assert "自体 CD5 CAR-T 细胞" in html and "免疫效应细胞相关神经毒性综合征" in html
    captions = re.findall(r"<caption>(.*?)</caption>", html, re.S)
    states = [c for c in captions if "阶段" in c]
    assert len(states) == len(report.states)
    codes = re.compile(r"阶段: (phase1|phase2|closed);|下一步: (assign|wait|closed) ")
    assert not [c for c in states if codes.search(c)]
    english = dsmb_html(report, "en")
    assert "Autologous CD5 CAR T-cells" in english and "DSMB safety report" in english
