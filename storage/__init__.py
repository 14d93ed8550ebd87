"""Persistence: sqlmodel tables, repositories and Alembic migrations (SQLite or PostgreSQL)."""
