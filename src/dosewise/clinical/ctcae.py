"""Adverse-event records graded by CTCAE v5.0 or, for CRS and ICANS, by ASTCT 2019.

CAR-T protocols grade CRS and ICANS by the ASTCT consensus and everything else by CTCAE v5.0,
so each event carries the scale that graded it (clinical.md §2.1). The built-in list holds only
the CAR-T relevant terms with their MedDRA primary System Organ Class — the CTCAE term list is
public, the MedDRA hierarchy is licensed and is not copied here. Any other term is accepted with
its SOC given explicitly (e.g. a "<SOC> - Other, specify" entry with a verbatim term).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, get_args

from dosewise.clinical._input import (
    as_list,
    as_mapping,
    check_date,
    check_int,
    get_bool,
    get_choice,
    get_date,
    get_int,
    get_str,
    path,
    reject_unknown,
)
from dosewise.errors import InvalidInput

Scale = Literal["CTCAE v5", "ASTCT 2019"]
SCALES: tuple[Scale, ...] = get_args(Scale)
_SCALE_ALIASES: dict[str, Scale] = {
    "ctcae v5": "CTCAE v5",
    "ctcae v5.0": "CTCAE v5",
    "ctcae 5.0": "CTCAE v5",
    "astct 2019": "ASTCT 2019",
    "astct": "ASTCT 2019",
}
Attribution = Literal["unrelated", "unlikely", "possible", "probable", "definite"]
ATTRIBUTIONS: tuple[Attribution, ...] = get_args(Attribution)
#: What a DLT rule can select by: the CAR-T syndromes, cytopenias, and everything else.
Kind = Literal["crs", "icans", "gvhd", "haematological", "non_haematological"]
KINDS: tuple[Kind, ...] = get_args(Kind)

SOC_BLOOD = "Blood and lymphatic system disorders"
SOC_INFECTIONS = "Infections and infestations"
SOC_INVESTIGATIONS = "Investigations"
SOC_NERVOUS = "Nervous system disorders"
SOC_IMMUNE = "Immune system disorders"
SOC_GENERAL = "General disorders and administration site conditions"


@dataclass(frozen=True)
class Term:
    """A built-in AE term: its SOC, what DLT rules know it as, and the scale that grades it."""

    name: str
    soc: str
    kind: Kind = "non_haematological"
    scale: Scale = "CTCAE v5"
    max_grade: int = 5
    aliases: tuple[str, ...] = ()


#: CAR-T relevant terms (clinical.md §1–2); laboratory terms under "Investigations" stop at
#: grade 4. ICANS is an ASTCT entity (CTCAE v5.0 has no ICANS term).
TERMS: tuple[Term, ...] = (
    Term("Cytokine release syndrome", SOC_IMMUNE, "crs", "ASTCT 2019", aliases=("CRS",)),
    Term(
        "Immune effector cell-associated neurotoxicity syndrome",
        SOC_NERVOUS,
        "icans",
        "ASTCT 2019",
        aliases=("ICANS",),
    ),
    Term(
        "Graft versus host disease",
        SOC_IMMUNE,
        "gvhd",
        aliases=("GVHD", "acute GVHD", "aGVHD", "Acute graft versus host disease"),
    ),
    Term(
        "Neutrophil count decreased",
        SOC_INVESTIGATIONS,
        "haematological",
        max_grade=4,
        aliases=("neutropenia",),
    ),
    Term(
        "Platelet count decreased",
        SOC_INVESTIGATIONS,
        "haematological",
        max_grade=4,
        aliases=("thrombocytopenia",),
    ),
    Term(
        "White blood cell decreased",
        SOC_INVESTIGATIONS,
        "haematological",
        max_grade=4,
        aliases=("leukopenia",),
    ),
    Term(
        "Lymphocyte count decreased",
        SOC_INVESTIGATIONS,
        "haematological",
        max_grade=4,
        aliases=("lymphopenia",),
    ),
    Term("Anemia", SOC_BLOOD, "haematological", aliases=("anaemia",)),
    Term("Febrile neutropenia", SOC_BLOOD),
    Term("Disseminated intravascular coagulation", SOC_BLOOD, aliases=("DIC",)),
    Term("Fever", SOC_GENERAL, aliases=("pyrexia",)),
    Term("Death NOS", SOC_GENERAL),
    Term("Sepsis", SOC_INFECTIONS),
    Term("Lung infection", SOC_INFECTIONS, aliases=("pneumonia",)),
    Term("Urinary tract infection", SOC_INFECTIONS),
    Term("Catheter related infection", SOC_INFECTIONS),
    Term("Hypotension", "Vascular disorders"),
    Term("Hypoxia", "Respiratory, thoracic and mediastinal disorders"),
    Term("Encephalopathy", SOC_NERVOUS),
    Term("Seizure", SOC_NERVOUS),
    Term("Tremor", SOC_NERVOUS, max_grade=3),
    Term("Headache", SOC_NERVOUS, max_grade=3),
    Term("Intracranial hemorrhage", SOC_NERVOUS, aliases=("intracranial haemorrhage",)),
    Term("Edema cerebral", SOC_NERVOUS, aliases=("cerebral edema", "cerebral oedema")),
    Term("Alanine aminotransferase increased", SOC_INVESTIGATIONS, max_grade=4, aliases=("ALT",)),
    Term("Aspartate aminotransferase increased", SOC_INVESTIGATIONS, max_grade=4, aliases=("AST",)),
    Term("Blood bilirubin increased", SOC_INVESTIGATIONS, max_grade=4),
    Term("Creatinine increased", SOC_INVESTIGATIONS, max_grade=4),
    Term("Fibrinogen decreased", SOC_INVESTIGATIONS, max_grade=4),
    Term("Acute kidney injury", "Renal and urinary disorders"),
    Term("Tumor lysis syndrome", "Metabolism and nutrition disorders"),
    Term("Sinus tachycardia", "Cardiac disorders", max_grade=3),
    Term("Heart failure", "Cardiac disorders"),
    Term("Diarrhea", "Gastrointestinal disorders"),
    Term("Nausea", "Gastrointestinal disorders", max_grade=3),
)


def find_term(name: str) -> Term | None:
    """The built-in term called ``name`` or one of its aliases (case-insensitive)."""
    key = name.strip().casefold()
    for term in TERMS:
        if key == term.name.casefold() or key in (a.casefold() for a in term.aliases):
            return term
    return None


def canonical_scale(value: str, field_name: str = "scale") -> Scale:
    """``"CTCAE v5.0"`` → ``"CTCAE v5"``; unknown scales are errors."""
    scale = _SCALE_ALIASES.get(value.strip().casefold())
    if scale is None:
        raise InvalidInput(field_name, value, f"unknown grading scale; one of {', '.join(SCALES)}")
    return scale


@dataclass(frozen=True)
class GradePoint:
    """The grade of an event from ``on`` until the next point (or its resolution)."""

    on: date
    grade: int


@dataclass(frozen=True)
class AdverseEvent:
    """One adverse event with its worst grade, dates, seriousness, attribution and scale.

    ``course`` optionally records grade changes (first point on the onset date); it lets a DLT
    rule ask when a grade ≥ 3 event improved. ``resolved`` is the date it was gone (grade 0).
    ``baseline_present`` marks a finding already present before lymphodepletion and
    ``due_to_disease`` one explained by the underlying malignancy.
    """

    term: str
    grade: int
    onset: date
    resolved: date | None = None
    soc: str = ""
    kind: Kind | None = None
    serious: bool = False
    attribution: Attribution = "possible"
    scale: Scale | None = None
    verbatim: str = ""
    baseline_present: bool = False
    due_to_disease: bool = False
    course: tuple[GradePoint, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.term.strip():
            raise InvalidInput("term", self.term, "an adverse event needs a term")
        known = find_term(self.term)
        if known is None and not self.soc.strip():
            raise InvalidInput(
                "soc", self.soc, f"{self.term!r} is not a built-in term: give its SOC"
            )
        if known is not None:
            object.__setattr__(self, "term", known.name)
            if not self.soc:
                object.__setattr__(self, "soc", known.soc)
        if self.kind is None:
            object.__setattr__(self, "kind", known.kind if known else "non_haematological")
        if self.scale is None:
            object.__setattr__(self, "scale", known.scale if known else "CTCAE v5")
        self._validate(known)

    def _validate(self, known: Term | None) -> None:
        if isinstance(self.grade, bool) or not 1 <= self.grade <= 5:
            raise InvalidInput("grade", self.grade, "must be an integer in [1, 5]")
        if known is not None and self.grade > known.max_grade:
            raise InvalidInput(
                "grade", self.grade, f"{known.name} has no grade above {known.max_grade}"
            )
        if self.kind not in KINDS:
            raise InvalidInput("kind", self.kind, f"must be one of {', '.join(KINDS)}")
        if self.attribution not in ATTRIBUTIONS:
            raise InvalidInput(
                "attribution", self.attribution, f"must be one of {', '.join(ATTRIBUTIONS)}"
            )
        if self.scale == "ASTCT 2019" and self.kind not in ("crs", "icans"):
            raise InvalidInput("scale", self.scale, "ASTCT 2019 grades only CRS and ICANS")
        if self.kind == "icans" and self.scale != "ASTCT 2019":
            raise InvalidInput("scale", self.scale, "ICANS is graded by ASTCT 2019 only")
        if self.resolved is not None and self.resolved < self.onset:
            raise InvalidInput(
                "resolved", self.resolved.isoformat(), f"before onset {self.onset.isoformat()}"
            )
        self._validate_course()

    def _validate_course(self) -> None:
        if not self.course:
            return
        if self.course[0].on != self.onset:
            raise InvalidInput(
                "course[0].date", self.course[0].on.isoformat(), "must be the onset date"
            )
        for i, point in enumerate(self.course):
            if isinstance(point.grade, bool) or not 0 <= point.grade <= 5:
                raise InvalidInput(f"course[{i}].grade", point.grade, "must be in [0, 5]")
            if i and point.on <= self.course[i - 1].on:
                raise InvalidInput(f"course[{i}].date", point.on.isoformat(), "dates must increase")
            if self.resolved is not None and point.on > self.resolved:
                raise InvalidInput(f"course[{i}].date", point.on.isoformat(), "after resolution")
        worst = max(p.grade for p in self.course)
        if worst != self.grade:
            raise InvalidInput(
                "grade", self.grade, f"must equal the worst grade in course ({worst})"
            )

    @property
    def laboratory(self) -> bool:
        return self.soc.casefold() == SOC_INVESTIGATIONS.casefold()

    @property
    def infection(self) -> bool:
        return self.soc.casefold() == SOC_INFECTIONS.casefold()

    def _points(self) -> tuple[GradePoint, ...]:
        return self.course or (GradePoint(self.onset, self.grade),)

    def grade_on(self, day: date) -> int:
        """The grade on ``day`` (0 before onset and from the resolution date)."""
        if day < self.onset or (self.resolved is not None and day >= self.resolved):
            return 0
        return [p for p in self._points() if p.on <= day][-1].grade

    def first_reached(self, grade: int) -> date | None:
        """The first date the event was at ``grade`` or worse."""
        return next((p.on for p in self._points() if p.grade >= grade), None)

    def improved_to(self, grade: int, after: date) -> date | None:
        """The first date after ``after`` on which the grade was ``grade`` or better."""
        for point in self._points():
            if point.on > after and point.grade <= grade:
                return point.on
        if self.resolved is not None and self.resolved >= after:
            return self.resolved
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "soc": self.soc,
            "grade": self.grade,
            "scale": self.scale,
            "onset": self.onset.isoformat(),
            "resolved": None if self.resolved is None else self.resolved.isoformat(),
            "serious": self.serious,
            "attribution": self.attribution,
            "kind": self.kind,
            "verbatim": self.verbatim,
            "baseline_present": self.baseline_present,
            "due_to_disease": self.due_to_disease,
            "course": [{"date": p.on.isoformat(), "grade": p.grade} for p in self.course],
        }

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "") -> AdverseEvent:
        """Read one event from JSON; errors name the key under ``where`` (e.g. ``events[1]``)."""
        data = as_mapping(data, where)
        reject_unknown(data, EVENT_KEYS, where)
        term = get_str(data, "term", where)
        if not term:
            raise InvalidInput(path(where, "term"), data.get("term"), "required")
        grade = get_int(data, "grade", where, lo=1, hi=5)
        if grade is None:
            raise InvalidInput(path(where, "grade"), None, "required: 1 to 5")
        onset = get_date(data, "onset", where, required=True)
        assert onset is not None
        scale = get_str(data, "scale", where)
        course = tuple(
            _point(p, path(path(where, "course"), i))
            for i, p in enumerate(as_list(data.get("course") or [], path(where, "course")))
        )
        try:
            return cls(
                term=term,
                grade=grade,
                onset=onset,
                resolved=get_date(data, "resolved", where),
                soc=get_str(data, "soc", where) or "",
                kind=get_choice(data, "kind", KINDS, None, where),
                serious=get_bool(data, "serious", where),
                attribution=get_choice(data, "attribution", ATTRIBUTIONS, "possible", where),
                scale=None if scale is None else canonical_scale(scale, path(where, "scale")),
                verbatim=get_str(data, "verbatim", where) or "",
                baseline_present=get_bool(data, "baseline_present", where),
                due_to_disease=get_bool(data, "due_to_disease", where),
                course=course,
            )
        except InvalidInput as exc:
            if not where or exc.field.startswith(where):
                raise
            raise InvalidInput(path(where, exc.field), exc.value, exc.rule) from None


EVENT_KEYS = (
    "term",
    "soc",
    "grade",
    "onset",
    "resolved",
    "serious",
    "attribution",
    "scale",
    "kind",
    "verbatim",
    "baseline_present",
    "due_to_disease",
    "course",
)


def _point(data: Any, where: str) -> GradePoint:
    point = as_mapping(data, where)
    reject_unknown(point, ("date", "grade"), where)
    return GradePoint(
        check_date(point.get("date"), path(where, "date")),
        check_int(point.get("grade"), path(where, "grade"), lo=0, hi=5),
    )
