"""The clinical acts of the trial, one service function each, every one a single audited
transaction (``with UnitOfWork(...) as uow: service(uow, ...)``; the service commits).

Import the module you need — this package imports nothing eagerly, so that
the read model (:mod:`dosewise.trial.state`) stays independent of the services:

- :mod:`.participants` — register (pseudonymous study ID), consent, screen, enroll, off study;
- :mod:`.dosing` — assign a dose from the arm's design state; confirm it (e-signature);
- :mod:`.products` — release the product (feasibility, fallback), lymphodepletion, infusion;
- :mod:`.adverse_events` — CTCAE events, CRS/ICANS graded from ASTCT components;
- :mod:`.dlt` — adjudicate DLTs under the protocol's definition;
- :mod:`.responses` — response assessments and the best overall response;
- :mod:`.phases` — close phase 1 (OBD and RP2D, e-signed), BOP2 looks in phase 2;
- :mod:`.reads` — what the API and CLI show (participants, their records).

Bad input raises a :class:`~dosewise.errors.DosewiseError` naming the field (HTTP 422) before
anything is written; an act out of order raises
:class:`~dosewise.trial.services.errors.WrongState` (409); :mod:`.errors` holds the refusals a
caller may catch (``WrongState``, ``MustWait``, ``DesignStopped``) and :mod:`.calendar` the
service's calendar day; other packages use those, never ``._common``.
"""
