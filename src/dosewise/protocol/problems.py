"""Turn validation failures into problems that name their place, and into dosewise errors.

Pydantic reports every failing field at once; this module keeps all of them, each with a dotted
path such as ``design.boin12.phi_t`` (and its line when the input was a YAML file), and wraps
them in a :class:`~dosewise.errors.DosewiseError` so no traceback reaches a user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from dosewise.errors import InvalidInput

#: Error type used by model validators that report several problems at once; their context
#: carries ``problems``: a list of (path, message) pairs relative to the model.
MULTI = "dosewise_problems"


def raise_problems(problems: Sequence[tuple[str, Any, str]]) -> None:
    """Raise, from inside a model validator, problems as (path under the model, value, message)."""
    if problems:
        summary = "; ".join(f"{p}: {m}" if p else m for p, _, m in problems)
        raise PydanticCustomError(MULTI, "{summary}", {"summary": summary, "problems": problems})


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where (dotted path, optional line) and what."""

    path: str
    message: str
    line: int | None = None
    value: Any = None

    def __str__(self) -> str:
        where = self.path or "(top level)"
        if self.line is not None:
            where += f" (line {self.line})"
        got = f" (got {self.value!r})" if self.value is not None else ""
        return f"{where}: {self.message}{got}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "message": self.message}


def dotted(loc: Sequence[int | str]) -> str:
    """``('arms', 1, 'id')`` → ``arms[1].id``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    if not path:
        return prefix
    return prefix + ("" if path.startswith("[") else ".") + path


def _clean_loc(loc: Sequence[int | str], data: Any) -> list[int | str]:
    """The part of a Pydantic location that exists in the input ``data``.

    Pydantic adds steps that files do not have: discriminated-union tags ("finding"), union
    members and validator names ("Fact[int]", "function-after[...]"), and ``value`` when a plain
    value was wrapped. Walking the input keeps only real keys and indices, plus a final key
    that is missing (a required field) or unknown.
    """
    out: list[int | str] = []
    node = data
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list | tuple) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            out.append(part)
            node = node[part]
        elif isinstance(node, dict) and i == len(loc) - 1 and "[" not in str(part):
            out.append(part)
        elif not isinstance(node, dict | list | tuple):
            break  # inside a plain value that a model wrapped
    return out


def problems_from(exc: ValidationError, data: Any, prefix: str = "") -> list[Problem]:
    """Every error of ``exc`` (raised validating ``data``) as a :class:`Problem` with its path.

    Errors that carry several problems (see :func:`raise_problems`) are expanded.
    """
    out: list[Problem] = []
    errors = exc.errors(include_url=False)
    paths = [dotted(_clean_loc(err["loc"], data)) for err in errors]
    for err, path in zip(errors, paths, strict=True):
        if err["type"] == "too_short" and any(
            other != path and other.startswith(path) for other in paths
        ):
            continue  # a list whose items failed also reports itself too short; say it once
        base = _join(prefix, path)
        ctx = err.get("ctx") or {}
        if err["type"] == MULTI and "problems" in ctx:
            for path, value, message in ctx["problems"]:
                out.append(Problem(_join(base, path), message, value=value))
            continue
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        value = err.get("input")
        if err["type"] == "missing":
            message, value = "required field is missing", None
        elif err["type"] == "extra_forbidden":
            message = "unknown key"
        out.append(Problem(base, message, value=value if _scalar(value) else None))
    return out


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def as_input_error(problems: Sequence[Problem], value: Any = None) -> InvalidInput:
    """One :class:`InvalidInput` naming the first problem's field and listing the others."""
    first = problems[0]
    rule = first.message
    if len(problems) > 1:
        rule += "; also " + "; ".join(str(p) for p in problems[1:])
    return InvalidInput(first.path or "input", first.value if value is None else value, rule)


class InvalidProtocol(InvalidInput):
    """A protocol file breaks the schema; :attr:`problems` lists every problem with its path."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        listing = "\n".join(f"  - {p}" for p in self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__("protocol", source, f"{count} {noun}:\n{listing}")


def yaml_lines(text: str) -> dict[str, int]:
    """Map each dotted path of a YAML document to its 1-based line (empty if unparsable)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[str, int] = {}

    def visit(node: yaml.Node, path: str) -> None:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = str(key.value)
                child = f"{path}.{name}" if path else name
                lines[child] = key.start_mark.line + 1
                visit(value, child)
                lines[child] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                visit(item, f"{path}[{i}]")

    if root is not None:
        visit(root, "")
    return lines


def locate(problems: Sequence[Problem], lines: dict[str, int]) -> list[Problem]:
    """Attach the line of the closest existing ancestor path to each problem."""
    out = []
    for p in problems:
        path = p.path
        line = lines.get(path)
        while line is None and path:
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
            line = lines.get(path)
        out.append(Problem(p.path, p.message, line, p.value))
    return out
