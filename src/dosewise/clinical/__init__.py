"""Clinical rules of a CAR-T dose-finding trial, as pure functions over frozen values.

One module per rule, each citing ``shared/reference/clinical.md``:

- :mod:`~dosewise.clinical.dosing` — CAR⁺ viable T cells, dose windows, feasibility, fallback;
- :mod:`~dosewise.clinical.astct` — ASTCT 2019 CRS and ICANS grades with their determining
  component;
- :mod:`~dosewise.clinical.ctcae` — adverse-event records graded by CTCAE v5 or ASTCT;
- :mod:`~dosewise.clinical.dlt` — the declarative DLT definition and the classifier;
- :mod:`~dosewise.clinical.schedule` — visits, windows and what is due on a date;
- :mod:`~dosewise.clinical.response` — response per assessment, BOR and the efficacy outcome.

``*_io`` modules read the same objects from JSON/YAML mappings with path-named errors.
"""

from __future__ import annotations

from dosewise.clinical.astct import (
    AstctGrade,
    CrsAssessment,
    IcansAssessment,
    IcansSettings,
    grade_crs,
    grade_icans,
)
from dosewise.clinical.ctcae import TERMS, AdverseEvent, GradePoint, Term, find_term
from dosewise.clinical.dlt import (
    DEFAULT_DLT_DEFINITION,
    DltAssessment,
    DltDefinition,
    DltRule,
    Evaluability,
    EventDlt,
    Resolution,
    classify_dlts,
)
from dosewise.clinical.dlt_io import DltCase, definition_from_mapping, definition_to_dict
from dosewise.clinical.dosing import (
    DEFAULT_LEVELS,
    DoseLevel,
    DosePlan,
    DoseWindow,
    ReleaseCertificate,
    actual_dose,
    plan_dose,
)
from dosewise.clinical.response import (
    Assessment,
    BestResponse,
    BorSettings,
    EfficacyRule,
    Marrow,
    Mrd,
    Response,
    best_overall_response,
    classify,
    efficacy_outcome,
)
from dosewise.clinical.schedule import Visit, VisitStatus, visit_status

__all__ = [
    "DEFAULT_DLT_DEFINITION",
    "DEFAULT_LEVELS",
    "TERMS",
    "AdverseEvent",
    "Assessment",
    "AstctGrade",
    "BestResponse",
    "BorSettings",
    "CrsAssessment",
    "DltAssessment",
    "DltCase",
    "DltDefinition",
    "DltRule",
    "DoseLevel",
    "DosePlan",
    "DoseWindow",
    "EfficacyRule",
    "Evaluability",
    "EventDlt",
    "GradePoint",
    "IcansAssessment",
    "IcansSettings",
    "Marrow",
    "Mrd",
    "ReleaseCertificate",
    "Resolution",
    "Response",
    "Term",
    "Visit",
    "VisitStatus",
    "actual_dose",
    "best_overall_response",
    "classify",
    "classify_dlts",
    "definition_from_mapping",
    "definition_to_dict",
    "efficacy_outcome",
    "find_term",
    "grade_crs",
    "grade_icans",
    "plan_dose",
    "visit_status",
]
