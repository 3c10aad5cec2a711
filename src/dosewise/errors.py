"""The one error family that reaches users: every message names the field, the value and the rule.

The shell turns a :class:`DosewiseError` into an HTTP 422 or a CLI exit code 2 with its message;
no bare ``ValueError`` should ever reach a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DosewiseError(Exception):
    """A user-facing error about one field: ``field=value: rule``.

    ``rule`` is the English text. A refusal the shell shows in other languages also carries
    its reason as data: ``reason_code`` (a stable name, e.g. a step code of the arm state) and
    ``reason_params``; ``template`` is the rule's message id (``%(name)s`` placeholders filled
    from ``reason_params``) for the web catalog. Without them, the web looks ``rule`` itself up.
    (``code``, a class attribute of some subclasses, is the API's error code: another thing.)
    """

    def __init__(
        self,
        field: str,
        value: Any,
        rule: str,
        *,
        reason_code: str | None = None,
        reason_params: Mapping[str, Any] | None = None,
        template: str | None = None,
    ) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        self.reason_code = reason_code
        self.reason_params: dict[str, Any] = dict(reason_params or {})
        self.template = template
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
