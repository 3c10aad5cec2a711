"""The casebook of one participant of the scripted trial (a copy, with one AE corrected): every
record with its e-signatures and its change history; the facts are the read model's; the PDF's
text lists the records; the Chinese PDF is drawn with a CJK font and has no English left
outside names, units and the standard abbreviations; the CLI writes it and the export is logged
naming the document."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from demo_trial import DemoTrial
from demo_trial import run_cli as run
from dosewise.errors import InvalidParameter
from dosewise.report.casebook import Casebook, build_casebook, casebook_html
from dosewise.report.casebook_export import export_casebook
from dosewise.report.casebook_words import STATEMENTS
from dosewise.settings import Settings
from dosewise.store.session import Database, open_database
from dosewise.store.tables import AdverseEvent, AuditRecord, Enrollment, Participant, User
from dosewise.trial.audit import Actor
from dosewise.trial.esign import MEANING_TEXT
from dosewise.trial.services import queries
from dosewise.trial.services.adverse_events import update_adverse_event
from dosewise.trial.state import arm_protocol, participant_outcome
from dosewise.trial.uow import NotFound, UnitOfWork
from pdf_checks import KEPT_IN_CHINESE, is_cjk_font, pdf_font_rows
from pg import make_settings

STUDY_ID = "S01-0002"
REASON = "Source document shows the event resolved a day later"
QUESTION = "Please check the resolution date against the nursing notes"
ANSWER = "Checked: the nursing notes give the later date"
POPPLER = shutil.which("pdftotext") is not None and shutil.which("pdffonts") is not None


@pytest.fixture(scope="module")
def copy(demo_db: DemoTrial, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A copy of the trial in which the coordinator corrected one adverse event (with a reason),
    so the casebook has a change history that is a correction, not only the workflow."""
    path = tmp_path_factory.mktemp("casebook") / "trial.db"
    src, dst = sqlite3.connect(demo_db.url.removeprefix("sqlite:///")), sqlite3.connect(path)
    src.backup(dst)
    src.close()
    dst.close()
    settings: Settings = make_settings(f"sqlite:///{path}")
    db = open_database(settings)
    with db.sessions() as s:
        coordinator = s.scalars(select(User).where(User.username == "crc.s01")).one()
        actor = Actor.of(coordinator)
        pid = s.scalars(select(Participant.id).where(Participant.study_id == STUDY_ID)).one()
        event = s.scalars(select(AdverseEvent).where(AdverseEvent.participant_id == pid)).first()
        assert event is not None and event.resolved_on is not None
        event_id, version, resolved = event.id, event.version, event.resolved_on
    with UnitOfWork(db, actor) as uow:
        update_adverse_event(
            uow,
            STUDY_ID,
            event_id,
            version=version,
            reason=REASON,
            resolved_on=date.fromordinal(resolved.toordinal() + 1),
        )  # the act commits
    with UnitOfWork(db, _reader(db, "monitor.demo")) as uow:
        query = queries.raise_query(
            uow,
            STUDY_ID,
            record_type="adverse_events",
            record_id=event_id,
            field="resolved_on",
            question=QUESTION,
        )
    with UnitOfWork(db, actor) as uow:
        queries.answer_query(uow, query.id, ANSWER)
    yield db
    db.dispose()


def _reader(db: Database, username: str) -> Actor:
    with db.sessions() as s:
        return Actor.of(s.scalars(select(User).where(User.username == username)).one())


@pytest.fixture(scope="module")
def book(copy: Database) -> Casebook:
    with UnitOfWork(copy, _reader(copy, "monitor.demo"), readonly=True) as uow:
        return build_casebook(uow, STUDY_ID, "en")


def _entries(book: Casebook, key: str) -> list[object]:
    return next(s for s in book.sections if s.key == key).entries


