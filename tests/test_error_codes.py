"""One registry of error codes: every code the source can raise is registered, and the docs show it."""

from __future__ import annotations

import ast
from pathlib import Path

from realvoice.error_codes import ERROR_CODES, markdown_table

SRC = Path(__file__).resolve().parents[1] / "src" / "realvoice"


def _codes_in_source() -> dict[str, str]:
    """Code strings in ``src``: ``code=``/``error_code=`` keywords, classes' ``code = ...``, the API's
    ``problem(status, detail, code)`` calls and its status-to-code table."""
    found: dict[str, str] = {}
    for path in SRC.rglob("*.py"):
        if path.name == "error_codes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            for value in _code_values(node):
                for leaf in ast.walk(value):  # a literal, or literals inside an expression (a dict's .get)
                    if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str) and leaf.value.islower():
                        found.setdefault(leaf.value, str(path.relative_to(SRC)))
    return found


def _code_values(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.keyword) and node.arg in ("code", "error_code"):
        return [node.value]
    if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "code" for t in node.targets):
        return [node.value]
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "problem" and len(node.args) >= 3:
        return [node.args[2]]
    return []


def test_every_code_the_source_uses_is_registered():
    found = _codes_in_source()
    assert len(found) > 50  # the scan sees the codes (a broken scan must not pass by finding none)
    missing = {code: where for code, where in found.items() if code not in ERROR_CODES}
    assert not missing, f"register these in realvoice/error_codes.py: {missing}"


def test_the_registry_holds_only_codes_in_use():
    # answered by the API's handlers through helpers the scan does not follow
    api_only = {"http_error", "not_found", "method_not_allowed", "validation_error", "internal_error"}
    unused = set(ERROR_CODES) - set(_codes_in_source()) - api_only
    assert not unused, f"codes nothing raises: {sorted(unused)}"


def test_the_docs_table_is_the_registry():
    docs = Path(__file__).resolve().parents[1] / "docs" / "errors.md"
    assert docs.read_text() == markdown_table(), "run: python -m realvoice.error_codes > docs/errors.md"
