"""The refusals of the clinical acts that a caller outside the services may catch or name: the
act does not fit the trial's state (409). The adapters, the demo desk and the tests import them
from here, not from the services' private helpers (``make lint`` checks that)."""

from __future__ import annotations

from dosewise.trial.services._common import DesignStopped, MustWait, WrongState

__all__ = ["DesignStopped", "MustWait", "WrongState"]
