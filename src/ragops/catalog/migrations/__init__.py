"""Alembic migrations of the catalog. ``ragops.catalog.database.migrate`` runs them on open."""
