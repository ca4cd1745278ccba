"""The backend's database: engines, ORM tables and migrations (control plane only)."""

from ktrdr.control.db.engine import create_database_engine, for_writes, session_factory

__all__ = ["create_database_engine", "for_writes", "session_factory"]
