"""CDISC ODM 1.3.2 export from the scripted whole-trial run.

Checked against the ODM 1.3.2 schema's content models (``ODM1-3-2-foundation.xsd``, written out
below by hand for the elements the export uses): element order, required children, OIDs defined
once and every reference resolved, typed values, coded values in their code lists. Clinical
values are compared with the TrialData frames and, for AE grades and infusion dates, with the
database rows; the audit trail with the audit table.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from demo_trial import DemoTrial
from demo_trial import run_cli as run
from dosewise.errors import InvalidInput
from dosewise.report.odm import (
    build_odm,
    changed_fields,
    check_references,
    odm_value,
    write_odm,
)
from dosewise.report.trial_data import TrialData, records
from dosewise.store.tables import AdverseEvent, AuditRecord, Infusion, Participant

NS = "http://www.cdisc.org/ns/odm/v1.3"
N = {"odm": NS}
CREATED = datetime(2026, 12, 28, 9, 30, tzinfo=UTC)

#: Child order of the ODM 1.3.2 content models the export uses (the schema's xs:sequence).
SEQUENCES: dict[str, tuple[str, ...]] = {
    "ODM": ("Study", "AdminData", "ReferenceData", "ClinicalData", "Association"),
    "Study": ("GlobalVariables", "BasicDefinitions", "MetaDataVersion"),
    "GlobalVariables": ("StudyName", "StudyDescription", "ProtocolName"),
    "BasicDefinitions": ("MeasurementUnit",),
    "MeasurementUnit": ("Symbol", "Alias"),
    "MetaDataVersion": (
        "Include",
        "Protocol",
        "StudyEventDef",
        "FormDef",
        "ItemGroupDef",
        "ItemDef",
        "CodeList",
        "ImputationMethod",
        "Presentation",
        "ConditionDef",
        "MethodDef",
    ),
    "Protocol": ("Description", "StudyEventRef", "Alias"),
    "StudyEventDef": ("Description", "FormRef", "Alias"),
    "FormDef": ("Description", "ItemGroupRef", "ArchiveLayout", "Alias"),
    "ItemGroupDef": ("Description", "ItemRef", "Alias"),
    "ItemDef": (
        "Description",
        "Question",
        "ExternalQuestion",
        "MeasurementUnitRef",
        "RangeCheck",
        "CodeListRef",
        "Role",
        "Alias",
    ),
    "CodeList": ("Description", "CodeListItem", "Alias"),
    "CodeListItem": ("Decode", "Alias"),
    "AdminData": ("User", "Location", "SignatureDef"),
    "User": (
        "LoginName",
        "DisplayName",
        "FullName",
        "FirstName",
        "LastName",
        "Organization",
        "Address",
        "Email",
        "Picture",
        "Pager",
        "Fax",
        "Phone",
        "LocationRef",
        "Certificate",
    ),
    "Location": ("MetaDataVersionRef",),
    "ClinicalData": ("SubjectData", "AuditRecords", "Signatures", "Annotations"),
    "SubjectData": (
        "AuditRecord",
        "Signature",
        "InvestigatorRef",
        "SiteRef",
        "Annotation",
        "StudyEventData",
    ),
    "StudyEventData": ("AuditRecord", "Signature", "Annotation", "FormData"),
    "FormData": ("AuditRecord", "Signature", "ArchiveLayoutRef", "Annotation", "ItemGroupData"),
    "ItemGroupData": ("AuditRecord", "Signature", "Annotation", "ItemData"),
    "ItemData": ("AuditRecord", "Signature", "MeasurementUnitRef", "Annotation"),
    "AuditRecords": ("AuditRecord",),
    "AuditRecord": ("UserRef", "LocationRef", "DateTimeStamp", "ReasonForChange", "SourceID"),
    "Annotations": ("Annotation",),
    "Annotation": ("Comment", "Flag"),
    "Flag": ("FlagValue", "FlagType"),
}
#: Children the schema requires (minOccurs 1).
REQUIRED: dict[str, tuple[str, ...]] = {
    "Study": ("GlobalVariables",),
    "GlobalVariables": ("StudyName", "StudyDescription", "ProtocolName"),
    "Location": ("MetaDataVersionRef",),
    "AuditRecord": ("UserRef", "LocationRef", "DateTimeStamp"),
    "CodeListItem": ("Decode",),
    "Flag": ("FlagValue",),
}
#: Attributes the schema requires.
REQUIRED_ATTRS: dict[str, tuple[str, ...]] = {
    "ODM": ("FileType", "FileOID", "CreationDateTime"),
    "StudyEventRef": ("StudyEventOID", "Mandatory"),
    "StudyEventDef": ("OID", "Name", "Repeating", "Type"),
    "FormRef": ("FormOID", "Mandatory"),
    "FormDef": ("OID", "Name", "Repeating"),
    "ItemGroupRef": ("ItemGroupOID", "Mandatory"),
    "ItemGroupDef": ("OID", "Name", "Repeating"),
    "ItemRef": ("ItemOID", "Mandatory"),
    "ItemDef": ("OID", "Name", "DataType"),
    "CodeList": ("OID", "Name", "DataType"),
    "CodeListItem": ("CodedValue",),
    "User": ("OID",),
    "Location": ("OID", "Name"),
    "MetaDataVersionRef": ("StudyOID", "MetaDataVersionOID", "EffectiveDate"),
    "ClinicalData": ("StudyOID", "MetaDataVersionOID"),
    "SubjectData": ("SubjectKey",),
    "Annotation": ("SeqNum",),
}
DATA_TYPES = {
    "text": re.compile(r".+", re.S),
    "integer": re.compile(r"^-?\d+$"),
    "float": re.compile(r"^-?\d+(\.\d+)?$"),  # xs:decimal: no exponent
    "date": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "boolean": re.compile(r"^(true|false)$"),
}


def local(element: ET.Element) -> str:
    return element.tag.split("}", 1)[1]


@pytest.fixture(scope="module")
def odm_file(trial: TrialData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("odm") / "trial.xml"
    write_odm(build_odm(trial, created=CREATED), out)
    return out


@pytest.fixture(scope="module")
def root(odm_file: Path) -> ET.Element:
    return ET.parse(odm_file).getroot()


def _values(root: ET.Element) -> dict[tuple[str, str, str | None], dict[str, str]]:
    """(SubjectKey, ItemGroupOID, repeat key) → {ItemOID: Value}."""
    out: dict[tuple[str, str, str | None], dict[str, str]] = {}
    for subject in root.iterfind("odm:ClinicalData/odm:SubjectData", N):
        for group in subject.iterfind(".//odm:ItemGroupData", N):
            key = (subject.get("SubjectKey", ""), group.get("ItemGroupOID", ""))
            full = (*key, group.get("ItemGroupRepeatKey"))
            assert full not in out, full
            out[full] = {i.get("ItemOID", ""): i.get("Value", "") for i in group}
    return out


def _usubjid(trial: TrialData, study_id: str) -> str:
    return f"{trial.nct_id}-{study_id}"


# --------------------------------------------------------------------------- the document


def test_file_is_namespaced_odm_132(odm_file: Path, root: ET.Element, trial: TrialData) -> None:
    assert odm_file.read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert root.tag == f"{{{NS}}}ODM"
    assert all(e.tag.startswith(f"{{{NS}}}") for e in root.iter())
    assert root.get("ODMVersion") == "1.3.2" and root.get("FileType") == "Snapshot"
    assert datetime.fromisoformat(root.get("CreationDateTime", "")) == CREATED
    assert root.get("SourceSystem") == "dosewise" and root.get("SourceSystemVersion")
    assert root.get("FileOID", "").startswith(trial.nct_id)
    gv = root.find("odm:Study/odm:GlobalVariables", N)
    assert gv is not None
    assert gv.findtext("odm:ProtocolName", namespaces=N) == trial.nct_id
    assert gv.findtext("odm:StudyName", namespaces=N) == trial.protocol.registry.title
    # a Snapshot carries no transaction history
    assert not [e for e in root.iter() if e.get("TransactionType") not in (None, "Insert")]


def test_elements_follow_the_schema_sequences(root: ET.Element) -> None:
    checked = Counter[str]()
    for element in root.iter():
        name = local(element)
        for attribute in REQUIRED_ATTRS.get(name, ()):
            assert element.get(attribute), (name, attribute)
        if name not in SEQUENCES:
            continue
        order = SEQUENCES[name]
        children = [local(c) for c in element]
        assert all(c in order for c in children), (name, children)
        positions = [order.index(c) for c in children]
        assert positions == sorted(positions), (name, children)
        for needed in REQUIRED.get(name, ()):
            assert needed in children, (name, needed)
        checked[name] += 1
    for name in ("MetaDataVersion", "ItemDef", "AuditRecord", "SubjectData", "ItemGroupData"):
        assert checked[name] > 0
    # xml:lang on every translated text
    texts = list(root.iter(f"{{{NS}}}TranslatedText"))
    assert texts and all(t.get("{http://www.w3.org/XML/1998/namespace}lang") == "en" for t in texts)


def test_every_oid_is_unique_and_every_reference_defined(root: ET.Element) -> None:
    mdv = root.find("odm:Study/odm:MetaDataVersion", N)
    assert mdv is not None
    oids = [c.get("OID") for c in mdv if c.get("OID")]
    assert len(oids) == len(set(oids)) > 40
    admin = root.find("odm:AdminData", N)
    assert admin is not None
    for tag in ("User", "Location"):
        found = [e.get("OID") for e in admin.iterfind(f"odm:{tag}", N)]
        assert len(found) == len(set(found)) > 0
    defined = {local(c): set() for c in mdv}
    for c in mdv:
        defined[local(c)].add(c.get("OID"))
    users = {u.get("OID") for u in admin.iterfind("odm:User", N)}
    locations = {x.get("OID") for x in admin.iterfind("odm:Location", N)}
    references = (
        ("StudyEventOID", defined["StudyEventDef"]),
        ("FormOID", defined["FormDef"]),
        ("ItemGroupOID", defined["ItemGroupDef"]),
        ("ItemOID", defined["ItemDef"]),
        ("CodeListOID", defined["CodeList"]),
        ("UserOID", users),
        ("LocationOID", locations),
    )
    counted = Counter[str]()
    for element in root.iter():
        for attribute, known in references:
            if attribute in element.attrib:
                assert element.get(attribute) in known, (local(element), element.attrib)
                counted[attribute] += 1
    assert all(counted[a] > 0 for a, _ in references)
    # the IDs of audit records and annotations are document-unique (xs:ID)
    ids = [e.get("ID") for e in root.iter() if e.get("ID")]
    assert len(ids) == len(set(ids))
    assert check_references(root) == []


def test_check_references_finds_broken_documents(root: ET.Element) -> None:
    broken = ET.fromstring(ET.tostring(root))
    data = broken.find(".//odm:ItemData", N)
    assert data is not None
    data.set("ItemOID", "IT.NOT_DEFINED")
    mdv = broken.find("odm:Study/odm:MetaDataVersion", N)
    assert mdv is not None
    first_item = mdv.find("odm:ItemDef", N)
    assert first_item is not None
    mdv.append(ET.fromstring(ET.tostring(first_item)))
    problems = check_references(broken)
    assert any("IT.NOT_DEFINED" in p for p in problems)
    assert any("defined twice" in p for p in problems)


# --------------------------------------------------------------------------- clinical data


def test_one_subject_per_registered_participant(root: ET.Element, trial: TrialData) -> None:
    subjects = root.findall("odm:ClinicalData/odm:SubjectData", N)
    keys = [s.get("SubjectKey") for s in subjects]
    assert len(keys) == len(set(keys)) == len(trial.participants) == 61
    expected = {_usubjid(trial, p.study_id): p.site_id for p in records(trial.participants)}
    assert set(keys) == set(expected)
    for s in subjects:
        site = s.find("odm:SiteRef", N)
        assert (
            site is not None
            and site.get("LocationOID") == f"LOC.{expected[s.get('SubjectKey', '')]}"
        )
    # screen failures have no enrollment or infusion event; everyone has screening and status
    for p, s in zip(records(trial.participants), subjects, strict=True):
        events = [e.get("StudyEventOID") for e in s.iterfind("odm:StudyEventData", N)]
        assert events[0] == "SE.SCREENING" and events[-1] == "SE.STATUS"
        assert ("SE.ENROLLMENT" in events) == (p.enrolled_on is not None)
        assert ("SE.INFUSION" in events) == (p.infused_on is not None)


def test_values_equal_the_frames(root: ET.Element, trial: TrialData) -> None:
    values = _values(root)
    treated = 0
    for p in records(trial.participants):
        key = _usubjid(trial, p.study_id)
        assert values[(key, "IG.DM", None)]["IT.SEX"] == p.sex
        assert values[(key, "IG.DM", None)]["IT.AGE"] == str(p.age_years)
        if p.enrolled_on is not None:
            enrol = values[(key, "IG.ENROL", None)]
            assert enrol["IT.ARM"] == p.arm_id
            assert enrol["IT.ASSIGNED_LEVEL"] == p.assigned_level
            assert enrol["IT.ENROLLED_ON"] == p.enrolled_on.isoformat()
        if p.infused_on is not None:
            treated += 1
            ex = values[(key, "IG.EX", None)]
            assert ex["IT.INFUSED_ON"] == p.infused_on.isoformat()
            assert ex["IT.ACTUAL_LEVEL"] == p.actual_level
            assert ex["IT.ACTUAL_DOSE"] == str(p.actual_dose)
            assert float(ex["IT.CELLS"]) == p.cells_per_kg
            assert ex["IT.FALLBACK"] == ("true" if p.fallback else "false")
        else:
            assert (key, "IG.EX", None) not in values
        bor = values.get((key, "IG.BOR", None), {})
        assert bor.get("IT.BOR") == p.bor
    assert treated == len(trial.treated) == 55
    for d in records(trial.dlts):
        dlt = values[(_usubjid(trial, d.study_id), "IG.DLT", None)]
        assert dlt["IT.DLT"] == ("true" if d.is_dlt else "false")
    for e in records(trial.adverse_events):
        row = values[(_usubjid(trial, e.study_id), "IG.AE", str(e.ae_id))]
        assert row["IT.AE_GRADE"] == str(e.grade) and row["IT.AE_TERM"] == e.term
        assert row["IT.AE_ONSET_ON"] == e.onset_on.isoformat()
        assert row["IT.AE_DLT"] == ("true" if e.is_dlt else "false")
    assessed = Counter(_usubjid(trial, r.study_id) for r in records(trial.responses))
    in_file = Counter(k[0] for k in values if k[1] == "IG.RS")
    assert in_file == assessed


def test_values_equal_the_database_rows(root: ET.Element, demo_db: DemoTrial) -> None:
    values = _values(root)
    with demo_db.db.sessions() as s:
        study = {i: sid for i, sid in s.execute(select(Participant.id, Participant.study_id))}
        events = list(
            s.execute(select(AdverseEvent.id, AdverseEvent.participant_id, AdverseEvent.grade))
        )
        infusions = list(s.execute(select(Infusion.participant_id, Infusion.infused_on)))
    nct = root.findtext("odm:Study/odm:GlobalVariables/odm:ProtocolName", namespaces=N)
    grades = {(k[2], v["IT.AE_GRADE"]) for k, v in values.items() if k[1] == "IG.AE"}
    assert grades == {(str(i), str(g)) for i, _, g in events}
    for pid, day in infusions:
        assert values[(f"{nct}-{study[pid]}", "IG.EX", None)]["IT.INFUSED_ON"] == day.isoformat()


def test_values_are_typed_and_coded(root: ET.Element) -> None:
    mdv = root.find("odm:Study/odm:MetaDataVersion", N)
    assert mdv is not None
    codes = {
        c.get("OID"): {i.get("CodedValue") for i in c.iterfind("odm:CodeListItem", N)}
        for c in mdv.iterfind("odm:CodeList", N)
    }
    items = {}
    for item in mdv.iterfind("odm:ItemDef", N):
        ref = item.find("odm:CodeListRef", N)
        items[item.get("OID")] = (
            item.get("DataType"),
            ref.get("CodeListOID") if ref is not None else None,
        )
        assert item.findtext("odm:Question/odm:TranslatedText", namespaces=N)
    coded = Counter[str]()
    for data in root.iter(f"{{{NS}}}ItemData"):
        data_type, codelist = items[data.get("ItemOID")]
        value = data.get("Value", "")
        assert DATA_TYPES[data_type].match(value), (data.get("ItemOID"), value)
        if data_type == "date":
            date.fromisoformat(value)
        if codelist:
            assert value in codes[codelist], (data.get("ItemOID"), value)
            coded[codelist] += 1
    for needed in ("CL.SEX", "CL.ARM", "CL.LEVEL", "CL.GRADE", "CL.RESPONSE"):
        assert coded[needed] > 0
    for flag in root.iter(f"{{{NS}}}FlagValue"):
        assert flag.text in codes[flag.get("CodeListOID")]
    repeating = {g.get("OID"): g.get("Repeating") for g in mdv.iterfind("odm:ItemGroupDef", N)}
    assert repeating["IG.AE"] == repeating["IG.RS"] == "Yes" and repeating["IG.DM"] == "No"
    for group in root.iter(f"{{{NS}}}ItemGroupData"):
        has_key = group.get("ItemGroupRepeatKey") is not None
        assert has_key == (repeating[group.get("ItemGroupOID")] == "Yes")


# --------------------------------------------------------------------------- audit trail


def test_audit_trail_is_carried_whole(root: ET.Element, trial: TrialData) -> None:
    audit = root.findall("odm:ClinicalData/odm:AuditRecords/odm:AuditRecord", N)
    rows = records(trial.audit)
    assert len(audit) == len(rows) > 1000
    users = {
        u.get("OID"): u.findtext("odm:LoginName", namespaces=N)
        for u in root.iterfind("odm:AdminData/odm:User", N)
    }
    assert set(users.values()) == {r.username for r in rows}
    notes = root.findall("odm:ClinicalData/odm:Annotations/odm:Annotation", N)
    assert len(notes) == len(rows)
    for element, row, note in zip(audit, rows, notes, strict=True):
        assert element.findtext("odm:SourceID", namespaces=N) == str(row.seq)
        user = element.find("odm:UserRef", N)
        assert user is not None and users[user.get("UserOID")] == row.username
        where = element.find("odm:LocationRef", N)
        assert where is not None
        assert where.get("LocationOID") == (f"LOC.{row.site_id}" if row.site_id else "LOC.CENTRAL")
        stamp = datetime.fromisoformat(element.findtext("odm:DateTimeStamp", namespaces=N) or "")
        assert stamp == datetime.fromisoformat(row.recorded_at) and stamp.tzinfo is not None
        assert element.findtext("odm:ReasonForChange", namespaces=N) == row.reason
        assert note.get("SeqNum") == str(row.seq)
        comment = note.findtext("odm:Comment", namespaces=N) or ""
        assert comment.startswith(f"AR.{row.seq}: action={row.action};")
        assert f"operation={row.operation}" in comment
        assert note.findtext("odm:Flag/odm:FlagValue", namespaces=N) == row.operation
    assert sum(e.find("odm:ReasonForChange", N) is not None for e in audit) == sum(
        r.reason is not None for r in rows
    )


def test_changed_fields_and_values() -> None:
    assert changed_fields('{"status":"a","x":1}', '{"status":"b","x":1,"y":2}') == ["status", "y"]
    assert changed_fields(None, None) == [] and changed_fields("not json", "{}") == []
    assert odm_value(1e6, "float") == "1000000.0"
    assert odm_value(2.5e-7, "float") == "0.00000025"
    assert odm_value(3.0, "integer") == "3" and odm_value(True, "boolean") == "true"
    assert odm_value(date(2026, 1, 2), "date") == "2026-01-02"
    assert odm_value((4, 7), "text") == "4 7"
    for bad, kind in ((2.5, "integer"), ("yes", "boolean"), ("2026-01-02", "date"), ("x", "float")):
        with pytest.raises(InvalidInput, match="is not an ODM"):
            odm_value(bad, kind)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- CLI


def test_cli_writes_the_file_and_audits_the_export(
    demo_db: DemoTrial, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with demo_db.db.sessions() as s:
        before = s.scalar(select(func.count()).select_from(AuditRecord))
    out = tmp_path / "trial.xml"
    args = ["report", "odm", "--out", str(out), "--database-url", demo_db.url]
    assert run([*args, "--user", "monitor.demo", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["report"] == "odm" and doc["format"] == "xml"
    assert doc["subjects"] == 61 and doc["audit_records"] == before
    written = ET.parse(out).getroot()
    assert len(written.findall("odm:ClinicalData/odm:SubjectData", N)) == 61
    with demo_db.db.sessions() as s:
        last = s.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
        assert last is not None
        assert (last.action, last.username) == ("report.export.odm", "monitor.demo")
        assert json.loads(last.after or "{}")["audit_records"] == before


def test_cli_rejects_a_wrong_ending_and_site_users(
    demo_db: DemoTrial, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "x.txt"
    code = run(["report", "odm", "--out", str(bad), "--database-url", demo_db.url])
    err = capsys.readouterr().err.strip()
    assert code == 2 and not bad.exists()
    assert err == f"error: out={str(bad)!r}: must end in .xml"
    # the file holds every site's records: a site's staff may not take it
    good = tmp_path / "x.xml"
    code = run(
        ["report", "odm", "--out", str(good), "--database-url", demo_db.url, "--user", "crc.s01"]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and not good.exists()
    assert err.startswith("error: kind='odm'") and "site S01 only" in err and "\n" not in err
