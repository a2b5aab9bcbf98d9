"""Alembic migrations of the database schema; run them with ``realvoice db upgrade`` (or let the service
do it on start). ``store/schema.py`` drives Alembic from Python, so no alembic.ini is needed."""
