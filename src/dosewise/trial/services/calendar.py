"""The services' calendar day, for callers outside the services (an arm's state "as of today"):
the same function the acts use for a date's default and the not-in-the-future check."""

from __future__ import annotations

from dosewise.trial.services._common import today

__all__ = ["today"]
