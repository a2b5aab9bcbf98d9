"""docs/api.md is generated from the app's OpenAPI schema, so it lists every route the server has."""

from __future__ import annotations

from pathlib import Path

from realvoice.api.reference import current_schema, markdown


def test_the_docs_are_the_routes():
    schema = current_schema()
    docs = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    assert docs == markdown(schema), "run: python -m realvoice.api.reference > docs/api.md"
    for path, ops in schema["paths"].items():
        for method in ops:
            assert f"| {method.upper()} | `{path}` |" in docs