def test_every_kind_of_record_is_there_with_its_signatures(book: Casebook) -> None:
    keys = [s.key for s in book.sections]
    assert keys[:12] == [
        "participant",
        "consents",
        "screenings",
        "enrolment",
        "doses",
        "products",
        "lymphodepletion",
        "infusion",
        "adverse_events",
        "dlt",
        "responses",
        "deviations",
    ]
    assert "queries" in keys and keys[-1] == "off_study"
    for key in ("consents", "screenings", "enrolment", "doses", "products", "infusion"):
        assert _entries(book, key), key
    dose = _entries(book, "doses")[0]
    assert dose.signature is not None and dose.signature.username == "inv.s01"  # type: ignore[attr-defined]
    assert dose.signature.at.endswith("UTC+8")  # type: ignore[attr-defined]
    assert "I approve this record" in dose.signature.meaning  # type: ignore[attr-defined]
    screening = _entries(book, "screenings")[0]
    criteria = [row[0].split(" ", 1)[0] for row in screening.table]  # type: ignore[attr-defined]
    assert criteria[:3] == ["I1", "I2", "I3"] and "E15" in criteria
    # an exclusion correctly absent is "not present", good; never a red "not met"
    e1 = screening.table[criteria.index("E1")]  # type: ignore[attr-defined]
    assert e1[1] == "not present" and screening.tones[criteria.index("E1")] is True  # type: ignore[attr-defined]
    assert "Impaired consciousness: No" in e1[2]


def test_the_query_and_its_thread(book: Casebook) -> None:
    (query,) = _entries(book, "queries")
    assert query.title.startswith("Query ") and "Adverse event #" in query.title  # type: ignore[attr-defined]
    assert query.title.endswith("Resolved on")  # type: ignore[attr-defined]
    assert ("Question", QUESTION) in query.rows  # type: ignore[attr-defined]
    assert query.entered.startswith("Raised by monitor.demo at ")  # type: ignore[attr-defined]
    assert query.table[0][:3] == ["answer", ANSWER, "crc.s01"]  # type: ignore[attr-defined]


def test_the_correction_is_in_the_change_history(book: Casebook) -> None:
    changes = [c for e in _entries(book, "adverse_events") for c in e.changes]  # type: ignore[attr-defined]
    resolved = [c for c in changes if c.field == "Resolved on"]
    assert resolved, changes
    change = resolved[0]
    assert change.by == "crc.s01" and change.reason == REASON
    assert date.fromisoformat(change.new) > date.fromisoformat(change.old)
    assert change.at.endswith("UTC+8")
    # the workflow is there too: the participant's status, registered → … → treated
    status = [c for c in _entries(book, "participant")[0].changes if c.field == "Status"]  # type: ignore[attr-defined]
    assert status[0].old == "registered" and status[-1].new == "treated"


def test_the_facts_are_the_read_models(book: Casebook, copy: Database) -> None:
    with copy.sessions() as s:
        pid = s.scalars(select(Participant.id).where(Participant.study_id == STUDY_ID)).one()
        enrollment = s.scalars(select(Enrollment).where(Enrollment.participant_id == pid)).one()
        from dosewise.store.tables import Arm

        arm = s.get(Arm, enrollment.arm_id)
        assert arm is not None
        outcome = participant_outcome(s, enrollment, arm_protocol(s, arm), date.today())
    summary = dict(book.summary)
    assert summary["Dose the analysis counts"] == outcome.analysed_level
    assert summary["Best overall response (BOR)"] == (outcome.bor or "—")
    assert summary["DLT status"] == {"dlt": "DLT", "no_dlt": "no DLT"}[str(outcome.toxicity_status)]


def test_another_sites_participant_is_not_found(copy: Database) -> None:
    with (
        UnitOfWork(copy, _reader(copy, "crc.s02"), readonly=True) as uow,
        pytest.raises(NotFound, match="no such participant"),
    ):
        build_casebook(uow, STUDY_ID, "en")


