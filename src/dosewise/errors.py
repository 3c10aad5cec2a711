"""The one error family that reaches users: every message names the field, the value and the rule.

The shell turns a :class:`DosewiseError` into an HTTP 422 or a CLI exit code 2 with its message;
no bare ``ValueError`` should ever reach a person.
"""

from __future__ import annotations

from typing import Any


class DosewiseError(Exception):
    """A user-facing error about one field: ``field=value: rule``."""

    def __init__(self, field: str, value: Any, rule: str) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        super().__init__(f"{field}={value!r}: {rule}")

    @property
    def message(self) -> str:
        """The one-line message shown to users."""
        return str(self)


class InvalidParameter(DosewiseError):
    """A design or configuration parameter breaks its rule."""


class InvalidOutcomes(DosewiseError):
    """Outcome data (notation or records) cannot be read or is inconsistent with the design."""


class InvalidInput(DosewiseError):
    """Clinical or protocol input (a record, a file, a unit) breaks its rule."""
