"""The tables of :class:`~dosewise.report.trial_data.TrialData`: rows first, pandas on demand.

The loader reads each kind of fact as rows (one ``dict`` per row, plain Python values). A
report that counts with plain Python (the DSMB report) reads them with ``TrialData.rows`` and
never imports pandas (about 0.25 s of a command); the others read the same table as a pandas
frame (``data.participants``), built from those rows on the first read and kept. So there is
one loader and one set of rows, whichever way a report reads them.

A table can also be given a frame (``dataclasses.replace(data, participants=frame)``, as tests
do): it is then read as that frame, and its rows are the frame's records. The row helpers here
(:func:`in_arm`, :func:`group_by`, :func:`missing_last`) do what the frame operations they replace
did (``groupby`` drops rows missing a key; ``sort_values`` puts missing values last).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    import pandas as pd

#: One row of a table: column name → plain Python value (``None`` when missing).
Row = Mapping[str, Any]
#: A table's rows as the loader gives them.
Rows = tuple[Row, ...]


def present(value: Any) -> bool:
    """Whether a cell holds a value (not ``None``, and not NaN/NaT in a caller's frame)."""
    return value is not None and value == value


def in_arm(rows: Sequence[Row], arm: str | None) -> list[Row]:
    """The rows of ``arm`` (every row for None: the all-arms column)."""
    return list(rows) if arm is None else [r for r in rows if r["arm_id"] == arm]


def group_by(rows: Sequence[Row], keys: tuple[str, ...]) -> dict[tuple[Any, ...], list[Row]]:
    """Rows by the values of ``keys``, in order of first appearance; a row missing any key
    value is in no group."""
    out: dict[tuple[Any, ...], list[Row]] = {}
    for r in rows:
        key = tuple(r[k] for k in keys)
        if all(present(v) for v in key):
            out.setdefault(key, []).append(r)
    return out


def missing_last(*keys: str) -> Callable[[Row], tuple[tuple[bool, Any], ...]]:
    """A sort key on ``keys``, rows missing a value after those that have it (as pandas sorts)."""
    return lambda r: tuple((not present(r[k]), r[k] if present(r[k]) else 0) for k in keys)


def frame(rows: Sequence[Row], columns: Sequence[str]) -> pd.DataFrame:
    """Rows as a frame of plain Python values (``object`` columns: ints stay ints, None stays)."""
    import pandas as pd

    return pd.DataFrame(list(rows), columns=list(columns), dtype=object)


class Table:
    """A :class:`TrialData` field holding one table: set with rows or a frame, read as a frame.

    A dataclass field whose class attribute is this descriptor: the generated ``__init__`` sets
    it through :meth:`__set__`, and reading it (:meth:`__get__`) builds the frame once. Without
    ``empty`` the field is required (reading it on the class raises ``AttributeError``, which
    tells :mod:`dataclasses` there is no default); with ``empty`` an omitted table has no rows.
    """

    def __init__(self, columns: Sequence[str], *, empty: bool = False) -> None:
        self.columns = tuple(columns)
        self.empty = empty
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Rows: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> pd.DataFrame: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> Rows | pd.DataFrame:
        if obj is None:
            if self.empty:
                return ()
            raise AttributeError(self.name)  # a required field: no default
        stored = obj.__dict__
        built = stored.get(f"_frame_{self.name}")
        if built is None:
            built = frame(stored[f"_rows_{self.name}"], self.columns)
            stored[f"_frame_{self.name}"] = built
        return built

    def __set__(self, obj: object, value: Rows | pd.DataFrame) -> None:
        if isinstance(value, tuple):
            obj.__dict__[f"_rows_{self.name}"] = value
            obj.__dict__[f"_frame_{self.name}"] = None
        else:  # a caller's frame: read as given
            obj.__dict__[f"_rows_{self.name}"] = None
            obj.__dict__[f"_frame_{self.name}"] = value

    def rows(self, obj: object) -> Rows:
        """The table's rows: the loader's, or the records of a frame it was given."""
        found: Rows | None = obj.__dict__[f"_rows_{self.name}"]
        if found is None:
            given = obj.__dict__[f"_frame_{self.name}"]
            found = tuple(given.to_dict("records"))
            obj.__dict__[f"_rows_{self.name}"] = found
        return found
