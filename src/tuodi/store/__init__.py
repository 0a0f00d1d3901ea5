"""Storage of the one-stop settlement service (SQLAlchemy 2 Core + Alembic).

`tables` declares the schema, `database` opens it (SQLite by default, PostgreSQL by URL) and
migrates it, `repository` reads and writes it. The rules stay in `tuodi.engine`.
"""
from tuodi.store.database import Database, DEFAULT_URL, upgrade

__all__ = ["Database", "DEFAULT_URL", "upgrade"]
