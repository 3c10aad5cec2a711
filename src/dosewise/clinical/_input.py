"""Strict readers for clinical records given as mappings (parsed JSON or YAML).

Every reader names the offending key by its dotted path (``events[2].onset``), so a CLI or API
error points at the exact place in the input. A missing key or ``null`` means "not present" and
yields the default; a wrong type, an out-of-range number, NaN/infinity, an unknown choice or an
unknown key raises :class:`~dosewise.errors.InvalidInput`. Booleans are never accepted as numbers
(``true`` is not 1) and numbers never as booleans.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

from dosewise.errors import InvalidInput

T = TypeVar("T")


def path(where: str, key: str | int) -> str:
    """The dotted path of ``key`` under ``where``: ``events[0].onset``."""
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def as_mapping(value: Any, where: str) -> Mapping[str, Any]:
    """``value`` if it is a JSON object (a mapping with string keys), else an error."""
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InvalidInput(where or "input", _short(value), "must be a JSON object")
    return value


def as_list(value: Any, where: str) -> Sequence[Any]:
    """``value`` if it is a JSON array, else an error."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise InvalidInput(where, _short(value), "must be a JSON array")
    return value


def reject_unknown(data: Mapping[str, Any], allowed: Iterable[str], where: str = "") -> None:
    """Raise for the first key of ``data`` that is not in ``allowed``."""
    known = tuple(allowed)
    for key in data:
        if key not in known:
            raise InvalidInput(
                path(where, key), _short(data[key]), f"unknown key; expected one of {_list(known)}"
            )


def get_bool(data: Mapping[str, Any], key: str, where: str = "", default: bool = False) -> bool:
    """A JSON boolean (``true``/``false``); missing or null gives ``default``."""
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidInput(path(where, key), _short(value), "must be true or false")
    return value


def get_int(
    data: Mapping[str, Any],
    key: str,
    where: str = "",
    *,
    lo: int | None = None,
    hi: int | None = None,
    default: int | None = None,
) -> int | None:
    """A JSON integer in ``[lo, hi]`` (a float with an integral value such as 2.0 is accepted)."""
    value = data.get(key)
    if value is None:
        return default
    return check_int(value, path(where, key), lo=lo, hi=hi)


def check_int(value: Any, field: str, *, lo: int | None = None, hi: int | None = None) -> int:
    """``value`` as an int in ``[lo, hi]``; booleans, fractions and non-numbers are errors."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(field, _short(value), "must be an integer")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise InvalidInput(field, value, "must be an integer")
        value = int(value)
    _check_range(field, value, lo, hi)
    return int(value)


def get_number(
    data: Mapping[str, Any],
    key: str,
    where: str = "",
    *,
    lo: float | None = None,
    hi: float | None = None,
    default: float | None = None,
) -> float | None:
    """A finite JSON number in ``[lo, hi]``; missing or null gives ``default``."""
    value = data.get(key)
    if value is None:
        return default
    return check_number(value, path(where, key), lo=lo, hi=hi)


def check_number(
    value: Any, field: str, *, lo: float | None = None, hi: float | None = None
) -> float:
    """``value`` as a finite float in ``[lo, hi]``; NaN, infinity and booleans are errors."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(field, _short(value), "must be a number")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInput(field, value, "must be a finite number")
    _check_range(field, number, lo, hi)
    return number


def get_choice(
    data: Mapping[str, Any], key: str, choices: Sequence[T], default: T, where: str = ""
) -> T:
    """One of ``choices`` (strings); missing or null gives ``default``."""
    value = data.get(key)
    if value is None:
        return default
    return check_choice(value, path(where, key), choices)


def check_choice(value: Any, field: str, choices: Sequence[T]) -> T:
    """``value`` if it is one of ``choices``, else an error listing them."""
    for choice in choices:
        if value == choice and type(value) is type(choice):
            return choice
    raise InvalidInput(field, _short(value), f"must be one of {_list(choices)}")


def get_str(
    data: Mapping[str, Any], key: str, where: str = "", default: str | None = None
) -> str | None:
    """A JSON string (stripped); missing or null gives ``default``."""
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidInput(path(where, key), _short(value), "must be a string")
    return value.strip()


def get_date(
    data: Mapping[str, Any], key: str, where: str = "", *, required: bool = False
) -> date | None:
    """An ISO date ``YYYY-MM-DD``; missing or null is ``None`` (or an error when required)."""
    value = data.get(key)
    if value is None:
        if required:
            raise InvalidInput(path(where, key), None, "required: a date YYYY-MM-DD")
        return None
    return check_date(value, path(where, key))


def check_date(value: Any, field: str) -> date:
    """``value`` as a :class:`date` (a ``date`` object or an ISO ``YYYY-MM-DD`` string)."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidInput(field, _short(value), "must be a date YYYY-MM-DD")


def _check_range(field: str, value: float, lo: float | None, hi: float | None) -> None:
    if lo is not None and value < lo:
        raise InvalidInput(field, value, f"must be >= {lo:g}")
    if hi is not None and value > hi:
        raise InvalidInput(field, value, f"must be <= {hi:g}")


def _list(choices: Iterable[object]) -> str:
    return ", ".join(str(c) for c in choices)


def _short(value: Any) -> Any:
    """A value small enough for a one-line message."""
    text = repr(value)
    return value if len(text) <= 60 else text[:57] + "..."
