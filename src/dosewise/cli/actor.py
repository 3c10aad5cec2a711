"""Who a CLI command acts as: the operating-system user, as the system actor ``cli:<user>``.

Its own small module so that a report command names its actor without importing the trial
commands (``dosewise.cli.trial`` and what it registers).
"""

from __future__ import annotations

import getpass

from dosewise.trial.audit import Actor


def cli_actor() -> Actor:
    """The operating-system user running the CLI, as a system actor ``cli:<user>``."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor.system(f"cli:{who}"[:64])
