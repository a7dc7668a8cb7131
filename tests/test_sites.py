"""Sites over a real server and the CLI: safe defaults at start-up, the admin API, origins, secrets, audit."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import websockets

from app.config import Settings
from app.storage.records import Site
from app.sites import SiteError, normalize_origin, origin_matches, signed_identity
from tests.harness import Client, LiveServer, copy_data, is_type, run_cli, server_env

SHOP = "https://shop.example.com"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ----------------------------------------------------------------------------- safe defaults
def test_keyless_sockets_are_refused_unless_configured() -> None:
    settings = Settings(_env_file=None)
    assert settings.require_widget_key is True and settings.demo_mode is False


def test_a_production_start_with_the_demo_data_fails_naming_the_setting(demo_template: Path, tmp_path: Path) -> None:
    server = LiveServer(copy_data(demo_template, tmp_path / "data"), demo=False, PARLEY_REQUIRE_WIDGET_KEY="false")
    try:
        with pytest.raises(RuntimeError, match="server exited"):
            server.start()
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "refusing to start: PARLEY_DEMO_MODE is off" in log
    assert "the account admin@parley.local still has the demo password" in log
    assert "site 'demo' allows every origin (*)" in log
    assert "PARLEY_REQUIRE_WIDGET_KEY=false lets customer sockets in without a widget key" in log
    assert "Traceback" not in log and log.count("refusing to start") == 1  # one clear message, before uvicorn


def test_a_demo_start_warns_that_it_must_not_be_exposed(live_server: LiveServer) -> None:
    log = live_server.log_path.read_text()
    assert "demo mode (PARLEY_DEMO_MODE): the demo passwords, sites open to every origin (demo)" in log
    assert "do not expose this desk" in log


def test_a_production_desk_starts_once_the_demo_shortcuts_are_gone(demo_template: Path, tmp_path: Path) -> None:
    data = copy_data(demo_template, tmp_path / "data")
    demo = LiveServer(data).start()
    try:
        token = demo.login("admin@parley.local")
        users = httpx.get(demo.base_url + "/api/admin/users", headers=auth(token)).json()
        for user in sorted(users, key=lambda u: u["email"] == "admin@parley.local"):  # a reset ends sessions: own last
            r = httpx.patch(f"{demo.base_url}/api/admin/users/{user['id']}", headers=auth(token),
                            json={"password": "a-real-password-" + str(user["id"])}, timeout=30)
            assert r.status_code == 200, r.text
    finally:
        demo.stop()
    env = server_env(data, demo=False)
    still_open = LiveServer(data, demo=False)
    try:
        with pytest.raises(RuntimeError, match="site 'demo' allows every origin"):
            still_open.start()
    finally:
        still_open.stop()
    assert "demo password" not in still_open.log_path.read_text()
    refused = run_cli(["site", "update", "demo", "--origin", "*"], env)  # `*` only in demo mode
    assert refused.returncode == 1 and "only in demo mode (PARLEY_DEMO_MODE)" in refused.stderr
    done = run_cli(["site", "update", "demo", "--origin", SHOP], env)
    assert done.returncode == 0, done.stderr
    production = LiveServer(data, demo=False).start()
    try:  # a production desk does not take the demo's published password back, by API or CLI
        admin = production.login("admin@parley.local", "a-real-password-" + str(
            next(u["id"] for u in users if u["email"] == "admin@parley.local")))
        agent_id = next(u["id"] for u in users if u["email"] == "agent@parley.local")
        r = httpx.patch(f"{production.base_url}/api/admin/users/{agent_id}", headers=auth(admin),
                        json={"password": "parley-demo"}, timeout=30)
        assert r.status_code == 422 and "demo's published password" in r.text
        r = httpx.post(f"{production.base_url}/api/admin/users", headers=auth(admin), timeout=30,
                       json={"email": "new@shop.example.com", "name": "New", "password": "parley-demo", "role": "agent"})
        assert r.status_code == 422
        cli = run_cli(["users", "create", "--email", "new@shop.example.com", "--password", "parley-demo",
                       "--role", "agent"], env)
        assert cli.returncode == 2 and "demo's published password" in cli.stderr
    finally:
        production.stop()


# ----------------------------------------------------------------------------- origins
@pytest.mark.parametrize("given, stored", [("https://Shop.Example.com/", "https://shop.example.com"),
                                           ("http://127.0.0.2:8001", "http://127.0.0.2:8001"),
                                           ("*.example.com", "https://*.example.com")])
def test_origins_are_normalised(given: str, stored: str) -> None:
    assert normalize_origin(given) == stored


@pytest.mark.parametrize("bad", ["*", "shop.example.com", "https://shop.example.com/path", "ftp://x.example",
                                 "https://*", "https://*.com", "https://a.*.example.com", "https://u@x.example",
                                 "https://x.example:99999"])
def test_bad_origins_are_refused(bad: str) -> None:
    with pytest.raises(SiteError):
        normalize_origin(bad)


def test_a_subdomain_pattern_matches_subdomains_only() -> None:
    allowed = ["https://*.example.com"]
    assert origin_matches("https://shop.example.com", allowed)
    assert origin_matches("https://a.b.example.com", allowed)
    assert not origin_matches("https://example.com", allowed)
    assert not origin_matches("https://evilexample.com", allowed)
    assert not origin_matches("http://shop.example.com", allowed)
    assert not origin_matches("https://shop.example.com:8443", allowed)


# ----------------------------------------------------------------------------- the admin API
def test_only_admins_manage_sites(live_server: LiveServer, agent_token: str, editor_token: str) -> None:
    for token in (agent_token, editor_token):
        assert httpx.get(live_server.base_url + "/api/admin/sites", headers=auth(token)).status_code == 403
        r = httpx.post(live_server.base_url + "/api/admin/sites", headers=auth(token),
                       json={"name": "X", "allowed_origins": [SHOP]})
        assert r.status_code == 403
    assert httpx.get(live_server.base_url + "/api/admin/sites").status_code == 401


async def chat(server: LiveServer, key: str, origin: str) -> Client:
    return await Client.connect(f"{server.ws_url}/ws/chat?key={key}", origin=origin)


async def refused_with(client: Client) -> str:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await client.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    return closed.value.rcvd.reason


def user_hash(user_id: str, secret: str) -> str:
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


async def identify(server: LiveServer, key: str, secret: str) -> dict:
    client = await chat(server, key, SHOP)
    assert (await client.recv())["type"] == "session"
    await client.send({"type": "identify", "user_id": "u-1", "user_hash": user_hash("u-1", secret)})
    reply = await client.wait_for(lambda f: f["type"] in ("identify", "error"))
    await client.close()
    return reply


async def test_an_admin_creates_edits_rotates_and_disables_a_site_and_every_step_is_audited(
        live_server: LiveServer, admin_token: str) -> None:
    base, h = live_server.base_url, auth(admin_token)
    r = httpx.post(base + "/api/admin/sites", headers=h, json={
        "name": "Acme shop", "key": "acme", "allowed_origins": [SHOP, "*.acme.test"], "identity_required": True,
        "language": "fr"})
    assert r.status_code == 201, r.text
    created = r.json()
    secret = created["identity_secret"]
    assert len(secret) >= 40 and created["allowed_origins"] == [SHOP, "https://*.acme.test"]
    assert created["script_tag"] == (f'<script src="{base}/widget.js" data-parley-key="acme" '
                                     'data-parley-lang="fr" async></script>')
    listed = {s["key"]: s for s in httpx.get(base + "/api/admin/sites", headers=h).json()}
    assert "identity_secret" not in listed["acme"] and listed["acme"]["has_identity_secret"] is True
    assert httpx.post(base + "/api/admin/sites", headers=h,
                      json={"name": "Again", "key": "acme", "allowed_origins": [SHOP]}).status_code == 422
    bad = httpx.post(base + "/api/admin/sites", headers=h, json={"name": "Bad", "allowed_origins": ["https://a/b"]})
    assert bad.status_code == 422 and "is not an origin" in bad.json()["detail"]

    # the allowed origin and a subdomain get a session; another origin is refused
    for origin in (SHOP, "https://help.acme.test"):
        client = await chat(live_server, "acme", origin)
        assert (await client.recv())["type"] == "session"
        await client.close()
    assert "origin not allowed" in await refused_with(await chat(live_server, "acme", "https://evil.example"))

    # identity: the secret verifies; after a rotation both do during the grace period, then only the new one
    assert await identify(live_server, "acme", secret) == {"type": "identify", "verified": True}
    rotated = httpx.post(base + "/api/admin/sites/acme/secret", headers=h, json={"grace_hours": 1}).json()
    new_secret = rotated["identity_secret"]
    assert new_secret != secret and rotated["previous_secret_valid_until"]
    assert (await identify(live_server, "acme", secret))["verified"] is True
    assert (await identify(live_server, "acme", new_secret))["verified"] is True
    httpx.post(base + "/api/admin/sites/acme/secret", headers=h, json={"grace_hours": 0}).raise_for_status()
    assert (await identify(live_server, "acme", new_secret))["code"] == "identity_rejected"

    r = httpx.patch(base + "/api/admin/sites/acme", headers=h, json={"allowed_origins": ["https://other.example"]})
    assert r.status_code == 200 and r.json()["allowed_origins"] == ["https://other.example"]
    assert "origin not allowed" in await refused_with(await chat(live_server, "acme", SHOP))
    assert httpx.post(base + "/api/admin/sites/acme/disable", headers=h).json()["enabled"] is False
    assert "disabled" in await refused_with(await chat(live_server, "acme", "https://other.example"))

    audit = httpx.get(base + "/api/admin/audit", headers=h, params={"target": "acme"}).json()
    assert [e["action"] for e in reversed(audit)] == ["site.created", "site.secret_rotated", "site.secret_rotated",
                                                      "site.updated", "site.disabled"]
    assert {e["actor"] for e in audit} == {"admin@parley.local"}
    assert audit[1]["detail"] == {"allowed_origins": {"from": [SHOP, "https://*.acme.test"],
                                                      "to": ["https://other.example"]}}
    assert secret not in str(audit) and new_secret not in str(audit)


def test_the_admin_page_is_for_admins_and_has_a_strict_policy(live_server: LiveServer, agent_token: str,
                                                                admin_token: str) -> None:
    assert httpx.get(live_server.base_url + "/admin").status_code == 303
    assert httpx.get(live_server.base_url + "/admin", headers=auth(agent_token)).status_code == 403
    page = httpx.get(live_server.base_url + "/admin", headers=auth(admin_token))
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]


# ----------------------------------------------------------------------------- the CLI
def test_the_cli_creates_lists_updates_rotates_disables_and_audits(demo_template: Path, tmp_path: Path) -> None:
    env = server_env(copy_data(demo_template, tmp_path / "data"), demo=False)
    made = run_cli(["site", "create", "--name", "Docs", "--key", "docs", "--origin", "https://docs.example.com",
                    "--origin", "*.example.org", "--language", "de"], env)
    assert made.returncode == 0, made.stderr
    assert 'data-parley-key="docs" data-parley-lang="de"' in made.stdout and "identity secret (shown once" in made.stdout
    assert "https://*.example.org" in run_cli(["site", "list"], env).stdout
    assert run_cli(["site", "update", "docs", "--identity-required"], env).returncode == 0
    rotated = run_cli(["site", "rotate-secret", "docs", "--grace-hours", "2"], env)
    assert "new identity secret for docs" in rotated.stdout and "previous secret verifies until" in rotated.stdout
    assert "disabled" in run_cli(["site", "disable", "docs"], env).stdout
    assert run_cli(["site", "disable", "nope"], env).returncode == 1
    audit = run_cli(["site", "audit"], env).stdout.splitlines()
    assert [line.split("\t")[2] for line in audit[:4]] == ["site.disabled", "site.secret_rotated", "site.updated",
                                                           "site.created"]
    assert all(line.split("\t")[1] == "cli" for line in audit[:4])


# ----------------------------------------------------------------------------- identity hashes
def sign(secret: str, *parts: str) -> str:
    return hmac.new(secret.encode(), "\n".join(parts).encode(), hashlib.sha256).hexdigest()


def test_the_identity_hash_covers_exactly_the_attributes_it_signs() -> None:
    now = datetime.now(timezone.utc)
    site = Site("shop", "Shop", [SHOP], "new-secret", True, previous_identity_secret="old-secret",
                previous_secret_expires_at=now + timedelta(hours=1))
    assert signed_identity(site, "u1", "a@x.example", "Ann", sign("new-secret", "u1", "a@x.example", "Ann"),
                           now) == ["user_id", "email", "name"]
    assert signed_identity(site, "u1", None, "Ann", sign("old-secret", "u1", "", "Ann"), now) == ["user_id", "name"]
    assert signed_identity(site, "u1", "a@x.example", "Ann", sign("new-secret", "u1"), now) == ["user_id"]  # older hash
    assert signed_identity(site, "u1", "evil@x.example", "Ann", sign("new-secret", "u1", "a@x.example", "Ann"), now) == []
    assert signed_identity(site, "u1", None, None, None, now) == []
    later = now + timedelta(hours=2)  # the previous secret's grace period is over
    assert signed_identity(site, "u1", None, "Ann", sign("old-secret", "u1", "", "Ann"), later) == []
