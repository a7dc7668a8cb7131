"""Business hours through the sites REST API and the `parley site hours` command (real server, CLI)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.harness import LiveServer, copy_data, run_cli, server_env

SHOP = "https://shop.example.com"
HOURS = {"time_zone": "Europe/Berlin", "weekly": {"mon": [["09:00", "17:00"]], "sat": [["22:00", "02:00"]]},
         "holidays": ["2026-12-25"]}


def test_hours_are_set_validated_cleared_and_audited_through_the_api(live_server: LiveServer, admin_token: str) -> None:
    base, h = live_server.base_url, {"Authorization": f"Bearer {admin_token}"}
    r = httpx.post(base + "/api/admin/sites", headers=h, json={"name": "Hours shop", "key": "hoursshop",
                                                                "allowed_origins": [SHOP], "business_hours": HOURS})
    assert r.status_code == 201, r.text
    assert r.json()["business_hours"] == HOURS and r.json()["next_change"]
    for bad, why in (({**HOURS, "time_zone": "Mars/Base"}, "unknown time zone"),
                     ({**HOURS, "weekly": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}}, "overlaps"),
                     ({**HOURS, "weekly": {"mon": [["25:00", "26:00"]]}}, "HH:MM")):
        refused = httpx.patch(base + "/api/admin/sites/hoursshop", headers=h, json={"business_hours": bad})
        assert refused.status_code == 422 and why in refused.text, refused.text
    for hostile in ({**HOURS, "weekly": {"mon": [["09:00", "10:00"]] * 500}}, {**HOURS, "holidays": ["2026-01-01"] * 5000},
                    {**HOURS, "weekly": {"someday": []}}, {**HOURS, "extra": True}, {"time_zone": "x" * 10000}):
        assert httpx.patch(base + "/api/admin/sites/hoursshop", headers=h,
                           json={"business_hours": hostile}).status_code == 422
    assert httpx.get(base + "/api/admin/sites/hoursshop", headers=h).json()["business_hours"] == HOURS
    untouched = httpx.patch(base + "/api/admin/sites/hoursshop", headers=h, json={"name": "Hours shop 2"}).json()
    assert untouched["business_hours"] == HOURS  # absent: left as they are
    cleared = httpx.patch(base + "/api/admin/sites/hoursshop", headers=h, json={"business_hours": None}).json()
    assert cleared["business_hours"] is None and cleared["open_now"] is True and cleared["next_change"] is None
    audit = httpx.get(base + "/api/admin/audit", headers=h, params={"target": "hoursshop"}).json()
    assert audit[0]["detail"]["business_hours"] == {"from": HOURS, "to": None}


def test_the_cli_sets_shows_and_clears_hours(demo_template: Path, tmp_path: Path) -> None:
    env = server_env(copy_data(demo_template, tmp_path / "data"))
    assert run_cli(["site", "create", "--name", "Cli shop", "--key", "clishop", "--origin", SHOP], env).returncode == 0
    done = run_cli(["site", "hours", "clishop", "--zone", "Europe/Paris", "--day", "mon-fri 09:00-18:00",
                    "--day", "sat 10:00-13:00", "--holiday", "2026-12-25"], env)
    assert done.returncode == 0, done.stderr
    assert "hours: Europe/Paris: mon 09:00-18:00, tue 09:00-18:00" in done.stdout and "sat 10:00-13:00; 1 holiday" in done.stdout
    overlap = run_cli(["site", "hours", "clishop", "--zone", "UTC", "--day", "mon 09:00-12:00", "--day", "mon 11:00-13:00"], env)
    assert overlap.returncode == 1 and "overlaps" in overlap.stderr
    assert "Europe/Paris" in run_cli(["site", "list"], env).stdout  # the refused change changed nothing
    cleared = run_cli(["site", "hours", "clishop", "--clear"], env)
    assert cleared.returncode == 0 and "hours: always open" in cleared.stdout
