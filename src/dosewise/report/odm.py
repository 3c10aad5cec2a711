"""CDISC ODM 1.3.2 XML of the trial: metadata, sites and users, clinical data and the audit trail.

:func:`build_odm` turns :class:`~dosewise.report.trial_data.TrialData` into one ``Snapshot``
document (the data as of the cut-off, no transaction history), for exchange and archiving:

- ``Study`` holds the global variables (registry title and summary, ``ProtocolName`` = NCT id),
  the units and one ``MetaDataVersion``: the study events (screening, enrollment, infusion, the
  DLT window, adverse events, response assessments, status), their forms, item groups (adverse
  events and response assessments repeat), items with ODM data types and questions, and the
  code lists of coded values (sex, arm, dose level, toxicity grade, grading scale, attribution,
  AE category, response category, visit, audit operation);
- ``AdminData`` has a ``User`` for every user name in the audit trail and a ``Location`` for
  every site, plus the central trial system for records made outside a site;
- ``ClinicalData`` has one ``SubjectData`` per registered participant (``SubjectKey`` = USUBJID,
  ``SiteRef`` = the site), then the audit trail as ``AuditRecords`` (one per audit row; ``ID``
  ``AR.<seq>``, ``SourceID`` = the row's sequence number) and ``Annotations`` that say what each
  audit row recorded (action, entity, operation, changed fields; ``ID`` ``AN.<seq>``).

Element order follows the sequences of the ODM 1.3.2 schema (``ODM1-3-2-foundation.xsd``).
Values are the frames' values: dates ISO 8601, booleans ``true``/``false``, numbers in plain
decimal notation; a missing value has no ``ItemData``. The text is English, as CDISC requires.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, get_args

import pandas as pd

from dosewise import __version__
from dosewise.clinical.ctcae import ATTRIBUTIONS, KINDS, SCALES
from dosewise.clinical.response import CATEGORIES
from dosewise.errors import InvalidInput, InvalidParameter
from dosewise.report.render import sci
from dosewise.report.sdtm import usubjid
from dosewise.report.trial_data import TrialData, records
from dosewise.trial.audit import Operation

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
ODM_VERSION = "1.3.2"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MDV_OID = "MDV.1"
#: The Location of audit records made outside any site (setup, sponsor-level users, logins).
CENTRAL = "LOC.CENTRAL"

DataType = Literal["text", "integer", "float", "date", "boolean"]


def q(tag: str) -> str:
    """``tag`` in the ODM namespace (ElementTree's ``{uri}tag`` form)."""
    return f"{{{ODM_NS}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """A child element of ``parent`` with attributes in the given order."""
    element = ET.SubElement(parent, q(tag), attrs)
    if text is not None:
        element.text = text
    return element


def _translated(parent: ET.Element, tag: str, text: str) -> ET.Element:
    """``<tag><TranslatedText xml:lang="en">text</TranslatedText></tag>``."""
    element = _sub(parent, tag)
    _sub(element, "TranslatedText", text, **{XML_LANG: "en"})
    return element


# --------------------------------------------------------------------------- metadata


@dataclass(frozen=True)
class Item:
    """One ItemDef: where its value comes from (a frame column) and how it is typed."""

    oid: str
    column: str
    question: str
    data_type: DataType
    codelist: str | None = None
    unit: str | None = None

    @property
    def name(self) -> str:
        return self.column


@dataclass(frozen=True)
class Group:
    """One ItemGroupDef; a repeating group has one ItemGroupData per row."""

    oid: str
    name: str
    items: tuple[Item, ...]
    repeating: bool = False
    domain: str | None = None
    #: Columns of which one must have a value for the group to be written (the step happened);
    #: empty: written whenever an item has a value.
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class Form:
    oid: str
    name: str
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class Event:
    """One StudyEventDef: ``Scheduled`` at a protocol time, or ``Common`` (any time)."""

    oid: str
    name: str
    kind: Literal["Scheduled", "Unscheduled", "Common"]
    forms: tuple[Form, ...]
    mandatory: bool = False


DM = Group(
    "IG.DM",
    "Demographics",
    (
        Item("IT.SEX", "sex", "Sex", "text", "CL.SEX"),
        Item("IT.AGE", "age_years", "Age at screening (completed years)", "integer", unit="MU.Y"),
    ),
    domain="DM",
)
SCREEN = Group(
    "IG.SCREEN",
    "Screening and informed consent",
    (
        Item("IT.SCREENED_ON", "screened_on", "Date of screening", "date"),
        Item("IT.SCREEN_ARM", "arm_id", "Arm screened for", "text", "CL.ARM"),
        Item("IT.ELIGIBLE", "eligible", "Eligible at screening?", "boolean"),
        Item("IT.CONSENT_ON", "consent_on", "Date of informed consent", "date"),
    ),
    domain="DS",
)
ENROL = Group(
    "IG.ENROL",
    "Enrollment and dose assignment",
    (
        Item("IT.ARM", "arm_id", "Arm (cell source)", "text", "CL.ARM"),
        Item("IT.ENROLLED_ON", "enrolled_on", "Date of enrollment", "date"),
        Item("IT.PHASE", "phase", "Trial phase at enrollment (1 or 2)", "integer"),
        Item("IT.COHORT", "cohort", "Cohort number in the arm", "integer"),
        Item("IT.ASSIGNED_LEVEL", "assigned_level", "Assigned dose level", "text", "CL.LEVEL"),
        Item("IT.ASSIGNED_DOSE", "assigned_dose", "Assigned design dose (1-based)", "integer"),
    ),
    requires=("enrolled_on",),
)
EX = Group(
    "IG.EX",
    "Product and CAR-T infusion",
    (
        Item("IT.PLANNED_LEVEL", "planned_level", "Planned dose level", "text", "CL.LEVEL"),
        Item("IT.PRODUCT_LEVEL", "product_level", "Level the product supports", "text", "CL.LEVEL"),
        Item("IT.FALLBACK", "fallback", "Fallback product (below the planned level)?", "boolean"),
        Item("IT.LOT", "lot", "Product lot", "text"),
        Item("IT.WEIGHT", "weight_kg", "Body weight", "float", unit="MU.KG"),
        Item("IT.INFUSED_ON", "infused_on", "Date of CAR-T infusion (study day 0)", "date"),
        Item("IT.CELLS", "cells_per_kg", "Infused dose", "float", unit="MU.CELLS_KG"),
        Item("IT.ACTUAL_LEVEL", "actual_level", "Dose level given", "text", "CL.LEVEL"),
        Item("IT.ACTUAL_DOSE", "actual_dose", "Design dose given (1-based)", "integer"),
    ),
    domain="EX",
    requires=("planned_level", "infused_on"),
)
DLT = Group(
    "IG.DLT",
    "DLT adjudication",
    (
        Item("IT.DLT_EVALUABLE", "evaluable", "Evaluable for DLT?", "boolean"),
        Item("IT.DLT", "is_dlt", "Dose-limiting toxicity in the window?", "boolean"),
        Item("IT.DLT_AE_IDS", "dlt_event_ids", "Adverse events judged DLTs (AE ids)", "text"),
        Item("IT.DLT_RULE", "rule_id", "DLT rule set version", "text"),
        Item("IT.DLT_RATIONALE", "rationale", "Rationale of the adjudication", "text"),
        Item("IT.DLT_ADJUDICATED_ON", "adjudicated_on", "Date of adjudication", "date"),
    ),
)
AE = Group(
    "IG.AE",
    "Adverse event",
    (
        Item("IT.AE_ID", "ae_id", "Adverse event id", "integer"),
        Item("IT.AE_TERM", "term", "Adverse event term", "text"),
        Item("IT.AE_SOC", "soc", "System organ class (MedDRA)", "text"),
        Item("IT.AE_CATEGORY", "category", "Category", "text", "CL.AE_CATEGORY"),
        Item("IT.AE_SCALE", "scale", "Grading scale", "text", "CL.SCALE"),
        Item("IT.AE_GRADE", "grade", "Toxicity grade", "integer", "CL.GRADE"),
        Item("IT.AE_ONSET_ON", "onset_on", "Date of onset", "date"),
        Item("IT.AE_RESOLVED_ON", "resolved_on", "Date of resolution", "date"),
        Item("IT.AE_STUDY_DAY", "study_day", "Study day of onset", "integer", unit="MU.D"),
        Item("IT.AE_SERIOUS", "serious", "Serious?", "boolean"),
        Item("IT.AE_ATTRIBUTION", "attribution", "Relation to CAR-T", "text", "CL.ATTRIBUTION"),
        Item("IT.AE_OUTCOME", "outcome", "Outcome", "text"),
        Item("IT.AE_DLT", "is_dlt", "Judged a DLT?", "boolean"),
    ),
    repeating=True,
    domain="AE",
)
RS = Group(
    "IG.RS",
    "Response assessment",
    (
        Item("IT.RS_ASSESSED_ON", "assessed_on", "Date of assessment", "date"),
        Item("IT.RS_STUDY_DAY", "study_day", "Study day of assessment", "integer", unit="MU.D"),
        Item("IT.RS_VISIT", "timepoint", "Visit", "text", "CL.VISIT"),
        Item("IT.RS_RESPONSE", "response", "Overall response", "text", "CL.RESPONSE"),
        Item("IT.RS_MRD_NEG", "mrd_negative", "MRD negative?", "boolean"),
    ),
    repeating=True,
    domain="RS",
)
BOR = Group(
    "IG.BOR",
    "Best overall response",
    (
        Item("IT.BOR", "bor", "Best overall response", "text", "CL.RESPONSE"),
        Item("IT.RESPONDER", "responder", "Responder (CR or CRi)?", "boolean"),
    ),
    domain="RS",
)
STATUS = Group(
    "IG.STATUS",
    "Participant status and disposition",
    (
        Item("IT.STATUS", "status", "Participant status", "text"),
        Item("IT.DEATH_ON", "death_on", "Date of death", "date"),
        Item("IT.OFF_STUDY_ON", "off_study_on", "Date off study", "date"),
        Item("IT.OFF_STUDY_REASON", "off_study_reason", "Reason off study", "text"),
        Item("IT.LAST_ON", "last_on", "Last day with a record", "date"),
    ),
    domain="DS",
)

F_SCREENING = Form("F.SCREENING", "Screening", (DM, SCREEN))
F_ENROLLMENT = Form("F.ENROLLMENT", "Enrollment", (ENROL,))
F_INFUSION = Form("F.INFUSION", "Infusion", (EX,))
F_DLT = Form("F.DLT", "DLT adjudication", (DLT,))
F_AE = Form("F.AE", "Adverse events", (AE,))
F_RESPONSE = Form("F.RESPONSE", "Disease response", (RS, BOR))
F_STATUS = Form("F.STATUS", "Participant status", (STATUS,))

SE_SCREENING = Event("SE.SCREENING", "Screening", "Scheduled", (F_SCREENING,), mandatory=True)
SE_ENROLLMENT = Event("SE.ENROLLMENT", "Enrollment", "Scheduled", (F_ENROLLMENT,))
SE_INFUSION = Event("SE.INFUSION", "CAR-T infusion (day 0)", "Scheduled", (F_INFUSION,))
SE_DLT = Event("SE.DLT", "DLT window", "Scheduled", (F_DLT,))
SE_AE = Event("SE.AE", "Adverse events", "Common", (F_AE,))
SE_RESPONSE = Event("SE.RESPONSE", "Response assessments", "Scheduled", (F_RESPONSE,))
SE_STATUS = Event("SE.STATUS", "Status and disposition", "Common", (F_STATUS,), mandatory=True)

#: Every study event, in protocol order.
EVENTS: tuple[Event, ...] = (
    SE_SCREENING,
    SE_ENROLLMENT,
    SE_INFUSION,
    SE_DLT,
    SE_AE,
    SE_RESPONSE,
    SE_STATUS,
)

#: OID → (name, symbol) of the measurement units items refer to.
UNITS: Mapping[str, tuple[str, str]] = {
    "MU.Y": ("years", "years"),
    "MU.KG": ("kilogram", "kg"),
    "MU.CELLS_KG": ("CAR-T cells per kilogram of body weight", "cells/kg"),
    "MU.D": ("days from the infusion (day 0)", "days"),
}

_RESPONSE_TEXT = {
    "CR": "Complete remission",
    "CRi": "Complete remission with incomplete haematological recovery",
    "PR": "Partial remission",
    "SD/NR": "Stable disease / no response",
    "PD": "Progressive disease",
    "NE": "Not evaluable",
}
_CATEGORY_TEXT = {
    "crs": "Cytokine release syndrome (CRS)",
    "icans": "Immune effector cell-associated neurotoxicity syndrome (ICANS)",
    "gvhd": "Graft-versus-host disease (GvHD)",
    "haematological": "Haematological toxicity",
    "non_haematological": "Non-haematological toxicity",
}
_USER_TYPE = {
    "investigator": "Investigator",
    "coordinator": "Investigator",
    "statistician": "Sponsor",
    "dsmb": "Sponsor",
    "monitor": "Sponsor",
    "data_manager": "Sponsor",
    "admin": "Sponsor",
}


def _forms() -> list[Form]:
    return [f for e in EVENTS for f in e.forms]


def _groups() -> list[Group]:
    return [g for f in _forms() for g in f.groups]


def _items() -> list[Item]:
    """Every ItemDef once (an OID shared by two groups is one definition)."""
    seen: dict[str, Item] = {}
    for group in _groups():
        for item in group.items:
            seen.setdefault(item.oid, item)
    return list(seen.values())


# --------------------------------------------------------------------------- values


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, tuple | list):
        return not value
    return isinstance(value, float) and pd.isna(value)


def odm_value(value: Any, data_type: DataType) -> str:
    """The ODM text of ``value`` (not missing) as ``data_type``; a clear error when it is not."""
    if data_type == "boolean":
        if isinstance(value, bool):
            return "true" if value else "false"
    elif data_type == "date":
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
    elif data_type in ("integer", "float"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
            if data_type == "float":
                # xs:decimal: plain notation, never an exponent (1e6 is "1000000.0").
                return format(Decimal(repr(number)), "f")
            if number.is_integer():
                return str(int(number))
    elif isinstance(value, tuple | list):
        return " ".join(str(v) for v in value)
    else:
        return str(value)
    raise InvalidInput("value", value, f"is not an ODM {data_type}")


def odm_datetime(value: Any) -> str:
    """An ISO 8601 date-time with its zone (UTC ``Z`` when the stored text has none)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# --------------------------------------------------------------------------- document


def build_odm(data: TrialData, *, created: datetime | None = None) -> ET.Element:
    """The ODM document (root element ``ODM``) of the trial's records."""
    created = created or datetime.now(UTC)
    study_oid = data.nct_id
    root = ET.Element(
        q("ODM"),
        {
            "Description": (
                f"{data.nct_id} clinical data and audit trail, data cut-off {data.as_of}"
            ),
            "FileType": "Snapshot",
            "Granularity": "All",
            "FileOID": f"{data.nct_id}.{created.astimezone(UTC):%Y%m%dT%H%M%SZ}",
            "CreationDateTime": odm_datetime(created),
            "ODMVersion": ODM_VERSION,
            "Originator": "dosewise",
            "SourceSystem": "dosewise",
            "SourceSystemVersion": __version__,
        },
    )
    _study(root, data, study_oid)
    _admin(root, data, study_oid)
    clinical = _sub(root, "ClinicalData", StudyOID=study_oid, MetaDataVersionOID=MDV_OID)
    for person in records(data.participants):
        _subject(clinical, data, person)
    _audit(clinical, data)
    return root


def _study(root: ET.Element, data: TrialData, study_oid: str) -> None:
    reg = data.protocol.registry
    study = _sub(root, "Study", OID=study_oid)
    gv = _sub(study, "GlobalVariables")
    _sub(gv, "StudyName", reg.title or data.nct_id)
    _sub(gv, "StudyDescription", reg.brief_summary or reg.title or data.nct_id)
    _sub(gv, "ProtocolName", data.nct_id)
    basic = _sub(study, "BasicDefinitions")
    for oid, (name, symbol) in UNITS.items():
        unit = _sub(basic, "MeasurementUnit", OID=oid, Name=name)
        _translated(unit, "Symbol", symbol)
    mdv = _sub(
        study,
        "MetaDataVersion",
        OID=MDV_OID,
        Name=f"{data.nct_id} dosewise {__version__}",
        Description="The trial records as dosewise stores them; one event per protocol step.",
    )
    protocol = _sub(mdv, "Protocol")
    _translated(protocol, "Description", f"{data.nct_id}: {reg.title}")
    for n, event in enumerate(EVENTS, start=1):
        _sub(
            protocol,
            "StudyEventRef",
            StudyEventOID=event.oid,
            OrderNumber=str(n),
            Mandatory=_yes(event.mandatory),
        )
    windows = data.protocol.windows
    for event in EVENTS:
        definition = _sub(
            mdv, "StudyEventDef", OID=event.oid, Name=event.name, Repeating="No", Type=event.kind
        )
        if event is SE_DLT:
            _translated(
                definition, "Description", f"Study days 0-{windows.dlt_days} after the infusion"
            )
        for n, form in enumerate(event.forms, start=1):
            _sub(definition, "FormRef", FormOID=form.oid, OrderNumber=str(n), Mandatory="No")
    for form in _forms():
        definition = _sub(mdv, "FormDef", OID=form.oid, Name=form.name, Repeating="No")
        for n, group in enumerate(form.groups, start=1):
            _sub(
                definition,
                "ItemGroupRef",
                ItemGroupOID=group.oid,
                OrderNumber=str(n),
                Mandatory="No",
            )
    for group in _groups():
        attrs = {"OID": group.oid, "Name": group.name, "Repeating": _yes(group.repeating)}
        if group.domain:
            attrs["Domain"] = group.domain
        definition = _sub(mdv, "ItemGroupDef", **attrs)
        for n, item in enumerate(group.items, start=1):
            ref = {"ItemOID": item.oid}
            if group.repeating and n == 1:
                ref["KeySequence"] = "1"
            _sub(definition, "ItemRef", **ref, OrderNumber=str(n), Mandatory="No")
    for item in _items():
        definition = _sub(mdv, "ItemDef", OID=item.oid, Name=item.name, DataType=item.data_type)
        _translated(definition, "Question", item.question)
        if item.unit:
            _sub(definition, "MeasurementUnitRef", MeasurementUnitOID=item.unit)
        if item.codelist:
            _sub(definition, "CodeListRef", CodeListOID=item.codelist)
    for oid, name, data_type, codes in _codelists(data):
        codelist = _sub(mdv, "CodeList", OID=oid, Name=name, DataType=data_type)
        for n, (code, decode) in enumerate(codes, start=1):
            entry = _sub(codelist, "CodeListItem", CodedValue=code, OrderNumber=str(n))
            _translated(entry, "Decode", decode)


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


def _codes(base: Iterable[tuple[str, str]], observed: Iterable[Any]) -> list[tuple[str, str]]:
    """The defined codes, then any value recorded that they lack (so every value is coded)."""
    out = dict(base)
    for value in observed:
        if not _missing(value) and str(value) not in out:
            out[str(value)] = str(value)
    return list(out.items())


def _codelists(data: TrialData) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """(OID, name, data type, [(coded value, decode)]) of every code list, in a fixed order."""
    p, ae, rs = data.participants, data.adverse_events, data.responses
    cells = data.dose_cells()
    levels = [*p["assigned_level"], *p["planned_level"], *p["product_level"], *p["actual_level"]]
    return [
        ("CL.SEX", "Sex", "text", _codes([("female", "Female"), ("male", "Male")], p["sex"])),
        (
            "CL.ARM",
            "Arm",
            "text",
            _codes(zip(data.arms["arm_id"], data.arms["label"], strict=True), p["arm_id"]),
        ),
        (
            "CL.LEVEL",
            "Dose level",
            "text",
            _codes(((k, f"{k}: {sci(v)} cells/kg") for k, v in cells.items()), levels),
        ),
        (
            "CL.GRADE",
            "Toxicity grade (CTCAE v5.0 or ASTCT 2019)",
            "integer",
            _codes(((str(g), f"Grade {g}") for g in range(1, 6)), ae["grade"]),
        ),
        ("CL.SCALE", "Grading scale", "text", _codes(((s, s) for s in SCALES), ae["scale"])),
        (
            "CL.AE_CATEGORY",
            "Adverse event category",
            "text",
            _codes(((k, _CATEGORY_TEXT.get(k, k)) for k in KINDS), ae["category"]),
        ),
        (
            "CL.ATTRIBUTION",
            "Attribution to the CAR-T cells",
            "text",
            _codes(((a, a.capitalize()) for a in ATTRIBUTIONS), ae["attribution"]),
        ),
        (
            "CL.RESPONSE",
            "Response category",
            "text",
            _codes(
                ((c, _RESPONSE_TEXT.get(c, c)) for c in CATEGORIES), [*rs["response"], *p["bor"]]
            ),
        ),
        (
            "CL.VISIT",
            "Visit",
            "text",
            _codes(((v.name, v.label) for v in data.protocol.visits), rs["timepoint"]),
        ),
        (
            "CL.AUDIT_OPERATION",
            "Audit operation",
            "text",
            _codes(((o, o) for o in get_args(Operation)), data.audit["operation"]),
        ),
    ]


def _admin(root: ET.Element, data: TrialData, study_oid: str) -> None:
    admin = _sub(root, "AdminData", StudyOID=study_oid)
    sites = dict(zip(data.sites["site_id"], data.sites["name"], strict=True))
    roles: dict[str, str | None] = {}
    user_sites: dict[str, list[str]] = {}
    for r in records(data.audit):
        roles[r.username] = r.role or roles.get(r.username)
        own = user_sites.setdefault(r.username, [])
        if r.site_id and r.site_id not in own:
            own.append(r.site_id)
    for username, role in roles.items():
        user = _sub(
            admin,
            "User",
            OID=user_oid(username),
            UserType=_USER_TYPE.get(role or "", "Other"),
        )
        _sub(user, "LoginName", username)
        # A site's staff act at that one site; users acting across sites belong to none.
        if len(user_sites[username]) == 1:
            site = user_sites[username][0]
            if site in sites:
                _sub(user, "Organization", str(sites[site]))
            _sub(user, "LocationRef", LocationOID=location_oid(site))
    effective = data.protocol.registry.start_date or data.as_of
    known = [
        *sites,
        *(s for s in data.participants["site_id"] if s),
        *(s for own in user_sites.values() for s in own),
    ]
    sponsors = [s.name for s in data.protocol.registry.sponsors if s.role == "lead"]
    places: list[tuple[str, str, str]] = [
        (CENTRAL, f"dosewise central trial system ({', '.join(sponsors) or 'sponsor'})", "Sponsor")
    ]
    places += [(location_oid(s), str(sites.get(s, s)), "Site") for s in dict.fromkeys(known)]
    for oid, name, kind in places:
        location = _sub(admin, "Location", OID=oid, Name=name, LocationType=kind)
        _sub(
            location,
            "MetaDataVersionRef",
            StudyOID=study_oid,
            MetaDataVersionOID=MDV_OID,
            EffectiveDate=effective.isoformat(),
        )


def user_oid(username: str) -> str:
    return f"USR.{username}"


def location_oid(site_id: str) -> str:
    return f"LOC.{site_id}"


def _subject(clinical: ET.Element, data: TrialData, person: Any) -> None:
    subject = _sub(clinical, "SubjectData", SubjectKey=usubjid(data.nct_id, person.study_id))
    if person.site_id:
        _sub(subject, "SiteRef", LocationOID=location_oid(person.site_id))
    pid = person.participant_id
    dlt = _rows(data.dlts, pid)
    aes = _rows(data.adverse_events, pid)
    responses = _rows(data.responses, pid)
    rows: dict[str, list[Any]] = {
        DM.oid: [person],
        SCREEN.oid: [person],
        ENROL.oid: [person],
        EX.oid: [person],
        DLT.oid: dlt[-1:],
        AE.oid: aes,
        RS.oid: responses,
        BOR.oid: [person],
        STATUS.oid: [person],
    }
    keys: dict[str, Callable[[int, Any], str]] = {
        AE.oid: lambda _, row: str(row.ae_id),
        RS.oid: lambda n, _: str(n),
    }
    for event in EVENTS:
        forms = []
        for form in event.forms:
            groups = []
            for group in form.groups:
                for n, row in enumerate(rows[group.oid], start=1):
                    if group.requires and all(_missing(getattr(row, c)) for c in group.requires):
                        continue
                    values = [
                        (i.oid, odm_value(getattr(row, i.column), i.data_type))
                        for i in group.items
                        if not _missing(getattr(row, i.column))
                    ]
                    if values:
                        key = keys[group.oid](n, row) if group.repeating else None
                        groups.append((group.oid, key, values))
            if groups:
                forms.append((form.oid, groups))
        if not forms:
            continue
        event_data = _sub(subject, "StudyEventData", StudyEventOID=event.oid)
        for form_oid, groups in forms:
            form_data = _sub(event_data, "FormData", FormOID=form_oid)
            for group_oid, key, values in groups:
                attrs = {"ItemGroupOID": group_oid}
                if key is not None:
                    attrs["ItemGroupRepeatKey"] = key
                group_data = _sub(form_data, "ItemGroupData", **attrs)
                for item_oid, value in values:
                    _sub(group_data, "ItemData", ItemOID=item_oid, Value=value)


def _rows(frame: pd.DataFrame, participant_id: Any) -> list[Any]:
    return records(frame[frame["participant_id"] == participant_id])


def _audit(clinical: ET.Element, data: TrialData) -> None:
    """The audit trail: one AuditRecord and one Annotation (what was recorded) per row."""
    trail = records(data.audit)
    audit_records = _sub(clinical, "AuditRecords")
    for r in trail:
        record = _sub(audit_records, "AuditRecord", EditPoint="DBAudit", ID=f"AR.{r.seq}")
        _sub(record, "UserRef", UserOID=user_oid(r.username))
        _sub(record, "LocationRef", LocationOID=location_oid(r.site_id) if r.site_id else CENTRAL)
        _sub(record, "DateTimeStamp", odm_datetime(r.recorded_at))
        if r.reason:
            _sub(record, "ReasonForChange", str(r.reason))
        _sub(record, "SourceID", str(r.seq))
    annotations = _sub(clinical, "Annotations")
    for r in trail:
        note = _sub(annotations, "Annotation", SeqNum=str(r.seq), ID=f"AN.{r.seq}")
        _sub(note, "Comment", audit_summary(r), SponsorOrSite="Sponsor")
        flag = _sub(note, "Flag")
        _sub(flag, "FlagValue", str(r.operation), CodeListOID="CL.AUDIT_OPERATION")


def audit_summary(row: Any) -> str:
    """What an audit row recorded, in one line (``AR.<seq>: action=…; entity=…; …``)."""
    parts = [
        f"action={row.action}",
        f"entity={row.entity}" + (f"/{row.entity_id}" if row.entity_id else ""),
        f"operation={row.operation}",
    ]
    if getattr(row, "role", None):
        parts.append(f"role={row.role}")
    changed = changed_fields(getattr(row, "before", None), getattr(row, "after", None))
    if row.operation == "update" and changed:
        parts.append(f"changed={','.join(changed)}")
    if getattr(row, "hash", None):
        parts.append(f"hash={row.hash}")
    return f"AR.{row.seq}: " + "; ".join(parts)


def changed_fields(before: str | None, after: str | None) -> list[str]:
    """Fields whose value differs between the before and after JSON of an audit row."""

    def load(text: str | None) -> dict[str, Any]:
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    old, new = load(before), load(after)
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


# --------------------------------------------------------------------------- checks, files


def check_references(root: ET.Element) -> list[str]:
    """Problems with OIDs in ``root``: duplicates and references to undefined ones."""
    problems: list[str] = []
    defined: dict[str, set[str]] = {}
    scopes = {
        "StudyEventDef": "event",
        "FormDef": "form",
        "ItemGroupDef": "group",
        "ItemDef": "item",
        "CodeList": "codelist",
        "MeasurementUnit": "unit",
        "User": "user",
        "Location": "location",
    }
    seen: set[str] = set()
    for tag, scope in scopes.items():
        for element in root.iter(q(tag)):
            oid = element.get("OID", "")
            if oid in seen:
                problems.append(f"OID {oid} is defined twice")
            seen.add(oid)
            defined.setdefault(scope, set()).add(oid)
    refs: Sequence[tuple[str, str, str]] = (
        ("StudyEventRef", "StudyEventOID", "event"),
        ("StudyEventData", "StudyEventOID", "event"),
        ("FormRef", "FormOID", "form"),
        ("FormData", "FormOID", "form"),
        ("ItemGroupRef", "ItemGroupOID", "group"),
        ("ItemGroupData", "ItemGroupOID", "group"),
        ("ItemRef", "ItemOID", "item"),
        ("ItemData", "ItemOID", "item"),
        ("CodeListRef", "CodeListOID", "codelist"),
        ("FlagValue", "CodeListOID", "codelist"),
        ("MeasurementUnitRef", "MeasurementUnitOID", "unit"),
        ("UserRef", "UserOID", "user"),
        ("LocationRef", "LocationOID", "location"),
        ("SiteRef", "LocationOID", "location"),
    )
    for tag, attribute, scope in refs:
        for element in root.iter(q(tag)):
            oid = element.get(attribute, "")
            if oid not in defined.get(scope, set()):
                problems.append(f"{tag} {attribute}={oid} is not defined")
    return problems


def write_odm(root: ET.Element, out: str | Path) -> Path:
    """Write the document as indented UTF-8 XML with its declaration.

    ODM is the default namespace of the file (ElementTree's ``default_namespace`` option rejects
    the unqualified attributes ODM uses, so the prefix mapping is registered instead).
    """
    path = Path(out)
    ET.register_namespace("", ODM_NS)
    tree = ET.ElementTree(root)
    ET.indent(tree, space="  ")
    with path.open("wb") as handle:
        handle.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
        tree.write(handle, encoding="utf-8", xml_declaration=False)
    return path


def export_odm(data: TrialData, out: Path, lang: str) -> dict[str, Any]:
    """The export writer (:mod:`dosewise.report.exports`): the ODM XML file (English)."""
    root = build_odm(data)
    problems = check_references(root)
    if problems:
        raise InvalidInput(
            "odm", problems[0], "every OID is defined once and referenced OIDs exist"
        )
    if not out.parent.is_dir():
        raise InvalidParameter("out", str(out), "the folder does not exist")
    write_odm(root, out)
    clinical = root.find(q("ClinicalData"))
    if clinical is None:  # pragma: no cover - build_odm always writes ClinicalData
        raise InvalidInput("odm", "ClinicalData", "the document has clinical data")
    return {
        "format": "xml",
        "odm_version": ODM_VERSION,
        "subjects": len(clinical.findall(q("SubjectData"))),
        "audit_records": len(clinical.findall(f"{q('AuditRecords')}/{q('AuditRecord')}")),
        "adverse_events": len(data.adverse_events),
        "bytes": Path(out).stat().st_size,
    }
