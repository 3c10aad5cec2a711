"""Alembic migrations of the dosewise store (run by ``dosewise db upgrade``)."""
