"""CSV cells that a spreadsheet opens as text, never as a formula (CSV injection).

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some,
one that starts with a tab or carriage return) as a formula, so a value a user typed, such as a
reason ``=HYPERLINK("http://...")``, would become a live link or command in the reviewer's
spreadsheet. Every CSV the service writes for people passes its text cells through
:func:`safe_cell`, which puts a single quote before such a value (the OWASP advice): the
spreadsheet shows the text as typed and runs nothing. Numbers are left as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value``, with a leading ``'`` if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A CSV row (column → value) with every cell made safe."""
    return {key: safe_cell(value) for key, value in row.items()}
