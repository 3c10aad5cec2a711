"""Reading protocol files: YAML (or JSON) text → a validated :class:`Protocol`, or every problem.

:func:`default_protocol` is NCT07070323, embedded in the package and read with
``importlib.resources``; :func:`load_protocol` reads any file of the same format.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dosewise.protocol.model import Protocol
from dosewise.protocol.problems import InvalidProtocol, Problem, locate, problems_from, yaml_lines
from dosewise.yamlread import safe_load

DEFAULT_RESOURCE = "nct07070323.yaml"


def protocol_problems(text: str) -> tuple[Protocol | None, list[Problem]]:
    """Parse and validate protocol text; the protocol, or None and every problem found."""
    try:
        data: Any = safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [Problem("", f"not valid YAML: {reason}", line)]
    if not isinstance(data, dict):
        return None, [Problem("", "a protocol file must be a mapping of sections")]
    try:
        return Protocol.model_validate(data), []
    except ValidationError as exc:
        found = problems_from(exc, data)
        return None, locate(found, yaml_lines(text))


def parse_protocol(text: str, source: str = "<text>") -> Protocol:
    """Validate protocol text; raises :class:`InvalidProtocol` listing every problem."""
    protocol, problems = protocol_problems(text)
    if protocol is None:
        raise InvalidProtocol(source, problems)
    return protocol


#: The phase 2 settings the trial service applied before protocols had ``design.phase2``
#: (dosewise up to November 2026: p0 0.30, p1 0.60, alpha 0.10, one interim look after half
#: of the expansion, DLT monitoring with phi_t1 0.15 and phi_t0 = the arm's phi_t).
LEGACY_PHASE2: dict[str, Any] = {
    name: {
        "value": value,
        "assumption": True,
        "why": "Stored before protocols had design.phase2: the values the trial service applied.",
        "why_zh": "在协议文件有 `design.phase2` 之前保存：试验服务当时采用的数值。",
    }
    for name, value in (
        ("p0", 0.30),
        ("p1", 0.60),
        ("alpha", 0.10),
        ("interim_looks", [3]),
        ("monitor_toxicity", True),
        ("phi_t1", 0.15),
    )
}


def parse_stored_protocol(text: str, source: str = "<stored>") -> Protocol:
    """A protocol text stored in the trial database, read as the version that stored it ran it.

    Texts stored before ``design.phase2`` existed get :data:`LEGACY_PHASE2`, the settings the
    service then applied, so an existing trial keeps its phase 2 design; the stored text itself
    is never changed. New protocol files must give the block (:func:`parse_protocol`).

    Likewise, texts stored before ``dose_levels.fallback_policy`` existed numbered the fallback
    level as a design dose: they are read with ``fallback_policy: analyse_at_actual``.
    """
    try:
        data: Any = safe_load(text)
    except yaml.YAMLError:
        data = None
    design = data.get("design") if isinstance(data, dict) else None
    if isinstance(design, dict) and "phase2" not in design:
        design["phase2"] = LEGACY_PHASE2
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    ladder = data.get("dose_levels") if isinstance(data, dict) else None
    if isinstance(ladder, dict) and "fallback_policy" not in ladder and _fallback_numbered(ladder):
        ladder["fallback_policy"] = "analyse_at_actual"
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return parse_protocol(text, source)


def _fallback_numbered(ladder: dict[str, Any]) -> bool:
    """True when a stored ladder gives its fallback level a design index (the old reading)."""
    levels = ladder.get("levels")
    if not isinstance(levels, list):
        return False
    for lv in levels:
        if isinstance(lv, dict) and lv.get("role") == "fallback":
            index = lv.get("design_index")
            value = index.get("value") if isinstance(index, dict) else index
            return value not in (None, 0)
    return False


def load_protocol(path: str | Path) -> Protocol:
    """Read and validate a protocol file (YAML or JSON)."""
    path = Path(path)
    return parse_protocol(path.read_text(encoding="utf-8"), str(path))


def default_text() -> str:
    """The embedded NCT07070323 protocol file, as text."""
    return (resources.files("dosewise.protocol") / DEFAULT_RESOURCE).read_text(encoding="utf-8")


@functools.cache
def default_protocol() -> Protocol:
    """The embedded NCT07070323 protocol (validated once; the model is immutable)."""
    return parse_protocol(default_text(), f"dosewise.protocol/{DEFAULT_RESOURCE}")
