"""The HTTP layer that the REST API (:mod:`dosewise.api`) and the web pages (:mod:`dosewise.web`)
both stand on, so that neither imports the other:

- :mod:`.auth` — the request's :class:`~dosewise.http.auth.Runtime`, the session cookie, and the
  current-user dependencies (bearer token or cookie);
- :mod:`.csrf` — the CSRF token that goes with a session, and its check on cookie requests;
- :mod:`.downloads` — a report or export as an attachment response;
- :mod:`.middleware` — bounded request bodies and security headers, in front of everything.

The app itself is composed above both siblings, in :mod:`dosewise.server`. This package imports
neither ``api`` nor ``web`` (``make lint`` checks it) and does no I/O on import.
"""
