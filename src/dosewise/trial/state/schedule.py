"""The protocol's visit schedule as the clinical rule's visits (windows from the protocol file)."""

from __future__ import annotations

from dosewise.clinical.schedule import Visit
from dosewise.protocol import Protocol


def visit_schedule(protocol: Protocol) -> tuple[Visit, ...]:
    """Every visit of ``protocol.visits`` with its window, for ``clinical.visit_status``."""
    return tuple(
        Visit(
            v.name,
            v.label,
            v.day,
            v.before,
            v.after,
            v.assessments,
            v.why or "",
            zh=v.in_lang("label", "zh") if v.has_zh("label") else "",
        )
        for v in protocol.visits
    )
