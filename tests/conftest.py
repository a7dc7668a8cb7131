"""Shared fixtures: a demo database built once per session, and real servers started from copies of it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import LiveServer, copy_data, run_cli, server_env

POSTGRES_URL = os.environ.get("PARLEY_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.hookimpl(tryfirst=True)  # before -m selects: every test in tests/browser/ counts as `browser`
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last. Sync Playwright keeps its own event loop running in the main thread
    while a browser is open, and asyncio tests cannot start inside it."""
    for item in items:
        if "/tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)
    items.sort(key=lambda item: "browser" in item.keywords)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the demo knowledge base, accounts and widget key (real MiniLM embeddings)."""
    data = tmp_path_factory.mktemp("demo-template")
    result = run_cli(["demo"], server_env(data))
    assert result.returncode == 0, result.stderr[-3000:]
    return data


@pytest.fixture(scope="session")
def live_server(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real `parley serve` (uvicorn, SQLite, in-process broker, MiniLM) shared by a test session."""
    server = LiveServer(copy_data(demo_template, tmp_path_factory.mktemp("live"))).start()
    yield server
    server.stop()


@pytest.fixture
def fresh_server(demo_template: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """A server of one's own, for tests that restart or kill it."""
    server = LiveServer(copy_data(demo_template, tmp_path / "data"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def agent_token(live_server: LiveServer) -> str:
    return live_server.login("agent@parley.local")


@pytest.fixture(scope="session")
def editor_token(live_server: LiveServer) -> str:
    return live_server.login("editor@parley.local")


@pytest.fixture(scope="session")
def admin_token(live_server: LiveServer) -> str:
    return live_server.login("admin@parley.local")


@pytest.fixture(scope="session")
def rasa_server() -> Iterator[str]:
    """A real Rasa 3.6 server (its own Python 3.10 venv, cached) trained on tests/rasa_project."""
    from tests import rasa_env

    if rasa_env.find_python310() is None:
        pytest.skip("no Python 3.10 interpreter found: Rasa 3.6 cannot be installed (set PARLEY_RASA_PYTHON)")
    rasa_env.ensure_rasa_venv()
    model = rasa_env.ensure_trained_model(Path(__file__).resolve().parent / "rasa_project")
    port = rasa_env.free_port()
    proc = rasa_env.start_rasa(model, port)
    yield f"http://127.0.0.1:{port}"
    rasa_env.stop_rasa(proc)
