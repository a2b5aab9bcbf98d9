"""docs/settings.md, generated from the settings classes: every ``REALVOICE_*`` variable, its default
and the comment beside it in the source (``python -m realvoice.settings_doc > docs/settings.md``)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from .api.config import ApiSettings
from .config import Settings


def _comments(cls: type) -> dict[str, str]:
    """Each field's comment: the ``#`` lines just above it and the one at the end of its line."""
    lines = inspect.getsource(cls).splitlines()
    tree = ast.parse("\n".join(lines))
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        above: list[str] = []
        k = first - 1
        while k >= 0 and lines[k].strip().startswith("#"):
            above.insert(0, lines[k].strip().lstrip("#").strip())
            k -= 1
        after = lines[last].split("  # ", 1)[1].strip() if "  # " in lines[last] else ""
        found[node.target.id] = " ".join([*above, after]).strip()
    return found


def _names(cls: type[BaseSettings], field: str) -> str:
    info = cls.model_fields[field]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return " or ".join(f"`{c}`" for c in alias.choices if isinstance(c, str))
    return f"`{cls.model_config.get('env_prefix', '')}{field.upper()}`"


def _default(cls: type[BaseSettings], field: str) -> str:
    info = cls.model_fields[field]
    if info.default_factory is not None:
        return "(see below)" if field == "home" else "(computed)"
    value = info.default
    if value is None or value == "":
        return "unset"
    if isinstance(value, Path):
        return f"`{value}`"
    return f"`{value!r}`" if isinstance(value, str) else f"`{value}`"


def table(cls: type[BaseSettings]) -> list[str]:
    comments = _comments(cls)
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for field in cls.model_fields:
        text = comments.get(field, "").replace("|", "\\|") or "-"
        rows.append(f"| {_names(cls, field)} | {_default(cls, field)} | {text} |")
    return rows


def markdown() -> str:
    lines = [
        "# Settings",
        "",
        "Every setting is an environment variable, read once into a typed object. Generated from",
        "`src/realvoice/config.py` and `src/realvoice/api/config.py`:",
        "`python -m realvoice.settings_doc > docs/settings.md`.",
        "",
        "## The service (`REALVOICE_*`)",
        "",
        "`REALVOICE_HOME` defaults to the user's data folder (`~/.local/share/realvoice` on Linux).",
        "",
        *table(Settings),
        "",
        "## The REST API (`REALVOICE_API_*`)",
        "",
        *table(ApiSettings),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
