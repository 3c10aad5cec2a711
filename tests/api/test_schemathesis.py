"""Schemathesis generates requests from the app's OpenAPI schema (in-process, no server): no
generated input — valid or not, logged in or not — may produce a server error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
)

from dosewise.server import create_app
from dosewise.store.session import open_database
from pg import FakeClock, fresh_url, make_settings

API = "/api/v1"


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """One app on one database for the whole module (schemathesis reuses it across cases)."""
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    gen = fresh_url("sqlite", tmp)
    url = next(gen)
    settings = make_settings(url)
    db = open_database(settings)
    app = create_app(settings, clock=FakeClock(), db=db)
    yield app
    db.dispose()
    gen.close()


@pytest.fixture(scope="module")
def admin_headers(fuzz_app: FastAPI) -> dict[str, str]:
    with TestClient(fuzz_app) as client:
        response = client.post(
            f"{API}/auth/login",
            json={"username": "admin1", "password": "correct horse battery staple"},
        )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


#: Checks of whether the API accepts everything its schema allows: rules that depend on data
#: (a coordinator needs a site, a password needs the configured length) cannot all be written
#: into a JSON schema, so a schema-valid request may rightly be refused with a 4xx. And like
#: most HTTP APIs, FastAPI ignores query parameters it does not know, which the negative-data
#: check counts as "accepting schema-violating data".
SEMANTIC = [positive_data_acceptance, negative_data_rejection]
#: Examples per operation and generation mode (positive: fits the schema; negative: does not).
EXAMPLES = 10
#: Not fuzzed: the design report simulates and renders for up to a minute on its first request
#: per format and language (about 30 s of this test). Its two parameters are checked by the same
#: code as the exports' (fuzzed), and tests/api/test_api_reports.py covers it.
SLOW = {f"GET {API}/reports/design"}


def test_no_generated_request_causes_a_server_error(
    fuzz_app: FastAPI, admin_headers: dict[str, str]
) -> None:
    schema = schemathesis.openapi.from_asgi(f"{API}/openapi.json", fuzz_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if op.label not in SLOW]
    assert len(operations) >= 16
    seen: dict[str, set[int]] = {}
    for operation in operations:
        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )

        @given(case=strategy)
        @settings(
            max_examples=2 * EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case) -> None:  # type: ignore[no-untyped-def]
            # Never log ourselves out or change our own password: those go unauthenticated.
            own_session = case.path in (f"{API}/auth/logout", f"{API}/auth/password")
            headers = None if own_session else admin_headers
            response = case.call_and_validate(headers=headers, excluded_checks=SEMANTIC)
            seen.setdefault(case.operation.label, set()).add(response.status_code)

        run()
    assert len(seen) == len(operations)
    assert all(code < 500 for codes in seen.values() for code in codes), seen
