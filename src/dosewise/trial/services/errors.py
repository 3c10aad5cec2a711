"""Why a clinical act is refused although its input is well formed: the act does not fit the
trial's state (409). Public, so that callers outside the services (the demo desk, the adapters,
the tests) name them without reaching into the services' private helpers."""

from __future__ import annotations

from dosewise.errors import DosewiseError


class WrongState(DosewiseError):
    """The act does not fit where the participant or arm is in the trial (e.g. infusion before
    release); the message says what has to happen first."""

    http_status = 409
    code = "wrong_state"


class MustWait(DosewiseError):
    """The design says the next patient must wait (outcomes pending); the message says until
    when."""

    http_status = 409
    code = "must_wait"


class DesignStopped(DosewiseError):
    """The arm's design has ended dose finding (select the OBD and close phase 1) or stopped."""

    http_status = 409
    code = "design_stopped"
