"""The controlled terms the SDTM export uses, and the CTCAE v5.0 → MedDRA mapping it ships.

Each codelist is the set of values a variable may take in this export. Where CDISC Controlled
Terminology has a codelist of the same name (NY, SEX, AGEU, RACE, ETHNIC, EPOCH, OUT, ACN,
ROUTE, FRM ...) the values are written as its submission values; LYMPHODEPLETION in EPOCH is
a sponsor extension (``extended``); lists such as the response values, the disposition terms
(protocol milestones with the end-of-study reasons) and the DV categories are sponsor-defined
(``cdisc`` False). The values were written by hand against the CT package named in
:data:`CT_VERSION`; the package file itself is not shipped. The
Define-XML and the conformance test read the same lists, so a value outside them fails a test.

The MedDRA mapping (``report/ctcae_meddra.json``) gives, for the CTCAE v5.0 terms whose published
MedDRA LLT code is listed there, the code and the CTCAE system organ class; its ``source`` field
names the publication.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

#: Versions written into the define and TS (SDTMIG 3.4 with SDTM model 2.0).
SDTM_VERSION = "2.0"
SDTMIG_VERSION = "3.4"
#: The CDISC CT package the codelists were written against (the define names it).
CT_VERSION = "2024-03-29"


@dataclass(frozen=True)
class Codelist:
    """A list of allowed values.

    ``extended`` are sponsor values added to a CDISC codelist (``def:ExtendedValue``);
    ``cdisc`` is False for a sponsor-defined list (no CDISC codelist of that name is claimed).
    """

    name: str
    label: str
    values: tuple[str, ...]
    extended: tuple[str, ...] = ()
    cdisc: bool = True


def _cl(
    name: str, label: str, *values: str, extended: tuple[str, ...] = (), cdisc: bool = True
) -> Codelist:
    return Codelist(name, label, tuple(values), extended, cdisc)


CODELISTS: dict[str, Codelist] = {
    c.name: c
    for c in (
        _cl("NY", "No Yes Response", "N", "Y"),
        _cl("SEX", "Sex", "F", "M", "U"),
        _cl("AGEU", "Age Unit", "YEARS"),
        _cl(
            "RACE",
            "Race",
            "AMERICAN INDIAN OR ALASKA NATIVE",
            "ASIAN",
            "BLACK OR AFRICAN AMERICAN",
            "NATIVE HAWAIIAN OR OTHER PACIFIC ISLANDER",
            "WHITE",
            "NOT REPORTED",
            "UNKNOWN",
        ),
        _cl(
            "ETHNIC",
            "Ethnic Group",
            "HISPANIC OR LATINO",
            "NOT HISPANIC OR LATINO",
            "NOT REPORTED",
            "UNKNOWN",
        ),
        _cl(
            "EPOCH",
            "Epoch",
            "SCREENING",
            "LYMPHODEPLETION",
            "TREATMENT",
            "FOLLOW-UP",
            extended=("LYMPHODEPLETION",),
        ),
        _cl(
            "ARMNRS",
            "Reason Arm and/or Actual Arm is Null",
            "SCREEN FAILURE",
            "NOT ASSIGNED",
            "ASSIGNED, NOT TREATED",
            "UNPLANNED TREATMENT",
        ),
        _cl(
            "OUT",
            "Outcome of Event",
            "FATAL",
            "NOT RECOVERED/NOT RESOLVED",
            "RECOVERED/RESOLVED",
            "RECOVERED/RESOLVED WITH SEQUELAE",
            "RECOVERING/RESOLVING",
            "UNKNOWN",
        ),
        _cl(
            "ACN",
            "Action Taken with Study Treatment",
            "DOSE NOT CHANGED",
            "DOSE REDUCED",
            "DRUG INTERRUPTED",
            "DRUG WITHDRAWN",
            "NOT APPLICABLE",
            "UNKNOWN",
        ),
        _cl("TOXGR", "Toxicity Grade", "1", "2", "3", "4", "5", cdisc=False),
        _cl(
            "AEREL",
            "Causality",
            "DEFINITELY RELATED",
            "PROBABLY RELATED",
            "POSSIBLY RELATED",
            "UNLIKELY RELATED",
            "NOT RELATED",
            cdisc=False,
        ),
        _cl("ROUTE", "Route of Administration", "INTRAVENOUS"),
        _cl("FRM", "Pharmaceutical Dosage Form", "SUSPENSION", "INJECTION"),
        _cl("UNIT", "Unit", "cells/kg", "mg/m2", extended=("cells/kg",)),
        _cl("FREQ", "Frequency", "ONCE", "QD"),
        _cl("EXCAT", "Exposure Category", "CAR-T INFUSION", "LYMPHODEPLETION", cdisc=False),
        _cl(
            "DSDECOD",
            "Standardized Disposition Term",
            "INFORMED CONSENT OBTAINED",
            "ENROLLED",
            "SCREEN FAILURE",
            "COMPLETED",
            "DEATH",
            "WITHDRAWAL BY SUBJECT",
            "LOST TO FOLLOW-UP",
            "PHYSICIAN DECISION",
            "PROGRESSIVE DISEASE",
            "OTHER",
            cdisc=False,
        ),
        _cl("DSCAT", "Category for Disposition Event", "DISPOSITION EVENT", "PROTOCOL MILESTONE"),
        _cl(
            "DSSCAT",
            "Subcategory for Disposition Event",
            "END OF STUDY",
            "STUDY PARTICIPATION",
            cdisc=False,
        ),
        _cl(
            "RSRESP",
            "Leukemia Response",
            "CR",
            "CRi",
            "MLFS",
            "PR",
            "SD",
            "PD",
            "NE",
            cdisc=False,
        ),
        _cl("RSTESTCD", "Response Assessment Short Name", "OVRLRESP", "BESTRSP", cdisc=False),
        _cl("IECAT", "Category for Inclusion/Exclusion", "INCLUSION", "EXCLUSION"),
        _cl(
            "DVCAT",
            "Category for Protocol Deviation",
            "TREATMENT DEVIATION",
            "VISIT WINDOW DEVIATION",
            "ELIGIBILITY DEVIATION",
            "INFORMED CONSENT DEVIATION",
            "PROCEDURE DEVIATION",
            "OTHER DEVIATION",
            cdisc=False,
        ),
        _cl("COUNTRY", "Country (ISO 3166-1 alpha-3)", "CHN", cdisc=False),
        _cl("AESCAT", "Grading Scale", "CTCAE v5", "ASTCT 2019", cdisc=False),
    )
}


#: Country names of the protocol file and the sites → ISO 3166-1 alpha-3 (the COUNTRY codelist).
COUNTRY_CODES = {"China": "CHN"}


@dataclass(frozen=True)
class MeddraTerm:
    """A CTCAE v5.0 term with its MedDRA LLT code and CTCAE system organ class."""

    term: str
    llt_code: str
    soc: str


@dataclass(frozen=True)
class MeddraMapping:
    """The shipped CTCAE → MedDRA mapping, with its source and versions."""

    source: str
    ctcae_version: str
    meddra_version: str
    terms: dict[str, MeddraTerm]

    def lookup(self, term: str) -> MeddraTerm | None:
        """The mapped term for a reported CTCAE term (case-insensitive), or None."""
        return self.terms.get(term.strip().lower())


@cache
def meddra_mapping() -> MeddraMapping:
    """The mapping shipped as ``report/ctcae_meddra.json``."""
    raw = json.loads(
        resources.files("dosewise.report").joinpath("ctcae_meddra.json").read_text("utf-8")
    )
    terms = {
        str(t["term"]).lower(): MeddraTerm(str(t["term"]), str(t["llt_code"]), str(t["soc"]))
        for t in raw["terms"]
    }
    return MeddraMapping(
        str(raw["source"]), str(raw["ctcae_version"]), str(raw["meddra_version"]), terms
    )
