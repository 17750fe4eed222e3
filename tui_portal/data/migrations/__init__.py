"""Alembic migrations for the portal's schema; run by :mod:`tui_portal.data.schema`."""
