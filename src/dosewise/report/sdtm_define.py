"""Define-XML 2.1 for the SDTM datasets, its readable HTML view, and a CSV variable listing.

:func:`define_xml` writes one ODM 1.3.2 document with the Define-XML 2.1 extensions
(``def:`` namespace): the standards (SDTMIG 3.4, the CDISC CT package), one ``ItemGroupDef``
per dataset (class, structure, keys, file), one ``ItemDef`` per variable (type, length, origin,
codelist, method or comment), the codelists the export uses (``sdtm_terms``), MedDRA as an
external dictionary with its version, and a ``MethodDef`` for each derived variable. Element
order follows the ODM 1.3.2 foundation schema as redefined by the Define-XML 2.1 extension
schema; the tests validate the file against the Define-XML 2.1 schema shipped with ``odmlib``.
:func:`define_html` renders the same document (read back from the XML) for a reviewer.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from dosewise import __version__
from dosewise.report.sdtm_base import Dataset, Variable
from dosewise.report.sdtm_terms import (
    CODELISTS,
    CT_VERSION,
    SDTMIG_VERSION,
    meddra_mapping,
)

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

#: Comments on variables whose values need a word of explanation (``def:CommentDef``).
COMMENTS = {
    "RACE": "Not collected: the registration and screening forms have no race field; "
    "every subject is NOT REPORTED.",
    "ETHNIC": "Not collected: the registration and screening forms have no ethnicity field; "
    "every subject is NOT REPORTED.",
    "AEDECOD": "The CTCAE v5.0 term as reported; where the shipped CTCAE-MedDRA mapping "
    "lists the term, it is the MedDRA term of that code (AELLTCD/AEPTCD).",
    "AESLIFE": "Y for a grade 4 event (CTCAE/ASTCT grade 4 is life-threatening); other "
    "seriousness criteria are not collected.",
    "AEACN": "The CAR-T product is a single infusion: NOT APPLICABLE for an event on or after "
    "it; UNKNOWN before it (not collected).",
    "EPOCH": "The element of SE the record's date falls in (an element's first day belongs to it).",
}
#: How derived variables are computed (``MethodDef``); others get the generic text.
METHODS = {
    "USUBJID": "STUDYID, a hyphen and SUBJID.",
    "SEQ": "The subject's records numbered 1, 2, ... in date order within the domain.",
    "DY": "Date minus RFSTDTC plus 1 when on or after RFSTDTC, else date minus RFSTDTC "
    "(no day 0; protocol day 0, the infusion, is study day 1).",
    "EPOCH": "The EPOCH of the subject's SE element that contains the record's date.",
    "ACTARMCD": "P<phase>-<arm>-<level actually infused>.",
    "ARMNRS": "SCREEN FAILURE, NOT ASSIGNED, ASSIGNED, NOT TREATED or UNPLANNED TREATMENT "
    "from the subject's records.",
    "RFPENDTC": "The latest date of any of the subject's records, the end of study included.",
    "RFXSTDTC": "The earliest EXSTDTC (the first lymphodepleting dose).",
    "RSSTRESC": "The recorded response as its controlled term (CRi keeps its case; SD/NR is SD).",
}
GENERIC_METHOD = "Derived by dosewise from the collected records; see docs/reports.md."


def q(tag: str, ns: str = ODM_NS) -> str:
    return f"{{{ns}}}{tag}"


def _sub(parent: ET.Element, tag: str, ns: str = ODM_NS, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, q(tag, ns), {k: v for k, v in attrs.items() if v != ""})


def _describe(parent: ET.Element, text: str) -> None:
    desc = _sub(parent, "Description")
    translated = _sub(desc, "TranslatedText")
    translated.set(q("lang", XML_NS), "en")
    translated.text = text


def data_type(dataset: Dataset, v: Variable) -> str:
    """Define-XML DataType: integer/float for numbers, date for --DTC, else text."""
    if v.type == "Num":
        values = dataset.frame[v.name].dropna()
        return "integer" if all(float(x).is_integer() for x in values) else "float"
    if v.name.endswith("DTC"):
        return "date"
    return "text"


def length(dataset: Dataset, v: Variable) -> int:
    """The longest value (text) or digits (integer); at least 1."""
    column = dataset.frame[v.name]
    if v.type == "Num":
        values = column.dropna()
        return max((len(f"{float(x):g}") for x in values), default=1)
    return max(int(column.map(len).max()) if len(column) else 1, 1)


def _method_key(v: Variable) -> str:
    if v.name.endswith("SEQ") and v.name != "TSSEQ":
        return "SEQ"
    if v.name.endswith("DY") and v.name not in ("VISITDY",):
        return "DY"
    return v.name


def define_xml(datasets: Mapping[str, Dataset], study: str, title: str = "") -> ET.Element:
    """The Define-XML 2.1 document (root ``ODM``) for ``datasets`` of study ``study``."""
    meddra = meddra_mapping()
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    root = ET.Element(
        q("ODM"),
        {
            "FileType": "Snapshot",
            "FileOID": f"DEF.{study}.SDTM",
            "CreationDateTime": now,
            "ODMVersion": "1.3.2",
            "Originator": "dosewise",
            "SourceSystem": "dosewise",
            "SourceSystemVersion": __version__,
            q("Context", DEF_NS): "Submission",
        },
    )
    study_el = _sub(root, "Study", OID=f"STUDY.{study}")
    glob = _sub(study_el, "GlobalVariables")
    _sub(glob, "StudyName").text = study
    _sub(glob, "StudyDescription").text = title or study
    _sub(glob, "ProtocolName").text = study
    mdv = _sub(
        study_el,
        "MetaDataVersion",
        OID="MDV.SDTM",
        Name=f"{study} SDTM",
        Description=f"SDTM datasets of {study} (SDTMIG {SDTMIG_VERSION})",
    )
    mdv.set(q("DefineVersion", DEF_NS), "2.1.0")
    standards = _sub(mdv, "Standards", DEF_NS)
    _sub(
        standards,
        "Standard",
        DEF_NS,
        OID="STD.SDTMIG",
        Name="SDTMIG",
        Type="IG",
        Version=SDTMIG_VERSION,
        Status="Final",
    )
    _sub(
        standards,
        "Standard",
        DEF_NS,
        OID="STD.CT",
        Name="CDISC/NCI",
        Type="CT",
        PublishingSet="SDTM",
        Version=CT_VERSION,
        Status="Final",
    )

    used_lists: set[str] = set()
    comments: set[str] = set()
    methods: dict[str, str] = {}
    item_defs: list[tuple[Dataset, Variable]] = []
    for d in datasets.values():
        group = _sub(
            mdv,
            "ItemGroupDef",
            OID=f"IG.{d.name}",
            Name=d.name,
            Repeating="No" if d.name in ("DM", "TS", "TE", "TA", "TV", "TI") else "Yes",
            IsReferenceData="Yes" if d.klass == "TRIAL DESIGN" else "No",
            SASDatasetName=d.name,
            Domain=d.name[4:] if d.name.startswith("SUPP") else d.name,
            Purpose="Tabulation",
        )
        group.set(q("Structure", DEF_NS), d.structure)
        group.set(q("StandardOID", DEF_NS), "STD.SDTMIG")
        group.set(q("ArchiveLocationID", DEF_NS), f"LF.{d.name}")
        _describe(group, d.label)
        for order, v in enumerate(d.variables, start=1):
            ref = _sub(
                group,
                "ItemRef",
                ItemOID=f"IT.{d.name}.{v.name}",
                OrderNumber=str(order),
                Mandatory="Yes" if v.core == "Req" else "No",
                KeySequence=str(d.keys.index(v.name) + 1) if v.name in d.keys else "",
            )
            if v.origin == "Derived":
                key = _method_key(v)
                methods.setdefault(key, METHODS.get(key, GENERIC_METHOD))
                ref.set("MethodOID", f"MT.{key}")
            item_defs.append((d, v))
        _sub(group, "Class", DEF_NS, Name=d.klass or "SPECIAL PURPOSE")
        leaf = _sub(group, "leaf", DEF_NS, ID=f"LF.{d.name}")
        leaf.set(q("href", XLINK_NS), f"{d.name.lower()}.xpt")
        _sub(leaf, "title", DEF_NS).text = f"{d.name.lower()}.xpt"

    for d, v in item_defs:
        item = _sub(
            mdv,
            "ItemDef",
            OID=f"IT.{d.name}.{v.name}",
            Name=v.name,
            DataType=data_type(d, v),
            Length=str(length(d, v)) if data_type(d, v) != "date" else "",
            SASFieldName=v.name,
        )
        if v.name in COMMENTS:
            item.set(q("CommentOID", DEF_NS), f"COM.{v.name}")
            comments.add(v.name)
        _describe(item, v.label)
        if v.codelist == "MedDRA" and v.name in (
            "AEDECOD",
            "AELLT",
            "AELLTCD",
            "AEPTCD",
            "AEBODSYS",
            "AESOC",
        ):
            _sub(item, "CodeListRef", CodeListOID="CL.MEDDRA")
            used_lists.add("MedDRA")
        elif v.codelist in CODELISTS:
            _sub(item, "CodeListRef", CodeListOID=f"CL.{v.codelist}")
            used_lists.add(v.codelist)
        _sub(
            item,
            "Origin",
            DEF_NS,
            Type=v.origin,
            Source="Investigator" if v.origin == "Collected" else "Sponsor",
        )

    for name in sorted(used_lists - {"MedDRA"}):
        cl = CODELISTS[name]
        element = _sub(mdv, "CodeList", OID=f"CL.{name}", Name=cl.label, DataType="text")
        if cl.cdisc:
            element.set(q("StandardOID", DEF_NS), "STD.CT")
        for order, value in enumerate(cl.values, start=1):
            enum = _sub(element, "EnumeratedItem", CodedValue=value, OrderNumber=str(order))
            if value in cl.extended:
                enum.set(q("ExtendedValue", DEF_NS), "Yes")
    if "MedDRA" in used_lists:
        element = _sub(mdv, "CodeList", OID="CL.MEDDRA", Name="MedDRA", DataType="text")
        _sub(element, "ExternalCodeList", Dictionary="MedDRA", Version=meddra.meddra_version)
    for key, text in sorted(methods.items()):
        method = _sub(
            mdv, "MethodDef", OID=f"MT.{key}", Name=f"Algorithm for {key}", Type="Computation"
        )
        _describe(method, text)
    for name in sorted(comments):
        comment = _sub(mdv, "CommentDef", DEF_NS, OID=f"COM.{name}")
        _describe(comment, COMMENTS[name])
    return root


def write_xml(root: ET.Element, path: Path) -> None:
    """The document with ODM as the default namespace, UTF-8 with a declaration."""
    ET.register_namespace("", ODM_NS)
    ET.register_namespace("def", DEF_NS)
    ET.register_namespace("xlink", XLINK_NS)
    tree = ET.ElementTree(root)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


# --------------------------------------------------------------------------- HTML view


def _text(element: ET.Element | None) -> str:
    if element is None:
        return ""
    found = element.find(f"{q('Description')}/{q('TranslatedText')}")
    return found.text or "" if found is not None else ""


def define_html(root: ET.Element) -> str:
    """A readable page of the Define-XML document (read from the XML itself)."""
    mdv = root.find(f"{q('Study')}/{q('MetaDataVersion')}")
    assert mdv is not None
    study = root.findtext(f"{q('Study')}/{q('GlobalVariables')}/{q('StudyName')}") or ""
    items = {i.get("OID"): i for i in mdv.findall(q("ItemDef"))}
    comments = {c.get("OID"): _text(c) for c in mdv.findall(q("CommentDef", DEF_NS))}
    methods = {m.get("OID"): _text(m) for m in mdv.findall(q("MethodDef"))}
    esc = html.escape
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(study)} Define-XML 2.1</title>",
        "<style>body{font-family:'DejaVu Sans',sans-serif;font-size:10pt;margin:1.5em}"
        "table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{border:1px solid #999;padding:2px 6px;text-align:left;vertical-align:top}"
        "th{background:#eee}</style></head><body>",
        f"<h1>{esc(study)}: SDTM define (Define-XML 2.1)</h1>",
        "<h2 id='standards'>Standards</h2><table><tr><th>Name</th><th>Type</th>"
        "<th>Version</th><th>Status</th></tr>",
    ]
    for s in mdv.iter(q("Standard", DEF_NS)):
        out.append(
            "<tr>"
            + "".join(
                f"<td>{esc(s.get(a, ''))}</td>" for a in ("Name", "Type", "Version", "Status")
            )
            + "</tr>"
        )
    for cl in mdv.findall(q("CodeList")):
        ext = cl.find(q("ExternalCodeList"))
        if ext is not None:
            out.append(
                f"<tr><td>{esc(ext.get('Dictionary', ''))}</td><td>dictionary</td>"
                f"<td>{esc(ext.get('Version', ''))}</td><td></td></tr>"
            )
    out.append(
        "</table><h2 id='datasets'>Datasets</h2><table><tr><th>Dataset</th>"
        "<th>Description</th><th>Class</th><th>Structure</th><th>Keys</th>"
        "<th>Location</th></tr>"
    )
    groups = mdv.findall(q("ItemGroupDef"))
    for g in groups:
        name = g.get("Name", "")
        keys = sorted(
            (int(r.get("KeySequence", "0")), items[r.get("ItemOID")].get("Name", ""))
            for r in g.findall(q("ItemRef"))
            if r.get("KeySequence")
        )
        klass = g.find(q("Class", DEF_NS))
        out.append(
            f"<tr><td><a href='#{esc(name)}'>{esc(name)}</a></td><td>{esc(_text(g))}</td>"
            f"<td>{esc(klass.get('Name', '') if klass is not None else '')}</td>"
            f"<td>{esc(g.get(q('Structure', DEF_NS), ''))}</td>"
            f"<td>{esc(', '.join(k for _, k in keys))}</td>"
            f"<td><a href='{esc(name.lower())}.xpt'>{esc(name.lower())}.xpt</a></td></tr>"
        )
    out.append("</table>")
    for g in groups:
        name = g.get("Name", "")
        out.append(
            f"<h2 id='{esc(name)}'>{esc(name)} — {esc(_text(g))}</h2><table><tr>"
            + "".join(
                f"<th>{c}</th>"
                for c in (
                    "#",
                    "Variable",
                    "Label",
                    "Type",
                    "Length",
                    "Mandatory",
                    "Codelist",
                    "Origin",
                    "Method / comment",
                )
            )
            + "</tr>"
        )
        for r in g.findall(q("ItemRef")):
            item = items[r.get("ItemOID")]
            listref = item.find(q("CodeListRef"))
            origin = item.find(q("Origin", DEF_NS))
            note = methods.get(r.get("MethodOID"), "") or comments.get(
                item.get(q("CommentOID", DEF_NS)), ""
            )
            cl_oid = listref.get("CodeListOID", "") if listref is not None else ""
            cells = (
                r.get("OrderNumber", ""),
                item.get("Name", ""),
                _text(item),
                item.get("DataType", ""),
                item.get("Length", ""),
                r.get("Mandatory", ""),
            )
            out.append(
                "<tr>"
                + "".join(f"<td>{esc(c)}</td>" for c in cells)
                + (
                    f"<td><a href='#{esc(cl_oid)}'>{esc(cl_oid[3:])}</a></td>"
                    if cl_oid
                    else "<td></td>"
                )
                + f"<td>{esc(origin.get('Type', '') if origin is not None else '')}</td>"
                + f"<td>{esc(note)}</td></tr>"
            )
        out.append("</table>")
    out.append("<h2 id='codelists'>Codelists</h2>")
    for cl in mdv.findall(q("CodeList")):
        oid = cl.get("OID", "")
        ext = cl.find(q("ExternalCodeList"))
        if ext is not None:
            out.append(
                f"<h3 id='{esc(oid)}'>{esc(cl.get('Name', ''))}</h3><p>External dictionary "
                f"{esc(ext.get('Dictionary', ''))}, version {esc(ext.get('Version', ''))}.</p>"
            )
            continue
        values = [
            e.get("CodedValue", "")
            + (" (sponsor extension)" if e.get(q("ExtendedValue", DEF_NS)) else "")
            for e in cl.findall(q("EnumeratedItem"))
        ]
        source = "CDISC CT" if cl.get(q("StandardOID", DEF_NS)) else "sponsor-defined"
        out.append(
            f"<h3 id='{esc(oid)}'>{esc(cl.get('Name', ''))} ({esc(oid[3:])}, {source})</h3>"
            f"<p>{esc('; '.join(values))}</p>"
        )
    out.append("</body></html>")
    return "\n".join(out)


# --------------------------------------------------------------------------- CSV listing

COLUMNS = (
    "dataset",
    "dataset_label",
    "structure",
    "order",
    "variable",
    "label",
    "type",
    "length",
    "origin",
    "core",
    "codelist",
)


def define_frame(datasets: Mapping[str, Dataset]) -> pd.DataFrame:
    """One row per variable; ``length`` is the longest value for text, 8 bytes for numbers."""
    rows = []
    for d in datasets.values():
        for order, v in enumerate(d.variables, start=1):
            column = d.frame[v.name]
            size = 8 if v.type == "Num" else int(column.map(len).max()) if len(column) else 1
            rows.append(
                {
                    "dataset": d.name,
                    "dataset_label": d.label,
                    "structure": d.structure,
                    "order": order,
                    "variable": v.name,
                    "label": v.label,
                    "type": v.type,
                    "length": max(size, 1),
                    "origin": v.origin,
                    "core": v.core,
                    "codelist": v.codelist or "",
                    "records": len(d.frame),
                }
            )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_define(
    datasets: Mapping[str, Dataset], folder: Path, study: str, title: str = ""
) -> list[Path]:
    """``define.xml`` (Define-XML 2.1), ``define.html`` (its view) and ``define.csv``."""
    root = define_xml(datasets, str(study), " ".join(title.split()))
    xml_path = folder / "define.xml"
    write_xml(root, xml_path)
    page = folder / "define.html"
    page.write_text(define_html(root), encoding="utf-8")
    csv = folder / "define.csv"
    define_frame(datasets).to_csv(csv, index=False)
    return [xml_path, page, csv]


__all__ = [
    "define_frame",
    "define_html",
    "define_xml",
    "write_define",
]
