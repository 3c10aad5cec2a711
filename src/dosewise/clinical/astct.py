"""ASTCT 2019 consensus grades of CRS and ICANS from their components (Lee et al., BBMT 2019).

Every grade comes with the component that set it (``determined_by``) and the grade each
component implies on its own, so a reviewer can see *why*. The tables are those of
``shared/reference/clinical.md`` §1.1–1.3; where the consensus leaves room, the reading chosen is
written next to the code. Ties between components are reported in the order of the ASTCT table
rows (CRS: fever, hypotension, hypoxia; ICANS: ICE/CAPD, consciousness, seizure, motor,
oedema); every component at the top grade is listed in ``determined_by_all``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from dosewise.clinical._input import (
    as_mapping,
    get_bool,
    get_choice,
    get_int,
    get_number,
    reject_unknown,
)
from dosewise.errors import InvalidInput, InvalidParameter

SCALE = "ASTCT 2019"

OxygenDevice = Literal[
    "none",
    "blow_by",
    "nasal_cannula",
    "facemask",
    "nonrebreather",
    "venturi",
    "cpap",
    "bipap",
    "mechanical_ventilation",
]
OXYGEN_DEVICES: tuple[OxygenDevice, ...] = get_args(OxygenDevice)
#: Low-flow nasal cannula is ≤ 6 L/min (grade 2); more is high flow (grade 3). clinical.md §1.1
#: — not "< 6" as in the R package cliot.
LOW_FLOW_MAX_L_MIN = 6.0
_HIGH_FLOW_DEVICES = ("facemask", "nonrebreather", "venturi")
_POSITIVE_PRESSURE = ("cpap", "bipap", "mechanical_ventilation")

Consciousness = Literal["awake", "awakens_to_voice", "awakens_to_tactile", "unarousable"]
CONSCIOUSNESS: tuple[Consciousness, ...] = get_args(Consciousness)
Seizure = Literal["none", "resolving", "prolonged_or_repetitive"]
SEIZURES: tuple[Seizure, ...] = get_args(Seizure)
Edema = Literal["none", "focal", "diffuse"]
EDEMAS: tuple[Edema, ...] = get_args(Edema)


@dataclass(frozen=True)
class AstctGrade:
    """A CRS or ICANS grade, the component that set it and what each component implies."""

    syndrome: Literal["CRS", "ICANS"]
    grade: int
    determined_by: str | None
    determined_by_all: tuple[str, ...]
    components: tuple[tuple[str, int], ...]
    tool: Literal["ice", "capd"] | None = None
    notes: tuple[str, ...] = ()
    scale: str = SCALE

    def to_dict(self) -> dict[str, Any]:
        """The ``dosewise grade crs|icans --json`` shape."""
        out: dict[str, Any] = {
            "grade": self.grade,
            "determined_by": self.determined_by,
            "scale": self.scale,
            "syndrome": self.syndrome,
            "determined_by_all": list(self.determined_by_all),
            "components": dict(self.components),
            "notes": list(self.notes),
        }
        if self.syndrome == "ICANS":
            out["tool"] = self.tool
        return out


def _result(
    syndrome: Literal["CRS", "ICANS"],
    components: dict[str, int],
    died: bool,
    gate: bool = True,
    tool: Literal["ice", "capd"] | None = None,
    notes: tuple[str, ...] = (),
) -> AstctGrade:
    """Grade = the worst component (after the gate), death = grade 5."""
    comps = tuple(components.items())
    if died:
        return AstctGrade(syndrome, 5, "death", ("death",), comps, tool, notes)
    grade = max(components.values()) if gate else 0
    if grade == 0:
        return AstctGrade(syndrome, 0, None, (), comps, tool, notes)
    top = tuple(name for name, g in comps if g == grade)
    return AstctGrade(syndrome, grade, top[0], top, comps, tool, notes)


# --------------------------------------------------------------------------------------- CRS


def hypotension_grade(hypotension: bool, vasopressors: int, vasopressin: bool) -> int:
    """Hypotension row of the ASTCT CRS table (clinical.md §1.1).

    Grade 4 needs multiple vasopressors with vasopressin excluded from the count, so one pressor
    plus vasopressin is grade 3. Vasopressin alone is read as "needs a vasopressor" (grade 3):
    the grade 3 cell is "one vasopressor, with or without vasopressin" and the count exclusion
    applies to grade 4 only. A vasopressor given implies hypotension.
    """
    if vasopressors >= 2:
        return 4
    if vasopressors == 1 or vasopressin:
        return 3
    return 2 if hypotension else 0


def hypoxia_grade(device: OxygenDevice, l_min: float | None) -> int:
    """Hypoxia row: low flow ≤ 6 L/min or blow-by → 2; high flow, masks → 3; CPAP/BiPAP/MV → 4.

    A nasal cannula without a recorded flow is taken as low flow (the least severe reading).
    """
    if device == "none":
        return 0
    if device == "blow_by":
        return 2
    if device == "nasal_cannula":
        return 3 if l_min is not None and l_min > LOW_FLOW_MAX_L_MIN else 2
    if device in _HIGH_FLOW_DEVICES:
        return 3
    return 4


@dataclass(frozen=True)
class CrsAssessment:
    """CRS components at one time point (attributable to no other cause)."""

    fever: bool = False
    fever_masked: bool = False
    hypotension: bool = False
    vasopressors: int = 0
    vasopressin: bool = False
    oxygen_device: OxygenDevice = "none"
    oxygen_l_min: float | None = None
    died: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.vasopressors, bool) or self.vasopressors < 0:
            raise InvalidInput("vasopressors", self.vasopressors, "must be an integer >= 0")
        if self.oxygen_device not in OXYGEN_DEVICES:
            raise InvalidInput(
                "oxygen_device", self.oxygen_device, f"must be one of {', '.join(OXYGEN_DEVICES)}"
            )
        if self.oxygen_l_min is not None and self.oxygen_l_min < 0:
            raise InvalidInput("oxygen_l_min", self.oxygen_l_min, "must be >= 0")
        if self.oxygen_device == "none" and self.oxygen_l_min:
            raise InvalidInput(
                "oxygen_l_min",
                self.oxygen_l_min,
                "oxygen flow given with oxygen_device none; name the device",
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CrsAssessment:
        """Read the ``dosewise grade crs`` input; missing or null keys mean "not present"."""
        data = as_mapping(data, "input")
        reject_unknown(data, CRS_KEYS)
        return cls(
            fever=get_bool(data, "fever"),
            fever_masked=get_bool(data, "fever_masked"),
            hypotension=get_bool(data, "hypotension"),
            vasopressors=get_int(data, "vasopressors", lo=0, hi=10, default=0) or 0,
            vasopressin=get_bool(data, "vasopressin"),
            oxygen_device=get_choice(data, "oxygen_device", OXYGEN_DEVICES, "none"),
            oxygen_l_min=get_number(data, "oxygen_l_min", lo=0, hi=100),
            died=get_bool(data, "died"),
        )


CRS_KEYS = (
    "fever",
    "fever_masked",
    "hypotension",
    "vasopressors",
    "vasopressin",
    "oxygen_device",
    "oxygen_l_min",
    "died",
)


def grade_crs(a: CrsAssessment) -> AstctGrade:
    """ASTCT CRS grade: the more severe of hypotension and hypoxia, fever required for 1–4.

    Fever gate (clinical.md §1.1): without fever (≥ 38.0 °C) CRS is not graded — unless
    tocilizumab, steroids or antipyretics were given (``fever_masked``); then fever is no longer
    required and the grade is driven by hypotension and hypoxia alone, so a masked fever with
    neither is grade 0 (nothing left to grade). Organ toxicities do not change the grade.
    Grade 5 is death from CRS.
    """
    components = {
        "fever": 1 if a.fever else 0,
        "hypotension": hypotension_grade(a.hypotension, a.vasopressors, a.vasopressin),
        "hypoxia": hypoxia_grade(a.oxygen_device, a.oxygen_l_min),
    }
    gate = a.fever or a.fever_masked
    notes: list[str] = []
    if not gate and max(components.values()) > 0 and not a.died:
        notes.append(
            "no fever and no tocilizumab/steroids/antipyretics: hypotension or hypoxia is not "
            "graded as CRS"
        )
    if a.fever_masked and not a.fever:
        notes.append("fever masked by treatment: graded on hypotension and hypoxia alone")
    return _result("CRS", components, a.died, gate, notes=tuple(notes))


# ------------------------------------------------------------------------------------- ICANS


@dataclass(frozen=True)
class IcansSettings:
    """Where the CAPD replaces ICE, and its positive-screen cut-off (clinical.md §1.3).

    The age cut-off is a setting because the sources disagree ("younger than 12" vs "12 and
    under"); the default is CAPD below 12 years.
    """

    capd_below_age: float = 12.0
    capd_positive_at: int = 9

    def __post_init__(self) -> None:
        if not 0 < self.capd_below_age <= 30:
            raise InvalidParameter("capd_below_age", self.capd_below_age, "must be in (0, 30]")
        if not 1 <= self.capd_positive_at <= 32:
            raise InvalidParameter("capd_positive_at", self.capd_positive_at, "must be in [1, 32]")


def ice_grade(score: int | None, unable: bool) -> int:
    """ICE row: 10 → 0, 7–9 → 1, 3–6 → 2, 0–2 → 3; unable to perform (unarousable) → 4.

    ICE 0 in an awake patient is grade 3; ICE 0 because the patient is unarousable is grade 4
    (clinical.md §1.2) — through ``unable`` here or through the consciousness domain.
    """
    if unable:
        return 4
    if score is None or score == 10:
        return 0
    if score >= 7:
        return 1
    return 2 if score >= 3 else 3


def capd_grade(score: int | None, unable: bool, positive_at: int = 9) -> int:
    """CAPD row (age < 12): 1–8 → 1 (grades 1 and 2 share the band), ≥ 9 → 3, unable → 4."""
    if unable:
        return 4
    if not score:
        return 0
    return 3 if score >= positive_at else 1


CONSCIOUSNESS_GRADE: dict[Consciousness, int] = {
    "awake": 0,
    "awakens_to_voice": 2,
    "awakens_to_tactile": 3,
    "unarousable": 4,
}
SEIZURE_GRADE: dict[Seizure, int] = {"none": 0, "resolving": 3, "prolonged_or_repetitive": 4}
EDEMA_GRADE: dict[Edema, int] = {"none": 0, "focal": 3, "diffuse": 4}


@dataclass(frozen=True)
class IceItems:
    """The ten ICE points (clinical.md §1.2): orientation 4, naming 3, command 1, writing 1,
    attention 1."""

    orientation: int = 0
    naming: int = 0
    commands: int = 0
    writing: int = 0
    attention: int = 0

    def __post_init__(self) -> None:
        for name, top in (
            ("orientation", 4),
            ("naming", 3),
            ("commands", 1),
            ("writing", 1),
            ("attention", 1),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not 0 <= value <= top:
                raise InvalidInput(f"ice_items.{name}", value, f"must be an integer in [0, {top}]")

    @property
    def score(self) -> int:
        return self.orientation + self.naming + self.commands + self.writing + self.attention


CAPD_ITEMS = (
    "eye_contact",
    "purposeful_actions",
    "aware_of_surroundings",
    "communicates_needs",
    "restless",
    "inconsolable",
    "underactive",
    "slow_to_respond",
)


def capd_score(answers: Mapping[str, int]) -> int:
    """CAPD total 0–32 from the 8 answers (never = 0 … always = 4); items 1–4 reverse-scored."""
    reject_unknown(answers, CAPD_ITEMS, "capd_items")
    total = 0
    for i, item in enumerate(CAPD_ITEMS):
        value = get_int(answers, item, "capd_items", lo=0, hi=4)
        if value is None:
            raise InvalidInput(f"capd_items.{item}", None, "required: 0 (never) to 4 (always)")
        total += 4 - value if i < 4 else value
    return total


@dataclass(frozen=True)
class IcansAssessment:
    """ICANS domains at one time point (findings attributable to no other cause)."""

    age_years: float | None = None
    ice_score: int | None = None
    capd_score: int | None = None
    ice_unable: bool = False
    capd_unable: bool = False
    consciousness: Consciousness = "awake"
    seizure: Seizure = "none"
    motor_weakness: bool = False
    cerebral_edema: Edema = "none"
    died: bool = False
    developmental_delay: bool = False

    def __post_init__(self) -> None:
        if self.ice_score is not None and not 0 <= self.ice_score <= 10:
            raise InvalidInput("ice_score", self.ice_score, "must be an integer in [0, 10]")
        if self.capd_score is not None and not 0 <= self.capd_score <= 32:
            raise InvalidInput("capd_score", self.capd_score, "must be an integer in [0, 32]")
        if self.ice_unable and self.ice_score:
            raise InvalidInput("ice_score", self.ice_score, "a score > 0 with ice_unable true")
        if self.capd_unable and self.capd_score is not None:
            raise InvalidInput("capd_score", self.capd_score, "a score with capd_unable true")
        if self.age_years is not None and not 0 <= self.age_years <= 130:
            raise InvalidInput("age_years", self.age_years, "must be in [0, 130]")
        for name, value, allowed in (
            ("consciousness", self.consciousness, CONSCIOUSNESS),
            ("seizure", self.seizure, SEIZURES),
            ("cerebral_edema", self.cerebral_edema, EDEMAS),
        ):
            if value not in allowed:
                raise InvalidInput(name, value, f"must be one of {', '.join(allowed)}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> IcansAssessment:
        """Read the ``dosewise grade icans`` input; missing or null keys mean "not present".

        Besides the contract keys, ``ice_items`` (the five ICE parts) or ``capd_items`` (the 8
        CAPD answers) may replace the totals, and ``developmental_delay`` selects the CAPD.
        """
        data = as_mapping(data, "input")
        reject_unknown(data, ICANS_KEYS)
        ice = get_int(data, "ice_score", lo=0, hi=10)
        capd = get_int(data, "capd_score", lo=0, hi=32)
        if data.get("ice_items") is not None:
            if ice is not None:
                raise InvalidInput("ice_items", "...", "give ice_score or ice_items, not both")
            items = as_mapping(data["ice_items"], "ice_items")
            reject_unknown(items, ("orientation", "naming", "commands", "writing", "attention"))
            ice = IceItems(
                **{k: get_int(items, k, "ice_items", lo=0, hi=4) or 0 for k in items}
            ).score
        if data.get("capd_items") is not None:
            if capd is not None:
                raise InvalidInput("capd_items", "...", "give capd_score or capd_items, not both")
            capd = capd_score(as_mapping(data["capd_items"], "capd_items"))
        return cls(
            age_years=get_number(data, "age_years", lo=0, hi=130),
            ice_score=ice,
            capd_score=capd,
            ice_unable=get_bool(data, "ice_unable"),
            capd_unable=get_bool(data, "capd_unable"),
            consciousness=get_choice(data, "consciousness", CONSCIOUSNESS, "awake"),
            seizure=get_choice(data, "seizure", SEIZURES, "none"),
            motor_weakness=get_bool(data, "motor_weakness"),
            cerebral_edema=get_choice(data, "cerebral_edema", EDEMAS, "none"),
            died=get_bool(data, "died"),
            developmental_delay=get_bool(data, "developmental_delay"),
        )


ICANS_KEYS = (
    "age_years",
    "ice_score",
    "capd_score",
    "ice_unable",
    "capd_unable",
    "consciousness",
    "seizure",
    "motor_weakness",
    "cerebral_edema",
    "died",
    "ice_items",
    "capd_items",
    "developmental_delay",
)


def encephalopathy_tool(
    a: IcansAssessment, settings: IcansSettings
) -> Literal["ice", "capd"] | None:
    """ICE from the age cut-off up, CAPD below it or with developmental delay (clinical.md §1.3).

    Without an age the tool is the one whose score was given. A score from the other tool is
    an error, not silently ignored.
    """
    has_ice = a.ice_score is not None or a.ice_unable
    has_capd = a.capd_score is not None or a.capd_unable
    if a.age_years is None and not a.developmental_delay:
        if has_ice and has_capd:
            raise InvalidInput("capd_score", a.capd_score, "give ICE or CAPD, not both")
        return "ice" if has_ice else "capd" if has_capd else None
    capd = a.developmental_delay or (
        a.age_years is not None and a.age_years < settings.capd_below_age
    )
    if capd and has_ice:
        raise InvalidInput(
            "ice_score",
            a.ice_score,
            f"ICE is not used below age {settings.capd_below_age:g} or with developmental delay "
            "(use capd_score)",
        )
    if not capd and has_capd:
        raise InvalidInput(
            "capd_score",
            a.capd_score,
            f"CAPD is for age < {settings.capd_below_age:g} (age_years {a.age_years:g}); use "
            "ice_score, or set developmental_delay",
        )
    return "capd" if capd else "ice"


def grade_icans(a: IcansAssessment, settings: IcansSettings | None = None) -> AstctGrade:
    """ASTCT ICANS grade: the most severe of the five domains; death is grade 5.

    Tremor, myoclonus and intracranial haemorrhage are not ICANS features (graded by CTCAE);
    they are not inputs here. ICE 10 (or CAPD 0) with nothing else is no ICANS.
    """
    settings = settings or IcansSettings()
    tool = encephalopathy_tool(a, settings)
    components: dict[str, int] = {}
    if tool == "capd":
        components["capd"] = capd_grade(a.capd_score, a.capd_unable, settings.capd_positive_at)
    else:
        components["ice"] = ice_grade(a.ice_score, a.ice_unable)
    components["consciousness"] = CONSCIOUSNESS_GRADE[a.consciousness]
    components["seizure"] = SEIZURE_GRADE[a.seizure]
    components["motor"] = 4 if a.motor_weakness else 0
    components["cerebral_edema"] = EDEMA_GRADE[a.cerebral_edema]
    notes: tuple[str, ...] = ()
    if tool == "capd" and components["capd"] == 1 and components["consciousness"] < 2:
        notes = ("CAPD 1–8 is grade 1 or 2; awake (spontaneous waking) makes it grade 1",)
    return _result("ICANS", components, a.died, tool=tool, notes=notes)
