"""The trial service: one function per clinical act, each one audited transaction.

Foundation (this package's shared parts):

- :mod:`dosewise.trial.uow` — :class:`~dosewise.trial.uow.UnitOfWork`, the only thing that
  commits; row changes are audited automatically; :meth:`~dosewise.trial.uow.UnitOfWork.claim_arm`
  for optimistic concurrency on an arm;
- :mod:`dosewise.trial.audit` — the hash-chained audit trail, its verification and export;
- :mod:`dosewise.trial.access` — roles, the permission matrix, passwords, sessions, lock-out;
- :mod:`dosewise.trial.esign` — Part 11 electronic signatures;
- :mod:`dosewise.trial.bootstrap` — sites and arms from the protocol, the first administrator.

Importing this package does no I/O.
"""

from __future__ import annotations

from dosewise.trial.audit import Actor
from dosewise.trial.uow import ConcurrencyConflict, NotFound, UnitOfWork, utcnow

__all__ = ["Actor", "ConcurrencyConflict", "NotFound", "UnitOfWork", "utcnow"]
