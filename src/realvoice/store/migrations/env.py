"""Alembic's environment: migrate the connection ``store/schema.py`` hands over, against our models."""

from __future__ import annotations

from alembic import context

from realvoice.store.schema import target_metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=target_metadata(),
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters a table by copying it
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
