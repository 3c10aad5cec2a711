"""The protocol as data: schema, the embedded NCT07070323 protocol, eligibility and consent.

The core never does I/O at import: :func:`default_protocol` reads the embedded file on first use.
"""

from __future__ import annotations

from dosewise.protocol.base import AssumptionNote, Fact, assumptions
from dosewise.protocol.consent import ConsentCheck, ConsentRecord, ConsentRules, check_consent
from dosewise.protocol.dlt import DltDefinition, DltRule
from dosewise.protocol.eligibility import CriterionResult, ScreeningResult
from dosewise.protocol.loader import (
    default_protocol,
    default_text,
    load_protocol,
    parse_protocol,
    protocol_problems,
)
from dosewise.protocol.model import (
    FALLBACK_POLICIES,
    OUTSIDE_DESIGN,
    Arm,
    DoseLadder,
    DoseLevel,
    FallbackPolicy,
    Protocol,
)
from dosewise.protocol.problems import InvalidProtocol, Problem
from dosewise.protocol.screening import ScreeningRecord, parse_consent, parse_screening

__all__ = [
    "FALLBACK_POLICIES",
    "OUTSIDE_DESIGN",
    "Arm",
    "AssumptionNote",
    "ConsentCheck",
    "ConsentRecord",
    "ConsentRules",
    "CriterionResult",
    "DltDefinition",
    "DltRule",
    "DoseLadder",
    "DoseLevel",
    "Fact",
    "FallbackPolicy",
    "InvalidProtocol",
    "Problem",
    "Protocol",
    "ScreeningRecord",
    "ScreeningResult",
    "assumptions",
    "check_consent",
    "default_protocol",
    "default_text",
    "load_protocol",
    "parse_consent",
    "parse_protocol",
    "parse_screening",
    "protocol_problems",
]
