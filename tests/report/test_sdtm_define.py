"""Define-XML 2.1 of the SDTM export: valid against the schema odmlib ships, complete, consistent.

The schema is ``odmlib/schemas/define/2.1/define2-1-0.xsd`` (CDISC's Define-XML 2.1 schema,
which redefines the ODM 1.3.2 foundation), validated with ``xmlschema``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import odmlib
import pytest
import xmlschema

from dosewise.report.sdtm import Dataset, build_sdtm, write_sdtm
from dosewise.report.sdtm_define import DEF_NS, XLINK_NS, define_html, define_xml, q
from dosewise.report.sdtm_terms import CODELISTS, CT_VERSION, meddra_mapping
from dosewise.report.trial_data import TrialData


@cache
def schema() -> xmlschema.XMLSchema:
    xsd = Path(odmlib.__file__).parent / "schemas" / "define" / "2.1" / "define2-1-0.xsd"
    return xmlschema.XMLSchema(str(xsd))


@pytest.fixture(scope="module")
def sdtm(trial: TrialData) -> dict[str, Dataset]:
    return build_sdtm(trial)


@pytest.fixture(scope="module")
def folder(
    sdtm: dict[str, Dataset], trial: TrialData, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("define")
    write_sdtm(sdtm, out, trial.nct_id, trial)
    return out


@pytest.fixture(scope="module")
def root(folder: Path) -> ET.Element:
    return ET.parse(folder / "define.xml").getroot()


def test_define_xml_is_valid_against_the_define_2_1_schema(folder: Path) -> None:
    errors = list(schema().iter_errors(str(folder / "define.xml")))
    assert errors == []


def test_the_schema_check_can_fail(sdtm: dict[str, Dataset]) -> None:
    bad = define_xml(sdtm, "NCT07070323")
    del bad.attrib[q("Context", DEF_NS)]  # def:Context is required on ODM
    assert not schema().is_valid(ET.tostring(bad, encoding="unicode"))
    bad = define_xml(sdtm, "NCT07070323")
    mdv = bad.find(f"{q('Study')}/{q('MetaDataVersion')}")
    assert mdv is not None
    first = mdv.find(q("ItemGroupDef"))
    assert first is not None
    mdv.remove(first)
    mdv.append(first)  # an ItemGroupDef after the CommentDefs breaks the schema order
    assert not schema().is_valid(ET.tostring(bad, encoding="unicode"))


def test_every_dataset_and_variable_is_described(
    root: ET.Element, sdtm: dict[str, Dataset]
) -> None:
    mdv = root.find(f"{q('Study')}/{q('MetaDataVersion')}")
    assert mdv is not None
    groups = {g.get("Name"): g for g in mdv.findall(q("ItemGroupDef"))}
    assert list(groups) == list(sdtm)
    items = {i.get("OID"): i for i in mdv.findall(q("ItemDef"))}
    for name, d in sdtm.items():
        refs = groups[name].findall(q("ItemRef"))
        assert [items[r.get("ItemOID")].get("Name") for r in refs] == [v.name for v in d.variables]
        keyed = sorted(
            (int(r.get("KeySequence", "0")), items[r.get("ItemOID")].get("Name"))
            for r in refs
            if r.get("KeySequence")
        )
        assert tuple(n for _, n in keyed) == d.keys
        leaf = groups[name].find(q("leaf", DEF_NS))
        assert leaf is not None and leaf.get(q("href", XLINK_NS)) == f"{name.lower()}.xpt"
        klass = groups[name].find(q("Class", DEF_NS))
        assert klass is not None and klass.get("Name") == d.klass
        for v in d.variables:
            item = items[f"IT.{name}.{v.name}"]
            origin = item.find(q("Origin", DEF_NS))
            assert origin is not None and origin.get("Type") == v.origin
            if item.get("DataType") == "text":
                longest = int(d.frame[v.name].map(len).max()) if len(d.frame) else 1
                assert int(item.get("Length", "0")) == max(longest, 1)


def test_references_resolve_and_versions_are_named(root: ET.Element) -> None:
    mdv = root.find(f"{q('Study')}/{q('MetaDataVersion')}")
    assert mdv is not None
    oids = {e.get("OID") for e in mdv.iter() if e.get("OID")}
    for attr in ("ItemOID", "CodeListOID", "MethodOID"):
        for e in mdv.iter():
            if e.get(attr):
                assert e.get(attr) in oids, (attr, e.get(attr))
    for e in mdv.iter():
        if e.get(q("CommentOID", DEF_NS)):
            assert e.get(q("CommentOID", DEF_NS)) in oids
    standards = {s.get("Name"): s.get("Version") for s in mdv.iter(q("Standard", DEF_NS))}
    assert standards == {"SDTMIG": "3.4", "CDISC/NCI": CT_VERSION}
    meddra = mdv.find(f"{q('CodeList')}/{q('ExternalCodeList')}")
    assert meddra is not None and meddra.get("Dictionary") == "MedDRA"
    assert meddra.get("Version") == meddra_mapping().meddra_version
    epoch = mdv.find(f"{q('CodeList')}[@OID='CL.EPOCH']")
    assert epoch is not None
    assert [e.get("CodedValue") for e in epoch] == list(CODELISTS["EPOCH"].values)
    extended = [e.get("CodedValue") for e in epoch if e.get(q("ExtendedValue", DEF_NS))]
    assert extended == ["LYMPHODEPLETION"]


def test_html_view_lists_every_dataset_variable_and_codelist(
    root: ET.Element, folder: Path, sdtm: dict[str, Dataset]
) -> None:
    page = (folder / "define.html").read_text("utf-8")
    assert page == define_html(root)
    for name, d in sdtm.items():
        assert f"id='{name}'" in page and f"{name.lower()}.xpt" in page
        for v in d.variables:
            assert f"<td>{v.name}</td>" in page
    assert "SDTMIG" in page and "MedDRA" in page and "Not collected" in page
