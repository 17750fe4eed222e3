"""The persistence layer: SQLAlchemy models, the engine factory and Alembic migrations."""
