"""The protocol's visit schedule as the clinical rule's visits (windows from the protocol file)."""

from __future__ import annotations

from dosewise.clinical.schedule import Visit
from dosewise.protocol import Protocol


def visit_schedule(protocol: Protocol) -> tuple[Visit, ...]:
    """Every visit of ``protocol.visits`` with its window, for ``clinical.visit_status``."""
    return protocol.visit_schedule()
