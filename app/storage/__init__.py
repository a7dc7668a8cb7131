"""Persistence behind one Store protocol, with one SQL implementation for SQLite and PostgreSQL."""
