"""docs/api.md, generated from the app's OpenAPI schema (``python -m realvoice.api.reference > docs/api.md``).

The served ``/docs`` page is the interactive reference; this file is the same routes for reading in
the repository, so a route, a field or a status cannot change without the docs changing with it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

HEADER = """# REST API

Generated from the OpenAPI schema (`python -m realvoice.api.reference > docs/api.md`); a running
server serves the same reference, interactive, at `/docs` and the schema at `/openapi.json`.
Error codes and what they mean: [errors.md](errors.md). Streaming: [streaming.md](streaming.md).
"""


def markdown(schema: dict[str, Any]) -> str:
    lines = [HEADER, schema["info"].get("description", "").strip(), "", "## Routes", ""]
    lines += ["| method | path | what | body | answers |", "|---|---|---|---|---|"]
    bodies: dict[str, dict[str, Any]] = {}
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            lines.append(_route_row(method, path, op, bodies))
    components = schema.get("components", {}).get("schemas", {})
    for name in sorted(bodies):
        lines += ["", f"## {name}", "", *_fields(components.get(name, {}))]
    return "\n".join(lines) + "\n"


def _route_row(method: str, path: str, op: dict[str, Any], bodies: dict[str, dict[str, Any]]) -> str:
    what = (op.get("description") or op.get("summary") or "").strip().split("\n\n")[0].replace("\n", " ")
    body = ""
    for media, content in op.get("requestBody", {}).get("content", {}).items():
        ref = content.get("schema", {}).get("$ref", "")
        name = ref.rsplit("/", 1)[-1]
        if media == "application/json" and name:
            bodies[name] = content["schema"]
            body = f"JSON [{name}](#{name.lower()})"
        else:
            body = media
    answers = ", ".join(sorted(op.get("responses", {})))
    return f"| {method.upper()} | `{path}` | {_cell(what)} | {body} | {answers} |"


def _fields(model: dict[str, Any]) -> list[str]:
    required = set(model.get("required", []))
    rows = ["| field | type | default | what |", "|---|---|---|---|"]
    for field, spec in model.get("properties", {}).items():
        default = "required" if field in required else f"`{spec.get('default')!r}`"
        rows.append(f"| `{field}` | {_type(spec)} | {default} | {_cell(spec.get('description', ''))} |")
    return rows


def _type(spec: dict[str, Any]) -> str:
    if "anyOf" in spec:
        return " or ".join(_type(s) for s in spec["anyOf"])
    if "$ref" in spec:
        return spec["$ref"].rsplit("/", 1)[-1]
    if "enum" in spec:
        return " / ".join(f"`{v}`" for v in spec["enum"])
    if spec.get("type") == "array":
        return f"list of {_type(spec.get('items', {}))}"
    bounds = [f"{k[:3]} {spec[k]}" for k in ("minimum", "maximum", "maxLength") if k in spec]
    return spec.get("type", "any") + (f" ({', '.join(bounds)})" if bounds else "")


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def current_schema() -> dict[str, Any]:
    """The schema of an app over an empty data folder (the routes do not depend on the data)."""
    from ..config import Settings
    from ..service import RealVoiceCloningService
    from .app import create_app

    with tempfile.TemporaryDirectory() as home:
        return create_app(RealVoiceCloningService(settings=Settings(home=Path(home)))).openapi()


if __name__ == "__main__":
    print(markdown(current_schema()), end="")
