"""The registry record (ClinicalTrials.gov fields) of a trial, as the protocol file carries it."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from dosewise.protocol.base import Frozen
from dosewise.protocol.localized import Localized
from dosewise.protocol.problems import raise_problems

Status = Literal[
    "NOT_YET_RECRUITING",
    "RECRUITING",
    "ENROLLING_BY_INVITATION",
    "ACTIVE_NOT_RECRUITING",
    "SUSPENDED",
    "TERMINATED",
    "COMPLETED",
    "WITHDRAWN",
    "UNKNOWN",
]
Phase = Literal["EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA"]


class Identifier(Frozen):
    """Another registry or institutional number for the study."""

    id: str = Field(min_length=1)
    type: str | None = None
    source: str | None = None


class Sponsor(Frozen):
    """A sponsor or collaborator and its class (``OTHER``, ``INDUSTRY``, ``NIH`` ...)."""

    name: str = Field(min_length=1)
    agency_class: str = "OTHER"
    role: Literal["lead", "collaborator"]


class ResponsibleParty(Frozen):
    name: str
    title: str | None = None
    role: Literal["SPONSOR", "PRINCIPAL_INVESTIGATOR", "SPONSOR_INVESTIGATOR"]


class Site(Localized):
    """A participating site and its recruitment status (``zh``: its Chinese name and city)."""

    ZH_FIELDS = ("name", "city", "region")

    name: str = Field(min_length=1)
    city: str
    region: str | None = None
    country: str
    status: Status
    #: The site's IANA time zone: its calendar decides "today" and shown times.
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(
                    f"{value!r} is not an IANA time zone (e.g. Asia/Shanghai)"
                ) from exc
        return value


class Contact(Frozen):
    name: str
    role: str = "CONTACT"
    phone: str | None = None
    email: str | None = None


class Endpoint(Frozen):
    """A primary or secondary endpoint: what is measured, over what time frame, in which phase."""

    measure: str
    time_frame: str
    phase: str | None = None


class RegistryEligibility(Frozen):
    """The registry's summary eligibility fields (the criteria themselves are separate)."""

    min_age_years: int = Field(ge=0)
    max_age_years: int = Field(ge=0)
    sex: Literal["ALL", "FEMALE", "MALE"] = "ALL"
    healthy_volunteers: bool = False


class RegistryRecord(Frozen):
    """What the public registry says about the trial, field for field."""

    nct_id: str
    title: str
    brief_title: str | None = None
    identifiers: tuple[Identifier, ...] = ()
    study_type: str = "INTERVENTIONAL"
    phases: tuple[Phase, ...] = Field(min_length=1)
    status: Status
    last_updated: date | None = None
    start_date: date
    completion_date: date | None = None
    target_enrollment: int = Field(gt=0)
    allocation: str | None = None
    intervention_model: str | None = None
    primary_purpose: str | None = None
    masking: str | None = None
    conditions: tuple[str, ...] = ()
    brief_summary: str | None = None
    detailed_description: str | None = None
    primary_endpoints: tuple[Endpoint, ...] = ()
    eligibility: RegistryEligibility
    sponsors: tuple[Sponsor, ...] = Field(min_length=1)
    responsible_party: ResponsibleParty | None = None
    sites: tuple[Site, ...] = ()
    countries: tuple[str, ...] = ()
    contacts: tuple[Contact, ...] = ()
    #: The results section's "Limitations and Caveats" (not a registry field before results
    #: are posted: written by the protocol team; the ClinicalTrials.gov export quotes it).
    limitations_and_caveats: str | None = None

    @field_validator("nct_id")
    @classmethod
    def _nct_format(cls, value: str) -> str:
        if not re.fullmatch(r"NCT\d{8}", value):
            raise ValueError("must be 'NCT' followed by 8 digits")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RegistryRecord:
        problems: list[tuple[str, object, str]] = []
        if self.completion_date is not None and self.completion_date < self.start_date:
            problems.append(
                (
                    "completion_date",
                    self.completion_date.isoformat(),
                    f"must not be before start_date {self.start_date}",
                )
            )
        leads = [s.name for s in self.sponsors if s.role == "lead"]
        if len(leads) != 1:
            problems.append(("sponsors", len(leads), "exactly one sponsor must have role 'lead'"))
        elig = self.eligibility
        if elig.min_age_years > elig.max_age_years:
            problems.append(
                ("eligibility.min_age_years", elig.min_age_years, "is above max_age_years")
            )
        raise_problems(problems)
        return self

    @property
    def lead_sponsor(self) -> str:
        return next(s.name for s in self.sponsors if s.role == "lead")
