"""Alembic migrations, run by `parley db upgrade` and at start-up when PARLEY_MIGRATE_ON_START is true."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade_sync(database_url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(database_url), revision)


async def upgrade_database(database_url: str, revision: str = "heads") -> None:
    await asyncio.to_thread(upgrade_sync, database_url, revision)