def _pdf_text(pdf: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


@pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed")
def test_the_pdf_lists_the_records_and_the_export_is_logged(copy: Database, tmp_path: Path) -> None:
    file = export_casebook(copy, _reader(copy, "inv.s01"), STUDY_ID, lang="en", via="api")
    assert file.filename == f"dosewise-casebook-{STUDY_ID}-en.pdf"
    text = _pdf_text(file.content, tmp_path, file.filename)
    for words in (
        STUDY_ID,
        "Informed consent",
        "Screening of",
        "Enrolment of",
        "Cohort 1",
        "Product lot",
        "Lymphodepletion from",
        "Infusion of",
        "Cytokine release syndrome",
        "Adjudication at",
        "Assessment of",
        "Electronically signed by",
        "Change history",
        REASON[:30],
    ):
        assert words in " ".join(text.split()), words
    with copy.sessions() as s:
        last = s.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
        assert last is not None
        assert (last.action, last.username, last.site_id) == (
            "report.export.casebook",
            "inv.s01",
            "S01",
        )
        detail = json.loads(last.after or "{}")
        assert detail["out"] == file.filename and detail["study_id"] == STUDY_ID


@pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed")
def test_the_chinese_casebook_is_chinese(copy: Database, tmp_path: Path) -> None:
    file = export_casebook(copy, _reader(copy, "monitor.demo"), STUDY_ID, lang="zh", via="cli")
    path = tmp_path / file.filename
    path.write_bytes(file.content)
    rows = pdf_font_rows(path)
    assert any(is_cjk_font(row[0]) for row in rows), rows
    assert all(row[-5] == "yes" for row in rows), rows
    text = _pdf_text(file.content, tmp_path, "zh.pdf")
    assert "病例册" in text and "修改历史" in text and "电子签名" in text
    with UnitOfWork(copy, _reader(copy, "monitor.demo"), readonly=True) as uow:
        html = casebook_html(build_casebook(uow, STUDY_ID, "zh"))
    # names people gave: users and their printed names, lots, the reasons given for changes
    with copy.sessions() as s:
        names = " ".join(f"{u.username} {u.full_name}" for u in s.scalars(select(User)))
        reasons = " ".join(r or "" for r in s.scalars(select(AuditRecord.reason)))
    typed = f"{names} {reasons} {QUESTION} {ANSWER}"
    allowed = set(re.findall(r"[A-Za-z]+", typed))
    allowed |= {"CD", "CDS"}  # the lot CD5-S01-0002
    words = (
        set(re.findall(r"[A-Za-z]{2,}", text)) - KEPT_IN_CHINESE - allowed
    )  # I1, E15, T 细胞: ids
    assert not words, ", ".join(sorted(words))
    assert '<html lang="zh-Hans">' in html


def test_cli_writes_the_casebook_and_refuses_bad_input(
    copy: Database, demo_db: DemoTrial, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(copy.engine.url)
    out = tmp_path / "cb.html"
    args = ["report", "casebook", "--study-id", STUDY_ID, "--out", str(out), "--database-url", url]
    assert run([*args, "--lang", "zh", "--user", "monitor.demo", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == {
        "report": "casebook",
        "study_id": STUDY_ID,
        "out": str(out),
        "format": "html",
        "lang": "zh",
        "bytes": out.stat().st_size,
    }
    assert "病例册" in out.read_text(encoding="utf-8")
    assert run([*args[:4], "--out", str(tmp_path / "cb.docx"), "--database-url", url]) == 2
    unknown = ["report", "casebook", "--study-id", "S09-0001", "--out", str(out)]
    assert run([*unknown, "--database-url", url]) == 2
    assert run([*args, "--user", "crc.s02"]) == 2  # another site's participant: not found
    err = capsys.readouterr().err
    assert "no such participant" in err and "must end in .pdf or .html" in err
    with pytest.raises(InvalidParameter, match="format='docx'"):
        export_casebook(copy, Actor.system(), STUDY_ID, fmt="docx", via="cli")


def test_the_casebooks_signature_statements_are_the_services_words() -> None:
    """The casebook prints what each e-signature meaning commits the signer to in the words the
    service shows when signing (its own copy exists only to mark them for translation)."""
    assert STATEMENTS == MEANING_TEXT
