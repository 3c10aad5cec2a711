"""The access rules as ``docs/trial-service.md`` states them, checked against the code and the
API (issue 15, item 8).

- The documented table (``| action | admin | ... |``) is the permission matrix the code applies
  (``access.PERMISSIONS``), cell for cell.
- Every operation of the OpenAPI document is guarded by one documented action (found from the
  route's ``require(action)`` dependency), or is on the short, explained list of routes open to
  any signed-in user, to anyone, or checked inside (reports).
- Every row of the hand-written access matrix (``test_api_matrix.py``, run on both back ends
  for every role at its own site and another) allows exactly the users whose role the
  documented table allows that operation's action, and a row confined to the user's own site
  is one where the table says ``site``.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import test_api_matrix as matrix
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from dosewise.api import routers
from dosewise.trial import access
from e2e_api import matrix_prep

DOC = Path(__file__).resolve().parents[2] / "docs" / "trial-service.md"
API = "/api/v1"
ROLES = [r.value for r in access.Role]
#: Routes without a ``require(action)``: open to anyone, to any signed-in user (their own
#: account, the sites, the matrix itself), or checked inside the route (each report's permissions
#: over every site: ``report.exports.authorize_export``).
PUBLIC = {("GET", f"{API}/health"), ("POST", f"{API}/auth/login")}
ANY_USER = {
    ("POST", f"{API}/auth/logout"),
    ("GET", f"{API}/auth/me"),
    ("POST", f"{API}/auth/password"),
    ("GET", f"{API}/auth/permissions"),
    ("GET", f"{API}/users/me"),
    ("PATCH", f"{API}/users/me"),
    ("GET", f"{API}/reports"),
    ("GET", f"{API}/reports/design"),
}
CHECKED_INSIDE = {("GET", f"{API}/reports/{{kind}}")}


def documented_table() -> dict[str, dict[str, str]]:
    """action → role → ``all`` / ``site`` / ``-``, read from the documentation's table."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| action | admin |"))
    header = [c.strip() for c in lines[start].strip().strip("|").split("|")]
    assert header[1 : 1 + len(ROLES)] == ROLES, header
    table: dict[str, dict[str, str]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        table[cells[0].strip("`")] = dict(zip(ROLES, cells[1 : 1 + len(ROLES)], strict=True))
    return table


def _required(dependant: Dependant) -> set[str]:
    names = {f"require_{a.replace('.', '_')}": a for a in access.ACTIONS}
    found = set()
    for dep in dependant.dependencies:
        name = getattr(dep.call, "__name__", "")
        if name in names:
            found.add(names[name])
        found |= _required(dep)
    return found


def _api_routes() -> list[APIRoute]:
    """The routes of every router module the API mounts (``dosewise.api.routers``)."""
    routes: list[APIRoute] = []
    for info in pkgutil.iter_modules(routers.__path__):
        module = importlib.import_module(f"{routers.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if router is not None:
            routes += [r for r in router.routes if isinstance(r, APIRoute)]
    return routes


def operations(app: FastAPI) -> dict[tuple[str, str], str | None]:
    """Every operation of the OpenAPI document and the action its route requires (if any)."""
    documented = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
    out: dict[tuple[str, str], str | None] = {}
    for route in _api_routes():
        for method in route.methods:
            if (method, API + route.path) in documented:
                actions = _required(route.dependant)
                assert len(actions) <= 1, (method, route.path, actions)
                out[(method, API + route.path)] = next(iter(actions), None)
    assert set(out) == documented
    return out


def test_the_documented_table_is_the_permission_matrix() -> None:
    code = {row["action"]: {r: str(row[r]) for r in ROLES} for row in access.matrix()}
    assert documented_table() == code


def test_every_operation_is_guarded_by_a_documented_action(app: FastAPI) -> None:
    table = documented_table()
    ops = operations(app)
    assert len(ops) >= 40
    unguarded = {op for op, action in ops.items() if action is None}
    assert unguarded == PUBLIC | ANY_USER | CHECKED_INSIDE
    assert {action for action in ops.values() if action} <= set(table)


def _operation(ops: dict[tuple[str, str], str | None], method: str, path: str) -> tuple[str, str]:
    path = API + path.split("?")[0]
    if (method, path) in ops:  # a literal path wins over a template (/users/me, /users/{name})
        return method, path
    hits = [
        (m, p)
        for (m, p) in ops
        if m == method and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", p), path)
    ]
    assert len(hits) == 1, (method, path, hits)
    return hits[0]


#: A query's own acts: who may answer, close or re-open depends on the query (its site, who
#: raised it), checked on both back ends in tests/services/test_query_acts.py.
QUERY_THREAD = {
    ("GET", "/api/v1/queries/{query_id}"),
    ("POST", "/api/v1/queries/{query_id}/answers"),
    ("POST", "/api/v1/queries/{query_id}/close"),
    ("POST", "/api/v1/queries/{query_id}/reopen"),
}


def test_every_matrix_row_allows_exactly_the_roles_the_table_allows(app: FastAPI) -> None:
    table = documented_table()
    ops = operations(app)
    matrix_prep.bind(None)
    tried = set()
    for name, method, path, _body, allowed, _ok in matrix.ENDPOINTS:
        op = _operation(ops, method, path("inv1", "S01"))
        tried.add(op)
        action = ops[op]
        if action is None:
            assert op in ANY_USER and allowed == matrix.ALL_USERS, name
            continue
        want = {u for u, (role, _) in matrix.ROLES_BY_USER.items() if table[action][role] != "-"}
        assert allowed == want, (name, action, sorted(allowed ^ want))
        if name in matrix.SITE_SCOPED:
            for user in allowed & matrix.SITE_USERS:
                role = matrix.ROLES_BY_USER[user][0]
                assert table[action][role] == "site", (name, user)
    # the matrix tries every guarded operation but the reports (tests/api/test_api_reports.py)
    # and one query's thread acts, whose rule is the raiser's (tests/services/test_query_acts.py)
    guarded = {op for op, action in ops.items() if action is not None}
    assert guarded - QUERY_THREAD <= tried
