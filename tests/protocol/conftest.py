"""Fixtures for the protocol tests: the embedded protocol and a passing screening record."""

from __future__ import annotations

from typing import Any

import pytest
from protocol_helpers import passing_record

from dosewise.protocol import Protocol, default_protocol


@pytest.fixture(scope="session")
def protocol() -> Protocol:
    return default_protocol()


@pytest.fixture
def record() -> dict[str, Any]:
    """A fresh, mutable copy of a record that meets every criterion of every arm."""
    return passing_record()
