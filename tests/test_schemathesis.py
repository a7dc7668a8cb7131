"""Schemathesis against the live OpenAPI spec: over a thousand generated requests, never a 5xx."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.harness import LiveServer, copy_data

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import GenerationMode  # noqa: E402

# POST /api/mail/inbound takes a raw email: generate real-looking messages and plain garbage alike
schemathesis.openapi.media_type("message/rfc822", st.one_of(
    st.binary(max_size=2000),
    st.builds(lambda subject, body: (f"From: customer@example.com\r\nTo: support@example.com\r\n"
                                     f"Subject: {subject}\r\n\r\n{body}").encode("utf-8", "surrogatepass"),
              st.text(max_size=80), st.text(max_size=1000))))

TOTAL_CASES = 1600
SLOW = {"/api/auth/login", "/api/admin/users"}  # password hashing: fewer examples
SKIP = {("POST", "/api/auth/logout"),  # would revoke the token the run uses
        ("PATCH", "/api/admin/users/{user_id}")}  # could deactivate the admin the run logs in as


@pytest.fixture(scope="module")
def api_server(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of its own: the run creates articles, users and cases."""
    server = LiveServer(copy_data(demo_template, tmp_path_factory.mktemp("schemathesis"))).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def pg_api_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    """The same on a fresh PostgreSQL database: it refuses what SQLite stores (NUL bytes, integers
    past 2^63), which is where bad input once found 500s that SQLite never showed."""
    from tests.contract.conftest import drop_postgres, fresh_postgres_url
    from tests.harness import run_cli, server_env

    url, name = await fresh_postgres_url()
    data = tmp_path_factory.mktemp("schemathesis-pg")
    env = server_env(data, PARLEY_DATABASE_URL=url)
    assert run_cli(["demo"], env).returncode == 0
    server = LiveServer(data, PARLEY_DATABASE_URL=url)
    await asyncio.to_thread(server.start)
    yield server
    server.stop()
    await drop_postgres(name)


def test_no_generated_request_gets_a_server_error(api_server: LiveServer) -> None:
    run_schemathesis(api_server, TOTAL_CASES, min_sent=1000)


@pytest.mark.postgres
def test_no_generated_request_gets_a_server_error_on_postgresql(pg_api_server: LiveServer) -> None:
    run_schemathesis(pg_api_server, TOTAL_CASES // 2, min_sent=500)


def run_schemathesis(api_server: LiveServer, total_cases: int, min_sent: int) -> None:
    schema = schemathesis.openapi.from_url(api_server.base_url + "/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations()]
    operations = [op for op in operations if (op.method.upper(), op.path) not in SKIP]
    assert len(operations) >= 10
    token = api_server.login("admin@parley.local")
    headers = {"Authorization": f"Bearer {token}"}
    per_mode = max(10, math.ceil(total_cases / (2 * len(operations))))
    session = requests.Session()
    sent: list[str] = []
    server_errors: list[str] = []

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)
            examples = min(per_mode, 15) if operation.path in SLOW else per_mode

            @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def run(case: object) -> None:
                try:
                    response = case.call(base_url=api_server.base_url, session=session, headers=headers,  # type: ignore[attr-defined]
                                         timeout=30, allow_redirects=False)
                except (ValueError, requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL):
                    return  # the client library refused to send it (e.g. a header with a newline)
                sent.append(operation.label)
                if response.status_code >= 500:
                    server_errors.append(f"{response.status_code} {case.method} {case.formatted_path} "  # type: ignore[attr-defined]
                                         f"query={case.query} body={str(case.body)[:200]}: {response.text[:200]}")  # type: ignore[attr-defined]

            try:
                run()
            except Exception as exc:  # strategies that cannot generate (rare): note them, go on
                if "Unsatisfiable" not in type(exc).__name__ and "InvalidArgument" not in type(exc).__name__:
                    raise
    assert requests.get(api_server.base_url + "/healthz", timeout=5).status_code == 200
    assert len(sent) >= min_sent, f"only {len(sent)} requests were generated"
    assert server_errors == [], "\n".join(server_errors[:20])
    print(f"schemathesis: {len(sent)} generated requests over {len(operations)} operations, no 5xx")
