"""The docs are tested: every setting, CLI command and frame type must be documented."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from app import events
from app.cli import cli
from app.config import Settings, env_name, settings_markdown

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PROTOCOL = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("field", list(Settings.model_fields))
def test_every_setting_is_in_the_readme(field: str) -> None:
    assert f"`{env_name(field)}`" in README


def test_the_readme_settings_table_is_current() -> None:
    assert settings_markdown() in README, "regenerate it with: python -m app.config"


def _commands(group: typer.Typer, prefix: str = "parley") -> list[str]:
    click_group = typer.main.get_command(group)
    out = []
    for name, command in click_group.commands.items():  # type: ignore[attr-defined]
        if hasattr(command, "commands"):
            out += [f"{prefix} {name} {sub}" for sub in command.commands]
        else:
            out.append(f"{prefix} {name}")
    return out


@pytest.mark.parametrize("command", _commands(cli))
def test_every_cli_command_is_in_the_readme(command: str) -> None:
    assert f"`{command}" in README


@pytest.mark.parametrize("frame", sorted(set(events.CUSTOMER_TYPES) | set(events.AGENT_TYPES) | set(events.SERVER_TYPES)))
def test_every_frame_type_is_in_the_protocol_doc(frame: str) -> None:
    assert f'"type":"{frame}"' in PROTOCOL.replace('"type": "', '"type":"') or f"`{frame}`" in PROTOCOL
