"""The clinical endpoints' OpenAPI: every request body and every success response has an
example, and every route documents its error responses in the one error shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dosewise.server import create_app
from dosewise.store.session import open_database
from pg import make_settings

API = "/api/v1"


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    name = ref.rsplit("/", 1)[-1]
    resolved: dict[str, Any] = doc["components"]["schemas"][name]
    return resolved


def _has_example(schema: dict[str, Any], doc: dict[str, Any]) -> bool:
    schema = _resolve(schema, doc)
    if schema.get("examples") or schema.get("example") is not None:
        return True
    if schema.get("type") == "array" and "items" in schema:
        return _has_example(schema["items"], doc)
    # A free-form document (dict[str, Any]) has nothing to exemplify.
    return schema.get("type") == "object" and "properties" not in schema


def test_every_clinical_operation_has_examples_and_documented_errors(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'unused.db'}")
    db = open_database(settings)
    try:
        doc = create_app(settings, db=db).openapi()
    finally:
        db.dispose()
    checked = 0
    for path, operations in doc["paths"].items():
        if not path.startswith((f"{API}/participants", f"{API}/arms")):
            continue
        for method, op in operations.items():
            checked += 1
            where = f"{method.upper()} {path}"
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                assert _has_example(body["schema"], doc), f"{where}: request example"
            success = [code for code in op["responses"] if code.startswith("2")]
            assert len(success) == 1, where
            media = op["responses"][success[0]].get("content", {})
            if "application/pdf" in media:  # a document (the casebook), not a JSON answer
                assert "application/json" not in media, where
            else:
                content = media.get("application/json")
                assert content is not None and _has_example(content["schema"], doc), where
            for code in ("401", "403", "422"):
                error = op["responses"][code]["content"]["application/json"]["schema"]
                assert error["$ref"].endswith("/ErrorResponse"), (where, code)
            assert op.get("summary"), where
    # + the deviations and consent-void operations (issue 14), the casebook (issue 17)
    assert checked == 27
