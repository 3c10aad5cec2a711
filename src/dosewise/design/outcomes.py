"""Outcome data: the ``"1NNE 2TBN"`` notation, per-patient records and per-dose counts.

A cohort is a 1-based dose index followed by one letter per patient: N (neither), E (efficacy
only), T (toxicity only), B (both). Cohorts are listed in the order they were treated, so the
last cohort's dose is the current dose. An empty string means no patient yet.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dosewise.errors import InvalidOutcomes

#: Letter -> (toxicity, efficacy).
LETTERS: dict[str, tuple[int, int]] = {"N": (0, 0), "E": (0, 1), "T": (1, 0), "B": (1, 1)}
_LETTER_OF = {v: k for k, v in LETTERS.items()}
_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Patient:
    """One patient's binary outcomes at a 1-based dose."""

    dose: int
    tox: bool
    eff: bool

    @property
    def letter(self) -> str:
        """This patient's letter in the notation (N, E, T or B)."""
        return _LETTER_OF[(int(self.tox), int(self.eff))]


@dataclass(frozen=True, slots=True)
class Cohort:
    """Patients treated together at one 1-based dose."""

    dose: int
    patients: tuple[Patient, ...]

    @property
    def size(self) -> int:
        """Number of patients in the cohort."""
        return len(self.patients)

    def notation(self) -> str:
        """This cohort written as ``2NTE``."""
        return f"{self.dose}" + "".join(p.letter for p in self.patients)


def parse_outcomes(text: str, n_doses: int | None = None) -> tuple[Cohort, ...]:
    """Parse ``"1NNE 2TBN"`` into cohorts; errors point at the offending character.

    ``n_doses`` (when given) bounds the dose indices to 1..n_doses. Results are immutable and
    memoised, so replaying the same history again is cheap.
    """
    if not isinstance(text, str):
        raise InvalidOutcomes("outcomes", text, "must be a string such as '1NNE 2TBN'")
    return _parse(text, n_doses)


@functools.lru_cache(maxsize=8192)
def _parse(text: str, n_doses: int | None) -> tuple[Cohort, ...]:
    cohorts: list[Cohort] = []
    for match in _TOKEN.finditer(text):
        token, start = match.group(), match.start()
        digits = re.match(r"\d+", token)
        if digits is None:
            raise InvalidOutcomes(
                "outcomes",
                text,
                f"character {start + 1} ({token[0]!r}) must be a dose number starting a cohort",
            )
        dose = int(digits.group())
        if dose < 1 or (n_doses is not None and dose > n_doses):
            upper = f" to {n_doses}" if n_doses is not None else " or more"
            raise InvalidOutcomes(
                "outcomes",
                text,
                f"character {start + 1}: dose {dose} must be from 1{upper} (doses are 1-based)",
            )
        letters = token[digits.end() :]
        if not letters:
            raise InvalidOutcomes(
                "outcomes",
                text,
                f"character {start + 1}: cohort '{token}' has no patients (add N, E, T or B)",
            )
        patients = []
        for offset, letter in enumerate(letters):
            if letter not in LETTERS:
                pos = start + digits.end() + offset + 1
                raise InvalidOutcomes(
                    "outcomes",
                    text,
                    f"character {pos} ({letter!r}) must be one of N, E, T, B",
                )
            tox, eff = LETTERS[letter]
            patients.append(Patient(dose, bool(tox), bool(eff)))
        cohorts.append(Cohort(dose, tuple(patients)))
    return tuple(cohorts)


def format_outcomes(cohorts: Iterable[Cohort]) -> str:
    """Write cohorts back in the notation."""
    return " ".join(c.notation() for c in cohorts)


def cohorts_from_patients(patients: Sequence[Patient]) -> tuple[Cohort, ...]:
    """Group consecutive patients at the same dose into cohorts (records -> notation)."""
    cohorts: list[Cohort] = []
    for patient in patients:
        if cohorts and cohorts[-1].dose == patient.dose:
            last = cohorts[-1]
            cohorts[-1] = Cohort(last.dose, (*last.patients, patient))
        else:
            cohorts.append(Cohort(patient.dose, (patient,)))
    return tuple(cohorts)


IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class DoseCounts:
    """Per-dose counts (0-based arrays of length J): patients and the four joint outcomes.

    ``m[a, b]`` arrays: ``m00`` neither, ``m01`` efficacy only, ``m10`` toxicity only,
    ``m11`` both.
    """

    m00: IntArray
    m01: IntArray
    m10: IntArray
    m11: IntArray

    @classmethod
    def zeros(cls, n_doses: int) -> DoseCounts:
        """Counts for a trial with no patients yet."""
        z = np.zeros(n_doses, dtype=np.int64)
        return cls(z.copy(), z.copy(), z.copy(), z.copy())

    @classmethod
    def from_patients(cls, patients: Iterable[Patient], n_doses: int) -> DoseCounts:
        """Tally patients by dose and joint outcome."""
        table = np.zeros((n_doses, 2, 2), dtype=np.int64)
        for p in patients:
            if not 1 <= p.dose <= n_doses:
                raise InvalidOutcomes("dose", p.dose, f"must be from 1 to {n_doses}")
            table[p.dose - 1, int(p.tox), int(p.eff)] += 1
        return cls(table[:, 0, 0], table[:, 0, 1], table[:, 1, 0], table[:, 1, 1])

    @property
    def n(self) -> IntArray:
        """Patients treated per dose."""
        return self.m00 + self.m01 + self.m10 + self.m11

    @property
    def tox(self) -> IntArray:
        """Patients with a DLT per dose."""
        return self.m10 + self.m11

    @property
    def eff(self) -> IntArray:
        """Responders per dose."""
        return self.m01 + self.m11


def all_patients(cohorts: Iterable[Cohort]) -> list[Patient]:
    """Flatten cohorts into patients, in order."""
    return [p for c in cohorts for p in c.patients]
